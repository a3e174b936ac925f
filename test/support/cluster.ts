/**
 * Helpers for integration tests: settings pointing at the local data stack (Redis db 9 unless REDIS_DB
 * says otherwise), quiet brokers, unique names so test files never collide, and bounded waiting.
 */
import { randomBytes } from "node:crypto";
import { ServiceBroker, type BrokerOptions } from "moleculer";
import { loadSettings, type SettingName, type Settings } from "../../config/index.ts";
import { buildLogger } from "../../lib/logging/index.ts";

export function testSettings(overrides: Partial<Record<SettingName, unknown>> = {}): Settings {
	return loadSettings({
		env: process.env,
		localFile: false,
		overrides: { REDIS_DB: process.env.REDIS_DB ?? 9, STATS_DUMP: 0, LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "ERROR", ...overrides }
	});
}

export function testBroker(settings: Settings, options: BrokerOptions = {}): ServiceBroker {
	return new ServiceBroker({
		nodeID: options.nodeID ?? uniqueName("node"),
		logger: buildLogger(settings),
		clusterSettings: settings,
		...options
	});
}

export function uniqueName(prefix: string): string {
	return `${prefix}-${process.pid}-${randomBytes(3).toString("hex")}`;
}

/** Poll `check` until it returns a truthy value or `timeoutMs` passes; returns the last value. */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 10000, intervalMs = 50): Promise<T> {
	const end = Date.now() + timeoutMs;
	let value = await check();
	while (!value && Date.now() < end) {
		await new Promise(r => setTimeout(r, intervalMs));
		value = await check();
	}
	return value;
}
