/**
 * npm run bench: performance figures (not part of npm test). Brings up the local data stack, serves the
 * generated site (bench/site-server.ts, its own process), then measures, in one run:
 *   the bare limit (bench/bare.ts), Scrapy on the same site (bench/scrapy/), crawl throughput with 1 and 2
 *   crawler processes and feed-to-first-page latency (bench/crawl-throughput.ts), ingest throughput
 *   (bench/ingest.ts) and info on a large backlog (bench/info-backlog.ts);
 * prints a table with the issue's targets and writes bench/results/latest.json. Knobs: see README "Performance".
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import type { BareResult } from "./bare.ts";
import { benchClients, deleteBenchTopics, killAll, ROOT } from "./cluster.ts";
import { infraPids } from "./cpu.ts";
import { runCrawl, type CrawlResult } from "./crawl-throughput.ts";
import { runIngest, type IngestResult } from "./ingest.ts";
import { runInfoBenchmark, type InfoBenchResult } from "./info-backlog.ts";
import { summarizeProfiles } from "./profile.ts";
import { ensureScrapy, runScrapy, type ScrapyResult } from "./scrapy.ts";
import { DEFAULT_SITE, maxDepthNeeded, seedUrls, type SiteSpec } from "./site.ts";
import { pairedRatios, ratio, round } from "./stats.ts";

const log = (line: string) => process.stdout.write(`${line}\n`);
const env = process.env;
const num = (name: string, def: number) => {
	const v = env[name];
	if (v === undefined || v === "") return def;
	const n = Number(v);
	if (!Number.isFinite(n) || n < 0) {
		process.stderr.write(`${name}: expected a non-negative number, got "${v}"\n`);
		process.exit(78);
	}
	return n;
};
const skip = new Set((env.BENCH_SKIP ?? "").split(",").map(s => s.trim()).filter(Boolean));
const site: SiteSpec = { ...DEFAULT_SITE, pages: num("BENCH_PAGES", DEFAULT_SITE.pages), hosts: num("BENCH_HOSTS", DEFAULT_SITE.hosts) };
const concurrency = num("BENCH_CONCURRENCY", 16);
const crawlTimeoutMs = num("BENCH_CRAWL_TIMEOUT", 300) * 1000;
const latencySamples = num("BENCH_LATENCY_SAMPLES", 200);
const ingestRequests = num("BENCH_INGEST_REQUESTS", 20_000);
const infoRequests = num("BENCH_INFO_REQUESTS", 1_000_000);
const db = num("BENCH_REDIS_DB", 10);
const repeat = Math.max(1, Math.floor(num("BENCH_REPEAT", 3)));
const cpuProf = env.BENCH_CPU_PROF === "1";
const loopProbe = env.BENCH_LOOP_PROBE === "1";
const runId = `bench${Date.now().toString(36)}`;
const benchDir = join(ROOT, ".bench");
const logDir = join(benchDir, "logs", runId);

const started = new Date();
const load = [loadavg()[0]!];
log(`npm run bench: run ${runId}, ${started.toISOString()}; node logs in ${logDir}`);
log(`site: ${site.pages} pages on ${site.hosts} hosts, 20-60 KB and ${site.minLinks}-${site.maxLinks} links each; concurrency ${concurrency}`);
process.on("SIGINT", () => {
	killAll();
	process.exit(130);
});

const up = spawnSync("bash", ["scripts/infra.sh", "up"], { cwd: ROOT, stdio: "inherit" });
if (up.status !== 0) process.exit(up.status ?? 1);

// The site, from its own process; it exits when our end of its stdin closes.
const siteProc = spawn(process.execPath, [join(ROOT, "bench/site-server.ts"), JSON.stringify(site)], { cwd: ROOT, stdio: ["pipe", "pipe", "inherit"] });
const siteInfo = await new Promise<{ port: number; hosts: string[] }>((resolvePromise, reject) => {
	const timer = setTimeout(() => reject(new Error("site server not up after 60 s")), 60_000);
	createInterface({ input: siteProc.stdout! }).once("line", line => {
		clearTimeout(timer);
		resolvePromise(JSON.parse(line) as { port: number; hosts: string[] });
	});
	siteProc.once("exit", code => reject(new Error(`site server exited (${code})`)));
});
const port = siteInfo.port;
const seeds = seedUrls(site, port);
const maxdepth = maxDepthNeeded(site);
log(`site served on ${siteInfo.hosts.map(h => `${h}:${port}`).join(", ")}; seeds /p/0../p/${site.hosts - 1}, maxdepth ${maxdepth} reaches all ${site.pages} pages`);

/** A request to the site's own counters, tried again once: a kept-alive connection the site closed meanwhile fails the first try. */
const siteCall = async (path: string, init?: RequestInit): Promise<Response> => {
	const url = `http://127.0.0.1:${port}${path}`;
	return fetch(url, init).catch(() => fetch(url, init));
};
const siteHits = async (): Promise<{ pages: number; robots: number; other: number }> => (await siteCall("/__bench/hits")).json() as Promise<{ pages: number; robots: number; other: number }>;
const resetHits = async () => void (await siteCall("/__bench/reset", { method: "POST" }));
/** Pages the site served since the last reset, for a progress line ("?" when it cannot say). */
const servedPages = async (): Promise<string> => siteHits().then(h => String(h.pages), () => "?");

