/**
 * Shared by the action services (Scrapy Cluster's Redis Monitor plugins: info, stop, stats, zookeeper):
 * a `handle` action that answers each request exactly once across any number of instances, retries
 * failures, publishes the answer to the outbound topics, and counts in stats:redis-monitor:*.
 *
 * Exactly once: a request (by uuid) is claimed with `SET lock:<Plugin>:<uuid> NX EX REDIS_LOCK_EXPIRATION`
 * while it is worked on, and marked `done:<Plugin>:<uuid>` (kept a day) once answered. A request whose lock
 * another instance holds is refused with a retryable error, so the caller (ingest) retries until it sees
 * it done. A failing request is retried up to RETRY_FAILURES_MAX times (failures counted in
 * `lock:<Plugin>:<uuid>:failures`), then answered with an `error`.
 *
 * The service using it defines the method `answer(request)` returning the response object (without
 * uuid/server_time, which are added here).
 * Needs RedisMixin and KafkaMixin on the same service, listed after this mixin.
 */
import { hostname } from "node:os";
import type { Context, Service } from "moleculer";
import { settingsOf } from "../config/broker.ts";
import { TransientError } from "../lib/errors.ts";
import { outboundTopics } from "../lib/monitor/outbound.ts";
import { defineMixin } from "./define.ts";
import type { KafkaMixinThis } from "./kafka.mixin.ts";
import type { RedisMixinThis } from "./redis.mixin.ts";
import type { StatsMixinThis } from "./stats.mixin.ts";

export interface ActionRequest {
	uuid?: string;
	appid: string;
	[key: string]: unknown;
}

export interface ActionMixinOptions {
	/** The original's plugin class name, used in keys and stats: InfoMonitor, StopMonitor, ... */
	plugin: string;
}

/** Seconds a done marker is kept: a redelivered request within that time is not answered twice. */
export const DONE_TTL_SECONDS = 86400;

export interface ActionMixinThis {
	/** Publish a response to <prefix>.outbound_firehose (and <prefix>.outbound_<appid> with KAFKA_APPID_TOPICS). */
	publishOutbound(response: Record<string, unknown>, appid: string): Promise<void>;
	answer(request: ActionRequest): Promise<Record<string, unknown>>;
	/** Optional: the answer after the last failure (default: the request's fields plus `error`). */
	failureResponse?(request: ActionRequest, err: Error): Record<string, unknown>;
}

type This = RedisMixinThis & KafkaMixinThis & StatsMixinThis & ActionMixinThis & Pick<Service, "broker" | "logger">;

export const serverTime = (): number => Math.floor(Date.now() / 1000);

/** The answer to a request that failed RETRY_FAILURES_MAX times: the request's fields and `error`. */
function defaultFailure(request: ActionRequest, err: Error): Record<string, unknown> {
	const { ts: _ts, uuid: _uuid, ...fields } = request;
	return { ...fields, error: err.message };
}

export function ActionMixin(opts: ActionMixinOptions) {
	const lockKey = (uuid: string) => `lock:${opts.plugin}:${uuid}`;
	const failuresKey = (uuid: string) => `lock:${opts.plugin}:${uuid}:failures`;
	const doneKey = (uuid: string) => `done:${opts.plugin}:${uuid}`;

	return defineMixin<This>({
		actions: {
			handle: {
				async handler(this: This, ctx: Context<ActionRequest>) {
					const s = settingsOf(this.broker);
					const request = ctx.params;
					const uuid = typeof request.uuid === "string" ? request.uuid : null;
					if (uuid === null) {
						// Nothing to de-duplicate on: answer as it comes (internal callers only).
						const response = await this.answer(request);
						await this.publishOutbound({ ...response, server_time: serverTime() }, request.appid);
						return response;
					}
					if (await this.redis.exists(doneKey(uuid))) return { duplicate: true, uuid };
					const token = `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2)}`;
					const claimed = await this.redis.set(lockKey(uuid), token, "EX", s.REDIS_LOCK_EXPIRATION, "NX");
					if (claimed !== "OK") throw new TransientError(`${opts.plugin} request ${uuid} is being answered by another instance`);
					// Keep the claim while working (a long answer must not let another instance take it).
					const renew = setInterval(() => {
						void this.redis.set(lockKey(uuid), token, "EX", s.REDIS_LOCK_EXPIRATION, "XX").catch(() => undefined);
					}, Math.max(500, (s.REDIS_LOCK_EXPIRATION * 1000) / 3));
					renew.unref();
					try {
						// Another instance may have finished between our first look and the claim.
						if (await this.redis.exists(doneKey(uuid))) return { duplicate: true, uuid };
						await this.statsCount("total", opts.plugin);
						let response: Record<string, unknown>;
						try {
							response = await this.answer(request);
						} catch (err) {
							await this.statsCount("fail");
							const failures = await this.redis.incr(failuresKey(uuid));
							await this.redis.expire(failuresKey(uuid), DONE_TTL_SECONDS);
							if (s.RETRY_FAILURES && failures <= s.RETRY_FAILURES_MAX) {
								this.logger.warn("Action failed, will retry", { plugin: opts.plugin, uuid, failures, error: (err as Error).message });
								throw new TransientError(`${opts.plugin} failed (${failures}/${s.RETRY_FAILURES_MAX}): ${(err as Error).message}`);
							}
							this.logger.error("Could not process action within failure limit", { plugin: opts.plugin, uuid, failures, error: (err as Error).message });
							response = this.failureResponse ? this.failureResponse(request, err as Error) : defaultFailure(request, err as Error);
						}
						const full = { ...response, uuid, server_time: serverTime() };
						await this.publishOutbound(full, request.appid);
						// Two keys in two hash slots (a Redis Cluster): the marker first, then the failure count.
						await this.redis.set(doneKey(uuid), "1", "EX", DONE_TTL_SECONDS);
						await this.redis.del(failuresKey(uuid));
						return full;
					} finally {
						clearInterval(renew);
						// Release only our own lock.
						const holder = await this.redis.get(lockKey(uuid));
						if (holder === token) await this.redis.del(lockKey(uuid));
					}
				}
			}
		},
		methods: {
			async publishOutbound(this: This, response: Record<string, unknown>, appid: string) {
				const s = settingsOf(this.broker);
				const message = { value: JSON.stringify(response) };
				await Promise.all(outboundTopics(s, appid).map(topic => this.kafka.produce(topic, message)));
			}
		}
	});
}
