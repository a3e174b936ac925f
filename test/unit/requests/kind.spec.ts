/**
 * orderKinds and classify (lib/requests/kind.ts) with the registered kinds of config/request-kinds.ts:
 * the original's PLUGINS ranks (ScraperHandler 100, ActionHandler 200, StatsHandler 300,
 * ZookeeperHandler 400), re-ranking by handler name, None/null disabling, first schema wins.
 */
import { REQUEST_KINDS } from "../../../config/request-kinds.ts";
import { classify, orderKinds } from "../../../lib/requests/kind.ts";
import type { Classified, RequestKind } from "../../../lib/requests/kind.ts";
import { RequestSchema, stringLength } from "../../../lib/requests/schema.ts";
import type { SchemaIssue } from "../../../lib/requests/schema.ts";

const names = (kinds: RequestKind[]): string[] => kinds.map(k => k.name);

function classified(kinds: RequestKind[], value: unknown): Classified {
	const result = classify(kinds, value);
	if (!("kind" in result)) throw new Error(`expected a kind, got issues ${JSON.stringify(result.issues)}`);
	return result;
}

function unclassified(kinds: RequestKind[], value: unknown): Record<string, SchemaIssue[]> {
	const result = classify(kinds, value);
	if ("kind" in result) throw new Error(`expected no kind, got ${result.kind.name}`);
	return result.issues;
}

/** A plugin of one's own whose schema accepts exactly what the stats schema accepts without `stats`. */
const echoKind: RequestKind = {
	name: "echo",
	handlerName: "EchoHandler",
	rank: 350,
	schema: new RequestSchema({ uuid: { rule: stringLength(1, 40) }, appid: { rule: stringLength(3, 40) } }, ["uuid", "appid"]),
	async handle() {}
};

const STATS_REQUEST = { uuid: "x", appid: "testapp" };
const CRAWL_REQUEST = { url: "http://istresearch.com", appid: "testapp", crawlid: "ABC123" };

describe("REQUEST_KINDS", () => {
	it("are the original's four plugins with their ranks", () => {
		expect(REQUEST_KINDS.map(k => [k.name, k.handlerName, k.rank])).toEqual([
			["crawl", "ScraperHandler", 100],
			["action", "ActionHandler", 200],
			["stats", "StatsHandler", 300],
			["zookeeper", "ZookeeperHandler", 400]
		]);
	});
});

describe("orderKinds", () => {
	it("sorts by rank without ranks", () => {
		const shuffled = [REQUEST_KINDS[3], REQUEST_KINDS[1], REQUEST_KINDS[0], REQUEST_KINDS[2]].filter((k): k is RequestKind => k !== undefined);
		expect(names(orderKinds(shuffled, null))).toEqual(["crawl", "action", "stats", "zookeeper"]);
		expect(names(orderKinds(REQUEST_KINDS, {}))).toEqual(["crawl", "action", "stats", "zookeeper"]);
	});

	it("takes ranks by handler name, keeping the default rank of the others", () => {
		expect(names(orderKinds(REQUEST_KINDS, { StatsHandler: 50 }))).toEqual(["stats", "crawl", "action", "zookeeper"]);
		expect(names(orderKinds(REQUEST_KINDS, { ScraperHandler: 450 }))).toEqual(["action", "stats", "zookeeper", "crawl"]);
		expect(names(orderKinds(REQUEST_KINDS, { ZookeeperHandler: 150, ActionHandler: 500 }))).toEqual(["crawl", "zookeeper", "stats", "action"]);
	});

	it("does not key ranks by kind name", () => {
		expect(names(orderKinds(REQUEST_KINDS, { stats: 1, crawl: 999 }))).toEqual(["crawl", "action", "stats", "zookeeper"]);
	});

	it("disables a kind ranked null", () => {
		expect(names(orderKinds(REQUEST_KINDS, { ZookeeperHandler: null }))).toEqual(["crawl", "action", "stats"]);
		expect(names(orderKinds(REQUEST_KINDS, { ScraperHandler: null, StatsHandler: null }))).toEqual(["action", "zookeeper"]);
	});

	it("ignores ranks of unknown handlers and places added kinds by rank", () => {
		expect(names(orderKinds([...REQUEST_KINDS, echoKind], { NoSuchHandler: 1 }))).toEqual(["crawl", "action", "stats", "echo", "zookeeper"]);
		expect(names(orderKinds([echoKind, ...REQUEST_KINDS], { EchoHandler: 0 }))).toEqual(["echo", "crawl", "action", "stats", "zookeeper"]);
	});

	it("does not reorder its input", () => {
		const input = [...REQUEST_KINDS].reverse();
		orderKinds(input, { StatsHandler: 1 });
		expect(names(input)).toEqual(["zookeeper", "stats", "action", "crawl"]);
	});
});

