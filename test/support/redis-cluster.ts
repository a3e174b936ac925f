/**
 * A private three-master Redis Cluster for a test file, started by the project's own
 * scripts/redis-cluster.sh in a temp dir on free loopback ports (each below 55536, since port + 10000
 * is the cluster bus). destroy() stops it and deletes the dir.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const SCRIPT = resolve(__dirname, "../../scripts/redis-cluster.sh");

export interface TestRedisCluster {
	readonly ports: number[];
	/** Settings that point a node at this cluster. */
	readonly settings: { REDIS_CLUSTER: true; REDIS_HOST: string; REDIS_PORT: number; REDIS_DB: 0 };
	destroy(): Promise<void>;
}

function portFree(port: number): Promise<boolean> {
	return new Promise(done => {
		const server = createServer();
		server.once("error", () => done(false));
		server.listen(port, "127.0.0.1", () => server.close(() => done(true)));
	});
}

/** A loopback port that is free, as is port + 10000 (the cluster bus). */
async function clusterPort(taken: Set<number>): Promise<number> {
	for (let attempt = 0; attempt < 200; attempt++) {
		const port = 20000 + Math.floor(Math.random() * 20000);
		if (taken.has(port) || taken.has(port + 10000)) continue;
		if ((await portFree(port)) && (await portFree(port + 10000))) {
			taken.add(port).add(port + 10000);
			return port;
		}
	}
	throw new Error("no free port pair for a Redis Cluster node after 200 tries");
}

function run(env: NodeJS.ProcessEnv, ...args: string[]): string {
	const r = spawnSync("bash", [SCRIPT, ...args], { env, encoding: "utf8", timeout: 60000 });
	if (r.status !== 0) throw new Error(`scripts/redis-cluster.sh ${args.join(" ")} failed (exit ${r.status}):\n${r.stdout}${r.stderr}`);
	return r.stdout;
}

export async function startRedisCluster(): Promise<TestRedisCluster> {
	const taken = new Set<number>();
	const ports = [await clusterPort(taken), await clusterPort(taken), await clusterPort(taken)];
	const dir = mkdtempSync(join(tmpdir(), "sc-redis-cluster-"));
	const env = { ...process.env, REDIS_CLUSTER_PORTS: ports.join(" "), REDIS_CLUSTER_DIR: dir };
	run(env, "up");
	return {
		ports,
		settings: { REDIS_CLUSTER: true, REDIS_HOST: "127.0.0.1", REDIS_PORT: ports[0]!, REDIS_DB: 0 },
		async destroy() {
			try {
				run(env, "down");
			} finally {
				rmSync(dir, { recursive: true, force: true });
			}
		}
	};
}
