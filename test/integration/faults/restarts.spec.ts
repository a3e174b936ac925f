/**
 * Faults survived (issue 7), with real node processes (`node bin/node.ts`) and a PRIVATE data stack
 * (test/support/private-stack.ts: a second Redis, ZooKeeper and Kafka from scripts/infra.sh in a temp
 * dir on other loopback ports), so stopping a server never disturbs the shared stack other tests use:
 *   1. the Kafka broker stopped and restarted mid-crawl (an idle client's `connected` follows it),
 *   2. Redis stopped and restarted mid-crawl (its RDB keeps the queues),
 *   3. ZooKeeper stopped and restarted: the last configuration stays in force, a later change applies
 *      (fails for now: a crawler whose reconnection lands on a connection ZooKeeper never answers stays
 *      disconnected for good, a bug of lib/zookeeper/client.ts; see the test),
 *   4. a crawler process stopped with SIGTERM mid-crawl: it exits promptly, finishing what is in flight,
 *   5. the same while Kafka is away: what it cannot publish goes back to its queue at once.
 * Each test prints what it proved (pages expected, delivered, duplicated; requests sent, handled).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { createServer as createNetServer, type AddressInfo, type Socket } from "node:net";
import { join, resolve } from "node:path";
import { Redis } from "ioredis";
import type { Settings } from "../../../config/index.ts";
import { KafkaClient } from "../../../lib/kafka/client.ts";
import { ZookeeperSession } from "../../../lib/zookeeper/client.ts";
import { eventually, stopChild, testSettings, uniqueName } from "../../support/cluster.ts";
import { ROOT, startPrivateStack, type PrivateStack } from "../../support/private-stack.ts";
import { startSite, type TestSite } from "../../support/site.ts";

const NODE = resolve(ROOT, "node_modules/.bin/node");
const quietLog = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined };
const sleep = (ms: number) => new Promise<void>(r => setTimeout(r, ms));
const LOCALHOST = "127.0.0.1";
/** The queue and leases of the link spider for the loopback sites. */
const QUEUE = `link:${LOCALHOST}:queue`;
const LEASES = "link:leases";
/** Log lines of a crawl that did not complete (its request waits for its lease to expire). */
const CRAWL_NOT_DONE = /Crawl (failed|interrupted)/;

interface Page {
	url: string;
	crawlid: string;
	status_code: number;
	timestamp: string;
	[k: string]: unknown;
}

interface Node {
	name: string;
	child: ChildProcess;
	log: string;
}

const distinct = (pages: Page[]) => new Set(pages.map(p => p.url));
const timeOf = (p: Page) => Date.parse(`${p.timestamp}Z`);

