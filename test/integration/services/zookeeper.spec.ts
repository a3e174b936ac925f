/**
 * The zookeeper service (ZookeeperMonitor) with the ingest service, against the real ZooKeeper, Kafka and
 * Redis: the documented requests fed to a private incoming topic edit a private ZooKeeper document and are
 * answered on <prefix>.outbound_firehose; concurrent edits on two instances are never lost; ZooKeeper
 * failures are answered with the original's error texts.
 */
import type { Redis } from "ioredis";
import type { ServiceBroker } from "moleculer";
import zookeeper from "node-zookeeper-client";
import type { Settings } from "../../../config/index.ts";
import { parseDomainConfig } from "../../../lib/crawl/domain-config.ts";
import { retryUntilHandled } from "../../../lib/ingest/retry.ts";
import { KafkaClient } from "../../../lib/kafka/client.ts";
import { zookeeperDocumentPath } from "../../../lib/monitor/zk-document.ts";
import { ZookeeperSession } from "../../../lib/zookeeper/client.ts";
import { RedisMixin } from "../../../mixins/redis.mixin.ts";
import IngestService from "../../../services/ingest.service.ts";
import ZookeeperService, { LOAD_ERROR, STORE_ERROR } from "../../../services/zookeeper.service.ts";
import { captureLogger, eventually, testBroker, testSettings, uniqueName, type CapturedLine } from "../../support/cluster.ts";

const quietLog = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined };

const EMPTY = "blacklist: []\ndomains: {}\n";

type Answer = Record<string, unknown> & { uuid?: string };

interface ZkStatus {
	edits: number;
	conflicts: number;
	path: string;
}

