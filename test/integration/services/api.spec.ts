/**
 * The REST service on a real HTTP port against the real data stack: the documented examples and every
 * error case, a poll answered by a second API instance, API keys.
 */
import type { AddressInfo } from "node:net";
import type { Redis } from "ioredis";
import type { ServiceBroker } from "moleculer";
import { request } from "undici";
import type { Settings } from "../../../config/index.ts";
import ApiService from "../../../services/api.service.ts";
import InfoService from "../../../services/info.service.ts";
import IngestService from "../../../services/ingest.service.ts";
import StopService from "../../../services/stop.service.ts";
import { RedisMixin } from "../../../mixins/redis.mixin.ts";
import { eventually, testBroker, testSettings, uniqueName } from "../../support/cluster.ts";

interface Reply {
	status: number;
	body: Record<string, unknown>;
}

async function call(port: number, method: "GET" | "POST" | "PUT", path: string, body?: string | object, headers: Record<string, string> = {}): Promise<Reply> {
	const payload = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
	const res = await request(`http://127.0.0.1:${port}${path}`, {
		method,
		body: payload,
		headers: payload !== undefined && !("content-type" in headers) ? { "content-type": "application/json", ...headers } : headers
	});
	const text = await res.body.text();
	let parsed: Record<string, unknown>;
	try {
		parsed = JSON.parse(text) as Record<string, unknown>;
	} catch {
		parsed = { raw: text };
	}
	return { status: res.statusCode, body: parsed };
}

const portOf = (broker: ServiceBroker) => ((broker.getLocalService("api") as unknown as { server: { address(): AddressInfo } }).server.address()).port;

