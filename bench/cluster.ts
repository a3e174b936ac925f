/**
 * What the cluster benchmarks share: cluster node processes (`node bin/node.ts --no-repl`, one per node,
 * logging to a file), the Kafka client and Redis connection of the benchmark itself, and a reader of the
 * crawled firehose that counts pages per crawlid as they come out.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { Redis } from "ioredis";
import { loadSettings, type Settings } from "../config/index.ts";
import { KafkaClient, type KafkaConsumerHandle, type KafkaLog } from "../lib/kafka/client.ts";
import { redisOptions } from "../lib/redis/client.ts";
import type { SiteSpec } from "./site.ts";
import { commandDelta, parseCommandStats } from "./stats.ts";
import { waitForCount } from "./wait.ts";

export const ROOT = resolve(import.meta.dirname, "..");
export const sleep = (ms: number) => new Promise<void>(r => setTimeout(r, ms));

/** What every cluster measurement is given: the site, its own Redis db and topic prefix, the shared clients. */
export interface ClusterRunOptions {
	site: SiteSpec;
	port: number;
	db: number;
	prefix: string;
	logDir: string;
	timeoutMs: number;
	kafka: KafkaClient;
	redis: Redis;
	log: (line: string) => void;
}

const quiet: KafkaLog = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined };

/** Every node process still running, so an interrupted benchmark leaves none behind. */
const living = new Set<ChildProcess>();
export function killAll(): void {
	for (const child of living) child.kill("SIGKILL");
}

export interface BenchNode {
	name: string;
	child: ChildProcess;
	log: string;
	stop(): Promise<void>;
}

/** The environment of a node of one measurement: its own topics, ZooKeeper path and (shared) Redis db. */
export function nodeEnv(prefix: string, db: number, extra: Record<string, string>): NodeJS.ProcessEnv {
	const env: NodeJS.ProcessEnv = { ...process.env };
	delete env.NODE_ENV;
	delete env.TRANSPORTER; // no transporter: every node is its own cluster of one, sharing Redis and Kafka
	return {
		...env,
		REDIS_DB: String(db),
		KAFKA_TOPIC_PREFIX: prefix,
		KAFKA_INCOMING_TOPIC: `${prefix}.incoming`,
		KAFKA_GROUP: `${prefix}-group`,
		ZOOKEEPER_ASSIGN_PATH: `/${prefix}/crawler/`,
		SPIDERS: "link",
		// The throttle opened wide: far more hits per window than the site can serve.
		QUEUE_HITS: "1000000",
		QUEUE_WINDOW: "1",
		QUEUE_MODERATED: "false",
		SCHEDULER_IP_ENABLED: "false",
		SCHEDULER_QUEUE_REFRESH: "1",
		STATS_DUMP: "0",
		LOG_LEVEL: "INFO",
		...extra
	};
}

/**
 * Start `node bin/node.ts --no-repl` with `env`; resolves once its log shows `ready` (rejects after
 * timeoutMs or when it exits first). stdout and stderr go to `<logDir>/<name>.log`.
 */
export async function spawnNode(name: string, env: NodeJS.ProcessEnv, logDir: string, ready: RegExp, opts: { timeoutMs?: number; nodeArgs?: string[] } = {}): Promise<BenchNode> {
	mkdirSync(logDir, { recursive: true });
	const log = join(logDir, `${name}.log`);
	const out = createWriteStream(log);
	const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), "bin/node.ts", "--no-repl"], { cwd: ROOT, env: { ...env, NODE_ID: name }, stdio: ["ignore", "pipe", "pipe"] });
	living.add(child);
	child.once("exit", () => living.delete(child));
	child.stdout!.pipe(out, { end: false });
	child.stderr!.pipe(out, { end: false });
	const node: BenchNode = {
		name,
		child,
		log,
		async stop() {
			if (child.exitCode === null && child.signalCode === null) {
				const exited = new Promise<void>(r => child.once("exit", () => r()));
				child.kill("SIGTERM");
				const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
				await exited;
				clearTimeout(timer);
			}
			out.end();
		}
	};
	await new Promise<void>((resolvePromise, reject) => {
		let seen = "";
		const onData = (chunk: Buffer) => {
			seen = (seen + chunk.toString("utf8")).slice(-4096);
			if (ready.test(seen)) done();
		};
		const onExit = (code: number | null) => done(new Error(`node ${name} exited (code ${code}) before it was ready; see ${log}`));
		const timer = setTimeout(() => done(new Error(`node ${name} not ready after ${(opts.timeoutMs ?? 60_000) / 1000} s; see ${log}`)), opts.timeoutMs ?? 60_000);
		function done(err?: Error) {
			clearTimeout(timer);
			child.stdout!.off("data", onData);
			child.off("exit", onExit);
			if (err) reject(err);
			else resolvePromise();
		}
		child.stdout!.on("data", onData);
		child.once("exit", onExit);
	});
	return node;
}

export const CRAWLER_READY = /\/crawler\] Crawling/;
export const INGEST_READY = /Consuming API requests/;

