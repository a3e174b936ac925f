import { REQUEST_KINDS } from "../../../config/request-kinds.ts";
import { RefusedRequestError } from "../../../lib/errors.ts";
import { acceptMessage, acceptValue, excerpt, LOG_EXCERPT_CHARS } from "../../../lib/ingest/process.ts";
import { orderKinds } from "../../../lib/requests/kind.ts";

const kinds = orderKinds(REQUEST_KINDS, null);
const refusal = (fn: () => unknown): RefusedRequestError => {
	try {
		fn();
	} catch (err) {
		return err as RefusedRequestError;
	}
	throw new Error("expected a refusal");
};

describe("acceptMessage", () => {
	it("accepts a crawl request, fills defaults and adds ts in seconds", () => {
		const accepted = acceptMessage(Buffer.from('{"url":"http://a.com","appid":"testapp","crawlid":"c1"}'), kinds, () => 1700000000123);
		expect(accepted.kind.name).toBe("crawl");
		expect(accepted.request).toMatchObject({ url: "http://a.com", spiderid: "link", priority: 1, maxdepth: 0, ts: 1700000000.123 });
		// key order as the original stores it: the client's keys, the defaults in schema order, then ts
		expect(Object.keys(accepted.request)).toEqual([
			"url", "appid", "crawlid", "spiderid", "priority", "maxdepth", "domain_max_pages", "allowed_domains", "allow_regex",
			"deny_regex", "deny_extensions", "expires", "useragent", "cookie", "attrs", "ts"
		]);
	});

	it.each([
		[null, "Unparseable JSON Received", { parsed: false, reason: "empty message" }],
		[Buffer.alloc(0), "Unparseable JSON Received", { parsed: false }],
		[Buffer.from([0xc3, 0x28, 0xff]), "Unparseable JSON Received", { parsed: false }],
		['{"url":', "Unparseable JSON Received", { parsed: false, valid: false }],
		["42", "Did not find schema to validate request", { parsed: true, valid: false }],
		['{"uuid":"x"}', "Did not find schema to validate request", { parsed: true }],
		['{"url":"mailto:a@b.c","appid":"testapp","crawlid":"c"}', "Refused request", { kind: "crawl" }]
	])("refuses %p with %p", (raw, message, detail) => {
		const err = refusal(() => acceptMessage(raw as Buffer | null, kinds));
		expect(err).toBeInstanceOf(RefusedRequestError);
		expect(err.message).toBe(message);
		expect(err.detail).toMatchObject(detail);
	});

	it("explains per kind why no schema matched", () => {
		const err = refusal(() => acceptMessage('{"url":"http://a.com","appid":"ab","crawlid":"c"}', kinds));
		const reasons = err.detail.reasons as Record<string, string>;
		expect(Object.keys(reasons)).toEqual(["crawl", "action", "stats", "zookeeper"]);
		expect(reasons.crawl).toBe("The 'appid' field length must be greater than or equal to 3 characters long.");
	});

	it("keeps log excerpts of huge messages short", () => {
		const huge = `{"x":"${"a".repeat(100000)}"`;
		const err = refusal(() => acceptMessage(huge, kinds));
		expect(String(err.detail.data).length).toBeLessThan(LOG_EXCERPT_CHARS + 100);
		expect(excerpt("short")).toBe("short");
	});

	it("acceptValue validates objects without adding ts (what feed sends)", () => {
		const accepted = acceptValue({ uuid: "u1", appid: "testapp" }, kinds);
		expect(accepted.kind.name).toBe("stats");
		expect(accepted.request.ts).toBeUndefined();
	});
});
