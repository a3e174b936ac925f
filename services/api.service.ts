/**
 * api: the REST gateway (Scrapy Cluster's Rest service) on moleculer-web, port REST_PORT (5343).
 *   GET|POST /     health: kafka_connected, redis_connected, my_id, node_health, uptime_sec
 *   POST /feed     a Kafka API request; crawl -> data null; others wait WAIT_FOR_RESPONSE_TIME for the answer
 *                  on the outbound topic, else answer {poll_id}
 *   POST /poll     {poll_id} -> the late answer, kept in Redis (rest:poll:<uuid>) by every instance
 *   GET /openapi.json
 *   GET /dashboard  the live dashboard (mixins/dashboard.mixin.ts): the page, and GET /dashboard/api/state
 * Answers use the original's wrapper {status, data, error} and messages; no stack traces reach clients.
 */
import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import ApiGateway from "moleculer-web";
import type { ServiceSchema, ServiceSettingSchema } from "moleculer";
import { settingsOf } from "../config/broker.ts";
import type { Settings } from "../config/index.ts";
import { REQUEST_KINDS } from "../config/request-kinds.ts";
import { failure, indexDocument, keyAppids, MESSAGES, pollKey, pollSchema, success, type Wrapped } from "../lib/api/responses.ts";
import { openApiDocument } from "../lib/api/openapi.ts";
import { ResponseWaiters } from "../lib/api/waiters.ts";
import { RefusedRequestError } from "../lib/errors.ts";
import { sendToIncoming } from "../lib/ingest/feed.ts";
import { acceptValue } from "../lib/ingest/process.ts";
import type { KafkaConsumerHandle } from "../lib/kafka/client.ts";
import { orderKinds } from "../lib/requests/kind.ts";
import { describeIssues } from "../lib/requests/schema.ts";
import { KafkaMixin, type KafkaMixinThis } from "../mixins/kafka.mixin.ts";
import { RedisMixin, type RedisMixinThis } from "../mixins/redis.mixin.ts";
import { StatsMixin, type StatsMixinThis } from "../mixins/stats.mixin.ts";
import { DashboardMixin, dashboardRoute, type DashboardMixinThis } from "../mixins/dashboard.mixin.ts";

type Request = IncomingMessage & { body?: unknown; $ctx?: unknown };

interface ApiState {
	startedAt: number;
	waiters: ResponseWaiters;
	consumer: KafkaConsumerHandle | null;
	groupId: string;
	stopping: boolean;
	starting: Promise<void> | null;
}

type Vars = KafkaMixinThis & RedisMixinThis & StatsMixinThis & DashboardMixinThis & { api: ApiState };

interface Methods {
	send(res: ServerResponse, code: number, body: unknown): void;
	jsonBody(req: Request, res: ServerResponse): Record<string, unknown> | null;
	allowedAppids(req: Request, res: ServerResponse): string[] | null | false;
	feed(req: Request, res: ServerResponse): Promise<void>;
	poll(req: Request, res: ServerResponse): Promise<void>;
	index(res: ServerResponse): void;
	consumeAnswers(): Promise<void>;
	onAnswer(value: Buffer | null): Promise<void>;
	settingsNow(): Settings;
}

const isJsonContentType = (req: IncomingMessage) => /^application\/(.+\+)?json\b/i.test(String(req.headers["content-type"] ?? ""));

/** Moleculer-web / body-parser errors to the original's answers. */
function errorAnswer(err: Error & { code?: unknown; type?: string; status?: number }): [number, Wrapped] {
	const code = typeof err.code === "number" ? err.code : (err.status ?? 500);
	if (err.type === "entity.too.large" || code === 413) return [413, failure(MESSAGES.tooLarge)];
	if (code === 404) return [404, failure(MESSAGES.noEndpoint)];
	if (code === 405) return [405, failure(MESSAGES.method)];
	// Everything else the body parser refuses (bad JSON, charset, encoding, corrupt compression) is the client's.
	// (Decompression errors carry a string code such as Z_DATA_ERROR or ERR__ERROR_FORMAT_PADDING_2.)
	const decoding = typeof err.code === "string" || /decompress|inflate|gunzip|header check|end of file/i.test(err.message);
	if (err.type !== undefined || decoding || (code >= 400 && code < 500)) return [400, failure(MESSAGES.invalidJson)];
	return [500, failure(MESSAGES.internal)];
}

