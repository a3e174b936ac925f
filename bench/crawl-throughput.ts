/**
 * Crawl throughput and feed-to-first-page latency of the cluster on the generated site.
 *
 * A measurement starts one ingest node and `crawlers` crawler nodes (own processes, own topic prefix,
 * Redis db `db` flushed first), crawls the whole site once to warm them up (reported as the cold figure),
 * then feeds the seeds again and counts distinct pages on crawled_firehose until all of them are there:
 * pages/s from the feed to the broker's append of the last page. Around that crawl: Redis commands (INFO),
 * Kafka bytes (sizes of the firehose messages read back), CPU and system calls per page. Its topics are
 * deleted when it ends.
 *
 * Latency, on the same warm cluster afterwards: many single-page crawls (maxdepth 0, a crawlid each) fed one
 * at a time at random moments; each is timed from just before the feed is sent to Kafka until its page is
 * read from crawled_firehose.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { commandsBetween, CRAWLER_READY, deleteBenchTopics, feed, FIREHOSE_TOPIC_CONFIG, FirehoseReader, INGEST_READY, nodeEnv, redisCommands, sleep, spawnNode, TopicWatcher, type BenchNode, type ClusterRunOptions } from "./cluster.ts";
import { CpuMeter, formatShares } from "./cpu.ts";
import { pageUrl, prng, seedUrls } from "./site.ts";
import { percentile, rateTimeline, round } from "./stats.ts";

export interface CrawlOptions extends ClusterRunOptions {
	crawlers: number;
	maxdepth: number;
	concurrency: number;
	/** Preload bench/loop-probe.ts into the crawlers: event-loop delay and CPU share during the crawl. */
	loopProbe?: boolean;
	/** With loopProbe: the probe also writes a CPU profile of the timed crawl of each crawler into this folder. */
	profileDir?: string;
	/** Run the latency measurement on this cluster afterwards, with this many samples. */
	latencySamples?: number;
	/** Other processes whose CPU use during the crawl is reported (the data stack, the site), by name. */
	otherPids?: Record<string, number | undefined>;
}

export interface CrawlResult {
	crawlers: number;
	pages: number;
	expected_pages: number;
	complete: boolean;
	seconds: number;
	pages_per_s: number;
	/** The first crawl of the site by fresh processes (the warm-up before the timed crawl). */
	cold_pages_per_s: number;
	duplicates: number;
	redis_commands_per_page: number;
	redis_top_commands_per_page: Record<string, number>;
	/** Bytes Redis read from its clients and wrote to them, per page. */
	redis_bytes_per_page: { in: number; out: number };
	kafka_bytes_per_page: number;
	latency?: LatencyResult;
	/** Per crawler process, with loopProbe: wall and CPU time during the crawl, and the event loop's delay. */
	crawler_probes?: Array<{ wall_ms: number; cpu_ms: number; cpu_share: number; loop_busy?: number; loop_delay_ms: Record<string, number> }>;
	/** Share of one core each process used during the crawl (bench/cpu.ts): crawlers, ingest, data stack, site, the bench, the machine. */
	cpu_share?: Record<string, number>;
	/** CPU time of the crawler processes per page, ms (from cpu_share). */
	crawler_cpu_ms_per_page?: number;
	/** Read and write system calls of the crawler processes per page (/proc/<pid>/io). */
	crawler_syscalls_per_page?: { reads: number; writes: number };
}

export interface LatencyResult {
	samples: number;
	timed_out: number;
	p50_ms: number;
	p90_ms: number;
	p99_ms: number;
	min_ms: number;
	max_ms: number;
	/** The two parts of each latency: feed -> page parsed in the crawler (its record timestamp), page parsed -> read here. */
	feed_to_parsed_ms: { p50: number; p99: number; min: number };
	parsed_to_read_ms: { p50: number; p99: number; min: number };
	/** Every sample, in order. */
	samples_ms: number[];
	/**
	 * From the ingest node's log ("Added crawl to Redis", millisecond timestamps): feed -> queued in Redis by
	 * ingest, and queued -> page parsed in the crawler (the scheduler's wait, the fetch and the parse).
	 */
	feed_to_queued_ms?: { p50: number; p99: number; min: number };
	queued_to_parsed_ms?: { p50: number; p99: number; min: number };
}

/** Per latency sample: wall-clock times of the feed and of the page's record timestamp. */
interface SampleTimes {
	crawlid: string;
	fedAt: number;
	parsedAt: number | null;
}

const spread = (values: number[]) => ({ p50: round(percentile(values, 0.5)), p99: round(percentile(values, 0.99)), min: round(Math.min(...values)) });

