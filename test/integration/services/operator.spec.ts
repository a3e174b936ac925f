/**
 * What an operator sees of a running crawl: the Prometheus metrics at METRICS_PORT/metrics (pages by
 * spider and status, fetch latency, backlog, throttle, Kafka produce, ingest), the log lines worth
 * knowing (crawl accepted, page crawled at DEBUG, ZooKeeper blacklist changes, Redis lost and regained),
 * the periodic stats dumps with and without STATS_DUMP_CRAWL / STATS_DUMP_QUEUE, and the status summary
 * `npm start` prints. Real Redis, Kafka, ZooKeeper and a loopback site.
 */
import { spawn } from "node:child_process";
import { createServer, Socket, type Server } from "node:net";
import { resolve } from "node:path";
import type { AddressInfo } from "node:net";
import type { ServiceBroker } from "moleculer";
import type { Settings } from "../../../config/index.ts";
import { KafkaClient } from "../../../lib/kafka/client.ts";
import { collectClusterStatus } from "../../../lib/node/status.ts";
import { brokerOptions } from "../../../lib/node/broker-options.ts";
import { ZookeeperSession } from "../../../lib/zookeeper/client.ts";
import { RedisMixin } from "../../../mixins/redis.mixin.ts";
import CrawlerService from "../../../services/crawler.service.ts";
import IngestService from "../../../services/ingest.service.ts";
import StatsService from "../../../services/stats.service.ts";
import { startSite, type TestSite } from "../../support/site.ts";
import { captureLogger, collectTopics, CRAWL_TEST_DBS, eventually, feedTo, prefixedSettings, stopChild, testBroker, testSettings, uniqueName, type CapturedLine } from "../../support/cluster.ts";

const ROOT = resolve(__dirname, "../../..");
const NODE = resolve(ROOT, "node_modules/.bin/node");

const quietLog = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined };

async function freePort(): Promise<number> {
	const server = createServer();
	await new Promise<void>(resolve => server.listen(0, "127.0.0.1", resolve));
	const { port } = server.address() as AddressInfo;
	await new Promise(resolve => server.close(resolve));
	return port;
}

interface Sample {
	name: string;
	labels: Record<string, string>;
	value: number;
}

