/**
 * What the periodic stats dumps (STATS_DUMP seconds) log beyond the component's counters (pure):
 * STATS_DUMP_CRAWL adds a crawler's own counts and throttle state, STATS_DUMP_QUEUE the queue backlog.
 * Bounded: at most `maxEntries` domains or queues are listed, the rest only counted.
 */
import type { BacklogEntry } from "../metrics/index.ts";

/** Domains (or throttled queues) listed by name in one dump. */
export const DUMP_MAX_ENTRIES = 20;

export interface SpiderBacklog {
	backlog: number;
	domains: number;
	/** The largest queues: domain -> backlog, largest first. */
	top: Record<string, number>;
}

/** Backlog per spider: total, number of domains with requests waiting, the largest queues. */
export function queueDump(entries: readonly BacklogEntry[], maxEntries = DUMP_MAX_ENTRIES): { total_backlog: number; spiders: Record<string, SpiderBacklog> } {
	const spiders: Record<string, SpiderBacklog> = {};
	let total = 0;
	const sorted = [...entries].sort((a, b) => a.spider.localeCompare(b.spider) || b.backlog - a.backlog || a.domain.localeCompare(b.domain));
	for (const e of sorted) {
		const s = (spiders[e.spider] ??= { backlog: 0, domains: 0, top: {} });
		s.backlog += e.backlog;
		if (e.backlog > 0) s.domains++;
		total += e.backlog;
		if (Object.keys(s.top).length < maxEntries && e.backlog > 0) s.top[e.domain] = e.backlog;
	}
	return { total_backlog: total, spiders };
}

export interface ThrottledQueue {
	queue: string;
	waiting_s: number;
	limit: number;
	window: number;
}

/** A crawler's own counters and the queues its throttle currently holds back (longest waits first). */
export function crawlDump(
	counts: Record<string, number>,
	byStatus: Record<string, number>,
	throttled: readonly ThrottledQueue[],
	maxEntries = DUMP_MAX_ENTRIES
): Record<string, unknown> {
	const waiting = [...throttled].filter(q => q.waiting_s > 0).sort((a, b) => b.waiting_s - a.waiting_s || a.queue.localeCompare(b.queue));
	return {
		...counts,
		status_codes: Object.fromEntries(Object.entries(byStatus).sort(([a], [b]) => a.localeCompare(b))),
		throttled_queues: waiting.length,
		throttled_now: waiting.slice(0, maxEntries)
	};
}