/** Split latencies at the moment ingest queued each request, read from the ingest node's log. */
function splitAtIngest(latency: LatencyResult, times: SampleTimes[], ingestLog: string): void {
	let text: string;
	try {
		text = readFileSync(ingestLog, "utf8");
	} catch {
		return;
	}
	const queuedAt = new Map<string, number>();
	for (const m of text.matchAll(/^(\S+) INFO .*Added crawl to Redis .*"crawlid":"(latency-\d+)"/gm)) queuedAt.set(m[2]!, Date.parse(m[1]!));
	const toQueued: number[] = [];
	const toParsed: number[] = [];
	for (const t of times) {
		const q = queuedAt.get(t.crawlid);
		if (q === undefined || t.parsedAt === null) continue;
		toQueued.push(q - t.fedAt);
		toParsed.push(t.parsedAt - q);
	}
	if (!toQueued.length) return;
	latency.feed_to_queued_ms = spread(toQueued);
	latency.queued_to_parsed_ms = spread(toParsed);
}

/** Share of the site a warm-up crawl must deliver for the measurement to go on (see runCrawl). */
const COLD_ENOUGH = 0.95;

export async function runCrawl(o: CrawlOptions): Promise<CrawlResult> {
	const nodes: BenchNode[] = [];
	let reader: FirehoseReader | null = null;
	try {
		await o.redis.flushdb();
		// Created before the nodes start (they keep an existing topic as it is): pages carry their append time.
		await o.kafka.ensureTopics([{ topic: `${o.prefix}.crawled_firehose`, partitions: 1, config: FIREHOSE_TOPIC_CONFIG }]);
		const env = (extra: Record<string, string>) => nodeEnv(o.prefix, o.db, { CONCURRENT_REQUESTS: String(o.concurrency), ...extra });
		o.log(`  starting 1 ingest node and ${o.crawlers} crawler node(s) (topic prefix ${o.prefix}, logs in ${o.logDir})`);
		const starting: Array<Promise<BenchNode>> = [spawnNode(`${o.prefix}-ingest`, env({ SERVICES: "ingest" }), o.logDir, INGEST_READY)];
		const probeFile = (i: number) => join(o.logDir, `${o.prefix}-crawler${i}.probe.json`);
		const probeArgs = o.loopProbe ? ["--import", pathToFileURL(join(import.meta.dirname, "loop-probe.ts")).href] : [];
		for (let i = 1; i <= o.crawlers; i++)
			starting.push(
				spawnNode(`${o.prefix}-crawler${i}`, env({ SERVICES: "crawler", ...(o.loopProbe ? { BENCH_LOOP_PROBE_OUT: probeFile(i), ...(o.profileDir ? { BENCH_LOOP_PROBE_PROFILE: o.profileDir } : {}) } : {}) }), o.logDir, CRAWLER_READY, {
					nodeArgs: probeArgs
				})
			);
		const probe = () => {
			if (o.loopProbe) for (const n of nodes) if (n.name.includes("-crawler")) n.child.kill("SIGUSR2");
		};
		const started = await Promise.allSettled(starting);
		for (const s of started) if (s.status === "fulfilled") nodes.push(s.value);
		const failed = started.find(s => s.status === "rejected");
		if (failed) throw (failed as PromiseRejectedResult).reason;

		const incoming = `${o.prefix}.incoming`;
		const firehose = `${o.prefix}.crawled_firehose`;
		const seeds = seedUrls(o.site, o.port);
		// Both crawls are read back by one consumer group: the second read starts where the first stopped.
		const readBack = `${firehose}-readback-${process.pid}`;

		/**
		 * Crawl the whole site as `crawlid`: wait until the firehose's end offset shows as many messages as pages
		 * (bench/cluster.ts TopicWatcher: no reader takes the machine's CPU meanwhile), then read the pages back:
		 * every distinct page must be there (duplicates count as messages, so the read waits for the last new
		 * page), and their broker append times date the crawl. `during` runs once the pages have landed, before
		 * the read.
		 */
		const timedCrawl = async (crawlid: string, during: () => Promise<void> = async () => undefined) => {
			const watcher = new TopicWatcher(o.kafka, firehose);
			const base = await watcher.read();
			watcher.start();
			const t0 = performance.now();
			const fedAt = Date.now();
			await feed(o.kafka, incoming, seeds.map(url => ({ url, appid: "bench", crawlid, maxdepth: o.maxdepth, spiderid: "link" })));
			const landed = await watcher.waitFor(base + o.site.pages, o.timeoutMs, 30_000, high =>
				o.log(`  ${high - base} / ${o.site.pages} pages on the firehose (${round((high - base) / ((performance.now() - t0) / 1000))} pages/s)`)
			);
			await during();
			reader = new FirehoseReader(o.kafka, firehose, "bulk", readBack);
			await reader.start();
			const complete = landed && (await reader.waitFor(crawlid, o.site.pages, o.timeoutMs, 30_000));
			await watcher.stop();
			await reader.stop().catch(() => undefined);
			const count = reader.counts.get(crawlid);
			const pages = count?.urls.size ?? 0;
			// From the feed to the broker's append of the last new page (FIREHOSE_TOPIC_CONFIG).
			const lastAt = count?.landed.length ? Math.max(...count.landed) : null;
			const seconds = lastAt !== null ? (lastAt - fedAt) / 1000 : o.timeoutMs / 1000;
			const duplicates = (count?.messages ?? 0) - pages;
			o.log(`  ${pages} pages in ${round(seconds, 2)} s: ${round(pages / seconds)} pages/s${complete ? "" : " (INCOMPLETE)"}${duplicates ? `, ${duplicates} duplicates` : ""}`);
			o.log(`  pages/s in each half second: ${rateTimeline(count?.landed ?? [], fedAt, 500).join(" ")}`);
			return { pages, seconds, complete, duplicates, count };
		};

		// The first crawl of the site warms the processes up (V8 compiles the hot code as it runs; every crawler
		// learns the domain queues; the robots.txt cache fills), as on a cluster that has been running. It is
		// reported as the cold figure; the bare loop gets the same warm-up pass (bench/bare.ts).
		o.log("  cold crawl of the whole site (warms the processes up)");
		const cold = await timedCrawl("cold");
		// A few pages missing is the seeds' depth race (README, Performance): the warm-up still did its job, and
		// the timed crawl is checked on its own. Most of the site missing is a broken cluster.
		if (!cold.complete) {
			if (cold.pages < o.site.pages * COLD_ENOUGH) throw new Error(`cold crawl: ${cold.pages} of ${o.site.pages} pages; see ${o.logDir}`);
			o.log(`  the cold crawl missed ${o.site.pages - cold.pages} of ${o.site.pages} pages (the seeds' depth race, see README); going on with the timed crawl`);
		}
		// Every crawler has read the queue registry (SCHEDULER_QUEUE_REFRESH=1) since.
		await sleep(1500);

		o.log("  timed crawl of the whole site, on the warm cluster");
		const before = await redisCommands(o.redis);
		probe();
		const meter = new CpuMeter({
			...Object.fromEntries(nodes.map(n => [n.name.slice(o.prefix.length + 1), n.child.pid])),
			...o.otherPids,
			bench: process.pid
		});
		let cpuShare: Record<string, number> = {};
		let io: Record<string, { reads: number; writes: number }> = {};
		let meterSeconds = 0;
		let after = before;
		const warm = await timedCrawl("crawl", async () => {
			probe();
			cpuShare = meter.read();
			io = meter.ioCalls();
			meterSeconds = meter.seconds();
			after = await redisCommands(o.redis);
		});
		const { pages, count } = warm;
		const commands = commandsBetween(before, after);
		const top = [...commands.byCommand.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8);
		const result: CrawlResult = {
			crawlers: o.crawlers,
			pages,
			expected_pages: o.site.pages,
			complete: warm.complete,
			seconds: round(warm.seconds, 2),
			pages_per_s: round(pages / warm.seconds),
			cold_pages_per_s: round(cold.pages / cold.seconds),
			duplicates: warm.duplicates,
			redis_commands_per_page: round(commands.total / Math.max(1, pages), 1),
			redis_top_commands_per_page: Object.fromEntries(top.map(([cmd, n]) => [cmd, round(n / Math.max(1, pages), 2)])),
			redis_bytes_per_page: { in: Math.round(commands.netIn / Math.max(1, pages)), out: Math.round(commands.netOut / Math.max(1, pages)) },
			kafka_bytes_per_page: Math.round((count?.bytes ?? 0) / Math.max(1, count?.messages ?? 0)),
			cpu_share: cpuShare,
			crawler_cpu_ms_per_page: round((Object.entries(cpuShare).reduce((sum, [name, share]) => sum + (name.startsWith("crawler") ? share : 0), 0) * meterSeconds * 1000) / Math.max(1, pages), 3)
		};
		if (Object.keys(cpuShare).length) o.log(`  CPU during the crawl, share of one core: ${formatShares(cpuShare)}`);
		const crawlerIo = Object.entries(io).filter(([name]) => name.startsWith("crawler"));
		if (crawlerIo.length) {
			const per = (n: number) => round(n / Math.max(1, pages), 1);
			result.crawler_syscalls_per_page = {
				reads: per(crawlerIo.reduce((n, [, c]) => n + c.reads, 0)),
				writes: per(crawlerIo.reduce((n, [, c]) => n + c.writes, 0))
			};
			o.log(`  crawler system calls per page: ${result.crawler_syscalls_per_page.reads} reads, ${result.crawler_syscalls_per_page.writes} writes (sockets: HTTP, Redis, Kafka)`);
		}

		const times: SampleTimes[] = [];
		if (o.latencySamples) {
			// Latency is read by a prompt reader (every page at once), from the topic's end.
			reader = new FirehoseReader(o.kafka, firehose, "prompt");
			await reader.start();
			result.latency = await measureLatency(o, reader, incoming, times);
			await reader.stop().catch(() => undefined);
		}
		await Promise.all(nodes.map(n => n.stop()));
		if (result.latency) {
			splitAtIngest(result.latency, times, nodes[0]!.log);
			const l = result.latency;
			if (l.feed_to_queued_ms && l.queued_to_parsed_ms)
				o.log(`  latency parts (p50 / min): feed -> queued by ingest ${l.feed_to_queued_ms.p50} / ${l.feed_to_queued_ms.min} ms, queued -> page parsed ${l.queued_to_parsed_ms.p50} / ${l.queued_to_parsed_ms.min} ms, parsed -> read ${l.parsed_to_read_ms.p50} / ${l.parsed_to_read_ms.min} ms`);
		}
		if (o.loopProbe) {
			result.crawler_probes = [];
			for (let i = 1; i <= o.crawlers; i++) {
				try {
					result.crawler_probes.push(JSON.parse(readFileSync(probeFile(i), "utf8")));
				} catch {
					// a crawler that did not exit normally wrote nothing
				}
			}
			for (const p of result.crawler_probes)
				o.log(`  crawler process during the crawl: CPU ${Math.round(p.cpu_share * 100)}% of a core, event loop busy ${Math.round((p.loop_busy ?? 0) * 100)}% of the time, its delay p50 ${p.loop_delay_ms.p50} ms, p99 ${p.loop_delay_ms.p99} ms`);
		}
		return result;
	} finally {
		await reader?.stop().catch(() => undefined);
		await Promise.all(nodes.map(n => n.stop()));
		await deleteBenchTopics(o.kafka, `${o.prefix}.`);
	}
}

