import { spawn, spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { eventually, stopChild, uniqueName } from "../support/cluster.ts";

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
])("node processes over the %s transporter", (_kind, transporter) => {
	it("find each other and call each other's actions", async () => {
		const namespace = uniqueName("it-ns");
		const peer = resolve(ROOT, "test/support/transport-peer.ts");
		const server = spawn(NODE, [peer, "server", transporter, namespace], { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] });
		try {
			let out = "";
			server.stdout.on("data", (d: Buffer) => (out += d.toString()));
			expect(await eventually(() => out.includes("ready"), 30000)).toBe(true);
			const client = spawnSync(NODE, [peer, "client", transporter, namespace], { cwd: ROOT, encoding: "utf8", timeout: 60000 });
			expect(client.status).toBe(0);
			const result = JSON.parse(client.stdout.trim()) as { answer: string; client: string };
			expect(result.answer).toBe(`server-${server.pid}`);
			expect(result.client).not.toBe(result.answer);
		} finally {
			await stopChild(server);
		}
	});
});
