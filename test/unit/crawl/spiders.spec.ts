import type { FrontierRequest } from "../../../lib/frontier/frontier.ts";
import { SPIDERS } from "../../../lib/crawl/spiders/index.ts";

const base: FrontierRequest = { url: "http://a.com/", appid: "app", crawlid: "c", spiderid: "link", priority: 1, maxdepth: 2, expires: 0, curdepth: 0, attrs: null };
const links = [
	{ url: "http://a.com/1", text: "one" },
	{ url: "http://a.com/2", text: "two" }
];
const tools = (random = 0) => ({ links: () => links, random: () => random });

describe("spiders", () => {
	it("link: follows every link one level deeper with priority lowered by 10, until maxdepth", () => {
		const link = SPIDERS.get("link")!;
		const out = link.parse({ request: base, responseUrl: base.url, status: 200, html: "<html>" }, tools());
		expect(out.links).toEqual(links);
		expect(out.requests.map(r => [r.url, r.priority, r.curdepth, r.retry_times, r.crawlid])).toEqual([
			["http://a.com/1", -9, 1, 0, "c"],
			["http://a.com/2", -9, 1, 0, "c"]
		]);
		expect(link.parse({ request: { ...base, curdepth: 2 }, responseUrl: base.url, status: 200, html: "<html>" }, tools())).toEqual({ links: [], requests: [] });
		expect(link.parse({ request: { ...base, maxdepth: 0 }, responseUrl: base.url, status: 200, html: "<html>" }, tools())).toEqual({ links: [], requests: [] });
		expect(link.parse({ request: base, responseUrl: base.url, status: 200, html: null }, tools())).toEqual({ links: [], requests: [] });
	});

	it("wandering: one random link per page, counting attrs.step, no links in the record", () => {
		const wandering = SPIDERS.get("wandering")!;
		const request = { ...base, spiderid: "wandering", attrs: { mine: true } };
		const out = wandering.parse({ request, responseUrl: base.url, status: 200, html: "<html>" }, tools(0.9));
		expect(out.links).toEqual([]);
		expect(out.attrs).toEqual({ mine: true, step: 1 });
		expect(out.requests).toHaveLength(1);
		expect(out.requests[0]).toMatchObject({ url: "http://a.com/2", step: 2, priority: 1, curdepth: 0 });
		const next = wandering.parse({ request: out.requests[0]!, responseUrl: "http://a.com/2", status: 200, html: "<html>" }, { links: () => [], random: () => 0 });
		expect(next).toEqual({ links: [], requests: [], attrs: { mine: true, step: 2 } });
	});
});
