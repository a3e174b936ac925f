/**
 * Benchmark: the info action on a large backlog (default one million pending requests over 1000 domains
 * and 20 crawls). Fills Redis database BENCH_REDIS_DB (default 10, flushed first), then times crawlid-level
 * and appid-level info as the info service computes them, and, for comparison, one scan of every queue
 * the way the original answered info.
 *   node bench/info-backlog.ts            (BENCH_INFO_REQUESTS=200000 for a quicker run)
 */
import { Redis } from "ioredis";
import { loadSettings } from "../config/index.ts";
import { enqueueArgs, Frontier, type EnqueueOptions, type FrontierRequest } from "../lib/frontier/frontier.ts";
import { appCrawlids, crawlPending } from "../lib/monitor/crawl-control.ts";
import { redisOptions } from "../lib/redis/client.ts";

export interface InfoBenchResult {
	pending: number;
	domains: number;
	crawls: number;
	fill_seconds: number;
	crawlid_info_ms: { p50: number; p99: number };
	appid_info_ms: { p50: number; p99: number };
	full_scan_ms: number | null;
	redis_used_memory_mb: number;
}

const FILL_OPTIONS: EnqueueOptions = { dupefilterTimeout: 600, checkBlacklist: false, domainMaxPagesTimeout: 600, globalPageLimit: null, globalPageLimitTimeout: 600 };

const quantile = (values: number[], q: number) => {
	const sorted = [...values].sort((a, b) => a - b);
	return Number(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!.toFixed(2));
};

export async function runInfoBenchmark(opts: { requests: number; domains: number; crawls: number; db: number; fullScan: boolean; log: (line: string) => void }): Promise<InfoBenchResult> {
	const settings = loadSettings({ overrides: { REDIS_DB: opts.db } });
	const redis = new Redis(redisOptions(settings, "bench-info"));
	await redis.connect();
	await redis.flushdb();
	const frontier = new Frontier(redis);
	const spider = "link";
	const started = Date.now();
	const batch = 5000;
	for (let done = 0; done < opts.requests; done += batch) {
		const pipeline = redis.pipeline();
		for (let i = done; i < Math.min(done + batch, opts.requests); i++) {
			const domain = `site${i % opts.domains}.example.com`;
			const crawl = i % opts.crawls;
			const request: FrontierRequest = {
				url: `http://${domain}/page/${i}`,
				appid: `app${crawl % 2}`,
				crawlid: `crawl${crawl}`,
				spiderid: spider,
				priority: 1 - 10 * (i % 3),
				maxdepth: 2,
				expires: 0,
				curdepth: i % 3
			};
			// The same call Frontier.enqueue makes, pipelined.
			pipeline.frontierEnqueue(...enqueueArgs(request, domain, FILL_OPTIONS));
		}
		await pipeline.exec();
		if ((done + batch) % 100000 === 0 || done + batch >= opts.requests) opts.log(`  queued ${Math.min(done + batch, opts.requests).toLocaleString("en")} requests (${((Date.now() - started) / 1000).toFixed(1)} s)`);
	}
	const fillSeconds = (Date.now() - started) / 1000;

	const time = async (fn: () => Promise<unknown>, runs: number) => {
		const ms: number[] = [];
		for (let i = 0; i < runs; i++) {
			const t = process.hrtime.bigint();
			await fn();
			ms.push(Number(process.hrtime.bigint() - t) / 1e6);
		}
		return { p50: quantile(ms, 0.5), p99: quantile(ms, 0.99) };
	};
	const crawlInfo = await time(() => crawlPending(redis, spider, "app0", "crawl0"), 50);
	const appInfo = await time(async () => {
		for (const c of await appCrawlids(redis, spider, "app0")) await crawlPending(redis, spider, "app0", c);
	}, 20);
	const check = await crawlPending(redis, spider, "app0", "crawl0");
	if (check.total !== Math.ceil(opts.requests / opts.crawls)) throw new Error(`info counted ${check.total}, expected ${Math.ceil(opts.requests / opts.crawls)}`);

	let fullScan: number | null = null;
	if (opts.fullScan) {
		opts.log("  scanning every queue as the original's info did...");
		const t = Date.now();
		let seen = 0;
		for (const key of await frontier.queueKeys(spider)) {
			let cursor = "0";
			do {
				const [next, flat] = await redis.zscan(key, cursor, "COUNT", 1000);
				cursor = next;
				for (let i = 0; i < flat.length; i += 2) if ((JSON.parse(flat[i]!) as FrontierRequest).crawlid === "crawl0") seen++;
			} while (cursor !== "0");
		}
		fullScan = Date.now() - t;
		if (seen !== check.total) throw new Error(`scan counted ${seen}, index ${check.total}`);
	}
	const memory = Number(/used_memory:(\d+)/.exec(await redis.info("memory"))?.[1] ?? 0) / 1024 / 1024;
	await redis.flushdb();
	await redis.quit();
	return {
		pending: opts.requests,
		domains: opts.domains,
		crawls: opts.crawls,
		fill_seconds: Number(fillSeconds.toFixed(1)),
		crawlid_info_ms: crawlInfo,
		appid_info_ms: appInfo,
		full_scan_ms: fullScan,
		redis_used_memory_mb: Math.round(memory)
	};
}
