import { summarizePending } from "../../../lib/monitor/crawl-control.ts";

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
