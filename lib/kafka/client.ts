/**
 * The project's Kafka client, the only module that imports a Kafka library, so swapping one means
 * rewriting this file alone. Two libraries, each where it is better:
 * - producing (send, produce, connect, connected) is on @platformatic/kafka: its record encoder writes
 *   into a DynamicBuffer without copying the values, with native CRC-32C (@node-rs/crc32); kafkajs'
 *   produce path (its RecordBatch encoder, JavaScript CRC-32C, growing buffers) cost the crawler about
 *   a fifth of its CPU;
 * - consumer groups and admin stay on kafkajs (unmaintained upstream, but its consumer runner gives the
 *   commit-after-handling and crash/rejoin behaviour the services rely on).
 */
import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import { randomInt } from "node:crypto";
import { format } from "node:util";
import { Kafka, logLevel, type Admin, type Consumer, type SASLOptions } from "kafkajs";
import RequestQueue from "kafkajs/src/network/requestQueue/index.js";
import {
	compatibilityPartitioner,
	loggers as libraryLoggers,
	Producer,
	type MessageToProduce,
	type ProducerOptions,
	type SASLMechanismValue
} from "@platformatic/kafka";
import type { Settings } from "../../config/index.ts";
import { isRetryable } from "../errors.ts";
import { RepeatFilter } from "../logging/repeat.ts";
import { Batcher } from "./batcher.ts";

export type KafkaSettings = Pick<
	Settings,
	| "KAFKA_HOSTS"
	| "KAFKA_CLIENT_ID"
	| "KAFKA_CONN_TIMEOUT"
	| "KAFKA_SSL"
	| "KAFKA_SSL_CA"
	| "KAFKA_SSL_CERT"
	| "KAFKA_SSL_KEY"
	| "KAFKA_SSL_REJECT_UNAUTHORIZED"
	| "KAFKA_SASL_MECHANISM"
	| "KAFKA_SASL_USERNAME"
	| "KAFKA_SASL_PASSWORD"
	| "KAFKA_PRODUCER_BATCH_LINGER_MS"
	| "KAFKA_PRODUCER_BUFFER_BYTES"
	| "KAFKA_PRODUCER_MAX_REQUEST_SIZE"
	| "KAFKA_CONSUMER_AUTO_OFFSET_RESET"
	| "KAFKA_CONSUMER_TIMEOUT"
	| "KAFKA_CONSUMER_COMMIT_INTERVAL_MS"
	| "KAFKA_CONSUMER_AUTO_COMMIT_ENABLE"
	| "KAFKA_CONSUMER_FETCH_MESSAGE_MAX_BYTES"
>;

/** What the rest of the project sees of logging: a message plus a data object. */
export interface KafkaLog {
	error(message: string, data?: object): void;
	warn(message: string, data?: object): void;
	info(message: string, data?: object): void;
	debug(message: string, data?: object): void;
}

/**
 * Optional observers of the client (metrics), so this module stays free of any framework.
 * `onSend` is called after every produce request (one batch) with its duration; `error` is null on success.
 */
export interface KafkaHooks {
	onSend?(topic: string, messages: number, seconds: number, error: { transient: boolean; message: string } | null): void;
}

export interface OutgoingMessage {
	key?: string | null;
	value: string | Buffer;
	headers?: Record<string, string>;
}

export interface IncomingMessage {
	topic: string;
	partition: number;
	offset: string;
	key: Buffer | null;
	value: Buffer | null;
	timestamp: string;
	/** Tell the group this consumer is alive (call it while retrying a message for long). */
	heartbeat(): Promise<void>;
}

export interface TopicSpec {
	topic: string;
	partitions: number;
	/** Topic-level configs of a topic created here (e.g. retention.ms); an existing topic keeps its own. */
	config?: Record<string, string>;
}

