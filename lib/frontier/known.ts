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
	/** Filter key -> fingerprint -> until (ms). Lookups hash only the fingerprint, usually a string already hashed. */
	private readonly filters = new Map<string, Map<string, number>>();
	private entries = 0;
	private readonly capacity: number;
	private readonly now: () => number;

	constructor(capacity = KNOWN_CAPACITY, now: () => number = Date.now) {
		this.capacity = capacity;
		this.now = now;
	}

	/** A test of whether fingerprints are known to be in the filter `key` (and not lapsed); one clock reading for all. */
	knownIn(key: string): (fingerprint: string) => boolean {
		const filter = this.filters.get(key);
		if (!filter) return () => false;
		const now = this.now();
		return fingerprint => {
			const until = filter.get(fingerprint);
			if (until === undefined) return false;
			if (until > now) return true;
			filter.delete(fingerprint);
			this.entries--;
			return false;
		};
	}

	/** Remember that `fingerprint` is in the filter `key`, whose expiry was just set to `timeoutSeconds`. */
	add(key: string, fingerprint: string, timeoutSeconds: number): void {
		let filter = this.filters.get(key);
		if (!filter) this.filters.set(key, (filter = new Map()));
		if (filter.delete(fingerprint)) this.entries--;
		filter.set(fingerprint, this.now() + Math.min(KNOWN_FOR_MS, (timeoutSeconds * 1000) / 2));
		this.entries++;
		// Past capacity: the oldest entries of the oldest filter go first.
		while (this.entries > this.capacity) {
			const [oldestKey, oldest] = this.filters.entries().next().value!;
			const first = oldest.keys().next();
			if (first.done) {
				this.filters.delete(oldestKey);
				continue;
			}
			oldest.delete(first.value);
			this.entries--;
			if (oldest.size === 0) this.filters.delete(oldestKey);
		}
	}

	get size(): number {
		return this.entries;
	}
}
