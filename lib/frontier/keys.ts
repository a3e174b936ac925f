/**
 * Redis key formats of the crawl frontier, as in Scrapy Cluster's Redis Keys section.
 *   <spiderid>:<domain>:queue                 ZSET of requests, score = -priority
 *   timeout:<spiderid>:<appid>:<crawlid>      STRING, the crawl's `expires` unix time
 *   <spiderid>:dupefilter:<crawlid>           SET of request fingerprints
 *   <spiderid>:blacklist                      SET of "<appid>||<crawlid>" (stopped/expired crawls)
 * Spider ids never contain ':', so a queue key splits at its first and last ':' even when the domain
 * has colons (an IPv6 address).
 *
 * On a Redis Cluster (REDIS_CLUSTER) the spider part of every frontier key is a hash tag, `{<spiderid>}`
 * (`{link}:example.com:queue`, `timeout:{link}:<appid>:<crawlid>`), so the keys a script or transaction
 * touches together (queue, pending index, leases, registry, dupefilter, blacklist, page counters and the
 * spider's throttle) live in one hash slot. Callers build keys from `spiderKeyPart(spiderid, cluster)`;
 * parsers accept both forms.
 */
import { domainToUnicode } from "node:url";
import { getDomain } from "tldts";
import { Recent, RECENT_URLS } from "../crawl/recent.ts";

/** The spider as written in its keys: the id itself, or its hash tag on a Redis Cluster. */
export const spiderKeyPart = (spiderid: string, cluster: boolean): string => (cluster ? `{${spiderid}}` : spiderid);
/** The spider id of a key part written by spiderKeyPart. */
export const spiderOfKeyPart = (part: string): string => (part.length > 2 && part.startsWith("{") && part.endsWith("}") ? part.slice(1, -1) : part);

export const queueKey = (spiderid: string, domain: string): string => `${spiderid}:${domain}:queue`;
export const queuePattern = (spiderid: string): string => `${spiderid}:*:queue`;
export const timeoutKey = (spiderid: string, appid: string, crawlid: string): string => `timeout:${spiderid}:${appid}:${crawlid}`;
export const dupefilterKey = (spiderid: string, crawlid: string): string => `${spiderid}:dupefilter:${crawlid}`;
export const blacklistKey = (spiderid: string): string => `${spiderid}:blacklist`;
export const blacklistMember = (appid: string, crawlid: string): string => `${appid}||${crawlid}`;
/** SET of the spider's domain queue keys, so crawlers find queues without scanning the keyspace. */
export const queueRegistryKey = (spiderid: string): string => `${spiderid}:queues`;
/** Counter giving equal-priority requests their first-in first-out order. */
export const sequenceKey = (spiderid: string): string => `${spiderid}:queue_seq`;
/** ZSET of requests popped and not yet acknowledged, scored by lease expiry. */
export const leasesKey = (spiderid: string): string => `${spiderid}:leases`;
export const domainMaxPagesKey = (spiderid: string, domain: string, crawlid: string): string => `${spiderid}:domain_max_page_filter:${domain}:${crawlid}`;
export const globalPageCountKey = (spiderid: string, domain: string, crawlid: string): string => `${spiderid}:global_page_count_filter:${domain}:${crawlid}`;
/** HASH "<domain>\t<priority>" -> queued requests of one crawl (kept by the frontier scripts). */
export const pendingKey = (spiderid: string, appid: string, crawlid: string): string => `${spiderid}:pending:${appid}:${crawlid}`;
/** SET of an appid's crawlids that have queued requests. */
export const pendingAppKey = (spiderid: string, appid: string): string => `${spiderid}:pending:${appid}`;
/** ZSET of crawls with an expiry: member "<spiderid>:<appid>:<crawlid>", score = expires. */
export const TIMEOUT_INDEX_KEY = "timeout_index";
export const timeoutIndexMember = (spiderid: string, appid: string, crawlid: string): string => `${spiderid}:${appid}:${crawlid}`;
/**
 * Pub/sub channel on which writers announce queues that just received requests, so idle crawlers pop
 * at once instead of at their next recheck. Pub/sub ignores databases: the database is in the name.
 * Messages: queue keys separated by "\n". A hint only: crawlers still find every queue by the registry.
 */
export const queuedChannel = (db: number): string => `frontier:queued:${db}`;

export const throttleWindowKey = (throttleKey: string): string => `${throttleKey}:throttle_window`;
export const throttleTimeKey = (throttleKey: string): string => `${throttleKey}:throttle_time`;

/** Throttle key of the four styles: [spider:][ip:]domain (SCHEDULER_TYPE_ENABLED, SCHEDULER_IP_ENABLED). */
export function throttleKey(domain: string, opts: { spiderid?: string | null; ip?: string | null }): string {
	return `${opts.spiderid ? `${opts.spiderid}:` : ""}${opts.ip ? `${opts.ip}:` : ""}${domain}`;
}

export function parseQueueKey(key: string): { spiderid: string; domain: string } | null {
	const first = key.indexOf(":");
	if (first <= 0 || !key.endsWith(":queue")) return null;
	const domain = key.slice(first + 1, key.length - ":queue".length);
	const spiderid = spiderOfKeyPart(key.slice(0, first));
	return domain && spiderid ? { spiderid, domain } : null;
}

/**
 * The throttling domain of a URL: its registered domain by the Public Suffix List (www.bbc.co.uk ->
 * bbc.co.uk), or the host itself for IP addresses and single-label hosts such as localhost. Ports are
 * ignored, as in the original; internationalised names are given in Unicode (bücher.de, not xn--bcher-kva.de),
 * as tldextract gives them. Returns null when the URL has no host. The last RECENT_URLS answers are remembered.
 */
export function registeredDomain(url: string): string | null {
	return domains.get(url, domainOf);
}

/** The domains of the last RECENT_URLS URLs (a page's links recur on the next pages). */
const domains = new Recent<string | null>(RECENT_URLS);

function domainOf(url: string): string | null {
	let host: string;
	try {
		host = new URL(url).hostname.toLowerCase();
	} catch {
		return null;
	}
	if (!host) return null;
	const bare = host.startsWith("[") ? host.slice(1, -1) : host;
	const domain = getDomain(bare, { allowPrivateDomains: false }) ?? bare;
	return domain.includes("xn--") ? domainToUnicode(domain) || domain : domain;
}
