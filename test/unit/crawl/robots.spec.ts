/**
 * robots.txt parsing and matching (lib/crawl/robots.ts), mostly with the examples of Google's robots.txt
 * specification and RFC 9309.
 */
import { ALLOW_ALL, normalizePath, parseRobots, patternMatches, ROBOTS_MAX_BYTES } from "../../../lib/crawl/robots.ts";

const UA = "Scrapy/2.11 (+https://scrapy.org)";
const allowed = (robots: string, path: string, ua = UA): boolean => parseRobots(robots, ua).isAllowed(`http://example.com${path}`);

describe("path patterns (Google's URL matching examples)", () => {
	const cases: Array<[string, string[], string[]]> = [
		["/", ["/", "/fish", "/a/b?c=d"], []],
		["/*", ["/", "/fish", "/a/b?c=d"], []],
		["/$", ["/"], ["/index.html", "/?q=1"]],
		["/fish", ["/fish", "/fish.html", "/fish/salmon.html", "/fishheads", "/fishheads/yummy.html", "/fish.php?id=anything"], ["/Fish.asp", "/catfish", "/?id=fish", "/desert/fish"]],
		["/fish*", ["/fish", "/fish.html", "/fish/salmon.html", "/fishheads", "/fishheads/yummy.html", "/fish.php?id=anything"], ["/Fish.asp", "/catfish", "/?id=fish", "/desert/fish"]],
		["/fish/", ["/fish/", "/fish/?id=anything", "/fish/salmon.htm"], ["/fish", "/fish.html", "/animals/fish/", "/Fish/Salmon.asp"]],
		["/*.php", ["/index.php", "/filename.php", "/folder/filename.php", "/folder/filename.php?parameters", "/folder/any.php.file.html", "/filename.php/"], ["/", "/windows.PHP"]],
		["/*.php$", ["/filename.php", "/folder/filename.php"], ["/filename.php?parameters", "/filename.php/", "/filename.php5", "/windows.PHP"]],
		["/fish*.php", ["/fish.php", "/fishheads/catfish.php?parameters"], ["/Fish.PHP"]]
	];
	it.each(cases)("Disallow: %s", (pattern, matching, notMatching) => {
		const robots = `User-agent: *\nDisallow: ${pattern}\n`;
		for (const path of matching) expect([path, allowed(robots, path)]).toEqual([path, false]);
		for (const path of notMatching) expect([path, allowed(robots, path)]).toEqual([path, true]);
	});

	it("matches wildcards without backtracking blow-up", () => {
		const started = Date.now();
		expect(patternMatches(`/${"a".repeat(5000)}`, `/${"*a".repeat(50)}b`)).toBe(false);
		expect(patternMatches(`/${"a".repeat(5000)}b`, `/${"*a".repeat(50)}b$`)).toBe(true);
		expect(Date.now() - started).toBeLessThan(2000);
	});

	it("treats a $ inside a pattern as a literal character", () => {
		expect(allowed("User-agent: *\nDisallow: /a$b\n", "/a$b")).toBe(false);
		expect(allowed("User-agent: *\nDisallow: /a$b\n", "/a")).toBe(true);
	});

	it("prefixes a pattern that does not start with / or *", () => {
		expect(allowed("User-agent: *\nDisallow: private\n", "/private/x")).toBe(false);
	});
});

describe("precedence: the longest match wins, Allow wins ties", () => {
	it.each<[string, string, string, boolean]>([
		["/p", "/", "/page", true],
		["/folder", "/folder", "/folder/page", true],
		["/page", "/*.htm", "/page.htm", false],
		["/page", "/*.ph", "/page.php", true],
		["/$", "/", "/", true],
		["/$", "/", "/page.htm", false]
	])("allow: %s, disallow: %s -> %s allowed=%s", (allow, disallow, path, expected) => {
		expect(allowed(`User-agent: *\nAllow: ${allow}\nDisallow: ${disallow}\n`, path)).toBe(expected);
		// Order in the file does not matter.
		expect(allowed(`User-agent: *\nDisallow: ${disallow}\nAllow: ${allow}\n`, path)).toBe(expected);
	});

	it("allows a more specific path inside a disallowed directory", () => {
		const robots = "User-agent: *\nDisallow: /shop/\nAllow: /shop/public/\n";
		expect(allowed(robots, "/shop/cart")).toBe(false);
		expect(allowed(robots, "/shop/public/item")).toBe(true);
		expect(allowed(robots, "/other")).toBe(true);
	});

	it("treats an empty Disallow (or Allow) as no rule", () => {
		expect(allowed("User-agent: *\nDisallow:\n", "/anything")).toBe(true);
		expect(allowed("User-agent: *\nDisallow: /\nAllow:\n", "/anything")).toBe(false);
	});

	it("always allows /robots.txt", () => {
		expect(allowed("User-agent: *\nDisallow: /\n", "/robots.txt")).toBe(true);
		expect(allowed("User-agent: *\nDisallow: /\n", "/robots.txt.bak")).toBe(false);
	});

	it("matches paths case-sensitively and keys case-insensitively", () => {
		const robots = "USER-AGENT: *\nDISALLOW: /Private\n";
		expect(allowed(robots, "/Private/x")).toBe(false);
		expect(allowed(robots, "/private/x")).toBe(true);
	});
});

