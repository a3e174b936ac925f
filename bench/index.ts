/**
 * npm run bench: performance figures (not part of npm test). Brings up the local data stack, runs each
 * benchmark, prints a table and writes bench/results/latest.json.
 * So far: the info action on a large backlog. (Crawl throughput and latency benchmarks: issue 8.)
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { resolve } from "node:path";
import { runInfoBenchmark } from "./info-backlog.ts";

const log = (line: string) => process.stdout.write(`${line}\n`);
const up = spawnSync("bash", ["scripts/infra.sh", "up"], { stdio: "inherit" });
if (up.status !== 0) process.exit(up.status ?? 1);

const requests = Number(process.env.BENCH_INFO_REQUESTS ?? 1_000_000);
log(`info on a backlog of ${requests.toLocaleString("en")} pending requests (Redis db ${process.env.BENCH_REDIS_DB ?? 10}, flushed):`);
const info = await runInfoBenchmark({ requests, domains: 1000, crawls: 20, db: Number(process.env.BENCH_REDIS_DB ?? 10), fullScan: process.env.BENCH_FULL_SCAN !== "0", log });

const machine = { cpus: cpus().length, cpu: cpus()[0]?.model ?? "?", memory_gb: Math.round(totalmem() / 2 ** 30), node: process.version };
const rows: Array<[string, string]> = [
	["pending requests", info.pending.toLocaleString("en")],
	["domains / crawls", `${info.domains} / ${info.crawls}`],
	["fill time", `${info.fill_seconds} s (${Math.round(info.pending / info.fill_seconds).toLocaleString("en")} enqueues/s)`],
	["info, one crawlid", `p50 ${info.crawlid_info_ms.p50} ms, p99 ${info.crawlid_info_ms.p99} ms`],
	["info, one appid (10 crawls)", `p50 ${info.appid_info_ms.p50} ms, p99 ${info.appid_info_ms.p99} ms`],
	["original's way: scan every queue", info.full_scan_ms === null ? "skipped (BENCH_FULL_SCAN=0)" : `${info.full_scan_ms} ms`],
	["Redis memory", `${info.redis_used_memory_mb} MB`]
];
const width = Math.max(...rows.map(r => r[0].length));
log("");
for (const [k, v] of rows) log(`${k.padEnd(width)}  ${v}`);
const out = resolve("bench/results");
mkdirSync(out, { recursive: true });
writeFileSync(resolve(out, "latest.json"), `${JSON.stringify({ date: new Date().toISOString(), machine, info }, null, 2)}\n`);
log(`\nResults written to ${resolve(out, "latest.json")}`);