/** Parse the Prometheus text format (the sample lines). */
function parseMetrics(text: string): Sample[] {
	const out: Sample[] = [];
	for (const line of text.split("\n")) {
		const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
		if (!m) continue;
		const labels: Record<string, string> = {};
		for (const l of (m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
		out.push({ name: m[1]!, labels, value: Number(m[3]) });
	}
	return out;
}

function value(samples: Sample[], name: string, labels: Record<string, string>): number | undefined {
	return samples.find(s => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

describe("operator experience: metrics, logs, stats dumps, status", () => {
	let site: TestSite;
	let kafka: KafkaClient;
	let zk: ZookeeperSession;
	let base: Settings;
	let firehose: string;
	const pages: Array<{ crawlid: string; url: string; status_code: number }> = [];
	let stopReader: (() => Promise<void>) | null = null;
	const brokers: ServiceBroker[] = [];
	const zkRoot = `/it-operator-${uniqueName("zk")}`;
	const docPath = `${zkRoot}/crawler/all`;

	const feed = (request: object | string) => feedTo(kafka, base, request);

	async function writeDoc(text: string): Promise<void> {
		for (let i = 0; i < 10; i++) {
			const current = await zk.getData(docPath);
			if (await zk.setDataIfVersion(docPath, Buffer.from(text), current.version)) return;
		}
		throw new Error("could not write the ZooKeeper document");
	}

	beforeAll(async () => {
		site = await startSite({ fanout: 3, depth: 2 });
		const prefix = uniqueName("it_op").replace(/-/g, "_");
		base = prefixedSettings(prefix, {
			REDIS_DB: CRAWL_TEST_DBS.operator,
			KAFKA_PRODUCER_BATCH_LINGER_MS: 5,
			ZOOKEEPER_ASSIGN_PATH: `${zkRoot}/crawler/`,
			SPIDERS: ["link"],
			// One request per 2 s per domain: the links of the seed wait for the throttle.
			QUEUE_HITS: 1,
			QUEUE_WINDOW: 2,
			QUEUE_MODERATED: false,
			SCHEDULER_QUEUE_REFRESH: 1,
			DOWNLOAD_TIMEOUT: 5,
			ROBOTSTXT_OBEY: true
		});
		firehose = `${prefix}.crawled_firehose`;
		kafka = new KafkaClient(base, "it-operator-reader", quietLog);
		stopReader = await collectTopics(kafka, { [firehose]: pages });
		zk = new ZookeeperSession(base, quietLog);
		await zk.connect(10000);
	});

	afterEach(async () => {
		await Promise.all(brokers.splice(0).map(b => b.stop()));
	});

	afterAll(async () => {
		await stopReader?.();
		await kafka.close();
		for (const p of [docPath, `${zkRoot}/crawler`, zkRoot]) await zk.remove(p);
		zk.close();
		await site.close();
	});

	it("a crawl shows in /metrics (per node), in the log at the right levels, in the stats dumps and in the status summary", async () => {
		const port = await freePort();
		const settings = testSettings({ ...base, METRICS_PORT: port, METRICS_HOST: "127.0.0.1", STATS_DUMP: 1, STATS_DUMP_CRAWL: true, STATS_DUMP_QUEUE: true });
		const { logger, lines } = captureLogger();
		const nodeID = uniqueName("op-node");
		const broker = testBroker(settings, { nodeID, logger, metrics: brokerOptions(settings).metrics });
		broker.createService(IngestService);
		broker.createService(CrawlerService);
		broker.createService(StatsService);
		brokers.push(broker);
		await broker.start();

		// ZooKeeper blacklists localhost: its crawl stays queued (the backlog), and the change is one INFO line.
		await writeDoc("blacklist:\n- localhost\n");
		const applied = await eventually(() => lines.find(l => l.message === "Crawler configuration from ZooKeeper applied" && (l.data.changes as unknown[] | undefined)?.length), 10000);
		expect(applied?.level).toBe("info");
		expect(applied?.data.changes).toEqual([{ change: "blacklisted", domain: "localhost" }]);

		const crawlid = uniqueName("op");
		await feed({ url: `${site.origin}/`, appid: "testapp", crawlid, maxdepth: 1, allowed_domains: ["127.0.0.1"] });
		await feed({ url: `http://localhost:${site.port}/`, appid: "testapp", crawlid: `${crawlid}-held` });
		await feed("{not json");
		const expected = site.expectedPages(1);
		expect(await eventually(() => pages.filter(p => p.crawlid === crawlid).length >= expected.length, 40000)).toBe(true);
		const crawled = pages.filter(p => p.crawlid === crawlid);
		expect(crawled).toHaveLength(expected.length);
		expect(crawled.every(p => p.status_code === 200)).toBe(true);

		// --- metrics ---
		const scrape = async () => parseMetrics(await (await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { connection: "close" } })).text());
		const node = { nodeID };
		// The backlog gauge is refreshed with the queue list (SCHEDULER_QUEUE_REFRESH = 1 s).
		let samples = await scrape();
		await eventually(async () => {
			samples = await scrape();
			return (
				value(samples, "sc_queue_backlog", { ...node, spider: "link", domain: "localhost" }) === 1 &&
				value(samples, "sc_queue_backlog", { ...node, spider: "link", domain: "127.0.0.1" }) === 0 &&
				value(samples, "sc_ingest_failures_total", { ...node, reason: "unparseable" }) === 1
			);
		}, 10000, 200);
		expect(value(samples, "sc_pages_crawled_total", { ...node, spider: "link", status: "200" })).toBe(expected.length);
		expect(value(samples, "sc_fetch_duration_seconds_count", { ...node, spider: "link" })).toBe(expected.length);
		expect(value(samples, "sc_fetch_duration_seconds_bucket", { ...node, spider: "link", le: "+Inf" })).toBe(expected.length);
		expect(value(samples, "sc_fetch_duration_seconds_sum", { ...node, spider: "link" })).toBeGreaterThan(0);
		expect(value(samples, "sc_queue_backlog", { ...node, spider: "link", domain: "localhost" })).toBe(1);
		expect(value(samples, "sc_queue_backlog", { ...node, spider: "link", domain: "127.0.0.1" })).toBe(0);
		expect(value(samples, "sc_queue_domains", { ...node, spider: "link" })).toBe(2);
		expect(value(samples, "sc_throttled_pops_total", { ...node, spider: "link" })).toBeGreaterThan(0);
		expect(value(samples, "sc_throttle_wait_seconds_count", { ...node, spider: "link" })).toBe(value(samples, "sc_throttled_pops_total", { ...node, spider: "link" }));
		expect(value(samples, "sc_ingest_requests_total", { ...node, kind: "crawl" })).toBe(2);
		expect(value(samples, "sc_ingest_failures_total", { ...node, reason: "unparseable" })).toBe(1);
		expect(value(samples, "sc_kafka_produced_messages_total", { ...node, topic: firehose })).toBe(expected.length);
		expect(value(samples, "sc_kafka_produce_duration_seconds_count", { ...node, topic: firehose })).toBeGreaterThanOrEqual(1);
		expect(value(samples, "sc_kafka_produce_errors_total", { ...node, topic: firehose, transient: "true" })).toBeUndefined();
		// every series carries the node id and namespace (Moleculer's Prometheus reporter default labels)
		expect(samples.filter(s => s.name.startsWith("sc_")).every(s => s.labels.nodeID === nodeID && s.labels.namespace === broker.namespace)).toBe(true);

		// --- log lines ---
		const find = (message: string, pred: (l: CapturedLine) => boolean = () => true) => lines.filter(l => l.message === message && pred(l));
		expect(find("Added crawl to Redis", l => l.data.crawlid === crawlid).map(l => l.level)).toEqual(["info"]);
		const scraped = find("Scraped page", l => l.data.crawlid === crawlid);
		expect(scraped).toHaveLength(expected.length);
		expect(new Set(scraped.map(l => l.level))).toEqual(new Set(["debug"]));
		expect(find("Unparseable JSON Received").map(l => l.level)).toEqual(["warn"]);

		// --- stats dumps: the crawler's own counts, throttle and queue backlog; the cluster's from the stats service ---
		const crawlerDump = await eventually(() => {
			const all = find("crawler stats dump");
			const last = all[all.length - 1];
			const done = (last?.data.crawl as { crawled?: number } | undefined)?.crawled === expected.length;
			return done && (last?.data.queue as { total_backlog?: number } | undefined)?.total_backlog === 1 ? last : undefined;
		}, 5000);
		expect(crawlerDump?.level).toBe("info");
		expect(crawlerDump?.data.crawl).toMatchObject({ crawled: expected.length, status_codes: { "200": expected.length } });
		expect((crawlerDump?.data.crawl as { throttled: number }).throttled).toBeGreaterThan(0);
		expect(crawlerDump?.data.queue).toEqual({ total_backlog: 1, spiders: { link: { backlog: 1, domains: 1, top: { localhost: 1 } } } });
		expect(crawlerDump?.data.stats).toBeDefined();
		// (the Redis stats counter of a page is written just after the page is published: wait for the last one)
		const lifetime200 = (l: CapturedLine) => (l.data.crawl as { spiders?: { link?: { "200"?: { lifetime?: number } } } } | undefined)?.spiders?.link?.["200"]?.lifetime;
		const monitorDump = await eventually(
			() => find("redis-monitor stats dump").find(l => (l.data.queue as { total_backlog?: number } | undefined)?.total_backlog === 1 && lifetime200(l) === expected.length),
			5000
		);
		expect(monitorDump?.data.queue).toEqual({ total_backlog: 1, spiders: { link: { backlog: 1, domains: 1, top: { localhost: 1 } } } });
		expect(monitorDump?.data.crawl).toMatchObject({ spiders: { link: { "200": { lifetime: expected.length } } } });

		// --- the status line's numbers, from crawler.status and the registry ---
		const status = await collectClusterStatus(broker);
		expect(status).toEqual({ nodes: 1, crawlers: 1, pages: expected.length, inFlight: 0, backlog: 1, domains: 1 });

		// the blacklist lifted: one INFO line saying so
		await writeDoc("blacklist: []\n");
		const lifted = await eventually(() => find("Crawler configuration from ZooKeeper applied").find(l => JSON.stringify(l.data.changes) === JSON.stringify([{ change: "unblacklisted", domain: "localhost" }])), 10000);
		expect(lifted?.level).toBe("info");
	}, 90000);

	it("a page that keeps failing: one INFO line per retry, one WARN line when given up, and the counters", async () => {
		const port = await freePort();
		// The wandering spider's queues: the link queues still hold the first test's crawl of localhost.
		const settings = testSettings({ ...base, SPIDERS: ["wandering"], METRICS_PORT: port, METRICS_HOST: "127.0.0.1", RETRY_TIMES: 1, QUEUE_HITS: 10, QUEUE_WINDOW: 1 });
		const { logger, lines } = captureLogger();
		const nodeID = uniqueName("op-fail");
		const broker = testBroker(settings, { nodeID, logger, metrics: brokerOptions(settings).metrics });
		broker.createService(IngestService);
		broker.createService(CrawlerService);
		brokers.push(broker);
		await broker.start();
		const crawlid = uniqueName("op-fail");
		await feed({ url: `${site.origin}/fail`, appid: "testapp", crawlid, maxdepth: 0, spiderid: "wandering" });
		expect(await eventually(() => pages.some(p => p.crawlid === crawlid), 30000)).toBe(true);
		expect(pages.filter(p => p.crawlid === crawlid).map(p => p.status_code)).toEqual([500]);
		const of = (message: string) => lines.filter(l => l.message === message && l.data.crawlid === crawlid).map(l => [l.level, l.data.retry_times, l.data.reason]);
		expect(of("Scraper Retry")).toEqual([["info", 1, "HTTP 500"]]);
		expect(of("Gave up retrying")).toEqual([["warn", 1, "HTTP 500"]]);
		const samples = parseMetrics(await (await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { connection: "close" } })).text());
		const node = { nodeID, spider: "wandering" };
		expect(value(samples, "sc_crawl_retries_total", node)).toBe(1);
		expect(value(samples, "sc_crawl_given_up_total", node)).toBe(1);
		expect(value(samples, "sc_pages_crawled_total", { ...node, status: "500" })).toBe(1);
		expect(value(samples, "sc_fetch_duration_seconds_count", node)).toBe(2);
	}, 60000);

	it("without STATS_DUMP_CRAWL and STATS_DUMP_QUEUE the dumps hold only the counters", async () => {
		const settings = testSettings({ ...base, SPIDERS: ["wandering"], STATS_DUMP: 1, STATS_DUMP_CRAWL: false, STATS_DUMP_QUEUE: false });
		const { logger, lines } = captureLogger();
		const broker = testBroker(settings, { logger });
		broker.createService(CrawlerService);
		broker.createService(StatsService);
		brokers.push(broker);
		await broker.start();
		const crawler = await eventually(() => lines.find(l => l.message === "crawler stats dump"), 5000);
		const monitor = await eventually(() => lines.find(l => l.message === "redis-monitor stats dump"), 5000);
		for (const dump of [crawler, monitor]) {
			expect(dump?.level).toBe("info");
			expect(Object.keys(dump?.data ?? {})).toEqual(["stats"]);
		}
	}, 30000);

	it("with STATS_DUMP=0 there is no dump at all", async () => {
		const settings = testSettings({ ...base, SPIDERS: ["wandering"], STATS_DUMP: 0 });
		const { logger, lines } = captureLogger();
		const broker = testBroker(settings, { logger });
		broker.createService(CrawlerService);
		brokers.push(broker);
		await broker.start();
		await new Promise(r => setTimeout(r, 2500));
		expect(lines.filter(l => /stats dump/.test(l.message))).toEqual([]);
	}, 30000);

	it("Redis connection lost and regained: one WARN line, then one INFO line", async () => {
		// A TCP proxy in front of Redis that can drop every connection and refuse new ones for a while.
		const sockets = new Set<Socket>();
		let refusing = false;
		const proxy: Server = createServer(client => {
			if (refusing) return client.destroy();
			const upstream = new Socket();
			upstream.connect(base.REDIS_PORT, base.REDIS_HOST);
			client.pipe(upstream).pipe(client);
			for (const s of [client, upstream]) {
				sockets.add(s);
				s.on("error", () => undefined);
				s.on("close", () => sockets.delete(s));
			}
		});
		await new Promise<void>(resolve => proxy.listen(0, "127.0.0.1", resolve));
		const proxyPort = (proxy.address() as AddressInfo).port;
		try {
			const { logger, lines } = captureLogger();
			const broker = testBroker(testSettings({ ...base, REDIS_HOST: "127.0.0.1", REDIS_PORT: proxyPort }), { logger });
			const probe = broker.createService({ name: "probe", mixins: [RedisMixin()] }) as unknown as { redis: import("ioredis").Redis };
			brokers.push(broker);
			await broker.start();
			expect(await probe.redis.ping()).toBe("PONG");
			refusing = true;
			for (const s of sockets) s.destroy();
			const lost = await eventually(() => lines.filter(l => l.message === "Redis connection lost, reconnecting").length > 0, 5000);
			expect(lost).toBe(true);
			await new Promise(r => setTimeout(r, 800));
			refusing = false;
			expect(await eventually(() => lines.some(l => l.message === "Redis connection regained"), 10000)).toBe(true);
			expect(await probe.redis.ping()).toBe("PONG");
			const relevant = lines.filter(l => /^Redis connection/.test(l.message));
			// several failed reconnects while away, still a single "lost" line
			expect(relevant.map(l => `${l.level} ${l.message}`)).toEqual(["warn Redis connection lost, reconnecting", "info Redis connection regained"]);
			// a deliberate stop is no lost connection
			await broker.stop();
			brokers.splice(brokers.indexOf(broker), 1);
			expect(lines.filter(l => /^Redis connection/.test(l.message))).toHaveLength(2);
		} finally {
			for (const s of sockets) s.destroy();
			await new Promise(resolve => proxy.close(resolve));
		}
	}, 30000);

	it("a node prints a status line every STATUS_INTERVAL seconds (forced with --status when stdout is no terminal)", async () => {
		const env = {
			...process.env,
			NODE_ID: uniqueName("op-status"),
			SERVICES: "crawler",
			// its own spider type, so it leaves the link queues of this file alone
			SPIDERS: "wandering",
			REDIS_DB: String(CRAWL_TEST_DBS.operator),
			STATUS_INTERVAL: "1",
			STATS_DUMP: "0",
			SCHEDULER_IP_ENABLED: "false",
			LOG_LEVEL: "INFO"
		};
		const child = spawn(NODE, ["bin/node.ts", "--no-repl", "--status"], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
		let out = "";
		child.stdout.on("data", d => (out += String(d)));
		try {
			const line = /^\[status\] \d+\.\d pages\/s \| 0 pages \| backlog 0 in 0 domains \| 1 node, 1 crawling, 0 fetches in flight$/m;
			expect(await eventually(() => line.test(out), 30000)).toBe(true);
		} finally {
			await stopChild(child);
		}
		// without a terminal and without --status: no status lines
		const quiet = spawn(NODE, ["bin/node.ts", "--no-repl"], { cwd: ROOT, env: { ...env, NODE_ID: uniqueName("op-quiet") }, stdio: ["ignore", "pipe", "pipe"] });
		let quietOut = "";
		quiet.stdout.on("data", d => (quietOut += String(d)));
		try {
			expect(await eventually(() => /is up/.test(quietOut), 30000)).toBe(true);
			await new Promise(r => setTimeout(r, 2500));
			expect(quietOut).not.toContain("[status]");
		} finally {
			await stopChild(quiet);
		}
	}, 90000);
});
