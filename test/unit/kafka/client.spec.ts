import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Partitioners } from "kafkajs";
import { AuthenticationError, MultipleErrors, NetworkError, ProtocolError, protocolErrors, ResponseError, TimeoutError, UserError } from "@platformatic/kafka";
import { loadSettings } from "../../../config/index.ts";
import { TransientError } from "../../../lib/errors.ts";
import {
	errorMessage,
	isTransientKafkaError,
	kafkaConfig,
	MessageTooLargeError,
	producerConfig,
	spreadingPartitioner,
	type KafkaSettings
} from "../../../lib/kafka/client.ts";

const settings = (overrides: Record<string, unknown> = {}): KafkaSettings => loadSettings({ env: {}, localFile: false, overrides });

/** What @platformatic/kafka rejects with while the broker is away: the attempts of a retried call, each "cannot connect". */
function brokerAway(): Error {
	const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9092"), { code: "ECONNREFUSED" });
	const attempt = () => new MultipleErrors("Cannot connect to any broker.", [new NetworkError("Connection to 127.0.0.1:9092 failed.", { cause: refused })]);
	return new MultipleErrors("metadata failed 3 times.", [attempt(), attempt(), attempt()]);
}

/** A produce answer carrying one error code per partition, as the library reports it. */
const answer = (...ids: string[]) =>
	new ResponseError(0, 9, Object.fromEntries(ids.map((id, i) => [`/responses/0/partitionResponses/${i}`, [protocolErrors[id]!.code, null] as [number, null]])), {});

describe("isTransientKafkaError with @platformatic/kafka's errors", () => {
	it("broker away, connection lost or timed out, leader election: transient", () => {
		expect(isTransientKafkaError(brokerAway())).toBe(true);
		expect(isTransientKafkaError(new NetworkError("Connection closed"))).toBe(true);
		expect(isTransientKafkaError(new MultipleErrors("produce failed 6 times.", [new NetworkError("Connection closed"), new TimeoutError("Request timed out", { canRetry: true })]))).toBe(true);
		expect(isTransientKafkaError(new TimeoutError("Connection to 127.0.0.1:9092 timed out."))).toBe(true);
		expect(isTransientKafkaError(new MultipleErrors("Producing messages failed.", [answer("LEADER_NOT_AVAILABLE")]))).toBe(true);
		expect(isTransientKafkaError(answer("NOT_LEADER_OR_FOLLOWER", "NOT_ENOUGH_REPLICAS"))).toBe(true);
		expect(isTransientKafkaError(answer("REQUEST_TIMED_OUT"))).toBe(true);
		// a topic the broker does not know yet (being created): retried, as kafkajs did
		expect(isTransientKafkaError(new UserError("Unknown topic it.x."))).toBe(true);
	});

	it("message too large, authorization, invalid config, authentication, a closed client: not transient", () => {
		expect(isTransientKafkaError(answer("MESSAGE_TOO_LARGE"))).toBe(false);
		expect(isTransientKafkaError(new MultipleErrors("Producing messages failed.", [answer("RECORD_LIST_TOO_LARGE")]))).toBe(false);
		expect(isTransientKafkaError(answer("TOPIC_AUTHORIZATION_FAILED"))).toBe(false);
		expect(isTransientKafkaError(answer("INVALID_CONFIG"))).toBe(false);
		expect(isTransientKafkaError(new ProtocolError("CLUSTER_AUTHORIZATION_FAILED"))).toBe(false);
		expect(isTransientKafkaError(new AuthenticationError("SASL authentication failed."))).toBe(false);
		// a connection that failed on its SASL authentication or TLS handshake: a configuration to fix
		expect(isTransientKafkaError(new MultipleErrors("metadata failed 1 times.", [new NetworkError("Connection to h:1 failed.", { cause: new AuthenticationError("SASL authentication failed.") })]))).toBe(false);
		expect(isTransientKafkaError(new NetworkError("Connection to h:1 failed.", { cause: new UserError("TLS handshake failed. Please verify the broker supports TLS.") }))).toBe(false);
		expect(isTransientKafkaError(new NetworkError("Client is closed.", { canRetry: false, closed: true }))).toBe(false);
		expect(isTransientKafkaError(new UserError("Failed to serialize a message."))).toBe(false);
		expect(isTransientKafkaError(new MessageTooLargeError(2_000_000, 1_048_576))).toBe(false);
	});

	it("attempts that end on a refusal are not transient, even after connection errors", () => {
		expect(isTransientKafkaError(new MultipleErrors("produce failed 3 times.", [new NetworkError("Connection closed"), answer("MESSAGE_TOO_LARGE")]))).toBe(false);
	});

	it("still judges kafkajs' and Node's errors (consumers and admin stay on kafkajs)", () => {
		expect(isTransientKafkaError(Object.assign(new Error("x"), { name: "KafkaJSConnectionError" }))).toBe(true);
		expect(isTransientKafkaError(Object.assign(new Error("Leader not available"), { name: "KafkaJSProtocolError", retriable: true }))).toBe(true);
		expect(isTransientKafkaError(Object.assign(new Error("outer"), { originalError: Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), {}) }))).toBe(true);
		expect(isTransientKafkaError(Object.assign(new Error("Message too large"), { name: "KafkaJSProtocolError", retriable: false }))).toBe(false);
		expect(isTransientKafkaError(new TransientError("away"))).toBe(true);
		expect(isTransientKafkaError(new Error("boom"))).toBe(false);
		expect(isTransientKafkaError("not an error")).toBe(false);
		expect(isTransientKafkaError(null)).toBe(false);
	});
});

