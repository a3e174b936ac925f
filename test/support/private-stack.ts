/**
 * A private data stack for fault tests: a second Redis, ZooKeeper and Kafka started by scripts/infra.sh
 * with INFRA_DIR in a temp dir and free loopback ports, so a test can stop and restart any of them
 * (`down("kafka")`, `up("kafka")`) without disturbing the shared stack other test files use. Kafka reuses
 * the jars of the shared stack (KAFKA_LIB_DIR). Redis keeps its data across a restart: infra.sh configures
 * RDB save points, and a redis-server stopped with SIGTERM writes its RDB before it exits.
 *
 * infra.sh runs asynchronously (never spawnSync), so the test process keeps serving its sites and reading
 * topics while a server stops or starts. destroy() stops everything and deletes the temp dir (kept with
 * SC_TEST_KEEP_PRIVATE_STACK=1, for its logs); a Jest
 * worker that exits without afterAll still stops the servers (process "exit" hook).
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freePort } from "./zk-server.ts";

export const ROOT = resolve(__dirname, "../..");
export const INFRA_SCRIPT = resolve(ROOT, "scripts/infra.sh");

export type Component = "redis" | "zookeeper" | "kafka";

export interface PrivateStack {
	/** INFRA_DIR of this stack (data/, logs/, run/, conf/). */
	readonly dir: string;
	readonly redisPort: number;
	readonly zookeeperPort: number;
	readonly kafkaPort: number;
	/** REDIS_HOST, REDIS_PORT, ZOOKEEPER_HOSTS and KAFKA_HOSTS of this stack, for a node's environment. */
	readonly env: Record<string, string>;
	/** `infra.sh up [components]`; resolves with its output once they answer, rejects when it fails. */
	up(...components: Component[]): Promise<string>;
	/** `infra.sh down [components]`; resolves once they have exited. */
	down(...components: Component[]): Promise<string>;
	/** Stop everything and delete the temp dir. */
	destroy(): Promise<void>;
}

function runInfra(env: NodeJS.ProcessEnv, args: string[], timeoutMs: number): Promise<string> {
	return new Promise((resolvePromise, reject) => {
		const child = spawn("bash", [INFRA_SCRIPT, ...args], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
		let out = "";
		child.stdout.on("data", (b: Buffer) => void (out += b.toString("utf8")));
		child.stderr.on("data", (b: Buffer) => void (out += b.toString("utf8")));
		const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
		child.once("error", err => {
			clearTimeout(timer);
			reject(err);
		});
		child.once("exit", code => {
			clearTimeout(timer);
			if (code === 0) resolvePromise(out);
			else reject(new Error(`scripts/infra.sh ${args.join(" ")} failed (exit ${code}):\n${out}`));
		});
	});
}

export async function startPrivateStack(): Promise<PrivateStack> {
	const dir = mkdtempSync(join(tmpdir(), "sc-private-stack-"));
	// Four distinct free ports: Redis, ZooKeeper, Kafka, Kafka controller (freePort closes each at once, so ask until they differ).
	const ports = new Set<number>();
	while (ports.size < 4) ports.add(await freePort());
	const [redisPort, zookeeperPort, kafkaPort, controllerPort] = [...ports] as [number, number, number, number];
	const sharedInfra = process.env.INFRA_DIR ?? join(ROOT, ".infra");
	const env: Record<string, string> = {
		REDIS_HOST: "127.0.0.1",
		REDIS_PORT: String(redisPort),
		ZOOKEEPER_HOSTS: `127.0.0.1:${zookeeperPort}`,
		KAFKA_HOSTS: `127.0.0.1:${kafkaPort}`
	};
	const infraEnv: NodeJS.ProcessEnv = {
		...process.env,
		...env,
		INFRA_DIR: dir,
		KAFKA_CONTROLLER_PORT: String(controllerPort),
		KAFKA_LIB_DIR: process.env.KAFKA_LIB_DIR ?? join(sharedInfra, "kafka/lib"),
		KAFKA_HEAP_OPTS: "-Xms128m -Xmx384m",
		ZOOKEEPER_HEAP_OPTS: "-Xmx128m"
	};
	let destroyed = false;
	const stopOnExit = () => {
		if (!destroyed) spawnSync("bash", [INFRA_SCRIPT, "down", "--clean"], { cwd: ROOT, env: infraEnv, stdio: "ignore", timeout: 30000 });
	};
	process.once("exit", stopOnExit);

	const stack: PrivateStack = {
		dir,
		redisPort,
		zookeeperPort,
		kafkaPort,
		env,
		up: (...components) => runInfra(infraEnv, ["up", ...components], 180000),
		down: (...components) => runInfra(infraEnv, ["down", ...components], 60000),
		async destroy() {
			if (destroyed) return;
			try {
				await runInfra(infraEnv, ["down", "--clean"], 60000);
			} finally {
				destroyed = true;
				process.removeListener("exit", stopOnExit);
				// SC_TEST_KEEP_PRIVATE_STACK=1 keeps the logs (servers' and nodes') for a look after a failure.
				if (process.env.SC_TEST_KEEP_PRIVATE_STACK !== "1") rmSync(dir, { recursive: true, force: true });
			}
		}
	};
	try {
		await stack.up();
	} catch (err) {
		await stack.destroy().catch(() => undefined);
		throw err;
	}
	return stack;
}