describe("user-agent groups", () => {
	// Google's example: which group applies to which crawler.
	const googleGroups = "user-agent: googlebot-news\ndisallow: /g1\n\nuser-agent: *\ndisallow: /g2\n\nuser-agent: googlebot\ndisallow: /g3\n";
	it.each<[string, string]>([
		["Googlebot-News", "/g1"],
		["Googlebot", "/g3"],
		["Googlebot-Image/1.0", "/g3"],
		["Otherbot/1.0", "/g2"],
		[UA, "/g2"]
	])("%s gets the group disallowing %s", (ua, path) => {
		for (const p of ["/g1", "/g2", "/g3"]) expect([p, allowed(googleGroups, p, ua)]).toEqual([p, p !== path]);
	});

	it("matches the product token case-insensitively, ignoring versions on either side", () => {
		const robots = "User-agent: SCRAPY/1.0\nDisallow: /private\n\nUser-agent: *\nDisallow: /\n";
		expect(allowed(robots, "/public", "scrapy")).toBe(true);
		expect(allowed(robots, "/public", UA)).toBe(true);
		expect(allowed(robots, "/private", UA)).toBe(false);
		expect(allowed(robots, "/public", "Scrapyish/1.0")).toBe(false);
		expect(allowed(robots, "/public", "Mozilla/5.0 (compatible; Scrapy/2.11)")).toBe(false);
	});

	it("shares the rules of consecutive user-agent lines, and starts a new group after rules", () => {
		const robots = "user-agent: a\ndisallow: /c\n\nuser-agent: b\ndisallow: /d\n\nuser-agent: e\nuser-agent: f\ndisallow: /g\n\nuser-agent: h\n";
		expect(allowed(robots, "/c", "a")).toBe(false);
		expect(allowed(robots, "/d", "a")).toBe(true);
		expect(allowed(robots, "/d", "b")).toBe(false);
		expect(allowed(robots, "/g", "e")).toBe(false);
		expect(allowed(robots, "/g", "f")).toBe(false);
		expect(allowed(robots, "/c", "h")).toBe(true);
		expect(allowed(robots, "/g", "h")).toBe(true);
	});

	it("merges groups naming the same agent", () => {
		const robots = "user-agent: googlebot-news\ndisallow: /fish\n\nuser-agent: *\ndisallow: /carrots\n\nuser-agent: googlebot-news\ndisallow: /shrimp\n";
		expect(allowed(robots, "/fish", "googlebot-news")).toBe(false);
		expect(allowed(robots, "/shrimp", "googlebot-news")).toBe(false);
		expect(allowed(robots, "/carrots", "googlebot-news")).toBe(true);
	});

	it("does not let other lines (sitemap, unknown keys) break a group", () => {
		const robots = "user-agent: a\nsitemap: https://example.com/sitemap.xml\n\nuser-agent: b\ndisallow: /\n";
		expect(allowed(robots, "/x", "a")).toBe(false);
		expect(allowed(robots, "/x", "b")).toBe(false);
	});

	it("ignores rules before the first user-agent line", () => {
		expect(allowed("Disallow: /\nUser-agent: *\nDisallow: /private\n", "/public")).toBe(true);
	});

	it("allows everything when no group applies", () => {
		const rules = parseRobots("User-agent: otherbot\nDisallow: /\n", UA);
		expect(rules.isAllowed("http://example.com/")).toBe(true);
		expect(rules.crawlDelay).toBeNull();
	});

	it("prefers the specific group over * entirely (no inheritance)", () => {
		const robots = "User-agent: *\nDisallow: /\n\nUser-agent: scrapy\nDisallow: /private\n";
		expect(allowed(robots, "/public")).toBe(true);
		expect(allowed(robots, "/private")).toBe(false);
		expect(allowed(robots, "/public", "Otherbot")).toBe(false);
	});
});