describe("faults survived: private data stack, real node processes", () => {
	let stack: PrivateStack;
	const nodes: Node[] = [];
	let cleanups: Array<() => Promise<unknown>> = [];
	let dbs = 0;

	beforeAll(async () => {
		const t0 = Date.now();
		stack = await startPrivateStack();
		console.log(`private stack up in ${Date.now() - t0} ms: Redis :${stack.redisPort}, ZooKeeper :${stack.zookeeperPort}, Kafka :${stack.kafkaPort} (${stack.dir})`);
	}, 180000);

	afterEach(async () => {
		await Promise.all(nodes.splice(0).map(n => stopChild(n.child, "SIGTERM", 15000)));
		for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
	}, 60000);

	afterAll(async () => {
		await stack?.destroy();
	}, 60000);

	/** Everything one test needs on the private stack: its own Redis db, topics and ZooKeeper path. */
	function scenario(name: string) {
		const prefix = uniqueName(`fault_${name}`).replace(/-/g, "_");
		const redisDb = ++dbs;
		const zkPath = `/${prefix}/crawler/`;
		const settings: Settings = testSettings({
			REDIS_HOST: LOCALHOST,
			REDIS_PORT: stack.redisPort,
			REDIS_DB: redisDb,
			KAFKA_HOSTS: stack.env.KAFKA_HOSTS,
			ZOOKEEPER_HOSTS: stack.env.ZOOKEEPER_HOSTS,
			KAFKA_TOPIC_PREFIX: prefix,
			KAFKA_INCOMING_TOPIC: `${prefix}.incoming`,
			KAFKA_GROUP: `${prefix}-group`,
			ZOOKEEPER_ASSIGN_PATH: zkPath,
			KAFKA_PRODUCER_BATCH_LINGER_MS: 5
		});
		const firehose = `${prefix}.crawled_firehose`;
		const redis = new Redis({ host: LOCALHOST, port: stack.redisPort, db: redisDb, lazyConnect: true, maxRetriesPerRequest: 50, retryStrategy: () => 200 });
		cleanups.push(async () => redis.disconnect());

		const env = (node: string, extra: Record<string, string>): NodeJS.ProcessEnv => {
			const base: NodeJS.ProcessEnv = { ...process.env };
			delete base.NODE_ENV; // Jest's "test" would switch kafkajs to its test defaults
			return {
				...base,
				...stack.env,
				SERVICES: "ingest,crawler",
				NODE_ID: uniqueName(node),
				REDIS_DB: String(redisDb),
				KAFKA_TOPIC_PREFIX: prefix,
				KAFKA_INCOMING_TOPIC: settings.KAFKA_INCOMING_TOPIC,
				KAFKA_GROUP: settings.KAFKA_GROUP,
				ZOOKEEPER_ASSIGN_PATH: zkPath,
				SPIDERS: "link",
				QUEUE_HITS: "3",
				QUEUE_WINDOW: "1",
				QUEUE_MODERATED: "false",
				SCHEDULER_QUEUE_REFRESH: "1",
				SCHEDULER_IP_ENABLED: "false",
				KAFKA_PRODUCER_BATCH_LINGER_MS: "5",
				DOWNLOAD_TIMEOUT: "5",
				STATS_DUMP: "0",
				// Warnings go to the node's log file: what the node said about the fault is reported.
				LOG_LEVEL: "WARNING",
				...extra
			};
		};

		return {
			prefix,
			redisDb,
			zkPath,
			settings,
			firehose,
			redis,
			spawnNode(node: string, extra: Record<string, string> = {}): Node {
				const log = join(stack.dir, `${prefix}-${node}.log`);
				const fd = openSync(log, "a");
				const child = spawn(NODE, ["bin/node.ts", "--no-repl"], { cwd: ROOT, env: env(node, extra), stdio: ["ignore", fd, fd] });
				closeSync(fd);
				const n = { name: node, child, log };
				nodes.push(n);
				return n;
			},
			/** Topics exist before the nodes start (the incoming one with ingest's 4 partitions). */
			async createTopics(): Promise<void> {
				const k = new KafkaClient(settings, uniqueName("it-admin"), quietLog);
				try {
					await k.ensureTopics([
						{ topic: settings.KAFKA_INCOMING_TOPIC, partitions: settings.KAFKA_INCOMING_PARTITIONS },
						{ topic: firehose, partitions: 1 }
					]);
				} finally {
					await k.close();
				}
			},
			/** Produce requests to the incoming topic; resolves once Kafka acknowledged them (acks=all). */
			async feed(...requests: object[]): Promise<void> {
				const k = new KafkaClient(settings, uniqueName("it-feed"), quietLog);
				try {
					await k.send(settings.KAFKA_INCOMING_TOPIC, requests.map(r => ({ value: JSON.stringify(r) })));
				} finally {
					await k.close();
				}
			},
			/** Messages on the firehose (high watermark), by an admin request: no consumer is left behind. */
			async firehoseCount(): Promise<number> {
				const k = new KafkaClient(settings, uniqueName("it-offsets"), quietLog);
				try {
					return (await k.topicEndOffsets(firehose)).reduce((n, o) => n + Number(o.high), 0);
				} finally {
					await k.close();
				}
			},
			/** Read the firehose from the beginning, in a fresh group, into `pages` until stop(). */
			async readFirehose(): Promise<{ pages: Page[]; stop: () => Promise<void> }> {
				const k = new KafkaClient(settings, uniqueName("it-reader"), quietLog);
				const pages: Page[] = [];
				const handle = await k.consume({
					groupId: uniqueName("it-firehose"),
					topics: [firehose],
					fromBeginning: true,
					onMessage: async m => void pages.push(JSON.parse(m.value!.toString("utf8")) as Page)
				});
				let stopped = false;
				const stop = async () => {
					if (stopped) return;
					stopped = true;
					await handle.stop();
					await k.close();
				};
				cleanups.push(stop);
				return { pages, stop };
			},
			/** Lines of the nodes' logs matching a pattern. */
			logLines(pattern: RegExp): string[] {
				return nodes.flatMap(n => (existsSync(n.log) ? readFileSync(n.log, "utf8").split("\n") : [])).filter(l => pattern.test(l));
			}
		};
	}

	async function site(opts: Parameters<typeof startSite>[0]): Promise<TestSite> {
		const s = await startSite(opts);
		cleanups.push(() => s.close());
		return s;
	}

	const seed = (url: string, crawlid: string, maxdepth: number) => ({ url, appid: "faults", crawlid, maxdepth, allowed_domains: [LOCALHOST] });
	const ofCrawl = (pages: Page[], crawlid: string) => pages.filter(p => p.crawlid === crawlid);

	it("Kafka broker stopped and restarted mid-crawl: every page and every request accepted before the stop is delivered", async () => {
		const sc = scenario("kafka");
		const tree = await site({ fanout: 5, depth: 2 });
		const expected = tree.expectedPages(2).sort();
		await sc.createTopics();
		// REQUEST_LEASE_TIMEOUT stays long (120 s): a page whose publication were given up during the outage
		// would only come back after it, and this test would time out. Delivery must come from retrying.
		sc.spawnNode("kafka-a");
		sc.spawnNode("kafka-b");
		const crawlid = uniqueName("kafka");
		await sc.feed(seed(`${tree.origin}/`, crawlid, 2));
		expect(await eventually(async () => (await sc.firehoseCount()) >= 8, 40000, 250)).toBe(true);
		// more requests accepted by Kafka right before it goes (maxdepth 0: one page each)
		const extras = [0, 1, 2].map(i => seed(`${tree.origin}/d2/p${i * 7}`, `${crawlid}-extra${i}`, 0));
		await sc.feed(...extras);
		const beforeStop = await sc.firehoseCount();
		// An idle client's health (REST `kafka_connected`): false while the broker is away, true once it is back.
		const health = new KafkaClient(sc.settings, uniqueName("it-health"), quietLog);
		cleanups.push(() => health.close());
		await health.connect();
		const connectedBefore = health.connected;

		const t0 = Date.now();
		await stack.down("kafka");
		const hitsAtStop = tree.totalHits();
		await sleep(5000);
		const fetchedWhileAway = tree.totalHits() - hitsAtStop;
		const connectedWhileAway = health.connected;
		await stack.up("kafka");
		const outageMs = Date.now() - t0;

		const reader = await sc.readFirehose();
		const complete = () => distinct(ofCrawl(reader.pages, crawlid)).size >= expected.length && extras.every(e => ofCrawl(reader.pages, e.crawlid).length > 0);
		const done = await eventually(complete, 60000, 100);
		const completeAfterMs = Date.now() - t0 - outageMs;
		await sleep(1500); // late duplicates
		await reader.stop();
		const connectedAfter = await eventually(() => health.connected, 20000, 100);

		const pages = ofCrawl(reader.pages, crawlid);
		const extrasDelivered = extras.filter(e => ofCrawl(reader.pages, e.crawlid).length > 0).length;
		const notDone = sc.logLines(CRAWL_NOT_DONE).length;
		console.log(
			`Kafka restart: ${expected.length} pages expected, ${beforeStop} on the firehose before the stop, ${fetchedWhileAway} fetched while Kafka was away (${outageMs} ms), ` +
				`${distinct(pages).size} distinct delivered (${completeAfterMs} ms after the restart), ${pages.length - distinct(pages).size} duplicated; ` +
				`requests sent 4 (1 crawl + 3 fed just before the stop), handled ${(distinct(pages).size > 0 ? 1 : 0) + extrasDelivered}; crawls left to their lease: ${notDone}; ` +
				`an idle client connected before/while away/after: ${connectedBefore}/${connectedWhileAway}/${connectedAfter}`
		);
		expect([connectedBefore, connectedWhileAway, connectedAfter]).toEqual([true, false, true]);
		expect(notDone).toBe(0); // no crawl gave up publishing: the batches waited for Kafka
		expect(done).toBe(true);
		expect([...distinct(pages)].sort()).toEqual(expected);
		expect(extrasDelivered).toBe(extras.length);
	}, 120000);

	it("Redis stopped and restarted mid-crawl: its RDB keeps the queues, the crawl completes, requests fed during and after the outage are crawled", async () => {
		const sc = scenario("redis");
		const tree = await site({ fanout: 5, depth: 2 });
		const expected = tree.expectedPages(2).sort();
		await sc.createTopics();
		const reader = await sc.readFirehose();
		// Leases (5 s) shorter than the outage: crawls Redis held up return to their queues once it is back
		// (duplicates, reported); requests fed during and after the outage are popped after it, so each must
		// be crawled once. INFO: the nodes log the leases they return.
		const nodeEnv = { REQUEST_LEASE_TIMEOUT: "5", LOG_LEVEL: "INFO" };
		sc.spawnNode("redis-a", nodeEnv);
		sc.spawnNode("redis-b", nodeEnv);
		const crawlid = uniqueName("redis");
		await sc.feed(seed(`${tree.origin}/`, crawlid, 2));
		expect(await eventually(() => ofCrawl(reader.pages, crawlid).length >= 8, 40000)).toBe(true);

		await sc.redis.connect();
		const sentinel = uniqueName("sentinel");
		await sc.redis.set("fault:sentinel", sentinel);
		const queuedBefore = await sc.redis.zcard(QUEUE);
		const deliveredBefore = ofCrawl(reader.pages, crawlid).length;
		const t0 = Date.now();
		await stack.down("redis");
		const rdb = join(stack.dir, "data/redis/dump.rdb");
		const savedAt = existsSync(rdb) ? statSync(rdb).mtimeMs : 0;
		// a request fed while Redis is away: ingest retries it until Redis is back
		const during = seed(`${tree.origin}/d2/p3`, `${crawlid}-during`, 0);
		await sc.feed(during);
		await sleep(4000);
		const deliveredWhileAway = ofCrawl(reader.pages, crawlid).length - deliveredBefore;
		await stack.up("redis");
		const outageMs = Date.now() - t0;
		const sentinelAfter = await sc.redis.get("fault:sentinel");
		const queuedAfter = await sc.redis.zcard(QUEUE);
		const after = seed(`${tree.origin}/d2/p4`, `${crawlid}-after`, 0);
		await sc.feed(after);

		const complete = () => distinct(ofCrawl(reader.pages, crawlid)).size >= expected.length && [during, after].every(e => ofCrawl(reader.pages, e.crawlid).length > 0);
		const done = await eventually(complete, 60000, 100);
		const completeAfterMs = Date.now() - t0 - outageMs;
		await sleep(1500);
		const pages = ofCrawl(reader.pages, crawlid);
		const reaped = sc.logLines(/Returned requests of a stopped crawler/).length;
		console.log(
			`Redis restart: ${expected.length} pages expected, ${deliveredBefore} delivered before the stop, ${deliveredWhileAway} while Redis was away (${outageMs} ms); ` +
				`RDB written at shutdown: ${savedAt >= t0 - 1000}; queue ${queuedBefore} requests just before the stop, ${queuedAfter} after the restart; ` +
				`${distinct(pages).size} distinct delivered (${completeAfterMs} ms after the restart), ${pages.length - distinct(pages).size} duplicated; ` +
				`requests sent 3 (crawl, 1 during the outage, 1 after), handled ${1 + [during, after].filter(e => ofCrawl(reader.pages, e.crawlid).length > 0).length} ` +
				`(pages ${ofCrawl(reader.pages, during.crawlid).length} and ${ofCrawl(reader.pages, after.crawlid).length}); ` +
				`crawls left to their lease: ${sc.logLines(CRAWL_NOT_DONE).length}, leases reaped: ${reaped}`
		);
		expect(savedAt).toBeGreaterThanOrEqual(t0 - 1000);
		expect(sentinelAfter).toBe(sentinel);
		expect(done).toBe(true);
		expect([...distinct(pages)].sort()).toEqual(expected);
		// a pop that waited for Redis must not date its lease before the wait (reaped at once: crawled twice)
		expect(ofCrawl(reader.pages, during.crawlid)).toHaveLength(1);
		expect(ofCrawl(reader.pages, after.crawlid)).toHaveLength(1);
	}, 120000);

	it("ZooKeeper stopped and restarted: crawlers keep the last domain throttle while it is away and apply a blacklist written after it returns", async () => {
		const sc = scenario("zk");
		const tree = await site({ fanout: 5, depth: 2 });
		const expected = tree.expectedPages(2).sort();
		const path = `${sc.zkPath}all`;
		// The test's own writer session is opened only while ZooKeeper runs (see the half-open port below).
		const writeDoc = async (text: string) => {
			const writer = new ZookeeperSession({ ZOOKEEPER_HOSTS: stack.env.ZOOKEEPER_HOSTS!, ZOOKEEPER_SESSION_TIMEOUT: 30000 }, quietLog);
			try {
				expect(await writer.connect(10000)).toBe(true);
				const end = Date.now() + 10000;
				while (Date.now() < end) {
					const current = await writer.getData(path);
					if (await writer.setDataIfVersion(path, Buffer.from(text), current.version)) return;
					await sleep(100);
				}
				throw new Error(`could not write ${path}`);
			} finally {
				writer.close();
			}
		};
		// ZooKeeper allows 2 pages per second; without it the crawlers would do QUEUE_HITS=50 per second
		const HITS = 2;
		await writeDoc(`blacklist: []\ndomains:\n  ${LOCALHOST}:\n    window: 1\n    hits: ${HITS}\n`);
		await sc.createTopics();
		const reader = await sc.readFirehose();
		// INFO: each node logs every configuration it applies
		sc.spawnNode("zk-a", { QUEUE_HITS: "50", LOG_LEVEL: "INFO" });
		sc.spawnNode("zk-b", { QUEUE_HITS: "50", LOG_LEVEL: "INFO" });
		const crawlid = uniqueName("zk");
		await sc.feed(seed(`${tree.origin}/`, crawlid, 2));
		expect(await eventually(() => ofCrawl(reader.pages, crawlid).length >= 4, 40000)).toBe(true);

		const down = Date.now();
		await stack.down("zookeeper");
		await sleep(3000);
		// ZooKeeper 3.8 starts listening before its database is loaded, and a connection arriving in those
		// first milliseconds is neither answered nor closed (a NullPointerException in removeCnxn, in its log);
		// in this file's runs a crawler hit that window about one restart in six. The port is held in that
		// state for 2 s here, so the outcome does not depend on luck: every crawler retrying meanwhile gets
		// such a connection, as a client behind a half-open TCP connection would.
		const halfOpen = await holdPort(stack.zookeeperPort, 2000);
		cleanups.push(async () => halfOpen.release());
		const up = Date.now();
		const whileAway = ofCrawl(reader.pages, crawlid).filter(p => timeOf(p) > down && timeOf(p) <= up);
		await stack.up("zookeeper");
		const outageMs = Date.now() - down;
		// still crawling once it is back
		const atReturn = ofCrawl(reader.pages, crawlid).length;
		expect(await eventually(() => ofCrawl(reader.pages, crawlid).length >= atReturn + 2, 15000)).toBe(true);

		// then blacklist the domain: every crawler must apply it and stop taking the domain's requests
		await writeDoc(`blacklist:\n- ${LOCALHOST}\ndomains:\n  ${LOCALHOST}:\n    window: 1\n    hits: ${HITS}\n`);
		const written = Date.now();
		const appliedBy = () => sc.logLines(/Crawler configuration from ZooKeeper applied .*"blacklist":\["127\.0\.0\.1"\]/).length;
		await eventually(() => appliedBy() >= 2, 10000, 100);
		const applied = appliedBy();
		const lost = sc.logLines(/ZooKeeper connection lost/).length;
		const reconnected = sc.logLines(/ZooKeeper connected/).length - 2;
		const times = whileAway.map(timeOf).sort((a, b) => a - b);
		let tightest = Infinity; // shortest span of HITS + 1 consecutive pages while ZooKeeper was away
		for (let i = 0; i + HITS < times.length; i++) tightest = Math.min(tightest, times[i + HITS]! - times[i]!);
		const away =
			`ZooKeeper restart: away ${outageMs} ms (the last ${halfOpen.holdMs} ms with its port accepting without answering, ${halfOpen.accepted()} connections held); ` +
			`${whileAway.length} pages crawled meanwhile at the kept ${HITS}/s throttle (tightest ${HITS + 1} pages: ${tightest} ms); ` +
			`${lost} crawlers lost ZooKeeper, ${reconnected} reconnected; ${atReturn} pages delivered when it returned; a blacklist written then was applied by ${applied} of 2 crawlers`;
		// crawling went on without ZooKeeper, at the throttle it had from ZooKeeper
		// (page timestamps are taken after the fetch, so a little jitter on a busy machine is allowed)
		expect(whileAway.length).toBeGreaterThanOrEqual(4);
		expect(whileAway.length).toBeLessThanOrEqual(HITS * Math.ceil((up - down) / 1000 + 1));
		expect(tightest).toBeGreaterThanOrEqual(1000 - 300);
		if (applied < 2) {
			console.log(away);
			throw new Error(
				`PRODUCT BUG (lib/zookeeper/client.ts, not fixed here): ${2 - applied} of 2 crawler processes never applied the change written ` +
					`after ZooKeeper's restart; they stay disconnected from it for good and keep the old configuration. node-zookeeper-client 1.1.3 ` +
					`clears its connect timeout once TCP connects and nothing times out the session handshake, so a connection that ZooKeeper accepts ` +
					`but never answers (ZooKeeper 3.8 does so to connections arriving before its database is loaded; any half-open connection does) ` +
					`hangs forever. Fix: a handshake timeout in ZookeeperSession that drops such a socket so the client tries again. ` +
					`Node logs: ${stack.dir} (kept with SC_TEST_KEEP_PRIVATE_STACK=1).`
			);
		}
		let lastHits = tree.totalHits();
		let lastHitAt = written;
		const halted = await eventually(() => {
			const h = tree.totalHits();
			if (h !== lastHits) [lastHits, lastHitAt] = [h, Date.now()];
			return Date.now() - lastHitAt >= 2500;
		}, 20000, 100);
		const lastFetchAfterWriteMs = lastHitAt - written;
		const held = await sc.redis.connect().then(() => sc.redis.zcard(QUEUE));
		const deliveredWhileBlacklisted = distinct(ofCrawl(reader.pages, crawlid)).size;
		// lift it and the throttle: the rest comes quickly
		await writeDoc(`blacklist: []\ndomains:\n  ${LOCALHOST}:\n    window: 1\n    hits: 1000\n`);
		const done = await eventually(() => distinct(ofCrawl(reader.pages, crawlid)).size >= expected.length, 30000, 100);
		await sleep(1000);
		const pages = ofCrawl(reader.pages, crawlid);
		console.log(
			`${away} and halted crawling (last fetch ${lastFetchAfterWriteMs} ms after the write, none for 2.5 s) with ${held} requests held; ` +
				`${expected.length} pages expected, ${distinct(pages).size} distinct delivered after lifting it (${deliveredWhileBlacklisted} before), ${pages.length - distinct(pages).size} duplicated`
		);
		expect(halted).toBe(true);
		expect(held).toBeGreaterThan(0);
		expect(done).toBe(true);
		expect([...distinct(pages)].sort()).toEqual(expected);
	}, 120000);

	it("SIGTERM mid-crawl: the crawler exits within 15 s, its requests in flight are published or back in their queue, a second crawler completes the crawl", async () => {
		const sc = scenario("sigterm");
		const tree = await site({ fanout: 5, depth: 2 });
		// every page takes 1.5 s, so a crawler always has requests in flight
		const proxy = await slowProxy(tree, 1500);
		cleanups.push(() => proxy.close());
		const expected = tree.expectedPages(2).map(u => u.replace(tree.origin, proxy.origin)).sort();
		await sc.createTopics();
		const reader = await sc.readFirehose();
		await sc.redis.connect();
		// ingest in a process of its own; the crawlers only crawl. Leases would only expire after 60 s:
		// whatever the stopped crawler leaves leased would not be crawled within this test.
		const crawlerEnv = { SERVICES: "crawler", QUEUE_HITS: "20", CONCURRENT_REQUESTS: "4", REQUEST_LEASE_TIMEOUT: "60" };
		sc.spawnNode("sigterm-ingest", { SERVICES: "ingest" });
		const first = sc.spawnNode("sigterm-a", crawlerEnv);
		const crawlid = uniqueName("sigterm");
		await sc.feed(seed(`${proxy.origin}/`, crawlid, 2));
		expect(await eventually(async () => ofCrawl(reader.pages, crawlid).length >= 6 && (await sc.redis.zcard(LEASES)) >= 2, 40000, 50)).toBe(true);

		const leased = (await sc.redis.zrange(LEASES, 0, -1)).map(l => (JSON.parse(l.slice(l.indexOf("\n", l.indexOf("\n") + 1) + 1)) as { url: string }).url);
		const exited = new Promise<number | null>(r => first.child.once("exit", code => r(code)));
		const t0 = Date.now();
		first.child.kill("SIGTERM");
		const code = await Promise.race([exited, sleep(30000).then(() => "timeout" as const)]);
		const exitMs = Date.now() - t0;
		const leasesLeft = await sc.redis.zcard(LEASES);
		const queued = new Set((await sc.redis.zrange(QUEUE, 0, -1)).map(m => (JSON.parse(m) as { url: string }).url));
		// each request in flight at the signal: its page published (the reader may lag a little), or back in the queue
		const settle = () => {
			const delivered = distinct(ofCrawl(reader.pages, crawlid));
			const finished = leased.filter(u => delivered.has(u));
			const returned = leased.filter(u => !delivered.has(u) && queued.has(u));
			return { finished, returned, delivered: delivered.size };
		};
		await eventually(() => {
			const { finished, returned } = settle();
			return finished.length + returned.length === leased.length;
		}, 5000);
		const { finished, returned, delivered: deliveredByFirst } = settle();

		const second = sc.spawnNode("sigterm-b", crawlerEnv);
		const done = await eventually(() => distinct(ofCrawl(reader.pages, crawlid)).size >= expected.length, 60000, 100);
		await sleep(1000);
		const pages = ofCrawl(reader.pages, crawlid);
		console.log(
			`SIGTERM: crawler exited with code ${code} ${exitMs} ms after the signal; ${leased.length} requests in flight then: ${finished.length} finished and published, ` +
				`${returned.length} back in the queue, ${leasesLeft} leases left; ${deliveredByFirst} pages by the first crawler, ` +
				`${expected.length} expected, ${distinct(pages).size} distinct delivered after ${second.name} took over, ${pages.length - distinct(pages).size} duplicated`
		);
		expect(code).toBe(0);
		expect(exitMs).toBeLessThan(15000);
		expect(finished.length + returned.length).toBe(leased.length);
		expect(leasesLeft).toBe(0);
		expect(done).toBe(true);
		expect([...distinct(pages)].sort()).toEqual(expected);
	}, 120000);

	it("SIGTERM while Kafka is away: the crawler still exits within 15 s and returns the requests it could not publish to their queue at once", async () => {
		const sc = scenario("sigkafka");
		const tree = await site({ fanout: 5, depth: 2 });
		const expected = tree.expectedPages(2).sort();
		await sc.createTopics();
		await sc.redis.connect();
		// Leases would only expire after 60 s: requests come back within this test only if returned at stop.
		const crawlerEnv = { SERVICES: "crawler", QUEUE_HITS: "6", DOWNLOAD_TIMEOUT: "3", REQUEST_LEASE_TIMEOUT: "60" };
		sc.spawnNode("sigkafka-ingest", { SERVICES: "ingest" });
		const first = sc.spawnNode("sigkafka-a", crawlerEnv);
		const crawlid = uniqueName("sigkafka");
		await sc.feed(seed(`${tree.origin}/`, crawlid, 2));
		expect(await eventually(async () => (await sc.firehoseCount()) >= 6, 40000, 250)).toBe(true);
		const beforeStop = await sc.firehoseCount();

		const t0 = Date.now();
		await stack.down("kafka");
		// pages fetched now cannot be published: their crawls wait for Kafka, holding their leases
		expect(await eventually(async () => (await sc.redis.zcard(LEASES)) >= 3, 20000, 100)).toBe(true);
		const leased = (await sc.redis.zrange(LEASES, 0, -1)).map(l => (JSON.parse(l.slice(l.indexOf("\n", l.indexOf("\n") + 1) + 1)) as { url: string }).url);
		const exited = new Promise<number | null>(r => first.child.once("exit", code => r(code)));
		const signalled = Date.now();
		first.child.kill("SIGTERM");
		const code = await Promise.race([exited, sleep(30000).then(() => "timeout" as const)]);
		const exitMs = Date.now() - signalled;
		const leasesLeft = await sc.redis.zcard(LEASES);
		const queued = new Set((await sc.redis.zrange(QUEUE, 0, -1)).map(m => (JSON.parse(m) as { url: string }).url));
		const returned = leased.filter(u => queued.has(u));
		await stack.up("kafka");
		const outageMs = Date.now() - t0;

		const reader = await sc.readFirehose();
		sc.spawnNode("sigkafka-b", crawlerEnv);
		const done = await eventually(() => distinct(ofCrawl(reader.pages, crawlid)).size >= expected.length, 45000, 100);
		await sleep(1000);
		const pages = ofCrawl(reader.pages, crawlid);
		console.log(
			`SIGTERM with Kafka away (${outageMs} ms): crawler exited with code ${code} ${exitMs} ms after the signal; ${leased.length} requests in flight unpublished, ` +
				`${returned.length} back in the queue at once, ${leasesLeft} leases left; ${beforeStop} pages before Kafka stopped, ${expected.length} expected, ` +
				`${distinct(pages).size} distinct delivered after the second crawler took over, ${pages.length - distinct(pages).size} duplicated`
		);
		expect(code).toBe(0);
		expect(exitMs).toBeLessThan(15000);
		expect(leasesLeft).toBe(0);
		expect(returned).toEqual(leased);
		expect(done).toBe(true);
		expect([...distinct(pages)].sort()).toEqual(expected);
	}, 150000);
});

