/**
 * crawlSchema against the original scraper_schema.json (Draft 4, default filling):
 * required appid (string 3-40), crawlid (string 1-40), url (string); optional spiderid (string,
 * default "link"), priority (integer 1-100, default 1), maxdepth (integer 0-3, default 0),
 * domain_max_pages (integer 0-2000, default null), allowed_domains / allow_regex / deny_regex /
 * deny_extensions (unique string arrays, default null), expires (integer, default 0), useragent and
 * cookie (string 3-1000, default null), attrs (object, default null); no other properties.
 */
import { crawlSchema } from "../../../lib/requests/kinds/crawl.ts";
import { accepted, chars, deepFreeze, emoji, expectRejectedExtra, expectRejectedFor, expectRejectedNonObject, NON_OBJECTS, wrongTypes } from "./support.ts";

const BASE = { appid: "testapp", crawlid: "abc123", url: "http://istresearch.com" };
const withField = (field: string, value: unknown): Record<string, unknown> => ({ ...BASE, [field]: value });

const DEFAULTS = {
	spiderid: "link",
	priority: 1,
	maxdepth: 0,
	domain_max_pages: null,
	allowed_domains: null,
	allow_regex: null,
	deny_regex: null,
	deny_extensions: null,
	expires: 0,
	useragent: null,
	cookie: null,
	attrs: null
};

/** Schema order of scraper_schema.json's properties. */
const SCHEMA_ORDER = ["appid", "crawlid", "spiderid", "url", "priority", "maxdepth", "domain_max_pages", "allowed_domains", "allow_regex", "deny_regex", "deny_extensions", "expires", "useragent", "cookie", "attrs"];

