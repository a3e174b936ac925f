import { heartbeatInterval, heartbeatKey, lifetimeKey, newInstanceId, parseStatsTimes, statsBase, windowKey } from "../../../lib/stats/keys.ts";

describe("stats keys", () => {
	it("turns the default STATS_TIMES into the original's seconds", () => {
		const windows = parseStatsTimes(["SECONDS_15_MINUTE", "SECONDS_1_HOUR", "SECONDS_6_HOUR", "SECONDS_12_HOUR", "SECONDS_1_DAY", "SECONDS_1_WEEK"]);
		expect(windows.map(w => w.seconds)).toEqual([900, 3600, 21600, 43200, 86400, 604800]);
	});

	it("accepts plain seconds, sorts and drops duplicates, refuses unknown names", () => {
		expect(parseStatsTimes(["3600", "SECONDS_1_MINUTE", "SECONDS_60_MINUTE"]).map(w => w.seconds)).toEqual([60, 3600]);
		expect(() => parseStatsTimes(["SECONDS_1_YEAR"])).toThrow('STATS_TIMES: unknown time window "SECONDS_1_YEAR"');
		expect(() => parseStatsTimes(["0"])).toThrow(/unknown time window/);
	});

	it("formats keys as the original's Redis Keys section", () => {
		const base = statsBase("kafka-monitor", "total");
		expect(windowKey(base, 900)).toBe("stats:kafka-monitor:total:900");
		expect(lifetimeKey(base)).toBe("stats:kafka-monitor:total:lifetime");
		expect(heartbeatKey("redis-monitor", "host1", "abcdef123456")).toBe("stats:redis-monitor:self:host1:abcdef123456");
	});

	it("makes 12-hex instance ids and sane heartbeat intervals", () => {
		const id = newInstanceId();
		expect(id).toMatch(/^[0-9a-f]{12}$/);
		expect(newInstanceId()).not.toBe(id);
		expect(heartbeatInterval(120)).toBe(5);
		expect(heartbeatInterval(8)).toBe(2);
		expect(heartbeatInterval(1)).toBe(1);
	});
});
