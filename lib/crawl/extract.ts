/**
 * Response decoding and link extraction for the spiders, after Scrapy's TextResponse encoding rules
 * (w3lib `html_to_unicode`) and LxmlLinkExtractor (tags a/area, attribute href) as Scrapy Cluster's
 * link spider uses it.
 *
 * Links are read by one streaming pass of htmlparser2 (the tokenizer under cheerio) without building a
 * DOM: a cheerio/parse5 tree cost about 7 ms for a 40 KB page and was the largest part of a crawler's CPU
 * (npm run bench); the stream costs about a tenth of that.
 */
import { Parser } from "htmlparser2";
import { canonicalizeUrl } from "./canonical.ts";

/** How far into the body a <meta> / XML declaration of the charset is looked for. */
const SNIFF_BYTES = 2048;
/** hrefs longer than this are skipped instead of parsed (far beyond what servers accept). */
export const MAX_HREF_LENGTH = 32768;
export const DEFAULT_MAX_LINKS = 10000;

/** A TextDecoder for `label`, or null when the label is unknown or unsupported (e.g. the "replacement" encoding). */
function decoderFor(label: string | undefined): TextDecoder | null {
	if (!label) return null;
	try {
		return new TextDecoder(label.trim());
	} catch {
		return null;
	}
}

function bomEncoding(body: Buffer): string | null {
	if (body.length >= 3 && body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf) return "utf-8";
	if (body.length >= 2 && body[0] === 0xff && body[1] === 0xfe) return "utf-16le";
	if (body.length >= 2 && body[0] === 0xfe && body[1] === 0xff) return "utf-16be";
	return null;
}

/** The charset parameter of a Content-Type header value. */
function headerCharset(contentType: string | undefined): string | undefined {
	if (!contentType) return undefined;
	return /(?:^|;)\s*charset\s*=\s*["']?\s*([^\s;"',]+)/i.exec(contentType)?.[1];
}

/** The charset declared in the first bytes: <meta charset>, <meta http-equiv content="...charset=">, <?xml encoding>. */
function declaredCharset(body: Buffer): string | undefined {
	const head = body.subarray(0, SNIFF_BYTES).toString("latin1");
	const xml = /^\s*<\?xml\s[^>]*?encoding\s*=\s*["']\s*([\w.:-]+)/i.exec(head);
	if (xml) return xml[1];
	for (const m of head.matchAll(/<meta\b[^>]*>/gi)) {
		const charset = /charset\s*=\s*["']?\s*([\w.:-]+)/i.exec(m[0]);
		if (charset) return charset[1];
	}
	return undefined;
}

/**
 * Decodes a response body. The encoding is, in order: a byte-order mark (UTF-8, UTF-16 LE/BE; it wins
 * as in w3lib and browsers, and is removed), the Content-Type charset, a charset declared in the first
 * 2048 bytes (<meta charset>, <meta http-equiv="Content-Type" content="...; charset=...">, an XML
 * declaration; a declared UTF-16 means UTF-8, as browsers read it), else UTF-8. Unknown labels are
 * skipped. Invalid byte sequences become U+FFFD; never throws. `encoding` is the WHATWG name used
 * ("utf-8", "windows-1252" for iso-8859-1/latin1/cp1252, "shift_jis", "gbk", ...).
 */
export function decodeBody(body: Buffer, contentType: string | undefined): { text: string; encoding: string } {
	const bom = bomEncoding(body);
	let decoder = decoderFor(bom ?? undefined) ?? decoderFor(headerCharset(contentType));
	if (!decoder) {
		decoder = decoderFor(declaredCharset(body));
		if (decoder && decoder.encoding.startsWith("utf-16")) decoder = null;
	}
	decoder ??= new TextDecoder("utf-8");
	try {
		return { text: decoder.decode(body), encoding: decoder.encoding };
	} catch {
		return { text: new TextDecoder("utf-8").decode(body), encoding: "utf-8" };
	}
}

/** Resolves `href` against `base` to an http(s) URL without fragment, or null. */
function resolveHttp(href: string, base: string | undefined): string | null {
	if (href.length > MAX_HREF_LENGTH) return null;
	let url: URL;
	try {
		// The WHATWG parser strips leading/trailing whitespace and drops tabs and newlines inside.
		url = base === undefined ? new URL(href) : new URL(href, base);
	} catch {
		return null;
	}
	if (url.protocol !== "http:" && url.protocol !== "https:") return null;
	url.hash = "";
	return url.href;
}

/** Whitespace runs to one space, trimmed; NUL characters dropped, as HTML parsers drop them from text. */
function collapse(text: string): string {
	return text.replaceAll("\0", "").replace(/\s+/g, " ").trim();
}

/**
 * The followable links of an HTML page: href of <a> and <area>, in document order, resolved against
 * the first <base href> (itself resolved against the page URL; ignored when invalid or not http(s)) or
 * the page URL, http(s) only (javascript:, mailto:, tel:, data:, ftp: ... dropped), fragment removed,
 * de-duplicated by canonical URL keeping the first occurrence. `text` is the anchor's text content with
 * whitespace runs collapsed to one space and trimmed ("" for <area>). At most `maxLinks` links. Never
 * throws: malformed HTML gives whatever links the HTML parser recovers.
 */
export function extractLinks(html: string, pageUrl: string, maxLinks: number = DEFAULT_MAX_LINKS): Array<{ url: string; text: string }> {
	const links: Array<{ url: string; text: string }> = [];
	if (!(maxLinks > 0)) return links;
	const { anchors, baseHref } = scanAnchors(html);
	let base: string | undefined;
	try {
		base = new URL(pageUrl).href;
	} catch {
		base = undefined;
	}
	if (baseHref !== undefined) {
		const resolved = resolveHttp(baseHref, base);
		if (resolved !== null) base = resolved;
	}
	const seen = new Set<string>();
	for (const anchor of anchors) {
		const url = resolveHttp(anchor.href, base);
		if (url === null) continue;
		const key = canonicalizeUrl(url) ?? url;
		if (seen.has(key)) continue;
		seen.add(key);
		links.push({ url, text: anchor.area ? "" : collapse(anchor.text.join("")) });
		if (links.length >= maxLinks) break;
	}
	return links;
}

interface RawAnchor {
	href: string;
	area: boolean;
	text: string[];
}

/**
 * The raw hrefs of <a> and <area> in document order with the text inside each <a>, and the first
 * <base href> (wherever it is: the base applies to the whole document). An <a> ends at its </a>, at the
 * next <a> (as HTML parsers do: anchors do not nest) or at the end of the input.
 */
function scanAnchors(html: string): { anchors: RawAnchor[]; baseHref: string | undefined } {
	const anchors: RawAnchor[] = [];
	let baseHref: string | undefined;
	let open: RawAnchor | null = null;
	const parser = new Parser(
		{
			onopentag(name, attribs) {
				if (name === "a") {
					open = null;
					if (attribs.href !== undefined) {
						open = { href: attribs.href, area: false, text: [] };
						anchors.push(open);
					}
				} else if (name === "area") {
					if (attribs.href !== undefined) anchors.push({ href: attribs.href, area: true, text: [] });
				} else if (name === "base") {
					if (baseHref === undefined && attribs.href !== undefined) baseHref = attribs.href;
				}
			},
			ontext(text) {
				open?.text.push(text);
			},
			onclosetag(name) {
				if (name === "a") open = null;
			}
		},
		{ decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true }
	);
	try {
		parser.end(html);
	} catch {
		// Tokenizer failure on pathological input: keep what was found so far.
	}
	return { anchors, baseHref };
}
