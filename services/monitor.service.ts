/**
 * monitor: what a node can tell about itself that the cluster does not keep elsewhere. Every node runs it
 * (bin/node.ts adds it whatever SERVICES says), so the dashboard gathers it from each node.
 *   monitor.recent {limit?}   this node's last warnings and errors, newest first (lib/monitor/recent-log.ts)
 */
import type { Context, ServiceBroker, ServiceSchema } from "moleculer";
import { RECENT_CAPACITY, recentLogOf } from "../lib/monitor/recent-log.ts";

const MonitorService: ServiceSchema = {
	name: "monitor",
	actions: {
		recent: {
			params: { limit: { type: "number", integer: true, min: 0, max: RECENT_CAPACITY, optional: true, convert: true } },
			handler(this: { broker: ServiceBroker }, ctx: Context<{ limit?: number }>) {
				const log = recentLogOf(this.broker);
				return {
					node: this.broker.nodeID,
					// false when the node's logger has no RecentLogAppender (a broker not built by lib/node/broker-options.ts)
					capturing: log !== null,
					total: log?.total ?? 0,
					entries: log?.list(ctx.params.limit ?? RECENT_CAPACITY) ?? []
				};
			}
		}
	}
};

export default MonitorService;
