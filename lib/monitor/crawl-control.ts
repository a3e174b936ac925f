/**
 * What the info, stop and expire services do with Redis: read a crawl's pending requests from the
 * pending index (lib/frontier/scripts.ts) and purge them from their domain queues.
 */
import { batch, isCluster, type RedisClient } from "../redis/client.ts";
import { Frontier, type FrontierRequest } from "../frontier/frontier.ts";
import { blacklistKey, blacklistMember, pendingAppKey, pendingKey, spiderKeyPart, TIMEOUT_INDEX_KEY, timeoutIndexMember, timeoutKey } from "../frontier/keys.ts";

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
	const failed = (
		await batch(redis, [
			["del", timeoutKey(spiderKeyPart(spiderid, isCluster(redis)), appid, crawlid)],
			["zrem", TIMEOUT_INDEX_KEY, timeoutIndexMember(spiderid, appid, crawlid)]
		])
	).find(([err]) => err);
	if (failed) throw failed[0];
}
