/** Where action results go: <prefix>.outbound_firehose, plus <prefix>.outbound_<appid> with KAFKA_APPID_TOPICS. */
import type { Settings } from "../../config/index.ts";

export function outboundTopics(settings: Pick<Settings, "KAFKA_TOPIC_PREFIX" | "KAFKA_APPID_TOPICS">, appid: string): string[] {
	const topics = [`${settings.KAFKA_TOPIC_PREFIX}.outbound_firehose`];
	if (settings.KAFKA_APPID_TOPICS) topics.push(`${settings.KAFKA_TOPIC_PREFIX}.outbound_${appid}`);
	return topics;
}
