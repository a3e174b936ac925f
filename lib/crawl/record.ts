/**
 * The crawled_firehose message of one page, with exactly the fields of Scrapy Cluster's crawl response
 * (keys sorted, as the original's ujson sort_keys), header maps as name -> list of values.
 */
import type { FetchResult } from "./fetch.ts";

export interface PageRecordInput extends Pick<FetchResult, "responseUrl" | "status" | "responseHeaders" | "requestHeaders" | "body"> {
	appid: string;
	crawlid: string;
	attrs: Record<string, unknown> | null;
	/** The URL requested (the request's own, not the fetch's first hop). */
	url: string;
	/** The decoded body, when the page was decoded. */
	text: string | null;
	encoding: string;
	links: Array<{ url: string; text: string }>;
}

/** `datetime.utcnow().isoformat()` as the original writes it: no zone, microseconds. */
export function pythonUtcTimestamp(date: Date): string {
	return `${date.toISOString().slice(0, -1)}000`;
}

export function pageRecord(page: PageRecordInput, base64: boolean, now: Date = new Date()): Record<string, unknown> {
	const body = base64 ? page.body.toString("base64") : (page.text ?? page.body.toString("utf8"));
	const record: Record<string, unknown> = {
		appid: page.appid,
		attrs: page.attrs,
		body,
		crawlid: page.crawlid,
		encoding: page.encoding,
		links: page.links.map(l => ({ url: l.url.replace(/[\r\n]/g, ""), text: l.text })),
		request_headers: page.requestHeaders,
		response_headers: page.responseHeaders,
		response_url: page.responseUrl,
		status_code: page.status,
		status_msg: "OK",
		timestamp: pythonUtcTimestamp(now),
		url: page.url
	};
	return record;
}

/**
 * The message of a record as UTF-8 bytes (encoded once: the Kafka client sends them as they are), within
 * `maxBytes` (KAFKA_PRODUCER_MAX_REQUEST_SIZE): when the page is too big, its body is cut until the message
 * fits, rather than losing the page.
 */
export function fitRecord(record: Record<string, unknown>, maxBytes: number): { message: Buffer; truncated: boolean } {
	let message = Buffer.from(JSON.stringify(record));
	if (message.length <= maxBytes || typeof record.body !== "string") return { message, truncated: false };
	let body = record.body;
	for (let i = 0; i < 30 && message.length > maxBytes && body.length > 0; i++) {
		const over = message.length - maxBytes;
		const bodyBytes = Buffer.byteLength(JSON.stringify(body));
		// Cut proportionally to how much of the body's JSON must go, plus a margin.
		const keep = Math.max(0, Math.floor(body.length * (1 - (over + 64) / bodyBytes)) - 16);
		body = body.slice(0, Math.min(keep, body.length - 1));
		message = Buffer.from(JSON.stringify({ ...record, body }));
	}
	return { message, truncated: true };
}
