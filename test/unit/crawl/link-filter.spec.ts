/**
 * The link spider's follow filter (lib/crawl/link-filter.ts): Scrapy LinkExtractor's allow_domains,
 * allow, deny and deny_extensions as the crawl request fields set them.
 */
import type { LinkFilterOptions } from "../../../lib/crawl/link-filter.ts";
import { compileLinkFilter, DEFAULT_DENY_EXTENSIONS, linkFilterFor, pathExtension } from "../../../lib/crawl/link-filter.ts";

const NONE: LinkFilterOptions = { allowed_domains: null, allow_regex: null, deny_regex: null, deny_extensions: null };
const filter = (opts: Partial<LinkFilterOptions>): ((url: string) => boolean) => compileLinkFilter({ ...NONE, ...opts });

describe("DEFAULT_DENY_EXTENSIONS", () => {
	it("is Scrapy 2.x's IGNORED_EXTENSIONS, without dots", () => {
		expect(DEFAULT_DENY_EXTENSIONS).toHaveLength(91);
		expect(new Set(DEFAULT_DENY_EXTENSIONS).size).toBe(DEFAULT_DENY_EXTENSIONS.length);
		for (const ext of ["7z", "7zip", "tar.gz", "zip", "jpg", "webp", "mp3", "webm", "xlsm", "docx", "css", "pdf", "exe", "bin", "rss", "dmg", "iso", "apk", "jar", "sh", "js", "msi", "py"]) {
			expect(DEFAULT_DENY_EXTENSIONS).toContain(ext);
		}
		expect(DEFAULT_DENY_EXTENSIONS.some(e => e.startsWith("."))).toBe(false);
		for (const ext of ["html", "htm", "php", "asp", "txt", "json"]) expect(DEFAULT_DENY_EXTENSIONS).not.toContain(ext);
	});

	it("is frozen", () => {
		expect(Object.isFrozen(DEFAULT_DENY_EXTENSIONS)).toBe(true);
	});
});

describe("compileLinkFilter: schemes", () => {
	const f = filter({});

	it.each(["http://a.com/", "https://a.com/x?y=1", "HTTP://A.COM/"])("follows %j", url => {
		expect(f(url)).toBe(true);
	});

	it.each(["ftp://a.com/", "file:///etc/passwd", "mailto:x@a.com", "javascript:void(0)", "data:text/html,x", "tel:123", "/relative", "", "http://"])("does not follow %j", url => {
		expect(f(url)).toBe(false);
	});
});

