/**
 * Rolling time-window counters and lifetime counts in Redis, in the key layout of Scrapy Cluster's
 * Stats Collector (see keys.ts). Unlike the original, events in the same microsecond are not merged
 * (members carry a per-collector random token and a sequence number) and window keys expire when no longer written, so counters of
 * vanished hosts do not pile up.
 */
import { randomBytes } from "node:crypto";
import { batch, type BatchCommand, type RedisClient } from "../redis/client.ts";
import { coalescerFor } from "../redis/coalesce.ts";
import { lifetimeKey, windowKey, type StatsWindow } from "./keys.ts";

export interface CounterSnapshot {
	/** Count per window, keyed by window seconds as a string, plus "lifetime". */
	[window: string]: number;
}

export class StatsCollector {
	private readonly redis: RedisClient;
	private readonly windows: StatsWindow[];
	private readonly cycleSeconds: number;
	/** Every base key this collector wrote, so trim() knows what to trim. */
	private readonly bases = new Set<string>();
	/** Members are `<time>:<this collector's random token>:<sequence>`: unique across processes without a random draw per event. */
	private readonly token = randomBytes(6).toString("hex");
	private sequence = 0;
	/**
	 * When each window key's expiry was last set (ms). It is set again only after STATS_CYCLE: a key whose
	 * expiry was set at t0 to window + 2 cycles and written until t0 + 1 cycle still outlives its newest event
	 * by more than its window, and a busy ingest node sends one EXPIRE per key every few seconds instead of
	 * one per key per request (12 of its 35 Redis commands a request with the default windows).
	 */
	private readonly expirySet = new Map<string, number>();

	constructor(redis: RedisClient, windows: StatsWindow[], cycleSeconds: number) {
		this.redis = redis;
		this.windows = windows;
		this.cycleSeconds = cycleSeconds;
	}

	/** Events counted during this turn of the event loop, by base key: [time, member]. */
	private pending: Map<string, Array<[number, string]>> | null = null;
	private written: Promise<void> | null = null;

	/**
	 * Count one event for each base key (e.g. stats:kafka-monitor:total) in every window and lifetime.
	 * The events of one event-loop turn are written together: per base key and window one ZADD of all their
	 * members and one EXPIRE, and one PFADD (a crawler finishing several pages a turn counts each status
	 * code once per page; each event keeps its own member and time). Resolves once written.
	 */
	increment(...bases: string[]): Promise<void> {
		const now = Date.now() / 1000;
		if (!this.pending) {
			this.pending = new Map();
			this.written = new Promise<void>(resolve => setImmediate(resolve)).then(() => this.write());
		}
		for (const base of bases) {
			this.bases.add(base);
			const events = this.pending.get(base) ?? [];
			events.push([now, `${now.toFixed(6)}:${this.token}:${(this.sequence++).toString(36)}`]);
			this.pending.set(base, events);
		}
		return this.written!;
	}

	private async write(): Promise<void> {
		const pending = this.pending ?? new Map<string, Array<[number, string]>>();
		this.pending = null;
		const commands: BatchCommand[] = [];
		const now = Date.now();
		const expiring: string[] = [];
		for (const [base, events] of pending) {
			for (const w of this.windows) {
				const key = windowKey(base, w.seconds);
				commands.push(["zadd", key, ...events.flat()]);
				if (now - (this.expirySet.get(key) ?? -Infinity) < this.cycleSeconds * 1000) continue;
				commands.push(["expire", key, w.seconds + 2 * this.cycleSeconds]);
				this.expirySet.set(key, now);
				expiring.push(key);
			}
			commands.push(["pfadd", lifetimeKey(base), ...events.map(([, member]) => member)]);
		}
		// With the other commands of this turn (frontier acknowledgements, enqueues...).
		const results = await coalescerFor(this.redis).batch(commands);
		// A write that failed leaves its keys' expiry to be set by the next write, not a cycle later.
		if (results.some(([err]) => err)) for (const key of expiring) this.expirySet.delete(key);
	}

	/** Drop events older than each window (run every STATS_CYCLE seconds). */
	async trim(): Promise<void> {
		if (this.bases.size === 0) return;
		const now = Date.now() / 1000;
		const commands: BatchCommand[] = [];
		for (const base of this.bases) for (const w of this.windows) commands.push(["zremrangebyscore", windowKey(base, w.seconds), "-inf", `(${now - w.seconds}`]);
		await batch(this.redis, commands);
	}

	/** Current counts of one base key: events still inside each window (trimmed at read) and lifetime. */
	async snapshot(base: string): Promise<CounterSnapshot> {
		const now = Date.now() / 1000;
		const results = await batch(this.redis, [
			...this.windows.map((w): BatchCommand => ["zcount", windowKey(base, w.seconds), `(${now - w.seconds}`, "+inf"]),
			["pfcount", lifetimeKey(base)]
		]);
		const snap: CounterSnapshot = {};
		this.windows.forEach((w, i) => {
			snap[String(w.seconds)] = Number(results[i]?.[1] ?? 0);
		});
		snap.lifetime = Number(results[this.windows.length]?.[1] ?? 0);
		return snap;
	}

	/** Base keys written so far by this collector. */
	knownBases(): string[] {
		return [...this.bases].sort();
	}
}
