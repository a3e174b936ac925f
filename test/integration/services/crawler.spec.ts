/**
 * The crawler service crawling real HTTP sites on loopback through real Redis, ZooKeeper and Kafka:
 * exact page sets per maxdepth, no page fetched twice, the throttle held by two crawlers together,
 * live ZooKeeper changes, retries and robots.txt.
 */
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { resolve } from "node:path";
import type { Redis } from "ioredis";
import type { ServiceBroker } from "moleculer";
import type { Settings } from "../../../config/index.ts";
import { KafkaClient } from "../../../lib/kafka/client.ts";
import { ZookeeperSession } from "../../../lib/zookeeper/client.ts";
import { RedisMixin } from "../../../mixins/redis.mixin.ts";
import CrawlerService from "../../../services/crawler.service.ts";
import IngestService from "../../../services/ingest.service.ts";
import { startSite, type TestSite } from "../../support/site.ts";
import { collectTopics, CRAWL_TEST_DBS, eventually, feedTo, prefixedSettings, stopChild, testBroker, testSettings, uniqueName } from "../../support/cluster.ts";

const ROOT = resolve(__dirname, "../../..");
const NODE = resolve(ROOT, "node_modules/.bin/node");

const quietLog = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined };

interface Page {
	url: string;
	response_url: string;
	status_code: number;
	crawlid: string;
	appid: string;
	links: Array<{ url: string; text: string }>;
	body: string;
	attrs: unknown;
	[k: string]: unknown;
}

