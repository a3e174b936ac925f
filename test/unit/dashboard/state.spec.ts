import {
	backlogRows,
	buildState,
	crawlRows,
	errorRows,
	MIN_SAMPLE_MS,
	nodeRows,
	stateForAppids,
	ThroughputSeries,
	type CrawlerStatus,
	type Gathered
} from "../../../lib/dashboard/state.ts";

const crawler = (node: string, crawled: number, extra: Partial<CrawlerStatus> = {}): CrawlerStatus => ({
	node,
	spiders: ["link"],
	in_flight: 1,
	counts: { crawled, retried: 0, failed: 0 },
	queues: [],
	...extra
});

describe("ThroughputSeries", () => {
	it("starts from a baseline and gives pages and pages per second between samples", () => {
		const s = new ThroughputSeries();
		expect(s.sample(0, { a: 100, b: 5 })).toBe(true);
		expect(s.list()).toEqual([]);
		s.sample(2000, { a: 110, b: 15 });
		expect(s.list()).toEqual([{ t: 2000, pages: 20, rate: 10 }]);
	});

	it("ignores samples closer than MIN_SAMPLE_MS", () => {
		const s = new ThroughputSeries();
		s.sample(0, { a: 0 });
		expect(s.sample(MIN_SAMPLE_MS - 1, { a: 50 })).toBe(false);
		s.sample(MIN_SAMPLE_MS * 2, { a: 50 });
		expect(s.list()).toEqual([{ t: MIN_SAMPLE_MS * 2, pages: 50, rate: 25 }]);
	});

	it("counts a restarted node's new count, a new node from its baseline, and forgets nodes that left", () => {
		const s = new ThroughputSeries();
		s.sample(0, { a: 100 });
		s.sample(1000, { a: 3, b: 500 });
		expect(s.list()[0]).toEqual({ t: 1000, pages: 3, rate: 3 });
		s.sample(2000, { b: 504 });
		s.sample(3000, { a: 7, b: 504 });
		expect(s.list().map(p => p.pages)).toEqual([3, 4, 0]);
	});

	it("keeps at most its capacity of points", () => {
		const s = new ThroughputSeries(3);
		for (let i = 0; i < 10; i++) s.sample(i * 1000, { a: i });
		expect(s.list().map(p => p.t)).toEqual([7000, 8000, 9000]);
	});
});

