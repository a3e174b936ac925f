import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, describeSettings, loadSettings, SETTING_DEFINITIONS } from "../../../config/index.ts";

const load = (env: Record<string, string> = {}, localFile: string | false = false) => loadSettings({ env, localFile });

function localFile(content: string): string {
	const dir = mkdtempSync(join(tmpdir(), "settings-"));
	const file = join(dir, "localsettings.json");
	writeFileSync(file, content);
	return file;
}

describe("settings", () => {
	it("has Scrapy Cluster 1.2's defaults under the same names", () => {
		const s = load();
		expect(s).toMatchObject({
			REDIS_HOST: "localhost",
			REDIS_PORT: 6379,
			REDIS_DB: 0,
			KAFKA_HOSTS: "localhost:9092",
			KAFKA_INCOMING_TOPIC: "demo.incoming",
			KAFKA_GROUP: "demo-group",
			KAFKA_TOPIC_PREFIX: "demo",
			KAFKA_APPID_TOPICS: false,
			KAFKA_BASE_64_ENCODE: false,
			KAFKA_FEED_TIMEOUT: 5,
			KAFKA_CONSUMER_AUTO_OFFSET_RESET: "earliest",
			KAFKA_CONSUMER_TIMEOUT: 50,
			KAFKA_CONSUMER_COMMIT_INTERVAL_MS: 5000,
			KAFKA_CONSUMER_FETCH_MESSAGE_MAX_BYTES: 10 * 1024 * 1024,
			KAFKA_PRODUCER_BATCH_LINGER_MS: 25,
			KAFKA_PRODUCER_BUFFER_BYTES: 4 * 1024 * 1024,
			ZOOKEEPER_HOSTS: "localhost:2181",
			ZOOKEEPER_ASSIGN_PATH: "/scrapy-cluster/crawler/",
			ZOOKEEPER_ID: "all",
			QUEUE_HITS: 10,
			QUEUE_WINDOW: 60,
			QUEUE_MODERATED: true,
			DUPEFILTER_TIMEOUT: 600,
			SCHEDULER_PERSIST: true,
			SCHEDULER_QUEUE_REFRESH: 10,
			SCHEDULER_QUEUE_TIMEOUT: 3600,
			SCHEDULER_BACKLOG_BLACKLIST: true,
			SCHEDULER_IP_REFRESH: 60,
			SCHEDULER_TYPE_ENABLED: true,
			SCHEDULER_IP_ENABLED: true,
			PUBLIC_IP_URL: "http://ip.42.pl/raw",
			STATS_CYCLE: 5,
			STATS_DUMP: 60,
			STATS_TIMES: ["SECONDS_15_MINUTE", "SECONDS_1_HOUR", "SECONDS_6_HOUR", "SECONDS_12_HOUR", "SECONDS_1_DAY", "SECONDS_1_WEEK"],
			STATUS_RESPONSE_CODES: [200, 404, 403, 504],
			HEARTBEAT_TIMEOUT: 120,
			WAIT_FOR_RESPONSE_TIME: 5,
			REDIS_LOCK_EXPIRATION: 6,
			RETRY_FAILURES_MAX: 3,
			REST_PORT: 5343,
			LOG_LEVEL: "INFO",
			LOG_JSON: false,
			LOG_STDOUT: true,
			LOG_DIR: "logs",
			LOG_MAX_BYTES: 10 * 1024 * 1024,
			LOG_BACKUPS: 5,
			REDIS_PASSWORD: null,
			TRANSPORTER: null
		});
		expect(new RegExp(s.IP_ADDR_REGEX).exec("ip is 81.2.69.160.")?.[1]).toBe("81.2.69.160");
	});

	it("is frozen", () => {
		const s = load();
		expect(Object.isFrozen(s)).toBe(true);
	});

	it("takes environment variables of the same name, typed", () => {
		const s = load({ REDIS_PORT: "6390", QUEUE_MODERATED: "False", STATUS_RESPONSE_CODES: "200,500", QUEUE_WINDOW: "0.5" });
		expect(s.REDIS_PORT).toBe(6390);
		expect(s.QUEUE_MODERATED).toBe(false);
		expect(s.STATUS_RESPONSE_CODES).toEqual([200, 500]);
		expect(s.QUEUE_WINDOW).toBe(0.5);
	});

	it("accepts the original's alternative names (FLASK_PORT, the misspelt SCHEUDLER_ITEM_RETRIES)", () => {
		expect(load({ FLASK_PORT: "8080" }).REST_PORT).toBe(8080);
		expect(load({ SCHEUDLER_ITEM_RETRIES: "7" }).SCHEDULER_ITEM_RETRIES).toBe(7);
		// the canonical name wins when both are set
		expect(load({ FLASK_PORT: "8080", REST_PORT: "9090" }).REST_PORT).toBe(9090);
	});

	it("reports every bad value at once, naming the setting and its source", () => {
		let error: ConfigError | undefined;
		try {
			load({ REDIS_PORT: "abc", KAFKA_HOSTS: "not a host", ZOOKEEPER_ASSIGN_PATH: "relative/", STATS_TIMES: "SECONDS_1_YEAR" });
		} catch (err) {
			error = err as ConfigError;
		}
		expect(error).toBeInstanceOf(ConfigError);
		expect(error!.problems).toHaveLength(4);
		expect(error!.message).toContain('REDIS_PORT (from environment variable REDIS_PORT): expected an integer between 1 and 65535, got "abc"');
		expect(error!.message).toContain("KAFKA_HOSTS");
		expect(error!.message).toContain("ZOOKEEPER_ASSIGN_PATH");
		expect(error!.message).toContain("SECONDS_1_YEAR");
	});

	it("refuses REDIS_CLUSTER with a database other than 0 or with a throttle shared by spider types", () => {
		expect(load({ REDIS_CLUSTER: "true" }).REDIS_CLUSTER).toBe(true);
		let error: ConfigError | undefined;
		try {
			load({ REDIS_CLUSTER: "true", REDIS_DB: "3", SCHEDULER_TYPE_ENABLED: "false" });
		} catch (err) {
			error = err as ConfigError;
		}
		expect(error).toBeInstanceOf(ConfigError);
		expect(error!.problems).toEqual([
			"REDIS_DB must be 0 with REDIS_CLUSTER=true (a Redis Cluster has only database 0; got 3)",
			"SCHEDULER_TYPE_ENABLED must be true with REDIS_CLUSTER=true (a throttle shared by spider types would span hash slots)"
		]);
		// alone, each is fine
		expect(load({ REDIS_DB: "3", SCHEDULER_TYPE_ENABLED: "false" }).REDIS_DB).toBe(3);
	});

	it("reads a local override file, under the environment", () => {
		const file = localFile(JSON.stringify({ REDIS_HOST: "redis.internal", QUEUE_HITS: 25, STATS_TIMES: ["SECONDS_1_HOUR"] }));
		const s = load({ QUEUE_HITS: "30" }, file);
		expect(s.REDIS_HOST).toBe("redis.internal");
		expect(s.QUEUE_HITS).toBe(30);
		expect(s.STATS_TIMES).toEqual(["SECONDS_1_HOUR"]);
		expect(loadSettings({ env: { LOCAL_SETTINGS: file } }).REDIS_HOST).toBe("redis.internal");
	});

	it("refuses unknown names and bad values in the local file with a hint", () => {
		const file = localFile(JSON.stringify({ REDIS_PROT: 1, QUEUE_HITS: "many" }));
		expect(() => load({}, file)).toThrow(/unknown setting "REDIS_PROT" in .*\(did you mean REDIS_PORT\?\)/);
		expect(() => load({}, file)).toThrow(/QUEUE_HITS \(from .*localsettings.json\): expected an integer/);
		expect(() => load({}, localFile("{not json"))).toThrow(/is not valid JSON/);
		expect(() => load({}, localFile("[1]"))).toThrow(/must hold a JSON object/);
		expect(() => load({}, "/nonexistent/localsettings.json")).toThrow(/cannot read local settings file/);
	});

	it("masks secrets when settings are printed", () => {
		const s = loadSettings({ env: {}, localFile: false, overrides: { REDIS_PASSWORD: "hunter2" } });
		const printed = Object.fromEntries(describeSettings(s));
		expect(printed.REDIS_PASSWORD).toBe("********");
		expect(printed.REDIS_PORT).toBe("6379");
		expect(JSON.stringify(describeSettings(s))).not.toContain("hunter2");
	});

	it("describes every setting", () => {
		for (const [name, def] of Object.entries(SETTING_DEFINITIONS)) {
			expect(def.description.length).toBeGreaterThan(5);
			expect(name).toMatch(/^[A-Z0-9_]+$/);
		}
	});
});