export interface ConsumeOptions {
	groupId: string;
	topics: string[];
	/** Where a group without committed offsets starts; default KAFKA_CONSUMER_AUTO_OFFSET_RESET. */
	fromBeginning?: boolean;
	/**
	 * Called once per message, in order per partition. The message's offset is committed only after
	 * the returned promise resolves; a rejection makes the consumer retry the message.
	 */
	onMessage: (message: IncomingMessage) => Promise<void>;
	/** Concurrent partitions handled at once (default 1). */
	partitionsConsumedConcurrently?: number;
	/**
	 * Bytes a fetch waits for (up to KAFKA_CONSUMER_TIMEOUT) before it answers; default 1: every message as
	 * soon as it is there. A bulk reader sets more to make fewer, larger fetches.
	 */
	minBytes?: number;
}

export interface KafkaConsumerHandle {
	readonly groupId: string;
	stop(): Promise<void>;
}

/** Thrown when a message is larger than KAFKA_PRODUCER_MAX_REQUEST_SIZE: retrying cannot help. */
export class MessageTooLargeError extends Error {
	constructor(size: number, limit: number) {
		super(`message of ${size} bytes exceeds KAFKA_PRODUCER_MAX_REQUEST_SIZE (${limit})`);
		this.name = "MessageTooLargeError";
	}
}

function brokersOf(settings: KafkaSettings): string[] {
	return settings.KAFKA_HOSTS.split(",").map(h => h.trim()).filter(Boolean);
}

/** Node TLS options from KAFKA_SSL*, or undefined without KAFKA_SSL (both libraries take these). */
function tlsOptions(settings: KafkaSettings) {
	return settings.KAFKA_SSL
		? {
				rejectUnauthorized: settings.KAFKA_SSL_REJECT_UNAUTHORIZED,
				ca: settings.KAFKA_SSL_CA ? [readFileSync(settings.KAFKA_SSL_CA, "utf8")] : undefined,
				cert: settings.KAFKA_SSL_CERT ? readFileSync(settings.KAFKA_SSL_CERT, "utf8") : undefined,
				key: settings.KAFKA_SSL_KEY ? readFileSync(settings.KAFKA_SSL_KEY, "utf8") : undefined
			}
		: undefined;
}

/** kafkajs options from the settings (consumers and admin). */
export function kafkaConfig(settings: KafkaSettings, clientId: string) {
	const sasl = settings.KAFKA_SASL_MECHANISM
		? ({
				mechanism: settings.KAFKA_SASL_MECHANISM,
				username: settings.KAFKA_SASL_USERNAME ?? "",
				password: settings.KAFKA_SASL_PASSWORD ?? ""
			} as SASLOptions)
		: undefined;
	return {
		brokers: brokersOf(settings),
		clientId,
		ssl: tlsOptions(settings),
		sasl,
		connectionTimeout: settings.KAFKA_CONN_TIMEOUT * 1000,
		requestTimeout: Math.max(30000, settings.KAFKA_CONN_TIMEOUT * 1000),
		// Bounded retries of one call; callers (ingest, feed) retry further on their own, cancellably.
		retry: { initialRetryTime: 200, maxRetryTime: 2000, retries: 5 }
	};
}

/** What the producer takes: keys and header values as strings, values as strings or Buffers. */
export type ProducerConfig = ProducerOptions<string, string | Buffer, string, string>;

/** Attempts of one produce or metadata call inside @platformatic/kafka before it fails (200 ms doubling to 2 s between). */
export const PRODUCER_LIBRARY_RETRIES = 5;

const toBuffer = (v?: string | Buffer): Buffer | undefined => (v === undefined || v === null ? undefined : typeof v === "string" ? Buffer.from(v) : v);

/**
 * The partition of a message: with a key, murmur2 of the key like the Java client and kafkajs'
 * DefaultPartitioner (so a key keeps its partition across the swap); without one, round-robin per
 * topic from a random start (as kafkajs). The library takes the result modulo the partition count.
 */
export function spreadingPartitioner(): NonNullable<ProducerConfig["partitioner"]> {
	const next = new Map<string, number>();
	return (message, key) => {
		if (key) return compatibilityPartitioner(message, key);
		const n = next.get(message.topic) ?? randomInt(0x3fffffff);
		next.set(message.topic, (n + 1) & 0x3fffffff);
		return n;
	};
}