const results: {
	bare: BareResult | null;
	scrapy: ScrapyResult | { error: string } | null;
	crawl1: CrawlResult | { error: string } | null;
	crawl2: CrawlResult | { error: string } | null;
	ingest: IngestResult | { error: string } | null;
	info: InfoBenchResult | null;
	profiles: string | null;
} = { bare: null, scrapy: null, crawl1: null, crawl2: null, ingest: null, info: null, profiles: null };

const section = (title: string) => log(`\n== ${title} (${new Date().toISOString().slice(11, 19)} UTC, load ${loadavg()[0]!.toFixed(2)})`);

type Outcome<T> = T | { error: string };
/** pages/s of each round's measurements (null: skipped or failed), for the paired ratios. */
const roundRates: Array<{ bare: number | null; crawl1: number | null; crawl2: number | null }> = [];
const runs: { bare: BareResult[]; scrapy: Array<Outcome<ScrapyResult>>; crawl1: Array<Outcome<CrawlResult>>; crawl2: Array<Outcome<CrawlResult>> } = { bare: [], scrapy: [], crawl1: [], crawl2: [] };
/** The run with the most pages/s (errors only when every run failed). */
function bestOf<T extends { pages_per_s: number }>(list: Array<Outcome<T>>): Outcome<T> | null {
	const good = list.filter((r): r is T => !("error" in r));
	return good.length ? good.reduce((a, b) => (b.pages_per_s > a.pages_per_s ? b : a)) : (list[0] ?? null);
}

