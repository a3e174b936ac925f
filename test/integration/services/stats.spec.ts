/**
 * The stats service (StatsMonitor) against the real Redis and Kafka: stats requests of every type fed to
 * a private incoming topic are answered on <prefix>.outbound_firehose in the original's shapes with the
 * values of known stats keys written here; two instances answer each request exactly once.
 *
 * Other test files share Redis DB 9 and the component names are fixed, so the keys written here use
 * unique host, spider and plugin names, and only those entries are asserted exactly.
 */
import { hostname } from "node:os";
import type { Redis } from "ioredis";
import type { BrokerOptions, ServiceBroker } from "moleculer";
import type { Settings } from "../../../config/index.ts";
import { KafkaClient } from "../../../lib/kafka/client.ts";
import { RedisMixin } from "../../../mixins/redis.mixin.ts";
import IngestService from "../../../services/ingest.service.ts";
import StatsService from "../../../services/stats.service.ts";
import { captureLogger, eventually, testBroker, testSettings, uniqueName, type CapturedLine } from "../../support/cluster.ts";

const quietLog = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined };

type Answer = Record<string, unknown> & { uuid: string; server_time: number; stats: string; appid: string };
type Dict = Record<string, unknown>;

describe("stats service (StatsMonitor)", () => {
	const tag = uniqueName("it").replace(/-/g, "_");
	const hostA = `${tag}-hostA`;
	const hostB = `${tag}-hostB`;
	const spider = `${tag}_spider`;
	const spider2 = `${tag}_other`;
	const kmPlugin = `ItHandler_${tag}`;
	const rmPlugin = `ItMonitor_${tag}`;
	const ids = { km1: "0a0a0a0a0a01", km2: "0a0a0a0a0a02", rest: "0b0b0b0b0b01", crawlA: "0c0c0c0c0c01", crawlB: "123456789012" };

	let settings: Settings;
	let kafka: KafkaClient;
	let admin: ServiceBroker;
	let redis: Redis;
	let stopReader: (() => Promise<void>) | null = null;
	const answers: Answer[] = [];
	const brokers: ServiceBroker[] = [];
	const written = new Set<string>();

	async function startNode(services: Array<"ingest" | "stats">, options: Parameters<typeof testBroker>[1] = {}) {
		const broker = testBroker(settings, options);
		if (services.includes("ingest")) broker.createService(IngestService);
		if (services.includes("stats")) broker.createService(StatsService);
		brokers.push(broker);
		await broker.start();
		if (services.includes("ingest")) await eventually(async () => ((await broker.call("ingest.status")) as { consuming: boolean }).consuming, 30000);
		return broker;
	}

	const feed = (...requests: object[]) => kafka.send(settings.KAFKA_INCOMING_TOPIC, requests.map(r => ({ value: JSON.stringify(r) })));
	const answersFor = (uuid: string) => answers.filter(a => a.uuid === uuid);
	async function answerOf(uuid: string): Promise<Answer> {
		await eventually(() => answersFor(uuid).length > 0, 30000);
		const got = answersFor(uuid);
		expect(got).toHaveLength(1);
		return got[0]!;
	}

	/** A window ZSET with `fresh` events now and `stale` events older than the window (not yet trimmed). */
	async function windowKey(key: string, seconds: number, fresh: number, stale = 0) {
		const now = Date.now() / 1000;
		const args: Array<string | number> = [];
		for (let i = 0; i < fresh; i++) args.push(now - i, `fresh-${i}`);
		for (let i = 0; i < stale; i++) args.push(now - seconds - 100 - i, `stale-${i}`);
		await redis.zadd(key, ...args);
		await redis.expire(key, 600);
		written.add(key);
	}
	async function lifetimeKey(key: string, count: number) {
		await redis.pfadd(key, ...Array.from({ length: count }, (_, i) => `event-${i}`));
		await redis.expire(key, 600);
		written.add(key);
	}
	async function heartbeat(key: string) {
		await redis.set(key, String(Date.now() / 1000), "EX", 600);
		written.add(key);
	}

	beforeAll(async () => {
		settings = testSettings({
			KAFKA_TOPIC_PREFIX: tag,
			KAFKA_INCOMING_TOPIC: `${tag}.incoming`,
			KAFKA_INCOMING_PARTITIONS: 2,
			KAFKA_GROUP: `${tag}-group`,
			KAFKA_PRODUCER_BATCH_LINGER_MS: 5,
			KAFKA_CONSUMER_COMMIT_INTERVAL_MS: 200
		});
		kafka = new KafkaClient(settings, "it-stats", quietLog);
		const outbound = `${tag}.outbound_firehose`;
		await kafka.ensureTopics([{ topic: outbound, partitions: 1 }]);
		const reader = await kafka.consume({
			groupId: uniqueName("it-stats-outbound"),
			topics: [outbound],
			fromBeginning: true,
			onMessage: async m => void answers.push(JSON.parse(m.value!.toString("utf8")) as Answer)
		});
		stopReader = () => reader.stop();
		admin = testBroker(settings);
		const probe = admin.createService({ name: "probe", mixins: [RedisMixin()] }) as unknown as { redis: Redis };
		await admin.start();
		redis = probe.redis;

		// kafka-monitor: two instances on hostA and a plugin of our own
		await heartbeat(`stats:kafka-monitor:self:${hostA}:${ids.km1}`);
		await heartbeat(`stats:kafka-monitor:self:${hostA}:${ids.km2}`);
		await windowKey(`stats:kafka-monitor:${kmPlugin}:900`, 900, 3, 2);
		await windowKey(`stats:kafka-monitor:${kmPlugin}:3600`, 3600, 4);
		await lifetimeKey(`stats:kafka-monitor:${kmPlugin}:lifetime`, 7);
		// redis-monitor: a plugin whose 900 window has only stale events
		await windowKey(`stats:redis-monitor:${rmPlugin}:900`, 900, 0, 3);
		await windowKey(`stats:redis-monitor:${rmPlugin}:86400`, 86400, 2);
		await lifetimeKey(`stats:redis-monitor:${rmPlugin}:lifetime`, 2);
		// rest: one instance
		await heartbeat(`stats:rest:self:${hostA}:${ids.rest}`);
		// crawlers: `spider` on hostA and hostB (an all-digit instance id on B), `spider2` counted on hostA only
		await heartbeat(`stats:crawler:${hostA}:${spider}:${ids.crawlA}`);
		await heartbeat(`stats:crawler:${hostB}:${spider}:${ids.crawlB}`);
		await windowKey(`stats:crawler:${hostA}:${spider}:200:900`, 900, 3, 1);
		await lifetimeKey(`stats:crawler:${hostA}:${spider}:200:lifetime`, 5);
		await windowKey(`stats:crawler:${hostB}:${spider}:200:900`, 900, 2);
		await lifetimeKey(`stats:crawler:${hostB}:${spider}:200:lifetime`, 4);
		await lifetimeKey(`stats:crawler:${hostB}:${spider}:404:lifetime`, 1);
		await windowKey(`stats:crawler:${hostB}:${spider}:504:900`, 900, 0, 2);
		await windowKey(`stats:crawler:${hostA}:${spider2}:200:900`, 900, 1);
		await lifetimeKey(`stats:crawler:${hostA}:${spider2}:200:lifetime`, 1);
		// queues: one registered, one only findable by scanning, a registered one that is gone
		const qa = `${spider}:a.example:queue`;
		const qb = `${spider}:b.example:queue`;
		await redis.zadd(qa, -90, "r1", -80, "r2", -70, "r3");
		await redis.zadd(qb, -50, "r4");
		await redis.sadd(`${spider}:queues`, qa, `${spider}:gone.example:queue`);
		for (const k of [qa, qb, `${spider}:queues`]) written.add(k);
	});

	afterEach(async () => {
		await Promise.all(brokers.splice(0).map(b => b.stop()));
	});

	afterAll(async () => {
		await stopReader?.();
		await kafka.close();
		const uuids = new Set(answers.map(a => a.uuid));
		const markers = [...uuids].flatMap(u => [`done:StatsMonitor:${u}`, `lock:StatsMonitor:${u}`, `lock:StatsMonitor:${u}:failures`]);
		const keys = [...written, ...markers];
		if (keys.length) await redis.del(...keys);
		await admin.stop();
	});

	it("answers every stats type on the outbound topic with the original's shapes and the counts in Redis", async () => {
		const broker = await startNode(["ingest", "stats"]);
		const types = ["kafka-monitor", "redis-monitor", "rest", "spider", "machine", "queue", "crawler", "all"] as const;
		const uuid = (t: string) => `${tag}-${t}`;
		const before = Math.floor(Date.now() / 1000);
		// `all` goes last, once the others were answered (messages of one batch may land on different
		// partitions and be handled in any order)
		await feed(...types.filter(t => t !== "all").map(t => ({ uuid: uuid(t), appid: "testapp", stats: t })));
		const got: Record<string, Answer> = {};
		for (const t of types.filter(t => t !== "all")) got[t] = await answerOf(uuid(t));
		await feed({ uuid: uuid("all"), appid: "testapp", stats: "all" });
		got.all = await answerOf(uuid("all"));

		for (const t of types) {
			const a = got[t]!;
			expect(a).toMatchObject({ uuid: uuid(t), appid: "testapp", stats: t });
			expect(a.server_time).toBeGreaterThanOrEqual(before);
			expect(a.server_time).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
		}

		// kafka-monitor: our hosts' nodes and plugin exactly (stale window events not counted); the ingest
		// of this test counted the requests themselves in total and StatsHandler (at least this one when
		// it was answered)
		const km = got["kafka-monitor"]!;
		expect(Object.keys(km).sort()).toEqual(["appid", "nodes", "plugins", "server_time", "stats", "total", "uuid", ...(km.fail ? ["fail"] : [])].sort());
		expect((km.nodes as Dict)[hostA]).toEqual([ids.km1, ids.km2]);
		expect((km.plugins as Dict)[kmPlugin]).toEqual({ "900": 3, "3600": 4, lifetime: 7 });
		expect(((km.plugins as Dict).StatsHandler as Dict)["900"]).toBeGreaterThanOrEqual(1);
		expect(((km.total as Dict)["900"] as number)).toBeGreaterThanOrEqual(1);
		expect(((km.total as Dict).lifetime as number)).toBeGreaterThanOrEqual(1);
		// answered last, `all` saw every request of this test counted
		const allKm = got.all!["kafka-monitor"] as Dict;
		expect((((allKm.plugins as Dict).StatsHandler as Dict)["900"] as number)).toBeGreaterThanOrEqual(types.length);
		expect(((allKm.total as Dict)["900"] as number)).toBeGreaterThanOrEqual(types.length);

		// redis-monitor: the running stats service's own heartbeat and counters, our plugin without the
		// window whose events all aged out
		const rm = got["redis-monitor"]!;
		const svc = broker.getLocalService("stats") as unknown as { statsInstanceId: string };
		expect((rm.nodes as Dict)[hostname()]).toContain(svc.statsInstanceId);
		expect((rm.plugins as Dict)[rmPlugin]).toEqual({ "86400": 2, lifetime: 2 });
		expect(((rm.plugins as Dict).StatsMonitor as Dict).lifetime).toBeGreaterThanOrEqual(1);
		expect(((rm.total as Dict).lifetime as number)).toBeGreaterThanOrEqual(1);

		// rest
		expect((got.rest!.nodes as Dict)[hostA]).toEqual([ids.rest]);
		expect(got.rest!.total).toBeUndefined();

		// spider: counts summed over hostA and hostB, stale-only windows absent, heartbeats counted
		const expectedSpider = { count: 2, "200": { "900": 5, lifetime: 9 }, "404": { lifetime: 1 } };
		const expectedSpider2 = { count: 0, "200": { "900": 1, lifetime: 1 } };
		const spiders = got.spider!.spiders as Dict;
		expect(spiders[spider]).toEqual(expectedSpider);
		expect(spiders[spider2]).toEqual(expectedSpider2);
		expect(spiders.unique_spider_count).toBeGreaterThanOrEqual(1);
		expect(spiders.total_spider_count).toBeGreaterThanOrEqual(2);

		// machine: summed over the spiders of a host; hosts counted
		const expectedA = { "200": { "900": 4, lifetime: 6 } };
		const expectedB = { "200": { "900": 2, lifetime: 4 }, "404": { lifetime: 1 } };
		const machines = got.machine!.machines as Dict;
		expect(machines[hostA]).toEqual(expectedA);
		expect(machines[hostB]).toEqual(expectedB);
		expect(machines.count).toBeGreaterThanOrEqual(2);
		expect(machines.count).toBe(Object.keys(machines).length - 1);

		// queue: the registered queue, the scanned one, not the vanished one
		const expectedQueue = {
			spider_backlog: 4,
			num_domains: 2,
			domains: [
				{ domain: "a.example", backlog: 3 },
				{ domain: "b.example", backlog: 1 }
			]
		};
		const queues = got.queue!.queues as Dict;
		expect(queues[`queue_${spider}`]).toEqual(expectedQueue);
		expect(queues.total_backlog).toBeGreaterThanOrEqual(4);

		// crawler: the three combined, under `queue`
		const crawler = got.crawler!;
		expect(Object.keys(crawler).sort()).toEqual(["appid", "machines", "queue", "server_time", "spiders", "stats", "uuid"]);
		expect((crawler.spiders as Dict)[spider]).toEqual(expectedSpider);
		expect((crawler.machines as Dict)[hostB]).toEqual(expectedB);
		expect((crawler.queue as Dict)[`queue_${spider}`]).toEqual(expectedQueue);

		// all: the four reports
		const all = got.all!;
		expect(Object.keys(all).sort()).toEqual(["appid", "crawler", "kafka-monitor", "redis-monitor", "rest", "server_time", "stats", "uuid"]);
		expect(((all["kafka-monitor"] as Dict).plugins as Dict)[kmPlugin]).toEqual({ "900": 3, "3600": 4, lifetime: 7 });
		expect(((all["redis-monitor"] as Dict).plugins as Dict)[rmPlugin]).toEqual({ "86400": 2, lifetime: 2 });
		expect(((all.rest as Dict).nodes as Dict)[hostA]).toEqual([ids.rest]);
		const allCrawler = all.crawler as Dict;
		expect(Object.keys(allCrawler).sort()).toEqual(["machines", "queue", "spiders"]);
		expect((allCrawler.spiders as Dict)[spider2]).toEqual(expectedSpider2);
		expect((allCrawler.machines as Dict)[hostA]).toEqual(expectedA);
		expect((allCrawler.queue as Dict)[`queue_${spider}`]).toEqual(expectedQueue);

		// the stats service counted its work under the original's redis-monitor keys
		expect(await redis.pfcount("stats:redis-monitor:StatsMonitor:lifetime")).toBeGreaterThanOrEqual(types.length);
	});

	it("with two instances, answers each request exactly once", async () => {
		// Two nodes over a Redis transporter: the ingest spreads the calls over both stats instances.
		const cluster: BrokerOptions = { transporter: { type: "Redis", options: { host: settings.REDIS_HOST, port: settings.REDIS_PORT } }, namespace: tag, registry: { preferLocal: false } };
		const logA = captureLogger();
		const logB = captureLogger();
		const a = await startNode(["ingest", "stats"], { ...cluster, logger: logA.logger });
		const b = await startNode(["stats"], { ...cluster, logger: logB.logger });
		await eventually(async () => ((await a.call("$node.services", { onlyAvailable: true })) as Array<{ name: string; nodes?: string[] }>).find(s => s.name === "stats")?.nodes?.length === 2, 20000);

		const uuids = Array.from({ length: 10 }, (_, i) => `${tag}-twice-${i}`);
		await feed(...uuids.map(uuid => ({ uuid, appid: "testapp", stats: "queue" })));
		const mine = () => answers.filter(x => uuids.includes(x.uuid));
		expect(await eventually(() => mine().length >= 10, 30000)).toBe(true);
		await new Promise(r => setTimeout(r, 3000));
		expect(mine()).toHaveLength(10);
		expect(new Set(mine().map(x => x.uuid)).size).toBe(10);
		for (const x of mine()) expect(((x.queues as Dict)[`queue_${spider}`] as Dict).spider_backlog).toBe(4);
		const received = (lines: CapturedLine[]) => lines.filter(l => l.message === "Received queue stats request" && uuids.includes(String(l.data.uuid))).length;
		expect(received(logA.lines) + received(logB.lines)).toBe(10);
		expect(received(logA.lines)).toBeGreaterThan(0);
		expect(received(logB.lines)).toBeGreaterThan(0);

		// The same request handed to both instances at once (a redelivery racing the first delivery):
		// one answers, the other is told it is taken or already done.
		const uuid = `${tag}-race`;
		const request = { uuid, appid: "testapp", stats: "rest" };
		const results = await Promise.allSettled([a.call("stats.handle", request, { nodeID: a.nodeID }), b.call("stats.handle", request, { nodeID: b.nodeID })]);
		const answered = results.filter(r => r.status === "fulfilled" && (r.value as Dict).server_time !== undefined);
		expect(answered).toHaveLength(1);
		// a later redelivery is recognised as done
		expect(await b.call("stats.handle", request, { nodeID: b.nodeID })).toEqual({ duplicate: true, uuid });
		await eventually(() => answersFor(uuid).length > 0, 20000);
		await new Promise(r => setTimeout(r, 1500));
		expect(answersFor(uuid)).toHaveLength(1);
	});
});
