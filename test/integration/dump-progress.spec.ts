/**
 * `npm run dump` progress: a running count and rate on stderr (plain lines when stderr is not a
 * terminal), where the results go, and stdout holding only the messages.
 */
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { KafkaClient } from "../../lib/kafka/client.ts";
import { eventually, stopChild, testSettings, uniqueName } from "../support/cluster.ts";

const ROOT = resolve(__dirname, "../..");
const NODE = resolve(ROOT, "node_modules/.bin/node");
const quietLog = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined };

describe("dump CLI progress", () => {
	const kafka = new KafkaClient(testSettings(), "it-dump-progress", quietLog);
	afterAll(async () => kafka.close());

	it("counts messages on stderr while stdout gets only the data, and says where it goes", async () => {
		const topic = uniqueName("it.dump-progress");
		const send = (from: number, n: number) => kafka.send(topic, Array.from({ length: n }, (_, i) => ({ value: JSON.stringify({ n: from + i }) })));
		await send(1, 3);
		const child = spawn(NODE, ["bin/dump.ts", "dump", "-t", topic, "-b", "--progress", "0.3"], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
		let stdout = "";
		let stderr = "";
		child.stdout.on("data", d => (stdout += String(d)));
		child.stderr.on("data", d => (stderr += String(d)));
		try {
			const progressLine = (count: number) => new RegExp(`^${topic.replace(/\./g, "\\.")}: ${count} messages?, \\d+\\.\\d/s, \\d+ B in \\d+s$`, "m");
			expect(await eventually(() => progressLine(3).test(stderr), 30000)).toBe(true);
			await send(4, 2);
			expect(await eventually(() => progressLine(5).test(stderr), 30000)).toBe(true);
		} finally {
			await stopChild(child, "SIGINT");
		}
		expect(child.exitCode).toBe(0);
		expect(stdout.trim().split("\n").map(l => JSON.parse(l).n)).toEqual([1, 2, 3, 4, 5]);
		expect(stderr).toContain(`Dumping ${topic} (from the beginning) to a pipe, progress on stderr`);
		expect(stderr).toContain("Num Records: 5");
		// plain lines, no terminal control characters when stderr is not a terminal
		expect(stderr).not.toMatch(/\r|\x1b\[/);
		// the progress lines count up and end with the final count
		const counts = stderr
			.split("\n")
			.filter(l => l.startsWith(`${topic}: `))
			.map(l => Number(/: (\d+) message/.exec(l)?.[1]));
		expect(counts).toEqual([...counts].sort((a, b) => a - b));
		expect(counts[counts.length - 1]).toBe(5);
	}, 90000);
});