/** The benchmark's own settings, Kafka client and Redis connection (database `db`). */
export function benchClients(db: number): { settings: Settings; kafka: KafkaClient; redis: Redis } {
	const settings = loadSettings({ localFile: false, overrides: { REDIS_DB: db, KAFKA_PRODUCER_BATCH_LINGER_MS: 0 } });
	const kafka = new KafkaClient(settings, "bench", quiet);
	const redis = new Redis(redisOptions(settings, "bench"));
	return { settings, kafka, redis };
}

/** Redis commands processed so far, in total and per command. */
export interface RedisCounters {
	total: number;
	byCommand: Map<string, number>;
	/** Bytes the server read from and wrote to its clients (total_net_input_bytes, total_net_output_bytes). */
	netIn: number;
	netOut: number;
}

export async function redisCommands(redis: Redis): Promise<RedisCounters> {
	const stats = await redis.info("stats");
	const field = (name: string) => Number(new RegExp(`${name}:(\\d+)`).exec(stats)?.[1] ?? 0);
	return { total: field("total_commands_processed"), byCommand: parseCommandStats(await redis.info("commandstats")), netIn: field("total_net_input_bytes"), netOut: field("total_net_output_bytes") };
}

export function commandsBetween(before: RedisCounters, after: RedisCounters) {
	// Minus the two INFO calls of the first reading itself (their bytes are a few kB, left in).
	return { total: after.total - before.total - 2, byCommand: commandDelta(before.byCommand, after.byCommand), netIn: after.netIn - before.netIn, netOut: after.netOut - before.netOut };
}

interface CrawlCount {
	urls: Set<string>;
	messages: number;
	bytes: number;
	first: number;
	/** Date.now() of the first page read. */
	firstWall: number;
	/**
	 * Kafka timestamp of each message that brought a new page, in reading order: when the broker appended it
	 * on a topic with message.timestamp.type=LogAppendTime (FIREHOSE_TOPIC_CONFIG), else when it was produced.
	 */
	landed: number[];
	/** ms from each page's record timestamp (set by the crawler when the page was parsed) to its reading here. */
	lagMs: number[];
}

const CRAWLID = Buffer.from('"crawlid":"');
const URL_KEY = Buffer.from('"url":"');
const TIMESTAMP = Buffer.from('"timestamp":"');

/** The string value after the last occurrence of `key` (records have sorted keys: crawlid and url follow the body). */
function lastStringField(value: Buffer, key: Buffer): string | null {
	const at = value.lastIndexOf(key);
	if (at < 0) return null;
	const start = at + key.length;
	const end = value.indexOf(0x22, start);
	return end < 0 ? null : value.toString("utf8", start, end);
}

/** Readers started by this process: each has a consumer group of its own. */
let readers = 0;

/** How a FirehoseReader reads: `bulk` for throughput, `prompt` for latency. */
export type ReaderMode = "bulk" | "prompt";

/**
 * A bulk reader's fetches wait for this much (or the consumer's 50 ms max wait): tens of pages per fetch
 * instead of one or two, so the reader, on the same cores as the cluster, takes less of them.
 */
const BULK_MIN_BYTES = 1024 * 1024;

/**
 * Reads a crawled_firehose topic and counts pages per crawlid: `bulk` from the topic's beginning in large
 * fetches (crawl throughput); `prompt` from its end, each page as soon as it is there (latency).
 */
export class FirehoseReader {
	readonly counts = new Map<string, CrawlCount>();
	private handle: KafkaConsumerHandle | null = null;
	private waiters = new Set<() => void>();

	private readonly kafka: KafkaClient;
	readonly topic: string;
	readonly mode: ReaderMode;
	private readonly groupId: string;

	/** `groupId`: a consumer group shared with an earlier reader, to go on where it stopped (default: a new one). */
	constructor(kafka: KafkaClient, topic: string, mode: ReaderMode = "bulk", groupId?: string) {
		this.kafka = kafka;
		this.topic = topic;
		this.mode = mode;
		this.groupId = groupId ?? `${topic}-reader-${mode}-${process.pid}-${++readers}`;
	}

	async start(): Promise<void> {
		this.handle = await this.kafka.consume({
			groupId: this.groupId,
			topics: [this.topic],
			fromBeginning: this.mode === "bulk",
			minBytes: this.mode === "bulk" ? BULK_MIN_BYTES : 1,
			onMessage: async m => {
				if (!m.value) return;
				const now = performance.now();
				const wall = Date.now();
				const crawlid = lastStringField(m.value, CRAWLID) ?? "?";
				let c = this.counts.get(crawlid);
				if (!c) this.counts.set(crawlid, (c = { urls: new Set(), messages: 0, bytes: 0, first: now, firstWall: wall, landed: [], lagMs: [] }));
				c.messages++;
				c.bytes += m.value.length;
				// Python's isoformat in UTC without a zone, microseconds: keep the milliseconds.
				const stamp = lastStringField(m.value, TIMESTAMP);
				if (stamp) c.lagMs.push(wall - Date.parse(`${stamp.slice(0, 23)}Z`));
				const url = lastStringField(m.value, URL_KEY);
				if (url !== null && !c.urls.has(url)) {
					c.urls.add(url);
					c.landed.push(Number(m.timestamp));
				}
				for (const w of [...this.waiters]) w();
			}
		});
	}

