/**
 * The page fetcher: one GET with its redirects, over a pooled keep-alive undici Agent.
 * - Redirects (301/302/303/307/308 with a Location) are followed here, relative to the current URL, up to
 *   maxRedirects; `redirects` lists the URLs that answered with a redirect (Scrapy's redirect_urls).
 *   A redirect to a non-HTTP(S) or unparsable Location is not followed: the 3xx is the result (as Scrapy).
 * - One deadline of timeoutMs covers the whole fetch, every hop and the body read, so a slow-drip body
 *   is cut at the deadline (FetchError "timeout").
 * - Bodies are decoded (gzip, deflate, br) while streaming; maxBodyBytes caps both the raw and the decoded
 *   size (zip bombs): on overflow reading stops and the body read so far comes back with truncated=true.
 *   A body that does not decode comes back as far as it decoded, or raw when nothing decoded.
 * - No cookie jar: a Cookie header goes out only when the request carries one, and never to another host
 *   after a redirect.
 * - HTTP error statuses are results. Network failures (refused, reset, DNS, TLS, timeouts) are FetchError,
 *   which is a TransientError (retryable); a URL that is not HTTP(S) or an invalid header is a
 *   RefusedRequestError.
 */
import type { Readable, Transform } from "node:stream";
import zlib from "node:zlib";
import { Agent } from "undici";
import { RefusedRequestError, TransientError } from "../errors.ts";

export interface FetchOptions {
	/** Overall deadline of one fetch in ms: connect, every redirect hop and the body read. */
	timeoutMs: number;
	/** Cap of the body, raw and decoded. */
	maxBodyBytes: number;
	maxRedirects: number;
	userAgent: string;
	/** Verify TLS certificates (default false: Scrapy's default context factory does not verify either). */
	verifyTls?: boolean;
	/** Keep-alive connections per origin (default 16). */
	connectionsPerOrigin?: number;
}

export interface FetchRequest {
	url: string;
	/** Extra or overriding request headers (a User-Agent here wins over FetchOptions.userAgent). */
	headers?: Record<string, string>;
	/** Value of the Cookie header; sent only when given. */
	cookie?: string | null;
}

export interface FetchResult {
	/** The URL requested (first). */
	url: string;
	/** The final URL after redirects. */
	responseUrl: string;
	status: number;
	/** Header name as received -> values; a header received several times (Set-Cookie) keeps each value. */
	responseHeaders: Record<string, string[]>;
	/** What was sent on the final request, name -> [value]. */
	requestHeaders: Record<string, string[]>;
	/** The decoded body, at most maxBodyBytes. */
	body: Buffer;
	/** The body was cut at maxBodyBytes. */
	truncated: boolean;
	/** URLs that answered with a redirect, in order (the first is the requested URL, when there were any). */
	redirects: string[];
}

export type FetchErrorCode = "timeout" | "connection" | "dns" | "tls" | "protocol" | "too_many_redirects" | "aborted" | "closed";

/** A fetch that failed for a reason that may pass (network, timeout, redirect loop); retryable. */
export class FetchError extends TransientError {
	readonly code: FetchErrorCode;
	readonly url: string;
	constructor(code: FetchErrorCode, url: string, message: string, cause?: unknown) {
		super(`${code}: ${message} (${url})`);
		this.code = code;
		this.url = url;
		if (cause !== undefined) this.cause = cause;
	}
}

export const DEFAULT_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** Headers undici refuses or manages itself; dropped from request overrides. */
const MANAGED_HEADERS = new Set(["host", "connection", "keep-alive", "transfer-encoding", "content-length", "upgrade", "expect", "te", "trailer", "proxy-connection"]);
/** Headers that never follow a redirect to another host. */
const CREDENTIAL_HEADERS = new Set(["cookie", "authorization", "proxy-authorization"]);
const REDIRECT_BODY_DUMP_LIMIT = 64 * 1024;

type StopReason = "timeout" | "aborted" | "closed";

