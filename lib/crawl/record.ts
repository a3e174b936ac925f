/**
 * The crawled_firehose message of one page, with exactly the fields of Scrapy Cluster's crawl response
 * (keys sorted, as the original's ujson sort_keys), header maps as name -> list of values.
 */
export interface PageRecordInput {
	appid: string;
	crawlid: string;
	attrs: Record<string, unknown> | null;
	url: string;
	responseUrl: string;
	status: number;
	responseHeaders: Record<string, string[]>;
	requestHeaders: Record<string, string[]>;
	body: Buffer;
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
