/**
 * The project's Kafka client. This is the only module that imports kafkajs (unmaintained upstream),
 * so swapping the library means rewriting this file alone.
 */
import { readFileSync } from "node:fs";
import { Kafka, logLevel, Partitioners, type Admin, type Consumer, type Producer, type SASLOptions } from "kafkajs";
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

/** kafkajs options from the settings. */
export function kafkaConfig(settings: KafkaSettings, clientId: string) {
	const brokers = settings.KAFKA_HOSTS.split(",").map(h => h.trim()).filter(Boolean);
	const tls = settings.KAFKA_SSL
		? {
				rejectUnauthorized: settings.KAFKA_SSL_REJECT_UNAUTHORIZED,
				ca: settings.KAFKA_SSL_CA ? [readFileSync(settings.KAFKA_SSL_CA, "utf8")] : undefined,
				cert: settings.KAFKA_SSL_CERT ? readFileSync(settings.KAFKA_SSL_CERT, "utf8") : undefined,
				key: settings.KAFKA_SSL_KEY ? readFileSync(settings.KAFKA_SSL_KEY, "utf8") : undefined
			}
		: undefined;
	const sasl = settings.KAFKA_SASL_MECHANISM
		? ({
				mechanism: settings.KAFKA_SASL_MECHANISM,
				username: settings.KAFKA_SASL_USERNAME ?? "",
				password: settings.KAFKA_SASL_PASSWORD ?? ""
			} as SASLOptions)
		: undefined;
	return {
		brokers,
		clientId,
		ssl: tls,
		sasl,
		connectionTimeout: settings.KAFKA_CONN_TIMEOUT * 1000,
		requestTimeout: Math.max(30000, settings.KAFKA_CONN_TIMEOUT * 1000),
		// Bounded retries of one call; callers (ingest, feed) retry further on their own, cancellably.
		retry: { initialRetryTime: 200, maxRetryTime: 2000, retries: 5 }
	};
}

// kafkajs 2.2.4 schedules a timer with a negative delay in its request queue on every connection, which
// Node 24 reports as a TimeoutNegativeWarning (harmless: the delay is clamped to 1 ms). Drop that one warning.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
	const name = typeof warning === "string" ? (typeof rest[0] === "string" ? rest[0] : (rest[0] as { type?: string } | undefined)?.type) : warning.name;
	if (name === "TimeoutNegativeWarning") return;
	(emitWarning as (...args: unknown[]) => void)(warning, ...rest);
}) as typeof process.emitWarning;

/** Longest wait for batched messages to be sent when the client closes. */
export const CLOSE_FLUSH_TIMEOUT_MS = 5000;

/** Backoff between attempts of a batch of produced messages while Kafka is away: 200 ms doubling to 5 s. */
export const PRODUCE_RETRY_MIN_MS = 200;
export const PRODUCE_RETRY_MAX_MS = 5000;

/**
 * True when a failed send is about Kafka being away or moving (connection refused or lost, leader election,
 * kafkajs' own retries exhausted on such an error), not about the messages themselves.
 */
export function isTransientKafkaError(err: unknown): boolean {
	let e: unknown = err;
	for (let depth = 0; e instanceof Error && depth < 5; depth++) {
		if (e instanceof MessageTooLargeError) return false;
		if (isRetryable(e) || (e as { retriable?: unknown }).retriable === true) return true;
		e = (e as { originalError?: unknown }).originalError ?? (e as { cause?: unknown }).cause;
	}
	return false;
}

const LEVEL_NAMES: Record<number, keyof KafkaLog> = {
	[logLevel.ERROR]: "error",
	[logLevel.WARN]: "warn",
	// kafkajs is chatty at INFO (joins, rebalances, every connect); those go to debug.
	[logLevel.INFO]: "debug",
	[logLevel.DEBUG]: "debug"
};

export class KafkaClient {
	private readonly kafka: Kafka;
	private readonly settings: KafkaSettings;
	private readonly log: KafkaLog;
	private producer: Producer | null = null;
	private producerReady: Promise<Producer> | null = null;
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
		this.log = log;
		this.hooks = hooks;
		// kafkajs repeats the same complaint on every retry while a broker is away: once a minute at WARN/ERROR, the rest at DEBUG.
		const repeats = new RepeatFilter(60_000);
		this.kafka = new Kafka({
			...kafkaConfig(settings, clientId),
			logLevel: logLevel.INFO,
			logCreator: () => entry => {
				let method = LEVEL_NAMES[entry.level] ?? "debug";
				// kafkajs logs retriable protocol answers ("Response GroupCoordinator ... not available", rebalances)
				// and failed handler calls (which it retries) as errors; they are warnings here.
				if (method === "error" && /^(Response |Error when calling eachMessage)/.test(entry.log.message)) method = "warn";
				const { message, ...extra } = entry.log;
				if ((method === "warn" || method === "error") && repeats.repeated(`${entry.namespace}\u0000${message}`)) method = "debug";
				this.log[method](`kafka: ${message}`, { namespace: entry.namespace, ...extra });
			}
		});
	}

	/** True while the producer holds a connection to the cluster. */
	get connected(): boolean {
		return this.producerConnected;
	}

	/** Connect the producer (done lazily by produce; call it to fail fast or to learn the health). */
	async connect(): Promise<void> {
		await this.getProducer();
	}

	private getProducer(): Promise<Producer> {
		if (this.closed) return Promise.reject(new Error("Kafka client is closed"));
		if (!this.producerReady) {
			const producer = this.kafka.producer({
				createPartitioner: Partitioners.DefaultPartitioner,
				allowAutoTopicCreation: true,
				idempotent: false,
				retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 5000 }
			});
			producer.on(producer.events.CONNECT, () => {
				this.producerConnected = true;
			});
			producer.on(producer.events.DISCONNECT, () => {
				this.producerConnected = false;
			});
			this.producer = producer;
			this.producerReady = producer.connect().then(
				() => producer,
				err => {
					this.producerReady = null;
					this.producer = null;
					throw err;
				}
			);
		}
		return this.producerReady;
	}

	/**
	 * Send messages now (one request) and resolve when the cluster acknowledged them (acks=all).
	 * Bypasses linger batching: use for single requests a caller waits on (feed).
	 */
	async send(topic: string, messages: OutgoingMessage[]): Promise<void> {
		for (const m of messages) this.checkSize(m);
		const started = performance.now();
		try {
			const producer = await this.getProducer();
			await producer.send({ topic, acks: -1, messages: messages.map(m => ({ key: m.key ?? null, value: m.value, headers: m.headers })) });
		} catch (err) {
			this.observeSend(topic, messages.length, started, { transient: isTransientKafkaError(err), message: (err as Error).message });
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
	 * failure is transient and the client is open. kafkajs alone gives up after about 10 s of a broker
	 * being away, shorter than a broker restart.
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
						this.log.warn("Kafka cannot take produced messages now; retrying until it can", { topic, error: (err as Error).message });
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
					topics: missing.map(s => ({ topic: s.topic, numPartitions: s.partitions, replicationFactor: -1 }))
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
		await Promise.allSettled([this.producer?.disconnect(), this.admin?.disconnect()]);
		this.producerConnected = false;
	}
}