/** @platformatic/kafka producer options from the settings (the same KAFKA_* as kafkajs'). */
export function producerConfig(settings: KafkaSettings, clientId: string): ProducerConfig {
	const brokers = brokersOf(settings);
	const tls = tlsOptions(settings);
	return {
		clientId,
		bootstrapBrokers: brokers,
		tls,
		// SNI with the broker's name, as kafkajs sends it; never an IP address (Node warns about those).
		tlsServerName: tls !== undefined && brokers.every(b => isIP(b.replace(/:\d+$/, "").replace(/^\[|\]$/g, "")) === 0),
		sasl: settings.KAFKA_SASL_MECHANISM
			? {
					mechanism: settings.KAFKA_SASL_MECHANISM.toUpperCase() as SASLMechanismValue,
					username: settings.KAFKA_SASL_USERNAME ?? "",
					password: settings.KAFKA_SASL_PASSWORD ?? ""
				}
			: undefined,
		connectTimeout: settings.KAFKA_CONN_TIMEOUT * 1000,
		requestTimeout: Math.max(30000, settings.KAFKA_CONN_TIMEOUT * 1000),
		// How long the broker may wait for the in-sync replicas of an acks=all produce (kafkajs' default).
		timeout: 30000,
		retries: PRODUCER_LIBRARY_RETRIES,
		retryDelay: (_client, _operation, attempt) => Math.min(200 * 2 ** (attempt - 1), 2000),
		// Produced topics that do not exist yet are created by the broker (auto.create.topics.enable), as with kafkajs.
		autocreateTopics: true,
		idempotent: false,
		partitioner: spreadingPartitioner(),
		// Buffers go as they are (never copied); strings are encoded once.
		serializers: { key: toBuffer, value: toBuffer, headerKey: toBuffer, headerValue: toBuffer }
	};
}

/**
 * kafkajs 2.2.4 re-arms a timer after every check of a connection's request queue, even with nothing
 * pending and no throttle to wait out; its delay is then negative (clamped to 1 ms), so every open kafkajs
 * connection wakes its process a thousand times a second for ever (upstream issues #1556 and #1704, never
 * fixed): about 4% of a core for an idle consumer, and as many interruptions of a busy event loop, plus a
 * TimeoutNegativeWarning per connection on Node 24. Nothing needs checking then: a request pushed later
 * schedules its own check, and one that completes checks the queue.
 */
const scheduleCheck = RequestQueue.prototype.scheduleCheckPendingRequests;
RequestQueue.prototype.scheduleCheckPendingRequests = function (this: RequestQueue) {
	if (this.pending.length === 0 && this.throttledUntil <= Date.now()) return;
	scheduleCheck.call(this);
};

/** The message of an error, with the first inner one of an error holding several (@platformatic/kafka's retries). */
export function errorMessage(err: unknown): string {
	if (!(err instanceof Error)) return String(err);
	let inner: unknown = err;
	for (let depth = 0; inner instanceof AggregateError && inner.errors.length && depth < 5; depth++) inner = inner.errors[inner.errors.length - 1];
	const leaf = inner instanceof Error && inner !== err ? inner : null;
	const cause = (leaf ?? err).cause instanceof Error ? ((leaf ?? err).cause as Error).message : null;
	const detail = [leaf?.message, cause].filter(Boolean).join(": ");
	return detail ? `${err.message} (${detail})` : err.message;
}

/** Longest wait for batched messages to be sent when the client closes. */
export const CLOSE_FLUSH_TIMEOUT_MS = 5000;

/** Backoff between attempts of a batch of produced messages while Kafka is away: 200 ms doubling to 5 s. */
export const PRODUCE_RETRY_MIN_MS = 200;
export const PRODUCE_RETRY_MAX_MS = 5000;

type Verdict = "transient" | "refused" | null;

