/**
 * Stats responses of Scrapy Cluster's StatsMonitor (redis-monitor/plugins/stats_monitor.py), as pure
 * functions: which keys to scan for a stats type, which Redis value each key needs, and how keys with
 * their values become the response dicts. The stats service only gathers keys and values.
 *
 * Keys read (lib/stats/keys.ts, lib/frontier/keys.ts):
 *   stats:<component>:{total,fail,<Plugin>}:<secs>|lifetime   counters of kafka-monitor, redis-monitor, rest
 *   stats:<component>:self:<host>:<id>                        heartbeat of one instance
 *   stats:crawler:<host>:<spiderid>:<id>                      heartbeat of one crawler spider type (5 parts)
 *   stats:crawler:<host>:<spiderid>:<code>:<secs>|lifetime    crawled responses per status code (6 parts)
 *   <spiderid>:queues                                         registry SET of a spider's domain queue keys
 *   <spiderid>:<domain>:queue                                 domain queue ZSET (backlog = ZCARD)
 */
import { parseQueueKey, spiderOfKeyPart } from "../frontier/keys.ts";
import type { StatsRequest } from "../requests/kinds/stats.ts";

export type StatsType = StatsRequest["stats"];

/** Components whose stats have the plugin layout (total/fail/<Plugin>/self). */
export const PLUGIN_COMPONENTS = ["kafka-monitor", "redis-monitor", "rest"] as const;
export type PluginComponent = (typeof PLUGIN_COMPONENTS)[number];

/** SCAN batch size: the stats service never uses KEYS, which blocks Redis on a large keyspace. */
export const SCAN_COUNT = 1000;

/** Count per window (seconds as a string) and "lifetime". */
export type Counts = Record<string, number>;

export interface PluginStats {
	total?: Counts;
	fail?: Counts;
	plugins?: Record<string, Counts>;
	nodes?: Record<string, string[]>;
}

/** One spider type: live instances (`count`) and, per status code, its counts. */
export type SpiderStats = { count: number } & { [code: string]: Counts | number };
export type SpidersDict = { unique_spider_count: number; total_spider_count: number } & { [spider: string]: SpiderStats | number };

/** Per host: per status code, counts summed over the spider types of that host. */
export type MachinesDict = { count: number } & { [host: string]: Record<string, Counts> | number };

export interface QueueStats {
	spider_backlog: number;
	num_domains: number;
	domains: Array<{ domain: string; backlog: number }>;
}
export type QueuesDict = { total_backlog: number } & { [queue: string]: QueueStats | number };

export interface CrawlerStats {
	spiders: SpidersDict;
	machines: MachinesDict;
	/** The original's code sends `queue` here (its documentation example shows `queues`). */
	queue: QueuesDict;
}

/** A stats key with the value read for it (window count, lifetime count, or 1 for a live heartbeat). */
export interface StatEntry {
	key: string;
	value: number;
}

/** A domain queue key with its backlog (ZCARD). */
export interface QueueEntry {
	key: string;
	backlog: number;
}

/** What the stats service read from Redis for one request. */
export interface StatsInput {
	stats: StatEntry[];
	queues: QueueEntry[];
}

/** Which Redis command gives a key's value. */
export type ValueQuery =
	/** ZCOUNT key (now-seconds +inf: only the events still inside the window (windows are trimmed only every STATS_CYCLE). */
	| { kind: "window"; seconds: number }
	/** PFCOUNT key. */
	| { kind: "lifetime" }
	/** EXISTS key: a heartbeat, counted while it lives. */
	| { kind: "heartbeat" };

/** What to SCAN for a stats type, and which parts of the scanned keys it uses. */
export interface StatsPlan {
	/** SCAN MATCH patterns. */
	patterns: string[];
	/** Plugin-layout components reported. */
	components: PluginComponent[];
	/** Crawler stats keys (stats:crawler:*) needed. */
	crawler: boolean;
	/** Queue registries and domain queues needed. */
	queues: boolean;
}

// Every queue registry (<spiderid>:queues) and domain queue (<spiderid>:<domain>:queue) matches this
// one pattern, so a queue report costs one pass over the keyspace instead of two; the keys are sorted
// out by classifyQueueKey.
const QUEUE_PATTERN = "*:queue*";

