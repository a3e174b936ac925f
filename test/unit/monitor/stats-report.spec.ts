/**
 * Stats responses against the exact dicts of the original: its unit tests
 * (redis-monitor/tests/test_plugins.py: test_stats_get_spider/machine/queue/plugin, where every value
 * read is 5) and every example response of its Stats API documentation (minus uuid/server_time, which
 * the ActionMixin adds).
 */
import {
	classifyQueueKey,
	crawlerStats,
	machineStats,
	pluginStats,
	queueStats,
	spiderStats,
	statsKeyQuery,
	statsPlan,
	statsResponse,
	type QueueEntry,
	type StatEntry
} from "../../../lib/monitor/stats-report.ts";

const HOST = "Madisons-MacBook-Pro-2.local";

/** Entries of one counter base: {"900": 2, lifetime: 51} -> stats:...:900 = 2, stats:...:lifetime = 51. */
const counter = (base: string, counts: Record<string, number>): StatEntry[] => Object.entries(counts).map(([end, value]) => ({ key: `${base}:${end}`, value }));
/** Live heartbeat keys (EXISTS = 1). */
const beats = (...keys: string[]): StatEntry[] => keys.map(key => ({ key, value: 1 }));
/** The original's mocks: every value read is 5. */
const five = (...keys: string[]): StatEntry[] => keys.map(key => ({ key, value: 5 }));

// --- the documentation's example cluster ----------------------------------------------------------------
const LINK_200 = { "604800": 44, lifetime: 61, "43200": 39, "86400": 44, "21600": 39 };
const LINK_504 = { lifetime: 4 };
const crawlerEntries: StatEntry[] = [
	...beats(`stats:crawler:${HOST}:link:0a1b2c3d4e5f`, `stats:crawler:${HOST}:link:112233445566`),
	...counter(`stats:crawler:${HOST}:link:200`, LINK_200),
	...counter(`stats:crawler:${HOST}:link:504`, LINK_504)
];
const docQueues: QueueEntry[] = [{ key: "link:istresearch.com:queue", backlog: 229 }];
const docSpiders = { unique_spider_count: 1, total_spider_count: 2, link: { count: 2, "200": LINK_200, "504": LINK_504 } };
const docMachines = { count: 1, [HOST]: { "200": LINK_200, "504": LINK_504 } };
const docQueueDict = { queue_link: { domains: [{ domain: "istresearch.com", backlog: 229 }], spider_backlog: 229, num_domains: 1 }, total_backlog: 229 };

describe("stats report: the original's unit tests", () => {
	it("test_stats_get_spider", () => {
		const entries = [
			...five("stats:crawler:host1:link:200:3600", "stats:crawler:host2:link:200:lifetime", "stats:crawler:host1:link:504:86400", "stats:crawler:host3:link:200:86400"),
			...beats("stats:crawler:host2:link:ABCDEF", "stats:crawler:host3:link:ABCDEF", "stats:crawler:host1:link:123345"),
			...five("stats:crawler:host2:other:403:lifetime", "stats:crawler:host1:other:200:3600"),
			...beats("stats:crawler:host2:other:ABCDEF1")
		];
		expect(spiderStats(entries)).toEqual({
			spiders: {
				unique_spider_count: 2,
				total_spider_count: 4,
				other: { count: 1, "200": { "3600": 5 }, "403": { lifetime: 5 } },
				link: { count: 3, "200": { lifetime: 5, "86400": 5, "3600": 5 }, "504": { "86400": 5 } }
			}
		});
	});

	it("test_stats_get_machine", () => {
		const entries = five(
			"stats:crawler:host1:link:200:3600",
			"stats:crawler:host2:link:200:lifetime",
			"stats:crawler:host1:link:504:86400",
			"stats:crawler:host2:other:403:lifetime",
			"stats:crawler:host3:link:200:86400",
			"stats:crawler:host1:other:200:3600"
		);
		expect(machineStats(entries)).toEqual({
			machines: {
				count: 3,
				host1: { "200": { "3600": 10 }, "504": { "86400": 5 } },
				host2: { "200": { lifetime: 5 }, "403": { lifetime: 5 } },
				host3: { "200": { "86400": 5 } }
			}
		});
	});

	it("test_stats_get_queue", () => {
		const backlogs = [5, 10, 11, 1, 3];
		const keys = ["link:istresearch.com:queue", "link:yellowpages.com:queue", "link:cnn.com:queue", "wandering:dmoztools.net:queue", "wandering:craigslist.org:queue"];
		expect(queueStats(keys.map((key, i) => ({ key, backlog: backlogs[i]! })))).toEqual({
			queues: {
				total_backlog: 30,
				queue_link: {
					spider_backlog: 26,
					num_domains: 3,
					domains: [
						{ domain: "istresearch.com", backlog: 5 },
						{ domain: "yellowpages.com", backlog: 10 },
						{ domain: "cnn.com", backlog: 11 }
					]
				},
				queue_wandering: {
					spider_backlog: 4,
					num_domains: 2,
					domains: [
						{ domain: "dmoztools.net", backlog: 1 },
						{ domain: "craigslist.org", backlog: 3 }
					]
				}
			}
		});
	});

	it("test_stats_get_plugin", () => {
		const entries = five("stats:main:total:3600", "stats:main:total:lifetime", "stats:main:pluginX:86400", "stats:main:pluginX:lifetime", "stats:main:fail:3600", "stats:main:fail:68000");
		expect(pluginStats("main", entries)).toEqual({
			plugins: { pluginX: { lifetime: 5, "86400": 5 } },
			total: { lifetime: 5, "3600": 5 },
			fail: { "68000": 5, "3600": 5 }
		});
	});
});

