/**
 * The refusal checks each kind runs on a request its schema accepted (lib/requests/kinds/*.ts) and
 * the key-safety helpers they use (lib/requests/key-safety.ts): values that would break the Redis key
 * formats, URLs that cannot be crawled, patterns that do not compile, zookeeper updates that the
 * original ignored. Every reason names the field it is about.
 */
import { actionKind } from "../../../lib/requests/kinds/action.ts";
import type { ActionRequest } from "../../../lib/requests/kinds/action.ts";
import { crawlKind, crawlSchema } from "../../../lib/requests/kinds/crawl.ts";
import type { CrawlRequest } from "../../../lib/requests/kinds/crawl.ts";
import { statsKind } from "../../../lib/requests/kinds/stats.ts";
import { zookeeperKind, zookeeperSchema } from "../../../lib/requests/kinds/zookeeper.ts";
import type { ZookeeperRequest } from "../../../lib/requests/kinds/zookeeper.ts";
import { firstReason, spiderIdReason, unsafeIdReason } from "../../../lib/requests/key-safety.ts";

/** A crawl request as the schema fills it in; the overrides must pass the schema. */
function crawl(overrides: Record<string, unknown> = {}): CrawlRequest {
	const result = crawlSchema.validate({ url: "http://istresearch.com/", appid: "testapp", crawlid: "abc123", ...overrides });
	if (!result.ok) throw new Error(`schema refused ${JSON.stringify(overrides)}: ${JSON.stringify(result.issues)}`);
	return result.value;
}

function zk(overrides: Record<string, unknown> = {}): ZookeeperRequest {
	const result = zookeeperSchema.validate({ uuid: "abc123", appid: "madisonTest", action: "domain-update", domain: "dmoz.org", hits: 60, window: 60, ...overrides });
	if (!result.ok) throw new Error(`schema refused ${JSON.stringify(overrides)}: ${JSON.stringify(result.issues)}`);
	return result.value;
}

const refuseCrawl = (overrides: Record<string, unknown>): string | null => crawlKind.refuse?.(crawl(overrides)) ?? null;
const refuseZk = (overrides: Record<string, unknown>): string | null => zookeeperKind.refuse?.(zk(overrides)) ?? null;

const UNSAFE_IDS: Array<[string, string]> = [
	["colon", "app:1"],
	["asterisk", "app*"],
	["question mark", "app?"],
	["open bracket", "app[1"],
	["close bracket", "app]1"],
	["backslash", "app\\1"],
	["NUL", "app\u00001"],
	["newline", "app\n1"],
	["tab", "app\t1"],
	["unit separator", "app\u001f1"],
	["DEL", "app\u007f1"],
	["blacklist separator", "app||1"],
	["leading separator", "||app"]
];

const SAFE_IDS = ["testapp", "ABC123", "a|b|c", "with space", "dots.and-dashes_", "slash/ok", "ünïcödé", "😀😀😀", "%20", "a=b&c"];