try {
	const clients = benchClients(db);
	await clients.redis.connect().catch(() => undefined);
	// Topics an earlier run left (one stopped midway): each measurement deletes its own when it ends.
	const leftovers = await deleteBenchTopics(clients.kafka);
	if (leftovers) log(`deleted ${leftovers} Kafka topics left by earlier benchmark runs`);
	try {
		const profDir = (what: string) => join(benchDir, "profiles", runId, what);
		// Crawler profiles cover the timed crawl only: the loop probe takes them (bench/loop-probe.ts).
		if (cpuProf) mkdirSync(profDir("crawler"), { recursive: true });
		const otherPids = { ...infraPids(ROOT), site: siteProc.pid };
		const common = { site, port, maxdepth, concurrency, db, timeoutMs: crawlTimeoutMs, kafka: clients.kafka, redis: clients.redis, log, loopProbe: loopProbe || cpuProf, profileDir: cpuProf ? profDir("crawler") : undefined, otherPids };
		let python: { python: string } | { error: string } | null = null;
		// Rounds interleave the throughput measurements, so a burst of load elsewhere hits each of them alike.
		for (let round = 1; round <= repeat; round++) {
			if (repeat > 1) log(`\n#### round ${round} of ${repeat}`);
			const rates = { bare: null as number | null, crawl1: null as number | null, crawl2: null as number | null };
			roundRates.push(rates);
			if (!skip.has("bare")) {
				section(`bare limit: one process, fetch + parse, concurrency ${concurrency}, no cluster; a warm-up pass, then the timed one`);
				await resetHits();
				const child = spawnSync(process.execPath, [join(ROOT, "bench/bare.ts"), JSON.stringify({ seeds, maxdepth, concurrency, timeoutMs: crawlTimeoutMs })], {
					cwd: ROOT,
					encoding: "utf8",
					timeout: 2 * crawlTimeoutMs + 30_000
				});
				try {
					const bare = JSON.parse(child.stdout.trim().split("\n").pop() ?? "") as BareResult;
					runs.bare.push(bare);
					rates.bare = bare.pages_per_s;
					log(`  warm: ${bare.pages} pages in ${bare.seconds} s: ${bare.pages_per_s} pages/s; cold (first pass): ${bare.cold_pages_per_s} pages/s (site served ${await servedPages()} in both)`);
				} catch {
					log(`  bare loop failed (exit ${child.status}, signal ${child.signal}): ${child.error?.message ?? (child.stderr.trim() || "nothing on stderr")}; its last output: ${JSON.stringify(child.stdout?.slice(-300) ?? "")}`);
				}
			}

			if (!skip.has("scrapy")) {
				section(`Scrapy: same site, CONCURRENT_REQUESTS ${concurrency}, AutoThrottle off, DOWNLOAD_DELAY 0, robots.txt obeyed`);
				python ??= ensureScrapy(log);
				if ("error" in python) {
					if (round === 1) runs.scrapy.push(python);
					log(`  Scrapy missing: ${python.error}`);
				} else {
					await resetHits();
					const r = await runScrapy(python.python, { seeds, maxdepth, concurrency, timeoutS: crawlTimeoutMs / 1000 });
					runs.scrapy.push(r);
					if ("error" in r) log(`  ${r.error}`);
					else log(`  Scrapy ${r.scrapy}: ${r.pages} pages in ${r.seconds} s: ${r.pages_per_s} pages/s (site served ${await servedPages()})`);
				}
			}

			for (const n of [1, 2] as const) {
				if (skip.has(`crawl${n}`)) continue;
				const withLatency = n === 1 && round === 1 && !skip.has("latency") && latencySamples > 0;
				section(`cluster crawl: 1 ingest + ${n} crawler process${n > 1 ? "es" : ""}, throttle opened wide${withLatency ? ", then latency" : ""}`);
				const prefix = `${runId}_r${round}_c${n}`;
				try {
					const crawl = await runCrawl({ ...common, crawlers: n, prefix, logDir: join(logDir, prefix), latencySamples: withLatency ? latencySamples : 0 });
					runs[`crawl${n}`].push(crawl);
					rates[`crawl${n}`] = crawl.complete ? crawl.pages_per_s : null;
				} catch (err) {
					runs[`crawl${n}`].push({ error: (err as Error).message });
					log(`  failed: ${(err as Error).message}`);
				}
			}
		}
		results.bare = runs.bare.length ? runs.bare.reduce((a, b) => (b.pages_per_s > a.pages_per_s ? b : a)) : null;
		results.scrapy = bestOf(runs.scrapy);
		results.crawl1 = bestOf(runs.crawl1);
		results.crawl2 = bestOf(runs.crawl2);
		// Latency was measured on the first round's 1-crawler cluster.
		const latency = runs.crawl1.map(r => ("error" in r ? undefined : r.latency)).find(Boolean);
		if (results.crawl1 && !("error" in results.crawl1) && latency) results.crawl1 = { ...results.crawl1, latency };
		if (cpuProf) results.profiles = summarizeProfiles(profDir("crawler"), log);

		if (!skip.has("ingest") && ingestRequests > 0) {
			section(`ingest: ${ingestRequests} crawl requests through one ingest node`);
			const prefix = `${runId}_ingest`;
			try {
				results.ingest = await runIngest({ requests: ingestRequests, site, port, db, prefix, logDir: join(logDir, prefix), timeoutMs: crawlTimeoutMs, kafka: clients.kafka, redis: clients.redis, log, nodeArgs: cpuProf ? ["--cpu-prof", `--cpu-prof-dir=${profDir("ingest")}`] : [] });
				log(`  ${results.ingest.queued} queued in ${results.ingest.seconds} s: ${results.ingest.requests_per_s} requests/s`);
				if (cpuProf) summarizeProfiles(profDir("ingest"), log);
			} catch (err) {
				results.ingest = { error: (err as Error).message };
				log(`  failed: ${(err as Error).message}`);
			}
		}
	} finally {
		await clients.kafka.close().catch(() => undefined);
		clients.redis.disconnect();
	}

	if (!skip.has("info") && infoRequests > 0) {
		section(`info on a backlog of ${infoRequests.toLocaleString("en")} pending requests (Redis db ${db}, flushed)`);
		results.info = await runInfoBenchmark({ requests: infoRequests, domains: 1000, crawls: 20, db, fullScan: env.BENCH_FULL_SCAN !== "0", log: line => log(line) });
	}
} finally {
	siteProc.stdin!.end();
	killAll();
}
load.push(loadavg()[0]!);

