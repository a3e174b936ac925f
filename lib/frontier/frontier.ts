/**
 * The crawl frontier in Redis: per-spider, per-domain priority queues (Scrapy Cluster's
 * `<spiderid>:<domain>:queue`), the registry of known queues, the cluster-wide throttle, leases of
 * popped requests, the duplicate filter and page limits. All racing steps are Lua scripts (scripts.ts).
 */
import { randomBytes } from "node:crypto";
import type { Result } from "ioredis";
import { batchAll, isCluster, scanKeys, type BatchCommand, type RedisClient } from "../redis/client.ts";
import { coalescerFor, type Coalescer } from "../redis/coalesce.ts";
import type { CrawlRequest } from "../requests/kinds/crawl.ts";
import {
	blacklistKey,
	blacklistMember,
	domainMaxPagesKey,
	dupefilterKey,
	globalPageCountKey,
	leasesKey,
	parseQueueKey,
	queuedChannel,
	queueKey,
	queuePattern,
	queueRegistryKey,
	sequenceKey,
	spiderKeyPart,
	throttleTimeKey,
	throttleWindowKey,
	TIMEOUT_INDEX_KEY,
	timeoutIndexMember,
	timeoutKey
} from "./keys.ts";
import { KnownFingerprints } from "./known.ts";
import { ENQUEUE_LUA, FORGET_EMPTY_LUA, POP_LUA, PURGE_LUA, REAP_LUA, SEEN_LUA } from "./scripts.ts";

declare module "ioredis" {
	interface RedisCommander<Context> {
		frontierEnqueue(...args: Array<string | number>): Result<string[], Context>;
		frontierSeen(...args: Array<string | number>): Result<number[], Context>;
		frontierPop(...args: Array<string | number>): Result<Array<string | number>, Context>;
		frontierReap(...args: Array<string | number>): Result<number, Context>;
		frontierForgetEmpty(...args: string[]): Result<number, Context>;
		frontierPurge(...args: string[]): Result<number, Context>;
	}
}

/**
 * A queued request: the original's flat feed format (a validated crawl request, whose optional fields a
 * hand-written entry may lack) plus the crawler's own fields.
 */
export type FrontierRequest = Pick<CrawlRequest, "url" | "appid" | "crawlid" | "spiderid" | "priority" | "maxdepth" | "expires"> &
	Partial<Omit<CrawlRequest, "url" | "appid" | "crawlid" | "spiderid" | "priority" | "maxdepth" | "expires">> & {
		/** Depth of this request: 0 for the seed. */
		curdepth?: number;
		/** Fetch attempts already failed. */
		retry_times?: number;
		[extra: string]: unknown;
	};

export type EnqueueOutcome = "queued" | "duplicate" | "blacklisted" | "domain_max_pages" | "global_limit";

export interface EnqueueOptions {
	/** Request fingerprint for the dupefilter; omit to skip it (seeds, retries: dont_filter). */
	fingerprint?: string;
	dupefilterTimeout: number;
	/** Check the crawl blacklist (stopped/expired crawls); seeds are not checked, as in the original. */
	checkBlacklist: boolean;
	domainMaxPagesTimeout: number;
	globalPageLimit: number | null;
	globalPageLimitTimeout: number;
}

export interface ThrottleSpec {
	key: string;
	window: number;
	limit: number;
	moderated: boolean;
}

/** A request handed out by the frontier, under a lease until acknowledged. */
export interface Popped {
	request: FrontierRequest;
	member: string;
	score: number;
	lease: string;
}

export type PopResult = { kind: "empty" } | { kind: "throttled"; retryAt: number } | ({ kind: "popped" } & Popped);
/**
 * "lower": the queue's best request is of a lower priority than the `below` limit allows. `head`: the score
 * of the queue's best request after the call (null: the queue is empty now), as heads() would read it.
 */
export type PopManyResult =
	| { kind: "empty" }
	| { kind: "lower"; head: number }
	| { kind: "throttled"; retryAt: number; head: number }
	| { kind: "popped"; items: Popped[]; head: number | null };