export class Fetcher {
	private readonly opts: FetchOptions;
	private readonly agent: Agent;
	private readonly inflight = new Set<(why: StopReason) => void>();
	private closed = false;

	constructor(opts: FetchOptions) {
		if (!(opts.timeoutMs > 0) || !(opts.maxBodyBytes >= 0) || !(opts.maxRedirects >= 0)) {
			throw new RangeError("Fetcher needs timeoutMs > 0, maxBodyBytes >= 0 and maxRedirects >= 0");
		}
		this.opts = opts;
		this.agent = new Agent({
			// undici 8 negotiates HTTP/2 over TLS by default; HTTP/1.1 only, as Scrapy, keeps header names as sent.
			allowH2: false,
			connections: opts.connectionsPerOrigin ?? 16,
			pipelining: 1,
			keepAliveTimeout: 4_000,
			keepAliveMaxTimeout: 30_000,
			headersTimeout: opts.timeoutMs,
			bodyTimeout: opts.timeoutMs,
			connect: { timeout: Math.min(opts.timeoutMs, 30_000), rejectUnauthorized: opts.verifyTls ?? false }
		});
	}

	async fetch(req: FetchRequest, signal?: AbortSignal): Promise<FetchResult> {
		const first = parseHttpUrl(req.url);
		if (this.closed) throw new FetchError("closed", req.url, "the fetcher is closed");
		const deadline = new AbortController();
		let why: StopReason | null = null;
		const stop = (reason: StopReason): void => {
			if (why) return;
			why = reason;
			deadline.abort(new FetchError(reason, req.url, reason === "timeout" ? `no complete response within ${this.opts.timeoutMs} ms` : `fetch ${reason}`));
		};
		const timer = setTimeout(() => stop("timeout"), this.opts.timeoutMs);
		const onAbort = (): void => stop("aborted");
		if (signal?.aborted) stop("aborted");
		else signal?.addEventListener("abort", onAbort, { once: true });
		this.inflight.add(stop);

		let current = first;
		try {
			const redirects: string[] = [];
			for (;;) {
				const sameHost = current.host === first.host && !(first.protocol === "https:" && current.protocol === "http:");
				const headers = this.requestHeaders(req, sameHost);
				const res = await this.agent.request({
					origin: current.origin,
					path: current.pathname + current.search,
					method: "GET",
					headers: Object.fromEntries(headers),
					signal: deadline.signal,
					responseHeaders: "raw"
				});
				const responseHeaders = headerLists(res.headers as unknown);
				const location = REDIRECT_STATUSES.has(res.statusCode) ? headerValue(responseHeaders, "location") : undefined;
				const target = location === undefined ? null : redirectTarget(location, current);
				if (target) {
					await res.body.dump({ limit: REDIRECT_BODY_DUMP_LIMIT, signal: deadline.signal }).catch(() => undefined);
					if (redirects.length >= this.opts.maxRedirects) {
						throw new FetchError("too_many_redirects", req.url, `more than ${this.opts.maxRedirects} redirects`);
					}
					redirects.push(current.href);
					current = target;
					continue;
				}
				const encodings = (headerValue(responseHeaders, "content-encoding") ?? "").split(",").map(s => s.trim().toLowerCase()).filter(s => s && s !== "identity");
				const { body, truncated } = await readBody(res.body, encodings, this.opts.maxBodyBytes, deadline.signal);
				return {
					url: req.url,
					responseUrl: current.href,
					status: res.statusCode,
					responseHeaders,
					requestHeaders: Object.fromEntries(headers.map(([k, v]) => [k, [v]])),
					body,
					truncated,
					redirects
				};
			}
		} catch (err) {
			const at = current.href === first.href ? "" : ` at ${current.href}`;
			throw classify(err, why, req.url, at, this.opts.timeoutMs);
		} finally {
			clearTimeout(timer);
			signal?.removeEventListener("abort", onAbort);
			this.inflight.delete(stop);
		}
	}

