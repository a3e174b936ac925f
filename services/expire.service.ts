/**
 * expire: watches crawls with an `expires` time (Scrapy Cluster's ExpireMonitor). When it passes, the crawl
 * is purged and blacklisted as by stop and `action: "expired"` with `total_expired` is published, once
 * even with several expire instances: an instance claims a crawl by removing it from `timeout_index`
 * (only one ZREM succeeds). `timeout:*` keys written by other tools are adopted by a periodic SCAN.
 */
import type { ServiceSchema, ServiceSettingSchema } from "moleculer";
import { settingsOf } from "../config/broker.ts";
import { spiderOfKeyPart, TIMEOUT_INDEX_KEY, timeoutIndexMember } from "../lib/frontier/keys.ts";
import { batch, scanKeys } from "../lib/redis/client.ts";
import { clearTimeout, stopCrawl } from "../lib/monitor/crawl-control.ts";
import { outboundTopics } from "../lib/monitor/outbound.ts";
import { serverTime } from "../mixins/action.mixin.ts";
import { KafkaMixin, type KafkaMixinThis } from "../mixins/kafka.mixin.ts";
import { RedisMixin, type RedisMixinThis } from "../mixins/redis.mixin.ts";
import { StatsMixin, type StatsMixinThis } from "../mixins/stats.mixin.ts";

/** Seconds between looks for expired crawls. */
export const EXPIRE_CHECK_SECONDS = 1;
/** Seconds between SCANs adopting timeout:* keys that are not in the index. */
export const EXPIRE_ADOPT_SECONDS = 60;
/** Crawls expired per check. */
const BATCH = 100;

type Vars = RedisMixinThis & KafkaMixinThis & StatsMixinThis & { expireTimers: NodeJS.Timeout[]; expireRunning: Promise<void> | null };

interface Methods {
	expireDue(): Promise<number>;
	adoptTimeoutKeys(): Promise<number>;
}

const ExpireService: ServiceSchema<ServiceSettingSchema, Methods, Vars> = {
	name: "expire",
	mixins: [StatsMixin({ component: "redis-monitor" }), KafkaMixin(), RedisMixin()],
	actions: {
		/** Expire what is due now (the timer does this every second). */
		run: {
			handler() {
				return this.expireDue();
			}
		}
	},
	methods: {
		async expireDue() {
			const s = settingsOf(this.broker);
			const now = Date.now() / 1000;
			const due = await this.redis.zrangebyscore(TIMEOUT_INDEX_KEY, "-inf", `(${now}`, "LIMIT", 0, BATCH);
			let expired = 0;
			for (const member of due) {
				// Claim: exactly one instance removes it.
				if ((await this.redis.zrem(TIMEOUT_INDEX_KEY, member)) !== 1) continue;
				const [spiderid, appid, ...rest] = member.split(":");
				const crawlid = rest.join(":");
				if (!spiderid || !appid || !crawlid) continue;
				try {
					await this.statsCount("total", "ExpireMonitor");
					const purged = await stopCrawl(this.redis, spiderid, appid, crawlid);
					const message = { server_time: serverTime(), crawlid, spiderid, appid, total_expired: purged, action: "expired" };
					await Promise.all(outboundTopics(s, appid).map(topic => this.kafka.produce(topic, { value: JSON.stringify(message) })));
					await clearTimeout(this.redis, spiderid, appid, crawlid);
					this.logger.info("Expired crawl", { spiderid, appid, crawlid, total_expired: purged });
					expired++;
				} catch (err) {
					// Put it back: another check (on any instance) tries again.
					await this.redis.zadd(TIMEOUT_INDEX_KEY, now, member).catch(() => undefined);
					await this.statsCount("fail");
					this.logger.warn("Could not expire crawl, retrying", { spiderid, appid, crawlid, error: (err as Error).message });
				}
			}
			return expired;
		},

		async adoptTimeoutKeys() {
			let adopted = 0;
			for await (const keys of scanKeys(this.redis, "timeout:*:*:*")) {
				const values = await batch(this.redis, keys.map(key => ["get", key]));
				for (const [i, key] of keys.entries()) {
					const [, spider, appid, ...rest] = key.split(":");
					const value = Number(values[i]?.[1] ?? NaN);
					if (!spider || !appid || !rest.length || !Number.isFinite(value)) continue;
					adopted += await this.redis.zadd(TIMEOUT_INDEX_KEY, "NX", value, timeoutIndexMember(spiderOfKeyPart(spider), appid, rest.join(":")));
				}
			}
			return adopted;
		}
	},
	created() {
		this.expireTimers = [];
		this.expireRunning = null;
	},
	async started() {
		const tick = () => {
			if (this.expireRunning) return;
			this.expireRunning = this.expireDue()
				.then(() => undefined)
				.catch((err: Error) => this.logger.warn("Expire check failed", { error: err.message }))
				.finally(() => (this.expireRunning = null));
		};
		const adopt = () => this.adoptTimeoutKeys().catch((err: Error) => this.logger.warn("Adopting timeout keys failed", { error: err.message }));
		await adopt();
		this.expireTimers.push(setInterval(tick, EXPIRE_CHECK_SECONDS * 1000), setInterval(adopt, EXPIRE_ADOPT_SECONDS * 1000));
		this.expireTimers.forEach(t => t.unref());
	},
	async stopped() {
		this.expireTimers.forEach(t => clearInterval(t));
		await this.expireRunning;
	}
};

export default ExpireService;