describe("stats report: the documentation's example responses", () => {
	const kafkaMonitor = (total: Record<string, number>, statsHandler: Record<string, number>): StatEntry[] => [
		...beats(`stats:kafka-monitor:self:${HOST}:e2be29329410`, `stats:kafka-monitor:self:${HOST}:60295fece216`),
		...counter("stats:kafka-monitor:ActionHandler", { "604800": 11, lifetime: 17, "43200": 11, "86400": 11, "21600": 11 }),
		...counter("stats:kafka-monitor:ScraperHandler", { "604800": 10, lifetime: 18, "43200": 5, "86400": 10, "21600": 5 }),
		...counter("stats:kafka-monitor:StatsHandler", statsHandler),
		...counter("stats:kafka-monitor:fail", { "604800": 4, lifetime: 7, "43200": 4, "86400": 4, "21600": 4 }),
		...counter("stats:kafka-monitor:total", total)
	];
	const redisMonitor = (total: Record<string, number>, statsMonitor: Record<string, number>): StatEntry[] => [
		...beats(`stats:redis-monitor:self:${HOST}:918145625a1e`),
		...counter("stats:redis-monitor:ExpireMonitor", { "604800": 2, lifetime: 2, "43200": 2, "86400": 2, "21600": 2 }),
		...counter("stats:redis-monitor:StopMonitor", { "604800": 5, lifetime: 6, "43200": 5, "86400": 5, "21600": 5 }),
		...counter("stats:redis-monitor:StatsMonitor", statsMonitor),
		...counter("stats:redis-monitor:InfoMonitor", { "604800": 6, lifetime: 11, "43200": 6, "86400": 6, "21600": 6 }),
		...counter("stats:redis-monitor:total", total)
	];

	it("kafka-monitor (uuid cdefghi)", () => {
		const input = {
			stats: kafkaMonitor({ "900": 2, "3600": 2, "604800": 28, "43200": 23, lifetime: 51, "86400": 28, "21600": 23 }, { "900": 2, "3600": 2, "604800": 3, "43200": 3, lifetime: 10, "86400": 3, "21600": 3 }),
			queues: []
		};
		expect(statsResponse("kafka-monitor", "testapp", input)).toEqual({
			nodes: { [HOST]: ["e2be29329410", "60295fece216"] },
			plugins: {
				ActionHandler: { "604800": 11, lifetime: 17, "43200": 11, "86400": 11, "21600": 11 },
				ScraperHandler: { "604800": 10, lifetime: 18, "43200": 5, "86400": 10, "21600": 5 },
				StatsHandler: { "900": 2, "3600": 2, "604800": 3, "43200": 3, lifetime: 10, "86400": 3, "21600": 3 }
			},
			appid: "testapp",
			fail: { "604800": 4, lifetime: 7, "43200": 4, "86400": 4, "21600": 4 },
			stats: "kafka-monitor",
			total: { "900": 2, "3600": 2, "604800": 28, "43200": 23, lifetime: 51, "86400": 28, "21600": 23 }
		});
	});

	it("spider (uuid hij1): a window whose events aged out is absent, only lifetime remains", () => {
		// The 504 window keys still exist (trimmed only every STATS_CYCLE) but count nothing inside the window.
		const stale = counter(`stats:crawler:${HOST}:link:504`, { "900": 0, "604800": 0 });
		expect(statsResponse("spider", "testapp", { stats: [...crawlerEntries, ...stale], queues: [] })).toEqual({ stats: "spider", appid: "testapp", spiders: docSpiders });
	});

	it("machine (uuid hij12)", () => {
		expect(statsResponse("machine", "testapp", { stats: crawlerEntries, queues: [] })).toEqual({ stats: "machine", machines: docMachines, appid: "testapp" });
	});

	it("queue (uuid 1234567890)", () => {
		expect(statsResponse("queue", "test", { stats: [], queues: docQueues })).toEqual({ stats: "queue", queues: docQueueDict, appid: "test" });
	});

	it("crawler (uuid hij1), with the queue stats under `queue` as the original's code sends them", () => {
		const response = statsResponse("crawler", "testapp", { stats: crawlerEntries, queues: docQueues });
		expect(response).toEqual({ stats: "crawler", spiders: docSpiders, appid: "testapp", machines: docMachines, queue: docQueueDict });
		expect(response).not.toHaveProperty("queues");
	});

	it("redis-monitor (uuid 2hij1): no fail key without failures", () => {
		const input = {
			stats: redisMonitor({ "900": 4, "3600": 8, "604800": 22, "43200": 22, lifetime: 35, "86400": 22, "21600": 22 }, { "900": 4, "3600": 8, "604800": 9, "43200": 9, lifetime: 16, "86400": 9, "21600": 9 }),
			queues: []
		};
		const response = statsResponse("redis-monitor", "testapp", input);
		expect(response).toEqual({
			stats: "redis-monitor",
			nodes: { [HOST]: ["918145625a1e"] },
			plugins: {
				ExpireMonitor: { "604800": 2, lifetime: 2, "43200": 2, "86400": 2, "21600": 2 },
				StopMonitor: { "604800": 5, lifetime: 6, "43200": 5, "86400": 5, "21600": 5 },
				StatsMonitor: { "900": 4, "3600": 8, "604800": 9, "43200": 9, lifetime: 16, "86400": 9, "21600": 9 },
				InfoMonitor: { "604800": 6, lifetime: 11, "43200": 6, "86400": 6, "21600": 6 }
			},
			appid: "testapp",
			total: { "900": 4, "3600": 8, "604800": 22, "43200": 22, lifetime: 35, "86400": 22, "21600": 22 }
		});
		expect(response).not.toHaveProperty("fail");
	});

	it("rest (uuid 2hij1): only nodes", () => {
		expect(statsResponse("rest", "testapp", { stats: beats("stats:rest:self:scdev:c4ec35bf9c1a"), queues: [] })).toEqual({
			appid: "testapp",
			nodes: { scdev: ["c4ec35bf9c1a"] },
			stats: "rest"
		});
	});

	it("all (uuid hij3): the four reports side by side, keys of other components ignored", () => {
		const stats = [
			...kafkaMonitor({ "900": 3, "3600": 9, "604800": 35, "43200": 30, lifetime: 58, "86400": 35, "21600": 30 }, { "900": 3, "3600": 9, "604800": 10, "43200": 10, lifetime: 17, "86400": 10, "21600": 10 }),
			...redisMonitor({ "900": 3, "3600": 9, "604800": 23, "43200": 23, lifetime: 36, "86400": 23, "21600": 23 }, { "900": 3, "3600": 9, "604800": 10, "43200": 10, lifetime: 17, "86400": 10, "21600": 10 }),
			...beats(`stats:rest:self:${HOST}:c4ec35bf9c1a`),
			...crawlerEntries,
			...counter("stats:some-tool:total", { "900": 7 })
		];
		expect(statsResponse("all", "testapp", { stats, queues: docQueues })).toEqual({
			"kafka-monitor": {
				nodes: { [HOST]: ["e2be29329410", "60295fece216"] },
				fail: { "604800": 4, lifetime: 7, "43200": 4, "86400": 4, "21600": 4 },
				total: { "900": 3, "3600": 9, "604800": 35, "43200": 30, lifetime: 58, "86400": 35, "21600": 30 },
				plugins: {
					ActionHandler: { "604800": 11, lifetime: 17, "43200": 11, "86400": 11, "21600": 11 },
					ScraperHandler: { "604800": 10, lifetime: 18, "43200": 5, "86400": 10, "21600": 5 },
					StatsHandler: { "900": 3, "3600": 9, "604800": 10, "43200": 10, lifetime: 17, "86400": 10, "21600": 10 }
				}
			},
			stats: "all",
			"redis-monitor": {
				nodes: { [HOST]: ["918145625a1e"] },
				total: { "900": 3, "3600": 9, "604800": 23, "43200": 23, lifetime: 36, "86400": 23, "21600": 23 },
				plugins: {
					ExpireMonitor: { "604800": 2, lifetime: 2, "43200": 2, "86400": 2, "21600": 2 },
					StopMonitor: { "604800": 5, lifetime: 6, "43200": 5, "86400": 5, "21600": 5 },
					StatsMonitor: { "900": 3, "3600": 9, "604800": 10, "43200": 10, lifetime: 17, "86400": 10, "21600": 10 },
					InfoMonitor: { "604800": 6, lifetime: 11, "43200": 6, "86400": 6, "21600": 6 }
				}
			},
			rest: { nodes: { [HOST]: ["c4ec35bf9c1a"] } },
			appid: "testapp",
			crawler: { spiders: docSpiders, machines: docMachines, queue: docQueueDict }
		});
	});
});

