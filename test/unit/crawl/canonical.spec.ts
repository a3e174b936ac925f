/**
 * URL canonicalisation and request fingerprints (lib/crawl/canonical.ts), the dupefilter's key as in
 * Scrapy's request_fingerprint over w3lib's canonicalize_url. The expected URLs of the w3lib table were
 * produced by w3lib 2.5's canonicalize_url; the fingerprints by Python's hashlib.sha1 over
 * method + canonical URL + body.
 */
import { canonicalizeUrl, RECENT_URLS, requestFingerprint } from "../../../lib/crawl/canonical.ts";

const W3LIB_CASES: Array<[string, string]> = [
	["http://www.example.com/do?c=3&b=5&b=2&a=50", "http://www.example.com/do?a=50&b=2&b=5&c=3"],
	["http://www.example.com/r\u00e9sum\u00e9", "http://www.example.com/r%C3%A9sum%C3%A9"],
	["HTTP://WWW.Example.COM/a%7e%2fb%41?q=a+b&x=%7E#frag", "http://www.example.com/a~%2FbA?q=a+b&x=~"],
	["http://a.com/a%25b", "http://a.com/a%25b"],
	["http://a.com/%2541", "http://a.com/%2541"],
	["http://a.com/100%", "http://a.com/100%"],
	["http://a.com/?a&b=&c", "http://a.com/?a=&b=&c="],
	["http://[::1]:8080/", "http://[::1]:8080/"],
	["http://a.com/a b/c?q=a b", "http://a.com/a%20b/c?q=a+b"],
	["http://user:Pw@A.com/", "http://user:Pw@a.com/"],
	["http://www.example.com/do?a=1&b=2&c=3#top", "http://www.example.com/do?a=1&b=2&c=3"],
	["http://www.example.com/a%a3do", "http://www.example.com/a%A3do"],
	["http://www.example.com/do?k=b%a3", "http://www.example.com/do?k=b%A3"],
	["http://www.example.com/caf%C3%A9?q=caf%c3%a9", "http://www.example.com/caf%C3%A9?q=caf%C3%A9"],
	["http://www.example.com/do?q=a%20b&r=a+b", "http://www.example.com/do?q=a+b&r=a+b"],
	["http://www.example.com/do?a=%2F&b=/&c=%3f", "http://www.example.com/do?a=%2F&b=%2F&c=%3F"],
	["http://www.example.com/a|b?x=|", "http://www.example.com/a|b?x=%7C"],
	["http://www.example.com/\"<>`{}^", "http://www.example.com/%22%3C%3E%60%7B%7D%5E"],
	["http://www.example.com/do?c=1;b=2", "http://www.example.com/do?c=1%3Bb%3D2"],
	["http://www.example.com/do?", "http://www.example.com/do"],
	["http://www.example.com/do?&&a=1&&", "http://www.example.com/do?a=1"],
	["http://www.example.com/~user/!$&'()*+,;=:@", "http://www.example.com/~user/!$&'()*+,;=:@"],
	["http://www.example.com/do?x=!$'()*,:@/?", "http://www.example.com/do?x=%21%24%27%28%29%2A%2C%3A%40%2F%3F"],
	["http://www.example.com", "http://www.example.com/"],
	["http://www.example.com/do?a=1=2", "http://www.example.com/do?a=1%3D2"],
	["http://www.EXAMPLE.com:8080/do", "http://www.example.com:8080/do"],
	["http://www.example.com/do?%41=%61", "http://www.example.com/do?A=a"],
	["http://a.com/p;a%41", "http://a.com/p;a%41"],
	["http://a.com/a;%41/c", "http://a.com/a;A/c"],
	["http://a.com/x%41;%41/y%41;%41", "http://a.com/xA;A/yA;%41"],
	["http://a.com/a;b%20c d", "http://a.com/a;b%20c%20d"],
	["http://a.com/a/%2e%2e/b", "http://a.com/b"],
	["http://a.com/do?q=%", "http://a.com/do?q=%25"],
	["http://a.com/do?q=%2", "http://a.com/do?q=%252"],
	["http://a.com/do?q=%zz", "http://a.com/do?q=%25zz"],
	["http://a.com/do?a=2&a=1&a=", "http://a.com/do?a=&a=1&a=2"],
	["http://a.com/do?b=1&a=2&A=3&_=1&~=2", "http://a.com/do?A=3&_=1&a=2&b=1&~=2"],
	["http://a.com/do?q=%E2%82%AC&r=\u20ac", "http://a.com/do?q=%E2%82%AC&r=%E2%82%AC"],
	["http://b\u00fccher.de/", "http://xn--bcher-kva.de/"]
];

