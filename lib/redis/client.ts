/**
 * Redis connections from the REDIS_* settings. ioredis reconnects by itself with a capped backoff;
 * callers read `status === "ready"` for health.
 */
import { Redis, type RedisOptions } from "ioredis";
import type { Settings } from "../../config/index.ts";

export type RedisSettings = Pick<
	Settings,
	"REDIS_HOST" | "REDIS_PORT" | "REDIS_DB" | "REDIS_PASSWORD" | "REDIS_USERNAME" | "REDIS_TLS" | "REDIS_SOCKET_TIMEOUT"
>;

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

export function createRedis(settings: RedisSettings, connectionName: string): Redis {
	return new Redis(redisOptions(settings, connectionName));
}

/** Close a connection: QUIT when connected (pending replies arrive), otherwise drop it at once. */
export async function closeRedis(client: Redis): Promise<void> {
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
