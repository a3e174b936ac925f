/**
 * The ingest service against the real Kafka broker and Redis: requests fed to a private incoming topic
 * land where they should; bad ones are refused, counted and logged and change nothing; handlers with no
 * service to reach wait; several instances share the work; a restart loses nothing.
 */
import type { Redis } from "ioredis";
import type { ServiceBroker } from "moleculer";
import type { Settings } from "../../../config/index.ts";
import { KafkaClient } from "../../../lib/kafka/client.ts";
import { RedisMixin } from "../../../mixins/redis.mixin.ts";
import IngestService from "../../../services/ingest.service.ts";
import { captureLogger, eventually, testBroker, testSettings, uniqueName, type CapturedLine } from "../../support/cluster.ts";

const quietLog = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined };

interface Status {
	consuming: boolean;
	handled: number;
	refused: number;
}

describe("ingest service (Kafka Monitor)", () => {
	const spider = uniqueName("it").replace(/-/g, "_");
	let settings: Settings;
	let producer: KafkaClient;
	let admin: ServiceBroker;
	let redis: Redis;
	const brokers: ServiceBroker[] = [];

	/** Start an ingest node on the test topic; returns its broker and captured log lines. */
	async function startIngest(extra: (b: ServiceBroker) => void = () => undefined, topicSettings: Settings = settings) {
		const { logger, lines } = captureLogger();
		const broker = testBroker(topicSettings, { logger });
		broker.createService(IngestService);
		extra(broker);
		brokers.push(broker);
		await broker.start();
		await eventually(async () => ((await broker.call("ingest.status")) as Status).consuming, 30000);
		return { broker, lines };
	}

	const feed = (topic: string, ...values: Array<string | object | Buffer>) =>
		producer.send(
			topic,
			values.map(v => ({ value: Buffer.isBuffer(v) ? v : typeof v === "string" ? v : JSON.stringify(v) }))
		);

	const status = (b: ServiceBroker) => b.call("ingest.status") as Promise<Status>;
	const queueKeys = () => redis.keys(`${spider}:*:queue`);

	beforeAll(async () => {
		settings = testSettings({
			KAFKA_INCOMING_TOPIC: uniqueName("it.incoming"),
			KAFKA_INCOMING_PARTITIONS: 4,
			KAFKA_GROUP: uniqueName("it-ingest"),
			KAFKA_CONSUMER_COMMIT_INTERVAL_MS: 200
		});
		producer = new KafkaClient(settings, "it-producer", quietLog);
		admin = testBroker(settings);
		const svc = admin.createService({ name: "redis-probe", mixins: [RedisMixin()] }) as unknown as { redis: Redis };
		await admin.start();
		redis = svc.redis;
	});

	afterEach(async () => {
		await Promise.all(brokers.splice(0).map(b => b.stop()));
	});

	afterAll(async () => {
		const keys = await redis.keys(`*${spider}*`);
		if (keys.length) await redis.del(...keys);
		await producer.close();
		await admin.stop();
	});

	// First: kafkajs keeps retrying the unreachable broker for a few seconds after stop (it has no way to
	// cancel that), and those timers end while the other tests run.
	it("comes up while Kafka is unreachable, reports it, and stops in bounded time", async () => {
		const away = testSettings({ ...settings, KAFKA_HOSTS: "127.0.0.1:1", KAFKA_CONN_TIMEOUT: 1 });
		const { logger, lines } = captureLogger();
		const broker = testBroker(away, { logger });
		broker.createService(IngestService);
		const t0 = Date.now();
		await broker.start();
		expect(Date.now() - t0).toBeLessThan(5000);
		expect(await status(broker)).toMatchObject({ consuming: false });
		expect(await eventually(() => lines.some(l => l.message === "Cannot join the incoming topic yet, retrying; check KAFKA_HOSTS"), 20000)).toBe(true);
		const t1 = Date.now();
		await broker.stop();
		expect(Date.now() - t1).toBeLessThan(10000);
	});

	it("creates the incoming topic with KAFKA_INCOMING_PARTITIONS partitions and queues a crawl request exactly as the original", async () => {
		const { lines } = await startIngest();
		expect(await producer.partitionCount(settings.KAFKA_INCOMING_TOPIC)).toBe(4);
		const before = Date.now() / 1000;
		await feed(settings.KAFKA_INCOMING_TOPIC, { url: "http://www.example.co.uk/a?b=1", appid: "testapp", crawlid: "crawl1", spiderid: spider, priority: 90, maxdepth: 2, expires: 1999999999 });
		const key = `${spider}:example.co.uk:queue`;
		expect(await eventually(() => redis.zcard(key), 20000)).toBe(1);
		const [member, score] = await redis.zrange(key, 0, -1, "WITHSCORES");
		// score = -priority, plus a tiny first-in first-out sequence part
		expect(Number(score)).toBeGreaterThan(-90);
		expect(Number(score)).toBeCloseTo(-90, 1);
		expect(await redis.sismember(`${spider}:queues`, key)).toBe(1);
		const stored = JSON.parse(member!) as Record<string, unknown>;
		expect(stored).toEqual({
			url: "http://www.example.co.uk/a?b=1",
			appid: "testapp",
			crawlid: "crawl1",
			spiderid: spider,
			priority: 90,
			maxdepth: 2,
			expires: 1999999999,
			domain_max_pages: null,
			allowed_domains: null,
			allow_regex: null,
			deny_regex: null,
			deny_extensions: null,
			useragent: null,
			cookie: null,
			attrs: null,
			ts: expect.any(Number)
		});
		expect(stored.ts as number).toBeGreaterThanOrEqual(before - 1);
		expect(await redis.get(`timeout:${spider}:testapp:crawl1`)).toBe("1999999999");
		expect(lines.some(l => l.message === "Added crawl to Redis" && l.data.crawlid === "crawl1")).toBe(true);
	});

	it("hands action, stats and zookeeper requests to their services, with defaults filled in", async () => {
		const received: Record<string, Array<Record<string, unknown>>> = { info: [], stop: [], stats: [], zookeeper: [] };
		await startIngest(b => {
			for (const name of Object.keys(received))
				b.createService({ name, actions: { handle: { handler: ctx => void received[name]!.push(ctx.params as Record<string, unknown>) } } });
		});
		await feed(
			settings.KAFKA_INCOMING_TOPIC,
			{ action: "info", appid: "testapp", crawlid: "ABC123", uuid: "abc12333", spiderid: "link" },
			{ action: "stop", appid: "testapp", crawlid: "ist234", uuid: "list234", spiderid: "link" },
			{ uuid: "stats-all", appid: "testapp" },
			{ uuid: "zk-1", appid: "testapp", action: "domain-update", domain: "dmoz.org", hits: 60, window: 60, scale: 0.9 }
		);
		await eventually(() => Object.values(received).every(r => r.length === 1), 20000);
		expect(received.info![0]).toMatchObject({ action: "info", appid: "testapp", crawlid: "ABC123", uuid: "abc12333", spiderid: "link", ts: expect.any(Number) });
		expect(received.stop![0]).toMatchObject({ action: "stop", crawlid: "ist234", uuid: "list234" });
		expect(received.stats![0]).toMatchObject({ uuid: "stats-all", appid: "testapp", stats: "all" });
		expect(received.zookeeper![0]).toMatchObject({ action: "domain-update", domain: "dmoz.org", hits: 60, window: 60, scale: 0.9 });
	});

	it("refuses bad input with a logged reason, counts it in fail, keeps running and changes nothing else", async () => {
		const { broker, lines } = await startIngest();
		const failKey = "stats:kafka-monitor:fail:900";
		const failBefore = await redis.zcard(failKey);
		const keysBefore = await queueKeys();
		const bad: Array<[string | Buffer, string]> = [
			["{not json", "Unparseable JSON Received"],
			[Buffer.from([0xff, 0xfe, 0x00, 0x01]), "Unparseable JSON Received"],
			["", "Unparseable JSON Received"],
			["[1,2,3]", "Did not find schema to validate request"],
			[JSON.stringify({ url: "http://example.com", appid: "testapp", crawlid: "x", unknown: 1, spiderid: spider }), "Did not find schema to validate request"],
			[JSON.stringify({ url: "http://example.com", appid: "ab", crawlid: "x", spiderid: spider }), "Did not find schema to validate request"],
			[JSON.stringify({ url: "ftp://example.com/file", appid: "testapp", crawlid: "x", spiderid: spider }), "Refused request"],
			[JSON.stringify({ url: "http://example.com", appid: "testapp", crawlid: "a:b", spiderid: spider }), "Refused request"],
			[JSON.stringify({ uuid: "z", appid: "testapp", action: "domain-update", domain: "example.com" }), "Refused request"]
		];
		const { refused: refusedBefore } = await status(broker);
		await feed(settings.KAFKA_INCOMING_TOPIC, ...bad.map(([v]) => v));
		// A valid request after the bad ones proves the service kept going.
		await feed(settings.KAFKA_INCOMING_TOPIC, { url: "http://after.example.com/", appid: "testapp", crawlid: "after", spiderid: spider });
		await eventually(() => redis.exists(`${spider}:example.com:queue`), 20000);
		expect((await status(broker)).refused - refusedBefore).toBe(bad.length);
		expect(await redis.zcard(failKey)).toBe(failBefore + bad.length);
		const warnings = lines.filter((l: CapturedLine) => l.level === "warn");
		for (const [, message] of bad) expect(warnings.some(w => w.message === message)).toBe(true);
		const refusedFtp = warnings.find(w => String(w.data.reason ?? "").includes("only http and https"));
		expect(refusedFtp).toBeDefined();
		expect(warnings.find(w => String(w.data.reason ?? "").includes("contains a character that breaks Redis key formats"))).toBeDefined();
		expect(warnings.find(w => w.data.reason === "'hits' and 'window' not set for domain update")).toBeDefined();
		// nothing but the one valid request reached Redis
		expect((await queueKeys()).sort()).toEqual([...new Set([...keysBefore, `${spider}:example.com:queue`])].sort());
		expect(await redis.zcard(`${spider}:example.com:queue`)).toBe(1);
		// lifetime and per-kind counters as the original names them
		expect(await redis.pfcount("stats:kafka-monitor:total:lifetime")).toBeGreaterThan(0);
		expect(await redis.zcard("stats:kafka-monitor:ScraperHandler:900")).toBeGreaterThan(0);
	});

	it("waits and retries while the service a request needs is missing, then delivers it: nothing is dropped", async () => {
		const single = testSettings({ ...settings, KAFKA_INCOMING_TOPIC: uniqueName("it.incoming1"), KAFKA_INCOMING_PARTITIONS: 1, KAFKA_GROUP: uniqueName("it-wait") });
		const { broker, lines } = await startIngest(undefined, single);
		await feed(single.KAFKA_INCOMING_TOPIC, { action: "info", appid: "testapp", uuid: "late-1", spiderid: "link" });
		await feed(single.KAFKA_INCOMING_TOPIC, { url: "http://behind.example.org/", appid: "testapp", crawlid: "behind", spiderid: spider });
		expect(await eventually(() => lines.some(l => l.message === "Request cannot be handled now, retrying"), 20000)).toBe(true);
		// the crawl request behind it in the same partition waits too (order per partition is kept)
		await new Promise(r => setTimeout(r, 1000));
		expect(await redis.exists(`${spider}:example.org:queue`)).toBe(0);

		const received: unknown[] = [];
		broker.createService({ name: "info", actions: { handle: { handler: ctx => void received.push(ctx.params) } } });
		await eventually(() => received.length === 1, 20000);
		expect(received[0]).toMatchObject({ uuid: "late-1", action: "info" });
		expect(await eventually(() => redis.exists(`${spider}:example.org:queue`), 20000)).toBe(1);
		expect(lines.some(l => l.message === "Request handled after retries")).toBe(true);
	});

	it("shares the partitions between two instances: every request handled once", async () => {
		const shared = testSettings({ ...settings, KAFKA_INCOMING_TOPIC: uniqueName("it.shared"), KAFKA_GROUP: uniqueName("it-shared") });
		const a = await startIngest(undefined, shared);
		const b = await startIngest(undefined, shared);
		// wait for the group to settle with both members
		await new Promise(r => setTimeout(r, 3000));
		const n = 200;
		await producer.send(
			shared.KAFKA_INCOMING_TOPIC,
			Array.from({ length: n }, (_, i) => ({ key: `k${i}`, value: JSON.stringify({ url: `http://shared.example.net/${i}`, appid: "testapp", crawlid: `s${i}`, spiderid: spider }) }))
		);
		const key = `${spider}:example.net:queue`;
		expect(await eventually(async () => (await redis.zcard(key)) >= n, 30000)).toBe(true);
		await new Promise(r => setTimeout(r, 1000));
		const [sa, sb] = await Promise.all([status(a.broker), status(b.broker)]);
		console.log(`two ingest instances: ${sa.handled} + ${sb.handled} handled of ${n} sent; ${await redis.zcard(key)} queued`);
		expect(sa.handled + sb.handled).toBe(n);
		expect(sa.handled).toBeGreaterThan(0);
		expect(sb.handled).toBeGreaterThan(0);
		expect(await redis.zcard(key)).toBe(n);
	});

	it("loses no request when ingest is restarted mid-stream", async () => {
		const restart = testSettings({ ...settings, KAFKA_INCOMING_TOPIC: uniqueName("it.restart"), KAFKA_GROUP: uniqueName("it-restart") });
		const first = await startIngest(undefined, restart);
		const n = 300;
		const requests = Array.from({ length: n }, (_, i) => ({ value: JSON.stringify({ url: `http://restart.example.io/${i}`, appid: "testapp", crawlid: `r${i}`, spiderid: spider }) }));
		const sending = (async () => {
			for (let i = 0; i < n; i += 30) {
				await producer.send(restart.KAFKA_INCOMING_TOPIC, requests.slice(i, i + 30));
				await new Promise(r => setTimeout(r, 50));
			}
		})();
		const key = `${spider}:example.io:queue`;
		await eventually(async () => (await redis.zcard(key)) >= 30, 20000);
		await first.broker.stop();
		brokers.splice(brokers.indexOf(first.broker), 1);
		const handledBeforeRestart = await redis.zcard(key);
		await sending;
		await startIngest(undefined, restart);
		const crawlids = async () => new Set((await redis.zrange(key, 0, -1)).map(m => (JSON.parse(m) as { crawlid: string }).crawlid));
		expect(await eventually(async () => (await crawlids()).size === n, 30000)).toBe(true);
		const total = await redis.zcard(key);
		console.log(`restart mid-stream: ${handledBeforeRestart} handled before the restart, ${n} distinct of ${n} sent after it, ${total - n} handled twice`);
		expect((await crawlids()).size).toBe(n);
	});
});