/** One error (not its causes) judged: an @platformatic/kafka error by its code and canRetry, others by name and message. */
function verdictOf(e: Error): Verdict {
	if (e instanceof MessageTooLargeError) return "refused";
	const { code, canRetry, closed } = e as { code?: unknown; canRetry?: unknown; closed?: unknown };
	if (typeof code === "string" && code.startsWith("PLT_KFK_")) {
		switch (code) {
			case "PLT_KFK_MULTIPLE":
			case "PLT_KFK_RESPONSE":
				return null; // judged by what it holds
			case "PLT_KFK_NETWORK": // connection refused, lost or timed out (TimeoutError has this code too)
				return closed === true ? "refused" : "transient";
			case "PLT_KFK_PROTOCOL": // a broker's answer: leader election, not enough replicas (retriable) or too large, not authorized, invalid config (not)
				return canRetry === true ? "transient" : "refused";
			case "PLT_KFK_USER":
				// The broker does not know the topic (yet): retriable, as UNKNOWN_TOPIC_OR_PARTITION is for kafkajs and Java.
				return /^Unknown topic /.test(e.message) ? "transient" : "refused";
			default: // authentication, unsupported API or compression, protocol corruption
				return "refused";
		}
	}
	if (isRetryable(e) || (e as { retriable?: unknown }).retriable === true) return "transient";
	return null;
}

/**
 * True when a failed send is about Kafka being away or moving (connection refused, lost or timed out,
 * leader election, retries exhausted on such errors), not about the messages themselves (too large,
 * not authorized, invalid configuration, authentication). An error holding several (the attempts of a
 * retried call, the partitions of one answer) is transient when one is and none is refused.
 */
export function isTransientKafkaError(err: unknown): boolean {
	let transient = false;
	let refused = false;
	const seen = new Set<unknown>();
	const visit = (e: unknown, depth: number): void => {
		if (!(e instanceof Error) || depth > 6 || seen.has(e) || seen.size > 200) return;
		seen.add(e);
		const verdict = verdictOf(e);
		if (verdict === "refused") refused = true;
		else if (verdict === "transient") transient = true;
		if (e instanceof AggregateError) for (const inner of e.errors as unknown[]) visit(inner, depth + 1);
		// kafkajs wraps the cause in originalError; @platformatic/kafka and Node in cause. A cause can refuse
		// what looked transient: a failed connection whose cause is a failed SASL authentication or TLS handshake.
		visit((e as { originalError?: unknown }).originalError ?? e.cause, depth + 1);
	};
	visit(err, 0);
	return transient && !refused;
}

const LEVEL_NAMES: Record<number, keyof KafkaLog> = {
	[logLevel.ERROR]: "error",
	[logLevel.WARN]: "warn",
	// kafkajs is chatty at INFO (joins, rebalances, every connect); those go to debug.
	[logLevel.INFO]: "debug",
	[logLevel.DEBUG]: "debug"
};

/**
 * @platformatic/kafka prints nothing by itself except through the `debug` package (DEBUG=plt:kafka:*),
 * whose loggers are per module: their lines go to the DEBUG log of the first open client.
 */
const libraryLogSinks = new Set<KafkaLog>();
for (const logger of Object.values(libraryLoggers)) {
	logger.log = (...args: unknown[]) => {
		for (const sink of libraryLogSinks) return sink.debug(`kafka: ${format(...args)}`);
	};
}

/** Backoff of the probe that reconnects the producer after it lost the cluster (so `connected` turns true again). */
export const RECONNECT_MIN_MS = 500;
export const RECONNECT_MAX_MS = 5000;

type LibraryProducer = Producer<string, string | Buffer, string, string>;
interface BrokerEvent {
	broker: { host: string; port: number };
}

export class KafkaClient {
	private readonly kafka: Kafka;
	private readonly settings: KafkaSettings;
	private readonly clientId: string;
	private readonly log: KafkaLog;
	/** Complaints repeated on every retry while a broker is away: once a minute at WARN/ERROR, the rest at DEBUG. */
	private readonly repeats = new RepeatFilter(60_000);
	private producer: LibraryProducer | null = null;
	private connecting: Promise<void> | null = null;
	private reconnectTimer: NodeJS.Timeout | null = null;
	private reconnectDelay = RECONNECT_MIN_MS;
	private admin: Admin | null = null;
	private readonly consumers = new Set<Consumer>();
	private readonly batchers = new Map<string, Batcher<OutgoingMessage>>();
	private producerConnected = false;
	private closed = false;
	/** Wake-ups of batches waiting to retry (close() ends their wait). */
	private readonly retryWaits = new Set<() => void>();
	/** Batches currently waiting for Kafka to come back (one warning per outage). */
	private batchesWaiting = 0;
	private readonly hooks: KafkaHooks;

