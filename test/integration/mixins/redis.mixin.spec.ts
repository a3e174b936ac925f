import type { Redis } from "ioredis";
import type { ServiceBroker } from "moleculer";
import { RedisMixin } from "../../../mixins/redis.mixin.ts";
import { eventually, testBroker, testSettings, uniqueName } from "../../support/cluster.ts";

describe("RedisMixin against the real Redis", () => {
	let broker: ServiceBroker;
	afterEach(async () => broker?.stop());

	it("connects at start, reports health, talks to Redis and closes at stop", async () => {
		broker = testBroker(testSettings());
		const svc = broker.createService({ name: "r1", mixins: [RedisMixin()] }) as unknown as { redis: Redis; redisConnected(): boolean };
		await broker.start();
		expect(svc.redisConnected()).toBe(true);
		const key = uniqueName("redis-mixin");
		await svc.redis.set(key, "v", "EX", 10);
		expect(await svc.redis.get(key)).toBe("v");
		expect(await svc.redis.client("GETNAME")).toBe(`${broker.nodeID}:r1`);
		await broker.stop();
		expect(await eventually(() => svc.redis.status === "end")).toBe(true);
		expect(svc.redisConnected()).toBe(false);
	});

	it("starts while Redis is unreachable, reports it unhealthy, and still stops cleanly", async () => {
		broker = testBroker(testSettings({ REDIS_PORT: 1, REDIS_SOCKET_TIMEOUT: 1 }));
		const svc = broker.createService({ name: "r2", mixins: [RedisMixin()] }) as unknown as { redisConnected(): boolean };
		const started = Date.now();
		await broker.start();
		expect(Date.now() - started).toBeLessThan(5000);
		expect(svc.redisConnected()).toBe(false);
	});
});
