/** Action requests, info and stop (Scrapy Cluster's ActionHandler, action_schema.json). */
import type { RequestKind } from "../kind.ts";
import { firstReason, spiderIdReason, unsafeIdReason } from "../key-safety.ts";
import { oneOf, RequestSchema, stringLength } from "../schema.ts";

export interface ActionRequest {
	uuid: string;
	appid: string;
	crawlid?: string;
	spiderid: string;
	action: "info" | "stop";
	ts?: number;
}

export const actionSchema = new RequestSchema<ActionRequest>(
	{
		uuid: { rule: stringLength(1, 40) },
		appid: { rule: stringLength(3, 40) },
		crawlid: { rule: stringLength(1, 40) },
		spiderid: { rule: "string" },
		action: { rule: oneOf("stop", "info") }
	},
	["uuid", "appid", "spiderid", "action"]
);

export const actionKind: RequestKind<ActionRequest> = {
	name: "action",
	handlerName: "ActionHandler",
	rank: 200,
	schema: actionSchema,
	refuse(request) {
		return firstReason(
			unsafeIdReason("appid", request.appid),
			request.crawlid === undefined ? null : unsafeIdReason("crawlid", request.crawlid),
			spiderIdReason(request.spiderid)
		);
	},
	async handle(request, ctx) {
		await ctx.call(`${request.action}.handle`, request);
		ctx.log.info("Added action to the action services", { action: request.action, appid: request.appid, uuid: request.uuid });
	}
};