describe("crawler service", () => {
	const brokers: ServiceBroker[] = [];
	let site: TestSite;
	let kafka: KafkaClient;
	let redis: Redis;
	let admin: ServiceBroker;
	let zk: ZookeeperSession;
	const zkRoot = `/it-crawler-${uniqueName("zk")}`;
	const pages: Page[] = [];
	let base: Settings;
	let firehose: string;
	let stopReader: (() => Promise<void>) | null = null;

	async function startNode(services: Array<"crawler" | "ingest">, overrides: Record<string, unknown> = {}) {
		const broker = testBroker(testSettings({ ...base, ...overrides }));
		if (services.includes("ingest")) broker.createService(IngestService);
		if (services.includes("crawler")) broker.createService(CrawlerService);
		brokers.push(broker);
		await broker.start();
		return broker;
	}

	const feed = (request: object) => feedTo(kafka, base, request);
	const pagesOf = (crawlid: string) => pages.filter(p => p.crawlid === crawlid);

	/** Environment of a crawler node process on this test's topics and ZooKeeper path. */
	const processEnv = (name: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
		...process.env,
		// Only the crawler runs in these processes: a killed ingest would hold its incoming
		// partitions until its Kafka session times out and delay the tests after this one.
		SERVICES: "crawler",
		NODE_ID: uniqueName(name),
		REDIS_DB: String(base.REDIS_DB),
		KAFKA_TOPIC_PREFIX: base.KAFKA_TOPIC_PREFIX,
		KAFKA_INCOMING_TOPIC: base.KAFKA_INCOMING_TOPIC,
		KAFKA_GROUP: base.KAFKA_GROUP,
		ZOOKEEPER_ASSIGN_PATH: base.ZOOKEEPER_ASSIGN_PATH,
		QUEUE_HITS: "4",
		QUEUE_WINDOW: "1",
		QUEUE_MODERATED: "false",
		SCHEDULER_QUEUE_REFRESH: "1",
		REQUEST_LEASE_TIMEOUT: "2",
		SCHEDULER_IP_ENABLED: "false",
		STATS_DUMP: "0",
		LOG_LEVEL: "ERROR",
		...extra
	});


	beforeAll(async () => {
		site = await startSite({ fanout: 3, depth: 3 });
		const prefix = uniqueName("it").replace(/[-]/g, "_");
		base = prefixedSettings(prefix, {
			REDIS_DB: CRAWL_TEST_DBS.crawler,
			KAFKA_PRODUCER_BATCH_LINGER_MS: 5,
			ZOOKEEPER_ASSIGN_PATH: `${zkRoot}/crawler/`,
			SPIDERS: ["link", "wandering"],
			QUEUE_HITS: 1000,
			QUEUE_WINDOW: 1,
			QUEUE_MODERATED: false,
			SCHEDULER_QUEUE_REFRESH: 1,
			DOWNLOAD_TIMEOUT: 3,
			RETRY_TIMES: 2,
			CONCURRENT_REQUESTS: 8
		});
		firehose = `${prefix}.crawled_firehose`;
		kafka = new KafkaClient(base, "it-crawler-reader", quietLog);
		stopReader = await collectTopics(kafka, { [firehose]: pages });
		admin = testBroker(base);
		const probe = admin.createService({ name: "probe", mixins: [RedisMixin()] }) as unknown as { redis: Redis };
		await admin.start();
		redis = probe.redis;
		zk = new ZookeeperSession(base, quietLog);
		await zk.connect(10000);
	});

	afterEach(async () => {
		await Promise.all(brokers.splice(0).map(b => b.stop()));
	});

	afterAll(async () => {
		await stopReader?.();
		await kafka.close();
		await admin.stop();
		for (const p of [`${zkRoot}/crawler/all`, `${zkRoot}/crawler`, zkRoot]) await zk.remove(p);
		zk.close();
		await site.close();
	});

	it.each([0, 1, 2])("crawls exactly the pages within maxdepth %i, each once, and publishes each with the original's fields", async maxdepth => {
		await startNode(["ingest", "crawler"]);
		const crawlid = uniqueName(`depth${maxdepth}`);
		const hitsBefore = new Map(site.hits);
		await feed({ url: `${site.origin}/`, appid: "testapp", crawlid, maxdepth, allowed_domains: ["127.0.0.1"] });
		const expected = site.expectedPages(maxdepth).sort();
		await eventually(() => pagesOf(crawlid).length >= expected.length, 30000);
		await new Promise(r => setTimeout(r, 500));
		const got = pagesOf(crawlid);
		expect(got.map(p => p.url).sort()).toEqual(expected);
		// no page fetched twice for one crawl
		for (const url of expected) {
			const path = new URL(url).pathname;
			expect((site.hits.get(path) ?? 0) - (hitsBefore.get(path) ?? 0)).toBe(1);
		}
		const root = got.find(p => p.url === `${site.origin}/`)!;
		expect(Object.keys(root).sort()).toEqual(
			["appid", "attrs", "body", "crawlid", "encoding", "links", "request_headers", "response_headers", "response_url", "status_code", "status_msg", "timestamp", "url"].sort()
		);
		expect(root).toMatchObject({ appid: "testapp", status_code: 200, status_msg: "OK", response_url: `${site.origin}/`, attrs: null, encoding: "utf-8" });
		expect(root.body).toContain("<html");
		if (maxdepth > 0) expect(root.links.map(l => l.url)).toEqual(expect.arrayContaining(site.expectedPages(1).filter(u => u !== `${site.origin}/`)));
		else expect(root.links).toEqual([]);
	});

	it("two crawler processes together never exceed the domain throttle from ZooKeeper, and apply changes live", async () => {
		const path = `${zkRoot}/crawler/all`;
		const doc = (hits: number) => Buffer.from(`blacklist: []\ndomains:\n  127.0.0.1:\n    window: 2\n    hits: ${hits}\n`);
		const existing = await zk.getData(path);
		await zk.setDataIfVersion(path, doc(4), existing.version);
		await startNode(["ingest"]);
		const fast = { QUEUE_HITS: "1000", QUEUE_WINDOW: "1", REQUEST_LEASE_TIMEOUT: "30" };
		const crawlers = [spawn(NODE, ["bin/node.ts", "--no-repl"], { cwd: ROOT, env: processEnv("throttle-a", fast), stdio: "ignore" }), spawn(NODE, ["bin/node.ts", "--no-repl"], { cwd: ROOT, env: processEnv("throttle-b", fast), stdio: "ignore" })];
		try {
			await new Promise(r => setTimeout(r, 3000));
			const crawlid = uniqueName("throttle");
			const started = Date.now();
			await feed({ url: `${site.origin}/`, appid: "testapp", crawlid, maxdepth: 2, allowed_domains: ["127.0.0.1"] });
			const expected = site.expectedPages(2).length;
			await eventually(() => pagesOf(crawlid).length >= 8, 30000);
			// hits per 2-second window, cluster-wide: never more than 4. Timed where the fetches reach the site (a
			// hit is taken when a request is popped, and a fetch starts right after), leaving out the seed: its
			// fetch waits for the domain's robots.txt first.
			const times = site.arrivals.filter(a => a.at >= started && a.target !== "/robots.txt" && a.target !== "/").map(a => a.at);
			expect(times.length).toBeGreaterThanOrEqual(7);
			for (let i = 0; i + 4 < times.length; i++) expect(times[i + 4]! - times[i]!).toBeGreaterThanOrEqual(2000 - 150);
			// raise the limit live: the rest comes quickly
			const now = await zk.getData(path);
			await zk.setDataIfVersion(path, doc(1000), now.version);
			await eventually(() => pagesOf(crawlid).length >= expected, 30000);
			expect(pagesOf(crawlid)).toHaveLength(expected);
			console.log(`throttle: ${expected} pages by 2 crawler processes in ${Date.now() - started} ms with 4 hits / 2 s, then raised live`);
		} finally {
			await Promise.all(crawlers.map(c => stopChild(c)));
		}
	});

	it("retries failing pages with lower priority, then gives up and publishes the last answer", async () => {
		await startNode(["ingest", "crawler"]);
		const crawlid = uniqueName("retry");
		const failBefore = site.hits.get("/fail") ?? 0;
		await feed({ url: `${site.origin}/fail`, appid: "testapp", crawlid });
		await feed({ url: `${site.origin}/flaky`, appid: "testapp", crawlid });
		await eventually(() => pagesOf(crawlid).length >= 2, 30000);
		const byUrl = Object.fromEntries(pagesOf(crawlid).map(p => [new URL(p.url).pathname, p.status_code]));
		expect(byUrl).toEqual({ "/fail": 500, "/flaky": 200 });
		expect((site.hits.get("/fail") ?? 0) - failBefore).toBe(3); // first try + RETRY_TIMES (2)
	});

	it("obeys robots.txt", async () => {
		const robotsSite = await startSite({ fanout: 2, depth: 1, robots: "User-agent: *\nDisallow: /d1/p0\n" });
		try {
			await startNode(["ingest", "crawler"]);
			const crawlid = uniqueName("robots");
			await feed({ url: `${robotsSite.origin}/`, appid: "testapp", crawlid, maxdepth: 1, allowed_domains: ["127.0.0.1"] });
			await eventually(() => pagesOf(crawlid).length >= 2, 30000);
			await new Promise(r => setTimeout(r, 1000));
			expect(pagesOf(crawlid).map(p => new URL(p.url).pathname).sort()).toEqual(["/", "/d1/p1"]);
			expect(robotsSite.hits.get("/d1/p0") ?? 0).toBe(0);
			expect(robotsSite.hits.get("/robots.txt")).toBe(1);
		} finally {
			await robotsSite.close();
		}
	});

	it("keeps requests of a ZooKeeper-blacklisted domain queued without crawling them", async () => {
		const path = `${zkRoot}/crawler/all`;
		const existing = await zk.getData(path);
		await zk.setDataIfVersion(path, Buffer.from("blacklist:\n- 127.0.0.1\n"), existing.version);
		const node = await startNode(["ingest", "crawler"]);
		await eventually(async () => ((await node.call("crawler.status")) as { blacklist: string[] }).blacklist.includes("127.0.0.1"), 10000);
		const crawlid = uniqueName("black");
		await feed({ url: `${site.origin}/d1/p1`, appid: "testapp", crawlid, spiderid: "link" });
		await eventually(async () => (await redis.zcard("link:127.0.0.1:queue")) > 0, 10000);
		await new Promise(r => setTimeout(r, 1500));
		expect(pagesOf(crawlid)).toHaveLength(0);
		const now = await zk.getData(path);
		await zk.setDataIfVersion(path, Buffer.from("blacklist: []\n"), now.version);
		expect(await eventually(() => pagesOf(crawlid).length === 1, 20000)).toBe(true);
	});

	it("loses no request when a crawler process is killed with SIGKILL mid-crawl", async () => {
		const killSite = await startSite({ fanout: 4, depth: 2 });
		await startNode(["ingest"]);
		const first = spawn(NODE, ["bin/node.ts", "--no-repl"], { cwd: ROOT, env: processEnv("crawler-a"), stdio: "ignore" });
		let second: ReturnType<typeof spawn> | null = null;
		try {
			const crawlid = uniqueName("sigkill");
			const expected = killSite.expectedPages(2).sort();
			await new Promise(r => setTimeout(r, 3000));
			await feed({ url: `${killSite.origin}/`, appid: "testapp", crawlid, maxdepth: 2, allowed_domains: ["127.0.0.1"] });
			expect(await eventually(() => pagesOf(crawlid).length >= 6, 30000)).toBe(true);
			first.kill("SIGKILL");
			await new Promise(r => first.once("exit", r));
			const deliveredBeforeKill = pagesOf(crawlid).length;
			second = spawn(NODE, ["bin/node.ts", "--no-repl"], { cwd: ROOT, env: processEnv("crawler-b"), stdio: "ignore" });
			await eventually(() => new Set(pagesOf(crawlid).map(p => p.url)).size >= expected.length, 60000);
			const urls = pagesOf(crawlid).map(p => p.url);
			console.log(`SIGKILL mid-crawl: ${expected.length} pages expected, ${deliveredBeforeKill} delivered before the kill, ${new Set(urls).size} distinct delivered in the end, ${urls.length - new Set(urls).size} duplicated`);
			expect([...new Set(urls)].sort()).toEqual(expected);
		} finally {
			await stopChild(first, "SIGKILL");
			if (second) await stopChild(second);
			await killSite.close();
		}
	});

	it("publishes redirected, malformed and slow pages sensibly, per-appid topics when asked, and counts status codes", async () => {
		const node = await startNode(["ingest", "crawler"], { KAFKA_APPID_TOPICS: true, DOWNLOAD_TIMEOUT: 1, RETRY_TIMES: 0 });
		const crawlid = uniqueName("misc");
		const appTopic = `${base.KAFKA_TOPIC_PREFIX}.crawled_miscapp`;
		for (const path of ["/redirect", "/malformed", "/slow", "/links-bomb"]) await feed({ url: `${site.origin}${path}`, appid: "miscapp", crawlid, maxdepth: 1, allowed_domains: ["127.0.0.1"] });
		await eventually(() => pagesOf(crawlid).filter(p => ["/redirect", "/malformed", "/links-bomb"].includes(new URL(p.url).pathname)).length >= 3, 60000);
		const byPath = new Map(pagesOf(crawlid).map(p => [new URL(p.url).pathname, p]));
		// redirects are followed: url is what was asked, response_url where it ended
		expect(byPath.get("/redirect")).toMatchObject({ status_code: 200, response_url: `${site.origin}/` });
		// malformed HTML with a windows-1252 meta charset: decoded, links still found
		const malformed = byPath.get("/malformed")!;
		expect(malformed.encoding).toBe("windows-1252");
		expect(malformed.body).toContain("café");
		expect(malformed.links.length).toBeGreaterThan(0);
		expect(byPath.get("/links-bomb")!.links.length).toBeGreaterThan(1000);
		// /slow answers after DOWNLOAD_TIMEOUT: given up (RETRY_TIMES 0), never published, the crawler keeps going
		await new Promise(r => setTimeout(r, 1500));
		expect(byPath.has("/slow")).toBe(false);
		const status = (await node.call("crawler.status")) as { counts: { failed: number; crawled: number } };
		expect(status.counts.failed).toBeGreaterThanOrEqual(1);
		// the per-appid topic got the same pages
		const reader = new KafkaClient(base, "it-app-reader", quietLog);
		try {
			const seen: string[] = [];
			const h = await reader.consume({ groupId: uniqueName("it-app"), topics: [appTopic], fromBeginning: true, onMessage: async m => void seen.push(m.value!.toString()) });
			await eventually(() => seen.length >= 3, 20000);
			await h.stop();
			expect(seen.every(v => (JSON.parse(v) as Page).appid === "miscapp")).toBe(true);
		} finally {
			await reader.close();
		}
		// response codes counted per host and spider, and a heartbeat per spider type
		const codes = await redis.keys("stats:crawler:*:link:200:900");
		expect(codes.length).toBeGreaterThan(0);
		expect(await redis.zcard(codes[0]!)).toBeGreaterThan(0);
		expect((await redis.keys("stats:crawler:*:link:504:lifetime")).length).toBeGreaterThan(0);
		expect((await redis.keys("stats:crawler:*:wandering:*")).some(k => /^stats:crawler:[^:]+:wandering:[0-9a-f]{12}$/.test(k))).toBe(true);
	});

	it("stops a crawl at domain_max_pages pages of a domain, as the newest original", async () => {
		await startNode(["ingest", "crawler"]);
		const crawlid = uniqueName("maxpages");
		await feed({ url: `${site.origin}/`, appid: "testapp", crawlid, maxdepth: 2, domain_max_pages: 4, allowed_domains: ["127.0.0.1"] });
		// generous bound: requests left queued by earlier tests of this file share the site's throttle
		await eventually(() => pagesOf(crawlid).length >= 4, 60000);
		await new Promise(r => setTimeout(r, 1500));
		expect(pagesOf(crawlid)).toHaveLength(4);
	});

	it("spaces requests to a site by its robots.txt Crawl-delay", async () => {
		const slowSite = await startSite({ fanout: 3, depth: 1, robots: "User-agent: *\nCrawl-delay: 1\n" });
		try {
			await startNode(["ingest", "crawler"]);
			const crawlid = uniqueName("delay");
			await feed({ url: `${slowSite.origin}/`, appid: "testapp", crawlid, maxdepth: 1, allowed_domains: ["127.0.0.1"] });
			await eventually(() => pagesOf(crawlid).length >= 4, 30000);
			const times = pagesOf(crawlid).map(p => Date.parse(`${p.timestamp as string}Z`)).sort((a, b) => a - b);
			// the first page is fetched before robots.txt is known; after it, one page per second at most
			for (let i = 2; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(1000 - 150);
		} finally {
			await slowSite.close();
		}
	});

	it("wandering spider: follows one link per page and counts its steps in attrs.step", async () => {
		// a chain of pages with one link each, so the walk is known: /w0 -> /w1 -> /w2 -> /w3 (no links)
		const chain = createServer((req, res) => {
			const n = Number(/^\/w(\d)$/.exec(req.url ?? "")?.[1] ?? -1);
			res.writeHead(n < 0 ? 404 : 200, { "Content-Type": "text/html" });
			res.end(n >= 0 && n < 3 ? `<html><body><a href="/w${n + 1}">next</a></body></html>` : "<html><body>end</body></html>");
		});
		await new Promise<void>(r => chain.listen(0, "127.0.0.1", () => r()));
		const origin = `http://127.0.0.1:${(chain.address() as AddressInfo).port}`;
		try {
			await startNode(["ingest", "crawler"]);
			const crawlid = uniqueName("wander");
			await feed({ url: `${origin}/w0`, appid: "testapp", crawlid, spiderid: "wandering", attrs: { who: "it" } });
			await eventually(() => pagesOf(crawlid).length >= 4, 20000);
			await new Promise(r => setTimeout(r, 1000));
			const walk = pagesOf(crawlid);
			expect(walk.map(p => [new URL(p.url).pathname, (p.attrs as { step: number }).step])).toEqual([
				["/w0", 1],
				["/w1", 2],
				["/w2", 3],
				["/w3", 4]
			]);
			expect(walk.every(p => (p.attrs as { who: string }).who === "it" && p.links.length === 0)).toBe(true);
		} finally {
			chain.closeAllConnections();
			await new Promise(r => chain.close(r));
		}
	});

	it("survives misbehaving pages (endless redirects, huge and compressed-bomb bodies, drips, link bombs) in bounded time and memory", async () => {
		const node = await startNode(["ingest", "crawler"], { DOWNLOAD_TIMEOUT: 2, DOWNLOAD_MAXSIZE: 1024 * 1024, RETRY_TIMES: 0, REDIRECT_MAX_TIMES: 5 });
		const crawlid = uniqueName("bad");
		const rssBefore = process.memoryUsage().rss;
		const started = Date.now();
		for (const path of ["/redirect-loop", "/huge", "/gzip-bomb", "/drip", "/links-bomb", "/d1/p1"]) await feed({ url: `${site.origin}${path}`, appid: "testapp", crawlid });
		await eventually(() => pagesOf(crawlid).some(p => p.url === `${site.origin}/d1/p1`), 30000);
		await eventually(() => pagesOf(crawlid).length >= 4, 15000);
		await new Promise(r => setTimeout(r, 500));
		const byPath = new Map(pagesOf(crawlid).map(p => [new URL(p.url).pathname, p]));
		// huge bodies are cut at DOWNLOAD_MAXSIZE (decoded) and to fit a Kafka message; the crawler keeps going
		for (const path of ["/huge", "/gzip-bomb", "/links-bomb"]) expect(byPath.has(path)).toBe(true);
		expect(Buffer.byteLength(String(byPath.get("/huge")!.body))).toBeLessThanOrEqual(1024 * 1024);
		expect(Buffer.byteLength(String(byPath.get("/gzip-bomb")!.body))).toBeLessThanOrEqual(1024 * 1024);
		// endless redirects and a drip past DOWNLOAD_TIMEOUT are given up, not published
		await new Promise(r => setTimeout(r, 3000));
		expect(byPath.has("/redirect-loop")).toBe(false);
		expect(pagesOf(crawlid).some(p => p.url === `${site.origin}/drip`)).toBe(false);
		const status = (await node.call("crawler.status")) as { counts: { failed: number }; in_flight: number };
		expect(status.counts.failed).toBeGreaterThanOrEqual(2);
		const grownMb = (process.memoryUsage().rss - rssBefore) / 1024 / 1024;
		console.log(`misbehaving pages: done in ${Date.now() - started} ms, published ${[...byPath.keys()].sort().join(" ")}, ${status.counts.failed} given up, memory grew ${grownMb.toFixed(0)} MB`);
		expect(grownMb).toBeLessThan(300);
	});
});