describe("crawlKind.refuse", () => {
	it.each([
		"http://istresearch.com",
		"http://www.apple.com/",
		"https://example.com/a/b?c=d&e=f#frag",
		"HTTP://EXAMPLE.COM/",
		"HtTpS://Example.com",
		"http://example.com:8080/",
		"https://example.com:443/",
		"http://127.0.0.1/",
		"http://127.0.0.1:6800/path",
		"http://[::1]/",
		"http://[::1]:8080/x",
		"http://[2001:db8::1]/",
		"http://localhost:5343/",
		"http://bücher.de/",
		"http://例え.テスト/",
		"http://xn--bcher-kva.de/"
	])("accepts the URL %j", url => {
		expect(refuseCrawl({ url })).toBeNull();
	});

	it.each([
		["ftp://example.com/file", "ftp:"],
		["file:///etc/passwd", "file:"],
		["javascript:alert(1)", "javascript:"],
		["mailto:someone@example.com", "mailto:"],
		["data:text/html,hello", "data:"],
		["ws://example.com/", "ws:"],
		["gopher://example.com/", "gopher:"]
	])("refuses the non-http(s) URL %j", (url, protocol) => {
		expect(refuseCrawl({ url })).toBe(`url "${url}": only http and https URLs can be crawled, not ${protocol}`);
	});

	it.each(["istresearch.com", "www.istresearch.com/path", "/relative/path", "//example.com/x", "", " ", "http://", "https://", "not a url", "http://exa mple.com/", "http://[::1/", "http://a:b:c/"])("refuses the relative or garbage URL %j", url => {
		expect(refuseCrawl({ url })).toBe(`url "${url}" is not an absolute URL`);
	});

	it("cuts long URLs in the reason to 200 characters", () => {
		const url = `ftp://${"x".repeat(300)}.com/`;
		const reason = refuseCrawl({ url });
		expect(reason).toBe(`url "${url.slice(0, 200)}": only http and https URLs can be crawled, not ftp:`);
	});

	it.each(UNSAFE_IDS)("refuses an appid with a %s", (_name, id) => {
		expect(refuseCrawl({ appid: id })).toMatch(/^appid "/);
	});

	it.each(UNSAFE_IDS)("refuses a crawlid with a %s", (_name, id) => {
		expect(refuseCrawl({ crawlid: id })).toMatch(/^crawlid "/);
	});

	it.each(SAFE_IDS)("accepts the appid and crawlid %j", id => {
		expect(refuseCrawl({ appid: id, crawlid: id })).toBeNull();
	});

	it.each(["link", "wandering", "a", "A-b_C9", "x".repeat(64), "123", "-", "_"])("accepts the spiderid %j", spiderid => {
		expect(refuseCrawl({ spiderid })).toBeNull();
	});

	it.each(["", " ", "a b", "link:x", "link*", "link.x", "link/x", "lïnk", "link\n", "\nlink", "x".repeat(65), "link||", "link\u0000"])("refuses the spiderid %j", spiderid => {
		expect(refuseCrawl({ spiderid })).toBe(`spiderid ${JSON.stringify(spiderid)} must be 1-64 letters, digits, '_' or '-'`);
	});

	it.each(["^https?://", "\\d+", "", ".*\\.html$", "[a-z]+", "(a|b)*", "(?:x)", "(?<name>x)", "\\/path\\/"])("accepts the pattern %j in allow_regex and deny_regex", pattern => {
		expect(refuseCrawl({ allow_regex: [pattern] })).toBeNull();
		expect(refuseCrawl({ deny_regex: [pattern] })).toBeNull();
		expect(refuseCrawl({ allow_regex: [pattern, "ok"], deny_regex: ["fine", pattern] })).toBeNull();
	});

	const BAD_PATTERNS = ["(unclosed", "[a-", "a{2,1}", "*a", "+", "(?P<name>x)", "(?i)abc", "\\", "a)"];

	it.each(BAD_PATTERNS)("refuses the non-compiling pattern %j in allow_regex and deny_regex", pattern => {
		for (const overrides of [{ allow_regex: ["ok", pattern] }, { deny_regex: [pattern] }, { allow_regex: ["fine"], deny_regex: ["ok", pattern] }]) {
			const reason = refuseCrawl(overrides);
			expect(reason).toContain(`regular expression "${pattern}" does not compile`);
		}
	});

	it("names the list holding a non-compiling pattern (allow_regex or deny_regex)", () => {
		expect(refuseCrawl({ allow_regex: ["(unclosed"] })).toContain("allow_regex");
		expect(refuseCrawl({ deny_regex: ["(unclosed"] })).toContain("deny_regex");
	});

	it("does not look at allowed_domains or deny_extensions", () => {
		expect(refuseCrawl({ allowed_domains: ["a:b", "*"], deny_extensions: ["[", "\\"] })).toBeNull();
	});

	it("gives the first reason: url, then appid, crawlid, spiderid, patterns", () => {
		const all = { url: "ftp://x/", appid: "a:pp", crawlid: "c*", spiderid: "s s", allow_regex: ["("] };
		expect(refuseCrawl(all)).toMatch(/^url "/);
		expect(refuseCrawl({ ...all, url: "http://x/" })).toMatch(/^appid "/);
		expect(refuseCrawl({ ...all, url: "http://x/", appid: "app" })).toMatch(/^crawlid "/);
		expect(refuseCrawl({ ...all, url: "http://x/", appid: "app", crawlid: "c" })).toMatch(/^spiderid "/);
		expect(refuseCrawl({ ...all, url: "http://x/", appid: "app", crawlid: "c", spiderid: "s" })).toMatch(/^allow_regex: regular expression "\(" does not compile/);
	});
});

describe("zookeeperKind.refuse", () => {
	it("accepts a complete domain-update and every other action", () => {
		expect(refuseZk({})).toBeNull();
		expect(refuseZk({ hits: 1, window: 1, scale: 0 })).toBeNull();
		for (const action of ["domain-remove", "blacklist-update", "blacklist-remove"]) {
			expect(refuseZk({ action })).toBeNull();
			expect(refuseZk({ action, hits: 0, window: 0 })).toBeNull();
		}
	});

	it.each([
		[{ hits: 0 }],
		[{ window: 0 }],
		[{ hits: 0, window: 0 }]
	])("refuses a domain-update without hits or window: %j", overrides => {
		expect(refuseZk(overrides)).toBe("'hits' and 'window' not set for domain update");
	});

	it("refuses the documented domain-update when hits and window are left to their defaults", () => {
		const result = zookeeperSchema.validate({ uuid: "abc123", appid: "madisonTest", action: "domain-update", domain: "dmoz.org", scale: 0.9 });
		if (!result.ok) throw new Error("schema refused");
		expect(zookeeperKind.refuse?.(result.value)).toBe("'hits' and 'window' not set for domain update");
	});

	it.each(["", " ", "a b", "dmoz.org ", " dmoz.org", "*.example.com", "*", "ex?.com", "[x]", "x]", "a\tb", "a\nb", "a\u0000b", "a\u007fb"])("refuses the domain %j", domain => {
		expect(refuseZk({ domain })).toBe(`domain "${domain}" must be a non-empty host name without spaces or wildcards`);
	});

	it.each(["dmoz.org", "ebay.com", "bbc.co.uk", "localhost", "127.0.0.1", "bücher.de", "xn--bcher-kva.de"])("accepts the domain %j", domain => {
		expect(refuseZk({ domain })).toBeNull();
		expect(refuseZk({ domain, action: "blacklist-update" })).toBeNull();
	});

	it.each(UNSAFE_IDS)("refuses an appid with a %s", (_name, appid) => {
		expect(refuseZk({ appid })).toMatch(/^appid "/);
	});

	it("checks the domain before hits and window", () => {
		expect(refuseZk({ domain: "", hits: 0 })).toMatch(/^domain ""/);
	});
});

describe("actionKind.refuse", () => {
	const base: ActionRequest = { uuid: "abc12333", appid: "testapp", spiderid: "link", action: "info" };

	it("accepts the documented requests, with and without crawlid", () => {
		expect(actionKind.refuse?.(base)).toBeNull();
		expect(actionKind.refuse?.({ ...base, action: "stop", crawlid: "ABC123" })).toBeNull();
	});

	it.each(UNSAFE_IDS)("refuses an appid or crawlid with a %s", (_name, id) => {
		expect(actionKind.refuse?.({ ...base, appid: id })).toMatch(/^appid "/);
		expect(actionKind.refuse?.({ ...base, crawlid: id })).toMatch(/^crawlid "/);
	});

	it("refuses a spiderid that is not a spider name", () => {
		expect(actionKind.refuse?.({ ...base, spiderid: "" })).toBe(`spiderid "" must be 1-64 letters, digits, '_' or '-'`);
		expect(actionKind.refuse?.({ ...base, spiderid: "link:*" })).toBe(`spiderid "link:*" must be 1-64 letters, digits, '_' or '-'`);
	});

	it("does not look at the uuid (it is a value, not part of a key)", () => {
		expect(actionKind.refuse?.({ ...base, uuid: "u:*?[]" })).toBeNull();
	});
});

describe("statsKind.refuse", () => {
	it("accepts ordinary requests and any uuid", () => {
		expect(statsKind.refuse?.({ uuid: "abc123", appid: "testapp", stats: "all" })).toBeNull();
		expect(statsKind.refuse?.({ uuid: "a:b*", appid: "testapp", stats: "queue" })).toBeNull();
	});

	it.each(UNSAFE_IDS)("refuses an appid with a %s", (_name, appid) => {
		expect(statsKind.refuse?.({ uuid: "abc123", appid, stats: "all" })).toMatch(/^appid "/);
	});
});

describe("key-safety", () => {
	it("names the field and the character class in unsafeIdReason", () => {
		expect(unsafeIdReason("appid", "a:b")).toBe(`appid "a:b" contains a character that breaks Redis key formats (':', '*', '?', '[', ']', '\\' or a control character)`);
		expect(unsafeIdReason("crawlid", "a||b")).toBe(`crawlid "a||b" contains "||", the separator of blacklist entries`);
		expect(unsafeIdReason("crawlid", "a|b")).toBeNull();
		expect(unsafeIdReason("appid", "")).toBeNull();
	});

	it.each(UNSAFE_IDS)("unsafeIdReason refuses a %s", (_name, id) => {
		expect(unsafeIdReason("x", id)).toMatch(/^x "/);
	});

	it.each(SAFE_IDS)("unsafeIdReason accepts %j", id => {
		expect(unsafeIdReason("x", id)).toBeNull();
	});

	it("spiderIdReason follows /^[A-Za-z0-9_-]{1,64}$/", () => {
		expect(spiderIdReason("link")).toBeNull();
		expect(spiderIdReason("x".repeat(64))).toBeNull();
		expect(spiderIdReason("x".repeat(65))).toBe(`spiderid "${"x".repeat(65)}" must be 1-64 letters, digits, '_' or '-'`);
		expect(spiderIdReason("")).toBe(`spiderid "" must be 1-64 letters, digits, '_' or '-'`);
	});

	it("firstReason returns the first non-null reason", () => {
		expect(firstReason()).toBeNull();
		expect(firstReason(null, null)).toBeNull();
		expect(firstReason(null, "second", "third")).toBe("second");
		expect(firstReason("", "later")).toBe("");
	});
});