describe("percent-encoding", () => {
	it.each<[string, string, boolean]>([
		["/foo/bar?baz=quz", "/foo/bar?baz=quz", true],
		["/foo/bar/ツ", "/foo/bar/%E3%83%84", true],
		["/foo/bar/%E3%83%84", "/foo/bar/%E3%83%84", true],
		["/foo/bar/%e3%83%84", "/foo/bar/ツ", true],
		["/foo/bar/%62%61%7A", "/foo/bar/baz", true],
		["/a%3cd", "/a%3Cd", true],
		["/a%2Fb", "/a/b", false]
	])("Disallow: %s applies to %s: %s", (pattern, path, applies) => {
		expect(allowed(`User-agent: *\nDisallow: ${pattern}\n`, path)).toBe(!applies);
	});

	it("normalises both sides the same way", () => {
		expect(normalizePath("/a%7e%41%2f b/é")).toBe("/a~A%2F%20b/%C3%A9");
	});
});

describe("crawl-delay", () => {
	it("gives the chosen group's delay, fractional seconds allowed", () => {
		const robots = "User-agent: *\nCrawl-delay: 10\n\nUser-agent: scrapy\nCrawl-delay: 2.5\nDisallow: /x\n";
		expect(parseRobots(robots, UA).crawlDelay).toBe(2.5);
		expect(parseRobots(robots, "otherbot").crawlDelay).toBe(10);
	});

	it("is null when the group has none or it is invalid", () => {
		expect(parseRobots("User-agent: *\nDisallow: /x\n", UA).crawlDelay).toBeNull();
		expect(parseRobots("User-agent: *\nCrawl-delay: soon\n", UA).crawlDelay).toBeNull();
		expect(parseRobots("User-agent: *\nCrawl-delay: -3\n", UA).crawlDelay).toBeNull();
		expect(parseRobots("User-agent: *\nCrawl-delay: 0\n", UA).crawlDelay).toBe(0);
	});
});

describe("robustness", () => {
	it("ignores comments, blank lines, garbage and HTML", () => {
		const robots = "\uFEFF# robots\n<html><body>oops</body></html>\n\x00\x01binary\xff\n: no key\nUser-agent: * # everyone\n\tDisallow:   /private   # secret\nnonsense line here\nDisallow /nocolon\n";
		expect(allowed(robots, "/private/x")).toBe(false);
		expect(allowed(robots, "/nocolon")).toBe(false);
		expect(allowed(robots, "/public")).toBe(true);
	});

	it("accepts CR, LF and CRLF line ends", () => {
		for (const eol of ["\r", "\n", "\r\n"]) expect(allowed(["User-agent: *", "Disallow: /x"].join(eol), "/x")).toBe(false);
	});

	it("reads only the first 500 KiB", () => {
		const padding = `# ${"x".repeat(1000)}\n`.repeat(Math.ceil(ROBOTS_MAX_BYTES / 1000));
		const robots = `User-agent: *\nDisallow: /early\n${padding}Disallow: /late\n`;
		expect(allowed(robots, "/early")).toBe(false);
		expect(allowed(robots, "/late")).toBe(true);
	});

	it("never throws, whatever it is given", () => {
		expect(() => parseRobots(undefined as unknown as string, UA)).not.toThrow();
		expect(() => parseRobots("User-agent: *\nDisallow: /%zz%\n", null as unknown as string)).not.toThrow();
		const rules = parseRobots("User-agent: *\nDisallow: /\n", UA);
		expect(rules.isAllowed("not a url")).toBe(true);
		expect(rules.isAllowed("/relative/path")).toBe(false);
		expect(parseRobots("", UA).isAllowed("http://example.com/x")).toBe(true);
	});

	it("ALLOW_ALL allows everything and asks no delay", () => {
		expect(ALLOW_ALL.isAllowed("http://example.com/anything")).toBe(true);
		expect(ALLOW_ALL.crawlDelay).toBeNull();
	});

	it("ignores fragments and keeps the query", () => {
		const robots = "User-agent: *\nDisallow: /*?print=1\n";
		expect(allowed(robots, "/page?print=1#top")).toBe(false);
		expect(allowed(robots, "/page#?print=1")).toBe(true);
	});
});
