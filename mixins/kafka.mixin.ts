/**
 * Gives a service `this.kafka`, the project's Kafka client (lib/kafka/client.ts) made from the KAFKA_*
 * settings. The producer connects in the background at start; `kafkaConnected()` tells the health.
 * Stopping the service flushes batched messages, leaves consumer groups and disconnects.
 */
import type { Service, ServiceSchema } from "moleculer";
import { defineMixin } from "./define.ts";
import { settingsOf } from "../config/broker.ts";
import { KafkaClient } from "../lib/kafka/client.ts";
import { ClusterMetrics } from "../lib/metrics/index.ts";

export interface KafkaMixinThis {
	kafka: KafkaClient;
	kafkaConnected(): boolean;
}

type This = Service & KafkaMixinThis;

export function KafkaMixin(): Partial<ServiceSchema> {
	return defineMixin<KafkaMixinThis>({
		methods: {
			kafkaConnected(this: This): boolean {
				return this.kafka?.connected ?? false;
			}
		},
		created(this: This) {
			const settings = settingsOf(this.broker);
			const metrics = new ClusterMetrics(this.broker.metrics);
			this.kafka = new KafkaClient(settings, `${settings.KAFKA_CLIENT_ID}-${this.broker.nodeID}-${this.name}`, this.logger, {
				onSend: (topic, messages, seconds, error) => metrics.kafkaSent(topic, messages, seconds, error)
			});
		},
		started(this: This) {
			const settings = settingsOf(this.broker);
			this.kafka.connect().catch((err: Error) =>
				this.logger.warn("Kafka not reachable at start; producing will retry. Check KAFKA_HOSTS", { kafka: settings.KAFKA_HOSTS, error: err.message })
			);
		},
		async stopped(this: This) {
			await this.kafka.close();
		}
	});
}