	pages(crawlid: string): number {
		return this.counts.get(crawlid)?.urls.size ?? 0;
	}

	/**
	 * Wait until `crawlid` has `pages` distinct pages, at most timeoutMs, and at most stallMs without a new
	 * page. Resolves with whether the count was reached.
	 */
	async waitFor(crawlid: string, pages: number, timeoutMs: number, stallMs = timeoutMs, onProgress?: (n: number) => void): Promise<boolean> {
		return waitForCount(() => this.pages(crawlid), pages, {
			timeoutMs,
			stallMs,
			onProgress,
			// Woken by every message read, or after 250 ms.
			pause: remainingMs =>
				new Promise<void>(resolve => {
					const wake = () => {
						this.waiters.delete(wake);
						clearTimeout(timer);
						resolve();
					};
					const timer = setTimeout(wake, Math.min(250, remainingMs));
					this.waiters.add(wake);
				})
		});
	}

	async stop(): Promise<void> {
		await this.handle?.stop();
		this.handle = null;
	}
}

/** How often a TopicWatcher reads the topic's end offset. */
const WATCH_EVERY_MS = 100;

/**
 * The config of a benchmark cluster's crawled_firehose topic (created before its nodes start): every
 * message carries the time the broker appended it, so a crawl is timed to the millisecond from the pages
 * read back after it, and nothing needs to watch the topic closely while the cluster crawls.
 */
export const FIREHOSE_TOPIC_CONFIG: Record<string, string> = { "message.timestamp.type": "LogAppendTime" };

/**
 * How many messages are on a one-partition topic, without reading them: its end offset (high watermark),
 * read every WATCH_EVERY_MS, to know when a crawl has landed and to show progress.
 */
export class TopicWatcher {
	private last = 0;
	private timer: NodeJS.Timeout | null = null;
	private reading: Promise<void> | null = null;
	private readonly kafka: KafkaClient;
	readonly topic: string;

	constructor(kafka: KafkaClient, topic: string) {
		this.kafka = kafka;
		this.topic = topic;
	}

	/** The end offset now (one reading). */
	async read(): Promise<number> {
		const offsets = await this.kafka.topicEndOffsets(this.topic);
		if (offsets.length !== 1) throw new Error(`${this.topic}: ${offsets.length} partitions; the watcher reads one-partition topics`);
		this.last = Number(offsets[0]!.high);
		return this.last;
	}

	start(): void {
		const tick = () => {
			this.reading = this.read().then(
				() => undefined,
				() => undefined
			);
			void this.reading.then(() => {
				if (this.timer) this.timer = setTimeout(tick, WATCH_EVERY_MS);
			});
		};
		this.timer = setTimeout(tick, 0);
	}

	get high(): number {
		return this.last;
	}

	/** Wait until the end offset reaches `offset`, at most timeoutMs and at most stallMs without growth. */
	async waitFor(offset: number, timeoutMs: number, stallMs: number, onProgress?: (high: number) => void): Promise<boolean> {
		return waitForCount(() => this.high, offset, { timeoutMs, stallMs, onProgress, pause: () => sleep(WATCH_EVERY_MS) });
	}

	async stop(): Promise<void> {
		const timer = this.timer;
		this.timer = null;
		if (timer) clearTimeout(timer);
		await this.reading;
	}
}

export interface CrawlRequest {
	url: string;
	appid: string;
	crawlid: string;
	maxdepth: number;
	spiderid: string;
}

/** Produce requests to the incoming topic (one Kafka request per batch of `batch`). */
export async function feed(kafka: KafkaClient, topic: string, requests: object[], batch = 500): Promise<void> {
	for (let i = 0; i < requests.length; i += batch) await kafka.send(topic, requests.slice(i, i + batch).map(r => ({ value: JSON.stringify(r) })));
}

/** Topics of benchmark measurements: `<run id>_<measurement>.<name>` (run ids are `bench<base-36 time>`). */
const BENCH_TOPIC = /^bench[0-9a-z]+_[^.]+\./;

/**
 * The topics to delete: those starting with `prefix` (one measurement's, or one run's), or with no prefix
 * every benchmark topic. A measurement's pages are about 0.5 GB on the broker's disk and worth nothing once
 * counted; kept, they filled this machine's disk (67 GB after a day of runs) and slowed the broker.
 */
export function benchTopicsToDelete(topics: readonly string[], prefix?: string): string[] {
	return topics.filter(t => BENCH_TOPIC.test(t) && (prefix === undefined || t.startsWith(prefix)));
}

/** Delete benchmark topics (see benchTopicsToDelete); returns how many. Never throws: a leftover is harmless. */
export async function deleteBenchTopics(kafka: KafkaClient, prefix?: string): Promise<number> {
	try {
		const doomed = benchTopicsToDelete(await kafka.listTopics(), prefix);
		if (doomed.length) await kafka.deleteTopics(doomed);
		return doomed.length;
	} catch {
		return 0;
	}
}
