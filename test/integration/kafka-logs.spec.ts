/**
 * While Kafka is unreachable, kafkajs complains on every retry; the client logs each complaint once at
 * WARN/ERROR and the repeats at DEBUG (one line per event, not per retry).
 */
import { KafkaClient } from "../../lib/kafka/client.ts";
import { testSettings } from "../support/cluster.ts";

describe("Kafka client log lines", () => {
	it("logs a repeated kafkajs complaint once at WARN/ERROR, the repeats at DEBUG", async () => {
		const lines: Array<{ level: string; message: string }> = [];
		const log = {
			error: (message: string) => void lines.push({ level: "error", message }),
			warn: (message: string) => void lines.push({ level: "warn", message }),
			info: (message: string) => void lines.push({ level: "info", message }),
			debug: (message: string) => void lines.push({ level: "debug", message })
		};
		// Port 1 on loopback refuses at once: kafkajs retries (5 times) and complains each time.
		const client = new KafkaClient(testSettings({ KAFKA_HOSTS: "127.0.0.1:1", KAFKA_CONN_TIMEOUT: 1 }), "it-kafka-logs", log);
		await expect(client.connect()).rejects.toThrow();
		await client.close();
		const loud = lines.filter(l => l.level === "error" || l.level === "warn");
		const byMessage = new Map<string, number>();
		for (const l of loud) byMessage.set(l.message, (byMessage.get(l.message) ?? 0) + 1);
		expect(loud.length).toBeGreaterThan(0);
		for (const [message, n] of byMessage) expect([message, n]).toEqual([message, 1]);
		// the repeats are still there for DEBUG
		expect(lines.filter(l => l.level === "debug" && byMessage.has(l.message)).length).toBeGreaterThan(0);
	}, 60000);
});