describe("compileLinkFilter: allowed_domains", () => {
	it("allows the domain itself and its subdomains, nothing else", () => {
		const f = filter({ allowed_domains: ["example.com"] });
		expect(f("http://example.com/a")).toBe(true);
		expect(f("http://www.example.com/a")).toBe(true);
		expect(f("https://a.b.example.com/a")).toBe(true);
		expect(f("http://notexample.com/a")).toBe(false);
		expect(f("http://example.com.evil.org/a")).toBe(false);
		expect(f("http://example.org/a")).toBe(false);
		expect(f("http://other.com/?u=example.com")).toBe(false);
	});

	it("compares case-insensitively", () => {
		expect(filter({ allowed_domains: ["Example.COM"] })("http://WWW.example.com/")).toBe(true);
		expect(filter({ allowed_domains: ["example.com"] })("http://WWW.EXAMPLE.COM/")).toBe(true);
	});

	it("matches any of several entries", () => {
		const f = filter({ allowed_domains: ["a.com", "b.org"] });
		expect(f("http://x.b.org/")).toBe(true);
		expect(f("http://a.com/")).toBe(true);
		expect(f("http://c.net/")).toBe(false);
	});

	it("matches the host without the port (unlike Scrapy)", () => {
		const f = filter({ allowed_domains: ["127.0.0.1"] });
		expect(f("http://127.0.0.1:8080/x")).toBe(true);
		expect(f("http://127.0.0.1/x")).toBe(true);
		expect(f("http://127.0.0.2:8080/x")).toBe(false);
	});

	it("matches an entry with a port against host:port (as Scrapy does)", () => {
		const f = filter({ allowed_domains: ["127.0.0.1:8080"] });
		expect(f("http://127.0.0.1:8080/x")).toBe(true);
		expect(f("http://127.0.0.1:9090/x")).toBe(false);
		expect(f("http://127.0.0.1/x")).toBe(false);
		expect(filter({ allowed_domains: ["example.com:8080"] })("http://www.example.com:8080/")).toBe(true);
	});

	it("matches an entry with the scheme's default port when the URL has none", () => {
		expect(filter({ allowed_domains: ["example.com:80"] })("http://example.com/")).toBe(true);
		expect(filter({ allowed_domains: ["example.com:443"] })("https://example.com/")).toBe(true);
		expect(filter({ allowed_domains: ["example.com:443"] })("http://example.com/")).toBe(false);
	});

	it("matches IPv6 hosts given with or without brackets", () => {
		expect(filter({ allowed_domains: ["::1"] })("http://[::1]:8080/")).toBe(true);
		expect(filter({ allowed_domains: ["[::1]"] })("http://[::1]/")).toBe(true);
		expect(filter({ allowed_domains: ["[::1]:8080"] })("http://[::1]:8080/")).toBe(true);
		expect(filter({ allowed_domains: ["::1"] })("http://[::2]/")).toBe(false);
	});

	it("matches internationalised domains given in Unicode", () => {
		const f = filter({ allowed_domains: ["b\u00fccher.de"] });
		expect(f("http://www.b\u00fccher.de/")).toBe(true);
		expect(f("http://www.xn--bcher-kva.de/")).toBe(true);
		expect(f("http://buecher.de/")).toBe(false);
	});

	it("does not restrict when null or empty", () => {
		expect(filter({ allowed_domains: null })("http://anything.example/")).toBe(true);
		expect(filter({ allowed_domains: [] })("http://anything.example/")).toBe(true);
	});
});

describe("compileLinkFilter: allow_regex and deny_regex", () => {
	it("needs at least one allow pattern to match anywhere in the URL (re.search)", () => {
		const f = filter({ allow_regex: ["/blog/", "\\?page=\\d+$"] });
		expect(f("http://a.com/blog/post-1")).toBe(true);
		expect(f("http://a.com/list?page=3")).toBe(true);
		expect(f("http://a.com/about")).toBe(false);
		expect(f("http://a.com/list?page=x")).toBe(false);
	});

	it("drops URLs matched by any deny pattern", () => {
		const f = filter({ deny_regex: ["logout", "\\.php$"] });
		expect(f("http://a.com/logout?x=1")).toBe(false);
		expect(f("http://a.com/index.php")).toBe(false);
		expect(f("http://a.com/index.php?x=1")).toBe(true);
		expect(f("http://a.com/home")).toBe(true);
	});

	it("lets deny win over allow", () => {
		const f = filter({ allow_regex: ["/docs/"], deny_regex: ["/docs/private/"] });
		expect(f("http://a.com/docs/public/1")).toBe(true);
		expect(f("http://a.com/docs/private/1")).toBe(false);
		expect(f("http://a.com/other")).toBe(false);
	});

	it("is case-sensitive unless the pattern says otherwise", () => {
		expect(filter({ allow_regex: ["/Blog/"] })("http://a.com/blog/x")).toBe(false);
		expect(filter({ allow_regex: ["(?i)/Blog/"] })("http://a.com/blog/x")).toBe(true);
	});

	it("translates Python named groups", () => {
		const f = filter({ allow_regex: ["/(?P<year>\\d{4})/(?P=year)/"] });
		expect(f("http://a.com/2024/2024/x")).toBe(true);
		expect(f("http://a.com/2024/2023/x")).toBe(false);
	});

	it("does not restrict when null or empty", () => {
		expect(filter({ allow_regex: [], deny_regex: [] })("http://a.com/x")).toBe(true);
	});

	it("keeps giving the same answer for the same URL (no lastIndex state)", () => {
		const f = filter({ allow_regex: ["a"] });
		expect([f("http://a.com/"), f("http://a.com/"), f("http://a.com/")]).toEqual([true, true, true]);
	});

	it.each<[Partial<LinkFilterOptions>, string]>([
		[{ allow_regex: ["ok", "([unclosed"] }, "([unclosed"],
		[{ deny_regex: ["*bad"] }, "*bad"],
		[{ allow_regex: ["(?x) a b"] }, "(?x) a b"]
	])("throws naming the invalid pattern (%j)", (opts, pattern) => {
		expect(() => filter(opts)).toThrow(pattern);
	});
});