// ---- table
const ok = <T extends object>(r: T | { error: string } | null): T | null => (r && !("error" in r) ? r : null);
const bare = results.bare;
const scrapy = ok(results.scrapy);
const c1 = ok(results.crawl1);
const c2 = ok(results.crawl2);
const ingest = ok(results.ingest);
const info = results.info;
const best = c1 && c2 ? (c2.pages_per_s > c1.pages_per_s ? c2 : c1) : (c1 ?? c2);
const ratios = {
	cluster1_over_bare: ratio(c1?.pages_per_s, bare?.pages_per_s),
	cluster2_over_bare: ratio(c2?.pages_per_s, bare?.pages_per_s),
	cluster1_over_scrapy: ratio(c1?.pages_per_s, scrapy?.pages_per_s),
	cluster2_over_scrapy: ratio(c2?.pages_per_s, scrapy?.pages_per_s),
	bare_over_scrapy: ratio(bare?.pages_per_s, scrapy?.pages_per_s)
};
// The same ratios, paired by round (each round's crawls against its own bare loop), and their median.
const paired = {
	crawl1: pairedRatios(roundRates.map(r => ({ a: r.crawl1, b: r.bare }))),
	crawl2: pairedRatios(roundRates.map(r => ({ a: r.crawl2, b: r.bare }))),
	machine: pairedRatios(roundRates.map(r => ({ a: r.crawl1 === null && r.crawl2 === null ? null : Math.max(r.crawl1 ?? 0, r.crawl2 ?? 0), b: r.bare })))
};
const bestRatio = (a: number | null, b: number | null): number | null => (a === null ? b : b === null ? a : Math.max(a, b));
const infoWorst = info ? Math.max(info.crawlid_info_ms.p99, info.appid_info_ms.p99) : null;
const verdict = (value: number | null, pass: (v: number) => boolean) => (value === null ? "missing" : pass(value) ? "pass" : "MISS");
const targets = {
	// Per machine, as users compare crawl clusters: the cluster's best on this machine (1 or 2 crawler
	// processes) against the minimal 1-process loop; the 1-process ratio is printed beside it.
	cluster_over_bare: {
		target: ">= 0.7 (the cluster on this machine: its best of 1 and 2 crawler processes, vs the 1-process bare loop)",
		value: bestRatio(ratios.cluster1_over_bare, ratios.cluster2_over_bare),
		verdict: verdict(bestRatio(ratios.cluster1_over_bare, ratios.cluster2_over_bare), v => v >= 0.7)
	},
	cluster_over_scrapy: { target: ">= 5 (1 crawler process vs 1 Scrapy process)", value: ratios.cluster1_over_scrapy, verdict: verdict(ratios.cluster1_over_scrapy, v => v >= 5) },
	latency_p50_ms: { target: "< 50 ms", value: c1?.latency?.p50_ms ?? null, verdict: verdict(c1?.latency?.p50_ms ?? null, v => v < 50) },
	info_1m_ms: {
		target: `< 2000 ms on 1,000,000 pending${info && info.pending < 1_000_000 ? ` (this run: ${info.pending.toLocaleString("en")})` : ""}`,
		value: infoWorst,
		verdict: verdict(infoWorst, v => v < 2000)
	}
};

