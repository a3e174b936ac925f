/**
 * The crawl frontier in Redis: per-spider, per-domain priority queues (Scrapy Cluster's
 * `<spiderid>:<domain>:queue`), the registry of known queues, the cluster-wide throttle, leases of
 * popped requests, the duplicate filter and page limits. All racing steps are Lua scripts (scripts.ts).
 */
import { randomBytes } from "node:crypto";
import type { Redis, Result } from "ioredis";
import type { CrawlRequest } from "../requests/kinds/crawl.ts";
import {
	blacklistKey,
	blacklistMember,
	domainMaxPagesKey,
	dupefilterKey,
	globalPageCountKey,
	leasesKey,
	parseQueueKey,
	queueKey,
	queuePattern,
	queueRegistryKey,
	sequenceKey,
	throttleTimeKey,
	throttleWindowKey,
	TIMEOUT_INDEX_KEY,
	timeoutIndexMember
} from "./keys.ts";
import { ENQUEUE_LUA, FORGET_EMPTY_LUA, POP_LUA, PURGE_LUA, REAP_LUA } from "./scripts.ts";

declare module "ioredis" {
	interface RedisCommander<Context> {
		frontierEnqueue(...args: Array<string | number>): Result<string, Context>;
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

export type PopResult =
	| { kind: "empty" }
	| { kind: "throttled"; retryAt: number }
	| { kind: "popped"; request: FrontierRequest; member: string; score: number; lease: string };

const SEED_OPTIONS: EnqueueOptions = { dupefilterTimeout: 1, checkBlacklist: false, domainMaxPagesTimeout: 1, globalPageLimit: null, globalPageLimitTimeout: 1 };

/** Arguments of the frontierEnqueue script (exported for pipelined bulk loads). */
export function enqueueArgs(request: FrontierRequest, domain: string, opts: EnqueueOptions): Array<string | number> {
	const spider = request.spiderid;
	const seed = opts === SEED_OPTIONS;
	return [
		queueKey(spider, domain),
		queueRegistryKey(spider),
		sequenceKey(spider),
		dupefilterKey(spider, request.crawlid),
		blacklistKey(spider),
		domainMaxPagesKey(spider, domain, request.crawlid),
		globalPageCountKey(spider, domain, request.crawlid),
		JSON.stringify(request),
		request.priority,
		opts.fingerprint ?? "",
		opts.dupefilterTimeout,
		opts.checkBlacklist ? blacklistMember(request.appid, request.crawlid) : "",
		// Seeds do not count against domain_max_pages (as in the original): only the links they lead to.
		seed ? 0 : (request.domain_max_pages ?? 0),
		opts.domainMaxPagesTimeout,
		opts.globalPageLimit ?? 0,
		opts.globalPageLimitTimeout
	];
}

const defined = new WeakSet<Redis>();

function defineScripts(redis: Redis): void {
	if (defined.has(redis)) return;
	redis.defineCommand("frontierEnqueue", { numberOfKeys: 7, lua: ENQUEUE_LUA });
	redis.defineCommand("frontierPop", { numberOfKeys: 4, lua: POP_LUA });
	redis.defineCommand("frontierReap", { numberOfKeys: 3, lua: REAP_LUA });
	redis.defineCommand("frontierPurge", { numberOfKeys: 1, lua: PURGE_LUA });
	redis.defineCommand("frontierForgetEmpty", { numberOfKeys: 2, lua: FORGET_EMPTY_LUA });
	defined.add(redis);
}

export class Frontier {
	readonly redis: Redis;

	constructor(redis: Redis) {
		this.redis = redis;
		defineScripts(redis);
	}

	/** Put a request into `<spiderid>:<domain>:queue` unless a filter drops it. */
	async enqueue(request: FrontierRequest, domain: string, opts: EnqueueOptions): Promise<EnqueueOutcome> {
		return (await this.redis.frontierEnqueue(...enqueueArgs(request, domain, opts))) as EnqueueOutcome;
	}

	/**
	 * Queue a seed (no dupefilter, blacklist or page limits, as the original) and record its expiry in
	 * the same transaction.
	 */
	async enqueueSeed(request: FrontierRequest, domain: string, timeout: { key: string; expires: number } | null): Promise<void> {
		const tx = this.redis.multi();
		tx.frontierEnqueue(...enqueueArgs(request, domain, SEED_OPTIONS));
		if (timeout) {
			tx.set(timeout.key, String(timeout.expires));
			tx.zadd(TIMEOUT_INDEX_KEY, timeout.expires, timeoutIndexMember(request.spiderid, request.appid, request.crawlid));
		}
		const results = await tx.exec();
		const failed = results?.find(([err]) => err);
		if (!results || failed) throw failed?.[0] ?? new Error("Redis transaction aborted");
	}