describe("classify", () => {
	const kinds = orderKinds(REQUEST_KINDS, null);

	it("takes {uuid, appid} as a stats request with stats \"all\"", () => {
		const result = classified(kinds, STATS_REQUEST);
		expect(result.kind.name).toBe("stats");
		expect(result.request).toEqual({ uuid: "x", appid: "testapp", stats: "all" });
	});

	it("takes a crawl request as crawl, with its defaults", () => {
		const result = classified(kinds, CRAWL_REQUEST);
		expect(result.kind.name).toBe("crawl");
		expect(result.request).toMatchObject({ ...CRAWL_REQUEST, spiderid: "link", priority: 1 });
	});

	it("takes action and zookeeper requests", () => {
		expect(classified(kinds, { uuid: "u", appid: "testapp", spiderid: "link", action: "stop" }).kind.name).toBe("action");
		expect(classified(kinds, { uuid: "u", appid: "testapp", domain: "ebay.com", action: "blacklist-update" }).kind.name).toBe("zookeeper");
	});

	it("still classifies a zookeeper domain-update without hits and window (refusing it is refuse's job)", () => {
		const result = classified(kinds, { uuid: "u", appid: "testapp", domain: "ebay.com", action: "domain-update" });
		expect(result.kind.name).toBe("zookeeper");
		expect(result.request).toMatchObject({ hits: 0, window: 0, scale: 1 });
	});

	it("matches nothing for a crawl with an extra key, and gives every kind's issues", () => {
		const issues = unclassified(kinds, { ...CRAWL_REQUEST, crazykey: 1 });
		expect(Object.keys(issues)).toEqual(["crawl", "action", "stats", "zookeeper"]);
		expect(issues.crawl).toEqual([expect.objectContaining({ type: "objectStrict", actual: "crazykey" })]);
		expect(issues.stats).toContainEqual(expect.objectContaining({ type: "required", field: "uuid" }));
	});

	it("matches nothing for a request mixing two kinds' properties", () => {
		expect(Object.keys(unclassified(kinds, { ...STATS_REQUEST, action: "info", spiderid: "link", stats: "all" }))).toEqual(["crawl", "action", "stats", "zookeeper"]);
	});

	it("matches nothing for non-objects", () => {
		for (const value of [null, [], [STATS_REQUEST], "x", 1, true]) {
			const issues = unclassified(kinds, value);
			expect(Object.keys(issues)).toEqual(["crawl", "action", "stats", "zookeeper"]);
			for (const list of Object.values(issues)) expect(list).toEqual([expect.objectContaining({ type: "object", field: "" })]);
		}
	});

	it("matches nothing with no kinds", () => {
		expect(classify([], STATS_REQUEST)).toEqual({ issues: {} });
	});

	it("skips a disabled kind", () => {
		const issues = unclassified(orderKinds(REQUEST_KINDS, { StatsHandler: null }), STATS_REQUEST);
		expect(Object.keys(issues)).toEqual(["crawl", "action", "zookeeper"]);
		expect(classified(orderKinds(REQUEST_KINDS, { StatsHandler: null }), CRAWL_REQUEST).kind.name).toBe("crawl");
	});

	it("lets rank decide only when two schemas accept the same message", () => {
		const all = [...REQUEST_KINDS, echoKind];
		expect(classified(orderKinds(all, null), STATS_REQUEST).kind.name).toBe("stats");
		expect(classified(orderKinds(all, { EchoHandler: 250 }), STATS_REQUEST).kind.name).toBe("echo");
		expect(classified(orderKinds(all, { StatsHandler: 500 }), STATS_REQUEST).kind.name).toBe("echo");
		expect(classified(orderKinds(all, { EchoHandler: 250 }), STATS_REQUEST).request).toEqual(STATS_REQUEST);
		// With `stats` given only the stats schema accepts, whatever the ranks.
		expect(classified(orderKinds(all, { EchoHandler: 1 }), { ...STATS_REQUEST, stats: "queue" }).kind.name).toBe("stats");
		// A crawl request is a crawl at any rank.
		expect(classified(orderKinds(all, { EchoHandler: 1, ScraperHandler: 1000 }), CRAWL_REQUEST).kind.name).toBe("crawl");
	});

	it("falls back to the other accepting kind when the first is disabled", () => {
		const all = [...REQUEST_KINDS, echoKind];
		expect(classified(orderKinds(all, { StatsHandler: null }), STATS_REQUEST).kind.name).toBe("echo");
		expect(Object.keys(unclassified(orderKinds(all, { StatsHandler: null, EchoHandler: null }), STATS_REQUEST))).toEqual(["crawl", "action", "zookeeper"]);
	});

	it("does not mutate the message", () => {
		const message = Object.freeze({ ...STATS_REQUEST });
		classified(kinds, message);
		expect(message).toEqual({ uuid: "x", appid: "testapp" });
	});
});