describe("stats report: beyond the original", () => {
	it("sums a spider's counts over hosts (the original kept the last host's value)", () => {
		const entries = [
			...counter("stats:crawler:hostA:link:200", { "900": 3, lifetime: 10 }),
			...counter("stats:crawler:hostB:link:200", { "900": 4, lifetime: 20 }),
			...counter("stats:crawler:hostB:link:404", { lifetime: 1 }),
			...beats("stats:crawler:hostA:link:aaaaaaaaaaaa", "stats:crawler:hostB:link:bbbbbbbbbbbb", "stats:crawler:hostB:wandering:cccccccccccc")
		];
		expect(spiderStats(entries)).toEqual({
			spiders: {
				unique_spider_count: 2,
				total_spider_count: 3,
				link: { count: 2, "200": { "900": 7, lifetime: 30 }, "404": { lifetime: 1 } },
				wandering: { count: 1 }
			}
		});
		expect(machineStats(entries)).toEqual({
			machines: { count: 2, hostA: { "200": { "900": 3, lifetime: 10 } }, hostB: { "200": { "900": 4, lifetime: 20 }, "404": { lifetime: 1 } } }
		});
	});

	it("leaves out keys that count nothing or do not fit the layout", () => {
		const entries = [
			...counter("stats:kafka-monitor:total", { "900": 0, "3600": 2, lifetime: 9 }),
			...counter("stats:kafka-monitor:fail", { "900": 0, "3600": 0 }),
			{ key: "stats:kafka-monitor:self:gone-host:aaaaaaaaaaaa", value: 0 },
			{ key: "stats:kafka-monitor:total", value: 3 },
			{ key: "stats:kafka-monitor:self:host1", value: 1 },
			{ key: "stats:kafka-monitor:total:900:extra", value: 3 },
			{ key: "stats:kafka-monitor:ScraperHandler:lifetime:2017-01-01", value: 3 },
			{ key: "stats:kafka-monitor:ScraperHandler:soon", value: 3 },
			{ key: "stats:crawler:host1:link:200:900:x", value: 3 },
			{ key: "stats:crawler:host1:link", value: 3 }
		];
		expect(pluginStats("kafka-monitor", entries)).toEqual({ total: { "3600": 2, lifetime: 9 } });
		expect(spiderStats(entries)).toEqual({ spiders: { unique_spider_count: 0, total_spider_count: 0 } });
		expect(machineStats(entries)).toEqual({ machines: { count: 0 } });
	});

	it("reports an empty cluster with the counts at zero", () => {
		expect(statsResponse("crawler", "app", { stats: [], queues: [] })).toEqual({
			stats: "crawler",
			appid: "app",
			spiders: { unique_spider_count: 0, total_spider_count: 0 },
			machines: { count: 0 },
			queue: { total_backlog: 0 }
		});
		expect(statsResponse("kafka-monitor", "app", { stats: [], queues: [] })).toEqual({ stats: "kafka-monitor", appid: "app" });
	});

	it("skips empty, duplicate and malformed queues; keeps IPv6 domains whole", () => {
		expect(
			queueStats([
				{ key: "link:a.com:queue", backlog: 2 },
				{ key: "link:a.com:queue", backlog: 2 },
				{ key: "link:empty.com:queue", backlog: 0 },
				{ key: "nocolon", backlog: 4 },
				{ key: "link:[::1]:queue", backlog: 3 }
			])
		).toEqual({
			queues: {
				total_backlog: 5,
				queue_link: {
					spider_backlog: 5,
					num_domains: 2,
					domains: [
						{ domain: "a.com", backlog: 2 },
						{ domain: "[::1]", backlog: 3 }
					]
				}
			}
		});
	});

	it("crawlerStats combines spider, machine and queue reports", () => {
		expect(crawlerStats({ stats: crawlerEntries, queues: docQueues })).toEqual({ spiders: docSpiders, machines: docMachines, queue: docQueueDict });
	});
});

