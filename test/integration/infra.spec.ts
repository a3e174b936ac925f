import { readFileSync, readdirSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";

const ROOT = resolve(__dirname, "../..");
const RUN = resolve(ROOT, ".infra/run");
const infra = (...args: string[]) => spawnSync("bash", ["scripts/infra.sh", ...args], { cwd: ROOT, encoding: "utf8", timeout: 120000 });

const pids = () =>
	Object.fromEntries(
		readdirSync(RUN)
			.filter(f => f.endsWith(".pid"))
			.map(f => [f, readFileSync(resolve(RUN, f), "utf8").trim()])
	);

describe("scripts/infra.sh (the local data stack)", () => {
	it("reports every component answering", () => {
		const r = infra("status");
		expect(r.status).toBe(0);
		for (const name of ["redis", "zookeeper", "kafka"]) expect(r.stdout).toMatch(new RegExp(`${name}: (running|external)`));
	});

	it("is idempotent: a second `up` starts nothing", () => {
		const before = pids();
		const r = infra("up");
		expect(r.status).toBe(0);
		expect(pids()).toEqual(before);
		// "redis started (pid N)" is what a start prints; "(not started by infra.sh)" is a server found running
		expect(r.stdout).not.toMatch(/ started \(pid/);
		expect(r.stdout).toMatch(/already (running|answers)/);
	});

	it("starts nothing for hosts that are not local (the cluster then uses those servers)", () => {
		const before = pids();
		const r = spawnSync("bash", ["scripts/infra.sh", "up"], {
			cwd: ROOT,
			encoding: "utf8",
			timeout: 60000,
			env: { ...process.env, REDIS_HOST: "redis.invalid", KAFKA_HOSTS: "kafka.invalid:9092", ZOOKEEPER_HOSTS: "zk.invalid:2181" }
		});
		expect(r.status).toBe(0);
		expect(r.stdout).toContain("REDIS_HOST/REDIS_PORT=redis.invalid:6379 is not local; not starting it");
		expect(r.stdout).toContain("KAFKA_HOSTS=kafka.invalid:9092 is not local; not starting it");
		expect(r.stdout).toContain("ZOOKEEPER_HOSTS=zk.invalid:2181 is not local; not starting it");
		expect(pids()).toEqual(before);
	});

	it("prints the effective hosts", () => {
		const r = infra("env");
		expect(r.status).toBe(0);
		expect(r.stdout).toMatch(/^REDIS_HOST=/m);
		expect(r.stdout).toMatch(/^KAFKA_HOSTS=/m);
		expect(r.stdout).toMatch(/^ZOOKEEPER_HOSTS=/m);
	});
});
