/**
 * The crawler's live configuration against the real data stack: ZooKeeper going away (a private
 * ZooKeeper server this file starts and stops) and a session expiring, a malformed document, the public
 * IP in the throttle keys, SCHEDULER_QUEUE_TIMEOUT and SCHEDULER_BACKLOG_BLACKLIST.
 *
 * Crawlers take requests from every queue of their spider types, so this file has a Redis database of
 * its own (CRAWL_TEST_DBS.crawlerConfig): crawler.spec.ts running at the same time never takes its
 * requests, nor it theirs. Two sites on 127.0.0.1, one reached as http://127.0.0.1:PORT and the other as
 * http://localhost:PORT2: two domains for the crawler (ports do not count).
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Redis } from "ioredis";
import type { ServiceBroker } from "moleculer";
import type { SettingName, Settings } from "../../../config/index.ts";
import { requestFingerprint } from "../../../lib/crawl/canonical.ts";
import { dupefilterKey, queueRegistryKey } from "../../../lib/frontier/keys.ts";
import { KafkaClient } from "../../../lib/kafka/client.ts";
import { ZookeeperSession } from "../../../lib/zookeeper/client.ts";
import { RedisMixin } from "../../../mixins/redis.mixin.ts";
import CrawlerService from "../../../services/crawler.service.ts";
import IngestService from "../../../services/ingest.service.ts";
import { captureLogger, collectTopics, CRAWL_TEST_DBS, eventually, feedTo, prefixedSettings, testBroker, testSettings, uniqueName, type CapturedLine } from "../../support/cluster.ts";
import { freePort, startZkServer, type ZkServer } from "../../support/zk-server.ts";

const quietLog = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined };
const sleep = (ms: number) => new Promise<void>(resolve => setTimeout(resolve, ms));

/** The IP the loopback "what is my IP" service answers. */
const FAKE_PUBLIC_IP = "10.9.8.7";
/** Domains of the two sites. */
const LOOPBACK = "127.0.0.1";
const LOCALHOST = "localhost";

const APPLIED = "Crawler configuration from ZooKeeper applied";
const BAD_CONFIG = "Bad crawler configuration in ZooKeeper, keeping the last good one";
const CONNECTION_LOST = "ZooKeeper connection lost, reconnecting";
const SESSION_EXPIRED = "ZooKeeper session expired, opening a new one";

interface Page {
	url: string;
	crawlid: string;
	status_code: number;
	links: Array<{ url: string; text: string }>;
	[k: string]: unknown;
}

interface Status {
	public_ip: string | null;
	blacklist: string[];
	domains: string[];
	counts: { crawled: number; dropped: number; queued: number };
	queues: Array<{ queue: string; waiting_s: number; throttle: { key: string; window: number; limit: number; moderated: boolean } }>;
}

interface Loopback {
	port: number;
	hits: Map<string, number>;
	close(): Promise<void>;
}

/** An HTTP server on 127.0.0.1 (random port) counting requests by path. */
async function startLoopback(handle: (path: string, req: IncomingMessage, res: ServerResponse) => void): Promise<Loopback> {
	const hits = new Map<string, number>();
	const server = createServer((req, res) => {
		const path = req.url ?? "/";
		hits.set(path, (hits.get(path) ?? 0) + 1);
		handle(path, req, res);
	});
	await new Promise<void>(resolve => server.listen(0, "127.0.0.1", () => resolve()));
	return {
		port: (server.address() as AddressInfo).port,
		hits,
		close: async () => {
			server.closeAllConnections();
			await new Promise(resolve => server.close(resolve));
		}
	};
}

function html(res: ServerResponse, body: string): void {
	res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
	res.end(`<html><head><title>t</title></head><body>${body}</body></html>`);
}