describe("stats report: what to read", () => {
	it("tells heartbeats from counters by their parts, even with an all-digit id", () => {
		expect(statsKeyQuery("stats:crawler:host1:link:123345678901")).toEqual({ kind: "heartbeat" });
		expect(statsKeyQuery("stats:crawler:host1:link:200:3600")).toEqual({ kind: "window", seconds: 3600 });
		expect(statsKeyQuery("stats:crawler:host1:link:200:lifetime")).toEqual({ kind: "lifetime" });
		expect(statsKeyQuery("stats:kafka-monitor:self:host1:123456789012")).toEqual({ kind: "heartbeat" });
		expect(statsKeyQuery("stats:kafka-monitor:total:900")).toEqual({ kind: "window", seconds: 900 });
		expect(statsKeyQuery("stats:rest:StatsHandler:lifetime")).toEqual({ kind: "lifetime" });
		for (const bad of ["stats:kafka-monitor:total", "stats:kafka-monitor:total:0", "stats:kafka-monitor:total:abc", "stats:kafka-monitor:self:h", "stats:crawler:h:l", "stats::total:900", "link:a.com:queue"])
			expect(statsKeyQuery(bad)).toBeNull();
	});

	it("keeps only the components a plan reports", () => {
		const plan = statsPlan("redis-monitor");
		expect(statsKeyQuery("stats:redis-monitor:total:900", plan)).toEqual({ kind: "window", seconds: 900 });
		expect(statsKeyQuery("stats:kafka-monitor:total:900", plan)).toBeNull();
		expect(statsKeyQuery("stats:crawler:h:link:200:900", plan)).toBeNull();
		expect(statsKeyQuery("stats:crawler:h:link:200:900", statsPlan("machine"))).toEqual({ kind: "window", seconds: 900 });
		expect(statsKeyQuery("stats:other:total:900", statsPlan("all"))).toBeNull();
	});

	it("scans the fewest patterns per type (never the whole keyspace without a pattern)", () => {
		expect(statsPlan("kafka-monitor")).toEqual({ patterns: ["stats:kafka-monitor:*"], components: ["kafka-monitor"], crawler: false, queues: false });
		expect(statsPlan("rest").patterns).toEqual(["stats:rest:*"]);
		expect(statsPlan("spider")).toEqual({ patterns: ["stats:crawler:*"], components: [], crawler: true, queues: false });
		expect(statsPlan("machine").patterns).toEqual(["stats:crawler:*"]);
		expect(statsPlan("queue")).toEqual({ patterns: ["*:queue*"], components: [], crawler: false, queues: true });
		expect(statsPlan("crawler").patterns).toEqual(["stats:crawler:*", "*:queue*"]);
		expect(statsPlan("all")).toEqual({ patterns: ["stats:*", "*:queue*"], components: ["kafka-monitor", "redis-monitor", "rest"], crawler: true, queues: true });
		expect(() => statsPlan("bogus" as never)).toThrow('unknown stats type "bogus"');
		expect(() => statsResponse("bogus" as never, "a", { stats: [], queues: [] })).toThrow('unknown stats type "bogus"');
	});

	it("sorts the queue scan's keys into registries and domain queues", () => {
		expect(classifyQueueKey("link:queues")).toEqual({ kind: "registry", spiderid: "link" });
		expect(classifyQueueKey("link:example.com:queue")).toEqual({ kind: "queue", spiderid: "link", domain: "example.com" });
		expect(classifyQueueKey("link:[2001:db8::1]:queue")).toEqual({ kind: "queue", spiderid: "link", domain: "[2001:db8::1]" });
		for (const other of ["link:queue_seq", "link:queue", "a:b:queues", ":queues", "link:pending:app", "link:example.com:queue_x"]) expect(classifyQueueKey(other)).toBeNull();
	});
});