/**
 * The end (exclusive) of the priority a queue score belongs to: scores are -priority plus a first-in
 * first-out fraction below 0.1, so every request of that priority scores below it and none of a lower one.
 */
export function priorityTierEnd(score: number): number {
	return Math.floor(score) + 1;
}

/** Fewest filtered requests in one enqueue for which the dupefilter is read first (Frontier.knownDuplicates). */
export const DUPEFILTER_PRECHECK_MIN = 4;

const SEED_OPTIONS: EnqueueOptions = { dupefilterTimeout: 1, checkBlacklist: false, domainMaxPagesTimeout: 1, globalPageLimit: null, globalPageLimitTimeout: 1 };

/** One request to enqueue: its domain queue and, for the dupefilter, its fingerprint (none: not filtered). */
export interface EnqueueItem {
	request: FrontierRequest;
	domain: string;
	fingerprint?: string;
}

/**
 * Arguments of the frontierEnqueue script for requests of one spider (exported for pipelined bulk
 * loads): the key count first, then keys and values as scripts.ts describes. `cluster` writes the
 * spider's hash tag into the keys (lib/frontier/keys.ts).
 */
export function enqueueManyArgs(items: readonly EnqueueItem[], opts: EnqueueOptions, cluster = false): Array<string | number> {
	const spiderid = items[0]?.request.spiderid;
	if (spiderid === undefined) throw new Error("enqueue: no requests");
	if (items.some(i => i.request.spiderid !== spiderid)) throw new Error("enqueue: requests of one call must share a spiderid");
	const spider = spiderKeyPart(spiderid, cluster);
	const seed = opts === SEED_OPTIONS;
	const keys: string[] = [queueRegistryKey(spider), sequenceKey(spider), blacklistKey(spider)];
	const values: Array<string | number> = [opts.dupefilterTimeout, opts.domainMaxPagesTimeout, opts.globalPageLimit ?? 0, opts.globalPageLimitTimeout];
	for (const { request, domain, fingerprint } of items) {
		keys.push(
			queueKey(spider, domain),
			dupefilterKey(spider, request.crawlid),
			domainMaxPagesKey(spider, domain, request.crawlid),
			globalPageCountKey(spider, domain, request.crawlid)
		);
		values.push(
			JSON.stringify(request),
			request.priority,
			fingerprint ?? "",
			opts.checkBlacklist ? blacklistMember(request.appid, request.crawlid) : "",
			// Seeds do not count against domain_max_pages (as in the original): only the links they lead to.
			seed ? 0 : (request.domain_max_pages ?? 0)
		);
	}
	return [keys.length, ...keys, ...values];
}

/** Arguments of the frontierEnqueue script for one request (`opts.fingerprint` for the dupefilter). */
export function enqueueArgs(request: FrontierRequest, domain: string, opts: EnqueueOptions, cluster = false): Array<string | number> {
	return enqueueManyArgs([{ request, domain, fingerprint: opts.fingerprint }], opts, cluster);
}

const defined = new WeakSet<RedisClient>();

function defineScripts(redis: RedisClient): void {
	if (defined.has(redis)) return;
	// The key count varies with the number of requests: it is the first argument.
	redis.defineCommand("frontierEnqueue", { lua: ENQUEUE_LUA });
	redis.defineCommand("frontierSeen", { numberOfKeys: 1, lua: SEEN_LUA });
	redis.defineCommand("frontierPop", { numberOfKeys: 4, lua: POP_LUA });
	redis.defineCommand("frontierReap", { numberOfKeys: 3, lua: REAP_LUA });
	redis.defineCommand("frontierPurge", { numberOfKeys: 1, lua: PURGE_LUA });
	redis.defineCommand("frontierForgetEmpty", { numberOfKeys: 2, lua: FORGET_EMPTY_LUA });
	defined.add(redis);
}

export class Frontier {
	readonly redis: RedisClient;
	/** On a Redis Cluster: keys carry the spider's hash tag. */
	readonly cluster: boolean;

	/** Where queues that received requests are announced (keys.ts queuedChannel). */
	readonly channel: string;

