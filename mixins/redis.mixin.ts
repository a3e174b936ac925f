/**
 * Gives a service `this.redis`: one ioredis connection made from the REDIS_* settings, connected when
 * the service starts, reconnecting by itself, closed when the service stops.
 * Start does not fail while Redis is away: it waits REDIS_SOCKET_TIMEOUT, logs, and keeps retrying.
 */
import type { Service, ServiceSchema } from "moleculer";
import { defineMixin } from "./define.ts";
import { settingsOf } from "../config/broker.ts";
import { closeRedis, createRedis, type RedisClient } from "../lib/redis/client.ts";

export interface RedisMixinThis {
	redis: RedisClient;
	redisConnected(): boolean;
}

type This = Service & RedisMixinThis & { redisClosing: boolean };

export function RedisMixin(): Partial<ServiceSchema> {
	return defineMixin<RedisMixinThis & { redisClosing: boolean }>({
		methods: {
			redisConnected(this: This): boolean {
				return this.redis?.status === "ready";
			}
		},
		created(this: This) {
			const settings = settingsOf(this.broker);
			this.redis = createRedis(settings, `${this.broker.nodeID}:${this.name}`);
			// One line when the connection goes (an error, or the server closing it) and one when it is back.
			let wasDown = false;
			const where = `${settings.REDIS_HOST}:${settings.REDIS_PORT}`;
			const lost = (error: string) => {
				if (wasDown || this.redisClosing) return;
				wasDown = true;
				this.logger.warn("Redis connection lost, reconnecting", { redis: where, error });
			};
			this.redisClosing = false;
			this.redis.on("error", (err: Error) => lost(err.message));
			this.redis.on("close", () => lost("connection closed"));
			this.redis.on("ready", () => {
				if (wasDown) this.logger.info("Redis connection regained", { redis: where });
				wasDown = false;
			});
		},
		async started(this: This) {
			const settings = settingsOf(this.broker);
			const timeout = settings.REDIS_SOCKET_TIMEOUT * 1000;
			let timer: NodeJS.Timeout | undefined;
			try {
				await Promise.race([
					this.redis.connect(),
					new Promise((_, reject) => {
						timer = setTimeout(() => reject(new Error(`no answer within ${timeout} ms`)), timeout);
					})
				]);
			} catch (err) {
				this.logger.warn("Redis not reachable at start, retrying in the background; check REDIS_HOST/REDIS_PORT", {
					redis: `${settings.REDIS_HOST}:${settings.REDIS_PORT}`,
					error: (err as Error).message
				});
			} finally {
				clearTimeout(timer);
			}
		},
		async stopped(this: This) {
			this.redisClosing = true;
			await closeRedis(this.redis);
		}
	});
}