function onError(this: { logger: { warn(m: string, d?: object): void } }, req: IncomingMessage, res: ServerResponse, err: Error) {
	const [code, body] = errorAnswer(err as Error & { code?: unknown; type?: string });
	if (code >= 500) this.logger.warn("REST request failed", { url: req.url, method: req.method, error: err.message, code: (err as { code?: unknown }).code, name: err.name });
	if (res.headersSent) return res.end();
	res.writeHead(code, { "Content-Type": "application/json; charset=utf-8" });
	res.end(JSON.stringify(body));
}

/** Port, address and body limit of the gateway from the node's settings (REST_PORT, REST_HOST, REST_BODY_LIMIT). */
const GatewaySettingsMixin: Partial<ServiceSchema> = {
	created() {
		const s = settingsOf(this.broker);
		Object.assign(this.settings, { port: s.REST_PORT, ip: s.REST_HOST });
		const routes = (this.settings as { routes: Array<{ bodyParsers?: { json?: { limit: string } } }> }).routes;
		for (const route of routes) if (route.bodyParsers?.json) route.bodyParsers.json.limit = s.REST_BODY_LIMIT;
	}
};

const ApiService: ServiceSchema<ServiceSettingSchema, Methods, Vars> = {
	name: "api",
	// Hooks run last mixin first: the gateway is configured from the settings before moleculer-web builds it.
	mixins: [ApiGateway as unknown as ServiceSchema, GatewaySettingsMixin, DashboardMixin(), StatsMixin({ component: "rest" }), KafkaMixin(), RedisMixin()],
	settings: {
		port: 0,
		ip: "0.0.0.0",
		logRequest: "info",
		logResponse: "debug",
		routes: [
			{
				path: "/",
				mappingPolicy: "restrict",
				bodyParsers: { json: { strict: false, limit: "1MB", type: ["application/json", "application/*+json"] } },
				aliases: {
					"GET /"(this: Methods, _req: Request, res: ServerResponse) {
						this.index(res);
					},
					"POST /"(this: Methods, _req: Request, res: ServerResponse) {
						this.index(res);
					},
					"POST /feed"(this: Methods, req: Request, res: ServerResponse) {
						void this.feed(req, res);
					},
					"POST /poll"(this: Methods, req: Request, res: ServerResponse) {
						void this.poll(req, res);
					},
					"GET /openapi.json"(this: Methods & { broker: { MOLECULER_VERSION: string } }, _req: Request, res: ServerResponse) {
						this.send(res, 200, openApiDocument("0.1.0", this.settingsNow().REST_API_KEYS !== null));
					}
				},
				onError
			},
			dashboardRoute(onError)
		],
		onError
	} as ServiceSettingSchema,

	methods: {
		settingsNow() {
			return settingsOf(this.broker);
		},

		send(res, code, body) {
			if (res.headersSent) return;
			res.writeHead(code, { "Content-Type": "application/json; charset=utf-8" });
			res.end(JSON.stringify(body));
		},

		index(res) {
			this.send(res, 200, indexDocument({ kafka: this.kafkaConnected(), redis: this.redisConnected(), myId: this.statsInstanceId, startedAt: this.api.startedAt }));
		},

		/** The parsed JSON object of the request, or null after answering 400. */
		jsonBody(req, res) {
			const body = req.body;
			// The body parser turns an empty body into {}: an empty body is no JSON.
			const empty = req.headers["content-length"] === "0" || (req.headers["content-length"] === undefined && req.headers["transfer-encoding"] === undefined);
			if (!isJsonContentType(req) || body === null || typeof body !== "object" || Array.isArray(body) || (empty && Object.keys(body).length === 0)) {
				this.send(res, 400, failure(MESSAGES.invalidJson));
				return null;
			}
			return body as Record<string, unknown>;
		},

		/** Appids the caller's API key may act for (null: keys are off); false after answering 401. */
		allowedAppids(req, res) {
			const header = req.headers["x-api-key"];
			const allowed = keyAppids(this.settingsNow().REST_API_KEYS, Array.isArray(header) ? header[0] : header);
			if (allowed === "invalid") {
				this.send(res, 401, failure(MESSAGES.apiKey));
				return false;
			}
			return allowed;
		},

		async feed(req, res) {
			try {
				const allowed = this.allowedAppids(req, res);
				if (allowed === false) return;
				const body = this.jsonBody(req, res);
				if (!body) return;
				const s = this.settingsNow();
				let kind: string;
				try {
					kind = acceptValue(body, orderKinds(REQUEST_KINDS, s.PLUGINS)).kind.name;
				} catch (err) {
					if (!(err instanceof RefusedRequestError)) throw err;
					const reasons = err.detail.reasons as Record<string, string> | undefined;
					const cause = reasons ? Object.entries(reasons).map(([k, r]) => `${k}: ${r}`).join(" | ") : String(err.detail.reason ?? err.message);
					return this.send(res, 400, failure(MESSAGES.schema, cause));
				}
				if (allowed !== null && !allowed.includes(String(body.appid))) return this.send(res, 403, failure(`This API key may not act for appid '${String(body.appid)}'.`));
				const uuid = kind !== "crawl" && typeof body.uuid === "string" ? body.uuid : null;
				// Wait before sending, so an answer that comes back at once is not missed.
				const waiting = uuid ? this.api.waiters.wait(uuid, s.WAIT_FOR_RESPONSE_TIME * 1000) : null;
				try {
					await sendToIncoming(this.kafka, s, body);
				} catch (err) {
					waiting?.cancel();
					this.logger.warn("Unable to feed a REST request to Kafka; check KAFKA_HOSTS", { error: (err as Error).message });
					return this.send(res, 500, failure(MESSAGES.kafka));
				}
				if (!waiting || !uuid) return this.send(res, 200, success(null));
				const answer = await waiting.answer;
				this.send(res, 200, success(answer ?? { poll_id: uuid }));
			} catch (err) {
				this.logger.warn("REST feed failed", { error: (err as Error).message });
				this.send(res, 500, failure(MESSAGES.internal));
			}
		},

		async poll(req, res) {
			try {
				const allowed = this.allowedAppids(req, res);
				if (allowed === false) return;
				const body = this.jsonBody(req, res);
				if (!body) return;
				const checked = pollSchema.validate(body);
				if (!checked.ok) return this.send(res, 400, failure(MESSAGES.schema, describeIssues(checked.issues)));
				if (!this.redisConnected()) return this.send(res, 500, failure(MESSAGES.redis));
				const key = pollKey(checked.value.poll_id);
				let raw: string | null;
				try {
					raw = await this.redis.get(key);
				} catch {
					return this.send(res, 500, failure(MESSAGES.redis));
				}
				if (raw === null) return this.send(res, 404, failure(MESSAGES.pollNotFound));
				let answer: Record<string, unknown>;
				try {
					answer = JSON.parse(raw) as Record<string, unknown>;
				} catch {
					await this.redis.del(key);
					return this.send(res, 500, failure(MESSAGES.pollUnparseable));
				}
				if (allowed !== null && !allowed.includes(String(answer.appid))) return this.send(res, 403, failure(`This API key may not act for appid '${String(answer.appid)}'.`));
				await this.redis.del(key);
				this.send(res, 200, success(answer));
			} catch (err) {
				this.logger.warn("REST poll failed", { error: (err as Error).message });
				this.send(res, 500, failure(MESSAGES.internal));
			}
		},

		async onAnswer(value) {
			if (!value) return;
			let answer: Record<string, unknown>;
			try {
				answer = JSON.parse(value.toString("utf8")) as Record<string, unknown>;
			} catch {
				return;
			}
			if (typeof answer.uuid !== "string" || this.api.waiters.deliver(answer)) return;
			// Late, or for another instance: keep it for /poll on any instance.
			await this.redis.set(pollKey(answer.uuid), JSON.stringify(answer), "EX", this.settingsNow().REST_POLL_TTL);
		},

		async consumeAnswers() {
			const s = this.settingsNow();
			const topic = `${s.KAFKA_TOPIC_PREFIX}.outbound_firehose`;
			while (!this.api.stopping) {
				try {
					await this.kafka.ensureTopics([{ topic, partitions: 1 }]);
					this.api.consumer = await this.kafka.consume({ groupId: this.api.groupId, topics: [topic], fromBeginning: false, onMessage: m => this.onAnswer(m.value) });
					this.logger.info("Listening for answers", { topic });
					return;
				} catch (err) {
					if (this.api.stopping) return;
					this.logger.warn("Cannot listen for answers yet, retrying; check KAFKA_HOSTS", { error: (err as Error).message });
					await new Promise(r => setTimeout(r, 2000).unref());
				}
			}
		}
	},

	created() {
		this.api = {
			startedAt: Date.now(),
			waiters: new ResponseWaiters(),
			consumer: null,
			// Every instance reads every answer: its own group, from the latest offset.
			groupId: `rest-${this.broker.nodeID}-${randomBytes(4).toString("hex")}`,
			stopping: false,
			starting: null
		};
	},

	started() {
		this.kafka.connect().catch(() => undefined);
		this.api.starting = this.consumeAnswers();
	},

	async stopped() {
		this.api.stopping = true;
		await Promise.race([this.api.starting, new Promise(r => setTimeout(r, 2000).unref())]);
		await this.api.consumer?.stop();
		await this.kafka.deleteGroups([this.api.groupId]).catch(() => undefined);
	}
};

export default ApiService;
