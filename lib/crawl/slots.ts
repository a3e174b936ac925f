/**
 * How many requests a crawler may start now. A request holds a fetch slot (CONCURRENT_REQUESTS) while it is
 * fetched, then only an item slot (CONCURRENT_ITEMS) while its page is published to Kafka and its links go
 * to the frontier, as Scrapy's downloader and item pipeline are bounded apart: a slow Kafka acknowledgement
 * does not idle the downloader, and the pages held in memory stay bounded by the sum.
 */
export interface SlotCounts {
	/** Requests being fetched (robots.txt check and download). */
	fetching: number;
	/** Requests under lease in this process: fetching plus pages being finished. */
	inFlight: number;
}

export function freeSlots({ fetching, inFlight }: SlotCounts, concurrentRequests: number, concurrentItems: number): number {
	return Math.max(0, Math.min(concurrentRequests - fetching, concurrentRequests + concurrentItems - inFlight));
}

/**
 * `free` slots shared among `queues` queues taken best first: equal shares, the remainder to the first
 * ones; with fewer slots than queues, one each to the first `free`. Returns one share per queue served.
 */
export function shareSlots(free: number, queues: number): number[] {
	const served = Math.max(0, Math.min(free, queues));
	return Array.from({ length: served }, (_, i) => Math.floor(free / served) + (i < free % served ? 1 : 0));
}
