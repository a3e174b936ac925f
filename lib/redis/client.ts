/**
 * Redis connections from the REDIS_* settings: one server (with REDIS_DB) or, with REDIS_CLUSTER, a
 * Redis Cluster reached through REDIS_HOST:REDIS_PORT (the other nodes are discovered). ioredis
 * reconnects by itself with a capped backoff; callers read `status === "ready"` for health.
 *
 * Code that must work on both uses the helpers here instead of cluster-unsafe commands:
 * `scanKeys` visits every master (SCAN on a cluster object sees only one node) and `batch` sends many
 * commands at once (a pipeline on one server; on a cluster, every command sent without waiting for the
 * others, because a cluster pipeline must stay within one slot).
 */
import { Cluster, Redis, type RedisOptions } from "ioredis";
import type { Settings } from "../../config/index.ts";

export type RedisSettings = Pick<
	Settings,
	"REDIS_HOST" | "REDIS_PORT" | "REDIS_DB" | "REDIS_PASSWORD" | "REDIS_USERNAME" | "REDIS_TLS" | "REDIS_SOCKET_TIMEOUT" | "REDIS_CLUSTER"
>;

/** A connection to one Redis server or to a Redis Cluster; both have the same commands. */
export type RedisClient = Redis | Cluster;

/** Reconnect delay in ms for the n-th attempt: 100 ms doubling, capped at 5 s. */
export function reconnectDelay(attempt: number): number {
	return Math.min(100 * 2 ** Math.max(0, attempt - 1), 5000);
}

export function redisOptions(settings: RedisSettings, connectionName: string): RedisOptions {
	return {
		host: settings.REDIS_HOST,
		port: settings.REDIS_PORT,
		db: settings.REDIS_DB,
		password: settings.REDIS_PASSWORD ?? undefined,
		username: settings.REDIS_USERNAME ?? undefined,
		tls: settings.REDIS_TLS ? {} : undefined,
		connectTimeout: settings.REDIS_SOCKET_TIMEOUT * 1000,
		connectionName,
		lazyConnect: true,
		retryStrategy: reconnectDelay,
		maxRetriesPerRequest: 20
	};
}

export function createRedis(settings: RedisSettings, connectionName: string): RedisClient {
	if (!settings.REDIS_CLUSTER) return new Redis(redisOptions(settings, connectionName));
	const { host, port, db: _db, retryStrategy: _r, lazyConnect: _l, ...perNode } = redisOptions(settings, connectionName);
	// No auto-pipelining: ioredis 5 can throw from it (outside any caller) when a cluster connection
	// closes with commands pending; batch() sends its commands at once anyway.
	return new Cluster([{ host, port }], {
		lazyConnect: true,
		clusterRetryStrategy: reconnectDelay,
		redisOptions: perNode
	});
}

export function isCluster(client: RedisClient): client is Cluster {
	return client instanceof Cluster;
}

/** Close a connection: QUIT when connected (pending replies arrive), otherwise drop it at once. */
export async function closeRedis(client: RedisClient): Promise<void> {
	if (client.status === "ready") {
		try {
			await client.quit();
			return;
		} catch {
			/* fall through to disconnect */
		}
	}
	client.disconnect(false);
}

/**
 * Every key matching `pattern` (and of Redis type `type`, when given), page by page (`count` per SCAN),
 * on one server or on every master of a cluster.
 */
export async function* scanKeys(client: RedisClient, pattern: string, count = 1000, type?: string): AsyncGenerator<string[]> {
	const servers: Redis[] = isCluster(client) ? client.nodes("master") : [client];
	for (const server of servers) {
		let cursor = "0";
		do {
			const [next, keys] = type ? await server.scan(cursor, "MATCH", pattern, "COUNT", count, "TYPE", type) : await server.scan(cursor, "MATCH", pattern, "COUNT", count);
			cursor = next;
			if (keys.length) yield keys;
		} while (cursor !== "0");
	}
}

export type BatchCommand = [command: string, ...args: Array<string | number | Buffer>];
export type BatchResult = [error: Error | null, value: unknown];

/**
 * Send many independent commands in one go and get one [error, value] per command, in order, like a
 * pipeline's exec(). On a cluster the commands may touch keys in any slots.
 */
export async function batch(client: RedisClient, commands: BatchCommand[]): Promise<BatchResult[]> {
	if (!commands.length) return [];
	if (!isCluster(client)) return ((await client.pipeline(commands).exec()) ?? []) as BatchResult[];
	const settled = await Promise.allSettled(commands.map(([command, ...args]) => client.call(command, ...args)));
	return settled.map(r => (r.status === "fulfilled" ? [null, r.value] : [r.reason instanceof Error ? r.reason : new Error(String(r.reason)), null]));
}

/** batch(), throwing the first command's error; the values in order. */
export async function batchAll(client: RedisClient, commands: BatchCommand[]): Promise<unknown[]> {
	const results = await batch(client, commands);
	const failed = results.find(([err]) => err);
	if (failed) throw failed[0];
	return results.map(([, value]) => value);
}
