import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import yaml from "js-yaml";

const ROOT = resolve(__dirname, "../..");
const COMPONENTS = ["ingest", "info", "stop", "expire", "stats", "zookeeper-admin", "crawler", "api"];

type Compose = { services: Record<string, { build?: string; image?: string; environment?: Record<string, string>; container_name?: string; ports?: string[] }> };

describe("docker-compose.yml", () => {
	it("parses with `docker compose config` when the docker compose client is present", () => {
		const probe = spawnSync("docker", ["compose", "version"], { encoding: "utf8" });
		if (probe.status !== 0) {
			console.log("docker compose client not present: checked by the YAML test below only");
			return;
		}
		const r = spawnSync("docker", ["compose", "config"], { cwd: ROOT, encoding: "utf8" });
		expect(r.stderr).toBe("");
		expect(r.status).toBe(0);
	});

	it("lets every component but the REST entry point scale (`--scale crawler=3`): no fixed container names or host ports", () => {
		const doc = yaml.load(readFileSync(resolve(ROOT, "docker-compose.yml"), "utf8")) as Compose;
		for (const name of COMPONENTS) {
			expect(doc.services[name]!.container_name).toBeUndefined();
			if (name !== "api") expect(doc.services[name]!.ports ?? []).toEqual([]);
		}
		// node ids must differ between replicas: none is fixed in the file (the default is <hostname>-<pid>)
		for (const name of COMPONENTS) expect(doc.services[name]!.environment?.NODE_ID).toBeUndefined();
	});

	it("has the data stack and one container per component, configured by the same settings", () => {
		const doc = yaml.load(readFileSync(resolve(ROOT, "docker-compose.yml"), "utf8")) as Compose;
		for (const infra of ["redis", "zookeeper", "kafka"]) expect(doc.services[infra]?.image).toBeTruthy();
		for (const name of COMPONENTS) {
			const svc = doc.services[name]!;
			expect(svc.build).toBe(".");
			expect(svc.environment).toMatchObject({ TRANSPORTER: "redis://redis:6379", REDIS_HOST: "redis", KAFKA_HOSTS: "kafka:9092", ZOOKEEPER_HOSTS: "zookeeper:2181" });
			const expected = name === "zookeeper-admin" ? "zookeeper" : name === "ingest" ? "ingest,crawl" : name;
			expect(svc.environment!.SERVICES).toBe(expected);
			// every service named exists in services/
			for (const service of expected.split(",")) expect(existsSync(resolve(ROOT, "services", `${service}.service.ts`))).toBe(true);
		}
	});
});