describe("zookeeper service (ZookeeperMonitor)", () => {
	const prefix = uniqueName("it").replace(/-/g, "_");
	const zkRoot = `/it-zk-${uniqueName("zk")}`;
	const assignPath = `${zkRoot}/crawler/`;
	const docIds: string[] = [];
	const brokers: ServiceBroker[] = [];
	const answers: Answer[] = [];
	let base: Settings;
	let kafka: KafkaClient;
	let zk: ZookeeperSession;
	let admin: ServiceBroker;
	let redis: Redis;
	let stopReader: (() => Promise<void>) | null = null;
	let seq = 0;

	const newUuid = (label: string) => `${prefix}-${label}-${++seq}`;
	const pathOf = (s: Settings) => zookeeperDocumentPath(s.ZOOKEEPER_ASSIGN_PATH, s.ZOOKEEPER_ID);
	const documentOf = async (s: Settings) => (await zk.getData(pathOf(s))).data?.toString("utf8") ?? null;
	const answersFor = (uuid: string) => answers.filter(a => a.uuid === uuid);

	/** Settings of one scenario: its own incoming topic, consumer group and ZooKeeper document. */
	function scenario(name: string, overrides: Record<string, unknown> = {}): Settings {
		docIds.push(name);
		return testSettings({ ...base, KAFKA_INCOMING_TOPIC: `${prefix}.${name}.incoming`, KAFKA_GROUP: `${prefix}-${name}`, ZOOKEEPER_ID: name, ...overrides });
	}

	/** Start a node with the given services; with `capture`, its log lines are kept (and not printed). */
	async function startNode(s: Settings, services: Array<"ingest" | "zookeeper">, capture = false): Promise<{ broker: ServiceBroker; lines: CapturedLine[] }> {
		const captured = capture ? captureLogger() : null;
		const broker = testBroker(s, captured ? { logger: captured.logger } : {});
		if (services.includes("ingest")) broker.createService(IngestService);
		if (services.includes("zookeeper")) broker.createService(ZookeeperService);
		brokers.push(broker);
		await broker.start();
		if (services.includes("ingest")) await eventually(async () => ((await broker.call("ingest.status")) as { consuming: boolean }).consuming, 30000);
		return { broker, lines: captured?.lines ?? [] };
	}

	const feed = (s: Settings, requests: Array<Record<string, unknown>>) =>
		kafka.send(
			s.KAFKA_INCOMING_TOPIC,
			requests.map(r => ({ key: String(r.uuid), value: JSON.stringify(r) }))
		);

	async function answerOf(uuid: string, timeoutMs = 30000): Promise<Answer> {
		const found = await eventually(() => answers.find(a => a.uuid === uuid), timeoutMs);
		if (!found) throw new Error(`no answer for ${uuid} on ${prefix}.outbound_firehose within ${timeoutMs} ms`);
		return found;
	}

	// the 15-minute window is exact (a lifetime HyperLogLog is approximate, about 1%)
	const lifetime = (counter: string) => redis.zcard(`stats:redis-monitor:${counter}:900`);

	beforeAll(async () => {
		base = testSettings({
			KAFKA_TOPIC_PREFIX: prefix,
			KAFKA_INCOMING_PARTITIONS: 4,
			KAFKA_CONSUMER_COMMIT_INTERVAL_MS: 200,
			KAFKA_PRODUCER_BATCH_LINGER_MS: 5,
			ZOOKEEPER_ASSIGN_PATH: assignPath
		});
		kafka = new KafkaClient(base, "it-zookeeper-reader", quietLog);
		const outbound = `${prefix}.outbound_firehose`;
		await kafka.ensureTopics([{ topic: outbound, partitions: 1 }]);
		const reader = await kafka.consume({
			groupId: uniqueName("it-outbound"),
			topics: [outbound],
			fromBeginning: true,
			onMessage: async m => void answers.push(JSON.parse(m.value!.toString("utf8")) as Answer)
		});
		stopReader = () => reader.stop();
		admin = testBroker(base);
		const probe = admin.createService({ name: "probe", mixins: [RedisMixin()] }) as unknown as { redis: Redis };
		await admin.start();
		redis = probe.redis;
		zk = new ZookeeperSession(base, quietLog);
		expect(await zk.connect(10000)).toBe(true);
	});

	afterEach(async () => {
		await Promise.all(brokers.splice(0).map(b => b.stop()));
	});

	afterAll(async () => {
		await Promise.all(brokers.splice(0).map(b => b.stop()));
		await stopReader?.();
		await kafka.close();
		for (const id of docIds) await zk.remove(zookeeperDocumentPath(assignPath, id));
		for (const p of [`${zkRoot}/crawler`, zkRoot]) await zk.remove(p);
		zk.close();
		const keys = [...(await redis.keys(`done:ZookeeperMonitor:${prefix}*`)), ...(await redis.keys(`lock:ZookeeperMonitor:${prefix}*`))];
		if (keys.length) await redis.del(...keys);
		await admin.stop();
	});

	it("answers each documented example and edits the document as the original, creating it with its parents", async () => {
		const s = scenario("all");
		expect(pathOf(s)).toBe(`${zkRoot}/crawler/all`);
		expect((await zk.getData(`${zkRoot}/crawler`)).version).toBe(-1);
		const countedBefore = await lifetime("ZookeeperMonitor");
		await startNode(s, ["ingest", "zookeeper"]);

		const steps: Array<[Record<string, unknown>, string]> = [
			[{ action: "domain-update", domain: "dmoz.org", hits: 60, window: 60, scale: 0.9 }, "blacklist: []\ndomains:\n  dmoz.org:\n    hits: 60\n    scale: 0.9\n    window: 60\n"],
			[{ action: "domain-remove", domain: "dmoz.org" }, EMPTY],
			[{ action: "blacklist-update", domain: "ebay.com" }, "blacklist:\n- ebay.com\ndomains: {}\n"],
			[{ action: "blacklist-remove", domain: "ebay.com" }, EMPTY]
		];
		const uuids: string[] = [];
		for (const [request, expected] of steps) {
			const uuid = newUuid("doc");
			uuids.push(uuid);
			const before = Math.floor(Date.now() / 1000);
			await feed(s, [{ uuid, appid: "madisonTest", ...request }]);
			const answer = await answerOf(uuid);
			expect(answer).toEqual({ uuid, server_time: expect.any(Number), action: request.action, domain: request.domain, appid: "madisonTest" });
			expect(answer.server_time as number).toBeGreaterThanOrEqual(before);
			expect(answer.server_time as number).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
			expect(await documentOf(s)).toBe(expected);
		}
		// Answered once each, and counted in stats:redis-monitor:ZookeeperMonitor.
		await new Promise(r => setTimeout(r, 500));
		for (const uuid of uuids) expect(answersFor(uuid)).toHaveLength(1);
		expect(await lifetime("ZookeeperMonitor")).toBeGreaterThanOrEqual(countedBefore + steps.length);
	});

	it("edits a hand-written document: keeps its other keys, defaults scale to 1.0, never duplicates a blacklist entry", async () => {
		const s = scenario("handwritten");
		await zk.setDataIfVersion(pathOf(s), Buffer.from("# written by ops\nowner: ops\nblacklist: [old.com]\ndomains:\n  dmoz.org: {hits: 60, scale: 1.0, window: 60}\n"), -1);
		await startNode(s, ["ingest", "zookeeper"]);
		const expected = "blacklist:\n- old.com\ndomains:\n  cnn.com:\n    hits: 15\n    scale: 1.0\n    window: 60\n  dmoz.org:\n    hits: 60\n    scale: 1.0\n    window: 60\nowner: ops\n";

		const update = newUuid("hw");
		await feed(s, [{ uuid: update, appid: "testapp", action: "domain-update", domain: "cnn.com", hits: 15, window: 60 }]);
		expect(await answerOf(update)).toMatchObject({ action: "domain-update", domain: "cnn.com", appid: "testapp" });
		expect(await documentOf(s)).toBe(expected);

		const again = newUuid("hw");
		await feed(s, [{ uuid: again, appid: "testapp", action: "blacklist-update", domain: "old.com" }]);
		expect(await answerOf(again)).toEqual({ uuid: again, server_time: expect.any(Number), action: "blacklist-update", domain: "old.com", appid: "testapp" });
		expect(await documentOf(s)).toBe(expected);
		expect(parseDomainConfig(await documentOf(s))).toEqual({
			blacklist: ["old.com"],
			domains: { "cnn.com": { window: 60, hits: 15, scale: 1 }, "dmoz.org": { window: 60, hits: 60, scale: 1 } }
		});
	});

	it("loses no update: 20 blacklist-updates fed at once to two instances all land, each answered once", async () => {
		const s = scenario("kafka20");
		const [a, b] = (await Promise.all([startNode(s, ["ingest", "zookeeper"]), startNode(s, ["ingest", "zookeeper"])])).map(n => n.broker);
		// Let the consumer group settle with both members before feeding.
		await new Promise(r => setTimeout(r, 3000));
		const requests = Array.from({ length: 20 }, (_, i) => ({ uuid: newUuid("k"), appid: "testapp", action: "blacklist-update", domain: `d${i}.example.com` }));
		await feed(s, requests);

		const all = await eventually(() => requests.every(r => answersFor(r.uuid).length > 0), 45000);
		expect(all).toBe(true);
		await new Promise(r => setTimeout(r, 1000));
		for (const r of requests) {
			expect(answersFor(r.uuid)).toEqual([{ uuid: r.uuid, server_time: expect.any(Number), action: "blacklist-update", domain: r.domain, appid: "testapp" }]);
		}
		const config = parseDomainConfig(await documentOf(s));
		expect([...config.blacklist].sort()).toEqual(requests.map(r => r.domain).sort());
		const [sa, sb] = (await Promise.all([a!.call("zookeeper.status"), b!.call("zookeeper.status")])) as ZkStatus[];
		console.log(`zookeeper via Kafka: ${sa!.edits} + ${sb!.edits} edits, ${sa!.conflicts} + ${sb!.conflicts} lost rounds retried`);
		expect(sa!.edits + sb!.edits).toBe(20);
	});

	it("loses no update under 20 simultaneous edits on two instances (compare-and-set retried)", async () => {
		const s = scenario("direct20");
		const nodes = (await Promise.all([startNode(s, ["zookeeper"]), startNode(s, ["zookeeper"])])).map(n => n.broker);
		const requests = Array.from({ length: 20 }, (_, i) => ({ uuid: newUuid("c"), appid: "testapp", action: "blacklist-update", domain: `c${i}.example.org`, hits: 0, window: 0, scale: 1 }));
		// As ingest calls it: a request another instance holds, or one that failed, is tried again.
		const results = await Promise.all(
			requests.map((r, i) => retryUntilHandled(() => nodes[i % 2]!.call("zookeeper.handle", r), { isStopping: () => false, initialDelayMs: 50, maxDelayMs: 500 }))
		);
		for (const [i, r] of requests.entries()) expect(results[i]).toMatchObject({ uuid: r.uuid, action: "blacklist-update", domain: r.domain, appid: "testapp" });
		expect(results.some(r => "error" in (r as object))).toBe(false);

		const config = parseDomainConfig(await documentOf(s));
		expect([...config.blacklist].sort()).toEqual(requests.map(r => r.domain).sort());
		const statuses = (await Promise.all(nodes.map(n => n.call("zookeeper.status")))) as ZkStatus[];
		console.log(`zookeeper direct: ${statuses.map(x => x.edits).join(" + ")} edits, ${statuses.map(x => x.conflicts).join(" + ")} lost rounds retried`);
		expect(statuses.reduce((n, x) => n + x.edits, 0)).toBe(20);
		expect(statuses.every(x => x.edits > 0)).toBe(true);
		// The writes really raced: some rounds were lost to the other writers and retried.
		expect(statuses.reduce((n, x) => n + x.conflicts, 0)).toBeGreaterThan(0);
		await eventually(() => requests.every(r => answersFor(r.uuid).length === 1), 20000);
		for (const r of requests) expect(answersFor(r.uuid)).toHaveLength(1);
	});

	it(`answers "${LOAD_ERROR}" when ZooKeeper is away, after the retries`, async () => {
		const s = scenario("away", { ZOOKEEPER_HOSTS: "127.0.0.1:1", RETRY_FAILURES_MAX: 1 });
		const failedBefore = await lifetime("fail");
		const { lines } = await startNode(s, ["ingest", "zookeeper"], true);
		const uuid = newUuid("away");
		await feed(s, [{ uuid, appid: "testapp", action: "blacklist-update", domain: "bingo.com" }]);
		const answer = await answerOf(uuid);
		expect(answer).toMatchObject({ uuid, action: "blacklist-update", domain: "bingo.com", appid: "testapp", server_time: expect.any(Number) });
		expect(answer.error).toBe(LOAD_ERROR);
		expect(await documentOf(s)).toBeNull();
		expect(await lifetime("fail")).toBeGreaterThanOrEqual(failedBefore + 2);
		expect(lines.filter(l => l.level === "error" && l.message === LOAD_ERROR && l.data.uuid === uuid).map(l => l.data.reason)).toEqual(["not connected to ZooKeeper", "not connected to ZooKeeper"]);
	});

	it(`answers "${STORE_ERROR}" when ZooKeeper refuses the write, and leaves the document as it was`, async () => {
		const s = scenario("readonly", { RETRY_FAILURES_MAX: 1 });
		// A document only readable: its ACL refuses the write (NoAuth).
		await zk.mkdirp(`${zkRoot}/crawler`);
		const raw = zookeeper.createClient(base.ZOOKEEPER_HOSTS);
		await new Promise<void>(resolve => {
			raw.once("connected", () => resolve());
			raw.connect();
		});
		const readOnly = [new zookeeper.ACL(zookeeper.Permission.READ, new zookeeper.Id("world", "anyone"))];
		await new Promise<void>((resolve, reject) => raw.create(pathOf(s), Buffer.from(EMPTY), readOnly, zookeeper.CreateMode.PERSISTENT, err => (err ? reject(err) : resolve())));
		raw.close();

		const { lines } = await startNode(s, ["ingest", "zookeeper"], true);
		const uuid = newUuid("ro");
		await feed(s, [{ uuid, appid: "testapp", action: "blacklist-update", domain: "bingo.com" }]);
		const answer = await answerOf(uuid);
		expect(answer).toMatchObject({ uuid, action: "blacklist-update", domain: "bingo.com", appid: "testapp" });
		expect(answer.error).toBe(STORE_ERROR);
		expect(await documentOf(s)).toBe(EMPTY);
		const logged = lines.filter(l => l.level === "error" && l.message === STORE_ERROR && l.data.uuid === uuid);
		expect(logged).toHaveLength(2);
		expect(String(logged[0]!.data.reason)).toMatch(/NO_AUTH/);
	});
});