describe("canonicalizeUrl", () => {
	it.each(W3LIB_CASES)("canonicalises %j like w3lib", (input, expected) => {
		expect(canonicalizeUrl(input)).toBe(expected);
	});

	it.each(W3LIB_CASES)("is idempotent on %j", input => {
		const once = canonicalizeUrl(input);
		expect(once).not.toBeNull();
		expect(canonicalizeUrl(once as string)).toBe(once);
	});

	it.each<[string, string]>([
		["http://example.com:80/a", "http://example.com/a"],
		["https://example.com:443/a", "https://example.com/a"],
		["HTTPS://Example.COM:443", "https://example.com/"]
	])("drops the default port of %j (w3lib keeps it)", (input, expected) => {
		expect(canonicalizeUrl(input)).toBe(expected);
	});

	it.each<[string, string]>([
		["http://example.com:8080/a", "http://example.com:8080/a"],
		["https://example.com:80/a", "https://example.com:80/a"],
		["http://example.com:443/a", "http://example.com:443/a"]
	])("keeps the non-default port of %j", (input, expected) => {
		expect(canonicalizeUrl(input)).toBe(expected);
	});

	it("sorts repeated keys by value and keeps every pair", () => {
		expect(canonicalizeUrl("http://a.com/?k=3&k=1&k=2&k=1")).toBe("http://a.com/?k=1&k=1&k=2&k=3");
	});

	it("sorts by key before value, bytewise (upper case before lower case)", () => {
		expect(canonicalizeUrl("http://a.com/?b=1&a=9&B=0")).toBe("http://a.com/?B=0&a=9&b=1");
	});

	it("keeps path case", () => {
		expect(canonicalizeUrl("http://a.com/Path/File.HTML")).toBe("http://a.com/Path/File.HTML");
	});

	it("trims surrounding whitespace and drops newlines and tabs inside", () => {
		expect(canonicalizeUrl("  http://a.com/a\nb\tc?x=1\r\n ")).toBe("http://a.com/abc?x=1");
	});

	it("gives the same form for variants of one request", () => {
		const forms = new Set(
			[
				"http://www.example.com/query?id=111&cat=222",
				"http://www.example.com/query?cat=222&id=111",
				"HTTP://WWW.EXAMPLE.COM/query?cat=222&id=111",
				"http://www.example.com:80/query?cat=222&id=111#section",
				"http://www.example.com/%71uery?cat=222&id=%31%31%31"
			].map(canonicalizeUrl)
		);
		expect([...forms]).toEqual(["http://www.example.com/query?cat=222&id=111"]);
	});

	it.each(["", "nope", "/relative/path", "ftp://a.com/x", "mailto:x@a.com", "javascript:void(0)", "data:text/html,hi", "file:///etc/passwd", "http://", "http://[bad/", "http://exa mple.com/"])(
		"returns null for %j",
		input => {
			expect(canonicalizeUrl(input)).toBeNull();
		}
	);
});