	constructor(settings: KafkaSettings, clientId: string, log: KafkaLog, hooks: KafkaHooks = {}) {
		this.settings = settings;
		this.clientId = clientId;
		this.log = log;
		this.hooks = hooks;
		libraryLogSinks.add(log);
		this.kafka = new Kafka({
			...kafkaConfig(settings, clientId),
			logLevel: logLevel.INFO,
			logCreator: () => entry => {
				let method = LEVEL_NAMES[entry.level] ?? "debug";
				// kafkajs logs retriable protocol answers ("Response GroupCoordinator ... not available", rebalances)
				// and failed handler calls (which it retries) as errors; they are warnings here.
				if (method === "error" && /^(Response |Error when calling eachMessage)/.test(entry.log.message)) method = "warn";
				const { message, ...extra } = entry.log;
				if ((method === "warn" || method === "error") && this.repeats.repeated(`${entry.namespace}\u0000${message}`)) method = "debug";
				this.log[method](`kafka: ${message}`, { namespace: entry.namespace, ...extra });
			}
		});
	}

	/**
	 * True while the producer holds a connection to the cluster: false from the moment the broker
	 * closes it (or cannot be reached), true again once the producer reconnected (a background probe
	 * reconnects it, so an idle producer's health follows the broker too).
	 */
	get connected(): boolean {
		return this.producerConnected && !this.closed;
	}

	/** Connect the producer (done lazily by produce; call it to fail fast or to learn the health). */
	async connect(): Promise<void> {
		const producer = this.getProducer();
		this.connecting ??= producer.metadata({ topics: [], forceUpdate: true }).then(
			() => {
				this.connecting = null;
				this.producerConnected = true;
			},
			(err: unknown) => {
				this.connecting = null;
				this.watchConnection();
				throw err;
			}
		);
		await this.connecting;
	}

	private getProducer(): LibraryProducer {
		if (this.closed) throw new Error("Kafka client is closed");
		if (!this.producer) {
			const producer = new Producer(producerConfig(this.settings, this.clientId));
			producer.on("client:broker:connect", ({ broker }: BrokerEvent) => {
				this.producerConnected = true;
				this.reconnectDelay = RECONNECT_MIN_MS;
				this.log.debug("kafka: producer connected", { broker: `${broker.host}:${broker.port}` });
			});
			producer.on("client:broker:disconnect", ({ broker }: BrokerEvent) => {
				if (this.closed) return;
				this.producerConnected = false;
				this.log.debug("kafka: producer connection closed", { broker: `${broker.host}:${broker.port}` });
				// At once: a broker closing an idle connection (connections.max.idle.ms) is back to true within milliseconds.
				this.watchConnection(0);
			});
			producer.on("client:broker:failed", ({ broker }: BrokerEvent) => {
				if (this.closed) return;
				this.producerConnected = producer.isConnected();
				const message = `kafka: producer cannot connect to ${broker.host}:${broker.port}`;
				this.log[this.repeats.repeated(`producer\u0000${message}`) ? "debug" : "warn"](message, { clientId: this.clientId });
			});
			this.producer = producer;
		}
		return this.producer;
	}

	/** While the producer has no connection, probe the cluster with a backoff until it reconnects or the client closes. */
	private watchConnection(delay = this.reconnectDelay): void {
		if (this.closed || this.reconnectTimer || !this.producer) return;
		const producer = this.producer;
		this.reconnectTimer = setTimeout(() => {
			this.reconnectTimer = null;
			if (this.closed || this.producerConnected) return;
			producer.metadata({ topics: [], forceUpdate: true }).then(
				() => {
					this.producerConnected = !this.closed;
					this.reconnectDelay = RECONNECT_MIN_MS;
				},
				() => {
					this.reconnectDelay = Math.min(this.reconnectDelay * 2, RECONNECT_MAX_MS);
					this.watchConnection();
				}
			);
		}, delay);
		this.reconnectTimer.unref();
	}

