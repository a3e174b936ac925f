/**
 * Progress and status lines of the command-line tools (pure): `npm run dump` shows a running count and
 * rate on stderr, `npm start` a short cluster status line in an interactive terminal.
 */

/** 1234567 -> "1,234,567". */
export function formatCount(n: number): string {
	return Math.round(n).toLocaleString("en-US");
}

/** A rate per second: "0.4/s", "12.3/s", "1,234/s". */
export function formatRate(perSecond: number): string {
	const r = Number.isFinite(perSecond) && perSecond > 0 ? perSecond : 0;
	return `${r >= 100 ? formatCount(r) : r.toFixed(1)}/s`;
}

/** Bytes in B, KB, MB or GB (1024 based), one decimal from KB on. */
export function formatBytes(bytes: number): string {
	if (bytes < 1024) return `${Math.max(0, Math.round(bytes))} B`;
	const units = ["KB", "MB", "GB", "TB"];
	let v = bytes / 1024;
	let i = 0;
	while (v >= 1024 && i < units.length - 1) {
		v /= 1024;
		i++;
	}
	return `${v.toFixed(1)} ${units[i]}`;
}

/** Seconds as "42s", "3m05s", "2h03m". */
export function formatDuration(seconds: number): string {
	const s = Math.max(0, Math.floor(seconds));
	if (s < 60) return `${s}s`;
	if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
	return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/**
 * Rate of a growing total over the last `windowMs` (default 10 s): feed it (time, total) samples; the
 * rate is the growth between the oldest kept sample and the newest. A total that goes down (a node
 * left the cluster) starts the window over instead of giving a negative rate.
 */
export class RateMeter {
	private samples: Array<{ t: number; total: number }> = [];
	private readonly windowMs: number;

	constructor(windowMs = 10_000) {
		this.windowMs = windowMs;
	}

	add(timeMs: number, total: number): void {
		const last = this.samples[this.samples.length - 1];
		if (last && total < last.total) this.samples = [];
		this.samples.push({ t: timeMs, total });
		// Keep one sample at or before the window start so the rate covers the whole window.
		while (this.samples.length > 2 && this.samples[1]!.t <= timeMs - this.windowMs) this.samples.shift();
	}

	/** Per second; 0 until two samples span some time. */
	rate(): number {
		const first = this.samples[0];
		const last = this.samples[this.samples.length - 1];
		if (!first || !last || last.t <= first.t) return 0;
		return ((last.total - first.total) * 1000) / (last.t - first.t);
	}
}

export interface DumpProgress {
	count: number;
	bytes: number;
	elapsedS: number;
	/** Messages per second, recent. */
	rate: number;
	topic: string;
}

/** "demo.crawled_firehose: 1,234 messages, 56.7/s, 1.2 MB in 1m05s". */
export function dumpProgressLine(p: DumpProgress): string {
	return `${p.topic}: ${formatCount(p.count)} message${p.count === 1 ? "" : "s"}, ${formatRate(p.rate)}, ${formatBytes(p.bytes)} in ${formatDuration(p.elapsedS)}`;
}

export interface ClusterStatus {
	/** Nodes of the cluster that are available. */
	nodes: number;
	/** Nodes running the crawler service (null: unknown). */
	crawlers: number;
	/** Pages published by every crawler since it started. */
	pages: number;
	/** Fetches in flight on every crawler. */
	inFlight: number;
	/** Requests waiting in the domain queues (null: no crawler answered). */
	backlog: number | null;
	domains: number | null;
}

/** "12.3 pages/s | 1,234 pages | backlog 5,678 in 12 domains | 3 nodes, 2 crawling, 4 fetches in flight". */
export function statusLine(s: ClusterStatus, pagesPerSecond: number): string {
	const backlog = s.backlog === null ? "backlog ?" : `backlog ${formatCount(s.backlog)} in ${formatCount(s.domains ?? 0)} domain${s.domains === 1 ? "" : "s"}`;
	const nodes = `${s.nodes} node${s.nodes === 1 ? "" : "s"}, ${s.crawlers} crawling, ${formatCount(s.inFlight)} fetch${s.inFlight === 1 ? "" : "es"} in flight`;
	return `${formatRate(pagesPerSecond).replace("/s", " pages/s")} | ${formatCount(s.pages)} pages | ${backlog} | ${nodes}`;
}

/** What a crawler node's `crawler.status` action answers (the parts the status line needs). */
export interface CrawlerStatusPart {
	counts?: { crawled?: number };
	/** Requests under lease: being fetched, or pages being published. */
	in_flight?: number;
	/** Of those, the ones being fetched. */
	fetching?: number;
	backlog?: { spiders?: Record<string, { backlog: number; domains: number }> };
}

/**
 * The cluster status from every crawler's own status: pages and fetches add up; every crawler reads the
 * same queues, so the backlog of a spider type is the largest any crawler running it reported.
 */
export function summarizeCrawlers(nodes: number, statuses: readonly CrawlerStatusPart[]): ClusterStatus {
	const perSpider = new Map<string, { backlog: number; domains: number }>();
	let pages = 0;
	let inFlight = 0;
	for (const st of statuses) {
		pages += st.counts?.crawled ?? 0;
		inFlight += st.fetching ?? st.in_flight ?? 0;
		for (const [spider, b] of Object.entries(st.backlog?.spiders ?? {})) {
			const seen = perSpider.get(spider);
			if (!seen || b.backlog > seen.backlog) perSpider.set(spider, { backlog: b.backlog, domains: b.domains });
		}
	}
	const known = statuses.some(st => st.backlog !== undefined);
	let backlog = 0;
	let domains = 0;
	for (const b of perSpider.values()) {
		backlog += b.backlog;
		domains += b.domains;
	}
	return { nodes, crawlers: statuses.length, pages, inFlight, backlog: known ? backlog : null, domains: known ? domains : null };
}