	/** Abort fetches in flight (FetchError "closed") and close the pooled connections. */
	async close(): Promise<void> {
		if (this.closed) return;
		this.closed = true;
		for (const stop of [...this.inflight]) stop("closed");
		await this.agent.close();
	}

	private requestHeaders(req: FetchRequest, sameHost: boolean): Array<[string, string]> {
		const headers = new Map<string, [string, string]>();
		const set = (name: string, value: string): void => void headers.set(name.toLowerCase(), [name, value]);
		set("User-Agent", this.opts.userAgent);
		set("Accept", DEFAULT_ACCEPT);
		set("Accept-Language", "en");
		set("Accept-Encoding", "gzip, deflate, br");
		for (const [name, value] of Object.entries(req.headers ?? {})) {
			const lower = name.toLowerCase();
			if (MANAGED_HEADERS.has(lower) || typeof value !== "string") continue;
			headers.delete(lower);
			set(name, value);
		}
		if (req.cookie) set("Cookie", req.cookie);
		if (!sameHost) for (const name of CREDENTIAL_HEADERS) headers.delete(name);
		return [...headers.values()];
	}
}

function parseHttpUrl(url: string): URL {
	let parsed: URL;
	try {
		parsed = new URL(url);
	} catch {
		throw new RefusedRequestError(`not a valid URL: ${url}`, { url, code: "invalid_url" });
	}
	if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
		throw new RefusedRequestError(`only http and https URLs can be fetched: ${url}`, { url, code: "unsupported_scheme" });
	}
	return parsed;
}

function redirectTarget(location: string, base: URL): URL | null {
	try {
		const target = new URL(location, base);
		if (target.protocol !== "http:" && target.protocol !== "https:") return null;
		target.hash = "";
		return target;
	} catch {
		return null;
	}
}

/** undici's raw header list [name, value, ...] -> name (first spelling seen) -> values. */
function headerLists(raw: unknown): Record<string, string[]> {
	const pairs: Array<[string, string]> = [];
	if (Array.isArray(raw)) {
		for (let i = 0; i + 1 < raw.length; i += 2) pairs.push([String(raw[i]), String(raw[i + 1])]);
	} else if (raw && typeof raw === "object") {
		for (const [name, value] of Object.entries(raw)) {
			for (const v of Array.isArray(value) ? value : [value]) if (v !== undefined) pairs.push([name, String(v)]);
		}
	}
	const out: Record<string, string[]> = {};
	const spelling = new Map<string, string>();
	for (const [name, value] of pairs) {
		const lower = name.toLowerCase();
		const key = spelling.get(lower) ?? name;
		spelling.set(lower, key);
		(out[key] ??= []).push(value);
	}
	return out;
}

function headerValue(headers: Record<string, string[]>, name: string): string | undefined {
	for (const [key, values] of Object.entries(headers)) if (key.toLowerCase() === name) return values.join(", ");
	return undefined;
}

