import { CrawlCounts } from "../../../lib/crawl/crawl-counts.ts";

describe("CrawlCounts", () => {
	it("counts pages per crawl, the most recently crawled first", () => {
		const counts = new CrawlCounts();
		counts.add("link", "app", "a", 1000);
		counts.add("link", "app", "b", 2000);
		counts.add("link", "app", "a", 3000);
		counts.add("wandering", "app", "a", 4000);
		expect(counts.list()).toEqual([
			{ spiderid: "wandering", appid: "app", crawlid: "a", crawled: 1, last: 4000 },
			{ spiderid: "link", appid: "app", crawlid: "a", crawled: 2, last: 3000 },
			{ spiderid: "link", appid: "app", crawlid: "b", crawled: 1, last: 2000 }
		]);
	});

	it("forgets the crawl with the oldest page past its capacity", () => {
		const counts = new CrawlCounts(2);
		counts.add("link", "app", "a", 1);
		counts.add("link", "app", "b", 2);
		counts.add("link", "app", "a", 3);
		counts.add("link", "app", "c", 4);
		expect(counts.size).toBe(2);
		expect(counts.list().map(c => c.crawlid)).toEqual(["c", "a"]);
	});

	it("hands out copies", () => {
		const counts = new CrawlCounts();
		counts.add("link", "app", "a", 1);
		counts.list()[0]!.crawled = 99;
		expect(counts.list()[0]!.crawled).toBe(1);
	});
});