describe("compileLinkFilter: deny_extensions", () => {
	it("denies Scrapy's default extensions when null, case-insensitively", () => {
		const f = filter({});
		for (const url of ["http://a.com/x.jpg", "http://a.com/x.JPG", "http://a.com/dir/file.PDF", "http://a.com/a.zip?dl=1", "http://a.com/a.css#top", "http://a.com/b.exe;jsessionid=1"]) {
			expect([url, f(url)]).toEqual([url, false]);
		}
		for (const url of ["http://a.com/x.html", "http://a.com/x.php?f=a.jpg", "http://a.com/jpg", "http://a.com/.jpg", "http://a.com/a.jpg/", "http://a.com/a.jpg/page", "http://a.jpg/"]) {
			expect([url, f(url)]).toEqual([url, true]);
		}
	});

	it("compares only the last extension, so tar.gz never matches (as in Scrapy)", () => {
		expect(filter({})("http://a.com/a.tar.gz")).toBe(true);
		expect(filter({ deny_extensions: ["gz"] })("http://a.com/a.tar.gz")).toBe(false);
	});

	it("uses a given list instead of the default", () => {
		const f = filter({ deny_extensions: ["html", ".PHP"] });
		expect(f("http://a.com/x.html")).toBe(false);
		expect(f("http://a.com/x.php")).toBe(false);
		expect(f("http://a.com/x.jpg")).toBe(true);
	});

	it("denies nothing by extension for an empty list", () => {
		expect(filter({ deny_extensions: [] })("http://a.com/x.jpg")).toBe(true);
	});

	it("combines with the other filters", () => {
		const f = filter({ allowed_domains: ["a.com"], allow_regex: ["/img/"] });
		expect(f("http://a.com/img/page.html")).toBe(true);
		expect(f("http://a.com/img/x.png")).toBe(false);
		expect(f("http://b.com/img/page.html")).toBe(false);
	});
});

describe("pathExtension", () => {
	it.each<[string, string]>([
		["/a/b.JPG", ".jpg"],
		["/a.tar.gz", ".gz"],
		["/file.pdf;jsessionid=1", ".pdf"],
		["/.bashrc", ""],
		["/..x", ""],
		["/a..b", ".b"],
		["/dir.d/file", ""],
		["/", ""],
		["", ""],
		["/name.", "."]
	])("of %j is %j", (path, ext) => {
		expect(pathExtension(path)).toBe(ext);
	});
});

describe("linkFilterFor", () => {
	it("compiles a set of options once and filters as compileLinkFilter does", () => {
		const opts: LinkFilterOptions = { allowed_domains: ["a.com"], allow_regex: null, deny_regex: ["/private/"], deny_extensions: null };
		const f = linkFilterFor(opts);
		expect(linkFilterFor({ ...opts })).toBe(f);
		const fresh = compileLinkFilter(opts);
		for (const url of ["http://a.com/x", "http://b.com/x", "http://a.com/private/1", "http://a.com/x.jpg"]) expect(f(url)).toBe(fresh(url));
		// other options, another filter
		expect(linkFilterFor({ ...opts, allowed_domains: ["b.com"] })).not.toBe(f);
		expect(linkFilterFor({ ...opts, allowed_domains: ["b.com"] })("http://b.com/x")).toBe(true);
	});

	it("keeps refusing an invalid pattern (never caches a failure)", () => {
		const bad: LinkFilterOptions = { allowed_domains: null, allow_regex: ["("], deny_regex: null, deny_extensions: null };
		expect(() => linkFilterFor(bad)).toThrow(/allow_regex/);
		expect(() => linkFilterFor(bad)).toThrow(/allow_regex/);
	});
});
