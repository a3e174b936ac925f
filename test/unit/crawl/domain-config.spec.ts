import { diffDomainConfig, domainThrottle, EMPTY_DOMAIN_CONFIG, isBlacklisted, parseDomainConfig } from "../../../lib/crawl/domain-config.ts";

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

describe("configuration changes", () => {
	it("lists blacklist entries added and removed and throttles set, changed and removed", () => {
		const before = parseDomainConfig("blacklist: [a.com, b.com]\ndomains:\n  x.com: {window: 60, hits: 10}\n  y.com: {window: 60, hits: 10}\n");
		const after = parseDomainConfig("blacklist: [b.com, c.com]\ndomains:\n  x.com: {window: 60, hits: 10}\n  y.com: {window: 30, hits: 10}\n  z.com: {window: 1, hits: 1, scale: 0.5}\n");
		expect(diffDomainConfig(before, after)).toEqual([
			{ change: "blacklisted", domain: "c.com" },
			{ change: "unblacklisted", domain: "a.com" },
			{ change: "throttle", domain: "y.com", from: { window: 60, hits: 10, scale: 1 }, to: { window: 30, hits: 10, scale: 1 } },
			{ change: "throttle", domain: "z.com", from: null, to: { window: 1, hits: 1, scale: 0.5 } }
		]);
		expect(diffDomainConfig(after, EMPTY_DOMAIN_CONFIG).filter(c => c.change === "throttle").map(c => c.domain)).toEqual(["x.com", "y.com", "z.com"]);
		expect(diffDomainConfig(after, after)).toEqual([]);
	});
});