export function statsPlan(type: StatsType): StatsPlan {
	switch (type) {
		case "kafka-monitor":
		case "redis-monitor":
		case "rest":
			return { patterns: [`stats:${type}:*`], components: [type], crawler: false, queues: false };
		case "spider":
		case "machine":
			return { patterns: ["stats:crawler:*"], components: [], crawler: true, queues: false };
		case "queue":
			return { patterns: [QUEUE_PATTERN], components: [], crawler: false, queues: true };
		case "crawler":
			return { patterns: ["stats:crawler:*", QUEUE_PATTERN], components: [], crawler: true, queues: true };
		case "all":
			// One pass over stats:* serves the four stats families.
			return { patterns: ["stats:*", QUEUE_PATTERN], components: [...PLUGIN_COMPONENTS], crawler: true, queues: true };
		default:
			throw new Error(`unknown stats type "${String(type)}"`);
	}
}

function endQuery(end: string | undefined): ValueQuery | null {
	if (end === "lifetime") return { kind: "lifetime" };
	if (end !== undefined && /^\d+$/.test(end) && Number(end) > 0) return { kind: "window", seconds: Number(end) };
	return null;
}

/**
 * The value a stats key needs, or null for keys that are not part of any report (other components,
 * rolled-over or malformed keys). Heartbeats are told apart from counters by their number of parts, as
 * the original did (an all-digit instance id would otherwise look like a window).
 */
export function statsKeyQuery(key: string, plan?: Pick<StatsPlan, "components" | "crawler">): ValueQuery | null {
	const parts = key.split(":");
	if (parts[0] !== "stats" || parts.some(p => p === "")) return null;
	const component = parts[1]!;
	if (component === "crawler") {
		if (plan && !plan.crawler) return null;
		if (parts.length === 5) return { kind: "heartbeat" };
		if (parts.length === 6) return endQuery(parts[5]);
		return null;
	}
	if (plan && !(plan.components as readonly string[]).includes(component)) return null;
	if (parts[2] === "self") return parts.length === 5 ? { kind: "heartbeat" } : null;
	return parts.length === 4 ? endQuery(parts[3]) : null;
}

/** A key found by the queue scan: a spider's queue registry, a domain queue, or neither. */
export function classifyQueueKey(key: string): { kind: "registry"; spiderid: string } | { kind: "queue"; spiderid: string; domain: string } | null {
	const parts = key.split(":");
	if (parts.length === 2 && parts[1] === "queues" && parts[0]) return { kind: "registry", spiderid: spiderOfKeyPart(parts[0]) };
	if (parts.length < 3) return null;
	const q = parseQueueKey(key);
	return q ? { kind: "queue", ...q } : null;
}

/**
 * Entries whose value is 0 stand for keys that do not exist: a window whose events all aged out is a
 * deleted ZSET in the original (Redis drops empty sorted sets once trimmed), a vanished heartbeat is gone.
 */
const live = (entries: Iterable<StatEntry>): StatEntry[] => [...entries].filter(e => Number.isFinite(e.value) && e.value > 0);

/**
 * kafka-monitor / redis-monitor / rest: `_get_plugin_stats(name)`. Entries of other components are ignored;
 * node ids are listed in the order of the entries.
 */
export function pluginStats(component: string, entries: Iterable<StatEntry>): PluginStats {
	const out: PluginStats = {};
	for (const { key, value } of live(entries)) {
		const parts = key.split(":");
		if (parts[0] !== "stats" || parts[1] !== component) continue;
		const query = statsKeyQuery(key);
		if (!query) continue;
		const main = parts[2]!;
		const end = parts[3]!;
		if (query.kind === "heartbeat") {
			const nodes = (out.nodes ??= {});
			(nodes[end] ??= []).push(parts[4]!);
		} else if (main === "total" || main === "fail") {
			(out[main] ??= {})[end] = value;
		} else {
			const plugins = (out.plugins ??= {});
			(plugins[main] ??= {})[end] = value;
		}
	}
	return out;
}

interface CrawlerKey {
	host: string;
	spider: string;
	/** Heartbeat: the instance id; status counter: code and window. */
	id?: string;
	code?: string;
	end?: string;
}