	/**
	 * Send messages now (one request) and resolve when the cluster acknowledged them (acks=all).
	 * Bypasses linger batching: use for single requests a caller waits on (feed).
	 */
	async send(topic: string, messages: OutgoingMessage[]): Promise<void> {
		for (const m of messages) this.checkSize(m);
		const started = performance.now();
		try {
			const producer = this.getProducer();
			const records: MessageToProduce<string, string | Buffer, string, string>[] = messages.map(m => ({
				topic,
				key: m.key ?? undefined,
				value: m.value,
				headers: m.headers
			}));
			await producer.send({ acks: -1, messages: records });
			this.producerConnected = true;
		} catch (err) {
			this.observeSend(topic, messages.length, started, { transient: isTransientKafkaError(err), message: errorMessage(err) });
			throw err;
		}
		this.observeSend(topic, messages.length, started, null);
	}

	private observeSend(topic: string, count: number, started: number, error: { transient: boolean; message: string } | null): void {
		try {
			this.hooks.onSend?.(topic, count, (performance.now() - started) / 1000, error);
		} catch {
			/* an observer never breaks producing */
		}
	}

	/**
	 * Queue one message for the topic's next batch (KAFKA_PRODUCER_BATCH_LINGER_MS) and resolve when
	 * the batch was acknowledged. While Kafka is away (a broker restart) the batch is retried until Kafka
	 * takes it or the client closes; messages Kafka refuses (too large, not authorized) fail at once.
	 */
	produce(topic: string, message: OutgoingMessage): Promise<void> {
		try {
			this.checkSize(message);
		} catch (err) {
			return Promise.reject(err);
		}
		let batcher = this.batchers.get(topic);
		if (!batcher) {
			batcher = new Batcher<OutgoingMessage>({
				lingerMs: this.settings.KAFKA_PRODUCER_BATCH_LINGER_MS,
				// An idle producer sends at once; a busy one batches (lib/kafka/batcher.ts).
				idleFlush: true,
				// One request stays within what the broker accepts (KAFKA_PRODUCER_MAX_REQUEST_SIZE).
				maxBytes: Math.min(this.settings.KAFKA_PRODUCER_BUFFER_BYTES, this.settings.KAFKA_PRODUCER_MAX_REQUEST_SIZE),
				sizeOf: m => (typeof m.value === "string" ? Buffer.byteLength(m.value) : m.value.length) + 64,
				flush: items => this.sendUntilAccepted(topic, items)
			});
			this.batchers.set(topic, batcher);
		}
		return batcher.add(message);
	}

	/**
	 * send(), retried with a backoff (PRODUCE_RETRY_MIN_MS to PRODUCE_RETRY_MAX_MS) for as long as the
	 * failure is transient and the client is open. The library alone gives up after about 5 s of a broker
	 * being away (PRODUCER_LIBRARY_RETRIES), shorter than a broker restart.
	 */
	private async sendUntilAccepted(topic: string, messages: OutgoingMessage[]): Promise<void> {
		let delay = PRODUCE_RETRY_MIN_MS;
		let waiting = false;
		try {
			for (;;) {
				try {
					await this.send(topic, messages);
					if (waiting && this.batchesWaiting === 1) this.log.info("Kafka takes produced messages again", { topic });
					return;
				} catch (err) {
					if (this.closed || !isTransientKafkaError(err)) throw err;
					if (!waiting && this.batchesWaiting++ === 0)
						this.log.warn("Kafka cannot take produced messages now; retrying until it can", { topic, error: errorMessage(err) });
					waiting = true;
					await new Promise<void>(resolve => {
						const wake = () => {
							clearTimeout(timer);
							this.retryWaits.delete(wake);
							resolve();
						};
						const timer = setTimeout(wake, delay);
						this.retryWaits.add(wake);
					});
					delay = Math.min(delay * 2, PRODUCE_RETRY_MAX_MS);
				}
			}
		} finally {
			if (waiting) this.batchesWaiting--;
		}
	}

