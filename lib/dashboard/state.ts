/**
 * The dashboard's state document (pure): what the api service gathered from the cluster's own actions
 * ($node.list, $node.services, crawler.status on every crawler node, stats.report queue, info.crawls,
 * zookeeper.document, monitor.recent on every node) turned into the one JSON document the page renders,
 * and the crawl throughput series kept between gatherings.
 */
import type { ActiveCrawl } from "../monitor/crawl-control.ts";
import type { RecentEntry } from "../monitor/recent-log.ts";
import type { CrawlCount } from "../crawl/crawl-counts.ts";

/** Throughput points kept (one every DASHBOARD sample, at least MIN_SAMPLE_MS apart: 10 min at 2 s). */
export const THROUGHPUT_POINTS = 300;
export const MIN_SAMPLE_MS = 1000;
/** Rows of each list the state carries at most (the page shows them all). */
export const MAX_BACKLOG_ROWS = 200;
export const MAX_CRAWL_ROWS = 200;
export const MAX_ERROR_ROWS = 100;

export interface ThroughputPoint {
	/** Unix milliseconds. */
	t: number;
	/** Pages crawled cluster-wide since the previous point. */
	pages: number;
	/** Pages per second since the previous point. */
	rate: number;
}

/**
 * Pages per second across the cluster from the crawler nodes' `counts.crawled` (counted since each node
 * started). A node seen for the first time only sets its baseline; a node whose count went down
 * restarted, and its new count is what it crawled since.
 */
export class ThroughputSeries {
	private readonly last = new Map<string, number>();
	private lastTime: number | null = null;
	private readonly points: ThroughputPoint[] = [];
	readonly capacity: number;

	constructor(capacity = THROUGHPUT_POINTS) {
		this.capacity = capacity;
	}

	/** Add a sample of every crawler node's count; ignored when the previous one is less than MIN_SAMPLE_MS old. */
	sample(now: number, crawledByNode: Record<string, number>): boolean {
		if (this.lastTime !== null && now - this.lastTime < MIN_SAMPLE_MS) return false;
		let pages = 0;
		for (const [node, count] of Object.entries(crawledByNode)) {
			const before = this.last.get(node);
			if (before !== undefined) pages += count >= before ? count - before : count;
			this.last.set(node, count);
		}
		for (const node of [...this.last.keys()]) if (!(node in crawledByNode)) this.last.delete(node);
		if (this.lastTime !== null) {
			const seconds = (now - this.lastTime) / 1000;
			this.points.push({ t: now, pages, rate: Math.round((pages / seconds) * 100) / 100 });
			if (this.points.length > this.capacity) this.points.splice(0, this.points.length - this.capacity);
		}
		this.lastTime = now;
		return true;
	}

	list(): ThroughputPoint[] {
		return this.points.map(p => ({ ...p }));
	}
}

/** What crawler.status answers (the part the dashboard uses). */
export interface CrawlerStatus {
	node: string;
	spiders: string[];
	in_flight: number;
	counts: Record<string, number> & { crawled: number };
	blacklist?: string[];
	queues: Array<{ queue: string; waiting_s: number; throttle: { key: string; window: number; limit: number; moderated: boolean } }>;
	crawls?: CrawlCount[];
}

export interface NodeRow {
	id: string;
	hostname: string | null;
	available: boolean;
	local: boolean;
	cpu: number | null;
	services: string[];
}

export interface CrawlerRow {
	node: string;
	spiders: string[];
	in_flight: number;
	counts: Record<string, number>;
	queues: number;
}

export interface BacklogRow {
	spiderid: string;
	domain: string;
	backlog: number;
	/** The throttle a crawler applies to the queue now (from crawler.status), when a crawler knows the queue. */
	throttle: { window: number; limit: number; moderated: boolean } | null;
}

export interface CrawlRow extends ActiveCrawl {
	/** Pages crawled for it by the crawler nodes since they started. */
	crawled: number;
	/** Unix milliseconds of its last page, when one was crawled. */
	last_page: number | null;
}

export interface ErrorRow extends RecentEntry {
	node: string;
}

export interface ZookeeperView {
	path: string;
	exists: boolean;
	blacklist: string[];
	domains: Record<string, { window: number; hits: number; scale: number }>;
	error?: string;
}

export interface DashboardState {
	/** Unix milliseconds when gathered. */
	time: number;
	/** The node serving the dashboard. */
	node: string;
	nodes: NodeRow[];
	crawlers: CrawlerRow[];
	throughput: { points: ThroughputPoint[]; crawled_total: number; in_flight: number };
	backlog: { total: number; domains: number; rows: BacklogRow[]; truncated: boolean } | null;
	crawls: { rows: CrawlRow[]; truncated: boolean } | null;
	zookeeper: ZookeeperView | null;
	errors: ErrorRow[];
	/** What could not be gathered and why (a service running nowhere, a timeout). */
	problems: string[];
}

export interface Gathered {
	time: number;
	node: string;
	nodes: Array<{ id: string; hostname?: string; available?: boolean; local?: boolean; cpu?: number | null }>;
	services: Array<{ name: string; nodes?: string[] }>;
	crawlers: CrawlerStatus[];
	queue: { queues?: Record<string, unknown> } | null;
	crawls: { crawls: ActiveCrawl[]; truncated: boolean } | null;
	zookeeper: ZookeeperView | null;
	recent: Array<{ node: string; entries: RecentEntry[] }>;
	problems: string[];
}

