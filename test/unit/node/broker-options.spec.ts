import { loadSettings } from "../../../config/index.ts";
import { brokerOptions, transportKind } from "../../../lib/node/broker-options.ts";

const settings = (overrides: Record<string, unknown> = {}) => loadSettings({ env: {}, localFile: false, overrides });

describe("broker options", () => {
	it("chooses the transporter from TRANSPORTER", () => {
		expect(transportKind(null)).toBe("none");
		expect(transportKind("redis://127.0.0.1:6379")).toBe("redis");
		expect(transportKind("rediss://h:6380")).toBe("redis");
		expect(transportKind("kafka://127.0.0.1:9092")).toBe("kafka");
		expect(() => transportKind("nats://x:4222")).toThrow(/TRANSPORTER: unsupported transporter/);
		expect(() => settings({ TRANSPORTER: "amqp://x" })).toThrow(/TRANSPORTER/);
	});

	it("carries namespace, node id, transporter and the settings", () => {
		const s = settings({ TRANSPORTER: "redis://127.0.0.1:6379", NAMESPACE: "prod", NODE_ID: "crawler-1" });
		const o = brokerOptions(s);
		expect(o.namespace).toBe("prod");
		expect(o.nodeID).toBe("crawler-1");
		expect(o.transporter).toBe("redis://127.0.0.1:6379");
		expect(o.clusterSettings).toBe(s);
		expect(o.metrics).toBe(false);
		expect(brokerOptions(settings()).nodeID).toMatch(/-\d+$/);
		expect(brokerOptions(settings()).transporter).toBeNull();
	});

	it("enables Prometheus metrics when METRICS_PORT is set", () => {
		const o = brokerOptions(settings({ METRICS_PORT: 3030 }));
		expect(o.metrics).toMatchObject({ enabled: true, reporter: [{ type: "Prometheus", options: { host: "0.0.0.0", port: 3030, path: "/metrics" } }] });
		expect(brokerOptions(settings({ METRICS_PORT: 3030, METRICS_HOST: "127.0.0.1" })).metrics).toMatchObject({ reporter: [{ options: { host: "127.0.0.1" } }] });
	});
});
