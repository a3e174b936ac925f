/** Crawl requests (Scrapy Cluster's ScraperHandler, scraper_schema.json of the newest branch). */
import { enqueueSeed } from "../../frontier/enqueue.ts";
import type { RequestKind } from "../kind.ts";
import { firstReason, spiderIdReason, unsafeIdReason } from "../key-safety.ts";
import { integer, RequestSchema, stringLength, uniqueStrings } from "../schema.ts";

export interface CrawlRequest {
	url: string;
	appid: string;
	crawlid: string;
	spiderid: string;
	priority: number;
	maxdepth: number;
	domain_max_pages: number | null;
	allowed_domains: string[] | null;
	allow_regex: string[] | null;
	deny_regex: string[] | null;
	deny_extensions: string[] | null;
	expires: number;
	useragent: string | null;
	cookie: string | null;
	attrs: Record<string, unknown> | null;
	/** Unix time (float seconds) the request was accepted, added by ingest as the original does. */
	ts?: number;
}

export const crawlSchema = new RequestSchema<CrawlRequest>(
	{
		appid: { rule: stringLength(3, 40) },
		crawlid: { rule: stringLength(1, 40) },
		spiderid: { rule: "string", default: "link" },
		url: { rule: "string" },
		priority: { rule: integer(1, 100), default: 1 },
		maxdepth: { rule: integer(0, 3), default: 0 },
		domain_max_pages: { rule: integer(0, 2000), default: null },
		allowed_domains: { rule: uniqueStrings(), default: null },
		allow_regex: { rule: uniqueStrings(), default: null },
		deny_regex: { rule: uniqueStrings(), default: null },
		deny_extensions: { rule: uniqueStrings(), default: null },
		expires: { rule: integer(), default: 0 },
		useragent: { rule: stringLength(3, 1000), default: null },
		cookie: { rule: stringLength(3, 1000), default: null },
		attrs: { rule: "object", default: null }
	},
	["appid", "crawlid", "url"]
);

export const crawlKind: RequestKind<CrawlRequest> = {
	name: "crawl",
	handlerName: "ScraperHandler",
	rank: 100,
	schema: crawlSchema,
	normalize(request) {
		// The original's crawler gave scheme-less seeds such as "istresearch.com" (its Rest chapter's own
		// example) an http:// prefix; so does ingest.
		return SCHEMELESS_HOST.test(request.url) ? { ...request, url: `http://${request.url}` } : request;
	},
	refuse(request) {
		return firstReason(
			urlReason(request.url),
			unsafeIdReason("appid", request.appid),
			unsafeIdReason("crawlid", request.crawlid),
			spiderIdReason(request.spiderid),
			...(request.allow_regex ?? []).map(p => regexReason("allow_regex", p)),
			...(request.deny_regex ?? []).map(p => regexReason("deny_regex", p))
		);
	},
	async handle(request, ctx) {
		const { key } = await enqueueSeed(ctx.redis, request);
		ctx.log.info("Added crawl to Redis", { appid: request.appid, crawlid: request.crawlid, spiderid: request.spiderid, url: request.url, key });
	}
};

/** A URL written without scheme that starts with a host name with a dot: "www.example.com/path". */
const SCHEMELESS_HOST = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9-]+)+(?::\d{1,5})?(?:[/?#].*)?$/i;

function urlReason(url: string): string | null {
	let parsed: URL;
	try {
		parsed = new URL(url);
	} catch {
		return `url "${url.slice(0, 200)}" is not an absolute URL`;
	}
	if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return `url "${url.slice(0, 200)}": only http and https URLs can be crawled, not ${parsed.protocol}`;
	if (!parsed.hostname) return `url "${url.slice(0, 200)}" has no host`;
	return null;
}

function regexReason(field: string, pattern: string): string | null {
	try {
		new RegExp(pattern);
		return null;
	} catch (err) {
		const why = (err as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, "");
		return `${field}: regular expression "${pattern.slice(0, 200)}" does not compile: ${why.slice(0, 200)}`;
	}
}
