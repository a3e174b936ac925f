/**
 * Which extracted links the link spider follows: the filters of Scrapy's LinkExtractor as Scrapy
 * Cluster's crawl request fields configure them (`allowed_domains`, `allow_regex`, `deny_regex`,
 * `deny_extensions`). A link is followed when all of these hold:
 *   - its scheme is http or https;
 *   - allowed_domains (when non-empty): the host equals an entry or is a subdomain of it,
 *     case-insensitively. Unlike Scrapy, which compares the netloc (host AND port) and so needs
 *     "127.0.0.1:8080" for a site on port 8080, the host is compared without its port, and an entry
 *     with a port also matches "host:port" (the scheme's default port when the URL has none), so both
 *     "127.0.0.1" and "127.0.0.1:8080" allow http://127.0.0.1:8080/x;
 *   - allow_regex (when non-empty): at least one pattern matches somewhere in the URL (Python re.search);
 *   - deny_regex: no pattern matches (deny wins over allow);
 *   - deny_extensions (null -> Scrapy's IGNORED_EXTENSIONS): the last extension of the URL path
 *     (posixpath.splitext, lower-cased, ";params" ignored) is not listed. As in Scrapy, a two-part entry
 *     such as "tar.gz" never matches, since only the last extension (".gz") is compared.
 * Patterns are JavaScript regular expressions; the Python-only spellings `(?P<name>...)`, `(?P=name)`
 * and leading global flags `(?i)`, `(?m)`, `(?s)` (also `a`, `u`, `L`, which change nothing here) are
 * translated.
 */
import { domainToASCII } from "node:url";

/** Scrapy 2.x `scrapy.linkextractors.IGNORED_EXTENSIONS`, without the dots. */
export const DEFAULT_DENY_EXTENSIONS: readonly string[] = Object.freeze([
	// archives
	"7z", "7zip", "bz2", "rar", "tar", "tar.gz", "xz", "zip",
	// images
	"mng", "pct", "bmp", "gif", "jpg", "jpeg", "png", "pst", "psp", "tif", "tiff", "ai", "drw", "dxf", "eps", "ps", "svg", "cdr", "ico", "webp",
	// audio
	"mp3", "wma", "ogg", "wav", "ra", "aac", "mid", "au", "aiff",
	// video
	"3gp", "asf", "asx", "avi", "mov", "mp4", "mpg", "qt", "rm", "swf", "wmv", "m4a", "m4v", "flv", "webm",
	// office suites
	"xls", "xlsm", "xlsx", "xltm", "xltx", "potm", "potx", "ppt", "pptm", "pptx", "pps", "doc", "docb", "docm", "docx", "dotm", "dotx", "odt", "ods", "odg", "odp",
	// other
	"css", "pdf", "exe", "bin", "rss", "dmg", "iso", "apk", "jar", "sh", "rb", "js", "hta", "bat", "cpl", "msi", "msp", "py"
]);

/** The crawl request fields that configure link following; null means no restriction (see the module note). */
export interface LinkFilterOptions {
	allowed_domains: string[] | null;
	allow_regex: string[] | null;
	deny_regex: string[] | null;
	deny_extensions: string[] | null;
}

const DEFAULT_PORTS: Readonly<Record<string, string>> = { "http:": "80", "https:": "443" };

