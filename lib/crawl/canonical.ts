/**
 * URL canonicalisation and request fingerprints for the dupefilter, after w3lib's `canonicalize_url`
 * and Scrapy's `request_fingerprint` as Scrapy Cluster's scheduler uses them:
 *   fingerprint = sha1(METHOD + canonical URL + body), hex.
 *
 * The URL is parsed with the WHATWG parser (`new URL`), then, like w3lib:
 *   - scheme and host lowercase (IDN hosts in punycode), userinfo kept as given;
 *   - fragment dropped; empty path -> "/";
 *   - path: percent-escapes decoded to bytes and re-encoded with one safe set, so "%7e", "%7E" and "~"
 *     are the same and escapes come out upper-case; "%2F" and "%3F" stay escaped (they are not "/" or "?");
 *   - ";params" of the last path segment are only escaped, not decoded (Python's urlparse splits them off);
 *   - query: split on "&" (not ";", as in w3lib 2.x), "+" read as a space, escapes decoded to bytes, blank values kept
 *     ("a" -> "a="), pairs sorted by key then value (bytewise), re-encoded as urlencode does (space -> "+",
 *     only [A-Za-z0-9_.~-] left unescaped); an empty query disappears.
 * Differences from w3lib, all from the WHATWG parser or on purpose: default ports (80/443) are dropped,
 * dot segments ("/a/../b") are resolved, backslashes count as slashes, IPv4 hosts in other notations
 * (0x7f.1) are normalised. Checked against w3lib 2.5: same output for the cases in the unit tests.
 */
import { createHash } from "node:crypto";
import { Recent, RECENT_URLS } from "./recent.ts";

const HEX = "0123456789ABCDEF";

/** RFC 3986 unreserved characters: never escaped anywhere. */
const UNRESERVED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
/** w3lib's `_path_safe_chars` (reserved minus "#", unreserved, "|"), without "%": a decoded "%25" is escaped again. */
const PATH_SAFE = new Set((UNRESERVED + ":/?[]@!$&'()*+,;=|").split("").map(c => c.charCodeAt(0)));
const PARAMS_SAFE = new Set([...PATH_SAFE, 37, 35]);
/** Python's `quote_plus` safe set as `urlencode` uses it. */
const QUERY_SAFE = new Set(UNRESERVED.split("").map(c => c.charCodeAt(0)));

function hexValue(code: number): number {
	if (code >= 48 && code <= 57) return code - 48;
	if (code >= 65 && code <= 70) return code - 55;
	if (code >= 97 && code <= 102) return code - 87;
	return -1;
}

/** Percent-decodes to raw bytes; invalid escapes stay literal. Characters above 0x7f are UTF-8 encoded first. */
function unquoteToBytes(s: string): number[] {
	const bytes = [...Buffer.from(s, "utf8")];
	const out: number[] = [];
	for (let i = 0; i < bytes.length; i++) {
		const b = bytes[i] as number;
		if (b === 37 && i + 2 < bytes.length) {
			const h = hexValue(bytes[i + 1] as number);
			const l = hexValue(bytes[i + 2] as number);
			if (h >= 0 && l >= 0) {
				out.push(h * 16 + l);
				i += 2;
				continue;
			}
		}
		out.push(b);
	}
	return out;
}

function quoteBytes(bytes: Iterable<number>, safe: ReadonlySet<number>, spaceAsPlus = false): string {
	let out = "";
	for (const b of bytes) {
		if (safe.has(b)) out += String.fromCharCode(b);
		else if (spaceAsPlus && b === 32) out += "+";
		else out += "%" + HEX[b >> 4] + HEX[b & 15];
	}
	return out;
}

/** w3lib quotes ";params" without decoding them first: "%" is left alone. */
function quoteParams(s: string): string {
	return quoteBytes(Buffer.from(s, "utf8"), PARAMS_SAFE);
}