	private checkSize(message: OutgoingMessage): void {
		const size = typeof message.value === "string" ? Buffer.byteLength(message.value) : message.value.length;
		if (size > this.settings.KAFKA_PRODUCER_MAX_REQUEST_SIZE) throw new MessageTooLargeError(size, this.settings.KAFKA_PRODUCER_MAX_REQUEST_SIZE);
	}

	private adminReady: Promise<Admin> | null = null;

	private getAdmin(): Promise<Admin> {
		if (this.closed) return Promise.reject(new Error("Kafka client is closed"));
		if (!this.adminReady) {
			const admin = this.kafka.admin();
			this.admin = admin;
			this.adminReady = admin.connect().then(
				() => admin,
				err => {
					this.adminReady = null;
					this.admin = null;
					throw err;
				}
			);
		}
		return this.adminReady;
	}

	/** Create missing topics and grow ones with fewer partitions than asked. Returns the topics created. */
	async ensureTopics(specs: TopicSpec[]): Promise<string[]> {
		const admin = await this.getAdmin();
		const existing = new Set(await admin.listTopics());
		const missing = specs.filter(s => !existing.has(s.topic));
		if (missing.length) {
			try {
				await admin.createTopics({
					waitForLeaders: true,
					topics: missing.map(s => ({
						topic: s.topic,
						numPartitions: s.partitions,
						replicationFactor: -1,
						configEntries: Object.entries(s.config ?? {}).map(([name, value]) => ({ name, value }))
					}))
				});
			} catch (err) {
				// Another node may have created it at the same moment.
				if (!/already exists/i.test((err as Error).message)) throw err;
			}
		}
		const present = specs.filter(s => existing.has(s.topic));
		if (present.length) {
			const meta = await admin.fetchTopicMetadata({ topics: present.map(s => s.topic) });
			const grow = present
				.map(s => ({ spec: s, have: meta.topics.find(t => t.name === s.topic)?.partitions.length ?? 0 }))
				.filter(x => x.have < x.spec.partitions);
			if (grow.length) {
				await admin.createPartitions({ topicPartitions: grow.map(g => ({ topic: g.spec.topic, count: g.spec.partitions })) });
				for (const g of grow) this.log.info("Kafka topic partitions raised", { topic: g.spec.topic, from: g.have, to: g.spec.partitions });
			}
		}
		return missing.map(s => s.topic);
	}

	/** Names of every topic on the cluster, sorted. */
	async listTopics(): Promise<string[]> {
		const admin = await this.getAdmin();
		return (await admin.listTopics()).sort();
	}

	/** Partition count of a topic, or 0 when it does not exist. */
	async partitionCount(topic: string): Promise<number> {
		const admin = await this.getAdmin();
		if (!(await admin.listTopics()).includes(topic)) return 0;
		const meta = await admin.fetchTopicMetadata({ topics: [topic] });
		return meta.topics[0]?.partitions.length ?? 0;
	}

	/** Latest offset (high watermark) per partition. */
	async topicEndOffsets(topic: string): Promise<Array<{ partition: number; high: string; low: string }>> {
		const admin = await this.getAdmin();
		const offsets = await admin.fetchTopicOffsets(topic);
		return offsets.map(o => ({ partition: o.partition, high: o.high, low: o.low }));
	}

	/** Delete consumer groups that have no members (e.g. the throw-away group of a dump). */
	async deleteGroups(groupIds: string[]): Promise<void> {
		const admin = await this.getAdmin();
		await admin.deleteGroups(groupIds);
	}

	/** Delete topics (in batches of 100, so a long list stays within one request's limits). */
	async deleteTopics(topics: string[]): Promise<void> {
		const admin = await this.getAdmin();
		for (let i = 0; i < topics.length; i += 100) await admin.deleteTopics({ topics: topics.slice(i, i + 100), timeout: 30000 });
	}

