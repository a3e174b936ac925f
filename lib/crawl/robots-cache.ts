/**
 * robots.txt fetched once per site and cached cluster-wide in Redis (`robots:<origin>`, expiring) and
 * per process in memory. A missing robots.txt (4xx) allows everything; an unreachable or failing one
 * (5xx, network) also allows, but is cached briefly so it is asked again soon.
 */
import type { RedisClient } from "../redis/client.ts";
import type { Fetcher } from "./fetch.ts";
import { ALLOW_ALL, parseRobots, type RobotsRules } from "./robots.ts";

/** Seconds a fetched robots.txt is kept. */
export const ROBOTS_TTL_SECONDS = 3600;
/** Seconds a failed robots.txt fetch is remembered before asking again. */
export const ROBOTS_FAILURE_TTL_SECONDS = 60;
const MEMORY_TTL_MS = 60_000;

export const robotsKey = (origin: string): string => `robots:${origin}`;

export class RobotsCache {
	private readonly memory = new Map<string, { rules: RobotsRules; until: number }>();
	private readonly pending = new Map<string, Promise<RobotsRules>>();
	private readonly redis: RedisClient;
	private readonly fetcher: Fetcher;
	private readonly userAgent: string;

	constructor(redis: RedisClient, fetcher: Fetcher, userAgent: string) {
		this.redis = redis;
		this.fetcher = fetcher;
		this.userAgent = userAgent;
	}

	async rulesFor(url: string): Promise<RobotsRules> {
		const origin = new URL(url).origin;
		const cached = this.memory.get(origin);
		if (cached && cached.until > Date.now()) return cached.rules;
		let loading = this.pending.get(origin);
		if (!loading) {
			loading = this.load(origin).finally(() => this.pending.delete(origin));
			this.pending.set(origin, loading);
		}
		return loading;
	}

	private async load(origin: string): Promise<RobotsRules> {
		let text = await this.redis.get(robotsKey(origin));
		if (text === null) {
			let ttl = ROBOTS_TTL_SECONDS;
			try {
				const res = await this.fetcher.fetch({ url: `${origin}/robots.txt` });
				if (res.status >= 200 && res.status < 300) text = res.body.toString("utf8");
				else {
					text = "";
					if (res.status >= 500) ttl = ROBOTS_FAILURE_TTL_SECONDS;
				}
			} catch {
				text = "";
				ttl = ROBOTS_FAILURE_TTL_SECONDS;
			}
			await this.redis.set(robotsKey(origin), text, "EX", ttl);
		}
		const rules = text ? parseRobots(text, this.userAgent) : ALLOW_ALL;
		this.memory.set(origin, { rules, until: Date.now() + MEMORY_TTL_MS });
		return rules;
	}
}
