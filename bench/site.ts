/**
 * The benchmark's generated website, as pure functions (served by bench/site-server.ts).
 *
 * Deterministic: the same spec gives the same pages byte for byte. Page k (0 <= k < pages) lives on host
 * k mod hosts, at /p/k; pages 0 .. hosts-1 (the "/p/0" of each host) are the seeds. Every page links to
 * its tree children k*FANOUT+1 .. k*FANOUT+FANOUT (so every page is reachable from page 0), then to random
 * pages until it has between minLinks and maxLinks page links, each with anchor text, spread through
 * 20-60 KB (minBytes..maxBytes) of paragraphs. Besides those: a link to an image (.jpg, denied by
 * extension), a mailto:, a fragment link to itself and a relative link to an earlier page of the same host,
 * the way real pages mix links the spider must drop or de-duplicate. Hosts are distinct loopback
 * addresses (127.0.0.1, 127.0.0.2, ...), so each is its own registered domain (its own queue and throttle).
 */

export interface SiteSpec {
	pages: number;
	hosts: number;
	seed: number;
	minBytes: number;
	maxBytes: number;
	minLinks: number;
	maxLinks: number;
}

/**
 * 6000 pages: at the cluster's 1,300-1,500 pages/s a crawl lasts about 4 s, long enough that the start (one
 * seed per host, a few pages per level) and the tail weigh little, as in a real crawl of any size.
 */
export const DEFAULT_SITE: SiteSpec = { pages: 6000, hosts: 4, seed: 8, minBytes: 20_000, maxBytes: 60_000, minLinks: 20, maxLinks: 60 };

/** Tree children per page: page k links to k*FANOUT+1 .. k*FANOUT+FANOUT. */
export const FANOUT = 4;

/** mulberry32: a small, fast, seeded PRNG giving floats in [0, 1). */
export function prng(seed: number): () => number {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

const pageRng = (spec: SiteSpec, k: number) => prng((spec.seed * 0x9e3779b1) ^ Math.imul(k + 1, 0x85ebca6b));

/** The loopback address of host i (0-based): 127.0.0.(i+1). */
export const hostAddress = (i: number): string => `127.0.0.${i + 1}`;

export const hostOf = (spec: SiteSpec, k: number): number => k % spec.hosts;

export function pageUrl(spec: SiteSpec, port: number, k: number): string {
	return `http://${hostAddress(hostOf(spec, k))}:${port}/p/${k}`;
}

/** Seed URLs: the first page of each host. */
export function seedUrls(spec: SiteSpec, port: number): string[] {
	return Array.from({ length: Math.min(spec.hosts, spec.pages) }, (_, k) => pageUrl(spec, port, k));
}

/** The pages page k links to, in document order (tree children first); may repeat a page. */
export function pageLinks(spec: SiteSpec, k: number): number[] {
	const rnd = pageRng(spec, k);
	const count = spec.minLinks + Math.floor(rnd() * (spec.maxLinks - spec.minLinks + 1));
	const links: number[] = [];
	for (let c = k * FANOUT + 1; c <= k * FANOUT + FANOUT && c < spec.pages; c++) links.push(c);
	while (links.length < count) links.push(Math.floor(rnd() * spec.pages));
	return links;
}

/** The depth of every page from the seeds, following page links breadth first (-1: unreachable). */
export function pageDepths(spec: SiteSpec): Int32Array {
	const depth = new Int32Array(spec.pages).fill(-1);
	let frontier: number[] = [];
	for (let k = 0; k < Math.min(spec.hosts, spec.pages); k++) {
		depth[k] = 0;
		frontier.push(k);
	}
	for (let d = 1; frontier.length; d++) {
		const next: number[] = [];
		for (const k of frontier)
			for (const t of pageLinks(spec, k))
				if (depth[t] === -1) {
					depth[t] = d;
					next.push(t);
				}
		frontier = next;
	}
	return depth;
}

/** The smallest maxdepth that reaches every page from the seeds. */
export function maxDepthNeeded(spec: SiteSpec): number {
	let max = 0;
	for (const d of pageDepths(spec)) {
		if (d < 0) throw new Error("site has unreachable pages");
		max = Math.max(max, d);
	}
	return max;
}

const WORDS =
	"cluster crawl spider queue domain request page link kafka redis zookeeper throttle window moderated priority depth seed frontier lease robots fetch parse extract anchor text body header status scheduler ingest monitor stats backlog firehose record partition offset consumer producer batch linger broker topic latency throughput bench machine process node service mixin action info stop expire".split(
		" "
	);

function words(rnd: () => number, n: number): string {
	const out: string[] = [];
	for (let i = 0; i < n; i++) out.push(WORDS[Math.floor(rnd() * WORDS.length)]!);
	return out.join(" ");
}

/** The HTML of page k (UTF-8), between minBytes and maxBytes long (a little more for the closing tags). */
export function renderPage(spec: SiteSpec, port: number, k: number): string {
	const rnd = pageRng(spec, k ^ 0x5bd1e995);
	const target = spec.minBytes + Math.floor(rnd() * (spec.maxBytes - spec.minBytes + 1));
	const links = pageLinks(spec, k);
	const sameHostEarlier = k >= spec.hosts ? k - spec.hosts : k;
	const head =
		`<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Bench page ${k}</title>` +
		`<meta name="description" content="${words(rnd, 12)}"><link rel="stylesheet" href="/static/site.css"></head>\n<body>\n` +
		`<header><a href="#top">top</a> <a href="/p/${sameHostEarlier}">previous on this host</a> <a href="mailto:bench@example.com">mail</a> <img src="/img/${k}.jpg" alt=""></header>\n<main>\n`;
	const tail = `</main>\n<footer><a href="/img/banner-${k % 7}.jpg">banner</a> generated page ${k} of ${spec.pages}</footer>\n</body></html>\n`;
	const parts: string[] = [head];
	let size = head.length + tail.length;
	// Links spread evenly through the paragraphs: one paragraph per link, then filler to the target size.
	const paragraphBytes = Math.max(80, Math.floor((target - size) / Math.max(1, links.length)) - 120);
	for (const t of links) {
		const text = words(rnd, 2 + Math.floor(rnd() * 3));
		const before = words(rnd, Math.max(4, Math.floor(paragraphBytes / 9)));
		const p = `<p>${before} <a href="${pageUrl(spec, port, t)}" class="ref">${text}</a> ${words(rnd, 6)}.</p>\n`;
		parts.push(p);
		size += p.length;
	}
	while (size < target) {
		const p = `<p>${words(rnd, Math.min(120, Math.max(1, Math.floor((target - size) / 8))))}</p>\n`;
		parts.push(p);
		size += p.length;
	}
	parts.push(tail);
	return parts.join("");
}

export const ROBOTS_TXT = "User-agent: *\nDisallow: /private/\n";