	/**
	 * Commands a crawler sends for each page (link lookups and enqueues, acknowledgements, announcements)
	 * share socket writes with the others of the same event-loop turn (lib/redis/coalesce.ts).
	 */
	private readonly coalescer: Coalescer;
	/** Fingerprints this process learnt are in a duplicate filter (for a short while; lib/frontier/known.ts). */
	private readonly known = new KnownFingerprints();
	/** Throttle hits are `<time>:<this frontier's random token>:<sequence>`: unique without a random draw per pop. */
	private readonly hitToken = randomBytes(6).toString("hex");
	private hits = 0;

	constructor(redis: RedisClient) {
		this.redis = redis;
		this.coalescer = coalescerFor(redis);
		this.cluster = isCluster(redis);
		this.channel = queuedChannel(isCluster(redis) ? 0 : (redis.options.db ?? 0));
		defineScripts(redis);
	}

	/** Announce queues that just received requests (a hint for idle crawlers; a failure is ignored). */
	announce(queues: Iterable<string>): void {
		const message = [...new Set(queues)].join("\n");
		if (message) this.coalescer.send("publish", this.channel, message).catch(() => undefined);
	}

	/** The spider as written in its keys (lib/frontier/keys.ts spiderKeyPart). */
	spiderPart(spiderid: string): string {
		return spiderKeyPart(spiderid, this.cluster);
	}

	/** Key of a spider's domain queue in this layout. */
	queueKey(spiderid: string, domain: string): string {
		return queueKey(this.spiderPart(spiderid), domain);
	}

	/** Put a request into `<spiderid>:<domain>:queue` unless a filter drops it. */
	async enqueue(request: FrontierRequest, domain: string, opts: EnqueueOptions): Promise<EnqueueOutcome> {
		return (await this.enqueueMany([{ request, domain, fingerprint: opts.fingerprint }], opts))[0]!;
	}

	/**
	 * Put requests of one spider (e.g. every link of a page) into their domain queues in one script call,
	 * in order; one outcome per request. `opts.fingerprint` is not used: each item has its own.
	 */
	async enqueueMany(items: readonly EnqueueItem[], opts: EnqueueOptions): Promise<EnqueueOutcome[]> {
		if (!items.length) return [];
		const known = await this.knownDuplicates(items, opts.dupefilterTimeout);
		const rest = items.filter((_, i) => !known[i]);
		const sent = rest.length ? ((await this.coalescer.send("frontierEnqueue", ...enqueueManyArgs(rest, opts, this.cluster))) as EnqueueOutcome[]) : [];
		// Fingerprints the script queued or found: in the filter now.
		rest.forEach(({ request, fingerprint }, i) => {
			if (fingerprint && (sent[i] === "queued" || sent[i] === "duplicate")) this.known.add(this.dupefilterOf(request), fingerprint, opts.dupefilterTimeout);
		});
		let next = 0;
		const outcomes = items.map((_, i): EnqueueOutcome => (known[i] ? "duplicate" : sent[next++]!));
		this.announce(items.filter((_, i) => outcomes[i] === "queued").map(i => this.queueKey(i.request.spiderid, i.domain)));
		return outcomes;
	}

	private dupefilterOf(request: FrontierRequest): string {
		return dupefilterKey(this.spiderPart(request.spiderid), request.crawlid);
	}