const TIMEOUT_CODES = new Set(["UND_ERR_CONNECT_TIMEOUT", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT", "ETIMEDOUT", "ESOCKETTIMEDOUT"]);
const DNS_CODES = new Set(["ENOTFOUND", "EAI_AGAIN", "EAI_NONAME", "EAI_FAIL", "EAI_NODATA", "EAI_ADDRFAMILY"]);
const PROTOCOL_CODES = new Set(["UND_ERR_HEADERS_OVERFLOW", "UND_ERR_RES_CONTENT_LENGTH_MISMATCH", "UND_ERR_INFO", "UND_ERR_RESPONSE", "UND_ERR_NOT_SUPPORTED"]);
const REFUSED_CODES = new Set(["UND_ERR_INVALID_ARG", "ERR_INVALID_URL", "ERR_INVALID_HTTP_TOKEN", "ERR_INVALID_CHAR"]);

function errorCodes(err: unknown): string[] {
	const codes: string[] = [];
	const seen = new Set<unknown>();
	const visit = (e: unknown, depth: number): void => {
		if (!e || typeof e !== "object" || seen.has(e) || depth > 4) return;
		seen.add(e);
		const code = (e as { code?: unknown }).code;
		if (typeof code === "string") codes.push(code);
		visit((e as { cause?: unknown }).cause, depth + 1);
		const inner = (e as { errors?: unknown }).errors;
		if (Array.isArray(inner)) for (const x of inner.slice(0, 4)) visit(x, depth + 1);
	};
	visit(err, 0);
	return codes;
}

/** The error a failed fetch ends with; `url` is the URL requested, `at` names the redirect hop, if any. */
function classify(err: unknown, why: StopReason | null, url: string, at: string, timeoutMs: number): Error {
	if (why === "timeout") return new FetchError("timeout", url, `no complete response within ${timeoutMs} ms${at}`, err);
	if (why) return new FetchError(why, url, `${why === "closed" ? "the fetcher was closed" : "the fetch was aborted"}${at}`, err);
	if (err instanceof FetchError || err instanceof RefusedRequestError) return err;
	const message = `${err instanceof Error ? err.message : String(err)}${at}`;
	const codes = errorCodes(err);
	const has = (set: Set<string>): boolean => codes.some(c => set.has(c));
	if (has(REFUSED_CODES)) return new RefusedRequestError(`request cannot be sent: ${message}`, { url, code: codes[0] });
	if (has(TIMEOUT_CODES)) return new FetchError("timeout", url, message, err);
	if (has(DNS_CODES)) return new FetchError("dns", url, message, err);
	if (codes.some(c => c.startsWith("HPE_")) || has(PROTOCOL_CODES)) return new FetchError("protocol", url, message, err);
	if (codes.some(c => /^(ERR_TLS|ERR_SSL|CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|ERR_OSSL)/.test(c))) return new FetchError("tls", url, message, err);
	return new FetchError("connection", url, message, err);
}

interface BodyRead {
	body: Buffer;
	truncated: boolean;
}

async function readBody(stream: Readable, encodings: string[], max: number, signal: AbortSignal): Promise<BodyRead> {
	const known = encodings.length > 0 && encodings.every(e => e === "gzip" || e === "x-gzip" || e === "deflate" || e === "br");
	return known ? readDecoded(stream, encodings, max, signal) : readRaw(stream, max);
}

async function readRaw(stream: Readable, max: number): Promise<BodyRead> {
	const chunks: Buffer[] = [];
	let size = 0;
	for await (const chunk of stream as AsyncIterable<Buffer>) {
		if (chunk.length > max - size) {
			chunks.push(chunk.subarray(0, max - size));
			return { body: Buffer.concat(chunks, max), truncated: true };
		}
		chunks.push(chunk);
		size += chunk.length;
	}
	return { body: Buffer.concat(chunks, size), truncated: false };
}

/** zlib (RFC 1950) header, as opposed to raw deflate that some servers send as "deflate". */
function isZlibHeader(chunk: Buffer): boolean {
	const a = chunk[0];
	const b = chunk[1];
	if (a === undefined || b === undefined) return true;
	return (a & 0x0f) === 8 && a >> 4 <= 7 && ((a << 8) | b) % 31 === 0;
}

function decoderFor(encoding: string, firstChunk: Buffer | null): Transform {
	const { constants } = zlib;
	if (encoding === "br") return zlib.createBrotliDecompress({ finishFlush: constants.BROTLI_OPERATION_FLUSH });
	if (encoding === "deflate") {
		return firstChunk && !isZlibHeader(firstChunk) ? zlib.createInflateRaw({ finishFlush: constants.Z_SYNC_FLUSH }) : zlib.createInflate({ finishFlush: constants.Z_SYNC_FLUSH });
	}
	// Z_SYNC_FLUSH at the end: a cut stream gives what it decoded so far instead of an error.
	return zlib.createGunzip({ finishFlush: constants.Z_SYNC_FLUSH });
}

/** A chain of streaming decoders whose output is counted against max as it comes. */
class DecodeChain {
	readonly out: Buffer[] = [];
	size = 0;
	overflow = false;
	failed: Error | null = null;
	stopped = false;
	readonly settled: Promise<void>;
	private readonly stages: Transform[];
	private readonly max: number;
	private settle!: () => void;

	constructor(encodings: string[], firstChunk: Buffer, max: number) {
		this.max = max;
		this.settled = new Promise<void>(resolve => (this.settle = resolve));
		// Content-Encoding lists codings in the order applied: undo them last first.
		const order = [...encodings].reverse();
		this.stages = order.map((e, i) => decoderFor(e, i === 0 ? firstChunk : null));
		for (let i = 0; i < this.stages.length; i++) {
			const stage = this.stages[i]!;
			stage.on("error", (err: Error) => this.fail(err));
			const next = this.stages[i + 1];
			if (next) stage.pipe(next);
		}
		const last = this.stages[this.stages.length - 1]!;
		last.on("data", (chunk: Buffer) => this.take(chunk));
		last.on("end", () => this.finish());
		last.on("close", () => this.finish());
	}

	/** Feed raw bytes, waiting while the first decoder is full. */
	async write(chunk: Buffer): Promise<void> {
		const first = this.stages[0]!;
		if (this.stopped || first.write(chunk)) return;
		await new Promise<void>(resolve => {
			// finish() destroys every stage, so an overflow or failure downstream also wakes this ("close").
			const done = (): void => {
				first.off("drain", done);
				first.off("close", done);
				resolve();
			};
			first.on("drain", done);
			first.on("close", done);
		});
	}

	end(): void {
		if (!this.stopped) this.stages[0]!.end();
	}

	destroy(): void {
		this.finish();
	}

	private take(chunk: Buffer): void {
		if (this.stopped) return;
		const room = this.max - this.size;
		if (chunk.length > room) {
			if (room > 0) this.out.push(chunk.subarray(0, room));
			this.size = this.max;
			this.overflow = true;
			this.finish();
			return;
		}
		this.out.push(chunk);
		this.size += chunk.length;
	}

	private fail(err: Error): void {
		if (!this.stopped) this.failed = err;
		this.finish();
	}

	private finish(): void {
		if (this.stopped) return;
		this.stopped = true;
		for (const stage of this.stages) {
			stage.on("error", () => undefined);
			stage.destroy();
		}
		this.settle();
	}
}

async function readDecoded(stream: Readable, encodings: string[], max: number, signal: AbortSignal): Promise<BodyRead> {
	// Raw bytes are kept until the first decoded byte, to give the raw body back when nothing decodes.
	let raw: Buffer[] | null = [];
	let rawSize = 0;
	let rawOverflow = false;
	let chain: DecodeChain | null = null;
	const onAbort = (): void => chain?.destroy();
	signal.addEventListener("abort", onAbort, { once: true });
	try {
		for await (const chunk of stream as AsyncIterable<Buffer>) {
			if (chunk.length === 0) continue;
			let piece = chunk;
			if (piece.length > max - rawSize) {
				piece = piece.subarray(0, max - rawSize);
				rawOverflow = true;
			}
			rawSize += piece.length;
			if (raw && chain && chain.size > 0) raw = null;
			raw?.push(piece);
			chain ??= new DecodeChain(encodings, piece, max);
			if (piece.length > 0) await chain.write(piece);
			if (rawOverflow || chain.stopped) break;
		}
		if (!chain) return { body: Buffer.alloc(0), truncated: false };
		chain.end();
		await chain.settled;
		if (signal.aborted) throw signal.reason;
		if (chain.size === 0 && chain.failed && raw) return { body: Buffer.concat(raw, rawSize), truncated: rawOverflow };
		return { body: Buffer.concat(chain.out, chain.size), truncated: chain.overflow || rawOverflow };
	} finally {
		signal.removeEventListener("abort", onAbort);
		chain?.destroy();
		if (!stream.destroyed) stream.destroy();
	}
}
