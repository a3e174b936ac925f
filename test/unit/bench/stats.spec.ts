/** Percentiles, ratios and Redis commandstats parsing of the benchmark (bench/stats.ts). */
import { commandDelta, pairedRatios, parseCommandStats, percentile, ratio, rateTimeline } from "../../../bench/stats.ts";

describe("bench stats", () => {
	it("computes nearest-rank percentiles whatever the input order", () => {
		const values = Array.from({ length: 100 }, (_, i) => 100 - i); // 100 .. 1
		expect(percentile(values, 0.5)).toBe(50);
		expect(percentile(values, 0.99)).toBe(99);
		expect(percentile(values, 1)).toBe(100);
		expect(percentile(values, 0)).toBe(1);
		expect(percentile([7], 0.99)).toBe(7);
		expect(percentile([3, 1, 2], 0.5)).toBe(2);
		expect(percentile([], 0.5)).toBeNaN();
		expect(values[0]).toBe(100); // not sorted in place
	});

	it("turns landing times into pages per second per bucket, from the feed on", () => {
		// Fed at 1000 ms: 2 pages in the first half second, none in the second, 1 in the third.
		expect(rateTimeline([1100, 1499, 2250], 1000, 500)).toEqual([4, 0, 2]);
		// A page stamped a little before the feed (clock steps) counts in the first bucket.
		expect(rateTimeline([999], 1000, 500)).toEqual([2]);
		expect(rateTimeline([], 1000, 500)).toEqual([]);
	});

	it("pairs the measurements of each round: their ratios, and the median of those known", () => {
		const rounds = [
			{ a: 1500, b: 2000 },
			{ a: 1300, b: null },
			{ a: 1800, b: 2000 },
			{ a: 1400, b: 2000 }
		];
		expect(pairedRatios(rounds)).toEqual({ each: [0.75, null, 0.9, 0.7], median: 0.75 });
		// Not the best a over the best b, which here would be 0.9 too, nor their mean.
		expect(pairedRatios([{ a: 1000, b: 2000 }, { a: 1900, b: 2000 }, { a: 1200, b: 1500 }]).median).toBe(0.8);
		expect(pairedRatios([{ a: null, b: 2000 }])).toEqual({ each: [null], median: null });
		expect(pairedRatios([])).toEqual({ each: [], median: null });
	});

	it("gives ratios rounded to 2 digits, null when a side is missing or zero", () => {
		expect(ratio(70, 100)).toBe(0.7);
		expect(ratio(1, 3)).toBe(0.33);
		expect(ratio(null, 3)).toBeNull();
		expect(ratio(3, undefined)).toBeNull();
		expect(ratio(3, 0)).toBeNull();
	});

	it("parses INFO commandstats and subtracts two readings", () => {
		const before = parseCommandStats("# Commandstats\r\ncmdstat_get:calls=5,usec=10,usec_per_call=2.00\r\ncmdstat_evalsha:calls=2,usec=1\r\n");
		const after = parseCommandStats("# Commandstats\r\ncmdstat_get:calls=5,usec=10\r\ncmdstat_evalsha:calls=12,usec=1\r\ncmdstat_zadd:calls=3,usec=1\r\n");
		expect(before.get("evalsha")).toBe(2);
		expect([...commandDelta(before, after)]).toEqual([
			["evalsha", 10],
			["zadd", 3]
		]);
	});
});