/** Decodes each escape and re-escapes byte by byte with one safe set; "%2F" and "%3F" stay escaped. */
function normalisePathEscapes(path: string): string {
	const bytes = Buffer.from(path, "utf8");
	let out = "";
	for (let i = 0; i < bytes.length; i++) {
		const b = bytes[i] as number;
		if (b === 37 && i + 2 < bytes.length) {
			const h = hexValue(bytes[i + 1] as number);
			const l = hexValue(bytes[i + 2] as number);
			if (h >= 0 && l >= 0) {
				const decoded = h * 16 + l;
				out += decoded === 0x2f || decoded === 0x3f ? "%" + HEX[h] + HEX[l] : quoteBytes([decoded], PATH_SAFE);
				i += 2;
				continue;
			}
		}
		// A "%" that starts no escape stays as it is (w3lib); a decoded "%25" is re-escaped above.
		out += b === 37 ? "%" : quoteBytes([b], PATH_SAFE);
	}
	return out;
}

function canonicalPath(pathname: string): string {
	// Python's urlparse takes ";params" off the last segment only; w3lib escapes them without decoding.
	const lastSlash = pathname.lastIndexOf("/");
	const semi = pathname.indexOf(";", lastSlash + 1);
	if (semi < 0) return normalisePathEscapes(pathname) || "/";
	return `${normalisePathEscapes(pathname.slice(0, semi)) || "/"};${quoteParams(pathname.slice(semi + 1))}`;
}

function compareBytes(a: Buffer, b: Buffer): number {
	return Buffer.compare(a, b);
}

function canonicalQuery(search: string): string {
	const query = search.startsWith("?") ? search.slice(1) : search;
	if (!query) return "";
	const pairs: Array<[Buffer, Buffer]> = [];
	for (const field of query.split("&")) {
		if (!field) continue;
		const eq = field.indexOf("=");
		const name = eq >= 0 ? field.slice(0, eq) : field;
		const value = eq >= 0 ? field.slice(eq + 1) : "";
		pairs.push([Buffer.from(unquoteToBytes(name.replaceAll("+", " "))), Buffer.from(unquoteToBytes(value.replaceAll("+", " ")))]);
	}
	pairs.sort((x, y) => compareBytes(x[0], y[0]) || compareBytes(x[1], y[1]));
	return pairs.map(([k, v]) => `${quoteBytes(k, QUERY_SAFE, true)}=${quoteBytes(v, QUERY_SAFE, true)}`).join("&");
}

export { RECENT_URLS };
const canonicalForms = new Recent<string | null>(RECENT_URLS);
const getFingerprints = new Recent<string>(RECENT_URLS);

/**
 * The canonical form of an http(s) URL (see the module note), or null when the URL does not parse or
 * has another scheme. The last RECENT_URLS answers are remembered.
 */
export function canonicalizeUrl(url: string): string | null {
	return canonicalForms.get(url, canonicalize);
}

function canonicalize(url: string): string | null {
	let parsed: URL;
	try {
		parsed = new URL(url.trim());
	} catch {
		return null;
	}
	if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return null;
	if (!parsed.hostname) return null;
	const userinfo = parsed.username || parsed.password ? `${parsed.username}${parsed.password ? ":" + parsed.password : ""}@` : "";
	const port = parsed.port ? `:${parsed.port}` : "";
	const query = canonicalQuery(parsed.search);
	return `${parsed.protocol}//${userinfo}${parsed.hostname.toLowerCase()}${port}${canonicalPath(parsed.pathname)}${query ? "?" + query : ""}`;
}

/**
 * Scrapy's `request_fingerprint` (no headers): the hex SHA1 of the upper-cased method, the canonical URL
 * and the body (strings as UTF-8). A URL that cannot be canonicalised is hashed as given, trimmed.
 */
export function requestFingerprint(method: string, url: string, body?: string | Buffer): string {
	// Links are followed with GET and no body: those fingerprints are remembered.
	if (method === "GET" && body === undefined) return getFingerprints.get(url, u => fingerprint("GET", u));
	return fingerprint(method, url, body);
}

function fingerprint(method: string, url: string, body?: string | Buffer): string {
	const hash = createHash("sha1");
	hash.update(method.toUpperCase(), "utf8");
	hash.update(canonicalizeUrl(url) ?? url.trim(), "utf8");
	if (body !== undefined) hash.update(typeof body === "string" ? Buffer.from(body, "utf8") : body);
	return hash.digest("hex");
}
