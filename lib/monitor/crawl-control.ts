/**
 * What the info, stop and expire services do with Redis: read a crawl's pending requests from the
 * pending index (lib/frontier/scripts.ts) and purge them from their domain queues.
 */
import type { Redis } from "ioredis";
import { Frontier, type FrontierRequest } from "../frontier/frontier.ts";
import { blacklistKey, blacklistMember, pendingAppKey, pendingKey, queueKey, TIMEOUT_INDEX_KEY, timeoutIndexMember, timeoutKey } from "../frontier/keys.ts";

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

export async function crawlPending(redis: Redis, spiderid: string, appid: string, crawlid: string): Promise<CrawlPending> {
	return summarizePending(await redis.hgetall(pendingKey(spiderid, appid, crawlid)));
}

/** Crawlids of an appid that have pending requests. */
export async function appCrawlids(redis: Redis, spiderid: string, appid: string): Promise<string[]> {
	return (await redis.smembers(pendingAppKey(spiderid, appid))).sort();
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
export async function stopCrawl(redis: Redis, spiderid: string, appid: string, crawlid: string): Promise<number> {
	const frontier = new Frontier(redis);
	await redis.sadd(blacklistKey(spiderid), blacklistMember(appid, crawlid));
	const { domains } = await crawlPending(redis, spiderid, appid, crawlid);
	const pattern = memberPattern(crawlid);
	let purged = 0;
	for (const domain of Object.keys(domains)) {
		const queue = queueKey(spiderid, domain);
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
export async function clearTimeout(redis: Redis, spiderid: string, appid: string, crawlid: string): Promise<void> {
	await redis.multi().del(timeoutKey(spiderid, appid, crawlid)).zrem(TIMEOUT_INDEX_KEY, timeoutIndexMember(spiderid, appid, crawlid)).exec();
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

/** `<spiderid>:pending:<appid>` → its parts; null for other keys (spider ids and appids never hold ':'). */
export function parsePendingAppKey(key: string): { spiderid: string; appid: string } | null {
	const at = key.indexOf(":pending:");
	if (at <= 0) return null;
	const spiderid = key.slice(0, at);
	const appid = key.slice(at + ":pending:".length);
	if (!appid || spiderid.includes(":") || appid.includes(":")) return null;
	return { spiderid, appid };
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
export async function activeCrawls(redis: Redis, limit: number, scanCount = 1000): Promise<{ crawls: ActiveCrawl[]; truncated: boolean }> {
	const apps = new Set<string>();
	let cursor = "0";
	do {
		const [next, keys] = await redis.scan(cursor, "MATCH", "*:pending:*", "COUNT", scanCount, "TYPE", "set");
		for (const key of keys) if (parsePendingAppKey(key)) apps.add(key);
		cursor = next;
	} while (cursor !== "0");
	const appKeys = [...apps].sort();
	const members = appKeys.length ? ((await redis.pipeline(appKeys.map(k => ["smembers", k])).exec()) ?? []) : [];
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
		const batch = wanted.slice(i, i + 500);
		const pipeline = redis.pipeline();
		for (const c of batch) pipeline.hgetall(pendingKey(c.spiderid, c.appid, c.crawlid)).get(timeoutKey(c.spiderid, c.appid, c.crawlid));
		const replies = (await pipeline.exec()) ?? [];
		batch.forEach((c, j) => {
			const [hashErr, hash] = replies[2 * j] ?? [null, {}];
			const [, expires] = replies[2 * j + 1] ?? [null, null];
			const pending = summarizePending(hashErr || !hash || typeof hash !== "object" ? {} : (hash as Record<string, string>));
			if (pending.total === 0) return;
			const crawl: ActiveCrawl = { ...c, total_pending: pending.total, total_domains: Object.keys(pending.domains).length };
			if (typeof expires === "string" && Number(expires) > 0) crawl.expires = Number(expires);
			crawls.push(crawl);
		});
	}
	return { crawls: sortActiveCrawls(crawls), truncated };
}