export function nodeRows(nodes: Gathered["nodes"], services: Gathered["services"]): NodeRow[] {
	const byNode = new Map<string, string[]>();
	for (const svc of services) {
		if (svc.name.startsWith("$")) continue;
		for (const id of svc.nodes ?? []) byNode.set(id, [...(byNode.get(id) ?? []), svc.name]);
	}
	return nodes
		.map(n => ({
			id: n.id,
			hostname: n.hostname ?? null,
			available: n.available !== false,
			local: n.local === true,
			cpu: typeof n.cpu === "number" ? n.cpu : null,
			services: [...new Set(byNode.get(n.id) ?? [])].sort()
		}))
		.sort((a, b) => Number(b.available) - Number(a.available) || a.id.localeCompare(b.id));
}

/** Backlog rows from a stats.report queue answer, each with the throttle a crawler applies, largest first. */
export function backlogRows(queue: Gathered["queue"], crawlers: CrawlerStatus[], max = MAX_BACKLOG_ROWS): NonNullable<DashboardState["backlog"]> {
	const throttles = new Map<string, BacklogRow["throttle"]>();
	for (const c of crawlers) for (const q of c.queues ?? []) throttles.set(q.queue, { window: q.throttle.window, limit: q.throttle.limit, moderated: q.throttle.moderated });
	const rows: BacklogRow[] = [];
	let total = 0;
	for (const [name, value] of Object.entries(queue?.queues ?? {})) {
		if (!name.startsWith("queue_") || !value || typeof value !== "object") continue;
		const spiderid = name.slice("queue_".length);
		for (const d of (value as { domains?: Array<{ domain: string; backlog: number }> }).domains ?? []) {
			total += d.backlog;
			rows.push({ spiderid, domain: d.domain, backlog: d.backlog, throttle: throttles.get(`${spiderid}:${d.domain}:queue`) ?? null });
		}
	}
	rows.sort((a, b) => b.backlog - a.backlog || a.spiderid.localeCompare(b.spiderid) || a.domain.localeCompare(b.domain));
	return { total, domains: rows.length, rows: rows.slice(0, max), truncated: rows.length > max };
}

/** Active crawls with the pages the crawler nodes crawled for them (summed over nodes). */
export function crawlRows(crawls: NonNullable<Gathered["crawls"]>, crawlers: CrawlerStatus[], max = MAX_CRAWL_ROWS): NonNullable<DashboardState["crawls"]> {
	const counted = new Map<string, { crawled: number; last: number }>();
	for (const c of crawlers)
		for (const k of c.crawls ?? []) {
			const key = `${k.spiderid}\t${k.appid}\t${k.crawlid}`;
			const sum = counted.get(key) ?? { crawled: 0, last: 0 };
			sum.crawled += k.crawled;
			sum.last = Math.max(sum.last, k.last);
			counted.set(key, sum);
		}
	const rows = crawls.crawls.slice(0, max).map(c => {
		const k = counted.get(`${c.spiderid}\t${c.appid}\t${c.crawlid}`);
		return { ...c, crawled: k?.crawled ?? 0, last_page: k ? k.last : null };
	});
	return { rows, truncated: crawls.truncated || crawls.crawls.length > max };
}

/** Every node's recent warnings and errors, newest first. */
export function errorRows(recent: Gathered["recent"], max = MAX_ERROR_ROWS): ErrorRow[] {
	return recent
		.flatMap(r => r.entries.map(e => ({ ...e, node: r.node })))
		.sort((a, b) => b.time - a.time)
		.slice(0, max);
}

/** The state document from what was gathered; `series` gets this gathering's sample. */
export function buildState(g: Gathered, series: ThroughputSeries): DashboardState {
	series.sample(g.time, Object.fromEntries(g.crawlers.map(c => [c.node, c.counts?.crawled ?? 0])));
	return {
		time: g.time,
		node: g.node,
		nodes: nodeRows(g.nodes, g.services),
		crawlers: g.crawlers
			.map(c => ({ node: c.node, spiders: c.spiders ?? [], in_flight: c.in_flight ?? 0, counts: c.counts ?? {}, queues: (c.queues ?? []).length }))
			.sort((a, b) => a.node.localeCompare(b.node)),
		throughput: {
			points: series.list(),
			crawled_total: g.crawlers.reduce((n, c) => n + (c.counts?.crawled ?? 0), 0),
			in_flight: g.crawlers.reduce((n, c) => n + (c.in_flight ?? 0), 0)
		},
		backlog: g.queue ? backlogRows(g.queue, g.crawlers) : null,
		crawls: g.crawls ? crawlRows(g.crawls, g.crawlers) : null,
		zookeeper: g.zookeeper,
		errors: errorRows(g.recent),
		problems: g.problems
	};
}

/** The state as a caller whose API key acts for `allowed` appids may see it (null: keys are off). */
export function stateForAppids(state: DashboardState, allowed: string[] | null): DashboardState {
	if (allowed === null || !state.crawls) return state;
	return { ...state, crawls: { ...state.crawls, rows: state.crawls.rows.filter(r => allowed.includes(r.appid)) } };
}
