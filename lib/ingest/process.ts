/**
 * What the ingest service does with one message of the incoming topic: parse JSON, find the first
 * request kind whose schema accepts it, refuse values that would break the cluster, add `ts`, hand it
 * to the kind's handler. Bad input ends as a RefusedRequestError, never as a crash.
 */
import { RefusedRequestError } from "../errors.ts";
import { classify, type IngestContext, type RequestKind } from "../requests/kind.ts";
import { describeIssues } from "../requests/schema.ts";

/** Longest excerpt of a bad message put into a log line. */
export const LOG_EXCERPT_CHARS = 2000;

export function excerpt(text: string): string {
	return text.length > LOG_EXCERPT_CHARS ? `${text.slice(0, LOG_EXCERPT_CHARS)}... (${text.length} characters)` : text;
}

export interface Accepted {
	kind: RequestKind;
	request: Record<string, unknown>;
}

/** Parse and validate a raw message. Throws RefusedRequestError with the original's log messages. */
export function acceptMessage(raw: Buffer | string | null, kinds: RequestKind[], now: () => number = Date.now): Accepted {
	if (raw === null || raw.length === 0) throw new RefusedRequestError("Unparseable JSON Received", { parsed: false, valid: false, data: "", reason: "empty message" });
	const text = typeof raw === "string" ? raw : raw.toString("utf8");
	let value: unknown;
	try {
		value = JSON.parse(text);
	} catch (err) {
		throw new RefusedRequestError("Unparseable JSON Received", { parsed: false, valid: false, data: excerpt(text), reason: (err as Error).message });
	}
	const match = acceptValue(value, kinds, text);
	match.request.ts = now() / 1000;
	return match;
}

/**
 * Validate a parsed request: the first kind whose schema accepts it, then that kind's refusal check.
 * Throws RefusedRequestError. `text` is the raw message, for the log excerpt.
 */
export function acceptValue(value: unknown, kinds: RequestKind[], text?: string): Accepted {
	const depth = nestingDepth(value, MAX_JSON_DEPTH);
	const shownText = text ?? (depth > MAX_JSON_DEPTH ? "(too deeply nested to show)" : (JSON.stringify(value) ?? String(value)));
	if (depth > MAX_JSON_DEPTH)
		throw new RefusedRequestError("Refused request", { parsed: true, valid: false, data: excerpt(shownText), reason: `the request is nested deeper than ${MAX_JSON_DEPTH} levels` });
	const match = classify(kinds, value);
	if ("issues" in match) {
		const reasons = Object.fromEntries(Object.entries(match.issues).map(([kind, issues]) => [kind, describeIssues(issues)]));
		throw new RefusedRequestError("Did not find schema to validate request", { parsed: true, valid: false, data: excerpt(shownText), reasons });
	}
	if (match.kind.normalize) match.request = match.kind.normalize(match.request);
	const reason = match.kind.refuse?.(match.request);
	if (reason) throw new RefusedRequestError("Refused request", { parsed: true, valid: false, kind: match.kind.name, data: excerpt(shownText), reason });
	return match;
}

/** Deepest nesting accepted in a request (attrs may hold structure, but not a stack-breaking one). */
export const MAX_JSON_DEPTH = 64;

/** Nesting depth of a parsed JSON value, counted without recursion, up to `limit` + 1. */
export function nestingDepth(value: unknown, limit: number): number {
	let deepest = 0;
	const stack: Array<[unknown, number]> = [[value, 0]];
	while (stack.length) {
		const [v, d] = stack.pop()!;
		if (v === null || typeof v !== "object") continue;
		const depth = d + 1;
		if (depth > deepest) deepest = depth;
		if (deepest > limit) return deepest;
		for (const child of Array.isArray(v) ? v : Object.values(v as object)) if (child !== null && typeof child === "object") stack.push([child, depth]);
	}
	return deepest;
}

/** Hand an accepted request to its kind. Errors propagate for the caller's retry policy. */
export async function handleAccepted(accepted: Accepted, ctx: IngestContext): Promise<void> {
	await accepted.kind.handle(accepted.request, ctx);
}
