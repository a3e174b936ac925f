import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ServiceBroker } from "moleculer";
import { loadSettings } from "../../../config/index.ts";
import { buildLogger, moleculerLevel } from "../../../lib/logging/index.ts";

const waitFor = async (check: () => boolean, ms = 3000) => {
	const end = Date.now() + ms;
	while (!check() && Date.now() < end) await new Promise(r => setTimeout(r, 20));
};

describe("logging", () => {
	it("maps Python and Moleculer level names", () => {
		expect(moleculerLevel("INFO")).toBe("info");
		expect(moleculerLevel("WARNING")).toBe("warn");
		expect(moleculerLevel("CRITICAL")).toBe("fatal");
		expect(moleculerLevel("debug")).toBe("debug");
		expect(() => moleculerLevel("LOUD")).toThrow(/LOG_LEVEL/);
	});

	it("writes one JSON object a line with timestamp, level, logger, message and extra fields; honours LOG_LEVEL", async () => {
		const dir = mkdtempSync(join(tmpdir(), "logs-"));
		const settings = loadSettings({ env: {}, localFile: false, overrides: { LOG_JSON: true, LOG_STDOUT: false, LOG_DIR: dir, LOG_FILE: "node.log", LOG_LEVEL: "INFO" } });
		const broker = new ServiceBroker({ nodeID: "log-test", logger: buildLogger(settings) });
		const logger = broker.getLogger("crawler");
		logger.info("Page crawled", { url: "http://127.0.0.1/", status_code: 200 });
		logger.debug("not written at INFO");
		await broker.stop();
		const file = join(dir, "node.log");
		await waitFor(() => readFileSync(file, "utf8").includes("Page crawled"));
		const lines = readFileSync(file, "utf8").trim().split("\n").map(l => JSON.parse(l) as Record<string, unknown>);
		const line = lines.find(l => l.message === "Page crawled");
		expect(line).toMatchObject({ level: "info", logger: "crawler", node: "log-test", url: "http://127.0.0.1/", status_code: 200 });
		expect(typeof line!.timestamp).toBe("string");
		expect(Number.isNaN(Date.parse(String(line!.timestamp)))).toBe(false);
		expect(lines.some(l => l.message === "not written at INFO")).toBe(false);
	});

	it("JSON for ELK: a service's lines name the node and the service, keep the data fields, and stay one line each", async () => {
		const dir = mkdtempSync(join(tmpdir(), "logs-"));
		const settings = loadSettings({ env: {}, localFile: false, overrides: { LOG_JSON: true, LOG_STDOUT: false, LOG_DIR: dir, LOG_FILE: "elk.log", LOG_LEVEL: "DEBUG" } });
		const broker = new ServiceBroker({ nodeID: "elk-node", logger: buildLogger(settings) });
		const svc = broker.createService({ name: "ingest" });
		svc.logger.info("Added crawl to Redis", { appid: "testapp", crawlid: "abc", level: "spoofed", node: "spoofed" });
		svc.logger.debug("two\nlines", { n: 1 });
		svc.logger.warn("Refused request", { reasons: { crawl: ["x"] } });
		await broker.stop();
		const file = join(dir, "elk.log");
		await waitFor(() => readFileSync(file, "utf8").includes("Refused request"));
		const raw = readFileSync(file, "utf8").trim().split("\n");
		const lines = raw.map(l => JSON.parse(l) as Record<string, unknown>);
		const added = lines.find(l => l.message === "Added crawl to Redis");
		expect(added).toMatchObject({ level: "info", node: "elk-node", service: "ingest", logger: "ingest", appid: "testapp", crawlid: "abc" });
		expect(Number.isNaN(Date.parse(String(added!.timestamp)))).toBe(false);
		expect(lines.find(l => l.message === "two\nlines")).toMatchObject({ level: "debug", n: 1 });
		expect(lines.find(l => l.message === "Refused request")).toMatchObject({ level: "warn", reasons: { crawl: ["x"] } });
		// the broker's own lines have no service
		expect(lines.find(l => l.logger === "broker")?.service).toBeUndefined();
	});

	it("rolls the file at LOG_MAX_BYTES and keeps LOG_BACKUPS old files", async () => {
		const dir = mkdtempSync(join(tmpdir(), "logs-"));
		const settings = loadSettings({
			env: {},
			localFile: false,
			overrides: { LOG_JSON: false, LOG_STDOUT: false, LOG_DIR: dir, LOG_FILE: "roll.log", LOG_MAX_BYTES: 2048, LOG_BACKUPS: 2 }
		});
		const broker = new ServiceBroker({ nodeID: "roll-test", logger: buildLogger(settings) });
		const logger = broker.getLogger("ingest");
		for (let i = 0; i < 200; i++) {
			logger.info(`line ${i} ${"x".repeat(80)}`);
			if (i % 20 === 0) await new Promise(r => setTimeout(r, 10));
		}
		await new Promise(r => setTimeout(r, 300));
		await broker.stop();
		const files = readdirSync(dir).sort();
		expect(files.length).toBeGreaterThan(1);
		expect(files.length).toBeLessThanOrEqual(3);
		expect(files).toContain("roll.log");
		// winston rolls eagerly: the newest lines are in roll.log or, right after a roll, in roll1.log.
		const all = files.map(f => readFileSync(join(dir, f), "utf8")).join("");
		for (let i = 190; i < 200; i++) expect(all).toContain(`line ${i} `);
		expect(all).not.toContain("line 0 ");
		for (const f of files) expect(readFileSync(join(dir, f)).length).toBeLessThan(2 * 2048); // winston checks the size between writes, so a file may pass it by a little
		expect(all).toMatch(/^\S+ INFO  \[roll-test\/ingest\] line/m);
	});
});