describe("crawler configuration: ZooKeeper away, malformed documents, public IP, queue timeout, blacklist backlog", () => {
	const brokers: ServiceBroker[] = [];
	const zkRoot = `/it-crawler-config-${uniqueName("zk")}`;
	const pages: Page[] = [];
	let base: Settings;
	let kafka: KafkaClient;
	let redis: Redis;
	let admin: ServiceBroker;
	let ingest: ServiceBroker;
	let zk: ZookeeperSession;
	let stopReader: (() => Promise<void>) | null = null;
	let privateZk: ZkServer | null = null;
	/** Site reached as http://127.0.0.1:PORT (domain 127.0.0.1). */
	let site: Loopback;
	/** Site reached as http://localhost:PORT (domain localhost). */
	let local: Loopback;
	let ipService: Loopback;
	let siteOrigin: string;
	let localOrigin: string;

	/** A crawler node (link spider) on this file's topics and database; its log lines are captured. */
	async function startCrawler(overrides: Partial<Record<SettingName, unknown>> = {}) {
		const { logger, lines } = captureLogger();
		const broker = testBroker(testSettings({ ...base, ...overrides }), { logger });
		broker.createService(CrawlerService);
		brokers.push(broker);
		await broker.start();
		return { broker, lines, status: async () => (await broker.call("crawler.status")) as Status };
	}

	async function stopBroker(broker: ServiceBroker) {
		brokers.splice(brokers.indexOf(broker), 1);
		await broker.stop();
	}

	const feed = (request: Record<string, unknown>) => feedTo(kafka, base, { appid: "testapp", ...request });
	const pagesOf = (crawlid: string) => pages.filter(p => p.crawlid === crawlid);
	const crawled = (crawlid: string, url: string) => pagesOf(crawlid).some(p => p.url === url);
	/** Is a request of this crawl in `link:<domain>:queue`? */
	const queued = async (domain: string, crawlid: string) => (await redis.zrange(`link:${domain}:queue`, 0, -1)).some(m => (JSON.parse(m) as { crawlid: string }).crawlid === crawlid);
	const count = (lines: CapturedLine[], message: string) => lines.filter(l => l.message === message).length;

	/** Write a document (create it when missing), retrying while the session reconnects; bounded. */
	async function writeDoc(session: ZookeeperSession, path: string, text: string): Promise<void> {
		const end = Date.now() + 20000;
		let last: unknown = null;
		while (Date.now() < end) {
			let timer: NodeJS.Timeout | undefined;
			try {
				const attempt = (async () => {
					const current = await session.getData(path);
					return session.setDataIfVersion(path, Buffer.from(text), current.version);
				})();
				attempt.catch(() => undefined);
				const done = await Promise.race([attempt, new Promise<"timeout">(resolve => (timer = setTimeout(() => resolve("timeout"), 3000)))]);
				if (done === true) return;
				last = done;
			} catch (err) {
				last = err;
			} finally {
				clearTimeout(timer);
			}
			await sleep(200);
		}
		throw new Error(`could not write ${path}: ${String(last)}`);
	}

	beforeAll(async () => {
		local = await startLoopback((path, _req, res) => {
			if (path.startsWith("/page/")) html(res, `<p>${path}</p>`);
			else res.writeHead(404).end();
		});
		localOrigin = `http://localhost:${local.port}`;
		// /parent/<name> links to a page of the other site (localhost) and to one of its own
		site = await startLoopback((path, _req, res) => {
			const parent = /^\/parent\/([\w-]+)$/.exec(path);
			if (parent) html(res, `<a href="${localOrigin}/page/${parent[1]}-child">child</a> <a href="/page/${parent[1]}-sibling">sibling</a>`);
			else if (path.startsWith("/page/")) html(res, `<p>${path}</p>`);
			else res.writeHead(404).end();
		});
		siteOrigin = `http://127.0.0.1:${site.port}`;
		ipService = await startLoopback((path, _req, res) => {
			res.writeHead(200, { "Content-Type": "text/plain" });
			res.end(`your ip is ${FAKE_PUBLIC_IP}\n`);
		});

		const prefix = uniqueName("itcfg").replace(/[-]/g, "_");
		base = prefixedSettings(prefix, {
			KAFKA_PRODUCER_BATCH_LINGER_MS: 5,
			REDIS_DB: CRAWL_TEST_DBS.crawlerConfig,
			ZOOKEEPER_ASSIGN_PATH: `${zkRoot}/crawler/`,
			SPIDERS: ["link"],
			QUEUE_HITS: 1000,
			QUEUE_WINDOW: 1,
			QUEUE_MODERATED: false,
			SCHEDULER_QUEUE_REFRESH: 1,
			DOWNLOAD_TIMEOUT: 3,
			RETRY_TIMES: 1,
			CONCURRENT_REQUESTS: 4
		});

		admin = testBroker(base);
		const probe = admin.createService({ name: "probe", mixins: [RedisMixin()] }) as unknown as { redis: Redis };
		await admin.start();
		redis = probe.redis;

		const firehose = `${prefix}.crawled_firehose`;
		kafka = new KafkaClient(base, "it-crawler-config-reader", quietLog);
		stopReader = await collectTopics(kafka, { [firehose]: pages });

		// One ingest node for the whole file: crawler nodes come and go, requests reach Redis the same way.
		ingest = testBroker(base);
		ingest.createService(IngestService);
		await ingest.start();
		await eventually(async () => ((await ingest.call("ingest.status")) as { consuming: boolean }).consuming, 30000);

		zk = new ZookeeperSession(base, quietLog);
		await zk.connect(10000);
	}, 60000);

	afterEach(async () => {
		await Promise.all(brokers.splice(0).map(b => b.stop()));
		if (privateZk) await privateZk.destroy();
		privateZk = null;
	});

	afterAll(async () => {
		await stopReader?.();
		await kafka?.close();
		await ingest?.stop();
		if (redis) {
			// Forget this file's queues in the registry when they are empty (as a crawler would).
			for (const domain of [LOCALHOST, LOOPBACK]) if ((await redis.exists(`link:${domain}:queue`)) === 0) await redis.srem(queueRegistryKey("link"), `link:${domain}:queue`);
		}
		await admin?.stop();
		if (zk) {
			for (const id of ["all", "malformed", "ip", "timeout", "backlog"]) await zk.remove(`${zkRoot}/crawler/${id}`);
			for (const p of [`${zkRoot}/crawler`, zkRoot]) await zk.remove(p);
			zk.close();
		}
		await Promise.all([site, local, ipService].filter(Boolean).map(s => s.close()));
	});

	it("keeps the last configuration while ZooKeeper is away, applies changes once it is back, and after its session expired", async () => {
		const zkServer = await startZkServer();
		privateZk = zkServer;
		const writer = new ZookeeperSession({ ZOOKEEPER_HOSTS: zkServer.hosts, ZOOKEEPER_SESSION_TIMEOUT: 10000 }, quietLog);
		try {
			expect(await writer.connect(10000)).toBe(true);
			const path = `${zkRoot}/crawler/all`;
			await writeDoc(writer, path, `blacklist:\n- ${LOCALHOST}\n`);
			const { lines, status } = await startCrawler({ ZOOKEEPER_HOSTS: zkServer.hosts, ZOOKEEPER_SESSION_TIMEOUT: 4000 });
			expect(await eventually(async () => (await status()).blacklist.includes(LOCALHOST), 10000)).toBe(true);

			const crawlid = uniqueName("zkaway");
			const held = `${localOrigin}/page/${crawlid}-held`;
			const other = `${siteOrigin}/page/${crawlid}-other`;
			await feed({ url: held, crawlid });
			expect(await eventually(() => queued(LOCALHOST, crawlid), 15000)).toBe(true);

			// ZooKeeper goes away for longer than the session timeout
			const down = Date.now();
			await zkServer.stop();
			expect(await eventually(() => count(lines, CONNECTION_LOST) > 0, 10000)).toBe(true);
			// the crawler keeps crawling the other domain, and keeps the blacklist
			await feed({ url: other, crawlid });
			expect(await eventually(() => crawled(crawlid, other), 20000)).toBe(true);
			await sleep(Math.max(0, 6000 - (Date.now() - down)));
			expect((await status()).blacklist).toEqual([LOCALHOST]);
			expect(local.hits.get(new URL(held).pathname) ?? 0).toBe(0);
			expect(await queued(LOCALHOST, crawlid)).toBe(true);

			// ZooKeeper is back: a change applies within seconds (the watch is armed again)
			await zkServer.start();
			const outageMs = Date.now() - down;
			const written = Date.now();
			await writeDoc(writer, path, "blacklist: []\n");
			expect(await eventually(async () => (await status()).blacklist.length === 0, 15000)).toBe(true);
			const applyAfterRestartMs = Date.now() - written;
			expect(applyAfterRestartMs).toBeLessThan(10000);
			expect(await eventually(() => crawled(crawlid, held), 20000)).toBe(true);
			// ZooKeeper restores sessions from its log with a fresh timeout: a server outage alone does not expire them
			const expiredByOutage = count(lines, SESSION_EXPIRED) > 0;

			// A session does expire when the client is silent that long while the server runs (a long pause
			// of the process): freeze this process (the crawler with it) for 6 s > the 4 s session timeout.
			const appliedBefore = count(lines, APPLIED);
			const expiredBefore = count(lines, SESSION_EXPIRED);
			Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 6000);
			expect(await eventually(() => count(lines, SESSION_EXPIRED) > expiredBefore, 15000)).toBe(true);
			// the new session reads the document again, then watches it: the next change applies
			expect(await eventually(() => count(lines, APPLIED) > appliedBefore, 15000)).toBe(true);
			const rewritten = Date.now();
			await writeDoc(writer, path, `blacklist:\n- ${LOCALHOST}\ndomains:\n  ${LOCALHOST}:\n    window: 2\n    hits: 3\n`);
			expect(await eventually(async () => (await status()).blacklist.includes(LOCALHOST), 15000)).toBe(true);
			const applyAfterExpiryMs = Date.now() - rewritten;
			const after = await status();
			expect(after.domains).toEqual([LOCALHOST]);
			console.log(
				`ZooKeeper away ${outageMs} ms: configuration kept; change applied ${applyAfterRestartMs} ms after the restart's write; ` +
					`session expired by the outage: ${expiredByOutage}; after a forced session expiry a change applied in ${applyAfterExpiryMs} ms`
			);
		} finally {
			writer.close();
		}
	}, 120000);

	it("logs a malformed ZooKeeper document and keeps the last good configuration", async () => {
		const path = `${zkRoot}/crawler/malformed`;
		await writeDoc(zk, path, `blacklist:\n- ${LOCALHOST}\ndomains:\n  ${LOOPBACK}:\n    window: 1\n    hits: 50\n`);
		const { lines, status } = await startCrawler({ ZOOKEEPER_ID: "malformed" });
		expect(await eventually(async () => (await status()).blacklist.includes(LOCALHOST), 10000)).toBe(true);
		const crawlid = uniqueName("malformed");
		const held = `${localOrigin}/page/${crawlid}-held`;
		await feed({ url: held, crawlid });
		expect(await eventually(() => queued(LOCALHOST, crawlid), 15000)).toBe(true);

		// invalid YAML, then YAML that is not a mapping: each logged, the last good configuration stays
		for (const bad of ["blacklist: [localhost\ndomains: {", "- just\n- a list\n"]) {
			const before = count(lines, BAD_CONFIG);
			await writeDoc(zk, path, bad);
			expect(await eventually(() => count(lines, BAD_CONFIG) > before, 10000)).toBe(true);
			const line = lines.filter(l => l.message === BAD_CONFIG).pop()!;
			expect(line.level).toBe("error");
			expect(line.data).toMatchObject({ path, error: expect.any(String) });
			const st = await status();
			expect(st.blacklist).toEqual([LOCALHOST]);
			expect(st.domains).toEqual([LOOPBACK]);
		}
		await sleep(1000);
		expect(local.hits.get(new URL(held).pathname) ?? 0).toBe(0);
		expect(await queued(LOCALHOST, crawlid)).toBe(true);

		// the watch survived: a good document applies again
		await writeDoc(zk, path, "blacklist: []\n");
		expect(await eventually(async () => (await status()).blacklist.length === 0, 10000)).toBe(true);
		expect(await eventually(() => crawled(crawlid, held), 20000)).toBe(true);
	});

	it("throttles under the public IP from PUBLIC_IP_URL, and as 127.0.0.1 with a warning when the lookup fails", async () => {
		const ipSettings = { ZOOKEEPER_ID: "ip", SCHEDULER_IP_ENABLED: true };
		const ipUrl = `http://127.0.0.1:${ipService.port}/ip`;
		const a = await startCrawler({ ...ipSettings, PUBLIC_IP_URL: ipUrl });
		expect((await a.status()).public_ip).toBe(FAKE_PUBLIC_IP);
		expect(ipService.hits.get("/ip")).toBeGreaterThanOrEqual(1);
		const crawlid = uniqueName("ip");
		const first = `${localOrigin}/page/${crawlid}-1`;
		const windowKey = `link:${FAKE_PUBLIC_IP}:${LOCALHOST}:throttle_window`;
		await feed({ url: first, crawlid });
		// the pop counts its hit in the throttle window of link:<ip>:<domain> (kept 3 s after the hit)
		expect(await eventually(async () => (await redis.exists(windowKey)) === 1, 15000, 20)).toBe(true);
		expect(await eventually(() => crawled(crawlid, first), 15000)).toBe(true);
		const st = await a.status();
		expect(st.queues.find(q => q.queue === `link:${LOCALHOST}:queue`)?.throttle.key).toBe(`link:${FAKE_PUBLIC_IP}:${LOCALHOST}`);
		expect(st.queues.every(q => q.throttle.key.startsWith(`link:${FAKE_PUBLIC_IP}:`))).toBe(true);
		await stopBroker(a.broker);

		// nothing listens there: 127.0.0.1, and a warning naming PUBLIC_IP_URL
		const closedUrl = `http://127.0.0.1:${await freePort()}/`;
		const b = await startCrawler({ ...ipSettings, PUBLIC_IP_URL: closedUrl });
		expect((await b.status()).public_ip).toBe("127.0.0.1");
		const warning = b.lines.find(l => l.level === "warn" && l.message.includes("PUBLIC_IP_URL"));
		expect(warning).toBeDefined();
		expect(warning!.data).toMatchObject({ url: closedUrl, error: expect.any(String) });
		const second = `${localOrigin}/page/${crawlid}-2`;
		await feed({ url: second, crawlid });
		expect(await eventually(() => crawled(crawlid, second), 15000)).toBe(true);
		const fallback = await b.status();
		expect(fallback.queues.find(q => q.queue === `link:${LOCALHOST}:queue`)?.throttle.key).toBe(`link:127.0.0.1:${LOCALHOST}`);
		expect(fallback.queues.every(q => q.throttle.key.startsWith("link:127.0.0.1:"))).toBe(true);
	});

	it("forgets a domain queue SCHEDULER_QUEUE_TIMEOUT after its last use, and knows it again when a request is queued", async () => {
		const { status } = await startCrawler({ ZOOKEEPER_ID: "timeout", SCHEDULER_QUEUE_TIMEOUT: 1, SCHEDULER_QUEUE_REFRESH: 1 });
		const queueKey = `link:${LOOPBACK}:queue`;
		const knows = async () => (await status()).queues.some(q => q.queue === queueKey);
		const crawlid = uniqueName("qtimeout");
		const timings: number[] = [];
		for (const n of [1, 2]) {
			const url = `${siteOrigin}/page/${crawlid}-${n}`;
			await feed({ url, crawlid });
			// the queue is known again (the registry has it) before its request is crawled ...
			expect(await eventually(knows, 15000, 20)).toBe(true);
			expect(await eventually(() => crawled(crawlid, url), 15000)).toBe(true);
			const idleSince = Date.now();
			// ... and forgotten a little after it went idle (timeout 1 s, looked at every 1 s)
			expect(await eventually(async () => !(await knows()), 10000, 50)).toBe(true);
			timings.push(Date.now() - idleSince);
			// an empty forgotten queue leaves the registry too
			expect(await redis.sismember(queueRegistryKey("link"), queueKey)).toBe(0);
		}
		for (const t of timings) expect(t).toBeLessThan(5000);
		console.log(`SCHEDULER_QUEUE_TIMEOUT=1: idle queue forgotten ${timings.join(" ms, ")} ms after its page arrived`);
	});

	it("discards requests for ZooKeeper-blacklisted domains with SCHEDULER_BACKLOG_BLACKLIST=false, and keeps them queued by default", async () => {
		const path = `${zkRoot}/crawler/backlog`;
		await writeDoc(zk, path, `blacklist:\n- ${LOCALHOST}\n`);
		const dupefilterHas = (crawlid: string, url: string) => redis.sismember(dupefilterKey("link", crawlid), requestFingerprint("GET", url));

		// SCHEDULER_BACKLOG_BLACKLIST=false: the link to localhost never enters link:localhost:queue
		const discard = await startCrawler({ ZOOKEEPER_ID: "backlog", SCHEDULER_BACKLOG_BLACKLIST: false });
		expect(await eventually(async () => (await discard.status()).blacklist.includes(LOCALHOST), 10000)).toBe(true);
		const dropped = (await discard.status()).counts.dropped;
		const c1 = uniqueName("backlog0");
		const parent1 = `${siteOrigin}/parent/${c1}`;
		const child1 = `${localOrigin}/page/${c1}-child`;
		let seenInQueue = false;
		let watching = true;
		const watcher = (async () => {
			while (watching) {
				if (await queued(LOCALHOST, c1)) seenInQueue = true;
				await sleep(20);
			}
		})();
		try {
			await feed({ url: parent1, crawlid: c1, maxdepth: 1 });
			expect(await eventually(() => crawled(c1, parent1) && crawled(c1, `${siteOrigin}/page/${c1}-sibling`), 20000)).toBe(true);
			// the parent did link to the child, and the sibling link was followed
			expect(pagesOf(c1).find(p => p.url === parent1)!.links.map(l => l.url)).toContain(child1);
			await sleep(1500);
		} finally {
			watching = false;
			await watcher;
		}
		expect(seenInQueue).toBe(false);
		expect(await queued(LOCALHOST, c1)).toBe(false);
		// dropped before the frontier: not even in the duplicate filter
		expect(await dupefilterHas(c1, child1)).toBe(0);
		expect((await discard.status()).counts.dropped).toBeGreaterThan(dropped);
		expect(local.hits.get(new URL(child1).pathname) ?? 0).toBe(0);
		await stopBroker(discard.broker);

		// default (true): the link is queued and waits, not crawled, until the domain leaves the blacklist
		const keep = await startCrawler({ ZOOKEEPER_ID: "backlog" });
		expect(await eventually(async () => (await keep.status()).blacklist.includes(LOCALHOST), 10000)).toBe(true);
		const c2 = uniqueName("backlog1");
		const parent2 = `${siteOrigin}/parent/${c2}`;
		const child2 = `${localOrigin}/page/${c2}-child`;
		await feed({ url: parent2, crawlid: c2, maxdepth: 1 });
		expect(await eventually(() => crawled(c2, parent2) && crawled(c2, `${siteOrigin}/page/${c2}-sibling`), 20000)).toBe(true);
		expect(await eventually(() => queued(LOCALHOST, c2), 5000)).toBe(true);
		expect(await dupefilterHas(c2, child2)).toBe(1);
		await sleep(1500);
		expect(local.hits.get(new URL(child2).pathname) ?? 0).toBe(0);
		expect(crawled(c2, child2)).toBe(false);
		await writeDoc(zk, path, "blacklist: []\n");
		expect(await eventually(() => crawled(c2, child2), 20000)).toBe(true);
		expect(await queued(LOCALHOST, c2)).toBe(false);
	});
	it("takes the best priority across domains, and a better request queued meanwhile by another process before the rest", async () => {
		// Pages of localhost answer after 150 ms, so a request queued during one is there for the next pass.
		const slowLocal = await startLoopback((path, _req, res) => {
			if (path === "/robots.txt") return void res.writeHead(404).end();
			setTimeout(() => html(res, `<p>${path}</p>`), 150);
		});
		try {
			const crawlid = uniqueName("prio");
			const low = Array.from({ length: 5 }, (_, i) => `http://localhost:${slowLocal.port}/low-${i}`);
			const high = Array.from({ length: 3 }, (_, i) => `${siteOrigin}/page/high-${i}`);
			const urgent = `${siteOrigin}/page/urgent`;
			// Queued before the crawler starts, lower priority first.
			for (const url of low) await feed({ url, crawlid, maxdepth: 0, priority: 1 });
			for (const url of high) await feed({ url, crawlid, maxdepth: 0, priority: 5 });
			expect(await eventually(async () => (await redis.zcard(`link:localhost:queue`)) === 5 && (await redis.zcard(`link:${LOOPBACK}:queue`)) === 3, 20000)).toBe(true);
			await startCrawler({ CONCURRENT_REQUESTS: 1 });
			// While the first low page is fetched, ingest (another node) queues a better request for 127.0.0.1,
			// whose queue this crawler last saw empty.
			expect(await eventually(() => (slowLocal.hits.get("/low-0") ?? 0) > 0, 20000)).toBe(true);
			await feed({ url: urgent, crawlid, maxdepth: 0, priority: 9 });
			expect(await eventually(() => pagesOf(crawlid).length >= 9, 30000)).toBe(true);
			const order = pagesOf(crawlid)
				.sort((a, b) => String(a.timestamp).localeCompare(String(b.timestamp)))
				.map(p => p.url);
			expect(order.slice(0, 3).sort()).toEqual([...high].sort());
			expect(order[3]).toBe(low[0]);
			// The announcement made the crawler look at that queue again: the urgent page comes next.
			expect(order[4]).toBe(urgent);
			expect(order.slice(5).sort()).toEqual(low.slice(1).sort());
		} finally {
			await slowLocal.close();
		}
	});

	it("keeps at most CONCURRENT_REQUESTS fetches open, and at most CONCURRENT_ITEMS more pages in flight while they are published", async () => {
		// A slow site of its own (another port of 127.0.0.1): each page answers after 150 ms, so fetches overlap.
		let open = 0;
		let maxOpen = 0;
		const slow = await startLoopback((path, _req, res) => {
			if (path === "/robots.txt") return void res.writeHead(404).end();
			open++;
			maxOpen = Math.max(maxOpen, open);
			setTimeout(() => {
				open--;
				if (path === "/hub") html(res, Array.from({ length: 24 }, (_, i) => `<a href="/slow/${i}">${i}</a>`).join(" "));
				else html(res, `<p>${path}</p>`);
			}, 150);
		});
		try {
			const node = await startCrawler({ CONCURRENT_REQUESTS: 3, CONCURRENT_ITEMS: 2 });
			const crawlid = uniqueName("slots");
			let sampling = true;
			const samples: Array<{ fetching: number; in_flight: number }> = [];
			const sampler = (async () => {
				for (let i = 0; sampling && i < 2000; i++) {
					samples.push((await node.broker.call("crawler.status")) as { fetching: number; in_flight: number });
					await sleep(10);
				}
			})();
			await feed({ url: `http://127.0.0.1:${slow.port}/hub`, crawlid, maxdepth: 1 });
			const done = await eventually(() => pagesOf(crawlid).length >= 25, 30000);
			sampling = false;
			await sampler;
			expect(done).toBe(true);
			expect(new Set(pagesOf(crawlid).map(p => p.url)).size).toBe(25);
			// the limit is reached (fetches overlap) and never passed
			expect(maxOpen).toBe(3);
			expect(samples.length).toBeGreaterThan(10);
			expect(Math.max(...samples.map(x => x.fetching))).toBeLessThanOrEqual(3);
			expect(Math.max(...samples.map(x => x.in_flight))).toBeLessThanOrEqual(5);
			expect(samples.every(x => x.fetching <= x.in_flight)).toBe(true);
		} finally {
			await slow.close();
		}
	});
});
