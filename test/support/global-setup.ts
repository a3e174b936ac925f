/**
 * Jest global setup: bring up the local data stack (Redis, ZooKeeper, Kafka) with the project's own
 * script, the same one `npm start` and CI use. When everything already answered before, teardown
 * leaves it running; otherwise teardown stops what this run started (unless KEEP_INFRA=1).
 */
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { Redis } from "ioredis";
import { loadSettings } from "../../config/index.ts";
import { KafkaClient } from "../../lib/kafka/client.ts";
import { CRAWL_TEST_DBS } from "./cluster.ts";
import { processAlive, staleTestTopics } from "./stale-topics.ts";

export const INFRA_SCRIPT = resolve(__dirname, "../../scripts/infra.sh");

export default async function globalSetup(): Promise<void> {
	// Unit tests alone (npm run test:unit) need no data stack.
	if (process.env.SC_TEST_NO_INFRA === "1") return;
	const before = spawnSync("bash", [INFRA_SCRIPT, "status"], { stdio: "pipe", encoding: "utf8" });
	const up = spawnSync("bash", [INFRA_SCRIPT, "up"], { stdio: ["ignore", "inherit", "inherit"], encoding: "utf8" });
	if (up.status !== 0) throw new Error(`scripts/infra.sh up failed (exit ${up.status}); see the output above and .infra/logs/`);
	process.env.SC_TEST_INFRA_STARTED = before.status === 0 ? "0" : "1";
	// Tests use their own Redis database so a developer's running cluster (db 0) is left alone; it starts
	// empty so queues left by an earlier run are not crawled.
	process.env.REDIS_DB ??= "9";
	// Test files that run crawlers use a database of their own (CRAWL_TEST_DBS), so a crawler of one file
	// never takes the requests of another file running at the same time.
	for (const db of [Number(process.env.REDIS_DB), ...Object.values(CRAWL_TEST_DBS)]) {
		const redis = new Redis({ host: process.env.REDIS_HOST ?? "127.0.0.1", port: Number(process.env.REDIS_PORT ?? 6379), db, lazyConnect: true });
		await redis.connect();
		await redis.flushdb();
		await redis.quit();
	}
	await deleteStaleTopics();
}

/** Delete the topics of earlier test runs whose process is gone (test/support/stale-topics.ts). */
async function deleteStaleTopics(): Promise<void> {
	const quiet = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined };
	const kafka = new KafkaClient(loadSettings({ env: process.env, localFile: false }), "test-setup", quiet);
	try {
		const stale = staleTestTopics(await kafka.listTopics(), processAlive);
		if (stale.length) {
			await kafka.deleteTopics(stale);
			process.stdout.write(`test setup: deleted ${stale.length} topics left by earlier test runs\n`);
		}
	} catch (err) {
		process.stdout.write(`test setup: could not delete stale test topics (${(err as Error).message}); continuing\n`);
	} finally {
		await kafka.close();
	}
}