describe("requestFingerprint", () => {
	it("is the hex SHA1 of method + canonical URL + body", () => {
		expect(requestFingerprint("GET", "http://www.example.com/query?id=111&cat=222")).toBe("fad8cefa4d6198af8cb1dcf46add2941b4d32d78");
		expect(requestFingerprint("POST", "http://www.example.com/form", "a=1&b=2")).toBe("8cf0b57c4213d4645c67ba59de757cd9370153d7");
		expect(requestFingerprint("GET", "http://www.example.com/r\u00e9sum\u00e9", "\u00e9")).toBe("86bf86d2bf61f2463d85d91b04db9355344d3dbd");
	});

	it("matches /^[0-9a-f]{40}$/", () => {
		expect(requestFingerprint("GET", "http://a.com/")).toMatch(/^[0-9a-f]{40}$/);
	});

	it("is the same for query order, fragment, host case and default port", () => {
		const fp = requestFingerprint("GET", "http://www.example.com/query?id=111&cat=222");
		expect(requestFingerprint("GET", "http://www.example.com/query?cat=222&id=111")).toBe(fp);
		expect(requestFingerprint("GET", "http://WWW.Example.com/query?cat=222&id=111")).toBe(fp);
		expect(requestFingerprint("GET", "http://www.example.com:80/query?cat=222&id=111#frag")).toBe(fp);
	});

	it("upper-cases the method", () => {
		expect(requestFingerprint("get", "http://a.com/x")).toBe(requestFingerprint("GET", "http://a.com/x"));
	});

	it("hashes a string body as UTF-8, like the same bytes", () => {
		expect(requestFingerprint("POST", "http://a.com/", "\u00e9=1")).toBe(requestFingerprint("POST", "http://a.com/", Buffer.from("\u00e9=1", "utf8")));
	});

	it("treats no body as an empty body", () => {
		expect(requestFingerprint("GET", "http://a.com/")).toBe(requestFingerprint("GET", "http://a.com/", ""));
		expect(requestFingerprint("GET", "http://a.com/")).toBe(requestFingerprint("GET", "http://a.com/", Buffer.alloc(0)));
	});

	it("differs for a different method, body, path case, query value or port", () => {
		const fp = requestFingerprint("GET", "http://a.com/x?q=1");
		const others = [
			requestFingerprint("POST", "http://a.com/x?q=1"),
			requestFingerprint("GET", "http://a.com/x?q=1", "b"),
			requestFingerprint("GET", "http://a.com/X?q=1"),
			requestFingerprint("GET", "http://a.com/x?q=2"),
			requestFingerprint("GET", "http://a.com:8080/x?q=1"),
			requestFingerprint("GET", "https://a.com/x?q=1")
		];
		expect(new Set([fp, ...others]).size).toBe(others.length + 1);
	});

	it("hashes an unparseable URL as given rather than throwing", () => {
		expect(requestFingerprint("GET", "not a url")).toMatch(/^[0-9a-f]{40}$/);
		expect(requestFingerprint("GET", "not a url")).not.toBe(requestFingerprint("GET", "not an url"));
	});
});

describe("remembered answers", () => {
	it("gives the same canonical forms and fingerprints when asked again, past the memory's size too", () => {
		const urls = Array.from({ length: RECENT_URLS + 100 }, (_, i) => `http://Example.com/a/%7e${i}?b=2&a=1#frag`);
		const first = urls.map(u => [canonicalizeUrl(u), requestFingerprint("GET", u)]);
		expect(first[5]).toEqual(["http://example.com/a/~5?a=1&b=2", requestFingerprint("get", urls[5]!)]);
		// asked again: the oldest were forgotten and computed anew, the newest remembered; all equal
		expect(urls.map(u => [canonicalizeUrl(u), requestFingerprint("GET", u)])).toEqual(first);
		expect(canonicalizeUrl("ftp://example.com/")).toBeNull();
		expect(canonicalizeUrl("ftp://example.com/")).toBeNull();
		// a POST with a body is not taken for the GET of the same URL
		expect(requestFingerprint("POST", urls[0]!, "x")).not.toBe(requestFingerprint("GET", urls[0]!));
	});
});
