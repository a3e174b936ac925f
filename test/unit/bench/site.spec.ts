/**
 * The benchmark's generated site (bench/site.ts): deterministic, within the asked sizes and link counts,
 * every page reachable from the seeds within maxDepthNeeded, and the links the crawler's own extractor
 * finds are exactly the page links the generator placed (plus the relative link to the same host).
 */
import { DEFAULT_SITE, FANOUT, hostAddress, maxDepthNeeded, pageDepths, pageLinks, pageUrl, prng, renderPage, seedUrls, type SiteSpec } from "../../../bench/site.ts";
import { extractLinks } from "../../../lib/crawl/extract.ts";
import { compileLinkFilter } from "../../../lib/crawl/link-filter.ts";

const spec: SiteSpec = { ...DEFAULT_SITE, pages: 300 };

describe("bench site generator", () => {
	it("renders the same bytes for the same spec, and other bytes for another seed", () => {
		for (const k of [0, 1, 57, 299]) expect(renderPage(spec, 8080, k)).toBe(renderPage({ ...spec }, 8080, k));
		expect(renderPage({ ...spec, seed: 9 }, 8080, 57)).not.toBe(renderPage(spec, 8080, 57));
		const a = prng(1);
		const b = prng(1);
		expect([a(), a(), a()]).toEqual([b(), b(), b()]);
	});

	it("makes pages of minBytes..maxBytes with minLinks..maxLinks page links, tree children first", () => {
		for (let k = 0; k < spec.pages; k++) {
			const size = Buffer.byteLength(renderPage(spec, 8080, k));
			expect(size).toBeGreaterThanOrEqual(spec.minBytes);
			expect(size).toBeLessThanOrEqual(spec.maxBytes + 2000);
			const links = pageLinks(spec, k);
			expect(links.length).toBeGreaterThanOrEqual(spec.minLinks);
			expect(links.length).toBeLessThanOrEqual(spec.maxLinks);
			const children = Array.from({ length: FANOUT }, (_, i) => k * FANOUT + 1 + i).filter(c => c < spec.pages);
			expect(links.slice(0, children.length)).toEqual(children);
			for (const t of links) expect(t >= 0 && t < spec.pages).toBe(true);
		}
	});

	it("puts page k on host k mod hosts and reaches every page from the seeds", () => {
		expect(pageUrl(spec, 8080, 6)).toBe(`http://${hostAddress(2)}:8080/p/6`);
		expect(seedUrls(spec, 8080)).toEqual(["http://127.0.0.1:8080/p/0", "http://127.0.0.2:8080/p/1", "http://127.0.0.3:8080/p/2", "http://127.0.0.4:8080/p/3"]);
		const depths = [...pageDepths(spec)];
		expect(depths.every(d => d >= 0)).toBe(true);
		expect(Math.max(...depths)).toBe(maxDepthNeeded(spec));
		expect(maxDepthNeeded(spec)).toBeLessThanOrEqual(4);
	});

	it("gives the crawler's extractor exactly the generated links (images and mailto dropped, fragments and repeats merged)", () => {
		const filter = compileLinkFilter({ allowed_domains: null, allow_regex: null, deny_regex: null, deny_extensions: null });
		for (const k of [0, 5, 123]) {
			const url = pageUrl(spec, 8080, k);
			const found = extractLinks(renderPage(spec, 8080, k), url).map(l => l.url).filter(filter);
			const sameHost = k >= spec.hosts ? k - spec.hosts : k;
			const expected = new Set([url, pageUrl(spec, 8080, sameHost), ...pageLinks(spec, k).map(t => pageUrl(spec, 8080, t))]);
			expect(new Set(found)).toEqual(expected);
			expect(found.length).toBe(expected.size);
		}
	});
});
