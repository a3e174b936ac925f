/**
 * Ingest throughput: one ingest node (its own process, topic prefix and the flushed Redis db `db`), no
 * crawler. After a probe request shows the node consumes, `requests` distinct crawl requests are produced to
 * the incoming topic as fast as Kafka takes them (batches of 500); the figure is requests/s from the first
 * send until all of them are queued in Redis (the sum of the domain queues' ZCARD, polled every 20 ms).
 */
import { queueKey } from "../lib/frontier/keys.ts";
import { commandsBetween, deleteBenchTopics, feed, INGEST_READY, nodeEnv, redisCommands, sleep, spawnNode, type BenchNode, type ClusterRunOptions } from "./cluster.ts";
import { hostAddress, pageUrl } from "./site.ts";
import { round } from "./stats.ts";

export interface IngestOptions extends ClusterRunOptions {
	requests: number;
	/** Node flags of the ingest process (e.g. --cpu-prof). */
	nodeArgs?: string[];
}

export interface IngestResult {
	requests: number;
	queued: number;
	complete: boolean;
	feed_seconds: number;
	seconds: number;
	requests_per_s: number;
	redis_commands_per_request: number;
	redis_top_commands_per_request: Record<string, number>;
}

export async function runIngest(o: IngestOptions): Promise<IngestResult> {
	let node: BenchNode | null = null;
	try {
		await o.redis.flushdb();
		o.log(`  starting 1 ingest node (topic prefix ${o.prefix})`);
		node = await spawnNode(`${o.prefix}-ingest`, nodeEnv(o.prefix, o.db, { SERVICES: "ingest" }), o.logDir, INGEST_READY, { nodeArgs: o.nodeArgs });
		const incoming = `${o.prefix}.incoming`;
		const keys = Array.from({ length: o.site.hosts }, (_, h) => queueKey("link", hostAddress(h)));
		const queued = async () => {
			const pipeline = o.redis.pipeline();
			for (const k of keys) pipeline.zcard(k);
			return ((await pipeline.exec()) ?? []).reduce((sum, [, n]) => sum + Number(n ?? 0), 0);
		};
		const request = (i: number) => ({ url: `${pageUrl(o.site, o.port, i % o.site.pages)}?n=${i}`, appid: "bench", crawlid: "ingest", maxdepth: 1, spiderid: "link" });
		// The node has joined its group and owns the partitions once a probe comes through.
		await feed(o.kafka, incoming, [request(o.requests)]);
		const probeEnd = performance.now() + 60_000;
		while ((await queued()) < 1 && performance.now() < probeEnd) await sleep(50);
		const base = await queued();
		if (base < 1) throw new Error(`ingest probe not queued after 60 s; see ${node.log}`);

		const before = await redisCommands(o.redis);
		const t0 = performance.now();
		const all = Array.from({ length: o.requests }, (_, i) => request(i));
		await feed(o.kafka, incoming, all);
		const fed = performance.now();
		o.log(`  ${o.requests} requests produced in ${round((fed - t0) / 1000, 2)} s; waiting until they are queued`);
		const end = t0 + o.timeoutMs;
		let n = 0;
		let lastReport = performance.now();
		let polls = 0;
		while ((n = (await queued()) - base) < o.requests && performance.now() < end) {
			polls++;
			await sleep(20);
			if (performance.now() - lastReport > 2000) {
				lastReport = performance.now();
				o.log(`  ${n} / ${o.requests} queued (${round(n / ((performance.now() - t0) / 1000))} requests/s)`);
			}
		}
		const t1 = performance.now();
		const after = await redisCommands(o.redis);
		const seconds = (t1 - t0) / 1000;
		// The polling itself: one pipeline of ZCARDs per poll, plus the final one.
		const delta = commandsBetween(before, after);
		const commands = delta.total - (polls + 1) * keys.length;
		delta.byCommand.set("zcard", (delta.byCommand.get("zcard") ?? 0) - (polls + 1) * keys.length);
		const top = [...delta.byCommand.entries()].filter(([, c]) => c > 0).sort((a, b) => b[1] - a[1]).slice(0, 8);
		return {
			requests: o.requests,
			queued: n,
			complete: n >= o.requests,
			feed_seconds: round((fed - t0) / 1000, 2),
			seconds: round(seconds, 2),
			requests_per_s: round(n / seconds),
			redis_commands_per_request: round(commands / Math.max(1, n), 1),
			redis_top_commands_per_request: Object.fromEntries(top.map(([cmd, c]) => [cmd, round(c / Math.max(1, n), 2)]))
		};
	} finally {
		await node?.stop();
		await deleteBenchTopics(o.kafka, `${o.prefix}.`);
	}
}
