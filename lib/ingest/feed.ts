/**
 * Feeding a request into the incoming topic (the original's `kafka_monitor.py feed`): validated with the
 * same schemas and refusal checks as ingest, sent as given (ingest fills the defaults), acknowledged by
 * Kafka within KAFKA_FEED_TIMEOUT or failed with a message naming the settings to check.
 */
import type { Settings } from "../../config/index.ts";
import { TransientError } from "../errors.ts";
import type { KafkaClient } from "../kafka/client.ts";
import type { RequestKind } from "../requests/kind.ts";
import { acceptValue } from "./process.ts";

export interface FeedResult {
	topic: string;
	kind: string;
	request: unknown;
}

export async function feedRequest(
	kafka: KafkaClient,
	settings: Pick<Settings, "KAFKA_INCOMING_TOPIC" | "KAFKA_FEED_TIMEOUT" | "KAFKA_HOSTS">,
	value: unknown,
	kinds: RequestKind[]
): Promise<FeedResult> {
	const { kind } = acceptValue(value, kinds);
	await sendToIncoming(kafka, settings, value);
	return { topic: settings.KAFKA_INCOMING_TOPIC, kind: kind.name, request: value };
}

/** Produce a request to KAFKA_INCOMING_TOPIC, failing with a TransientError after KAFKA_FEED_TIMEOUT. */
export async function sendToIncoming(kafka: KafkaClient, settings: Pick<Settings, "KAFKA_INCOMING_TOPIC" | "KAFKA_FEED_TIMEOUT" | "KAFKA_HOSTS">, value: unknown): Promise<void> {
	let timer: NodeJS.Timeout | undefined;
	const timeout = new Promise<never>((_, reject) => {
		timer = setTimeout(
			() => reject(new TransientError(`Kafka did not accept the request within KAFKA_FEED_TIMEOUT (${settings.KAFKA_FEED_TIMEOUT} s); check KAFKA_HOSTS (${settings.KAFKA_HOSTS})`)),
			settings.KAFKA_FEED_TIMEOUT * 1000
		);
	});
	try {
		await Promise.race([kafka.send(settings.KAFKA_INCOMING_TOPIC, [{ value: JSON.stringify(value) }]), timeout]);
	} finally {
		clearTimeout(timer);
	}
}
