/**
 * The Redis Cluster key layout (REDIS_CLUSTER): every key that one frontier script or transaction
 * touches hashes to one slot, including the keys the scripts derive from queue members (pending index)
 * and from leases (the queue a lease returns to). Standalone keys keep the original's formats.
 */
import { enqueueArgs, enqueueManyArgs } from "../../../lib/frontier/frontier.ts";
import {
	blacklistKey,
	dupefilterKey,
	leasesKey,
	parseQueueKey,
	pendingAppKey,
	pendingKey,
	queueKey,
	queueRegistryKey,
	spiderKeyPart,
	spiderOfKeyPart,
	throttleKey,
	throttleTimeKey,
	throttleWindowKey,
	timeoutKey
} from "../../../lib/frontier/keys.ts";
import { classifyQueueKey } from "../../../lib/monitor/stats-report.ts";
import { hashSlot } from "../../support/hash-slot.ts";

const request = { url: "http://www.example.com/a", appid: "app:1", crawlid: "c{1}", spiderid: "link", priority: 5, maxdepth: 2, expires: 0, domain_max_pages: 10 };
const OPTS = { fingerprint: "fp", dupefilterTimeout: 60, checkBlacklist: true, domainMaxPagesTimeout: 60, globalPageLimit: 100, globalPageLimitTimeout: 60 };

describe("hashSlot (test helper) agrees with Redis", () => {
	it("matches CLUSTER KEYSLOT for plain keys, hash tags and empty tags", () => {
		// Values from redis-cli CLUSTER KEYSLOT on Redis 7.0.
		expect(hashSlot("foo")).toBe(12182);
		expect(hashSlot("{link}:a:queue")).toBe(9970);
		expect(hashSlot("x{}y")).toBe(16116);
	});
});

describe("Redis Cluster key layout", () => {
	const spider = spiderKeyPart("link", true);

	it("writes the spider as a hash tag and reads it back", () => {
		expect(spider).toBe("{link}");
		expect(spiderOfKeyPart("{link}")).toBe("link");
		expect(spiderOfKeyPart("link")).toBe("link");
		expect(spiderKeyPart("link", false)).toBe("link");
		expect(parseQueueKey(queueKey(spider, "example.com"))).toEqual({ spiderid: "link", domain: "example.com" });
		expect(parseQueueKey(queueKey(spider, "::1"))).toEqual({ spiderid: "link", domain: "::1" });
		expect(classifyQueueKey(queueRegistryKey(spider))).toEqual({ kind: "registry", spiderid: "link" });
		expect(classifyQueueKey(queueKey(spider, "example.com"))).toEqual({ kind: "queue", spiderid: "link", domain: "example.com" });
	});

	it("puts every key of the enqueue script in the spider's slot, for any domain or crawl", () => {
		const slot = hashSlot(queueKey(spider, "example.com"));
		for (const domain of ["example.com", "bücher.de", "::1", "127.0.0.1"]) {
			const args = enqueueArgs({ ...request }, domain, OPTS, true);
			const keys = args.slice(1, 1 + Number(args[0])).map(String);
			expect(keys).toHaveLength(7);
			expect(keys[3]).toBe(`{link}:${domain}:queue`);
			for (const key of keys) expect(hashSlot(key)).toBe(slot);
		}
	});

	it("keeps the original's key formats on one Redis server", () => {
		const args = enqueueArgs({ ...request }, "example.com", OPTS);
		const keys = args.slice(1, 1 + Number(args[0])).map(String);
		expect(keys).toEqual([
			"link:queues",
			"link:queue_seq",
			"link:blacklist",
			"link:example.com:queue",
			"link:dupefilter:c{1}",
			"link:domain_max_page_filter:example.com:c{1}",
			"link:global_page_count_filter:example.com:c{1}"
		]);
		// and those keys do spread over slots: a cluster could not run these scripts
		expect(new Set(keys.map(hashSlot)).size).toBeGreaterThan(1);
	});

	it("puts the keys the scripts derive (pending index, throttle, leases, timeout) in the same slot", () => {
		const slot = hashSlot(queueKey(spider, "example.com"));
		const derived = [
			// what INDEX_FN builds from a queue key "<spider>:<domain>:queue": the spider part as written
			pendingKey(spider, request.appid, request.crawlid),
			pendingAppKey(spider, request.appid),
			leasesKey(spider),
			blacklistKey(spider),
			dupefilterKey(spider, "any"),
			timeoutKey(spider, request.appid, request.crawlid),
			throttleWindowKey(throttleKey("example.com", { spiderid: spider })),
			throttleTimeKey(throttleKey("example.com", { spiderid: spider, ip: "10.0.0.1" }))
		];
		for (const key of derived) expect(hashSlot(key)).toBe(slot);
	});

	it("puts a page's links to many domains, in one script call, in one slot", () => {
		const items = ["a.com", "b.org", "c.net"].map(domain => ({ request: { ...request, url: `http://${domain}/` }, domain, fingerprint: domain }));
		const args = enqueueManyArgs(items, OPTS, true);
		const keys = args.slice(1, 1 + Number(args[0])).map(String);
		expect(keys).toHaveLength(3 + 4 * 3);
		expect(new Set(keys.map(hashSlot)).size).toBe(1);
		expect(() => enqueueManyArgs([...items, { request: { ...request, spiderid: "other" }, domain: "a.com", fingerprint: "x" }], OPTS, true)).toThrow(/share a spiderid/);
	});

	it("gives different spiders their own slots, so spiders spread over the masters", () => {
		const slots = new Set(["link", "wandering", "news", "shop"].map(name => hashSlot(queueKey(spiderKeyPart(name, true), "example.com"))));
		expect(slots.size).toBe(4);
	});
});
