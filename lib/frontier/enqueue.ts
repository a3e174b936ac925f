/**
 * Put a validated crawl request (a seed, in the original's flat "feed format") into its domain queue,
 * and record the crawl's expiry, in one transaction so both or neither happen.
 */
import type { Redis } from "ioredis";
import type { CrawlRequest } from "../requests/kinds/crawl.ts";
import { Frontier, type FrontierRequest } from "./frontier.ts";
import { queueKey, registeredDomain, timeoutKey } from "./keys.ts";

export interface EnqueueResult {
	key: string;
	domain: string;
}

export async function enqueueSeed(redis: Redis, request: CrawlRequest): Promise<EnqueueResult> {
	const domain = registeredDomain(request.url);
	if (!domain) throw new Error(`no host in url ${request.url}`);
	const timeout = request.expires !== 0 ? { key: timeoutKey(request.spiderid, request.appid, request.crawlid), expires: request.expires } : null;
	await new Frontier(redis).enqueueSeed(request as unknown as FrontierRequest, domain, timeout);
	return { key: queueKey(request.spiderid, domain), domain };
}
