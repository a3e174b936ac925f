import { Kafka, logLevel } from "kafkajs";
import type { ServiceBroker } from "moleculer";
import { KafkaMixin } from "../../../mixins/kafka.mixin.ts";
import { MessageTooLargeError, type IncomingMessage, type KafkaClient } from "../../../lib/kafka/client.ts";
import { eventually, testBroker, testSettings, uniqueName } from "../../support/cluster.ts";

type KafkaService = { kafka: KafkaClient; kafkaConnected(): boolean };

describe("KafkaMixin against the real Kafka broker", () => {
	let broker: ServiceBroker;
	let svc: KafkaService;

	beforeAll(async () => {
		broker = testBroker(testSettings({ KAFKA_PRODUCER_BATCH_LINGER_MS: 20, KAFKA_CONSUMER_COMMIT_INTERVAL_MS: 100 }));
		svc = broker.createService({ name: "k", mixins: [KafkaMixin()] }) as unknown as KafkaService;
		await broker.start();
	});
	afterAll(async () => broker.stop());

	it("connects the producer and reports health", async () => {
		expect(await eventually(() => svc.kafkaConnected(), 20000)).toBe(true);
	});

	it("creates missing topics with the partitions asked, and raises the count of existing ones", async () => {
		const topic = uniqueName("it.topics");
		expect(await svc.kafka.ensureTopics([{ topic, partitions: 2 }])).toEqual([topic]);
		expect(await svc.kafka.partitionCount(topic)).toBe(2);
		expect(await svc.kafka.ensureTopics([{ topic, partitions: 2 }])).toEqual([]);
		await svc.kafka.ensureTopics([{ topic, partitions: 3 }]);
		expect(await svc.kafka.partitionCount(topic)).toBe(3);
		expect(await svc.kafka.listTopics()).toContain(topic);
		expect(await svc.kafka.partitionCount(uniqueName("it.absent"))).toBe(0);
	});

	it("leaves the process quiet while idle: no kafkajs connection re-arms a 1 ms timer (upstream issues #1556, #1704)", async () => {
		const topic = uniqueName("it.idle");
		// Both kinds of kafkajs connection: the admin's (topic creation) and a consumer group's.
		await svc.kafka.ensureTopics([{ topic, partitions: 1 }]);
		const handle = await svc.kafka.consume({ groupId: uniqueName("it-idle"), topics: [topic], onMessage: async () => undefined });
		const real = globalThis.setTimeout;
		const wait = (ms: number) => new Promise<void>(resolve => real(resolve, ms));
		await wait(1000);
		let short = 0;
		globalThis.setTimeout = ((fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
			if ((ms ?? 0) <= 1) short++;
			return real(fn, ms, ...args);
		}) as typeof setTimeout;
		try {
			await wait(1000);
		} finally {
			globalThis.setTimeout = real;
		}
		await handle.stop();
		// Unmended, each open connection re-arms one about a thousand times a second, with a negative delay.
		expect(short).toBeLessThan(50);
	});

	it("creates a topic with the topic configs asked (here: the broker stamps messages with its append time)", async () => {
		const topic = uniqueName("it.config");
		const other = uniqueName("it.noconfig");
		await svc.kafka.ensureTopics([
			{ topic, partitions: 1, config: { "message.timestamp.type": "LogAppendTime" } },
			{ topic: other, partitions: 1 }
		]);
		// A producer that sets an old creation time: kept on the plain topic, replaced on the other.
		const raw = new Kafka({ brokers: testSettings().KAFKA_HOSTS.split(","), logLevel: logLevel.NOTHING }).producer();
		await raw.connect();
		const before = Date.now();
		for (const t of [topic, other]) await raw.send({ topic: t, messages: [{ value: "x", timestamp: "1000" }] });
		await raw.disconnect();
		const stamps = new Map<string, number>();
		const handle = await svc.kafka.consume({
			groupId: uniqueName("it-config"),
			topics: [topic, other],
			fromBeginning: true,
			onMessage: async m => void stamps.set(m.topic, Number(m.timestamp))
		});
		await eventually(() => stamps.size === 2, 30000);
		await handle.stop();
		expect(stamps.get(other)).toBe(1000);
		expect(stamps.get(topic)).toBeGreaterThanOrEqual(before - 1000);
	});

	it("batches produced messages and a consumer group receives each once; committed offsets survive a restart", async () => {
		const topic = uniqueName("it.produce");
		const groupId = uniqueName("it-group");
		await svc.kafka.ensureTopics([{ topic, partitions: 2 }]);
		await Promise.all(Array.from({ length: 50 }, (_, i) => svc.kafka.produce(topic, { key: String(i), value: JSON.stringify({ i }) })));
		const offsets = await svc.kafka.topicEndOffsets(topic);
		expect(offsets.reduce((n, o) => n + Number(o.high), 0)).toBe(50);

		const seen: number[] = [];
		const onMessage = async (m: IncomingMessage) => void seen.push((JSON.parse(m.value!.toString()) as { i: number }).i);
		const first = await svc.kafka.consume({ groupId, topics: [topic], fromBeginning: true, onMessage });
		await eventually(() => seen.length >= 50, 30000);
		await first.stop();
		expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));

		// A new member of the same group starts after the committed offsets: only new messages arrive.
		await svc.kafka.send(topic, [{ value: JSON.stringify({ i: 50 }) }]);
		const second = await svc.kafka.consume({ groupId, topics: [topic], fromBeginning: true, onMessage });
		await eventually(() => seen.length >= 51, 30000);
		await new Promise(r => setTimeout(r, 500));
		await second.stop();
		expect(seen).toHaveLength(51);
		expect(seen[50]).toBe(50);
	});

	it("redelivers a message whose handler failed (offsets are committed only after handling)", async () => {
		const topic = uniqueName("it.retry");
		await svc.kafka.ensureTopics([{ topic, partitions: 1 }]);
		await svc.kafka.send(topic, [{ value: "a" }, { value: "b" }]);
		const calls: string[] = [];
		let failed = false;
		const handle = await svc.kafka.consume({
			groupId: uniqueName("it-retry"),
			topics: [topic],
			fromBeginning: true,
			onMessage: async m => {
				const v = m.value!.toString();
				calls.push(v);
				if (v === "b" && !failed) {
					failed = true;
					throw new Error("downstream away");
				}
			}
		});
		await eventually(() => calls.filter(c => c === "b").length >= 2, 30000);
		await handle.stop();
		expect(calls.filter(c => c === "a")).toHaveLength(1);
		expect(calls.filter(c => c === "b")).toHaveLength(2);
	});

	it("refuses a message larger than KAFKA_PRODUCER_MAX_REQUEST_SIZE without sending it", async () => {
		const topic = uniqueName("it.large");
		await expect(svc.kafka.produce(topic, { value: "x".repeat(1024 * 1024 + 1) })).rejects.toBeInstanceOf(MessageTooLargeError);
		expect(await svc.kafka.partitionCount(topic)).toBe(0);
	});
});
