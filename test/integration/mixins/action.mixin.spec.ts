/**
 * ActionMixin against the real Redis and Kafka: one answer per uuid, a busy claim makes the caller retry,
 * failures are retried RETRY_FAILURES_MAX times and then answered with an error; answers reach the
 * outbound topics (and the per-appid one with KAFKA_APPID_TOPICS).
 */
import type { ServiceBroker } from "moleculer";
import { TransientError } from "../../../lib/errors.ts";
import { KafkaClient } from "../../../lib/kafka/client.ts";
import { ActionMixin, type ActionRequest } from "../../../mixins/action.mixin.ts";
import { KafkaMixin } from "../../../mixins/kafka.mixin.ts";
import { RedisMixin } from "../../../mixins/redis.mixin.ts";
import { StatsMixin } from "../../../mixins/stats.mixin.ts";
import { eventually, readTopic, testBroker, testSettings, uniqueName } from "../../support/cluster.ts";

const quietLog = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined };

describe("ActionMixin", () => {
	let broker: ServiceBroker;
	let failuresLeft = 0;
	let answered = 0;
	const prefix = uniqueName("am").replace(/-/g, "_");
	const settings = testSettings({ KAFKA_TOPIC_PREFIX: prefix, KAFKA_APPID_TOPICS: true, RETRY_FAILURES_MAX: 2, KAFKA_PRODUCER_BATCH_LINGER_MS: 5 });
	const kafka = new KafkaClient(settings, "it-action-reader", quietLog);

	beforeAll(async () => {
		broker = testBroker(settings);
		broker.createService({
			name: "echo",
			mixins: [ActionMixin({ plugin: "EchoMonitor" }), StatsMixin({ component: "redis-monitor" }), KafkaMixin(), RedisMixin()],
			methods: {
				async answer(request: ActionRequest) {
					if (failuresLeft > 0) {
						failuresLeft--;
						throw new Error("boom");
					}
					answered++;
					return { action: "echo", appid: request.appid };
				}
			}
		});
		await broker.start();
	});
	afterAll(async () => {
		await broker.stop();
		await kafka.close();
	});

	it("answers once per uuid, on the firehose and the appid topic", async () => {
		const uuid = uniqueName("u");
		const first = await broker.call("echo.handle", { uuid, appid: "echoapp" });
		expect(first).toEqual({ action: "echo", appid: "echoapp", uuid, server_time: expect.any(Number) });
		expect(await broker.call("echo.handle", { uuid, appid: "echoapp" })).toEqual({ duplicate: true, uuid });
		expect(answered).toBe(1);
		const firehose = await readTopic(kafka, `${prefix}.outbound_firehose`, 1);
		expect(JSON.parse(firehose[0]!)).toMatchObject({ uuid, action: "echo" });
		const appTopic = await readTopic(kafka, `${prefix}.outbound_echoapp`, 1);
		expect(JSON.parse(appTopic[0]!)).toMatchObject({ uuid });
	});

	it("makes a caller retry while another instance holds the claim", async () => {
		const uuid = uniqueName("busy");
		const redis = (broker.getLocalService("echo") as unknown as { redis: import("ioredis").Redis }).redis;
		await redis.set(`lock:EchoMonitor:${uuid}`, "someone-else", "EX", 5);
		const err = await broker.call("echo.handle", { uuid, appid: "echoapp" }).catch(e => e);
		expect(err).toBeInstanceOf(TransientError);
		await redis.del(`lock:EchoMonitor:${uuid}`);
		expect(await broker.call("echo.handle", { uuid, appid: "echoapp" })).toMatchObject({ uuid, action: "echo" });
	});

	it("retries a failing action RETRY_FAILURES_MAX times, then answers with an error, and counts failures", async () => {
		const uuid = uniqueName("fail");
		failuresLeft = 10;
		const redis = (broker.getLocalService("echo") as unknown as { redis: import("ioredis").Redis }).redis;
		const failBefore = await redis.zcard("stats:redis-monitor:fail:900");
		for (let i = 0; i < 2; i++) expect(await broker.call("echo.handle", { uuid, appid: "echoapp" }).catch(e => e)).toBeInstanceOf(TransientError);
		const final = (await broker.call("echo.handle", { uuid, appid: "echoapp" })) as Record<string, unknown>;
		expect(final).toEqual({ uuid, appid: "echoapp", error: "boom", server_time: expect.any(Number) });
		await eventually(async () => (await redis.zcard("stats:redis-monitor:fail:900")) - failBefore >= 3);
		expect((await redis.zcard("stats:redis-monitor:fail:900")) - failBefore).toBe(3);
		expect(await broker.call("echo.handle", { uuid, appid: "echoapp" })).toEqual({ duplicate: true, uuid });
		failuresLeft = 0;
	});
});
