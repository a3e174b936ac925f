/**
 * Stats for a component, in Scrapy Cluster's Redis layout (lib/stats): rolling STATS_TIMES windows and
 * lifetime counts per counter, a heartbeat key per running instance, trims every STATS_CYCLE seconds
 * and a dump to the log every STATS_DUMP seconds (plus what the service's statsDumpExtra() adds). Needs RedisMixin on the same service (`this.redis`).
 */
import { hostname } from "node:os";
import type { Service, ServiceSchema } from "moleculer";
import { defineMixin } from "./define.ts";
import { settingsOf } from "../config/broker.ts";
import type { Settings } from "../config/index.ts";
import { StatsCollector, type CounterSnapshot } from "../lib/stats/collector.ts";
import { batch } from "../lib/redis/client.ts";
import { heartbeatInterval, heartbeatKey, newInstanceId, parseStatsTimes, statsBase } from "../lib/stats/keys.ts";
import type { RedisMixinThis } from "./redis.mixin.ts";

export interface StatsMixinOptions {
	/** Component name in the keys: kafka-monitor, redis-monitor, crawler, rest. */
	component: string;
	/**
	 * Heartbeat keys of an instance; default [stats:<component>:self:<host>:<id>]. (A crawler beats once
	 * per spider type: stats:crawler:<host>:<spiderid>:<id>.)
	 */
	heartbeatKeys?: (host: string, id: string, settings: Settings) => string[];
}

export interface StatsMixinThis {
	stats: StatsCollector;
	statsInstanceId: string;
	/** The first heartbeat key (all of them: statsHeartbeatKeys). */
	statsHeartbeatKey: string;
	statsHeartbeatKeys: string[];
	/** Count one event for each counter name (e.g. "total", "ScraperHandler"). Never throws. */
	statsIncrement(...counters: string[]): Promise<void>;
	/**
	 * Count one event for each counter, as the STATS_TOTAL / STATS_PLUGINS switches allow: "total" and
	 * "fail" are totals, every other name is a plugin counter. Never throws.
	 */
	statsCount(...counters: string[]): Promise<void>;
	/** Snapshot of every counter this instance has written. */
	statsSnapshot(): Promise<Record<string, CounterSnapshot>>;
	/** Log one "<component> stats dump" line now (done every STATS_DUMP seconds). */
	statsDump(): Promise<void>;
	/** Optional, defined by the service: more parts of its dump line (crawl and queue stats). */
	statsDumpExtra?(): Promise<Record<string, unknown>>;
	heartbeat(): Promise<void>;
}

type This = Service & RedisMixinThis & StatsMixinThis & { statsTimers: NodeJS.Timeout[] };

export function StatsMixin(opts: StatsMixinOptions): Partial<ServiceSchema> {
	return defineMixin<RedisMixinThis & StatsMixinThis & { statsTimers: NodeJS.Timeout[] }>({
		methods: {
			async statsIncrement(this: This, ...counters: string[]) {
				try {
					await this.stats.increment(...counters.map(c => statsBase(opts.component, c)));
				} catch (err) {
					this.logger.debug("Stats not recorded", { counters, error: (err as Error).message });
				}
			},
			async statsCount(this: This, ...counters: string[]) {
				const s = settingsOf(this.broker);
				const wanted = counters.filter(c => (c === "total" || c === "fail" ? s.STATS_TOTAL : s.STATS_PLUGINS));
				if (wanted.length) await this.statsIncrement(...wanted);
			},
			async statsSnapshot(this: This) {
				const out: Record<string, CounterSnapshot> = {};
				for (const base of this.stats.knownBases()) out[base] = await this.stats.snapshot(base);
				return out;
			},
			async statsDump(this: This) {
				// A service may add parts (STATS_DUMP_CRAWL, STATS_DUMP_QUEUE) with a method statsDumpExtra().
				const extra = typeof this.statsDumpExtra === "function" ? await this.statsDumpExtra() : {};
				this.logger.info(`${opts.component} stats dump`, { stats: await this.statsSnapshot(), ...extra });
			},
			async heartbeat(this: This) {
				const timeout = settingsOf(this.broker).HEARTBEAT_TIMEOUT;
				await batch(
					this.redis,
					this.statsHeartbeatKeys.map(key => ["set", key, String(Date.now() / 1000), "EX", timeout])
				);
			}
		},
		created(this: This) {
			const settings = settingsOf(this.broker);
			this.statsInstanceId = newInstanceId();
			const host = hostname();
			this.statsHeartbeatKeys = opts.heartbeatKeys ? opts.heartbeatKeys(host, this.statsInstanceId, settings) : [heartbeatKey(opts.component, host, this.statsInstanceId)];
			this.statsHeartbeatKey = this.statsHeartbeatKeys[0] ?? heartbeatKey(opts.component, host, this.statsInstanceId);
			this.stats = new StatsCollector(this.redis, parseStatsTimes(settings.STATS_TIMES), settings.STATS_CYCLE);
			this.statsTimers = [];
		},
		started(this: This) {
			const settings = settingsOf(this.broker);
			const every = (seconds: number, what: string, fn: () => Promise<unknown>) => {
				const timer = setInterval(() => {
					fn().catch((err: Error) => this.logger.debug(`Stats ${what} failed`, { error: err.message }));
				}, seconds * 1000);
				timer.unref();
				this.statsTimers.push(timer);
			};
			this.heartbeat().catch((err: Error) => this.logger.debug("Heartbeat failed", { error: err.message }));
			every(heartbeatInterval(settings.HEARTBEAT_TIMEOUT), "heartbeat", () => this.heartbeat());
			every(settings.STATS_CYCLE, "trim", () => this.stats.trim());
			if (settings.STATS_DUMP > 0) every(settings.STATS_DUMP, "dump", () => this.statsDump());
		},
		async stopped(this: This) {
			this.statsTimers.forEach(t => clearInterval(t));
			this.statsTimers = [];
			// Leave the cluster's node lists at once instead of after HEARTBEAT_TIMEOUT.
			if (this.redis.status === "ready" && this.statsHeartbeatKeys.length) await batch(this.redis, this.statsHeartbeatKeys.map(key => ["del", key])).catch(() => undefined);
		}
	});
}