describe("errorMessage", () => {
	it("names the innermost cause of a retried call", () => {
		expect(errorMessage(brokerAway())).toBe("metadata failed 3 times. (Connection to 127.0.0.1:9092 failed.: connect ECONNREFUSED 127.0.0.1:9092)");
		expect(errorMessage(new Error("plain"))).toBe("plain");
		expect(errorMessage("text")).toBe("text");
	});
});

describe("producerConfig (KAFKA_* settings to @platformatic/kafka's producer)", () => {
	it("maps hosts, client id, timeouts; creates topics on produce; no TLS or SASL by default", () => {
		const c = producerConfig(settings({ KAFKA_HOSTS: "a:9092, b:9093", KAFKA_CONN_TIMEOUT: 7 }), "sc-node-1");
		expect(c).toMatchObject({ clientId: "sc-node-1", bootstrapBrokers: ["a:9092", "b:9093"], connectTimeout: 7000, requestTimeout: 30000, autocreateTopics: true, idempotent: false });
		expect(c.tls).toBeUndefined();
		expect(c.sasl).toBeUndefined();
		expect(c.tlsServerName).toBe(false);
		expect(producerConfig(settings({ KAFKA_CONN_TIMEOUT: 45 }), "x").requestTimeout).toBe(45000);
	});

	it("retries a call a few times with a growing delay (the batch retries further on its own)", () => {
		const c = producerConfig(settings(), "x");
		const delay = c.retryDelay as (client: object, op: string, attempt: number, retries: number, error: Error) => number;
		expect([1, 2, 3, 4, 5, 9].map(a => delay({}, "produce", a, 5, new Error()))).toEqual([200, 400, 800, 1600, 2000, 2000]);
		expect(c.retries).toBeGreaterThan(0);
	});

	it("maps KAFKA_SSL* to Node TLS options like kafkajs' (SNI only for host names)", () => {
		const dir = mkdtempSync(join(tmpdir(), "kafka-tls-"));
		for (const f of ["ca", "cert", "key"]) writeFileSync(join(dir, `${f}.pem`), `${f} pem`);
		const tls = { KAFKA_SSL: true, KAFKA_SSL_CA: join(dir, "ca.pem"), KAFKA_SSL_CERT: join(dir, "cert.pem"), KAFKA_SSL_KEY: join(dir, "key.pem"), KAFKA_SSL_REJECT_UNAUTHORIZED: false };
		const c = producerConfig(settings({ ...tls, KAFKA_HOSTS: "kafka-1.example:9093" }), "x");
		expect(c.tls).toEqual({ rejectUnauthorized: false, ca: ["ca pem"], cert: "cert pem", key: "key pem" });
		expect(c.tls).toEqual(kafkaConfig(settings({ ...tls }), "x").ssl);
		expect(c.tlsServerName).toBe(true);
		expect(producerConfig(settings({ ...tls, KAFKA_HOSTS: "10.0.0.1:9093" }), "x").tlsServerName).toBe(false);
		expect(producerConfig(settings({ KAFKA_SSL: true }), "x").tls).toEqual({ rejectUnauthorized: true, ca: undefined, cert: undefined, key: undefined });
	});

	it("maps KAFKA_SASL_* (plain, scram-sha-256, scram-sha-512) to the library's mechanism names", () => {
		for (const [mechanism, expected] of [
			["plain", "PLAIN"],
			["scram-sha-256", "SCRAM-SHA-256"],
			["scram-sha-512", "SCRAM-SHA-512"]
		]) {
			const c = producerConfig(settings({ KAFKA_SASL_MECHANISM: mechanism, KAFKA_SASL_USERNAME: "u", KAFKA_SASL_PASSWORD: "p" }), "x");
			expect(c.sasl).toEqual({ mechanism: expected, username: "u", password: "p" });
		}
	});

	it("serializes strings once and passes Buffers through as they are (no copy)", () => {
		const { serializers } = producerConfig(settings(), "x");
		const buffer = Buffer.from("page");
		expect(serializers!.value!(buffer)).toBe(buffer);
		expect(serializers!.value!("é")).toEqual(Buffer.from("é"));
		expect(serializers!.key!(undefined)).toBeUndefined();
		expect(serializers!.key!("k")).toEqual(Buffer.from("k"));
		expect(serializers!.headerValue!("v")).toEqual(Buffer.from("v"));
	});
});

describe("spreadingPartitioner", () => {
	it("puts a key on the partition kafkajs' DefaultPartitioner (Java's murmur2) gave it", () => {
		const p = spreadingPartitioner();
		const legacy = Partitioners.DefaultPartitioner();
		for (const partitions of [1, 3, 7, 12]) {
			const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({ partitionId, leader: 0 }));
			for (const key of ["0", "21", "a-long-key-of-many-bytes", "é", ...Array.from({ length: 40 }, (_, i) => `k${i * 7919}`)]) {
				const ours = p({ topic: "t" }, Buffer.from(key), { metadata: undefined }) % partitions;
				const theirs = legacy({ topic: "t", partitionMetadata, message: { key, value: "v" } } as unknown as Parameters<typeof legacy>[0]);
				expect([key, partitions, ours]).toEqual([key, partitions, theirs]);
			}
		}
	});

	it("spreads messages without a key round-robin per topic", () => {
		const p = spreadingPartitioner();
		const a = [0, 1, 2, 3].map(() => p({ topic: "a" }, undefined, { metadata: undefined }) % 4);
		expect(new Set(a).size).toBe(4);
		expect(a.every((x, i) => i === 0 || x === (a[i - 1]! + 1) % 4)).toBe(true);
		expect(p({ topic: "b" }, undefined, { metadata: undefined })).toBeGreaterThanOrEqual(0);
	});
});