/** Compiles a (possibly Python-flavoured) pattern; throws an Error naming it when it is not valid. */
function compilePattern(pattern: string, field: string): RegExp {
	let source = pattern;
	let flags = "";
	const leading = /^\(\?([aiLmsux]+)\)/.exec(source);
	if (leading) {
		const pyFlags = leading[1] as string;
		if (pyFlags.includes("x")) throw new Error(`${field}: invalid regular expression ${JSON.stringify(pattern)}: verbose flag (?x) is not supported`);
		for (const f of "ims") if (pyFlags.includes(f)) flags += f;
		source = source.slice(leading[0].length);
	}
	source = source.replace(/\(\?P</g, "(?<").replace(/\(\?P=(\w+)\)/g, "\\k<$1>");
	try {
		return new RegExp(source, flags);
	} catch (err) {
		throw new Error(`${field}: invalid regular expression ${JSON.stringify(pattern)}: ${(err as Error).message}`);
	}
}

/** Normalises an allowed_domains entry: lower case, IDN to punycode, bare IPv6 in brackets. */
function normaliseDomain(entry: string): string {
	let d = entry.trim().toLowerCase();
	if (!d) return d;
	if (!d.startsWith("[") && (d.match(/:/g)?.length ?? 0) > 1) return `[${d}]`;
	if (/[^\x00-\x7f]/.test(d)) {
		const m = /^(.*?)(:\d+)?$/.exec(d);
		const host = m?.[1] ?? d;
		const ascii = domainToASCII(host);
		if (ascii) d = ascii + (m?.[2] ?? "");
	}
	return d;
}

function matchesDomain(host: string, d: string): boolean {
	return host === d || host.endsWith("." + d);
}

/** The last extension of a URL path as posixpath.splitext gives it, lower-cased, with the dot ("" if none). */
export function pathExtension(pathname: string): string {
	const base = pathname.slice(pathname.lastIndexOf("/") + 1);
	const semi = base.indexOf(";");
	const name = semi >= 0 ? base.slice(0, semi) : base;
	const dot = name.lastIndexOf(".");
	if (dot <= 0) return "";
	// A name made only of leading dots before the last one (".bashrc", "..x") has no extension.
	for (let i = 0; i < dot; i++) if (name[i] !== ".") return name.slice(dot).toLowerCase();
	return "";
}

/** Builds the predicate "may this link be followed?" (see the module note). Throws on an invalid pattern. */
export function compileLinkFilter(opts: LinkFilterOptions): (url: string) => boolean {
	const allow = (opts.allow_regex ?? []).map(p => compilePattern(p, "allow_regex"));
	const deny = (opts.deny_regex ?? []).map(p => compilePattern(p, "deny_regex"));
	const domains = (opts.allowed_domains ?? []).map(normaliseDomain).filter(d => d.length > 0);
	const restrictDomains = (opts.allowed_domains ?? []).length > 0;
	const denyExtensions = new Set(
		(opts.deny_extensions ?? DEFAULT_DENY_EXTENSIONS).map(e => e.trim().toLowerCase()).filter(e => e.length > 0).map(e => (e.startsWith(".") ? e : "." + e))
	);

	return (url: string): boolean => {
		let parsed: URL;
		try {
			parsed = new URL(url);
		} catch {
			return false;
		}
		const defaultPort = DEFAULT_PORTS[parsed.protocol];
		if (defaultPort === undefined) return false;
		if (allow.length > 0 && !allow.some(re => re.test(url))) return false;
		if (deny.some(re => re.test(url))) return false;
		if (restrictDomains) {
			const host = parsed.hostname.toLowerCase();
			const hostPort = `${host}:${parsed.port || defaultPort}`;
			if (!domains.some(d => matchesDomain(host, d) || matchesDomain(hostPort, d))) return false;
		}
		if (denyExtensions.size > 0 && denyExtensions.has(pathExtension(parsed.pathname))) return false;
		return true;
	};
}

/** Compiled filters kept by linkFilterFor (requests of one crawl share their options). */
const FILTER_CACHE_SIZE = 256;
const filterCache = new Map<string, (url: string) => boolean>();

/**
 * compileLinkFilter, remembered for the last FILTER_CACHE_SIZE distinct option sets: a crawler compiles a
 * crawl's patterns and extension list once, not once per page. Throws on an invalid pattern (not cached).
 */
export function linkFilterFor(opts: LinkFilterOptions): (url: string) => boolean {
	const key = JSON.stringify([opts.allowed_domains ?? null, opts.allow_regex ?? null, opts.deny_regex ?? null, opts.deny_extensions ?? null]);
	let filter = filterCache.get(key);
	if (!filter) {
		filter = compileLinkFilter(opts);
		filterCache.set(key, filter);
		if (filterCache.size > FILTER_CACHE_SIZE) filterCache.delete(filterCache.keys().next().value!);
	}
	return filter;
}
