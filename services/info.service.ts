/**
 * info: what is pending for an appid (all its crawlids) or one crawlid of a spider (Scrapy Cluster's
 * InfoMonitor), answered on the outbound topics in the original's shapes. Reads the pending index, so it
 * stays fast with millions of queued requests.
 */
import type { Context, ServiceSchema, ServiceSettingSchema } from "moleculer";
import { activeCrawls, appCrawlids, crawlExpires, crawlPending } from "../lib/monitor/crawl-control.ts";
import { ActionMixin, type ActionMixinThis, type ActionRequest } from "../mixins/action.mixin.ts";
import { KafkaMixin, type KafkaMixinThis } from "../mixins/kafka.mixin.ts";
import { RedisMixin, type RedisMixinThis } from "../mixins/redis.mixin.ts";
import { StatsMixin, type StatsMixinThis } from "../mixins/stats.mixin.ts";

type Vars = RedisMixinThis & KafkaMixinThis & StatsMixinThis & ActionMixinThis;

const InfoService: ServiceSchema<ServiceSettingSchema, Record<string, never>, Vars> = {
	name: "info",
	mixins: [ActionMixin({ plugin: "InfoMonitor" }), StatsMixin({ component: "redis-monitor" }), KafkaMixin(), RedisMixin()],
	actions: {
		/**
		 * Every crawl with queued requests (all spiders and appids), most pending first, answered directly
		 * (the dashboard, the REPL):  mol $ call info.crawls --limit 20
		 */
		crawls: {
			params: { limit: { type: "number", integer: true, min: 1, max: 10000, optional: true, convert: true } },
			handler(ctx: Context<{ limit?: number }>) {
				return activeCrawls(this.redis, ctx.params.limit ?? 500);
			}
		}
	},
	methods: {
		async answer(request: ActionRequest) {
			const spiderid = String(request.spiderid);
			const appid = request.appid;
			if (typeof request.crawlid === "string") {
				const crawlid = request.crawlid;
				const [pending, expires] = await Promise.all([crawlPending(this.redis, spiderid, appid, crawlid), crawlExpires(this.redis, spiderid, appid, crawlid)]);
				const response: Record<string, unknown> = {
					total_pending: pending.total,
					total_domains: Object.keys(pending.domains).length,
					appid,
					crawlid,
					spiderid,
					domains: pending.domains
				};
				// As the original: the crawl's expiry as the string stored in timeout:<spiderid>:<appid>:<crawlid>.
				if (expires !== null) response.expires = expires;
				return response;
			}
			const crawlids: Record<string, Record<string, unknown>> = {};
			const allDomains = new Set<string>();
			let totalPending = 0;
			for (const crawlid of await appCrawlids(this.redis, spiderid, appid)) {
				const [pending, expires] = await Promise.all([crawlPending(this.redis, spiderid, appid, crawlid), crawlExpires(this.redis, spiderid, appid, crawlid)]);
				if (pending.total === 0) continue;
				Object.keys(pending.domains).forEach(d => allDomains.add(d));
				totalPending += pending.total;
				const entry: Record<string, unknown> = { domains: pending.domains, distinct_domains: Object.keys(pending.domains).length, total: pending.total };
				// As the original at appid level: the numeric expiry, when the crawl has one.
				if (expires !== null && Number(expires) !== 0) entry.expires = Number(expires);
				crawlids[crawlid] = entry;
			}
			return {
				total_pending: totalPending,
				total_domains: allDomains.size,
				total_crawlids: Object.keys(crawlids).length,
				appid,
				spiderid,
				crawlids
			};
		}
	}
};

export default InfoService;
