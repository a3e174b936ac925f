/**
 * Every request example of the Scrapy Cluster 1.2 documentation
 * (/work/shared/reference/seeds/001_a83b854fd5dd6f08.txt), copied literally with the wrapped lines
 * joined: the Kafka Monitor API chapter (Crawl, Action, Stats, Zookeeper API), the Rest service's
 * feed examples, and the feed examples of the quick start and other chapters. Each must pass its own
 * schema, fail the three others, classify to its kind with the defaults filled, and not be refused
 * (except the Rest chapter's scheme-less crawl URL, see below).
 */
import { acceptValue } from "../../../lib/ingest/process.ts";
import { REQUEST_KINDS } from "../../../config/request-kinds.ts";
import { classify, orderKinds } from "../../../lib/requests/kind.ts";
import type { RequestKind } from "../../../lib/requests/kind.ts";

type KindName = "crawl" | "action" | "stats" | "zookeeper";

/** [line in the documentation, kind, the JSON as printed]. */
const EXAMPLES: Array<[number, KindName, string]> = [
	// Quick start (chapter 1)
	[552, "crawl", '{"url": "http://istresearch.com", "appid":"testapp", "crawlid":"abc123"}'],
	[581, "crawl", '{"url": "http://dmoz.org", "appid":"testapp", "crawlid": "abc1234", "maxdepth":1}'],
	[588, "action", '{"action":"info", "appid":"testapp", "uuid":"someuuid", "crawlid":"abc1234", "spiderid":"link"}'],
	[614, "action", '{"action":"stop", "appid":"testapp", "uuid":"someuuid", "crawlid":"abc1234", "spiderid":"link"}'],
	// Kafka Monitor: Feed and Typical Usage
	[696, "crawl", '{"url": "http://istresearch.com", "appid": "testapp", "crawlid": "ABC123"}'],
	[749, "crawl", '{"url": "http://istresearch.com", "appid": "testapp", "crawlid": "ABC123"}'],
	// Crawl API
	[849, "crawl", '{"url": "http://www.apple.com/", "appid": "testapp", "crawlid": "myapple"}'],
	[856, "crawl", '{"url": "http://www.dmoz.org/", "appid": "testapp", "crawlid": "abc123", "maxdepth": 2, "priority": 90}'],
	[863, "crawl", '{"url": "http://aol.com/", "appid": "testapp", "crawlid": "a23bbqwewqe", "maxdepth": 3, "allowed_domains": ["aol.com"], "expires": 1423591888}'],
	// Action API
	[924, "action", '{"action": "info", "appid": "testapp", "crawlid": "ABC123", "uuid": "abc12333", "spiderid": "link"}'],
	[994, "action", '{"action": "info", "appid": "testapp", "crawlid": "ABC123", "uuid": "abc12333", "spiderid": "link"}'],
	[1040, "action", '{"action": "stop", "appid": "testapp", "crawlid": "ist234", "uuid": "list234", "spiderid": "link"}'],
	// Stats API
	[1116, "stats", '{"appid":"testapp", "uuid":"cdefgh1", "stats": "kafka-monitor"}'],
	[1195, "stats", '{"appid":"testapp", "uuid":"hij1", "stats":"spider"}'],
	[1238, "stats", '{"appid":"testapp", "uuid":"hij12", "stats":"machine"}'],
	[1284, "stats", '{"stats":"queue", "appid":"test", "uuid":"1234567890"}'],
	[1325, "stats", '{"appid":"testapp", "uuid":"hijl", "stats":"crawler"}'],
	[1395, "stats", '{"appid":"testapp", "uuid":"2hij1", "stats": "redis-monitor"}'],
	[1465, "stats", '{"appid":"testapp", "uuid":"2hij1", "stats": "rest"}'],
	[1498, "stats", '{"appid":"testapp", "uuid":"hij3", "stats": "all"}'],
	// Zookeeper API
	[1712, "zookeeper", '{"uuid":"abc123", "appid":"madisonTest", "action":"domain-update", "domain":"dmoz.org", "hits":60, "window":60, "scale":0.9}'],
	[1738, "zookeeper", '{"uuid":"abc123", "appid":"madisonTest", "action":"domain-remove", "domain":"dmoz.org"}'],
	[1763, "zookeeper", '{"uuid":"abc123", "appid":"madisonTest", "action":"blacklist-update", "domain":"ebay.com"}'],
	[1788, "zookeeper", '{"uuid":"abc123", "appid":"madisonTest", "action":"blacklist-remove", "domain":"ebay.com"}'],
	// Other chapters (crawler quick start, wandering spider, stats collection)
	[2343, "crawl", '{"url": "http://dmoztools.net/", "appid": "testapp", "crawlid": "09876abc"}'],
	[2748, "crawl", '{"url": "http://dmoz.org", "appid": "testapp", "crawlid": "test123456", "spiderid": "wandering"}'],
	[3177, "stats", '{"stats": "kafka-monitor", "appid": "testapp", "uuid": "myuuidhere"}'],
	// Rest service: quick start and Feed Endpoint examples
	[3723, "stats", '{"uuid":"abc123", "appid":"stuff"}'],
	[3982, "crawl", '{"url":"istresearch.com", "appid":"madisonTest", "crawlid":"abc123"}'],
	[3988, "stats", '{"uuid":"abc123", "appid":"stuff"}']
];

