/**
 * Put a validated crawl request (a seed, in the original's flat "feed format") into its domain queue,
 * and record the crawl's expiry (in one transaction on one Redis server; see Frontier.enqueueSeed).
 */
import type { RedisClient } from "../redis/client.ts";
import type { CrawlRequest } from "../requests/kinds/crawl.ts";
import { Frontier, type FrontierRequest } from "./frontier.ts";
import { registeredDomain } from "./keys.ts";

export interface EnqueueResult {
	key: string;
	domain: string;
}

export async function enqueueSeed(redis: RedisClient, request: CrawlRequest): Promise<EnqueueResult> {
	const domain = registeredDomain(request.url);
	if (!domain) throw new Error(`no host in url ${request.url}`);
	const frontier = new Frontier(redis);
	await frontier.enqueueSeed(request as unknown as FrontierRequest, domain, request.expires);
	return { key: frontier.queueKey(request.spiderid, domain), domain };
}
