import { isBlacklisted, parseDomainConfig } from "../../../lib/crawl/domain-config.ts";
import { applyZookeeperAction, pyyamlFloat, pythonFloatRepr, zookeeperDocumentPath, type ZookeeperEdit } from "../../../lib/monitor/zk-document.ts";

const EMPTY = "blacklist: []\ndomains: {}\n";

describe("ZooKeeper document edits (ZookeeperMonitor)", () => {
	describe("the original's exact before/after pairs", () => {
		it("domain-update (test_zk_handle_du): adds the domain, keys sorted, block style, floats as Python writes them", () => {
			const before = "blacklist: []\ndomains:\n  dmoztools.net: {hits: 60, scale: 1.0, window: 60}\n";
			expect(applyZookeeperAction(before, { action: "domain-update", domain: "cnn.com", hits: 15, scale: 0.9, window: 60 })).toBe(
				"blacklist: []\ndomains:\n  cnn.com:\n    hits: 15\n    scale: 0.9\n    window: 60\n  dmoztools.net:\n    hits: 60\n    scale: 1.0\n    window: 60\n"
			);
		});

		it("domain-remove (test_zk_handle_dr)", () => {
			const before = "blacklist: []\ndomains:\n  dmoztools.net: {hits: 60, scale: 1.0, window: 60}\n";
			expect(applyZookeeperAction(before, { action: "domain-remove", domain: "dmoztools.net" })).toBe(EMPTY);
		});

		it("blacklist-update (test_zk_handle_bu): the sequence is not indented under its key", () => {
			expect(applyZookeeperAction(EMPTY, { action: "blacklist-update", domain: "bingo.com" })).toBe("blacklist:\n- bingo.com\ndomains: {}\n");
		});

		it("blacklist-remove (test_zk_handle_br)", () => {
			expect(applyZookeeperAction("blacklist: [bingo.com]\ndomains: {}\n", { action: "blacklist-remove", domain: "bingo.com" })).toBe(EMPTY);
		});
	});

	describe("empty and missing documents", () => {
		it.each([
			["a missing node", null],
			["an empty node", ""],
			["blank lines", "\n  \n"],
			["only comments", "# the crawler configuration\n# nothing yet\n"],
			["an explicit null", "---\n~\n"]
		])("treats %s as {} and adds both sections", (_name, text) => {
			expect(applyZookeeperAction(text, { action: "blacklist-remove", domain: "x.com" })).toBe(EMPTY);
			expect(applyZookeeperAction(text, { action: "domain-update", domain: "x.com", hits: 5, window: 10 })).toBe("blacklist: []\ndomains:\n  x.com:\n    hits: 5\n    scale: 1.0\n    window: 10\n");
			expect(applyZookeeperAction(text, { action: "blacklist-update", domain: "x.com" })).toBe("blacklist:\n- x.com\ndomains: {}\n");
		});

		it("adds a missing section next to an existing one, and fills sections left empty (`domains:`)", () => {
			expect(applyZookeeperAction("blacklist:\n- a.com\n", { action: "domain-remove", domain: "a.com" })).toBe("blacklist:\n- a.com\ndomains: {}\n");
			expect(applyZookeeperAction("domains:\nblacklist:\n", { action: "blacklist-update", domain: "a.com" })).toBe("blacklist:\n- a.com\ndomains: {}\n");
		});
	});

	describe("each action", () => {
		it("domain-update replaces an existing entry whole, scale given or defaulted to 1.0", () => {
			const before = "blacklist: []\ndomains:\n  a.com: {hits: 60, scale: 0.5, window: 60, extra: 1}\n";
			expect(applyZookeeperAction(before, { action: "domain-update", domain: "a.com", hits: 7, window: 30 })).toBe("blacklist: []\ndomains:\n  a.com:\n    hits: 7\n    scale: 1.0\n    window: 30\n");
			expect(applyZookeeperAction(before, { action: "domain-update", domain: "a.com", hits: 7, window: 30, scale: 0 })).toBe("blacklist: []\ndomains:\n  a.com:\n    hits: 7\n    scale: 0.0\n    window: 30\n");
			expect(applyZookeeperAction(before, { action: "domain-update", domain: "a.com", hits: 7, window: 30, scale: 1 })).toContain("    scale: 1.0\n");
			expect(applyZookeeperAction(before, { action: "domain-update", domain: "a.com", hits: 7, window: 30, scale: 0.00001 })).toContain("    scale: 1.0e-05\n");
		});

		it("domain-remove of an absent domain changes nothing but the layout", () => {
			const before = "blacklist: [b.com]\ndomains:\n  a.com: {hits: 6, scale: 0.5, window: 60}\n";
			expect(applyZookeeperAction(before, { action: "domain-remove", domain: "zzz.com" })).toBe("blacklist:\n- b.com\ndomains:\n  a.com:\n    hits: 6\n    scale: 0.5\n    window: 60\n");
		});

		it("blacklist-update appends, keeps the existing order and never duplicates", () => {
			const before = "blacklist: [zeta.com, alpha.com]\ndomains: {}\n";
			expect(applyZookeeperAction(before, { action: "blacklist-update", domain: "mid.com" })).toBe("blacklist:\n- zeta.com\n- alpha.com\n- mid.com\ndomains: {}\n");
			expect(applyZookeeperAction(before, { action: "blacklist-update", domain: "alpha.com" })).toBe("blacklist:\n- zeta.com\n- alpha.com\ndomains: {}\n");
			// As the original's set: duplicates already in the document go too.
			expect(applyZookeeperAction("blacklist: [a.com, b.com, a.com]\n", { action: "blacklist-update", domain: "c.com" })).toBe("blacklist:\n- a.com\n- b.com\n- c.com\ndomains: {}\n");
		});

		it("blacklist-remove of an absent entry changes nothing; a present one goes (every copy of it)", () => {
			expect(applyZookeeperAction("blacklist: [a.com]\ndomains: {}\n", { action: "blacklist-remove", domain: "b.com" })).toBe("blacklist:\n- a.com\ndomains: {}\n");
			expect(applyZookeeperAction("blacklist: [a.com, b.com, a.com]\ndomains: {}\n", { action: "blacklist-remove", domain: "a.com" })).toBe("blacklist:\n- b.com\ndomains: {}\n");
		});

		it("treats a domain named like an object member as any other domain", () => {
			const updated = applyZookeeperAction(null, { action: "domain-update", domain: "__proto__", hits: 1, window: 2 });
			expect(updated).toBe("blacklist: []\ndomains:\n  __proto__:\n    hits: 1\n    scale: 1.0\n    window: 2\n");
			expect(applyZookeeperAction(updated, { action: "domain-remove", domain: "__proto__" })).toBe(EMPTY);
			expect(applyZookeeperAction(EMPTY, { action: "domain-remove", domain: "constructor" })).toBe(EMPTY);
			expect(applyZookeeperAction(EMPTY, { action: "blacklist-update", domain: "constructor" })).toBe("blacklist:\n- constructor\ndomains: {}\n");
		});
	});

	describe("the rest of the document", () => {
		it("keeps unknown keys and the types of their values (floats stay floats, timestamps keep their text)", () => {
			const before = [
				"# hand-written",
				"owner: team-crawl",
				"limits: {max: 10, ratio: 1.0, small: 1.0e-05, list: [1, 2.5, x]}",
				"since: 2016-05-27",
				"blacklist: [a.com]",
				"domains:",
				"  d.com: {window: 60, hits: 10, scale: 1.0}",
				"enabled: true",
				"nothing: null",
				"quoted: 'yes'",
				""
			].join("\n");
			expect(applyZookeeperAction(before, { action: "blacklist-update", domain: "b.com" })).toBe(
				[
					"blacklist:",
					"- a.com",
					"- b.com",
					"domains:",
					"  d.com:",
					"    hits: 10",
					"    scale: 1.0",
					"    window: 60",
					"enabled: true",
					"limits:",
					"  list:",
					"  - 1",
					"  - 2.5",
					"  - x",
					"  max: 10",
					"  ratio: 1.0",
					"  small: 1.0e-05",
					"nothing: null",
					"owner: team-crawl",
					"quoted: 'yes'",
					"since: 2016-05-27",
					""
				].join("\n")
			);
		});

		it("is stable: writing what it wrote gives the same text", () => {
			let text: string | null = null;
			const edits: ZookeeperEdit[] = [
				{ action: "domain-update", domain: "b.org", hits: 3, window: 9, scale: 0.25 },
				{ action: "domain-update", domain: "a.org", hits: 60, window: 60 },
				{ action: "blacklist-update", domain: "x.net" },
				{ action: "blacklist-update", domain: "c.net" }
			];
			for (const e of edits) text = applyZookeeperAction(text, e);
			expect(text).toBe("blacklist:\n- x.net\n- c.net\ndomains:\n  a.org:\n    hits: 60\n    scale: 1.0\n    window: 60\n  b.org:\n    hits: 3\n    scale: 0.25\n    window: 9\n");
			expect(applyZookeeperAction(text, { action: "domain-remove", domain: "none" })).toBe(text);
		});
	});

	describe("refusals (the document is left as it is)", () => {
		it("throws a clear error on invalid YAML", () => {
			expect(() => applyZookeeperAction("blacklist: [unclosed\n", { action: "blacklist-update", domain: "a.com" })).toThrow(/not valid YAML/);
			expect(() => applyZookeeperAction("domains:\n  a.com: 1\n  a.com: 2\n", { action: "blacklist-update", domain: "a.com" })).toThrow(/not valid YAML.*duplicat/s);
			expect(() => applyZookeeperAction("a: 1\n---\nb: 2\n", { action: "blacklist-update", domain: "a.com" })).toThrow(/not valid YAML/);
		});

		it("throws when the document or a section has the wrong shape", () => {
			expect(() => applyZookeeperAction("- a.com\n- b.com\n", { action: "blacklist-update", domain: "a.com" })).toThrow(/must be a YAML mapping.*found a list/);
			expect(() => applyZookeeperAction("just text\n", { action: "blacklist-update", domain: "a.com" })).toThrow(/must be a YAML mapping.*found a string/);
			expect(() => applyZookeeperAction("domains: [a.com]\n", { action: "domain-remove", domain: "a.com" })).toThrow(/'domains' .* must be a mapping, found a list/);
			expect(() => applyZookeeperAction("blacklist: a.com\n", { action: "blacklist-remove", domain: "a.com" })).toThrow(/'blacklist' .* must be a list, found a string/);
		});

		it("throws on an incomplete or unknown edit", () => {
			expect(() => applyZookeeperAction(EMPTY, { action: "domain-update", domain: "a.com", hits: 0, window: 60 })).toThrow(/'hits' and 'window' not set/);
			expect(() => applyZookeeperAction(EMPTY, { action: "domain-update", domain: "a.com", hits: 5 })).toThrow(/'hits' and 'window' not set/);
			expect(() => applyZookeeperAction(EMPTY, { action: "domain-update", domain: "a.com", hits: 5, window: 5, scale: 1.5 })).toThrow(/scale/);
			expect(() => applyZookeeperAction(EMPTY, { action: "domain-explode" as ZookeeperEdit["action"], domain: "a.com" })).toThrow(/unknown zookeeper action/);
			expect(() => applyZookeeperAction(EMPTY, { action: "blacklist-update", domain: "" })).toThrow(/needs a domain/);
		});
	});

	describe("what the crawlers read from the result (parseDomainConfig)", () => {
		it("reads back every edit as intended", () => {
			let text = applyZookeeperAction(null, { action: "domain-update", domain: "dmoz.org", hits: 60, window: 60, scale: 0.9 });
			text = applyZookeeperAction(text, { action: "domain-update", domain: "wikipedia.org", hits: 30, window: 10 });
			text = applyZookeeperAction(text, { action: "blacklist-update", domain: "ebay.com" });
			expect(parseDomainConfig(text)).toEqual({
				blacklist: ["ebay.com"],
				domains: { "dmoz.org": { window: 60, hits: 60, scale: 0.9 }, "wikipedia.org": { window: 10, hits: 30, scale: 1 } }
			});
			expect(isBlacklisted("shop.ebay.com", parseDomainConfig(text))).toBe(true);

			text = applyZookeeperAction(text, { action: "domain-remove", domain: "dmoz.org" });
			text = applyZookeeperAction(text, { action: "blacklist-remove", domain: "ebay.com" });
			expect(parseDomainConfig(text)).toEqual({ blacklist: [], domains: { "wikipedia.org": { window: 10, hits: 30, scale: 1 } } });
			expect(isBlacklisted("shop.ebay.com", parseDomainConfig(text))).toBe(false);
		});

		it("reads a tiny scale back exactly", () => {
			const text = applyZookeeperAction(null, { action: "domain-update", domain: "slow.org", hits: 100000, window: 60, scale: 0.00001 });
			expect(parseDomainConfig(text).domains["slow.org"]).toEqual({ window: 60, hits: 100000, scale: 0.00001 });
		});
	});

	describe("helpers", () => {
		it("joins ZOOKEEPER_ASSIGN_PATH and ZOOKEEPER_ID with exactly one '/'", () => {
			expect(zookeeperDocumentPath("/scrapy-cluster/crawler/", "all")).toBe("/scrapy-cluster/crawler/all");
			expect(zookeeperDocumentPath("/scrapy-cluster/crawler", "all")).toBe("/scrapy-cluster/crawler/all");
			expect(zookeeperDocumentPath("/scrapy-cluster/crawler//", "all")).toBe("/scrapy-cluster/crawler/all");
			expect(zookeeperDocumentPath("/", "all")).toBe("/all");
		});

		it.each([
			[1, "1.0"],
			[0.9, "0.9"],
			[0.1 + 0.2, "0.30000000000000004"],
			[0.0001, "0.0001"],
			[0.00001, "1e-05"],
			[1.5e-7, "1.5e-07"],
			[123.456, "123.456"],
			[1e15, "1000000000000000.0"],
			[1e16, "1e+16"],
			[2.5e20, "2.5e+20"],
			[-0.5, "-0.5"],
			[0, "0.0"],
			[-0, "-0.0"]
		])("writes %p as Python's repr: %s", (x, repr) => {
			expect(pythonFloatRepr(x)).toBe(repr);
		});

		it("adds PyYAML's '.0' before a bare exponent and spells the special values as YAML", () => {
			expect(pyyamlFloat(0.00001)).toBe("1.0e-05");
			expect(pyyamlFloat(1e16)).toBe("1.0e+16");
			expect(pyyamlFloat(1.5e-7)).toBe("1.5e-07");
			expect(pyyamlFloat(Infinity)).toBe(".inf");
			expect(pyyamlFloat(-Infinity)).toBe("-.inf");
			expect(pyyamlFloat(NaN)).toBe(".nan");
		});
	});
});
