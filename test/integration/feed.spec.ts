/**
 * Feeding requests into the incoming topic from the REPL (`call crawl.feed {...}`), from the CLI
 * (`npm run feed -- '<json>'`) and through the crawl.feed action; bad requests are refused before Kafka.
 */
import { spawn, spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { Errors, type ServiceBroker } from "moleculer";
import { KafkaClient } from "../../lib/kafka/client.ts";
import CrawlService from "../../services/crawl.service.ts";
import { eventually, readTopic, stopChild, testBroker, testSettings, uniqueName } from "../support/cluster.ts";

const ROOT = resolve(__dirname, "../..");
const NODE = resolve(ROOT, "node_modules/.bin/node");
const quietLog = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined };

describe("feeding requests", () => {
	const kafka = new KafkaClient(testSettings(), "it-feed-reader", quietLog);
	afterAll(async () => kafka.close());

	it("CLI: npm run feed validates, reaches the topic and logs like the original", () => {
		const topic = uniqueName("it.feed-cli");
		const request = { url: "http://istresearch.com", appid: "testapp", crawlid: "ABC123" };
		const r = spawnSync(NODE, ["bin/feed.ts", JSON.stringify(request)], { cwd: ROOT, env: { ...process.env, KAFKA_INCOMING_TOPIC: topic }, encoding: "utf8", timeout: 30000 });
		expect(r.status).toBe(0);
		expect(r.stdout).toContain(`[kafka-monitor] INFO: Feeding JSON into ${topic}`);
		expect(r.stdout).toContain("[kafka-monitor] INFO: Successfully fed item to Kafka");
		return readTopic(kafka, topic, 1).then(values => expect(values.map(v => JSON.parse(v))).toEqual([request]));
	});

	it("CLI: refuses invalid JSON and invalid requests without touching Kafka", async () => {
		const topic = uniqueName("it.feed-bad");
		const env = { ...process.env, KAFKA_INCOMING_TOPIC: topic };
		const notJson = spawnSync(NODE, ["bin/feed.ts", "{oops"], { cwd: ROOT, env, encoding: "utf8", timeout: 30000 });
		expect(notJson.status).toBe(1);
		expect(notJson.stdout).toContain("JSON failed to parse");
		const invalid = spawnSync(NODE, ["bin/feed.ts", JSON.stringify({ url: "http://x.com", appid: "a", crawlid: "c" })], { cwd: ROOT, env, encoding: "utf8", timeout: 30000 });
		expect(invalid.status).toBe(1);
		expect(invalid.stdout).toContain("Request refused: Did not find schema to validate request");
		expect(invalid.stdout).toContain("The 'appid' field length must be greater than or equal to 3 characters long.");
		expect(await kafka.partitionCount(topic)).toBe(0);
	});

	it("CLI: fails with a clear message when Kafka is unreachable within KAFKA_FEED_TIMEOUT", () => {
		const started = Date.now();
		const r = spawnSync(NODE, ["bin/feed.ts", JSON.stringify({ url: "http://x.com", appid: "testapp", crawlid: "c" })], {
			cwd: ROOT,
			env: { ...process.env, KAFKA_HOSTS: "127.0.0.1:1", KAFKA_FEED_TIMEOUT: "2", KAFKA_CONN_TIMEOUT: "1" },
			encoding: "utf8",
			timeout: 30000
		});
		expect(r.status).toBe(1);
		expect(r.stdout).toContain("Failed to feed item into Kafka");
		expect(r.stdout).toContain("KAFKA_FEED_TIMEOUT");
		expect(Date.now() - started).toBeLessThan(15000);
	});

	it("REPL: `call crawl.feed {...}` reaches the topic", async () => {
		const topic = uniqueName("it.feed-repl");
		const node = spawn(NODE, ["bin/node.ts", "--repl"], {
			cwd: ROOT,
			env: { ...process.env, SERVICES: "crawl", KAFKA_INCOMING_TOPIC: topic, NODE_ID: uniqueName("repl"), LOG_LEVEL: "WARNING" },
			stdio: ["pipe", "pipe", "pipe"]
		});
		let out = "";
		node.stdout.on("data", (d: Buffer) => (out += d.toString()));
		node.stderr.on("data", (d: Buffer) => (out += d.toString()));
		try {
			expect(await eventually(() => out.includes("mol $"), 30000)).toBe(true);
			node.stdin.write('call crawl.feed {"url":"http://repl.example.com/","appid":"testapp","crawlid":"repl1"}\n');
			// the REPL prints the action's answer (with ANSI colours even without a terminal)
			const plain = () => out.replace(/\x1b\[[0-9;]*m/g, "");
			expect(await eventually(() => plain().includes(`topic: '${topic}'`), 30000)).toBe(true);
			expect(plain()).toContain("kind: 'crawl'");
			const values = await readTopic(kafka, topic, 1);
			expect(JSON.parse(values[0]!)).toEqual({ url: "http://repl.example.com/", appid: "testapp", crawlid: "repl1" });
			node.stdin.write("quit\n");
			expect(await eventually(() => node.exitCode !== null, 20000)).toBe(true);
		} finally {
			await stopChild(node, "SIGKILL");
		}
	});

	describe("crawl.feed action", () => {
		let broker: ServiceBroker;
		const topic = uniqueName("it.feed-action");
		beforeAll(async () => {
			broker = testBroker(testSettings({ KAFKA_INCOMING_TOPIC: topic }));
			broker.createService(CrawlService);
			await broker.start();
		});
		afterAll(async () => broker.stop());

		it("returns what was fed and the kind it validated as", async () => {
			const request = { uuid: "s1", appid: "testapp", stats: "queue" };
			expect(await broker.call("crawl.feed", request)).toEqual({ topic, kind: "stats", request });
			expect((await readTopic(kafka, topic, 1)).map(v => JSON.parse(v))).toEqual([request]);
		});

		it("answers a ValidationError naming the problem", async () => {
			const err = (await broker.call("crawl.feed", { url: "javascript:alert(1)", appid: "testapp", crawlid: "x" }).catch(e => e)) as Errors.ValidationError;
			expect(err).toBeInstanceOf(Errors.ValidationError);
			expect(err.type).toBe("REQUEST_REFUSED");
			expect(err.message).toContain("only http and https URLs can be crawled");
		});
	});

	it("dump CLI: lists topics and prints messages from the beginning, pretty, stopping after -n", async () => {
		const topic = uniqueName("it.dump");
		await kafka.send(topic, [{ value: JSON.stringify({ url: "http://a.com", body: "<html>", n: 1 }) }, { value: JSON.stringify({ n: 2 }) }, { value: "not json" }]);
		const list = spawnSync(NODE, ["bin/dump.ts", "list"], { cwd: ROOT, encoding: "utf8", timeout: 30000 });
		expect(list.status).toBe(0);
		expect(list.stdout).toMatch(/^Topics:\n/);
		expect(list.stdout).toContain(`- ${topic}\n`);
		const dump = spawnSync(NODE, ["bin/dump.ts", "dump", "-t", topic, "-b", "-n", "2", "-p", "--no-body"], { cwd: ROOT, encoding: "utf8", timeout: 60000 });
		expect(dump.status).toBe(0);
		expect(dump.stdout).toBe('{\n  "url": "http://a.com",\n  "n": 1\n}\n{\n  "n": 2\n}\n');
		expect(dump.stderr).toContain("Num Records: 2");
		const bad = spawnSync(NODE, ["bin/dump.ts", "dump"], { cwd: ROOT, encoding: "utf8", timeout: 30000 });
		expect(bad.status).toBe(2);
		expect(bad.stderr).toContain("usage:");
	});
});
