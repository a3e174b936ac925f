/**
 * Stats key formats and time windows of Scrapy Cluster's Stats Collector (pure, no I/O).
 *   rolling window:  stats:<component>:<counter>:<seconds>   (ZSET, one member per event)
 *   lifetime:        stats:<component>:<counter>:lifetime    (HyperLogLog, approximate total)
 *   heartbeat:       stats:<component>:self:<host>:<id>      (STRING, expires after HEARTBEAT_TIMEOUT)
 */
import { randomUUID } from "node:crypto";

const UNIT_SECONDS: Record<string, number> = { MINUTE: 60, HOUR: 3600, DAY: 86400, WEEK: 604800 };

export interface StatsWindow {
	/** The STATS_TIMES name, e.g. SECONDS_15_MINUTE. */
	name: string;
	seconds: number;
}

/** Turn STATS_TIMES names (SECONDS_<n>_<UNIT>, or plain seconds) into windows, longest last, no duplicates. */
export function parseStatsTimes(names: readonly string[]): StatsWindow[] {
	const seen = new Map<number, StatsWindow>();
	for (const name of names) {
		const m = /^SECONDS_(\d+)_(MINUTE|HOUR|DAY|WEEK)$/.exec(name);
		const seconds = m ? Number(m[1]) * UNIT_SECONDS[m[2]!]! : /^\d+$/.test(name) ? Number(name) : NaN;
		if (!Number.isSafeInteger(seconds) || seconds <= 0) throw new Error(`STATS_TIMES: unknown time window "${name}"`);
		if (!seen.has(seconds)) seen.set(seconds, { name, seconds });
	}
	return [...seen.values()].sort((a, b) => a.seconds - b.seconds);
}

export const statsBase = (component: string, counter: string): string => `stats:${component}:${counter}`;
export const windowKey = (base: string, seconds: number): string => `${base}:${seconds}`;
export const lifetimeKey = (base: string): string => `${base}:lifetime`;
export const heartbeatKey = (component: string, host: string, id: string): string => `stats:${component}:self:${host}:${id}`;

/** Instance id as the original makes it: the last 12 hex characters of a random uuid4. */
export const newInstanceId = (): string => randomUUID().replace(/-/g, "").slice(-12);

/** Seconds between heartbeat refreshes: often enough that a missed beat or two does not expire the key. */
export const heartbeatInterval = (heartbeatTimeout: number): number => Math.max(1, Math.min(5, Math.floor(heartbeatTimeout / 4)));
