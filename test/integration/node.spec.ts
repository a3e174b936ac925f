import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import type { ServiceBroker } from "moleculer";
import { testBroker, testSettings, uniqueName } from "../support/cluster.ts";

const ROOT = resolve(__dirname, "../..");
const NODE = resolve(ROOT, "node_modules/.bin/node");

function runNode(env: Record<string, string>) {
	return spawnSync(NODE, ["bin/node.ts", "--no-repl"], { cwd: ROOT, env: { ...process.env, ...env }, encoding: "utf8", timeout: 30000 });
}

describe("cluster node start-up", () => {
	it("stops with exit code 78 and a message naming each bad setting", () => {
		const r = runNode({ REDIS_PORT: "not-a-port", QUEUE_MODERATED: "sometimes" });
		expect(r.status).toBe(78);
		expect(r.stderr).toContain('REDIS_PORT (from environment variable REDIS_PORT): expected an integer between 1 and 65535, got "not-a-port"');
		expect(r.stderr).toContain("QUEUE_MODERATED (from environment variable QUEUE_MODERATED): expected a boolean");
	});

	it("refuses unknown service names in SERVICES", () => {
		const r = runNode({ SERVICES: "crawler-typo" });
		expect(r.status).toBe(78);
		expect(r.stderr).toMatch(/SERVICES: unknown service\(s\) crawler-typo; available: /);
	});
});

describe.each([
	["Redis", "redis://127.0.0.1:6379"],
	["Kafka", "kafka://127.0.0.1:9092"]
])("nodes over the %s transporter", (_kind, transporter) => {
	const brokers: ServiceBroker[] = [];
	afterAll(async () => Promise.all(brokers.map(b => b.stop())));

	it("find each other and call each other's actions", async () => {
		const settings = testSettings({ TRANSPORTER: transporter, NAMESPACE: uniqueName("it-ns") });
		const a = testBroker(settings, { nodeID: uniqueName("node-a"), transporter: settings.TRANSPORTER as never, namespace: settings.NAMESPACE });
		const b = testBroker(settings, { nodeID: uniqueName("node-b"), transporter: settings.TRANSPORTER as never, namespace: settings.NAMESPACE });
		brokers.push(a, b);
		a.createService({ name: "echo", actions: { where: { handler: () => a.nodeID } } });
		await Promise.all([a.start(), b.start()]);
		await b.waitForServices("echo", 30000);
		expect(await b.call("echo.where")).toBe(a.nodeID);
	});
});