describe("state parts", () => {
	it("lists nodes with their services, available ones first", () => {
		const rows = nodeRows(
			[
				{ id: "n2", hostname: "h2", available: false },
				{ id: "n1", hostname: "h1", available: true, local: true, cpu: 12 }
			],
			[
				{ name: "crawler", nodes: ["n1", "n2"] },
				{ name: "api", nodes: ["n1"] },
				{ name: "$node", nodes: ["n1"] }
			]
		);
		expect(rows).toEqual([
			{ id: "n1", hostname: "h1", available: true, local: true, cpu: 12, services: ["api", "crawler"] },
			{ id: "n2", hostname: "h2", available: false, local: false, cpu: null, services: ["crawler"] }
		]);
	});

	it("turns the queue stats into backlog rows with each queue's throttle, largest first", () => {
		const queue = {
			queues: {
				queue_link: { spider_backlog: 7, num_domains: 2, domains: [{ domain: "a.com", backlog: 2 }, { domain: "b.com", backlog: 5 }] },
				queue_wandering: { spider_backlog: 1, num_domains: 1, domains: [{ domain: "a.com", backlog: 1 }] },
				total_backlog: 8
			}
		};
		const throttled = crawler("n1", 0, { queues: [{ queue: "link:a.com:queue", waiting_s: 0, throttle: { key: "link:a.com", window: 60, limit: 10, moderated: false } }] });
		const b = backlogRows(queue, [throttled]);
		expect(b).toEqual({
			total: 8,
			domains: 3,
			truncated: false,
			rows: [
				{ spiderid: "link", domain: "b.com", backlog: 5, throttle: null },
				{ spiderid: "link", domain: "a.com", backlog: 2, throttle: { window: 60, limit: 10, moderated: false } },
				{ spiderid: "wandering", domain: "a.com", backlog: 1, throttle: null }
			]
		});
		expect(backlogRows(queue, [], 1)).toMatchObject({ total: 8, domains: 3, truncated: true, rows: [{ domain: "b.com" }] });
		expect(backlogRows(null, [])).toEqual({ total: 0, domains: 0, rows: [], truncated: false });
	});

	it("adds the pages every crawler node crawled to each active crawl", () => {
		const crawls = {
			crawls: [
				{ spiderid: "link", appid: "app", crawlid: "c1", total_pending: 5, total_domains: 1 },
				{ spiderid: "link", appid: "app", crawlid: "c2", total_pending: 1, total_domains: 1 }
			],
			truncated: false
		};
		const rows = crawlRows(crawls, [
			crawler("n1", 3, { crawls: [{ spiderid: "link", appid: "app", crawlid: "c1", crawled: 3, last: 100 }] }),
			crawler("n2", 4, { crawls: [{ spiderid: "link", appid: "app", crawlid: "c1", crawled: 4, last: 200 }] })
		]);
		expect(rows.rows).toEqual([
			{ spiderid: "link", appid: "app", crawlid: "c1", total_pending: 5, total_domains: 1, crawled: 7, last_page: 200 },
			{ spiderid: "link", appid: "app", crawlid: "c2", total_pending: 1, total_domains: 1, crawled: 0, last_page: null }
		]);
		expect(crawlRows(crawls, [], 1)).toMatchObject({ truncated: true, rows: [{ crawlid: "c1" }] });
	});

	it("merges every node's recent entries, newest first, bounded", () => {
		const e = (time: number) => ({ time, level: "error" as const, module: "m", message: `at ${time}` });
		const rows = errorRows(
			[
				{ node: "a", entries: [e(3), e(1)] },
				{ node: "b", entries: [e(2)] }
			],
			2
		);
		expect(rows.map(r => [r.node, r.time])).toEqual([
			["a", 3],
			["b", 2]
		]);
	});
});

describe("buildState and stateForAppids", () => {
	const gathered = (time: number, crawled: number): Gathered => ({
		time,
		node: "n1",
		nodes: [{ id: "n1", available: true }],
		services: [{ name: "crawler", nodes: ["n1"] }],
		crawlers: [crawler("n1", crawled)],
		queue: null,
		crawls: {
			crawls: [
				{ spiderid: "link", appid: "mine", crawlid: "a", total_pending: 2, total_domains: 1 },
				{ spiderid: "link", appid: "theirs", crawlid: "b", total_pending: 1, total_domains: 1 }
			],
			truncated: false
		},
		zookeeper: null,
		recent: [],
		problems: ["backlog per domain: no node runs the stats service"]
	});

	it("samples the throughput and carries every part", () => {
		const series = new ThroughputSeries();
		buildState(gathered(0, 10), series);
		const state = buildState(gathered(2000, 30), series);
		expect(state.throughput).toEqual({ points: [{ t: 2000, pages: 20, rate: 10 }], crawled_total: 30, in_flight: 1 });
		expect(state.crawlers).toEqual([{ node: "n1", spiders: ["link"], in_flight: 1, counts: { crawled: 30, retried: 0, failed: 0 }, queues: 0 }]);
		expect(state.backlog).toBeNull();
		expect(state.problems).toEqual(["backlog per domain: no node runs the stats service"]);
		expect(state.crawls!.rows.map(r => r.crawlid)).toEqual(["a", "b"]);
	});

	it("lists only the crawls of the API key's appids", () => {
		const state = buildState(gathered(0, 0), new ThroughputSeries());
		expect(stateForAppids(state, null)).toBe(state);
		expect(stateForAppids(state, ["mine"]).crawls!.rows.map(r => r.appid)).toEqual(["mine"]);
		expect(stateForAppids(state, []).crawls!.rows).toEqual([]);
		expect(state.crawls!.rows).toHaveLength(2);
	});
});