describe("crawlSchema (scraper_schema.json)", () => {
	it("accepts the minimal request and fills every default, nulls included", () => {
		expect(accepted(crawlSchema, BASE)).toEqual({ ...BASE, ...DEFAULTS });
	});

	it("keeps every value the client gave instead of the default", () => {
		const full = {
			appid: "testapp",
			crawlid: "abc123",
			spiderid: "wandering",
			url: "http://www.dmoz.org/",
			priority: 90,
			maxdepth: 2,
			domain_max_pages: 4,
			allowed_domains: ["dmoz.org", "dmoztools.net"],
			allow_regex: ["^https?://"],
			deny_regex: ["\\.pdf$"],
			deny_extensions: ["pdf", "zip"],
			expires: 1423591888,
			useragent: "Mozilla/5.0",
			cookie: "a=b; c=d",
			attrs: { nested: { list: [1, null, "x"] } }
		};
		expect(accepted(crawlSchema, full)).toEqual(full);
	});

	it("keeps given values that equal a default's type but not its value (0 priority is not filled)", () => {
		expect(accepted(crawlSchema, { ...BASE, maxdepth: 3, expires: -1, spiderid: "" })).toEqual({ ...BASE, ...DEFAULTS, maxdepth: 3, expires: -1, spiderid: "" });
	});

	it("does not mutate the input, and returns a new object each time", () => {
		const input = deepFreeze({ ...BASE, allowed_domains: ["aol.com"], attrs: { a: 1 } });
		const snapshot = structuredClone(input);
		const first = accepted(crawlSchema, input);
		const second = accepted(crawlSchema, input);
		expect(input).toEqual(snapshot);
		expect(Object.keys(input)).toEqual(["appid", "crawlid", "url", "allowed_domains", "attrs"]);
		expect(first).not.toBe(input);
		expect(first).not.toBe(second);
		expect(first).toEqual(second);
	});

	it("puts the filled defaults after the client's keys, in schema order (the original's insertion order)", () => {
		const value = accepted(crawlSchema, { url: "http://istresearch.com", crawlid: "abc123", appid: "testapp", maxdepth: 1 });
		const defaulted = SCHEMA_ORDER.filter(k => !["url", "crawlid", "appid", "maxdepth"].includes(k));
		expect(Object.keys(value)).toEqual(["url", "crawlid", "appid", "maxdepth", ...defaulted]);
	});

	describe("accepts boundary and ordinary values", () => {
		it.each<[string, unknown]>([
			["appid", "abc"],
			["appid", chars(40)],
			["appid", emoji(3)],
			["appid", emoji(21)],
			["appid", emoji(40)],
			["appid", "a b"],
			["crawlid", "a"],
			["crawlid", chars(40)],
			["crawlid", emoji(1)],
			["crawlid", emoji(40)],
			["url", ""],
			["url", "istresearch.com"],
			["url", "not a url at all"],
			["url", "ftp://example.com/"],
			["spiderid", "link"],
			["spiderid", "wandering"],
			["spiderid", ""],
			["spiderid", "has: odd * chars"],
			["priority", 1],
			["priority", 2],
			["priority", 99],
			["priority", 100],
			["maxdepth", 0],
			["maxdepth", 1],
			["maxdepth", 3],
			["domain_max_pages", 0],
			["domain_max_pages", 1],
			["domain_max_pages", 2000],
			["expires", 0],
			["expires", -1],
			["expires", 1423591888],
			["expires", 4102444800],
			["useragent", "abc"],
			["useragent", chars(1000)],
			["useragent", emoji(3)],
			["useragent", emoji(1000)],
			["cookie", "a=b"],
			["cookie", chars(1000)],
			["cookie", emoji(1000)],
			["attrs", {}],
			["attrs", { a: 1 }],
			["attrs", { key: null, list: [1, 2, 2], deep: { url: "x", extra: true } }]
		])("%s = %j", (field, value) => {
			expect(accepted(crawlSchema, withField(field, value))[field]).toEqual(value);
		});

		it.each(["allowed_domains", "allow_regex", "deny_regex", "deny_extensions"])("%s: empty, single, distinct strings (case and normalization distinct)", field => {
			for (const value of [[], ["a"], ["a", "b", "c"], ["a", "A"], ["é", "e\u0301"], [""]]) expect(accepted(crawlSchema, withField(field, value))[field]).toEqual(value);
		});
	});

	describe("rejects out-of-range and malformed values", () => {
		it.each<[string, unknown]>([
			["appid", ""],
			["appid", "ab"],
			["appid", emoji(2)],
			["appid", chars(41)],
			["appid", emoji(41)],
			["crawlid", ""],
			["crawlid", chars(41)],
			["crawlid", emoji(41)],
			["priority", 0],
			["priority", -1],
			["priority", 101],
			["priority", 2.5],
			["priority", 1.5],
			["priority", 99.9],
			["maxdepth", -1],
			["maxdepth", 4],
			["maxdepth", 0.5],
			["domain_max_pages", -1],
			["domain_max_pages", 2001],
			["domain_max_pages", 1.5],
			["expires", 1.5],
			["expires", 1423591888.5],
			["useragent", ""],
			["useragent", "ab"],
			["useragent", emoji(2)],
			["useragent", chars(1001)],
			["useragent", emoji(1001)],
			["cookie", "ab"],
			["cookie", emoji(2)],
			["cookie", chars(1001)],
			["cookie", emoji(1001)]
		])("%s = %j", (field, value) => {
			expectRejectedFor(crawlSchema, withField(field, value), field);
		});

		it.each(["allowed_domains", "allow_regex", "deny_regex", "deny_extensions"])("%s: duplicates and non-string items", field => {
			for (const value of [["a", "a"], ["a", "b", "a"], ["", ""], ["a", 1], [1], ["a", null], [null], [true], [["a"]], [{}]])
				expectRejectedFor(crawlSchema, withField(field, value), field);
		});
	});

	describe("rejects wrong types, explicit null included", () => {
		const cases: Array<[string, string, unknown]> = [];
		for (const field of ["appid", "crawlid", "url", "spiderid", "useragent", "cookie"]) for (const [name, value] of wrongTypes("string")) cases.push([field, name, value]);
		for (const field of ["priority", "maxdepth", "domain_max_pages", "expires"]) for (const [name, value] of wrongTypes("integer")) cases.push([field, name, value]);
		for (const field of ["allowed_domains", "allow_regex", "deny_regex", "deny_extensions"]) for (const [name, value] of wrongTypes("array")) cases.push([field, name, value]);
		for (const [name, value] of wrongTypes("object")) cases.push(["attrs", name, value]);
		it.each(cases)("%s as %s", (field, _name, value) => {
			expectRejectedFor(crawlSchema, withField(field, value), field);
		});

		it("reports an explicit null as a null issue on that field", () => {
			expect(expectRejectedFor(crawlSchema, withField("useragent", null), "useragent")).toContainEqual(expect.objectContaining({ type: "null", field: "useragent" }));
		});
	});

	it.each(["appid", "crawlid", "url"])("rejects a request without the required %s", field => {
		const input: Record<string, unknown> = { ...BASE };
		delete input[field];
		const issues = expectRejectedFor(crawlSchema, input, field);
		expect(issues).toContainEqual(expect.objectContaining({ type: "required", field }));
	});

	it("rejects the empty object, reporting each required property", () => {
		const issues = crawlSchema.validate({});
		expect(issues.ok).toBe(false);
		if (!issues.ok) expect(issues.issues.map(i => `${i.type}:${i.field}`).sort()).toEqual(["required:appid", "required:crawlid", "required:url"]);
	});

	it.each(["uuid", "action", "stats", "ts", "splash", "URL", "Appid", "domain", "hits", "extra", ""])("rejects the unknown property %j", key => {
		expectRejectedExtra(crawlSchema, withField(key, "x"), key);
	});

	it("rejects unknown properties even when null, and lists them all", () => {
		expectRejectedExtra(crawlSchema, withField("extra", null), "extra");
		const issues = expectRejectedFor(crawlSchema, { ...BASE, one: 1, two: 2 }, "");
		expect(issues.map(i => i.type)).toEqual(["objectStrict"]);
		expect(String(issues[0]?.actual).split(", ").sort()).toEqual(["one", "two"]);
	});

	it.each(["__proto__", "constructor", "toString", "hasOwnProperty", "$$strict", "$$root"])("rejects the JSON property %j as unknown", key => {
		const input = JSON.parse(`{"appid":"testapp","crawlid":"abc123","url":"http://x.com",${JSON.stringify(key)}:{"a":1}}`) as unknown;
		expectRejectedExtra(crawlSchema, input, key);
		const asNull = JSON.parse(`{"appid":"testapp","crawlid":"abc123","url":"http://x.com",${JSON.stringify(key)}:null}`) as unknown;
		expect(crawlSchema.validate(asNull).ok).toBe(false);
	});

	it("does not take a required property from a JSON __proto__ member", () => {
		const input = JSON.parse('{"__proto__":{"appid":"testapp"},"crawlid":"abc123","url":"http://x.com"}') as unknown;
		expect(crawlSchema.validate(input).ok).toBe(false);
	});

	it.each(NON_OBJECTS)("rejects a non-object request: %s", (_name, value) => {
		expectRejectedNonObject(crawlSchema, value);
	});

	it("reports exactly one issue when only a required property is missing (no default for required ones)", () => {
		const input = { crawlid: "abc123", url: "http://x.com" };
		expect(expectRejectedFor(crawlSchema, input, "appid")).toEqual([expect.objectContaining({ type: "required", field: "appid" })]);
	});
});
