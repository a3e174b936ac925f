/**
 * stats: cluster statistics on request (Scrapy Cluster's StatsMonitor): kafka-monitor, redis-monitor,
 * rest, spider, machine, queue, crawler or all, answered on the outbound topics in the original's shapes
 * (lib/monitor/stats-report.ts). Reads the keyspace with SCAN (never KEYS, which blocks Redis) and the
 * values with pipelines. Counts in stats:redis-monitor:{total,fail,StatsMonitor}.
 */
import { batch, scanKeys, type BatchCommand, type RedisClient } from "../lib/redis/client.ts";
import type { Context, ServiceSchema, ServiceSettingSchema } from "moleculer";
import { settingsOf } from "../config/broker.ts";
import { RefusedRequestError } from "../lib/errors.ts";
import { queueDump } from "../lib/stats/dump.ts";
import {
	classifyQueueKey,
	machineStats,
	spiderStats,
	SCAN_COUNT,
	statsKeyQuery,
	statsPlan,
	statsResponse,
	type QueueEntry,
	type StatEntry,
	type StatsInput,
	type StatsPlan,
	type StatsType,
	type ValueQuery
} from "../lib/monitor/stats-report.ts";
import { STATS_TYPES } from "../lib/requests/kinds/stats.ts";
import { ActionMixin, type ActionMixinThis, type ActionRequest } from "../mixins/action.mixin.ts";
import { KafkaMixin, type KafkaMixinThis } from "../mixins/kafka.mixin.ts";
import { RedisMixin, type RedisMixinThis } from "../mixins/redis.mixin.ts";
import { StatsMixin, type StatsMixinThis } from "../mixins/stats.mixin.ts";

type Vars = RedisMixinThis & KafkaMixinThis & StatsMixinThis & ActionMixinThis;

interface StatsMethods {
	gatherStats(plan: StatsPlan): Promise<StatsInput>;
	statsDumpExtra(): Promise<Record<string, unknown>>;
}

/** Commands per pipeline round trip. */
const PIPELINE_BATCH = 1000;

/**
 * Run one command per item in batches of PIPELINE_BATCH and return the replies in order; a reply that
 * is an error (e.g. WRONGTYPE from a foreign key with a matching name) comes back as null.
 */
async function batched<T>(redis: RedisClient, items: readonly T[], command: (item: T) => BatchCommand): Promise<unknown[]> {
	const replies: unknown[] = [];
	for (let i = 0; i < items.length; i += PIPELINE_BATCH) {
		for (const [err, value] of await batch(redis, items.slice(i, i + PIPELINE_BATCH).map(command))) replies.push(err ? null : value);
	}
	return replies;
}

const StatsService: ServiceSchema<ServiceSettingSchema, StatsMethods, Vars> = {
	name: "stats",
	// Moleculer runs the last mixin's hooks first: Redis connects before stats, Kafka and the action use it.
	mixins: [ActionMixin({ plugin: "StatsMonitor" }), StatsMixin({ component: "redis-monitor" }), KafkaMixin(), RedisMixin()],

	actions: {
		/**
		 * The same report, answered directly instead of on the outbound topic (REPL, dashboards):
		 *   mol $ call stats.report --stats queue
		 */
		report: {
			params: { stats: { type: "enum", values: [...STATS_TYPES], optional: true, default: "all" } },
			handler(ctx: Context<{ stats: StatsType }>) {
				return this.answer({ appid: "repl", stats: ctx.params.stats });
			}
		}
	},

	methods: {
		async answer(request: ActionRequest) {
			const type = (request.stats ?? "all") as StatsType;
			if (!(STATS_TYPES as readonly string[]).includes(type)) throw new RefusedRequestError(`Received invalid stats request: ${String(type)}`, { stats: type });
			// Requests from the API are worth a line; direct report calls (REPL, dashboard polling) only at DEBUG.
			this.logger[request.uuid === undefined ? "debug" : "info"](`Received ${type} stats request`, { appid: request.appid, uuid: request.uuid });
			const input = await this.gatherStats(statsPlan(type));
			return statsResponse(type, request.appid, input);
		},

		/**
		 * As the original Redis Monitor: the cluster's crawler stats (STATS_DUMP_CRAWL: per spider and machine,
		 * from stats:crawler:*) and queue backlog (STATS_DUMP_QUEUE) in each periodic dump; one keyspace pass.
		 */
		async statsDumpExtra() {
			const s = settingsOf(this.broker);
			if (!s.STATS_DUMP_CRAWL && !s.STATS_DUMP_QUEUE) return {};
			const plan = statsPlan(s.STATS_DUMP_CRAWL && s.STATS_DUMP_QUEUE ? "crawler" : s.STATS_DUMP_CRAWL ? "spider" : "queue");
			const input = await this.gatherStats(plan);
			const out: Record<string, unknown> = {};
			if (s.STATS_DUMP_CRAWL) out.crawl = { ...spiderStats(input.stats), ...machineStats(input.stats) };
			if (s.STATS_DUMP_QUEUE)
				out.queue = queueDump(
					input.queues.flatMap(q => {
						const parsed = classifyQueueKey(q.key);
						return parsed?.kind === "queue" ? [{ spider: parsed.spiderid, domain: parsed.domain, backlog: q.backlog }] : [];
					})
				);
			return out;
		},

		/** The keys a plan needs and their values: window counts, lifetime counts, live heartbeats, queue backlogs. */
		async gatherStats(plan: StatsPlan): Promise<StatsInput> {
			const found = new Set<string>();
			// A key may come twice from SCAN: deduplicated.
			for (const pattern of plan.patterns) for await (const keys of scanKeys(this.redis, pattern, SCAN_COUNT)) for (const key of keys) found.add(key);
			// Sorted: SCAN order is arbitrary, the answer should not be.
			const keys = [...found].sort();

			const statKeys: Array<{ key: string; query: ValueQuery }> = [];
			const registries: string[] = [];
			const queueKeys = new Set<string>();
			for (const key of keys) {
				if (key.startsWith("stats:")) {
					const query = statsKeyQuery(key, plan);
					if (query) statKeys.push({ key, query });
					continue;
				}
				if (!plan.queues) continue;
				const q = classifyQueueKey(key);
				if (q?.kind === "registry") registries.push(key);
				else if (q?.kind === "queue") queueKeys.add(key);
			}

			const now = Date.now() / 1000;
			const values = await batched(this.redis, statKeys, ({ key, query }): BatchCommand => {
				if (query.kind === "lifetime") return ["pfcount", key];
				if (query.kind === "heartbeat") return ["exists", key];
				return ["zcount", key, `(${now - query.seconds}`, "+inf"];
			});
			const stats: StatEntry[] = statKeys.map(({ key }, i) => ({ key, value: Number(values[i] ?? 0) }));

			const queues: QueueEntry[] = [];
			if (plan.queues) {
				// Domain queues are registered in <spiderid>:queues by every writer; the scan adds those
				// written by other tools.
				const members = await batched(this.redis, registries, key => ["smembers", key]);
				for (const list of members) if (Array.isArray(list)) for (const key of list) if (classifyQueueKey(String(key))?.kind === "queue") queueKeys.add(String(key));
				const sorted = [...queueKeys].sort();
				const backlogs = await batched(this.redis, sorted, key => ["zcard", key]);
				sorted.forEach((key, i) => queues.push({ key, backlog: Number(backlogs[i] ?? 0) }));
			}
			return { stats, queues };
		}
	}
};

export default StatsService;
