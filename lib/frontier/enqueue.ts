/**
 * Put a validated crawl request (a seed, in the original's flat "feed format") into its domain queue,
 * and record the crawl's expiry, in one MULTI so both or neither happen.
 */
import type { Redis } from "ioredis";
import type { CrawlRequest } from "../requests/kinds/crawl.ts";
import { queueKey, registeredDomain, timeoutKey } from "./keys.ts";

export interface EnqueueResult {
	key: string;
	domain: string;
}

export async function enqueueSeed(redis: Redis, request: CrawlRequest): Promise<EnqueueResult> {
	const domain = registeredDomain(request.url);
	if (!domain) throw new Error(`no host in url ${request.url}`);
	const key = queueKey(request.spiderid, domain);
	const tx = redis.multi().zadd(key, -request.priority, JSON.stringify(request));
	if (request.expires !== 0) tx.set(timeoutKey(request.spiderid, request.appid, request.crawlid), String(request.expires));
	const results = await tx.exec();
	const failed = results?.find(([err]) => err);
	if (!results || failed) throw failed?.[0] ?? new Error("Redis transaction aborted");
	return { key, domain };
}