function crawlerKeys(entries: Iterable<StatEntry>): Array<CrawlerKey & { value: number }> {
	const out: Array<CrawlerKey & { value: number }> = [];
	for (const { key, value } of live(entries)) {
		const parts = key.split(":");
		if (parts[1] !== "crawler") continue;
		const query = statsKeyQuery(key);
		if (!query) continue;
		const [, , host, spider, a, b] = parts as [string, string, string, string, string, string | undefined];
		out.push(query.kind === "heartbeat" ? { host, spider, id: a, value } : { host, spider, code: a, end: b, value });
	}
	return out;
}

/** spider: `get_spider_stats()`. */
export function spiderStats(entries: Iterable<StatEntry>): { spiders: SpidersDict } {
	const spiders: Record<string, SpiderStats> = {};
	const running = new Set<string>();
	let total = 0;
	for (const k of crawlerKeys(entries)) {
		const spider = (spiders[k.spider] ??= { count: 0 });
		if (k.id !== undefined) {
			spider.count++;
			total++;
			running.add(k.spider);
		} else {
			const counts = (spider[k.code!] ??= {}) as Counts;
			// The original assigned each host's value, so the last host read won; the counts of one
			// spider type are summed over all hosts here.
			counts[k.end!] = (counts[k.end!] ?? 0) + k.value;
		}
	}
	return { spiders: { ...spiders, unique_spider_count: running.size, total_spider_count: total } };
}

/** machine: `get_machine_stats()`; hosts come from status counters only (not heartbeats), as in the original. */
export function machineStats(entries: Iterable<StatEntry>): { machines: MachinesDict } {
	const machines: Record<string, Record<string, Counts>> = {};
	for (const k of crawlerKeys(entries)) {
		if (k.id !== undefined) continue;
		const counts = ((machines[k.host] ??= {})[k.code!] ??= {});
		counts[k.end!] = (counts[k.end!] ?? 0) + k.value;
	}
	return { machines: { ...machines, count: Object.keys(machines).length } };
}

/** queue: `get_queue_stats()`. Domains in the order given; empty or unparseable queues are left out. */
export function queueStats(queues: Iterable<QueueEntry>): { queues: QueuesDict } {
	const out: Record<string, QueueStats> = {};
	let total = 0;
	const seen = new Set<string>();
	for (const { key, backlog } of queues) {
		const q = parseQueueKey(key);
		if (!q || !(backlog > 0) || seen.has(key)) continue;
		seen.add(key);
		const entry = (out[`queue_${q.spiderid}`] ??= { spider_backlog: 0, num_domains: 0, domains: [] });
		entry.spider_backlog += backlog;
		entry.num_domains++;
		entry.domains.push({ domain: q.domain, backlog });
		total += backlog;
	}
	return { queues: { ...out, total_backlog: total } };
}

/** crawler: `get_crawler_stats()`. */
export function crawlerStats(input: StatsInput): CrawlerStats {
	return { spiders: spiderStats(input.stats).spiders, machines: machineStats(input.stats).machines, queue: queueStats(input.queues).queues };
}

/** The response of a stats request without uuid and server_time: the type's dict plus `stats` and `appid`. */
export function statsResponse(type: StatsType, appid: string, input: StatsInput): Record<string, unknown> {
	let body: object;
	switch (type) {
		case "kafka-monitor":
		case "redis-monitor":
		case "rest":
			body = pluginStats(type, input.stats);
			break;
		case "spider":
			body = spiderStats(input.stats);
			break;
		case "machine":
			body = machineStats(input.stats);
			break;
		case "queue":
			body = queueStats(input.queues);
			break;
		case "crawler":
			body = crawlerStats(input);
			break;
		case "all":
			body = {
				"kafka-monitor": pluginStats("kafka-monitor", input.stats),
				"redis-monitor": pluginStats("redis-monitor", input.stats),
				crawler: crawlerStats(input),
				rest: pluginStats("rest", input.stats)
			};
			break;
		default:
			throw new Error(`unknown stats type "${String(type)}"`);
	}
	return { ...body, stats: type, appid };
}
