import { crawlDump, queueDump } from "../../../lib/stats/dump.ts";

describe("stats dump parts", () => {
	it("queue: backlog per spider, domains with requests waiting, the largest first, bounded", () => {
		const entries = [
			{ spider: "link", domain: "a.com", backlog: 2 },
			{ spider: "link", domain: "b.com", backlog: 9 },
			{ spider: "link", domain: "c.com", backlog: 0 },
			{ spider: "link", domain: "d.com", backlog: 4 },
			{ spider: "wandering", domain: "a.com", backlog: 1 }
		];
		expect(queueDump(entries, 2)).toEqual({
			total_backlog: 16,
			spiders: { link: { backlog: 15, domains: 3, top: { "b.com": 9, "d.com": 4 } }, wandering: { backlog: 1, domains: 1, top: { "a.com": 1 } } }
		});
		expect(queueDump([])).toEqual({ total_backlog: 0, spiders: {} });
	});

	it("crawl: counters, status codes and the queues the throttle holds back, longest wait first", () => {
		const out = crawlDump(
			{ crawled: 5, failed: 1 },
			{ "404": 1, "200": 4 },
			[
				{ queue: "link:a.com:queue", waiting_s: 0, limit: 10, window: 60 },
				{ queue: "link:b.com:queue", waiting_s: 1.5, limit: 1, window: 2 },
				{ queue: "link:c.com:queue", waiting_s: 3, limit: 1, window: 5 }
			],
			1
		);
		expect(out).toEqual({
			crawled: 5,
			failed: 1,
			status_codes: { "200": 4, "404": 1 },
			throttled_queues: 2,
			throttled_now: [{ queue: "link:c.com:queue", waiting_s: 3, limit: 1, window: 5 }]
		});
	});
});
