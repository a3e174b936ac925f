/**
 * How services reach the node's settings: they travel in the broker options (never in service
 * `settings`, which Moleculer broadcasts to other nodes and would leak passwords).
 */
import type { ServiceBroker } from "moleculer";
import { loadSettings, type Settings } from "./index.ts";

declare module "moleculer" {
	interface BrokerOptions {
		/** The node's checked settings (see config/settings.ts). */
		clusterSettings?: Settings;
	}
}

/** The settings of the node a service runs on; loaded from the environment when the broker has none. */
export function settingsOf(broker: ServiceBroker): Settings {
	broker.options.clusterSettings ??= loadSettings();
	return broker.options.clusterSettings;
}
