/**
 * Fingerprints this process knows to be in a duplicate filter, for a short while: most links of a page
 * lead to pages already seen, and a crawler that learnt so (from the lookup or the enqueue script) need
 * not ask Redis again for each page that links there.
 *
 * An entry lives at most KNOWN_FOR_MS, and never past half the filter's own timeout: the filter key was
 * given its full DUPEFILTER_TIMEOUT when the entry was learnt, so it outlives the entry, and once entries
 * lapse the next lookup refreshes the key's expiry (a crawl still running keeps its filter). The only
 * staleness: a filter key deleted by hand is seen by this process up to KNOWN_FOR_MS later.
 * Bounded: past `capacity` entries the oldest go first.
 */
export const KNOWN_FOR_MS = 60_000;
export const KNOWN_CAPACITY = 200_000;

export class KnownFingerprints {
	private readonly until = new Map<string, number>();
	private readonly capacity: number;
	private readonly now: () => number;

	constructor(capacity = KNOWN_CAPACITY, now: () => number = Date.now) {
		this.capacity = capacity;
		this.now = now;
	}

	/** Is `fingerprint` known to be in the filter `key` (and not lapsed)? */
	has(key: string, fingerprint: string): boolean {
		const entry = `${key}\n${fingerprint}`;
		const until = this.until.get(entry);
		if (until === undefined) return false;
		if (until > this.now()) return true;
		this.until.delete(entry);
		return false;
	}

	/** Remember that `fingerprint` is in the filter `key`, whose expiry was just set to `timeoutSeconds`. */
	add(key: string, fingerprint: string, timeoutSeconds: number): void {
		const entry = `${key}\n${fingerprint}`;
		this.until.delete(entry);
		this.until.set(entry, this.now() + Math.min(KNOWN_FOR_MS, (timeoutSeconds * 1000) / 2));
		while (this.until.size > this.capacity) this.until.delete(this.until.keys().next().value!);
	}

	get size(): number {
		return this.until.size;
	}
}
