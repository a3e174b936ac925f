/**
 * The crawl frontier's Redis key formats (lib/frontier/keys.ts), as in the Redis Keys section of the
 * Scrapy Cluster documentation, and the throttling domain of a URL.
 */
import { blacklistKey, blacklistMember, dupefilterKey, parseQueueKey, queueKey, queuePattern, registeredDomain, throttleKey, throttleTimeKey, throttleWindowKey, timeoutKey } from "../../../lib/frontier/keys.ts";
import { priorityTierEnd } from "../../../lib/frontier/frontier.ts";

describe("frontier key formats", () => {
	it("formats <spiderid>:<domain>:queue", () => {
		expect(queueKey("link", "istresearch.com")).toBe("link:istresearch.com:queue");
		expect(queueKey("wandering", "bbc.co.uk")).toBe("wandering:bbc.co.uk:queue");
		expect(queueKey("link", "::1")).toBe("link:::1:queue");
	});

	it("formats the queue pattern <spiderid>:*:queue", () => {
		expect(queuePattern("link")).toBe("link:*:queue");
	});

	it("formats timeout:<spiderid>:<appid>:<crawlid>", () => {
		expect(timeoutKey("link", "testapp", "a23bbqwewqe")).toBe("timeout:link:testapp:a23bbqwewqe");
	});

	it("formats <spiderid>:dupefilter:<crawlid>", () => {
		expect(dupefilterKey("link", "abc123")).toBe("link:dupefilter:abc123");
	});

	it("formats <spiderid>:blacklist and its <appid>||<crawlid> members", () => {
		expect(blacklistKey("link")).toBe("link:blacklist");
		expect(blacklistMember("testapp", "ist234")).toBe("testapp||ist234");
	});
});

describe("parseQueueKey", () => {
	it.each<[string, string, string]>([
		["link:istresearch.com:queue", "link", "istresearch.com"],
		["wandering:bbc.co.uk:queue", "wandering", "bbc.co.uk"],
		["link:127.0.0.1:queue", "link", "127.0.0.1"],
		["link:localhost:queue", "link", "localhost"],
		["link:2001:db8::1:queue", "link", "2001:db8::1"],
		["link:::1:queue", "link", "::1"],
		["link:example.com:8080:queue", "link", "example.com:8080"],
		["a-b_C:x:queue", "a-b_C", "x"]
	])("parses %j", (key, spiderid, domain) => {
		expect(parseQueueKey(key)).toEqual({ spiderid, domain });
	});

	it.each(["2001:db8:85a3::8a2e:370:7334", "::1", "bbc.co.uk", "127.0.0.1"])("round-trips queueKey(\"link\", %j)", domain => {
		expect(parseQueueKey(queueKey("link", domain))).toEqual({ spiderid: "link", domain });
	});

	it.each([
		"",
		"link",
		"queue",
		":queue",
		"link:queue",
		"link::queue",
		":istresearch.com:queue",
		"link:istresearch.com",
		"link:istresearch.com:queue:extra",
		"link:istresearch.com:queues",
		"link:istresearch.com:Queue",
		"linkistresearch.comqueue",
		"link:dupefilter:abc123",
		"link:blacklist",
		"timeout:link:testapp:abc123"
	])("returns null for %j", key => {
		expect(parseQueueKey(key)).toBeNull();
	});
});

describe("registeredDomain", () => {
	it.each([
		["http://www.bbc.co.uk/news", "bbc.co.uk"],
		["http://bbc.co.uk/", "bbc.co.uk"],
		["http://sub.example.com/", "example.com"],
		["http://a.b.sub.example.com/x?y=z#f", "example.com"],
		["https://sub.example.com:8443/x", "example.com"],
		["http://example.com:80/", "example.com"],
		["http://istresearch.com", "istresearch.com"],
		["http://www.dmoz.org/", "dmoz.org"],
		["http://news.example.com.au/", "example.com.au"],
		["http://WWW.Example.COM/", "example.com"],
		["HTTPS://SUB.BBC.CO.UK:443/", "bbc.co.uk"],
		["http://user:pw@www.example.com/", "example.com"]
	])("%s -> %s", (url, domain) => {
		expect(registeredDomain(url)).toBe(domain);
	});

	it.each([
		["http://127.0.0.1/", "127.0.0.1"],
		["http://127.0.0.1:6800/path", "127.0.0.1"],
		["http://10.1.2.3:80/", "10.1.2.3"],
		["http://localhost/", "localhost"],
		["http://localhost:5343/feed", "localhost"],
		["http://LOCALHOST/", "localhost"],
		["http://[::1]/", "::1"],
		["http://[::1]:8080/x", "::1"],
		["http://[2001:DB8::1]:8080/", "2001:db8::1"]
	])("keeps the host of an IP address or single-label host: %s -> %s", (url, domain) => {
		expect(registeredDomain(url)).toBe(domain);
	});

	it.each(["not a url", "", "istresearch.com", "/relative/path", "//example.com/x", "http://", "file:///etc/passwd", "mailto:someone@example.com"])("returns null for %j", url => {
		expect(registeredDomain(url)).toBeNull();
	});

	it("gives queue keys that parse back, IPv6 included", () => {
		for (const url of ["http://www.bbc.co.uk/", "http://[::1]:8080/", "http://127.0.0.1:6800/"]) {
			const domain = registeredDomain(url);
			if (domain === null) throw new Error(`no domain for ${url}`);
			expect(parseQueueKey(queueKey("link", domain))).toEqual({ spiderid: "link", domain });
		}
	});
});

describe("registeredDomain with internationalised names", () => {
	it("gives the Unicode form, as tldextract does, whether the URL was written in Unicode or punycode", () => {
		expect(registeredDomain("http://www.bücher.de/")).toBe("bücher.de");
		expect(registeredDomain("http://www.xn--bcher-kva.de/")).toBe("bücher.de");
		expect(registeredDomain("http://例え.jp/")).toBe("例え.jp");
	});
});

describe("throttle keys (the four styles)", () => {
	it("prefixes the spider type and the public IP as SCHEDULER_TYPE_ENABLED / SCHEDULER_IP_ENABLED say", () => {
		expect(throttleKey("ex.com", {})).toBe("ex.com");
		expect(throttleKey("ex.com", { spiderid: "link" })).toBe("link:ex.com");
		expect(throttleKey("ex.com", { ip: "1.2.3.4" })).toBe("1.2.3.4:ex.com");
		expect(throttleKey("ex.com", { spiderid: "link", ip: "1.2.3.4" })).toBe("link:1.2.3.4:ex.com");
		expect(throttleWindowKey("link:ex.com")).toBe("link:ex.com:throttle_window");
		expect(throttleTimeKey("link:ex.com")).toBe("link:ex.com:throttle_time");
	});
});

describe("priorityTierEnd", () => {
	it("ends a priority's scores: every request of that priority scores below it, none of a lower one", () => {
		const score = (priority: number, seq: number) => -priority + (seq % 100000000) * 1e-9;
		for (const p of [100, 5, 0, -5, -100]) {
			const end = priorityTierEnd(score(p, 1));
			expect(score(p, 99999999)).toBeLessThan(end);
			expect(score(p - 1, 0)).toBeGreaterThanOrEqual(end);
			expect(score(p + 1, 99999999)).toBeLessThan(end);
		}
	});
});
