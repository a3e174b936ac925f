/** ZooKeeper configuration requests (Scrapy Cluster's ZookeeperHandler, zookeeper_schema.json). */
import type { RequestKind } from "../kind.ts";
import { firstReason, unsafeIdReason } from "../key-safety.ts";
import { integer, oneOf, RequestSchema, stringLength } from "../schema.ts";

export interface ZookeeperRequest {
	uuid: string;
	appid: string;
	domain: string;
	action: "domain-update" | "domain-remove" | "blacklist-update" | "blacklist-remove";
	hits: number;
	window: number;
	scale: number;
	ts?: number;
}

export const zookeeperSchema = new RequestSchema<ZookeeperRequest>(
	{
		uuid: { rule: stringLength(1, 40) },
		appid: { rule: stringLength(3, 40) },
		domain: { rule: "string" },
		action: { rule: oneOf("domain-update", "domain-remove", "blacklist-update", "blacklist-remove") },
		hits: { rule: integer(), default: 0 },
		window: { rule: integer(), default: 0 },
		scale: { rule: { type: "number", min: 0, max: 1 }, default: 1.0 }
	},
	["uuid", "appid", "domain", "action"]
);

export const zookeeperKind: RequestKind<ZookeeperRequest> = {
	name: "zookeeper",
	handlerName: "ZookeeperHandler",
	rank: 400,
	schema: zookeeperSchema,
	refuse(request) {
		if (!/^[^\s\u0000-\u001f\u007f*?[\]]+$/.test(request.domain)) return `domain "${request.domain.slice(0, 200)}" must be a non-empty host name without spaces or wildcards`;
		if (request.action === "domain-update" && (request.hits === 0 || request.window === 0)) return "'hits' and 'window' not set for domain update";
		return firstReason(unsafeIdReason("appid", request.appid));
	},
	async handle(request, ctx) {
		await ctx.call("zookeeper.handle", request);
		ctx.log.info("Added zookeeper action to the zookeeper service", { action: request.action, domain: request.domain, uuid: request.uuid });
	}
};
