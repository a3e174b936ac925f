import { parsePendingAppKey, sortActiveCrawls, summarizePending, type ActiveCrawl } from "../../../lib/monitor/crawl-control.ts";

describe("summarizePending", () => {
	it("sums per domain and keeps the highest and lowest priority", () => {
		expect(summarizePending({ "example.com\t90": "1", "example.com\t20": "2", "example.org\t-9": "4" })).toEqual({
			total: 7,
			domains: { "example.com": { total: 3, high_priority: 90, low_priority: 20 }, "example.org": { total: 4, high_priority: -9, low_priority: -9 } }
		});
	});

	it("ignores malformed fields and non-positive counts", () => {
		expect(summarizePending({ nodomain: "3", "a.com\t1": "0", "b.com\t2": "-1" })).toEqual({ total: 0, domains: {} });
	});

	it("keeps domains with a tab-free name even when they contain colons (IPv6)", () => {
		expect(summarizePending({ "::1\t5": "2" }).domains).toEqual({ "::1": { total: 2, high_priority: 5, low_priority: 5 } });
	});
});

describe("parsePendingAppKey", () => {
	it("splits <spiderid>:pending:<appid>", () => {
		expect(parsePendingAppKey("link:pending:testapp")).toEqual({ spiderid: "link", appid: "testapp" });
		expect(parsePendingAppKey("my-spider:pending:a b")).toEqual({ spiderid: "my-spider", appid: "a b" });
	});

	it("refuses per-crawl hashes and other keys", () => {
		expect(parsePendingAppKey("link:pending:testapp:crawl1")).toBeNull();
		expect(parsePendingAppKey("link:pending:")).toBeNull();
		expect(parsePendingAppKey(":pending:x")).toBeNull();
		expect(parsePendingAppKey("link:queue")).toBeNull();
		expect(parsePendingAppKey("a:b:pending:x")).toBeNull();
	});
});

describe("sortActiveCrawls", () => {
	it("puts the most pending first, then orders by spider, appid, crawlid", () => {
		const c = (spiderid: string, appid: string, crawlid: string, total_pending: number): ActiveCrawl => ({ spiderid, appid, crawlid, total_pending, total_domains: 1 });
		const sorted = sortActiveCrawls([c("link", "b", "1", 5), c("link", "a", "2", 5), c("aaa", "z", "3", 5), c("link", "a", "1", 9), c("link", "a", "0", 1)]);
		expect(sorted.map(x => `${x.spiderid}/${x.appid}/${x.crawlid}`)).toEqual(["link/a/1", "aaa/z/3", "link/a/2", "link/b/1", "link/a/0"]);
	});
});
