/**
 * The frontier's Lua scripts against the real Redis: filters at enqueue, priority then FIFO order,
 * the cluster-wide throttle under concurrent poppers on separate connections, leases and their return.
 */
import { Redis } from "ioredis";
import { Frontier, priorityTierEnd, type EnqueueOptions, type FrontierRequest, type ThrottleSpec } from "../../../lib/frontier/frontier.ts";
import { blacklistKey, leasesKey, queueKey, queueRegistryKey } from "../../../lib/frontier/keys.ts";
import { redisOptions } from "../../../lib/redis/client.ts";
import { eventually, testSettings, uniqueName } from "../../support/cluster.ts";

const OPTS: EnqueueOptions = { dupefilterTimeout: 600, checkBlacklist: true, domainMaxPagesTimeout: 600, globalPageLimit: null, globalPageLimitTimeout: 600 };

describe("frontier (Redis Lua scripts)", () => {
	const settings = testSettings();
	const connections: Redis[] = [];
	const connect = async () => {
		const r = new Redis(redisOptions(settings, "it-frontier"));
		await r.connect();
		connections.push(r);
		return r;
	};
	let redis: Redis;
	let frontier: Frontier;
	let spider: string;
	const req = (over: Partial<FrontierRequest> = {}): FrontierRequest => ({ url: "http://a.example.com/", appid: "app", crawlid: "c1", spiderid: spider, priority: 1, maxdepth: 0, expires: 0, ...over });

	beforeAll(async () => {
		redis = await connect();
		frontier = new Frontier(redis);
	});
	beforeEach(() => {
		spider = uniqueName("fr").replace(/-/g, "_");
	});
	afterEach(async () => {
		const keys = await redis.keys(`*${spider}*`);
		if (keys.length) await redis.del(...keys);
	});
	afterAll(async () => Promise.all(connections.map(c => c.quit())));

	it("pops by priority, and first-in first-out among equal priorities", async () => {
		const urls = ["http://example.com/b", "http://example.com/a", "http://example.com/d", "http://example.com/c"];
		for (const url of urls) await frontier.enqueue(req({ url, crawlid: "c1" }), "example.com", OPTS);
		await frontier.enqueue(req({ url: "http://example.com/high", priority: 50 }), "example.com", OPTS);
		const throttle: ThrottleSpec = { key: `${spider}:example.com`, window: 60, limit: 100, moderated: false };
		const order: string[] = [];
		for (let i = 0; i < 6; i++) {
			const r = await frontier.pop(spider, "example.com", throttle, 60);
			if (r.kind === "popped") order.push(r.request.url);
			else order.push(r.kind);
		}
		expect(order).toEqual(["http://example.com/high", ...urls, "empty"]);
		expect(await redis.sismember(queueRegistryKey(spider), queueKey(spider, "example.com"))).toBe(1);
	});

	it("queues a page's links in one call: in order, each with its own outcome, each dupefilter expiring", async () => {
		await redis.sadd(blacklistKey(spider), "app||stopped");
		const link = (url: string, over: Partial<FrontierRequest> = {}) => ({ request: req({ url, ...over }), domain: new URL(url).hostname, fingerprint: url });
		const outcomes = await frontier.enqueueMany(
			[
				link("http://a.com/1"),
				link("http://b.com/1"),
				link("http://a.com/1"), // same fingerprint as the first: a duplicate within the call
				link("http://a.com/2", { crawlid: "stopped" }),
				link("http://a.com/3", { crawlid: "c2" }),
				link("http://a.com/4")
			],
			OPTS
		);
		expect(outcomes).toEqual(["queued", "queued", "duplicate", "blacklisted", "queued", "queued"]);
		expect(await redis.zrange(queueKey(spider, "a.com"), 0, -1).then(m => m.map(x => (JSON.parse(x) as FrontierRequest).url))).toEqual([
			"http://a.com/1",
			"http://a.com/3",
			"http://a.com/4"
		]);
		for (const crawl of ["c1", "c2"]) expect(await redis.ttl(`${spider}:dupefilter:${crawl}`)).toBeGreaterThan(590);
		expect(await redis.hgetall(`${spider}:pending:app:c1`)).toEqual({ "a.com\t1": "2", "b.com\t1": "1" });
		expect(await frontier.enqueueMany([], OPTS)).toEqual([]);
	});

	it("reads the dupefilter first: links already seen never reach the enqueue script, and the filter's expiry is still refreshed", async () => {
		const dupefilter = `${spider}:dupefilter:c1`;
		await redis.sadd(dupefilter, "http://a.com/1", "http://a.com/2");
		await redis.expire(dupefilter, 100);
		// Every command Redis runs on this crawl's dupefilter, including those inside scripts.
		const monitor = await redis.monitor();
		const seen: string[][] = [];
		monitor.on("monitor", (_time: string, args: string[]) => {
			if (args.includes(dupefilter)) seen.push(args);
		});
		try {
			const link = (url: string) => ({ request: req({ url }), domain: "a.com", fingerprint: url });
			const outcomes = await frontier.enqueueMany([link("http://a.com/1"), link("http://a.com/3"), link("http://a.com/2"), link("http://a.com/3"), link("http://a.com/4")], OPTS);
			expect(outcomes).toEqual(["duplicate", "queued", "duplicate", "duplicate", "queued"]);
			// every request, then only the unknown ones (including the repeat of a new link within the call)
			await eventually(() => seen.filter(c => c[0]!.toLowerCase() === "sadd").length >= 3, 5000);
			await new Promise(r => setTimeout(r, 100));
			const sadds = seen.filter(c => c[0]!.toLowerCase() === "sadd").map(c => c[2]);
			expect(sadds).toEqual(["http://a.com/3", "http://a.com/3", "http://a.com/4"]);
			expect(seen.filter(c => c[0]!.toLowerCase() === "sismember").map(c => c[2])).toEqual(["http://a.com/1", "http://a.com/3", "http://a.com/2", "http://a.com/3", "http://a.com/4"]);
			expect(await redis.zcard(queueKey(spider, "a.com"))).toBe(2);

			// another process (its own Frontier, which has learnt nothing yet), all of a page's links already
			// seen: looked up, nothing sent to the enqueue script, and the filter's expiry refreshed
			const other = new Frontier(await connect());
			await redis.expire(dupefilter, 100);
			const before = seen.length;
			const four = [1, 2, 3, 4].map(i => link(`http://a.com/${i}`));
			expect(await other.enqueueMany(four, OPTS)).toEqual(["duplicate", "duplicate", "duplicate", "duplicate"]);
			expect(await redis.ttl(dupefilter)).toBeGreaterThan(590);
			await new Promise(r => setTimeout(r, 100));
			expect(seen.slice(before).filter(c => c[0]!.toLowerCase() === "sismember")).toHaveLength(4);
			expect(seen.slice(before).filter(c => c[0]!.toLowerCase() === "sadd")).toEqual([]);

			// what a process learnt it does not ask again (lib/frontier/known.ts): no command touches the filter
			const learnt = seen.length;
			expect(await other.enqueueMany(four, OPTS)).toEqual(["duplicate", "duplicate", "duplicate", "duplicate"]);
			expect(await frontier.enqueueMany([link("http://a.com/3"), link("http://a.com/4")], OPTS)).toEqual(["duplicate", "duplicate"]);
			await redis.ping();
			await new Promise(r => setTimeout(r, 100));
			expect(seen.slice(learnt)).toEqual([]);

			// fewer than DUPEFILTER_PRECHECK_MIN links left unknown: the enqueue script alone checks them
			const mark = seen.length;
			expect(await other.enqueueMany([link("http://a.com/6"), link("http://a.com/5")], OPTS)).toEqual(["queued", "queued"]);
			await eventually(() => seen.length >= mark + 2, 5000);
			await new Promise(r => setTimeout(r, 100));
			expect(seen.slice(mark).filter(c => c[0]!.toLowerCase() === "sismember")).toEqual([]);
			expect(seen.slice(mark).filter(c => c[0]!.toLowerCase() === "sadd").map(c => c[2])).toEqual(["http://a.com/6", "http://a.com/5"]);
		} finally {
			monitor.disconnect();
		}
	});

	it("announces the queues that received requests (seeds and links), and only those", async () => {
		const listener = redis.duplicate();
		const heard: string[] = [];
		listener.on("message", (_channel: string, message: string) => heard.push(...message.split("\n")));
		await listener.subscribe(frontier.channel);
		try {
			expect(frontier.channel).toBe(`frontier:queued:${settings.REDIS_DB}`);
			await frontier.enqueueSeed(req({ url: "http://seed.com/" }), "seed.com", 0);
			await frontier.enqueueMany(
				[
					{ request: req({ url: "http://a.com/1" }), domain: "a.com", fingerprint: "1" },
					{ request: req({ url: "http://a.com/2" }), domain: "a.com", fingerprint: "2" },
					{ request: req({ url: "http://b.com/1" }), domain: "b.com", fingerprint: "1" } // duplicate fingerprint: not queued
				],
				OPTS
			);
			await eventually(() => heard.length >= 2, 5000);
			await new Promise(r => setTimeout(r, 100));
			expect(heard).toEqual([queueKey(spider, "seed.com"), queueKey(spider, "a.com")]);
		} finally {
			await listener.quit();
		}
	});

	it("drops duplicates per crawlid, blacklisted crawls and pages past domain_max_pages; seeds skip them", async () => {
		expect(await frontier.enqueue(req({ crawlid: "c1" }), "example.com", { ...OPTS, fingerprint: "fp1" })).toBe("queued");
		expect(await frontier.enqueue(req({ crawlid: "c1" }), "example.com", { ...OPTS, fingerprint: "fp1" })).toBe("duplicate");
		// a new crawlid may crawl the same page again
		expect(await frontier.enqueue(req({ crawlid: "c2" }), "example.com", { ...OPTS, fingerprint: "fp1" })).toBe("queued");
		expect(await redis.ttl(`${spider}:dupefilter:c1`)).toBeGreaterThan(590);

		await redis.sadd(blacklistKey(spider), "app||stopped");
		expect(await frontier.enqueue(req({ crawlid: "stopped" }), "example.com", OPTS)).toBe("blacklisted");
		await frontier.enqueueSeed(req({ crawlid: "stopped" }), "example.com", 0);

		// domain_max_pages 3: two links pass (with the seed: 3 pages), then the domain is full for that crawl
		const limited = (i: number) => frontier.enqueue(req({ crawlid: "lim", url: `http://example.com/${i}`, domain_max_pages: 3 }), "example.com", OPTS);
		expect([await limited(1), await limited(2), await limited(3), await limited(4)]).toEqual(["queued", "queued", "domain_max_pages", "domain_max_pages"]);
		const global = (i: number) => frontier.enqueue(req({ crawlid: "g", url: `http://example.com/g${i}` }), "example.com", { ...OPTS, globalPageLimit: 2 });
		expect([await global(1), await global(2)]).toEqual(["queued", "global_limit"]);
	});

	it("never lets concurrent crawlers exceed the throttle together, nor hand one request out twice", async () => {
		for (let i = 0; i < 50; i++) await frontier.enqueue(req({ url: `http://t.example.com/${i}` }), "example.com", OPTS);
		const poppers = await Promise.all(Array.from({ length: 5 }, () => connect()));
		const throttle: ThrottleSpec = { key: `${spider}:example.com`, window: 2, limit: 7, moderated: false };
		const got: string[] = [];
		await Promise.all(
			poppers.map(async conn => {
				const f = new Frontier(conn);
				for (let i = 0; i < 20; i++) {
					const r = await f.pop(spider, "example.com", throttle, 60);
					if (r.kind === "popped") got.push(r.request.url);
				}
			})
		);
		expect(got).toHaveLength(7);
		expect(new Set(got).size).toBe(7);
		expect(await redis.zcard(queueKey(spider, "example.com"))).toBe(43);
		expect(await redis.zcard(leasesKey(spider))).toBe(7);
	});

	it("pops several requests in one call, in order, within the throttle; a moderated throttle gives one", async () => {
		for (let i = 0; i < 6; i++) await frontier.enqueue(req({ url: `http://example.com/${i}` }), "example.com", OPTS);
		const open: ThrottleSpec = { key: `${spider}:example.com`, window: 60, limit: 4, moderated: false };
		const first = await frontier.popMany(spider, "example.com", open, 60, 10);
		expect(first.kind === "popped" && first.items.map(i => i.request.url)).toEqual([0, 1, 2, 3].map(i => `http://example.com/${i}`));
		// each answer says the queue's best request after it, as heads() reads it
		const headNow = async () => (await frontier.heads([queueKey(spider, "example.com")]))[0]?.score ?? null;
		expect(first.kind === "popped" && first.head).toBe(await headNow());
		expect(await headNow()).not.toBeNull();
		// the window is full: nothing more now, and the retry time is the oldest hit plus the window
		const full = await frontier.popMany(spider, "example.com", open, 60, 10);
		expect(full.kind).toBe("throttled");
		expect(full.kind === "throttled" && full.head).toBe(await headNow());
		expect(await redis.zcard(leasesKey(spider))).toBe(4);
		const moderated: ThrottleSpec = { key: `${spider}:mod:example.com`, window: 60, limit: 10, moderated: true };
		const one = await frontier.popMany(spider, "example.com", moderated, 60, 10);
		expect(one.kind === "popped" && one.items.map(i => i.request.url)).toEqual(["http://example.com/4"]);
		const wide: ThrottleSpec = { key: `${spider}:wide:example.com`, window: 60, limit: 100, moderated: false };
		const rest = await frontier.popMany(spider, "example.com", wide, 60, 10);
		expect(rest.kind === "popped" && rest.items.map(i => i.request.url)).toEqual(["http://example.com/5"]);
		expect(rest.kind === "popped" && rest.head).toBeNull();
		expect(await frontier.popMany(spider, "example.com", wide, 60, 10)).toEqual({ kind: "empty" });
		expect(await redis.hgetall(`${spider}:pending:app:c1`)).toEqual({});

		// with a limit, only the best priority is taken: the page's links (10 lower) wait
		for (const [url, priority] of [["http://example.com/p5a", 5], ["http://example.com/p-5", -5], ["http://example.com/p5b", 5]] as const)
			await frontier.enqueue(req({ url, priority }), "example.com", OPTS);
		const below = priorityTierEnd(-5 + 0.001);
		const tier = await frontier.popMany(spider, "example.com", wide, 60, 10, Date.now() / 1000, below);
		expect(tier.kind === "popped" && tier.items.map(i => i.request.url)).toEqual(["http://example.com/p5a", "http://example.com/p5b"]);
		expect(await frontier.popMany(spider, "example.com", wide, 60, 10, Date.now() / 1000, below)).toEqual({ kind: "lower", head: await headNow() });
		const next = await frontier.popMany(spider, "example.com", wide, 60, 10, Date.now() / 1000, priorityTierEnd(5 + 0.001));
		expect(next.kind === "popped" && next.items.map(i => i.request.url)).toEqual(["http://example.com/p-5"]);
	});

	it("moderation spreads the hits over the window; a check on an empty queue uses no hit", async () => {
		const throttle: ThrottleSpec = { key: `${spider}:mod.example.com`, window: 1, limit: 4, moderated: true };
		expect((await frontier.pop(spider, "mod.example.com", throttle, 60)).kind).toBe("empty");
		for (let i = 0; i < 10; i++) await frontier.enqueue(req({ url: `http://mod.example.com/${i}` }), "mod.example.com", OPTS);
		const first = await frontier.pop(spider, "mod.example.com", throttle, 60, 1000);
		expect(first.kind).toBe("popped");
		const second = await frontier.pop(spider, "mod.example.com", throttle, 60, 1000.1);
		expect(second).toEqual({ kind: "throttled", retryAt: 1000.25 });
		expect((await frontier.pop(spider, "mod.example.com", throttle, 60, 1000.25)).kind).toBe("popped");
		// the next slot is anchored on the schedule (1000.5), not on a late pop time
		expect((await frontier.pop(spider, "mod.example.com", throttle, 60, 1000.52)).kind).toBe("popped");
		expect(await frontier.pop(spider, "mod.example.com", throttle, 60, 1000.6)).toEqual({ kind: "throttled", retryAt: 1000.75 });
	});

	it("returns the requests of a dead crawler to their queue when their lease expires; acknowledged ones stay done", async () => {
		for (let i = 0; i < 3; i++) await frontier.enqueue(req({ url: `http://l.example.com/${i}` }), "example.com", OPTS);
		const throttle: ThrottleSpec = { key: `${spider}:example.com`, window: 60, limit: 100, moderated: false };
		const a = await frontier.pop(spider, "example.com", throttle, 30, 2000);
		const b = await frontier.pop(spider, "example.com", throttle, 30, 2000);
		if (a.kind !== "popped" || b.kind !== "popped") throw new Error("expected two pops");
		await frontier.ack(spider, a.lease);
		expect(await frontier.reap(spider, 2010)).toBe(0);
		expect(await frontier.reap(spider, 2031)).toBe(1);
		expect(await redis.zcard(leasesKey(spider))).toBe(0);
		const members = await redis.zrange(queueKey(spider, "example.com"), 0, -1);
		expect(members.map(m => (JSON.parse(m) as FrontierRequest).url).sort()).toEqual([b.request.url, "http://l.example.com/2"].sort());
		// it keeps its place: same score as before
		expect(Number(await redis.zscore(queueKey(spider, "example.com"), b.member))).toBeCloseTo(b.score, 9);
	});

	it("knows queues through the registry, registers queues written by others, forgets empty ones", async () => {
		await redis.zadd(queueKey(spider, "legacy.org"), -1, JSON.stringify(req({ url: "http://legacy.org/" })));
		expect(await frontier.queueKeys(spider)).toEqual([]);
		expect(await frontier.registerExistingQueues(spider)).toBe(1);
		expect(await frontier.queueKeys(spider)).toEqual([queueKey(spider, "legacy.org")]);
		expect(await frontier.forgetIfEmpty(spider, queueKey(spider, "legacy.org"))).toBe(false);
		await redis.del(queueKey(spider, "legacy.org"));
		expect(await frontier.forgetIfEmpty(spider, queueKey(spider, "legacy.org"))).toBe(true);
		expect(await frontier.queueKeys(spider)).toEqual([]);
	});

	it("keeps the pending index right through enqueue, pop, lease return and purge", async () => {
		const pending = () => redis.hgetall(`${spider}:pending:app:c1`);
		for (let i = 0; i < 3; i++) await frontier.enqueue(req({ url: `http://i.example.com/${i}`, priority: 5 }), "example.com", OPTS);
		await frontier.enqueue(req({ url: "http://i.example.org/x", priority: -9 }), "example.org", OPTS);
		expect(await pending()).toEqual({ "example.com\t5": "3", "example.org\t-9": "1" });
		expect(await redis.smembers(`${spider}:pending:app`)).toEqual(["c1"]);
		const throttle: ThrottleSpec = { key: `${spider}:x`, window: 60, limit: 100, moderated: false };
		const popped = await frontier.pop(spider, "example.com", throttle, 10, 5000);
		expect(await pending()).toEqual({ "example.com\t5": "2", "example.org\t-9": "1" });
		if (popped.kind !== "popped") throw new Error("expected a pop");
		expect(await frontier.reap(spider, 5011)).toBe(1);
		expect(await pending()).toEqual({ "example.com\t5": "3", "example.org\t-9": "1" });
		const members = await redis.zrange(queueKey(spider, "example.com"), 0, -1);
		expect(await frontier.purge(queueKey(spider, "example.com"), [...members, "not-a-member"])).toBe(3);
		expect(await pending()).toEqual({ "example.org\t-9": "1" });
		await frontier.purge(queueKey(spider, "example.org"), await redis.zrange(queueKey(spider, "example.org"), 0, -1));
		expect(await pending()).toEqual({});
		expect(await redis.smembers(`${spider}:pending:app`)).toEqual([]);
	});

	it("drops the expired lease of a crawl stopped meanwhile instead of returning it", async () => {
		await frontier.enqueue(req({ url: "http://s.example.com/1", crawlid: "gone" }), "example.com", OPTS);
		const throttle: ThrottleSpec = { key: `${spider}:y`, window: 60, limit: 100, moderated: false };
		expect((await frontier.pop(spider, "example.com", throttle, 10, 6000)).kind).toBe("popped");
		await redis.sadd(blacklistKey(spider), "app||gone");
		expect(await frontier.reap(spider, 6011)).toBe(1);
		expect(await redis.exists(queueKey(spider, "example.com"))).toBe(0);
		expect(await redis.zcard(leasesKey(spider))).toBe(0);
	});
});
