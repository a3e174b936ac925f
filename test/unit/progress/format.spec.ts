import { dumpProgressLine, formatBytes, formatCount, formatDuration, formatRate, RateMeter, statusLine, summarizeCrawlers } from "../../../lib/progress/format.ts";

describe("progress formatting", () => {
	it("formats counts, rates, sizes and durations", () => {
		expect(formatCount(1234567)).toBe("1,234,567");
		expect(formatRate(0)).toBe("0.0/s");
		expect(formatRate(-3)).toBe("0.0/s");
		expect(formatRate(NaN)).toBe("0.0/s");
		expect(formatRate(12.345)).toBe("12.3/s");
		expect(formatRate(1234.4)).toBe("1,234/s");
		expect(formatBytes(512)).toBe("512 B");
		expect(formatBytes(1536)).toBe("1.5 KB");
		expect(formatBytes(5 * 1024 * 1024)).toBe("5.0 MB");
		expect(formatDuration(42.9)).toBe("42s");
		expect(formatDuration(185)).toBe("3m05s");
		expect(formatDuration(7380)).toBe("2h03m");
	});

	it("measures a rate over a sliding window and restarts when the total goes down", () => {
		const m = new RateMeter(10_000);
		expect(m.rate()).toBe(0);
		m.add(0, 0);
		m.add(1000, 10);
		expect(m.rate()).toBe(10);
		for (let t = 2000; t <= 20_000; t += 1000) m.add(t, 10 + (t / 1000 - 1) * 2);
		// the last 10 s grew by 2 a second
		expect(m.rate()).toBeCloseTo(2, 5);
		m.add(21_000, 5);
		expect(m.rate()).toBe(0);
		m.add(22_000, 9);
		expect(m.rate()).toBe(4);
	});

	it("writes the dump progress line", () => {
		expect(dumpProgressLine({ topic: "demo.crawled_firehose", count: 1234, bytes: 2.5 * 1024 * 1024, elapsedS: 65, rate: 56.72 })).toBe(
			"demo.crawled_firehose: 1,234 messages, 56.7/s, 2.5 MB in 1m05s"
		);
		expect(dumpProgressLine({ topic: "t", count: 1, bytes: 10, elapsedS: 0, rate: 0 })).toBe("t: 1 message, 0.0/s, 10 B in 0s");
	});

	it("sums crawler statuses: pages and fetches add up, a spider's backlog is the largest seen", () => {
		const s = summarizeCrawlers(3, [
			{ counts: { crawled: 10 }, in_flight: 5, fetching: 2, backlog: { spiders: { link: { backlog: 100, domains: 4 } } } },
			{ counts: { crawled: 5 }, in_flight: 1, backlog: { spiders: { link: { backlog: 98, domains: 4 }, wandering: { backlog: 7, domains: 1 } } } }
		]);
		// Fetches: the `fetching` part of in_flight where a crawler reports it (pages being published are not fetches).
		expect(s).toEqual({ nodes: 3, crawlers: 2, pages: 15, inFlight: 3, backlog: 107, domains: 5 });
		expect(summarizeCrawlers(1, [])).toEqual({ nodes: 1, crawlers: 0, pages: 0, inFlight: 0, backlog: null, domains: null });
	});

	it("writes the status line", () => {
		expect(statusLine({ nodes: 3, crawlers: 2, pages: 1234, inFlight: 4, backlog: 5678, domains: 12 }, 12.34)).toBe(
			"12.3 pages/s | 1,234 pages | backlog 5,678 in 12 domains | 3 nodes, 2 crawling, 4 fetches in flight"
		);
		expect(statusLine({ nodes: 1, crawlers: 0, pages: 0, inFlight: 1, backlog: null, domains: null }, 0)).toBe("0.0 pages/s | 0 pages | backlog ? | 1 node, 0 crawling, 1 fetch in flight");
	});
});
