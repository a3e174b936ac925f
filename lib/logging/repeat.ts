/**
 * One line per event, not per retry: a library that retries by itself (kafkajs) logs the same complaint
 * every few hundred milliseconds while a server is away. `repeated(key)` is true when the same key was
 * let through within the last `windowMs`; such lines go to DEBUG. Bounded to `maxKeys` keys.
 */
export class RepeatFilter {
	private readonly windowMs: number;
	private readonly maxKeys: number;
	private readonly last = new Map<string, number>();

	constructor(windowMs = 60_000, maxKeys = 1000) {
		this.windowMs = windowMs;
		this.maxKeys = maxKeys;
	}

	repeated(key: string, now = Date.now()): boolean {
		const at = this.last.get(key);
		if (at !== undefined && now - at < this.windowMs) return true;
		this.last.delete(key);
		this.last.set(key, now);
		// Oldest first (insertion order): forget the oldest keys past the bound.
		while (this.last.size > this.maxKeys) this.last.delete(this.last.keys().next().value as string);
		return false;
	}
}
