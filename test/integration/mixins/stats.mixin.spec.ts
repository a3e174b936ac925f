import { hostname } from "node:os";
import type { Redis } from "ioredis";
import type { ServiceBroker } from "moleculer";
import { RedisMixin } from "../../../mixins/redis.mixin.ts";
import { StatsMixin, type StatsMixinThis } from "../../../mixins/stats.mixin.ts";
import { captureLogger, eventually, testBroker, testSettings, uniqueName } from "../../support/cluster.ts";

type StatsService = StatsMixinThis & { redis: Redis };

describe("StatsMixin against the real Redis", () => {
	let broker: ServiceBroker;
	let svc: StatsService;
	const component = uniqueName("it-component");

	beforeAll(async () => {
		broker = testBroker(testSettings({ STATS_TIMES: ["SECONDS_15_MINUTE", "SECONDS_1_HOUR"], HEARTBEAT_TIMEOUT: 30 }));
		// Moleculer runs the last mixin's hooks first: RedisMixin goes after the mixins that use it.
		svc = broker.createService({ name: "s", mixins: [StatsMixin({ component }), RedisMixin()] }) as unknown as StatsService;
		await broker.start();
	});
	afterAll(async () => broker.stop());

	it("keeps rolling windows and lifetime counts under the original's key names", async () => {
		for (let i = 0; i < 5; i++) await svc.statsIncrement("total");
		await Promise.all([svc.statsIncrement("total", "ScraperHandler"), svc.statsIncrement("fail")]);
		const r = svc.redis;
		expect(await r.zcard(`stats:${component}:total:900`)).toBe(6);
		expect(await r.zcard(`stats:${component}:total:3600`)).toBe(6);
		expect(await r.pfcount(`stats:${component}:total:lifetime`)).toBe(6);
		expect(await r.zcard(`stats:${component}:ScraperHandler:900`)).toBe(1);
		expect(await r.zcard(`stats:${component}:fail:3600`)).toBe(1);
		// window keys expire if nobody writes them any more (no pile-up of dead hosts' keys)
		const ttl = await r.ttl(`stats:${component}:total:900`);
		expect(ttl).toBeGreaterThan(900);
		expect(ttl).toBeLessThanOrEqual(910);
		const snap = await svc.statsSnapshot();
		expect(snap[`stats:${component}:total`]).toEqual({ "900": 6, "3600": 6, lifetime: 6 });
	});

	it("counts every event, even many in the same microsecond of one turn and from two instances at once", async () => {
		const other = testBroker(testSettings({ STATS_TIMES: ["SECONDS_15_MINUTE"] }));
		const twin = other.createService({ name: "s", mixins: [StatsMixin({ component }), RedisMixin()] }) as unknown as StatsService;
		await other.start();
		try {
			await Promise.all([...Array.from({ length: 200 }, () => svc.statsIncrement("burst")), ...Array.from({ length: 200 }, () => twin.statsIncrement("burst"))]);
			expect(await svc.redis.zcard(`stats:${component}:burst:900`)).toBe(400);
			expect(await svc.redis.pfcount(`stats:${component}:burst:lifetime`)).toBeGreaterThan(390); // HyperLogLog: about 0.8% error
		} finally {
			await other.stop();
		}
	});

	it("sets a window key's expiry once per STATS_CYCLE, not once per write, and again after a cycle", async () => {
		const other = testBroker(testSettings({ STATS_TIMES: ["SECONDS_15_MINUTE"], STATS_CYCLE: 1 }));
		const paced = other.createService({ name: "s", mixins: [StatsMixin({ component }), RedisMixin()] }) as unknown as StatsService;
		await other.start();
		const key = `stats:${component}:paced:900`;
		// Every EXPIRE Redis runs on that key.
		const monitor = await svc.redis.monitor();
		const expires: string[][] = [];
		monitor.on("monitor", (_time: string, args: string[]) => {
			if (args[0]?.toLowerCase() === "expire" && args[1] === key) expires.push(args);
		});
		try {
			// Twenty writes (each its own event-loop turn) within a cycle: one EXPIRE.
			for (let i = 0; i < 20; i++) await paced.statsIncrement("paced");
			expect(await svc.redis.zcard(key)).toBe(20);
			const ttl = await svc.redis.ttl(key);
			expect(ttl).toBeGreaterThan(900);
			expect(ttl).toBeLessThanOrEqual(902);
			expect(await eventually(() => expires.length === 1, 2000)).toBe(true);
			// A write a cycle later sets it again.
			await new Promise(r => setTimeout(r, 1100));
			await paced.statsIncrement("paced");
			expect(await eventually(() => expires.length === 2, 2000)).toBe(true);
			await new Promise(r => setTimeout(r, 200));
			expect(expires).toEqual([["expire", key, "902"], ["expire", key, "902"]]);
		} finally {
			monitor.disconnect();
			await other.stop();
		}
	});

	it("trims events older than the window", async () => {
		const key = `stats:${component}:old:900`;
		const now = Date.now() / 1000;
		await svc.statsIncrement("old");
		await svc.redis.zadd(key, now - 1000, "stale-event");
		expect(await svc.redis.zcard(key)).toBe(2);
		await svc.stats.trim();
		expect(await svc.redis.zrange(key, 0, -1)).toHaveLength(1);
		expect(await svc.redis.zrange(key, 0, -1)).not.toContain("stale-event");
	});

	it("keeps a heartbeat key per instance that expires after HEARTBEAT_TIMEOUT, removed at stop", async () => {
		expect(svc.statsHeartbeatKey).toBe(`stats:${component}:self:${hostname()}:${svc.statsInstanceId}`);
		const ttl = await svc.redis.ttl(svc.statsHeartbeatKey);
		expect(ttl).toBeGreaterThan(0);
		expect(ttl).toBeLessThanOrEqual(30);
		const beat = Number(await svc.redis.get(svc.statsHeartbeatKey));
		expect(Math.abs(beat - Date.now() / 1000)).toBeLessThan(10);

		const other = testBroker(testSettings());
		const watcher = other.createService({ name: "w", mixins: [RedisMixin()] }) as unknown as { redis: Redis };
		await other.start();
		const key = svc.statsHeartbeatKey;
		await broker.stop();
		expect(await watcher.redis.exists(key)).toBe(0);
		await other.stop();
	});

	it("dumps the stats to the log every STATS_DUMP seconds", async () => {
		const { logger, lines } = captureLogger();
		const dumper = testBroker(testSettings({ STATS_DUMP: 1, STATS_TIMES: ["SECONDS_15_MINUTE"] }), { logger });
		const component = uniqueName("it-dump");
		const svc = dumper.createService({ name: "d", mixins: [StatsMixin({ component }), RedisMixin()] }) as unknown as StatsService;
		await dumper.start();
		try {
			await svc.statsIncrement("total");
			const dump = await eventually(() => lines.find(l => l.message === `${component} stats dump`), 5000);
			expect(dump?.data).toEqual({ stats: { [`stats:${component}:total`]: { "900": 1, lifetime: 1 } } });
		} finally {
			await dumper.stop();
		}
	});
});