	/** Join a consumer group and hand each message to onMessage; offsets are committed after handling. */
	async consume(opts: ConsumeOptions): Promise<KafkaConsumerHandle> {
		if (this.closed) throw new Error("Kafka client is closed");
		const s = this.settings;
		const consumer = this.kafka.consumer({
			groupId: opts.groupId,
			maxWaitTimeInMs: Math.max(10, s.KAFKA_CONSUMER_TIMEOUT),
			minBytes: opts.minBytes ?? 1,
			maxBytesPerPartition: s.KAFKA_CONSUMER_FETCH_MESSAGE_MAX_BYTES,
			maxBytes: Math.max(s.KAFKA_CONSUMER_FETCH_MESSAGE_MAX_BYTES, 10 * 1024 * 1024),
			sessionTimeout: 30000,
			heartbeatInterval: 3000,
			retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 200, maxRetryTime: 5000 }
		});
		this.consumers.add(consumer);
		// A consumer that crashed (kafkajs restarts it when the error is retriable) says so once, and again when it is back.
		let crashed = false;
		consumer.on(consumer.events.CRASH, event => {
			const { error, restart } = event.payload as { error: Error; restart: boolean };
			crashed = true;
			if (restart) this.log.warn("Kafka consumer crashed, restarting", { group: opts.groupId, error: error?.message });
			else this.log.error("Kafka consumer crashed and will not restart", { group: opts.groupId, error: error?.message });
		});
		consumer.on(consumer.events.GROUP_JOIN, event => {
			if (!crashed) return;
			crashed = false;
			const { memberAssignment } = event.payload as { memberAssignment: Record<string, number[]> };
			this.log.info("Kafka consumer back in its group", { group: opts.groupId, assignment: memberAssignment });
		});
		await consumer.connect();
		await consumer.subscribe({ topics: opts.topics, fromBeginning: opts.fromBeginning ?? s.KAFKA_CONSUMER_AUTO_OFFSET_RESET === "earliest" });
		await consumer.run({
			autoCommit: true,
			autoCommitInterval: s.KAFKA_CONSUMER_AUTO_COMMIT_ENABLE ? s.KAFKA_CONSUMER_COMMIT_INTERVAL_MS : null,
			autoCommitThreshold: s.KAFKA_CONSUMER_AUTO_COMMIT_ENABLE ? null : 1,
			partitionsConsumedConcurrently: opts.partitionsConsumedConcurrently ?? 1,
			eachMessage: async ({ topic, partition, message, heartbeat }) => {
				await opts.onMessage({ topic, partition, offset: message.offset, key: message.key, value: message.value, timestamp: message.timestamp, heartbeat });
			}
		});
		return {
			groupId: opts.groupId,
			stop: async () => {
				if (!this.consumers.delete(consumer)) return;
				await consumer.disconnect();
			}
		};
	}

	/**
	 * Flush pending batches (for at most CLOSE_FLUSH_TIMEOUT_MS), leave consumer groups (committing handled
	 * offsets) and disconnect. Never waits for a connection attempt still retrying an unreachable broker.
	 */
	async close(): Promise<void> {
		if (this.closed) return;
		let timer: NodeJS.Timeout | undefined;
		await Promise.race([
			Promise.allSettled([...this.batchers.values()].map(b => b.drain())),
			new Promise(resolve => (timer = setTimeout(resolve, CLOSE_FLUSH_TIMEOUT_MS)))
		]);
		clearTimeout(timer);
		this.closed = true;
		// Batches still waiting for Kafka give up now (their callers keep their own recovery: leases, retries).
		for (const wake of [...this.retryWaits]) wake();
		const consumers = [...this.consumers];
		this.consumers.clear();
		await Promise.allSettled(consumers.map(c => c.disconnect()));
		if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
		this.reconnectTimer = null;
		await Promise.allSettled([this.closeProducer(), this.admin?.disconnect()]);
		this.producerConnected = false;
		libraryLogSinks.delete(this.log);
	}

	/** Close the producer's connections; bounded, as a connection may still be trying an unreachable broker. */
	private async closeProducer(): Promise<void> {
		const producer = this.producer;
		if (!producer) return;
		let timer: NodeJS.Timeout | undefined;
		await Promise.race([
			producer.close(true).catch((err: unknown) => this.log.debug("kafka: producer close failed", { error: errorMessage(err) })),
			new Promise(resolve => (timer = setTimeout(resolve, CLOSE_FLUSH_TIMEOUT_MS).unref()))
		]);
		clearTimeout(timer);
	}
}