describe("api service (REST)", () => {
	let base: Settings;
	const brokers: ServiceBroker[] = [];
	let main: ServiceBroker;
	let second: ServiceBroker;
	let redis: Redis;
	const spider = uniqueName("rest").replace(/-/g, "_");

	async function node(services: Array<"api" | "ingest" | "info" | "stop">, overrides: Record<string, unknown> = {}) {
		const broker = testBroker(testSettings({ ...base, ...overrides }));
		if (services.includes("ingest")) broker.createService(IngestService);
		if (services.includes("info")) broker.createService(InfoService);
		if (services.includes("stop")) broker.createService(StopService);
		if (services.includes("api")) broker.createService(ApiService);
		brokers.push(broker);
		await broker.start();
		return broker;
	}

	beforeAll(async () => {
		const prefix = uniqueName("rs").replace(/-/g, "_");
		base = testSettings({ KAFKA_TOPIC_PREFIX: prefix, KAFKA_INCOMING_TOPIC: `${prefix}.incoming`, KAFKA_GROUP: `${prefix}-group`, REST_PORT: 0, KAFKA_PRODUCER_BATCH_LINGER_MS: 5, WAIT_FOR_RESPONSE_TIME: 5 });
		main = await node(["api", "ingest", "info"]);
		second = await node(["api"], { WAIT_FOR_RESPONSE_TIME: 1 });
		const probe = main.createService({ name: "probe", mixins: [RedisMixin()] }) as unknown as { redis: Redis };
		await probe.redis.connect().catch(() => undefined);
		redis = probe.redis;
		await eventually(async () => (await call(portOf(main), "GET", "/")).body.node_health === "GREEN", 20000);
		await eventually(async () => (await call(portOf(second), "GET", "/")).body.node_health === "GREEN", 20000);
		await eventually(async () => ((await main.call("ingest.status")) as { consuming: boolean }).consuming, 30000);
		// let both answer consumers join before the tests send anything
		await new Promise(r => setTimeout(r, 2000));
	});

	afterAll(async () => {
		await Promise.all(brokers.map(b => b.stop()));
	});

	it("GET and POST / report the real connection state", async () => {
		for (const method of ["GET", "POST"] as const) {
			const r = await call(portOf(main), method, "/");
			expect(r.status).toBe(200);
			expect(r.body).toEqual({ kafka_connected: true, redis_connected: true, my_id: expect.stringMatching(/^[0-9a-f]{12}$/), node_health: "GREEN", uptime_sec: expect.any(Number) });
		}
		const away = await node(["api"], { KAFKA_HOSTS: "127.0.0.1:1", KAFKA_CONN_TIMEOUT: 1, REDIS_PORT: 1, REDIS_SOCKET_TIMEOUT: 1 });
		expect((await call(portOf(away), "GET", "/")).body).toMatchObject({ kafka_connected: false, redis_connected: false, node_health: "RED" });
		// Kafka away: feeding fails with the documented message, nothing leaks
		const fed = await call(portOf(away), "POST", "/feed", { url: "http://example.com", appid: "testapp", crawlid: "x" });
		expect(fed).toEqual({ status: 500, body: { status: "FAILURE", data: null, error: { message: "Unable to connect to Kafka" } } });
		const polled = await call(portOf(away), "POST", "/poll", { poll_id: "abc" });
		expect(polled).toEqual({ status: 500, body: { status: "FAILURE", data: null, error: { message: "Unable to connect to Redis" } } });
		expect((await redis.exists("stats:rest:self:x")) >= 0).toBe(true);
		expect((await redis.keys("stats:rest:self:*")).length).toBeGreaterThanOrEqual(2);
	});

	it("feeds a crawl request: SUCCESS with null data, and it reaches its queue", async () => {
		const crawlid = uniqueName("c");
		const r = await call(portOf(main), "POST", "/feed", { url: "istresearch.com", appid: "madisonTest", crawlid, spiderid: spider });
		expect(r).toEqual({ status: 200, body: { status: "SUCCESS", data: null, error: null } });
		expect(await eventually(() => redis.zcard(`${spider}:istresearch.com:queue`), 20000)).toBe(1);
	});

	it("feeds an info request and returns its answer as data", async () => {
		const uuid = uniqueName("info");
		const r = await call(portOf(main), "POST", "/feed", { action: "info", appid: "madisonTest", uuid, spiderid: spider });
		expect(r.status).toBe(200);
		expect(r.body).toMatchObject({ status: "SUCCESS", error: null, data: { uuid, appid: "madisonTest", spiderid: spider, total_crawlids: 1, total_pending: 1 } });
	});

	it("answers a late request with its poll_id, and a second API instance serves the poll", async () => {
		const uuid = uniqueName("late");
		// No stop service runs yet: the answer cannot come within WAIT_FOR_RESPONSE_TIME (1 s on `second`).
		const r = await call(portOf(second), "POST", "/feed", { action: "stop", appid: "madisonTest", crawlid: "nothing", uuid, spiderid: spider });
		expect(r).toEqual({ status: 200, body: { status: "SUCCESS", data: { poll_id: uuid }, error: null } });
		expect(await call(portOf(main), "POST", "/poll", { poll_id: uuid })).toEqual({ status: 404, body: { status: "FAILURE", data: null, error: { message: "Could not find matching poll_id" } } });
		// The stop service starts on the node whose ingest holds the request (nodes here share no transporter).
		main.createService(StopService);
		await eventually(() => redis.exists(`rest:poll:${uuid}`), 20000);
		const polled = await call(portOf(main), "POST", "/poll", { poll_id: uuid });
		expect(polled.status).toBe(200);
		expect(polled.body).toMatchObject({ status: "SUCCESS", error: null, data: { uuid, action: "stop", total_purged: 0 } });
		// a poll is answered once
		expect((await call(portOf(second), "POST", "/poll", { poll_id: uuid })).status).toBe(404);
	});

	it.each([
		["invalid JSON", "/feed", "{not json", {}, 400, { message: "The payload must be valid JSON." }],
		["a JSON array", "/feed", "[1,2]", {}, 400, { message: "The payload must be valid JSON." }],
		["the wrong content type", "/feed", '{"url":"http://a.com","appid":"testapp","crawlid":"c"}', { "content-type": "text/plain" }, 400, { message: "The payload must be valid JSON." }],
		["no content type", "/poll", '{"poll_id":"a"}', { "content-type": "" }, 400, { message: "The payload must be valid JSON." }]
	])("refuses %s with 400", async (_what, path, body, headers, status, error) => {
		expect(await call(portOf(main), "POST", path, body, headers as Record<string, string>)).toEqual({ status, body: { status: "FAILURE", data: null, error } });
	});

	it("refuses requests that match no schema, naming the cause", async () => {
		const feed = await call(portOf(main), "POST", "/feed", { url: "http://a.com", appid: "testapp", crawlid: "c", crazykey: 1 });
		expect(feed.status).toBe(400);
		expect(feed.body.status).toBe("FAILURE");
		expect((feed.body.error as { message: string; cause: string }).message).toBe("JSON did not validate against schema.");
		expect((feed.body.error as { cause: string }).cause).toContain("crazykey");
		const poll = await call(portOf(main), "POST", "/poll", { poll_id: "x", otherkey: 1 });
		expect(poll.status).toBe(400);
		expect(poll.body.error).toEqual({ message: "JSON did not validate against schema.", cause: expect.stringContaining("otherkey") });
		const empty = await call(portOf(main), "POST", "/poll", { poll_id: "" });
		expect((empty.body.error as { cause: string }).cause).toContain("poll_id");
	});

	it("answers unknown endpoints and methods with 404, oversized bodies with 413", async () => {
		const notFound = { status: 404, body: { status: "FAILURE", data: null, error: { message: "The desired endpoint does not exist" } } };
		expect(await call(portOf(main), "GET", "/nope")).toEqual(notFound);
		expect(await call(portOf(main), "POST", "/nope", {})).toEqual(notFound);
		expect(await call(portOf(main), "GET", "/feed")).toEqual(notFound);
		const big = await call(portOf(main), "POST", "/feed", { url: "http://a.com", appid: "testapp", crawlid: "c", attrs: { pad: "x".repeat(2 * 1024 * 1024) } });
		expect(big).toEqual({ status: 413, body: { status: "FAILURE", data: null, error: { message: "The payload is too large." } } });
		// and the service is still up
		expect((await call(portOf(main), "GET", "/")).status).toBe(200);
	});

	it("serves its OpenAPI document", async () => {
		const r = await call(portOf(main), "GET", "/openapi.json");
		expect(r.status).toBe(200);
		expect(r.body.openapi).toBe("3.1.0");
		expect(Object.keys(r.body.paths as object).sort()).toEqual(["/", "/feed", "/openapi.json", "/poll"]);
	});

	it("with API keys: 401 without a valid key, 403 for another appid, 200 for its own", async () => {
		const keyed = await node(["api"], { REST_API_KEYS: { "key-1": ["madisonTest"] } });
		const crawl = { url: "http://keys.example.com/", appid: "madisonTest", crawlid: uniqueName("k"), spiderid: spider };
		expect(await call(portOf(keyed), "POST", "/feed", crawl)).toEqual({ status: 401, body: { status: "FAILURE", data: null, error: { message: "A valid API key is required in the X-Api-Key header." } } });
		expect((await call(portOf(keyed), "POST", "/feed", crawl, { "x-api-key": "wrong" })).status).toBe(401);
		const other = await call(portOf(keyed), "POST", "/feed", { ...crawl, appid: "otherapp" }, { "x-api-key": "key-1" });
		expect(other).toEqual({ status: 403, body: { status: "FAILURE", data: null, error: { message: "This API key may not act for appid 'otherapp'." } } });
		expect((await call(portOf(keyed), "POST", "/feed", crawl, { "x-api-key": "key-1" })).status).toBe(200);
		expect((await call(portOf(keyed), "GET", "/")).status).toBe(200);
	});
});
