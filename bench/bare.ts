/**
 * The bare limit: one process, a minimal loop of the crawler's own fetch (lib/crawl/fetch.ts, undici) and
 * parse (decodeBody + extractLinks, htmlparser2, + the default link filter) with the same concurrency, breadth
 * first from the same seeds to the same maxdepth, de-duplicated in memory. No Redis, no Kafka, no robots.txt,
 * no output: what a crawler process could do at most on this machine and site. It crawls the site twice, as
 * the cluster benchmark does: a first pass in the fresh process (V8 compiles the hot code as it runs),
 * reported as `cold_pages_per_s`, then the timed pass.
 *   node bench/bare.ts '{"seeds": [...], "maxdepth": 3, "concurrency": 16, "timeoutMs": 300000}'
 * Prints one JSON line: {pages, seconds, pages_per_s, bytes, links, errors}.
 */
import { decodeBody, extractLinks } from "../lib/crawl/extract.ts";
import { Fetcher } from "../lib/crawl/fetch.ts";
import { compileLinkFilter } from "../lib/crawl/link-filter.ts";

export interface BareOptions {
	seeds: string[];
	maxdepth: number;
	concurrency: number;
	timeoutMs: number;
	/** Stop after this many pages (default: none). */
	maxPages?: number;
}

export interface BareResult {
	pages: number;
	seconds: number;
	pages_per_s: number;
	bytes: number;
	links: number;
	errors: number;
	timed_out: boolean;
	/** CPU time of this process per page (user + system), ms. */
	cpu_ms_per_page: number;
	/** The first pass, in the fresh process (the warm-up before the timed pass). */
	cold_pages_per_s?: number;
}

export async function runBare(opts: BareOptions): Promise<BareResult> {
	const fetcher = new Fetcher({ timeoutMs: 10_000, maxBodyBytes: 10 * 1024 * 1024, maxRedirects: 20, userAgent: "scrapy-cluster-ts-bench/bare" });
	const filter = compileLinkFilter({ allowed_domains: null, allow_regex: null, deny_regex: null, deny_extensions: null });
	const seen = new Set<string>(opts.seeds);
	const todo: Array<{ url: string; depth: number }> = opts.seeds.map(url => ({ url, depth: 0 }));
	let pages = 0;
	let bytes = 0;
	let links = 0;
	let errors = 0;
	let inFlight = 0;
	const waiting: Array<() => void> = [];
	const started = performance.now();
	const cpuAtStart = process.cpuUsage();
	const deadline = started + opts.timeoutMs;
	let last = started;
	const maxPages = opts.maxPages ?? Infinity;

	const one = async (item: { url: string; depth: number }) => {
		try {
			const result = await fetcher.fetch({ url: item.url });
			const contentType = result.responseHeaders["content-type"]?.[0];
			const decoded = decodeBody(result.body, contentType);
			const found = extractLinks(decoded.text, result.responseUrl).filter(l => filter(l.url));
			pages++;
			bytes += result.body.length;
			links += found.length;
			last = performance.now();
			if (item.depth < opts.maxdepth)
				for (const l of found)
					if (!seen.has(l.url)) {
						seen.add(l.url);
						todo.push({ url: l.url, depth: item.depth + 1 });
					}
		} catch {
			errors++;
		}
	};

	const worker = async () => {
		while (performance.now() < deadline && pages < maxPages) {
			const item = todo.shift();
			if (!item) {
				if (inFlight === 0) return;
				await new Promise<void>(resolve => {
					waiting.push(resolve);
					setTimeout(resolve, 50).unref();
				});
				continue;
			}
			inFlight++;
			await one(item);
			inFlight--;
			for (const w of waiting.splice(0)) w();
		}
	};
	await Promise.all(Array.from({ length: opts.concurrency }, worker));
	const cpu = process.cpuUsage(cpuAtStart);
	await fetcher.close();
	const seconds = (last - started) / 1000;
	return {
		pages,
		seconds: Number(seconds.toFixed(3)),
		pages_per_s: Number((pages / seconds).toFixed(1)),
		bytes,
		links,
		errors,
		timed_out: performance.now() >= deadline,
		cpu_ms_per_page: Number(((cpu.user + cpu.system) / 1000 / Math.max(1, pages)).toFixed(3))
	};
}

/** A warm-up pass, then the timed pass, in this process. */
export async function runBareWarm(opts: BareOptions): Promise<BareResult> {
	const cold = await runBare(opts);
	return { ...(await runBare(opts)), cold_pages_per_s: cold.pages_per_s };
}

if (import.meta.main) {
	const result = await runBareWarm(JSON.parse(process.argv[2] ?? "{}") as BareOptions);
	process.stdout.write(`${JSON.stringify(result)}\n`);
}
