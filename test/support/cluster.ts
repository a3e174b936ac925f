/**
 * Helpers for integration tests: settings pointing at the local data stack (Redis db 9 unless REDIS_DB
 * says otherwise), quiet brokers, unique names so test files never collide, and bounded waiting.
 */
import { randomBytes } from "node:crypto";
import { Loggers, ServiceBroker, type BrokerOptions } from "moleculer";

type LoggerOptions = NonNullable<ConstructorParameters<typeof Loggers.Base>[0]>;
import { loadSettings, type SettingName, type Settings } from "../../config/index.ts";
import { buildLogger } from "../../lib/logging/index.ts";
import { RecentLogAppender } from "../../lib/monitor/recent-log.ts";

/**
 * Redis databases of the test files that run crawlers (crawlers take requests from any queue of their
 * spider types, so each such file needs queues of its own). Flushed by the global setup.
 */
export const CRAWL_TEST_DBS = { dashboard: 8, crawler: 11, crawlerConfig: 12, runningCrawl: 13, operator: 15 } as const;

export function testSettings(overrides: Partial<Record<SettingName, unknown>> = {}): Settings {
	return loadSettings({
		env: process.env,
		localFile: false,
		overrides: {
			REDIS_DB: process.env.REDIS_DB ?? 9,
			STATS_DUMP: 0,
			LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "ERROR",
			// Tests only talk to loopback: no public IP lookup unless a test points it at its own server.
			SCHEDULER_IP_ENABLED: false,
			PUBLIC_IP_URL: "http://127.0.0.1:9/",
			...overrides
		}
	});
}

/**
 * Settings of a test cluster of its own: its Kafka topics and consumer group are named after `prefix`, so
 * test files running at once never read each other's requests or pages.
 */
export function prefixedSettings(prefix: string, overrides: Partial<Record<SettingName, unknown>> = {}): Settings {
	return testSettings({ KAFKA_TOPIC_PREFIX: prefix, KAFKA_INCOMING_TOPIC: `${prefix}.incoming`, KAFKA_GROUP: `${prefix}-group`, ...overrides });
}

/** Send requests to a cluster's incoming topic: objects as JSON, strings as they are (malformed input). */
export function feedTo(kafka: import("../../lib/kafka/client.ts").KafkaClient, settings: Settings, ...requests: Array<object | string>): Promise<void> {
	return kafka.send(settings.KAFKA_INCOMING_TOPIC, requests.map(r => ({ value: typeof r === "string" ? r : JSON.stringify(r) })));
}

export function testBroker(settings: Settings, options: BrokerOptions = {}): ServiceBroker {
	return new ServiceBroker({
		nodeID: options.nodeID ?? uniqueName("node"),
		// As a node's: the Winston logger and the recent warnings and errors (monitor.recent).
		logger: [buildLogger(settings), new RecentLogAppender()] as unknown as BrokerOptions["logger"],
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

export interface CapturedLine {
	level: string;
	module: string;
	message: string;
	data: Record<string, unknown>;
}

/** A Moleculer logger that keeps every line in memory, so tests can assert what was logged. */
export function captureLogger(): { logger: Loggers.Base<LoggerOptions>; lines: CapturedLine[] } {
	const lines: CapturedLine[] = [];
	class Capture extends Loggers.Base<LoggerOptions> {
		override getLogHandler(bindings: { mod?: string }): (level: string, args: unknown[]) => void {
			return (level: string, args: unknown[]) => {
				const [message, data] = args;
				lines.push({ level, module: String(bindings.mod ?? ""), message: String(message), data: (data && typeof data === "object" ? data : {}) as Record<string, unknown> });
			};
		}
	}
	return { logger: new Capture({ level: "debug" }), lines };
}

/** Read the first `count` messages of a topic (from the beginning, in a throw-away group). */
export async function readTopic(kafka: import("../../lib/kafka/client.ts").KafkaClient, topic: string, count: number, timeoutMs = 20000): Promise<string[]> {
	const values: string[] = [];
	const handle = await kafka.consume({
		groupId: uniqueName("it-reader"),
		topics: [topic],
		fromBeginning: true,
		onMessage: async m => void values.push(m.value?.toString("utf8") ?? "")
	});
	await eventually(() => values.length >= count, timeoutMs);
	await handle.stop();
	return values;
}

/** Stop a spawned process and wait until it is gone (SIGKILL after `graceMs`), so no handle outlives a test. */
export async function stopChild(child: import("node:child_process").ChildProcess, signal: NodeJS.Signals = "SIGTERM", graceMs = 10000): Promise<void> {
	if (child.exitCode !== null || child.signalCode !== null) return;
	const exited = new Promise<void>(resolve => child.once("exit", () => resolve()));
	child.kill(signal);
	const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
	await exited;
	clearTimeout(timer);
}

/**
 * Read JSON messages of topics into arrays as they arrive (each topic created with one partition, read
 * from the beginning in a throw-away group). Returns a function that stops every reader.
 */
export async function collectTopics(
	kafka: import("../../lib/kafka/client.ts").KafkaClient,
	into: Record<string, Array<Record<string, unknown>>>
): Promise<() => Promise<void>> {
	const handles: Array<{ stop(): Promise<void> }> = [];
	for (const [topic, messages] of Object.entries(into)) {
		await kafka.ensureTopics([{ topic, partitions: 1 }]);
		handles.push(
			await kafka.consume({
				groupId: uniqueName("it-collect"),
				topics: [topic],
				fromBeginning: true,
				onMessage: async m => void messages.push(JSON.parse(m.value!.toString()) as Record<string, unknown>)
			})
		);
	}
	return async () => {
		for (const h of handles) await h.stop();
	};
}