const DEFAULTS: Record<KindName, Record<string, unknown>> = {
	crawl: { spiderid: "link", priority: 1, maxdepth: 0, domain_max_pages: null, allowed_domains: null, allow_regex: null, deny_regex: null, deny_extensions: null, expires: 0, useragent: null, cookie: null, attrs: null },
	action: {},
	stats: { stats: "all" },
	zookeeper: { hits: 0, window: 0, scale: 1.0 }
};

const ordered = orderKinds(REQUEST_KINDS, null);
const kindNamed = (name: string): RequestKind => {
	const kind = REQUEST_KINDS.find(k => k.name === name);
	if (!kind) throw new Error(`no kind ${name}`);
	return kind;
};

describe("the documentation's example requests", () => {
	it("covers all four kinds", () => {
		expect(new Set(EXAMPLES.map(([, kind]) => kind))).toEqual(new Set(["crawl", "action", "stats", "zookeeper"]));
		expect(EXAMPLES).toHaveLength(30);
	});

	describe.each(EXAMPLES)("line %i (%s)", (_line, kindName, json) => {
		const parsed = JSON.parse(json) as Record<string, unknown>;

		it("passes its own schema with the defaults filled", () => {
			const result = kindNamed(kindName).schema.validate(parsed);
			expect(result).toEqual({ ok: true, value: { ...DEFAULTS[kindName], ...parsed } });
		});

		it("fails every other schema", () => {
			for (const kind of REQUEST_KINDS.filter(k => k.name !== kindName)) expect(kind.schema.validate(parsed).ok).toBe(false);
		});

		it("classifies to its kind, in default and in reversed rank order", () => {
			for (const kinds of [ordered, orderKinds(REQUEST_KINDS, { ScraperHandler: 4, ActionHandler: 3, StatsHandler: 2, ZookeeperHandler: 1 })]) {
				const result = classify(kinds, parsed);
				if (!("kind" in result)) throw new Error(`not classified: ${JSON.stringify(result.issues)}`);
				expect(result.kind.name).toBe(kindName);
				expect(result.request).toEqual({ ...DEFAULTS[kindName], ...parsed });
			}
		});
	});

	it.each(EXAMPLES.filter(([line]) => line !== 3982))("line %i (%s) is not refused", (_line, kindName, json) => {
		const kind = kindNamed(kindName);
		const result = kind.schema.validate(JSON.parse(json));
		if (!result.ok) throw new Error("schema refused");
		expect(kind.refuse?.(result.value)).toBeNull();
	});

	it("accepts the Rest chapter's scheme-less crawl URL with an http:// prefix, as the original's crawler did", () => {
		const accepted = acceptValue(JSON.parse('{"url":"istresearch.com", "appid":"madisonTest", "crawlid":"abc123"}'), ordered);
		expect(accepted.kind.name).toBe("crawl");
		expect(accepted.request.url).toBe("http://istresearch.com");
		for (const bad of ["/relative/path", "not a url", "//example.com/x"])
			expect(() => acceptValue({ url: bad, appid: "madisonTest", crawlid: "abc123" }, ordered)).toThrow(/Refused request/);
	});

	it("matches no kind for the Rest poll body (line 4066), with every kind's issues", () => {
		const result = classify(ordered, JSON.parse('{"poll_id": "abc123"}'));
		expect("kind" in result).toBe(false);
		if ("issues" in result) {
			expect(Object.keys(result.issues)).toEqual(["crawl", "action", "stats", "zookeeper"]);
			for (const issues of Object.values(result.issues)) expect(issues).toContainEqual(expect.objectContaining({ type: "objectStrict", actual: "poll_id" }));
		}
	});
});