	/**
	 * Which requests the dupefilter already holds: those this process learnt lately (lib/frontier/known.ts),
	 * then the others read with one script call per crawl (when at least DUPEFILTER_PRECHECK_MIN are
	 * left; scripts.ts SEEN_LUA): most links of a page lead to pages already seen, and they need not travel
	 * to the enqueue script. Only a shortcut: the script checks the rest atomically, and a request found
	 * here was a duplicate when it was looked at.
	 */
	private async knownDuplicates(items: readonly EnqueueItem[], dupefilterTimeout: number): Promise<boolean[]> {
		const known = items.map(() => false);
		const byKey = new Map<string, number[]>();
		const tests = new Map<string, (fingerprint: string) => boolean>();
		let unknown = 0;
		items.forEach(({ request, fingerprint }, i) => {
			if (!fingerprint) return;
			const key = this.dupefilterOf(request);
			let test = tests.get(key);
			if (!test) tests.set(key, (test = this.known.knownIn(key)));
			if (test(fingerprint)) {
				known[i] = true;
				return;
			}
			const indexes = byKey.get(key) ?? [];
			indexes.push(i);
			byKey.set(key, indexes);
			unknown++;
		});
		if (unknown < DUPEFILTER_PRECHECK_MIN) return known;
		const lookups = [...byKey].map(async ([key, indexes]) => {
			// A failed look leaves its requests to the enqueue script.
			const seen = await this.coalescer.send("frontierSeen", key, dupefilterTimeout, ...indexes.map(i => items[i]!.fingerprint!)).catch(() => null);
			if (!Array.isArray(seen)) return;
			indexes.forEach((i, j) => {
				if (seen[j] !== 1) return;
				known[i] = true;
				this.known.add(key, items[i]!.fingerprint!, dupefilterTimeout);
			});
		});
		await Promise.all(lookups);
		return known;
	}

	/**
	 * Queue a seed (no dupefilter, blacklist or page limits, as the original) and record its expiry
	 * (`expires` unix time; 0 = none) in the same transaction. On a Redis Cluster the expiry goes first
	 * and the seed after (the cluster-wide timeout index lives in another slot): a failure in between
	 * leaves an expiry with nothing queued, which expire clears, and never a seed without its expiry.
	 */
	async enqueueSeed(request: FrontierRequest, domain: string, expires: number): Promise<void> {
		const args = enqueueArgs(request, domain, SEED_OPTIONS, this.cluster);
		const timeout: BatchCommand[] = expires
			? [
					["set", timeoutKey(this.spiderPart(request.spiderid), request.appid, request.crawlid), String(expires)],
					["zadd", TIMEOUT_INDEX_KEY, expires, timeoutIndexMember(request.spiderid, request.appid, request.crawlid)]
				]
			: [];
		if (this.cluster) {
			await batchAll(this.redis, timeout);
			await this.redis.frontierEnqueue(...args);
		} else {
			const tx = this.redis.multi();
			tx.frontierEnqueue(...args);
			for (const [command, ...rest] of timeout) tx.call(command, ...rest);
			const results = await tx.exec();
			const failed = results?.find(([err]) => err);
			if (!results || failed) throw failed?.[0] ?? new Error("Redis transaction aborted");
		}
		this.announce([this.queueKey(request.spiderid, domain)]);
	}

	/** Pop the best request of one domain queue if the throttle allows; lease it for `leaseSeconds`. */
	async pop(spiderid: string, domain: string, throttle: ThrottleSpec, leaseSeconds: number, now = Date.now() / 1000): Promise<PopResult> {
		const r = await this.popMany(spiderid, domain, throttle, leaseSeconds, 1, now);
		if (r.kind === "lower") throw new Error("unreachable: pop without a limit");
		if (r.kind === "throttled") return { kind: "throttled", retryAt: r.retryAt };
		return r.kind === "popped" ? { kind: "popped", ...r.items[0]! } : r;
	}

