/**
 * What the info, stop and expire services do with Redis: read a crawl's pending requests from the
 * pending index (lib/frontier/scripts.ts) and purge them from their domain queues.
 */
import { batch, batchAll, isCluster, scanKeys, type BatchCommand, type RedisClient } from "../redis/client.ts";
import { Frontier, type FrontierRequest } from "../frontier/frontier.ts";
import { blacklistKey, blacklistMember, pendingAppKey, pendingKey, spiderKeyPart, spiderOfKeyPart, TIMEOUT_INDEX_KEY, timeoutIndexMember, timeoutKey } from "../frontier/keys.ts";

export interface DomainPending {
	total: number;
	high_priority: number;
	low_priority: number;
}

export interface CrawlPending {
	domains: Record<string, DomainPending>;
	total: number;
}

/** Turn a pending hash ("<domain>\t<priority>" -> count) into per-domain totals and priority bounds (pure). */
export function summarizePending(hash: Record<string, string>): CrawlPending {
	const domains: Record<string, DomainPending> = {};
	let total = 0;
	for (const [field, value] of Object.entries(hash)) {
		const tab = field.lastIndexOf("\t");
		const count = Number(value);
		if (tab < 0 || !(count > 0)) continue;
		const domain = field.slice(0, tab);
		const priority = Number(field.slice(tab + 1));
		const d = (domains[domain] ??= { total: 0, high_priority: priority, low_priority: priority });
		d.total += count;
		d.high_priority = Math.max(d.high_priority, priority);
		d.low_priority = Math.min(d.low_priority, priority);
		total += count;
	}
	return { domains, total };
}

export async function crawlPending(redis: RedisClient, spiderid: string, appid: string, crawlid: string): Promise<CrawlPending> {
	return summarizePending(await redis.hgetall(pendingKey(spiderKeyPart(spiderid, isCluster(redis)), appid, crawlid)));
}

/** The crawl's `expires` unix time as stored in its timeout key, or null when it has none. */
export async function crawlExpires(redis: RedisClient, spiderid: string, appid: string, crawlid: string): Promise<string | null> {
	return redis.get(timeoutKey(spiderKeyPart(spiderid, isCluster(redis)), appid, crawlid));
}

/** Crawlids of an appid that have pending requests. */
export async function appCrawlids(redis: RedisClient, spiderid: string, appid: string): Promise<string[]> {
	return (await redis.smembers(pendingAppKey(spiderKeyPart(spiderid, isCluster(redis)), appid))).sort();
}

/** ZSCAN pattern matching the JSON of a crawl's members, or null when the id needs JSON escaping. */
function memberPattern(crawlid: string): string | null {
	const encoded = JSON.stringify(crawlid);
	if (encoded !== `"${crawlid}"` || /[*?[\]\\]/.test(crawlid)) return null;
	return `*"crawlid":${encoded}*`;
}

/**
 * Blacklist a crawl (so no crawler continues it) and purge its queued requests from every domain queue
 * where the pending index says it has some. Returns how many were removed.
 */
export async function stopCrawl(redis: RedisClient, spiderid: string, appid: string, crawlid: string): Promise<number> {
	const frontier = new Frontier(redis);
	await redis.sadd(blacklistKey(frontier.spiderPart(spiderid)), blacklistMember(appid, crawlid));
	const { domains } = await crawlPending(redis, spiderid, appid, crawlid);
	const pattern = memberPattern(crawlid);
	let purged = 0;
	for (const domain of Object.keys(domains)) {
		const queue = frontier.queueKey(spiderid, domain);
		let cursor = "0";
		do {
			const [next, flat] = pattern ? await redis.zscan(queue, cursor, "MATCH", pattern, "COUNT", 1000) : await redis.zscan(queue, cursor, "COUNT", 1000);
			cursor = next;
			const members: string[] = [];
			for (let i = 0; i < flat.length; i += 2) {
				const member = flat[i]!;
				try {
					const item = JSON.parse(member) as FrontierRequest;
					if (item.appid === appid && item.crawlid === crawlid) members.push(member);
				} catch {
					/* not ours */
				}
			}
			purged += await frontier.purge(queue, members);
		} while (cursor !== "0");
	}
	return purged;
}

/** Forget a crawl's expiry (after a stop or when it expired). */
export async function clearTimeout(redis: RedisClient, spiderid: string, appid: string, crawlid: string): Promise<void> {
	await batchAll(redis, [
		["del", timeoutKey(spiderKeyPart(spiderid, isCluster(redis)), appid, crawlid)],
		["zrem", TIMEOUT_INDEX_KEY, timeoutIndexMember(spiderid, appid, crawlid)]
	]);
}

