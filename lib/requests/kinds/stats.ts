/** Stats requests (Scrapy Cluster's StatsHandler, stats_schema.json). */
import type { RequestKind } from "../kind.ts";
import { unsafeIdReason } from "../key-safety.ts";
import { oneOf, RequestSchema, stringLength } from "../schema.ts";

export const STATS_TYPES = ["kafka-monitor", "redis-monitor", "crawler", "spider", "machine", "queue", "rest", "all"] as const;

export interface StatsRequest {
	uuid: string;
	stats: (typeof STATS_TYPES)[number];
	appid: string;
	ts?: number;
}

export const statsSchema = new RequestSchema<StatsRequest>(
	{
		uuid: { rule: stringLength(1, 40) },
		stats: { rule: oneOf(...STATS_TYPES), default: "all" },
		appid: { rule: stringLength(3, 40) }
	},
	["uuid", "appid"]
);

export const statsKind: RequestKind<StatsRequest> = {
	name: "stats",
	handlerName: "StatsHandler",
	rank: 300,
	schema: statsSchema,
	refuse: request => unsafeIdReason("appid", request.appid),
	async handle(request, ctx) {
		await ctx.call("stats.handle", request);
		ctx.log.info("Added stat request to the stats service", { stats: request.stats, appid: request.appid, uuid: request.uuid });
	}
};