	/** Pop the best request of one domain queue if the throttle allows; lease it for `leaseSeconds`. */
	async pop(spiderid: string, domain: string, throttle: ThrottleSpec, leaseSeconds: number, now = Date.now() / 1000): Promise<PopResult> {
		const r = await this.redis.frontierPop(
			queueKey(spiderid, domain),
			throttleWindowKey(throttle.key),
			throttleTimeKey(throttle.key),
			leasesKey(spiderid),
			now,
			throttle.window,
			throttle.limit,
			throttle.moderated ? 1 : 0,
			now + leaseSeconds,
			`${now}:${randomBytes(6).toString("hex")}`
		);
		if (Number(r[0]) === 0) return { kind: "empty" };
		if (Number(r[0]) === 1) return { kind: "throttled", retryAt: Number(r[1]) };
		const member = String(r[1]);
		return { kind: "popped", request: JSON.parse(member) as FrontierRequest, member, score: Number(r[2]), lease: String(r[3]) };
	}

	/** The request was crawled and its page accepted by Kafka: end the lease. */
	async ack(spiderid: string, lease: string): Promise<void> {
		await this.redis.zrem(leasesKey(spiderid), lease);
	}

	/**
	 * Return leases now, before they expire (their crawler stops without finishing them): they are
	 * expired and reaped at once, so they go back to their queues in their old place, or are dropped when
	 * their crawl was stopped meanwhile, exactly as the leases of a dead crawler. Returns how many.
	 */
	async release(spiderid: string, leases: string[]): Promise<number> {
		if (!leases.length) return 0;
		const tx = this.redis.multi();
		for (const lease of leases) tx.zadd(leasesKey(spiderid), "XX", 0, lease);
		await tx.exec();
		return this.reap(spiderid, 0, leases.length);
	}

	/** Return the leases that expired (their crawler died) to their queues. */
	async reap(spiderid: string, now = Date.now() / 1000, max = 1000): Promise<number> {
		return this.redis.frontierReap(leasesKey(spiderid), queueRegistryKey(spiderid), blacklistKey(spiderid), now, max);
	}

	/** Domain queue keys of a spider, from the registry. */
	async queueKeys(spiderid: string): Promise<string[]> {
		return this.redis.smembers(queueRegistryKey(spiderid));
	}

	/**
	 * Register queues written by clients that do not know the registry (the original's crawlers or
	 * tools writing `<spiderid>:<domain>:queue` directly). A SCAN: run it at start, not per refresh.
	 */
	async registerExistingQueues(spiderid: string): Promise<number> {
		let cursor = "0";
		let found = 0;
		do {
			const [next, keys] = await this.redis.scan(cursor, "MATCH", queuePattern(spiderid), "COUNT", 1000);
			cursor = next;
			const valid = keys.filter(k => parseQueueKey(k)?.spiderid === spiderid);
			if (valid.length) {
				await this.redis.sadd(queueRegistryKey(spiderid), ...valid);
				found += valid.length;
			}
		} while (cursor !== "0");
		return found;
	}

	/** Remove members from a queue, keeping the pending index right. Returns how many were removed. */
	async purge(queue: string, members: string[]): Promise<number> {
		if (!members.length) return 0;
		return this.redis.frontierPurge(queue, ...members);
	}

	/** Drop an empty queue from the registry (atomic against a concurrent enqueue). */
	async forgetIfEmpty(spiderid: string, key: string): Promise<boolean> {
		return (await this.redis.frontierForgetEmpty(key, queueRegistryKey(spiderid))) === 1;
	}

	/** Heads of several queues (best score first in each), for choosing across domains. */
	async heads(keys: string[]): Promise<Array<{ key: string; score: number } | null>> {
		if (!keys.length) return [];
		const pipeline = this.redis.pipeline();
		for (const key of keys) pipeline.zrange(key, 0, 0, "WITHSCORES");
		const results = (await pipeline.exec()) ?? [];
		return results.map(([err, value], i) => {
			const head = value as string[] | null;
			if (err || !head || head.length < 2) return null;
			return { key: keys[i]!, score: Number(head[1]) };
		});
	}
}