	/**
	 * Pop up to `most` of the best requests of one domain queue in one call, as many as the throttle
	 * allows (a moderated throttle gives one), each leased for `leaseSeconds`; with `below`, only requests
	 * whose score is below it (see priorityTierEnd).
	 */
	async popMany(spiderid: string, domain: string, throttle: ThrottleSpec, leaseSeconds: number, most: number, now = Date.now() / 1000, below: number | null = null): Promise<PopManyResult> {
		// With the other commands of this turn (the scheduler pops its queues at once): one socket write.
		const r = (await this.coalescer.send(
			"frontierPop",
			this.queueKey(spiderid, domain),
			throttleWindowKey(throttle.key),
			throttleTimeKey(throttle.key),
			leasesKey(this.spiderPart(spiderid)),
			now,
			throttle.window,
			throttle.limit,
			throttle.moderated ? 1 : 0,
			now + leaseSeconds,
			`${now}:${this.hitToken}:${(this.hits++).toString(36)}`,
			Math.max(1, Math.floor(most)),
			below === null ? "" : below
		)) as Array<string | number>;
		if (Number(r[0]) === 0) return { kind: "empty" };
		if (Number(r[0]) === 1) return { kind: "throttled", retryAt: Number(r[1]), head: Number(r[2]) };
		if (Number(r[0]) === 3) return { kind: "lower", head: Number(r[1]) };
		const items: Popped[] = [];
		for (let i = 2; i + 2 < r.length; i += 3) {
			const member = String(r[i]);
			items.push({ request: JSON.parse(member) as FrontierRequest, member, score: Number(r[i + 1]), lease: String(r[i + 2]) });
		}
		return { kind: "popped", items, head: r[1] === "" ? null : Number(r[1]) };
	}

	/** The request was crawled and its page accepted by Kafka: end the lease. */
	async ack(spiderid: string, lease: string): Promise<void> {
		await this.coalescer.send("zrem", leasesKey(this.spiderPart(spiderid)), lease);
	}

	/**
	 * Return leases now, before they expire (their crawler stops without finishing them): they are
	 * expired and reaped at once, so they go back to their queues in their old place, or are dropped when
	 * their crawl was stopped meanwhile, exactly as the leases of a dead crawler. Returns how many.
	 */
	async release(spiderid: string, leases: string[]): Promise<number> {
		if (!leases.length) return 0;
		await this.redis.zadd(leasesKey(this.spiderPart(spiderid)), "XX", ...leases.flatMap(lease => [0, lease]));
		return this.reap(spiderid, 0, leases.length);
	}

	/** Return the leases that expired (their crawler died) to their queues. */
	async reap(spiderid: string, now = Date.now() / 1000, max = 1000): Promise<number> {
		const spider = this.spiderPart(spiderid);
		return this.redis.frontierReap(leasesKey(spider), queueRegistryKey(spider), blacklistKey(spider), now, max);
	}

	/** Domain queue keys of a spider, from the registry. */
	async queueKeys(spiderid: string): Promise<string[]> {
		return this.redis.smembers(queueRegistryKey(this.spiderPart(spiderid)));
	}

	/**
	 * Register queues written by clients that do not know the registry (the original's crawlers or
	 * tools writing `<spiderid>:<domain>:queue` directly). A SCAN: run it at start, not per refresh.
	 */
	async registerExistingQueues(spiderid: string): Promise<number> {
		let found = 0;
		const spider = this.spiderPart(spiderid);
		for await (const keys of scanKeys(this.redis, queuePattern(spider))) {
			const valid = keys.filter(k => k.startsWith(`${spider}:`) && parseQueueKey(k)?.spiderid === spiderid);
			if (valid.length) {
				await this.redis.sadd(queueRegistryKey(spider), ...valid);
				found += valid.length;
			}
		}
		return found;
	}

	/** Remove members from a queue, keeping the pending index right. Returns how many were removed. */
	async purge(queue: string, members: string[]): Promise<number> {
		if (!members.length) return 0;
		return this.redis.frontierPurge(queue, ...members);
	}

	/** Drop an empty queue from the registry (atomic against a concurrent enqueue). */
	async forgetIfEmpty(spiderid: string, key: string): Promise<boolean> {
		return (await this.redis.frontierForgetEmpty(key, queueRegistryKey(this.spiderPart(spiderid)))) === 1;
	}

	/** Heads of several queues (best score first in each), for choosing across domains. */
	async heads(keys: string[]): Promise<Array<{ key: string; score: number } | null>> {
		if (!keys.length) return [];
		const results = await this.coalescer.batch(keys.map(key => ["zrange", key, 0, 0, "WITHSCORES"]));
		return results.map(([err, value], i) => {
			const head = value as string[] | null;
			if (err || !head || head.length < 2) return null;
			return { key: keys[i]!, score: Number(head[1]) };
		});
	}
}
