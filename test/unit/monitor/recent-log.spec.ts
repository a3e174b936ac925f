import { ServiceBroker } from "moleculer";
import { RECENT_DATA_CHARS, RECENT_MESSAGE_CHARS, RecentLog, RecentLogAppender, recentEntry, recentLogOf } from "../../../lib/monitor/recent-log.ts";
import MonitorService from "../../../services/monitor.service.ts";

const entry = (message: string, time: number) => recentEntry("error", "x", [message], time)!;

describe("recentEntry", () => {
	it("keeps warn, error and fatal lines only", () => {
		expect(recentEntry("info", "api", ["hello"])).toBeNull();
		expect(recentEntry("debug", "api", ["hello"])).toBeNull();
		expect(recentEntry("warn", "API", ["careful", { url: "http://x/" }], 5)).toEqual({ time: 5, level: "warn", module: "api", message: "careful", data: '{"url":"http://x/"}' });
		expect(recentEntry("fatal", "broker", ["down"], 1)).toEqual({ time: 1, level: "fatal", module: "broker", message: "down" });
	});

	it("describes errors, cycles and BigInts without throwing", () => {
		const cyclic: Record<string, unknown> = { a: 1 };
		cyclic.self = cyclic;
		const e = recentEntry("error", "svc", [new TypeError("boom"), cyclic, 10n], 1)!;
		expect(e.message).toBe("boom");
		expect(e.data).toBe('{"name":"TypeError"} {"a":1,"self":"[circular]"} "10"');
		expect(recentEntry("error", "svc", [{ n: 1 }], 1)!.message).toBe('{"n":1}');
	});

	it("cuts long messages and data", () => {
		const e = recentEntry("error", "svc", ["m".repeat(10_000), { d: "d".repeat(10_000) }], 1)!;
		expect(e.message.length).toBe(RECENT_MESSAGE_CHARS);
		expect(e.data!.length).toBe(RECENT_DATA_CHARS);
		expect(e.message.endsWith("…")).toBe(true);
	});
});

describe("RecentLog", () => {
	it("lists the newest first and forgets the oldest past its capacity", () => {
		const log = new RecentLog(3);
		for (let i = 1; i <= 5; i++) log.add(entry(`m${i}`, i));
		expect(log.size).toBe(3);
		expect(log.total).toBe(5);
		expect(log.list().map(e => e.message)).toEqual(["m5", "m4", "m3"]);
		expect(log.list(2).map(e => e.message)).toEqual(["m5", "m4"]);
		expect(log.list(0)).toEqual([]);
	});

	it("lists in order before it is full", () => {
		const log = new RecentLog(3);
		log.add(entry("a", 1));
		log.add(entry("b", 2));
		expect(log.list().map(e => e.message)).toEqual(["b", "a"]);
		expect(() => new RecentLog(0)).toThrow(/capacity/);
	});
});

describe("RecentLogAppender and monitor.recent", () => {
	it("keeps every module's warnings and errors whatever the node's level, and monitor.recent answers them", async () => {
		const appender = new RecentLogAppender(10);
		const broker = new ServiceBroker({ nodeID: "unit-monitor", logger: [appender] as unknown as ServiceBroker["options"]["logger"], logLevel: "error" });
		broker.createService(MonitorService);
		broker.createService({ name: "noisy", actions: { shout(this: { logger: ServiceBroker["logger"] }) { this.logger.warn("disk almost full", { free: 1 }); this.logger.info("not kept"); } } });
		await broker.start();
		try {
			await broker.call("noisy.shout");
			broker.logger.error(new Error("broker trouble"));
			expect(recentLogOf(broker)).toBe(appender.recent);
			const answer = (await broker.call("monitor.recent", { limit: 5 })) as { node: string; capturing: boolean; entries: Array<{ module: string; message: string; level: string }> };
			expect(answer.node).toBe("unit-monitor");
			expect(answer.capturing).toBe(true);
			expect(answer.entries.map(e => [e.level, e.module, e.message])).toEqual(
				expect.arrayContaining([
					["warn", "noisy", "disk almost full"],
					["error", "broker", "broker trouble"]
				])
			);
			expect(answer.entries.some(e => e.message === "not kept")).toBe(false);
		} finally {
			await broker.stop();
		}
	});

	it("answers no entries on a broker without the appender", async () => {
		const broker = new ServiceBroker({ nodeID: "unit-plain", logger: false });
		broker.createService(MonitorService);
		await broker.start();
		try {
			expect(recentLogOf(broker)).toBeNull();
			expect(await broker.call("monitor.recent")).toEqual({ node: "unit-plain", capturing: false, total: 0, entries: [] });
		} finally {
			await broker.stop();
		}
	});
});
