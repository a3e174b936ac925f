/**
 * info, stop and expire through the Kafka API (feed in, read the outbound topic) against the real data
 * stack: the original's response shapes and values on crawls with known pending requests; each request
 * answered once with two instances of each service.
 */
import type { Redis } from "ioredis";
import type { ServiceBroker } from "moleculer";
import type { Settings } from "../../../config/index.ts";
import { KafkaClient } from "../../../lib/kafka/client.ts";
import { RedisMixin } from "../../../mixins/redis.mixin.ts";
import ExpireService from "../../../services/expire.service.ts";
import InfoService from "../../../services/info.service.ts";
import IngestService from "../../../services/ingest.service.ts";
import StatsService from "../../../services/stats.service.ts";
import StopService from "../../../services/stop.service.ts";
import { eventually, feedTo, prefixedSettings, testBroker, uniqueName } from "../../support/cluster.ts";

const quietLog = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined };
type Answer = Record<string, unknown>;

describe("info, stop and expire services", () => {
	let base: Settings;
	let kafka: KafkaClient;
	let redis: Redis;
	let admin: ServiceBroker;
	const brokers: ServiceBroker[] = [];
	const answers: Answer[] = [];
	let stopReader: () => Promise<void> = async () => undefined;
	// A spider type no crawler runs: the queued requests stay put (and are never fetched).
	const spider = uniqueName("act").replace(/-/g, "_");

	const feed = (...requests: object[]) => feedTo(kafka, base, ...requests);
	const answerFor = (uuid: string) => eventually(() => answers.find(a => a.uuid === uuid), 20000);
	const seed = (crawlid: string, url: string, priority: number, extra: object = {}) => ({ url, appid: "testapp", crawlid, spiderid: spider, priority, ...extra });

	async function startNode(withExpire = false) {
		const broker = testBroker(base);
		broker.createService(IngestService);
		broker.createService(InfoService);
		broker.createService(StopService);
		if (withExpire) broker.createService(ExpireService);
		brokers.push(broker);
		await broker.start();
		await eventually(async () => ((await broker.call("ingest.status")) as { consuming: boolean }).consuming, 30000);
		return broker;
	}

	beforeAll(async () => {
		const prefix = uniqueName("ac").replace(/-/g, "_");
		base = prefixedSettings(prefix, { KAFKA_PRODUCER_BATCH_LINGER_MS: 5 });
		kafka = new KafkaClient(base, "it-actions", quietLog);
		await kafka.ensureTopics([{ topic: `${prefix}.outbound_firehose`, partitions: 1 }]);
		const reader = await kafka.consume({
			groupId: uniqueName("it-outbound"),
			topics: [`${prefix}.outbound_firehose`],
			fromBeginning: true,
			onMessage: async m => void answers.push(JSON.parse(m.value!.toString()) as Answer)
		});
		stopReader = () => reader.stop();
		admin = testBroker(base);
		const probe = admin.createService({ name: "probe", mixins: [RedisMixin()] }) as unknown as { redis: Redis };
		await admin.start();
		redis = probe.redis;
		await startNode(true);
		await startNode(true);
	});

	afterAll(async () => {
		await Promise.all(brokers.map(b => b.stop()));
		await stopReader();
		await kafka.close();
		const keys = await redis.keys(`*${spider}*`);
		if (keys.length) await redis.del(...keys);
		await admin.stop();
	});

	it("info for a crawlid and for an appid: pending totals, domains, priority bounds, expiry", async () => {
		const crawl = uniqueName("info");
		const other = uniqueName("info2");
		await feed(
			seed(crawl, "http://www.example.com/1", 90),
			seed(crawl, "http://www.example.com/2", 20),
			seed(crawl, "http://news.example.com/3", 50),
			seed(crawl, "http://b.example.org/4", 5, { expires: 1999999999 }),
			seed(other, "http://example.net/5", 1)
		);
		await eventually(async () => (await redis.zcard(`${spider}:example.net:queue`)) === 1, 20000);
		await eventually(async () => (await redis.zcard(`${spider}:example.com:queue`)) === 3, 20000);

		await feed({ action: "info", appid: "testapp", crawlid: crawl, uuid: `${crawl}-q1`, spiderid: spider });
		const one = await answerFor(`${crawl}-q1`);
		expect(one).toEqual({
			uuid: `${crawl}-q1`,
			server_time: expect.any(Number),
			total_pending: 4,
			total_domains: 2,
			appid: "testapp",
			crawlid: crawl,
			spiderid: spider,
			expires: "1999999999",
			domains: {
				"example.com": { total: 3, high_priority: 90, low_priority: 20 },
				"example.org": { total: 1, high_priority: 5, low_priority: 5 }
			}
		});
		expect(Math.abs((one!.server_time as number) - Date.now() / 1000)).toBeLessThan(30);

		await feed({ action: "info", appid: "testapp", uuid: `${crawl}-q2`, spiderid: spider });
		const app = await answerFor(`${crawl}-q2`);
		expect(app).toMatchObject({ total_pending: 5, total_domains: 3, total_crawlids: 2, appid: "testapp", spiderid: spider });
		expect((app!.crawlids as Record<string, unknown>)[crawl]).toEqual({
			total: 4,
			distinct_domains: 2,
			expires: 1999999999,
			domains: { "example.com": { total: 3, high_priority: 90, low_priority: 20 }, "example.org": { total: 1, high_priority: 5, low_priority: 5 } }
		});
		expect((app!.crawlids as Record<string, unknown>)[other]).toEqual({ total: 1, distinct_domains: 1, domains: { "example.net": { total: 1, high_priority: 1, low_priority: 1 } } });
	});

	it("stop purges every pending request of the crawl from all domain queues and blacklists it", async () => {
		const crawl = uniqueName("stop");
		const keep = uniqueName("keep");
		await feed(seed(crawl, "http://a.example.io/1", 10), seed(crawl, "http://b.example.io/2", 10), seed(crawl, "http://c.example.dev/3", 3), seed(keep, "http://a.example.io/9", 10));
		await eventually(async () => (await redis.zcard(`${spider}:example.io:queue`)) >= 3, 20000);
		await eventually(async () => (await redis.zcard(`${spider}:example.dev:queue`)) >= 1, 20000);
		await feed({ action: "stop", appid: "testapp", crawlid: crawl, uuid: `${crawl}-s`, spiderid: spider });
		const answer = await answerFor(`${crawl}-s`);
		expect(answer).toEqual({ action: "stop", spiderid: spider, appid: "testapp", crawlid: crawl, total_purged: 3, uuid: `${crawl}-s`, server_time: expect.any(Number) });
		const left = (await redis.zrange(`${spider}:example.io:queue`, 0, -1)).map(m => (JSON.parse(m) as { crawlid: string }).crawlid);
		expect(left).toEqual([keep]);
		expect(await redis.exists(`${spider}:example.dev:queue`)).toBe(0);
		expect(await redis.sismember(`${spider}:blacklist`, `testapp||${crawl}`)).toBe(1);
		expect(await redis.exists(`${spider}:pending:testapp:${crawl}`)).toBe(0);
		// and info agrees
		await feed({ action: "info", appid: "testapp", crawlid: crawl, uuid: `${crawl}-i`, spiderid: spider });
		expect(await answerFor(`${crawl}-i`)).toMatchObject({ total_pending: 0, total_domains: 0, domains: {} });
	});

	it("expires a crawl once when its time passes, with two expire instances running", async () => {
		const crawl = uniqueName("exp");
		const expires = Math.floor(Date.now() / 1000) + 2;
		await feed(seed(crawl, "http://x.example.co/1", 1, { expires }), seed(crawl, "http://y.example.co/2", 1, { expires }));
		await eventually(async () => (await redis.zcard(`${spider}:example.co:queue`)) === 2, 20000);
		expect(await redis.get(`timeout:${spider}:testapp:${crawl}`)).toBe(String(expires));
		const expired = await eventually(() => answers.find(a => a.action === "expired" && a.crawlid === crawl), 20000);
		expect(expired).toEqual({ server_time: expect.any(Number), crawlid: crawl, spiderid: spider, appid: "testapp", total_expired: 2, action: "expired" });
		await new Promise(r => setTimeout(r, 2500));
		expect(answers.filter(a => a.action === "expired" && a.crawlid === crawl)).toHaveLength(1);
		expect(await redis.exists(`timeout:${spider}:testapp:${crawl}`)).toBe(0);
		expect(await redis.exists(`${spider}:example.co:queue`)).toBe(0);
		expect(await redis.sismember(`${spider}:blacklist`, `testapp||${crawl}`)).toBe(1);
	});

	it("answers each request exactly once with two instances of each service, and counts them", async () => {
		const run = uniqueName("once");
		const uuids = Array.from({ length: 10 }, (_, i) => `${run}-${i}`);
		const before = await redis.zcard("stats:redis-monitor:InfoMonitor:900");
		await feed(...uuids.map(uuid => ({ action: "info", appid: "testapp", crawlid: "none", uuid, spiderid: spider })));
		await eventually(() => uuids.every(u => answers.some(a => a.uuid === u)), 20000);
		await new Promise(r => setTimeout(r, 1500));
		for (const u of uuids) expect(answers.filter(a => a.uuid === u)).toHaveLength(1);
		expect(await redis.zcard("stats:redis-monitor:InfoMonitor:900")).toBeGreaterThanOrEqual(before + 10);
		expect((await redis.keys("stats:redis-monitor:self:*")).length).toBeGreaterThanOrEqual(2);
	});

	it("stats.report answers directly for the REPL (queue backlog per spider and domain)", async () => {
		const crawl = uniqueName("rep");
		await feed(seed(crawl, "http://r.example.ws/1", 1), seed(crawl, "http://r.example.ws/2", 1));
		await eventually(async () => (await redis.zcard(`${spider}:example.ws:queue`)) === 2, 20000);
		const broker = testBroker(base);
		broker.createService(StatsService);
		brokers.push(broker);
		await broker.start();
		// as the original: total_backlog sits inside `queues`
		const report = (await broker.call("stats.report", { stats: "queue" })) as { queues: Record<string, { domains: Array<{ domain: string; backlog: number }> }> & { total_backlog: number }; stats: string };
		expect(report.stats).toBe("queue");
		expect(report.queues[`queue_${spider}`]!.domains).toEqual(expect.arrayContaining([{ domain: "example.ws", backlog: 2 }]));
		expect(report.queues.total_backlog).toBeGreaterThanOrEqual(2);
	});
});
