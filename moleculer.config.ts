/**
 * Moleculer broker configuration, also usable by moleculer-runner:
 *   moleculer-runner --config moleculer.config.ts --mask "**\/*.service.ts" services
 * Every value comes from the settings (config/settings.ts): defaults, config/localsettings.json, environment.
 * A bad setting stops the node here with a message naming it.
 */
import type { BrokerOptions } from "moleculer";
import { ConfigError, loadSettings, type Settings } from "./config/index.ts";
import { brokerOptions } from "./lib/node/broker-options.ts";

function settingsOrExit(): Settings {
	try {
		return loadSettings();
	} catch (err) {
		if (err instanceof ConfigError) {
			process.stderr.write(`${err.message}\nFix the environment variable or config/localsettings.json and start again.\n`);
			process.exit(78); // EX_CONFIG
		}
		throw err;
	}
}

const config: BrokerOptions = brokerOptions(settingsOrExit());

export default config;