/** One crawl with queued requests, as the dashboard lists it (info.crawls). */
export interface ActiveCrawl {
	spiderid: string;
	appid: string;
	crawlid: string;
	total_pending: number;
	total_domains: number;
	/** The expiry stored in timeout:<spiderid>:<appid>:<crawlid> (unix seconds), when the crawl has one. */
	expires?: number;
}

/**
 * `<spiderid>:pending:<appid>` (or `{<spiderid>}:...` on a Redis Cluster) → its parts; null for other keys
 * (spider ids and appids never hold ':').
 */
export function parsePendingAppKey(key: string): { spiderid: string; appid: string } | null {
	const at = key.indexOf(":pending:");
	if (at <= 0) return null;
	const spiderid = spiderOfKeyPart(key.slice(0, at));
	const appid = key.slice(at + ":pending:".length);
	if (!spiderid || !appid || spiderid.includes(":") || appid.includes(":")) return null;
	return { spiderid, appid };
}

/** HGETALL's reply as an object: ioredis turns it into one for named commands, `call` gives the flat array. */
function hashReply(reply: object): Record<string, string> {
	if (!Array.isArray(reply)) return reply as Record<string, string>;
	const out: Record<string, string> = {};
	for (let i = 0; i + 1 < reply.length; i += 2) out[String(reply[i])] = String(reply[i + 1]);
	return out;
}

/** Crawls ordered for display: most pending first, then by spiderid, appid, crawlid (pure). */
export function sortActiveCrawls(crawls: ActiveCrawl[]): ActiveCrawl[] {
	return crawls.sort(
		(a, b) =>
			b.total_pending - a.total_pending || a.spiderid.localeCompare(b.spiderid) || a.appid.localeCompare(b.appid) || a.crawlid.localeCompare(b.crawlid)
	);
}

/**
 * Every crawl with queued requests, of every spider and appid, from the pending index: the app sets are
 * found by SCAN (TYPE set, never KEYS), their crawls read in pipelines. At most `limit` crawls are read
 * (`truncated` says there were more).
 */
export async function activeCrawls(redis: RedisClient, limit: number, scanCount = 1000): Promise<{ crawls: ActiveCrawl[]; truncated: boolean }> {
	const apps = new Set<string>();
	for await (const keys of scanKeys(redis, "*:pending:*", scanCount, "set")) for (const key of keys) if (parsePendingAppKey(key)) apps.add(key);
	const appKeys = [...apps].sort();
	const members = await batch(redis, appKeys.map(k => ["smembers", k]));
	const cluster = isCluster(redis);
	const wanted: Array<{ spiderid: string; appid: string; crawlid: string }> = [];
	let truncated = false;
	appKeys.forEach((key, i) => {
		const { spiderid, appid } = parsePendingAppKey(key)!;
		const [err, list] = members[i] ?? [null, []];
		if (err || !Array.isArray(list)) return;
		for (const crawlid of (list as string[]).sort()) {
			if (wanted.length >= limit) truncated = true;
			else wanted.push({ spiderid, appid, crawlid });
		}
	});
	const crawls: ActiveCrawl[] = [];
	for (let i = 0; i < wanted.length; i += 500) {
		const some = wanted.slice(i, i + 500);
		const replies = await batch(
			redis,
			some.flatMap((c): BatchCommand[] => {
				const spider = spiderKeyPart(c.spiderid, cluster);
				return [
					["hgetall", pendingKey(spider, c.appid, c.crawlid)],
					["get", timeoutKey(spider, c.appid, c.crawlid)]
				];
			})
		);
		some.forEach((c, j) => {
			const [hashErr, hash] = replies[2 * j] ?? [null, {}];
			const [, expires] = replies[2 * j + 1] ?? [null, null];
			const pending = summarizePending(hashErr || !hash || typeof hash !== "object" ? {} : hashReply(hash));
			if (pending.total === 0) return;
			const crawl: ActiveCrawl = { ...c, total_pending: pending.total, total_domains: Object.keys(pending.domains).length };
			if (typeof expires === "string" && Number(expires) > 0) crawl.expires = Number(expires);
			crawls.push(crawl);
		});
	}
	return { crawls: sortActiveCrawls(crawls), truncated };
}
