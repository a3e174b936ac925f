/**
 * Pages a crawler node crawled per crawl since it started (for crawler.status and the dashboard), in a
 * bounded map: past `capacity` crawls the one with the oldest page is forgotten, so a node that sees
 * millions of crawlids keeps bounded memory.
 */
export interface CrawlCount {
	spiderid: string;
	appid: string;
	crawlid: string;
	/** Pages published for this crawl by this node. */
	crawled: number;
	/** Unix milliseconds of the last one. */
	last: number;
}

export const CRAWL_COUNTS_CAPACITY = 1000;

export class CrawlCounts {
	// A Map keeps insertion order: re-inserting on each page keeps the least recent crawl first.
	private readonly counts = new Map<string, CrawlCount>();

	readonly capacity: number;

	constructor(capacity = CRAWL_COUNTS_CAPACITY) {
		this.capacity = capacity;
	}

	add(spiderid: string, appid: string, crawlid: string, now = Date.now()): void {
		// A tab cannot be in a spiderid or appid (ingest refuses control characters), so the key is unambiguous.
		const key = `${spiderid}\t${appid}\t${crawlid}`;
		const entry = this.counts.get(key) ?? { spiderid, appid, crawlid, crawled: 0, last: now };
		entry.crawled++;
		entry.last = now;
		this.counts.delete(key);
		this.counts.set(key, entry);
		while (this.counts.size > this.capacity) this.counts.delete(this.counts.keys().next().value!);
	}

	/** Every crawl counted, the most recently crawled first. */
	list(): CrawlCount[] {
		return [...this.counts.values()].reverse().map(c => ({ ...c }));
	}

	get size(): number {
		return this.counts.size;
	}
}
