/**
 * ingest: the Kafka API gateway (Scrapy Cluster's Kafka Monitor). Consumes KAFKA_INCOMING_TOPIC in
 * consumer group KAFKA_GROUP, validates each message against the request kinds in rank order and hands
 * it to the first that accepts it. Offsets are committed only after a message was handled or refused.
 * Stats go to stats:kafka-monitor:* as in the original.
 */
import type { ServiceSchema, ServiceSettingSchema } from "moleculer";
import { settingsOf } from "../config/broker.ts";
import { REQUEST_KINDS } from "../config/request-kinds.ts";
import { RefusedRequestError } from "../lib/errors.ts";
import { acceptMessage, handleAccepted } from "../lib/ingest/process.ts";
import { retryUntilHandled, StoppingError } from "../lib/ingest/retry.ts";
import type { IncomingMessage, KafkaConsumerHandle } from "../lib/kafka/client.ts";
import { ClusterMetrics, ingestFailureReason, METRIC } from "../lib/metrics/index.ts";
import { orderKinds, type IngestContext, type RequestKind } from "../lib/requests/kind.ts";
import { KafkaMixin, type KafkaMixinThis } from "../mixins/kafka.mixin.ts";
import { RedisMixin, type RedisMixinThis } from "../mixins/redis.mixin.ts";
import { StatsMixin, type StatsMixinThis } from "../mixins/stats.mixin.ts";

interface IngestState {
	kinds: RequestKind[];
	consumer: KafkaConsumerHandle | null;
	stopping: boolean;
	starting: Promise<void> | null;
	handled: number;
	refused: number;
	metrics: ClusterMetrics;
}

type IngestVars = KafkaMixinThis & RedisMixinThis & StatsMixinThis & { ingest: IngestState };

interface IngestMethods {
	ingestContext(): IngestContext;
	processMessage(message: IncomingMessage): Promise<void>;
	startConsumer(): Promise<void>;
}

/** Milliseconds between attempts to join the consumer group while Kafka is away at start. */
const CONSUMER_START_RETRY_MS = 2000;
/** Milliseconds a stopping ingest waits for a consumer that is still joining. */
const STOP_WAIT_FOR_START_MS = 2000;

const IngestService: ServiceSchema<ServiceSettingSchema, IngestMethods, IngestVars> = {
	name: "ingest",
	// Moleculer runs the last mixin's hooks first: Redis connects before stats and Kafka use it.
	mixins: [StatsMixin({ component: "kafka-monitor" }), KafkaMixin(), RedisMixin()],

	actions: {
		/** Counts of this instance since start (the cluster-wide counts are in the stats service). */
		status: {
			handler() {
				return {
					node: this.broker.nodeID,
					consuming: this.ingest.consumer !== null,
					kafka_connected: this.kafkaConnected(),
					redis_connected: this.redisConnected(),
					handled: this.ingest.handled,
					refused: this.ingest.refused,
					kinds: this.ingest.kinds.map(k => k.name)
				};
			}
		}
	},

	methods: {
		ingestContext(): IngestContext {
			return {
				redis: this.redis,
				settings: settingsOf(this.broker),
				call: (action, params) => this.broker.call(action, params, { meta: { source: "ingest" } }),
				log: this.logger
			};
		},

		async processMessage(message: IncomingMessage) {
			try {
				const accepted = acceptMessage(message.value, this.ingest.kinds);
				let warned = false;
				// The counters go in one batch while the request is handled (one round trip less per message). A
				// failed count does not fail the message: handling retries on its own until Redis is back.
				const counted = this.statsCount("total", accepted.kind.handlerName).catch((err: Error) => this.logger.debug("Request not counted in stats", { error: err.message }));
				const handled = retryUntilHandled(() => handleAccepted(accepted, this.ingestContext()), {
					isStopping: () => this.ingest.stopping,
					onRetry: async (err, attempt, delayMs) => {
						const data = { kind: accepted.kind.name, partition: message.partition, offset: message.offset, attempt, retry_in_ms: delayMs, error: (err as Error).message };
						if (!warned) this.logger.warn("Request cannot be handled now, retrying", data);
						else this.logger.debug("Request still waiting", data);
						warned = true;
						await message.heartbeat().catch(() => undefined);
					}
				});
				await Promise.all([counted, handled]);
				if (warned) this.logger.info("Request handled after retries", { kind: accepted.kind.name, partition: message.partition, offset: message.offset });
				this.ingest.handled++;
				this.ingest.metrics.increment(METRIC.INGEST, { kind: accepted.kind.name });
			} catch (err) {
				if (err instanceof StoppingError) throw err;
				if (!(err instanceof RefusedRequestError)) throw err;
				// Logged as it is counted (ingest.status): the stats write that follows may wait for its batch.
				this.logger.warn(err.message, { ...err.detail, partition: message.partition, offset: message.offset });
				this.ingest.refused++;
				this.ingest.metrics.increment(METRIC.INGEST_FAILURES, { reason: ingestFailureReason(err.message, err.detail) });
				await this.statsCount("total", "fail");
			}
		},

		async startConsumer() {
			const s = settingsOf(this.broker);
			while (!this.ingest.stopping) {
				try {
					const created = await this.kafka.ensureTopics([{ topic: s.KAFKA_INCOMING_TOPIC, partitions: s.KAFKA_INCOMING_PARTITIONS }]);
					if (created.length) this.logger.info("Created the incoming topic", { topic: s.KAFKA_INCOMING_TOPIC, partitions: s.KAFKA_INCOMING_PARTITIONS });
					if (this.ingest.stopping) return;
					this.ingest.consumer = await this.kafka.consume({
						groupId: s.KAFKA_GROUP,
						topics: [s.KAFKA_INCOMING_TOPIC],
						onMessage: m => this.processMessage(m)
					});
					this.logger.info("Consuming API requests", { topic: s.KAFKA_INCOMING_TOPIC, group: s.KAFKA_GROUP, kinds: this.ingest.kinds.map(k => `${k.name}(${k.handlerName})`) });
					return;
				} catch (err) {
					if (this.ingest.stopping) return;
					this.logger.warn("Cannot join the incoming topic yet, retrying; check KAFKA_HOSTS", { kafka: s.KAFKA_HOSTS, error: (err as Error).message });
					await new Promise(resolve => setTimeout(resolve, CONSUMER_START_RETRY_MS).unref());
				}
			}
		}
	},

	created() {
		const s = settingsOf(this.broker);
		this.ingest = { kinds: orderKinds(REQUEST_KINDS, s.PLUGINS), consumer: null, stopping: false, starting: null, handled: 0, refused: 0, metrics: new ClusterMetrics(this.broker.metrics) };
	},

	started() {
		// Joining the group runs in the background: the node comes up even while Kafka is away.
		this.ingest.starting = this.startConsumer();
	},

	async stopped() {
		this.ingest.stopping = true;
		// A start still retrying an unreachable Kafka is not waited for: closing the client ends it.
		await Promise.race([this.ingest.starting, new Promise(resolve => setTimeout(resolve, STOP_WAIT_FOR_START_MS).unref())]);
		// Leaving the group waits for the message in hand and commits what was handled.
		await this.ingest.consumer?.stop();
		this.ingest.consumer = null;
	}
};

export default IngestService;
