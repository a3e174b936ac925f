import { domainThrottle, isBlacklisted, parseDomainConfig } from "../../../lib/crawl/domain-config.ts";

const defaults = { QUEUE_HITS: 10, QUEUE_WINDOW: 60, QUEUE_MODERATED: true };

describe("ZooKeeper crawler configuration", () => {
	it("parses the original's example.yml", () => {
		const config = parseDomainConfig("blacklist:\n- ex1.com\ndomains:\n  dmoz.org:\n    window: 60\n    hits: 60\n    scale: 1.0\n  wikipedia.org:\n    window: 60\n    hits: 30\n    scale: 0.5\n");
		expect(config).toEqual({ blacklist: ["ex1.com"], domains: { "dmoz.org": { window: 60, hits: 60, scale: 1 }, "wikipedia.org": { window: 60, hits: 30, scale: 0.5 } } });
	});

	it("keeps only domains with window and hits, clamps scale, accepts an empty document", () => {
		expect(parseDomainConfig("domains:\n  a.com: {window: 10}\n  b.com: {window: 10, hits: 5, scale: 7}\n  c.com: {window: 10, hits: 5, scale: -1}\n")).toEqual({
			blacklist: [],
			domains: { "b.com": { window: 10, hits: 5, scale: 1 }, "c.com": { window: 10, hits: 5, scale: 0 } }
		});
		expect(parseDomainConfig("")).toEqual({ blacklist: [], domains: {} });
		expect(parseDomainConfig(null)).toEqual({ blacklist: [], domains: {} });
		expect(() => parseDomainConfig("- just\n- a list\n")).toThrow(/YAML mapping/);
		expect(() => parseDomainConfig("blacklist: [unclosed")).toThrow();
	});

	it("gives each domain its throttle: ZooKeeper entry scaled, else the defaults; Crawl-delay lowers it", () => {
		const config = parseDomainConfig("domains:\n  wikipedia.org: {window: 60, hits: 30, scale: 0.5}\n  paused.org: {window: 60, hits: 30, scale: 0}\n");
		expect(domainThrottle("wikipedia.org", config, defaults)).toEqual({ window: 60, limit: 15, moderated: true });
		expect(domainThrottle("other.org", config, { ...defaults, QUEUE_MODERATED: false })).toEqual({ window: 60, limit: 10, moderated: false });
		expect(domainThrottle("paused.org", config, defaults).limit).toBe(0);
		expect(domainThrottle("other.org", config, { ...defaults, QUEUE_MODERATED: false }, 20)).toEqual({ window: 60, limit: 3, moderated: true });
		expect(domainThrottle("other.org", config, defaults, 120).limit).toBe(1);
	});

	it("reads a single blacklisted domain written as a scalar", () => {
		expect(parseDomainConfig("blacklist: bad.com\n").blacklist).toEqual(["bad.com"]);
	});

	it("blacklists a domain and its subdomains", () => {
		const config = parseDomainConfig("blacklist: [bad.com]\n");
		expect(isBlacklisted("bad.com", config)).toBe(true);
		expect(isBlacklisted("www.bad.com", config)).toBe(true);
		expect(isBlacklisted("notbad.com", config)).toBe(false);
	});
});
