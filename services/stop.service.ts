/**
 * stop: purge every pending request of a crawl (spiderid/appid/crawlid) from all domain queues and
 * blacklist it so no crawler continues it (Scrapy Cluster's StopMonitor); answers `action: "stop"` with
 * `total_purged`. Without a crawlid, every crawl of the appid is stopped (the original answered nothing).
 */
import type { ServiceSchema, ServiceSettingSchema } from "moleculer";
import { appCrawlids, clearTimeout, stopCrawl } from "../lib/monitor/crawl-control.ts";
import { ActionMixin, type ActionMixinThis, type ActionRequest } from "../mixins/action.mixin.ts";
import { KafkaMixin, type KafkaMixinThis } from "../mixins/kafka.mixin.ts";
import { RedisMixin, type RedisMixinThis } from "../mixins/redis.mixin.ts";
import { StatsMixin, type StatsMixinThis } from "../mixins/stats.mixin.ts";

type Vars = RedisMixinThis & KafkaMixinThis & StatsMixinThis & ActionMixinThis;

const StopService: ServiceSchema<ServiceSettingSchema, Record<string, never>, Vars> = {
	name: "stop",
	mixins: [ActionMixin({ plugin: "StopMonitor" }), StatsMixin({ component: "redis-monitor" }), KafkaMixin(), RedisMixin()],
	methods: {
		async answer(request: ActionRequest) {
			const spiderid = String(request.spiderid);
			const appid = request.appid;
			const crawlids = typeof request.crawlid === "string" ? [request.crawlid] : await appCrawlids(this.redis, spiderid, appid);
			let purged = 0;
			for (const crawlid of crawlids) {
				purged += await stopCrawl(this.redis, spiderid, appid, crawlid);
				await clearTimeout(this.redis, spiderid, appid, crawlid);
			}
			this.logger.info("Stopped crawl", { spiderid, appid, crawlids, total_purged: purged });
			const response: Record<string, unknown> = { action: "stop", spiderid, appid, total_purged: purged };
			if (typeof request.crawlid === "string") response.crawlid = request.crawlid;
			else response.crawlids = crawlids;
			return response;
		}
	}
};

export default StopService;