const fmt = (v: number | null | undefined, unit = "") => (v === null || v === undefined ? "missing" : `${v.toLocaleString("en")}${unit}`);
const crawlLine = (c: CrawlResult | null, r: CrawlResult | { error: string } | null) =>
	c ? `${fmt(c.pages_per_s, " pages/s")} (${c.pages}/${c.expected_pages} pages in ${c.seconds} s${c.complete ? "" : ", INCOMPLETE"})` : r && "error" in r ? `failed: ${r.error.slice(0, 80)}` : "skipped";
/** The third column of a target's row: the target and its verdict. */
const targetNote = (t: { target: string; verdict: string }, prefix = "") => `target ${prefix}${t.target}: ${t.verdict}`;
// Rows: measure, value, and a target with its verdict or a note.
const rows: Array<[string, string, string]> = [
	["bare loop (fetch + parse, 1 process)", bare ? `${fmt(bare.pages_per_s, " pages/s")} (${bare.pages} pages in ${bare.seconds} s)` : "skipped/failed", ""],
	["Scrapy (1 process)", scrapy ? `${fmt(scrapy.pages_per_s, " pages/s")} (${scrapy.pages} pages in ${scrapy.seconds} s, Scrapy ${scrapy.scrapy})` : results.scrapy && "error" in results.scrapy ? `missing: ${results.scrapy.error.slice(0, 100)}` : "skipped", ""],
	["cluster, 1 crawler", crawlLine(c1, results.crawl1), ""],
	["cluster, 2 crawlers", crawlLine(c2, results.crawl2), ""],
	[
		"cold: first crawl by fresh processes (bare | 1 | 2 crawlers)",
		`${fmt(bare?.cold_pages_per_s, " pages/s")} | ${fmt(c1?.cold_pages_per_s, " pages/s")} | ${fmt(c2?.cold_pages_per_s, " pages/s")}; cluster/bare ${fmt(ratio(c1?.cold_pages_per_s, bare?.cold_pages_per_s))} | ${fmt(ratio(c2?.cold_pages_per_s, bare?.cold_pages_per_s))}`,
		"not a target: the figures above are of the warm processes"
	],
	["ratio cluster/bare (1 | 2 crawlers)", `${fmt(ratios.cluster1_over_bare)} | ${fmt(ratios.cluster2_over_bare)}`, targetNote(targets.cluster_over_bare)],
	[
		`ratio cluster/bare paired by round, median of ${roundRates.length} (1 | 2 crawlers | best of both)`,
		[paired.crawl1, paired.crawl2, paired.machine].map(p => `${fmt(p.median)} (${p.each.map(x => fmt(x)).join(", ")})`).join(" | "),
		"each round's crawls against its own bare loop: less swayed by the machine's speed drifting during the run"
	],
	["ratio cluster/Scrapy (1 | 2 crawlers)", `${fmt(ratios.cluster1_over_scrapy)} | ${fmt(ratios.cluster2_over_scrapy)}`, targetNote(targets.cluster_over_scrapy)],
	[
		"feed-to-first-page latency",
		c1?.latency ? `p50 ${c1.latency.p50_ms} ms, p90 ${c1.latency.p90_ms} ms, p99 ${c1.latency.p99_ms} ms, min ${c1.latency.min_ms} ms; feed -> parsed p50 ${c1.latency.feed_to_parsed_ms.p50} ms, parsed -> read p50 ${c1.latency.parsed_to_read_ms.p50} ms (${c1.latency.samples} crawls${c1.latency.timed_out ? `, ${c1.latency.timed_out} timed out` : ""})` : "skipped",
		targetNote(targets.latency_p50_ms, "p50 ")
	],
	["ingest throughput (1 ingest)", ingest ? `${fmt(ingest.requests_per_s, " requests/s")} (${ingest.queued} in ${ingest.seconds} s, ${ingest.redis_commands_per_request} Redis commands each)` : results.ingest && "error" in results.ingest ? `failed: ${results.ingest.error.slice(0, 80)}` : "skipped", ""],
	[
		"CPU per page: bare loop | crawler processes (1 | 2 crawlers)",
		`${fmt(bare?.cpu_ms_per_page, " ms")} | ${fmt(c1?.crawler_cpu_ms_per_page, " ms")} | ${fmt(c2?.crawler_cpu_ms_per_page, " ms")}`,
		""
	],
	[
		"whole machine busy during the crawl (1 | 2 crawlers)",
		`${c1?.cpu_share?.machine !== undefined ? `${Math.round(c1.cpu_share.machine * 100)}%` : "missing"} | ${c2?.cpu_share?.machine !== undefined ? `${Math.round(c2.cpu_share.machine * 100)}%` : "missing"} of ${cpus().length * 100}%`,
		""
	],
	["Redis commands per page, incl. inside Lua (1 | 2 crawlers)", `${fmt(c1?.redis_commands_per_page)} | ${fmt(c2?.redis_commands_per_page)}`, ""],
	["Redis bytes per page, in / out (1 | 2 crawlers)", [c1, c2].map(c => (c?.redis_bytes_per_page ? `${fmt(c.redis_bytes_per_page.in)} / ${fmt(c.redis_bytes_per_page.out)} B` : "missing")).join(" | "), ""],
	["Kafka bytes per page", best ? `${fmt(best.kafka_bytes_per_page)} B (crawled_firehose message)` : "missing", ""],
	[
		`info on ${info ? info.pending.toLocaleString("en") : "?"} pending`,
		info ? `one crawlid p50 ${info.crawlid_info_ms.p50} ms, p99 ${info.crawlid_info_ms.p99} ms; one appid (10 crawls) p50 ${info.appid_info_ms.p50} ms, p99 ${info.appid_info_ms.p99} ms` : "skipped",
		targetNote(targets.info_1m_ms)
	]
];
if (c1) rows.push(["Redis commands per page, top (1 crawler)", Object.entries(c1.redis_top_commands_per_page).map(([k, v]) => `${k} ${v}`).join(", "), ""]);
if (ingest) rows.push(["Redis commands per request, top (ingest)", Object.entries(ingest.redis_top_commands_per_request).map(([k, v]) => `${k} ${v}`).join(", "), ""]);
if (info) rows.push(["info backlog: fill / full scan / memory", `${info.fill_seconds} s / ${info.full_scan_ms === null ? "skipped" : `${info.full_scan_ms} ms`} / ${info.redis_used_memory_mb} MB`, ""]);

const w0 = Math.max(...rows.map(r => r[0].length));
log(`\n== results (${site.pages} pages, ${site.hosts} hosts, concurrency ${concurrency}${repeat > 1 ? `, best of ${repeat} rounds` : ""}; load average ${load.map(l => l.toFixed(2)).join(" -> ")})`);
for (const [k, v, t] of rows) log(`${k.padEnd(w0)}  ${v}${t ? `   [${t}]` : ""}`);

const machine = { cpus: cpus().length, cpu: cpus()[0]?.model ?? "?", memory_gb: Math.round(totalmem() / 2 ** 30), node: process.version, load_average: load.map(l => round(l, 2)) };
const out = resolve(ROOT, "bench/results");
mkdirSync(out, { recursive: true });
const file = resolve(out, "latest.json");
writeFileSync(
	file,
	`${JSON.stringify({ date: started.toISOString(), run: runId, machine, config: { site, maxdepth, concurrency, repeat, latency_samples: latencySamples, ingest_requests: ingestRequests, skipped: [...skip] }, ...results, ratios, paired_ratios: paired, targets, runs: repeat > 1 ? runs : undefined }, null, 2)}\n`
);
log(`\nResults written to ${file}`);
process.exit(0);