async function measureLatency(o: CrawlOptions, reader: FirehoseReader, incoming: string, times: SampleTimes[]): Promise<LatencyResult> {
	const samples = o.latencySamples!;
	o.log(`  feed-to-first-page latency: ${samples} single-page crawls, one at a time, at random moments`);
	// The reader starts at the topic's end once it has joined: pages until one of these is read may be missed.
	let joined = false;
	for (let attempt = 0; attempt < 10 && !joined; attempt++) {
		await feed(o.kafka, incoming, [{ url: pageUrl(o.site, o.port, attempt), appid: "bench", crawlid: `latency-join-${attempt}`, maxdepth: 0, spiderid: "link" }]);
		joined = await reader.waitFor(`latency-join-${attempt}`, 1, 3000);
	}
	if (!joined) throw new Error("latency: the prompt firehose reader read nothing in 30 s");
	const rnd = prng(4242);
	const ms: number[] = [];
	const toParsed: number[] = [];
	const toRead: number[] = [];
	let timedOut = 0;
	for (let i = 0; i < samples; i++) {
		// Gaps spanning two of the scheduler's 0.5 s empty-queue rechecks, so a feed lands at any phase of its polling
		// (a shorter gap right after the previous page would keep it in step with the pop that served it).
		await sleep(Math.floor(rnd() * 1000));
		const k = (i * 7919) % o.site.pages;
		const crawlid = `latency-${i}`;
		const t = performance.now();
		const fedAt = Date.now();
		await feed(o.kafka, incoming, [{ url: pageUrl(o.site, o.port, k), appid: "bench", crawlid, maxdepth: 0, spiderid: "link" }]);
		if (await reader.waitFor(crawlid, 1, 10_000)) {
			const c = reader.counts.get(crawlid)!;
			ms.push(c.first - t);
			if (c.lagMs.length) {
				toRead.push(c.lagMs[0]!);
				toParsed.push(c.first - t - c.lagMs[0]!);
			}
			times.push({ crawlid, fedAt, parsedAt: c.lagMs.length ? c.firstWall - c.lagMs[0]! : null });
		} else timedOut++;
		if ((i + 1) % 50 === 0) o.log(`  ${i + 1} / ${samples} (p50 so far ${round(percentile(ms, 0.5))} ms)`);
	}
	return {
		samples: ms.length,
		timed_out: timedOut,
		p50_ms: round(percentile(ms, 0.5)),
		p90_ms: round(percentile(ms, 0.9)),
		p99_ms: round(percentile(ms, 0.99)),
		min_ms: round(Math.min(...ms)),
		max_ms: round(Math.max(...ms)),
		feed_to_parsed_ms: spread(toParsed),
		parsed_to_read_ms: spread(toRead),
		samples_ms: ms.map(x => round(x))
	};
}

export const logDirFor = (base: string, prefix: string) => join(base, prefix);