/**
 * Listen on `port` for `holdMs`, accepting connections without ever answering or closing them (as a server
 * that hangs in its handshake). Then stop listening, so a real server can take the port; the accepted
 * connections stay open until release().
 */
async function holdPort(port: number, holdMs: number): Promise<{ holdMs: number; accepted: () => number; release: () => void }> {
	const sockets: Socket[] = [];
	const server = createNetServer(socket => {
		socket.on("error", () => undefined);
		sockets.push(socket);
	});
	await new Promise<void>((r, reject) => {
		server.once("error", reject);
		server.listen(port, LOCALHOST, () => r());
	});
	await sleep(holdMs);
	server.close(); // stops listening at once; the 'close' event itself waits for the held connections
	await sleep(50);
	return { holdMs, accepted: () => sockets.length, release: () => sockets.forEach(s => s.destroy()) };
}

/** An HTTP proxy in front of a test site that answers every request `delayMs` late (requests in flight for sure). */
async function slowProxy(target: TestSite, delayMs: number): Promise<{ origin: string; close: () => Promise<void> }> {
	const server: Server = createServer((req, res) => {
		const path = req.url ?? "/";
		const timer = setTimeout(() => {
			fetch(`${target.origin}${path}`, { redirect: "manual" })
				.then(async r => {
					const body = Buffer.from(await r.arrayBuffer());
					res.writeHead(r.status, { "Content-Type": r.headers.get("content-type") ?? "text/html", "Content-Length": String(body.length) });
					res.end(body);
				})
				.catch(() => res.destroy());
		}, path === "/robots.txt" ? 0 : delayMs);
		res.on("close", () => clearTimeout(timer));
	});
	await new Promise<void>(r => server.listen(0, LOCALHOST, () => r()));
	return {
		origin: `http://${LOCALHOST}:${(server.address() as AddressInfo).port}`,
		close: async () => {
			server.closeAllConnections();
			await new Promise(r => server.close(r));
		}
	};
}
