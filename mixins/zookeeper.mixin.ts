/**
 * Gives a service `this.zk`, a ZooKeeper session (lib/zookeeper/client.ts) from the ZOOKEEPER_*
 * settings. Start waits up to 5 s for the first connection, then goes on while
 * the session keeps retrying; `zookeeperConnected()` tells the health. Stopping closes the session.
 */
import type { Service, ServiceSchema } from "moleculer";
import { defineMixin } from "./define.ts";
import { settingsOf } from "../config/broker.ts";
import { ZookeeperSession } from "../lib/zookeeper/client.ts";

export interface ZookeeperMixinThis {
	zk: ZookeeperSession;
	zookeeperConnected(): boolean;
}

type This = Service & ZookeeperMixinThis;

/** Milliseconds start() waits for the first ZooKeeper connection before going on without it. */
export const ZOOKEEPER_START_WAIT_MS = 5000;

export function ZookeeperMixin(): Partial<ServiceSchema> {
	return defineMixin<ZookeeperMixinThis>({
		methods: {
			zookeeperConnected(this: This): boolean {
				return this.zk?.connected ?? false;
			}
		},
		created(this: This) {
			this.zk = new ZookeeperSession(settingsOf(this.broker), this.logger);
		},
		async started(this: This) {
			const ok = await this.zk.connect(ZOOKEEPER_START_WAIT_MS);
			if (!ok)
				this.logger.warn("ZooKeeper not reachable at start, retrying in the background; check ZOOKEEPER_HOSTS", {
					zookeeper: settingsOf(this.broker).ZOOKEEPER_HOSTS
				});
		},
		stopped(this: This) {
			this.zk.close();
		}
	});
}
