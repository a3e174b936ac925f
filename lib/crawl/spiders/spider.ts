/**
 * A spider type: a name and a parse function that turns a crawled page into the links shown in the
 * output record and the requests to crawl next. Adding a spider type is one module like link.ts,
 * listed in spiders/index.ts.
 */
import type { FrontierRequest } from "../../frontier/frontier.ts";

export interface Link {
	url: string;
	text: string;
}

export interface SpiderPage {
	request: FrontierRequest;
	/** Final URL after redirects. */
	responseUrl: string;
	status: number;
	/** Decoded HTML, or null when the response is not HTML. */
	html: string | null;
}

export interface SpiderTools {
	/** Links of the page, resolved, de-duplicated, filtered by the request's allowed_domains/regex/extension rules. */
	links(): Link[];
	/** Random number in [0, 1). */
	random(): number;
}

export interface SpiderOutput {
	/** The `links` field of the crawled_firehose record. */
	links: Link[];
	/** Requests to queue (any spiderid: a spider may hand a request to another spider type). */
	requests: FrontierRequest[];
	/** Replaces the record's `attrs` when set. */
	attrs?: Record<string, unknown> | null;
}

export interface Spider {
	name: string;
	parse(page: SpiderPage, tools: SpiderTools): SpiderOutput;
}

/** A follow-up request for a link: one level deeper, 10 lower in priority, fresh retry count. */
export function childRequest(parent: FrontierRequest, url: string, changes: Partial<FrontierRequest> = {}): FrontierRequest {
	return {
		...parent,
		url,
		priority: parent.priority - 10,
		curdepth: (parent.curdepth ?? 0) + 1,
		retry_times: 0,
		...changes
	};
}
