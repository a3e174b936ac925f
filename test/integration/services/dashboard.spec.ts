/**
 * The live dashboard in a real browser (Debian's chromium driven by playwright-core) against a running
 * cluster: ingest, crawler, info, stop, zookeeper, stats, monitor and api on the real data stack, with API
 * keys on, crawling a throttled loopback site. The page asks for the key, shows the crawl in progress with
 * pending requests and rising pages, and its stop button stops it (read on the firehose); the throttle
 * form lands in ZooKeeper; hostile crawl ids show as text.
 */
import { existsSync } from "node:fs";
import type { AddressInfo } from "node:net";
import type { Redis } from "ioredis";
import type { ServiceBroker } from "moleculer";
import { chromium, type Browser, type Page } from "playwright-core";
import { request } from "undici";
import type { Settings } from "../../../config/index.ts";
import { KafkaClient } from "../../../lib/kafka/client.ts";
import { zookeeperDocumentPath } from "../../../lib/monitor/zk-document.ts";
import { ZookeeperSession } from "../../../lib/zookeeper/client.ts";
import { parseDomainConfig } from "../../../lib/crawl/domain-config.ts";
import { pendingKey } from "../../../lib/frontier/keys.ts";
import { RedisMixin } from "../../../mixins/redis.mixin.ts";
import ApiService from "../../../services/api.service.ts";
import CrawlerService from "../../../services/crawler.service.ts";
import InfoService from "../../../services/info.service.ts";
import IngestService from "../../../services/ingest.service.ts";
import MonitorService from "../../../services/monitor.service.ts";
import StatsService from "../../../services/stats.service.ts";
import StopService from "../../../services/stop.service.ts";
import ZookeeperService from "../../../services/zookeeper.service.ts";
import { CRAWL_TEST_DBS, eventually, prefixedSettings, testBroker, testSettings, uniqueName } from "../../support/cluster.ts";
import { startSite, type TestSite } from "../../support/site.ts";

/** Debian's chromium (scripts/ensure-deps.sh browser installs it). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const KEY = "dash-key-1";
const OTHER_KEY = "dash-key-other";
const HOSTILE = "<img src=x onerror=alert(1)>";
const HOSTILE_ERROR = "<script>alert(2)</script><b>bold</b> went wrong";

const quietLog = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined };
type Message = Record<string, unknown>;

describe("dashboard in a browser", () => {
	let base: Settings;
	let broker: ServiceBroker;
	let kafka: KafkaClient;
	let redis: Redis;
	let zk: ZookeeperSession;
	let site: TestSite;
	let peer: ServiceBroker;
	let browser: Browser;
	let page: Page;
	let origin: string;
	const pages: Message[] = [];
	const dialogs: string[] = [];
	const pageErrors: string[] = [];
	const stops: Array<() => Promise<void>> = [];

	const pagesOf = (crawlid: string) => pages.filter(p => p.crawlid === crawlid);
	const feed = async (body: object, key = KEY) => {
		const res = await request(`${origin}/feed`, { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json", "x-api-key": key } });
		return { status: res.statusCode, body: (await res.body.json()) as Message };
	};
	const state = async (key?: string) => {
		const res = await request(`${origin}/dashboard/api/state`, { headers: key ? { "x-api-key": key } : {} });
		return { status: res.statusCode, body: (await res.body.json()) as Message };
	};
	const intIn = async (selector: string) => Number(((await page.locator(selector).textContent()) ?? "").replace(/[^0-9]/g, "") || "NaN");

	beforeAll(async () => {
		if (!existsSync(CHROMIUM)) throw new Error(`No browser at ${CHROMIUM}: run \`bash scripts/ensure-deps.sh browser\` (installs Debian's chromium; npm test does it) or set CHROMIUM_PATH`);
		site = await startSite({ fanout: 5, depth: 2 });
		const prefix = uniqueName("dash").replace(/-/g, "_");
		base = prefixedSettings(prefix, {
			REDIS_DB: CRAWL_TEST_DBS.dashboard,
			KAFKA_PRODUCER_BATCH_LINGER_MS: 5,
			ZOOKEEPER_ASSIGN_PATH: `/it-dash-${prefix}/crawler/`,
			REST_PORT: 0,
			REST_HOST: "127.0.0.1",
			REST_API_KEYS: { [KEY]: ["testapp", "dashboard"], [OTHER_KEY]: ["otherapp"] },
			WAIT_FOR_RESPONSE_TIME: 10,
			// 2 pages a second: a 31-page crawl runs for about 15 s
			QUEUE_HITS: 2,
			QUEUE_WINDOW: 1,
			QUEUE_MODERATED: true,
			CONCURRENT_REQUESTS: 2,
			CONCURRENT_ITEMS: 2,
			SCHEDULER_QUEUE_REFRESH: 1
		});
		kafka = new KafkaClient(base, "it-dashboard", quietLog);
		const topic = `${prefix}.crawled_firehose`;
		await kafka.ensureTopics([{ topic, partitions: 1 }]);
		const h = await kafka.consume({ groupId: uniqueName("it-dash"), topics: [topic], fromBeginning: true, onMessage: async m => void pages.push(JSON.parse(m.value!.toString()) as Message) });
		stops.push(() => h.stop());

		// Two nodes over the Redis transporter: this one, and a peer that only runs monitor and a noisy service.
		const cluster = { namespace: uniqueName("dash"), transporter: `redis://${base.REDIS_HOST}:${base.REDIS_PORT}` as "Redis" };
		broker = testBroker(base, cluster);
		for (const svc of [IngestService, CrawlerService, InfoService, StopService, ZookeeperService, StatsService, MonitorService, ApiService]) broker.createService(svc);
		const probe = broker.createService({ name: "probe", mixins: [RedisMixin()] }) as unknown as { redis: Redis };
		peer = testBroker(base, { ...cluster, nodeID: uniqueName("peer") });
		peer.createService(MonitorService);
		peer.createService({
			name: "noisy",
			started(this: { logger: ServiceBroker["logger"] }) {
				this.logger.warn(HOSTILE_ERROR, { url: "http://127.0.0.1/<i>x</i>" });
			}
		});
		await broker.start();
		await peer.start();
		redis = probe.redis;
		await eventually(async () => ((await broker.call("ingest.status")) as { consuming: boolean }).consuming, 30000);
		const port = ((broker.getLocalService("api") as unknown as { server: { address(): AddressInfo } }).server.address()).port;
		origin = `http://127.0.0.1:${port}`;
		zk = new ZookeeperSession(base, quietLog);
		expect(await zk.connect(10000)).toBe(true);
		// let the answer consumer of the api service join before anything is fed
		await new Promise(r => setTimeout(r, 2000));

		browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
		page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
		page.on("dialog", d => {
			dialogs.push(`${d.type()}: ${d.message()}`);
			// the stop button asks for confirmation; anything else (an alert) is a failure recorded above
			void (d.type() === "confirm" ? d.accept() : d.dismiss());
		});
		page.on("pageerror", e => void pageErrors.push(e.message));
	}, 120000);

	afterAll(async () => {
		await browser?.close();
		zk?.close();
		await peer?.stop();
		await broker?.stop();
		for (const stop of stops) await stop();
		await kafka?.close();
		await site?.close();
	});

	it("serves the page with a strict CSP, and the state only with a valid API key, filtered by its appids", async () => {
		const res = await request(`${origin}/dashboard`);
		expect(res.statusCode).toBe(200);
		expect(res.headers["content-type"]).toMatch(/text\/html/);
		expect(String(res.headers["content-security-policy"])).toMatch(/script-src 'self'/);
		expect(await res.body.text()).toContain("dashboard.js");
		expect((await request(`${origin}/dashboard/`)).statusCode).toBe(200);
		expect((await request(`${origin}/dashboard/nope.js`)).statusCode).toBe(404);
		expect((await request(`${origin}/dashboard/api/state`, { method: "POST", body: "{}", headers: { "content-type": "application/json" } })).statusCode).toBe(404);
		expect(await state()).toMatchObject({ status: 401, body: { status: "FAILURE", error: { message: expect.stringMatching(/API key/) } } });
		expect((await state("wrong")).status).toBe(401);
		const crawlid = uniqueName("keyed");
		// a spider no crawler runs: the crawl stays queued
		expect((await feed({ url: `${site.origin}/`, appid: "testapp", crawlid, spiderid: "parked" })).status).toBe(200);
		const rows = async (key: string) => ((await state(key)).body.crawls as { rows: Message[] }).rows.map(r => r.crawlid);
		expect(await eventually(async () => (await rows(KEY)).includes(crawlid), 20000)).toBe(true);
		expect(await rows(OTHER_KEY)).not.toContain(crawlid);
		const full = await eventually(async () => {
			const body = (await state(KEY)).body;
			return (body.backlog as { rows: Message[] } | null)?.rows.some(r => r.spiderid === "parked") ? body : null;
		}, 10000);
		expect(full!.backlog).toMatchObject({ rows: expect.arrayContaining([{ spiderid: "parked", domain: "127.0.0.1", backlog: 1, throttle: null }]) });
		expect(full!.zookeeper).toMatchObject({ path: zookeeperDocumentPath(base.ZOOKEEPER_ASSIGN_PATH, base.ZOOKEEPER_ID), blacklist: [], domains: {} });
		expect((full!.crawls as { rows: Message[] }).rows.find(r => r.crawlid === crawlid)).toEqual({
			spiderid: "parked",
			appid: "testapp",
			crawlid,
			total_pending: 1,
			total_domains: 1,
			crawled: 0,
			last_page: null
		});
		expect(full!).toMatchObject({ node: broker.nodeID, nodes: expect.arrayContaining([expect.objectContaining({ id: broker.nodeID, services: expect.arrayContaining(["api", "crawler", "monitor"]) })]) });
	});

	it("names what it cannot gather when services run nowhere", async () => {
		const lone = testBroker(testSettings({ ...base, REST_API_KEYS: null }), { nodeID: uniqueName("lone") });
		lone.createService(ApiService);
		await lone.start();
		try {
			const port = ((lone.getLocalService("api") as unknown as { server: { address(): AddressInfo } }).server.address()).port;
			const res = await request(`http://127.0.0.1:${port}/dashboard/api/state`);
			expect(res.statusCode).toBe(200);
			const lonely = (await res.body.json()) as Message;
			expect(lonely).toMatchObject({ crawls: null, backlog: null, zookeeper: null, crawlers: [], errors: [], throughput: { points: [], crawled_total: 0 } });
			expect(lonely.problems).toEqual(
				expect.arrayContaining([
					"backlog per domain: no node runs the stats service",
					"active crawls: no node runs the info service",
					"domain throttles and blacklist: no node runs the zookeeper service",
					"throughput: no node runs the crawler service"
				])
			);
		} finally {
			await lone.stop();
		}
	});

	it("asks for the API key, shows a crawl in progress, and its stop button stops it", async () => {
		const crawlid = uniqueName("live");
		const expected = site.expectedPages(2).length;
		expect((await feed({ url: `${site.origin}/`, appid: "testapp", crawlid, maxdepth: 2, allowed_domains: ["127.0.0.1"] })).status).toBe(200);

		await page.goto(`${origin}/dashboard`);
		await page.locator("#key-form").waitFor({ state: "visible", timeout: 15000 });
		await page.fill("#key-input", KEY);
		await page.click("#key-form button[type=submit]");

		const row = page.locator(`#crawls tr[data-crawlid="${crawlid}"]`);
		await row.waitFor({ timeout: 30000 });
		await eventually(async () => (await intIn(`#crawls tr[data-crawlid="${crawlid}"] td.pending`)) > 0, 15000);
		expect(await intIn(`#crawls tr[data-crawlid="${crawlid}"] td.pending`)).toBeGreaterThan(0);
		const pagesBefore = await eventually(async () => (await intIn(`#crawls tr[data-crawlid="${crawlid}"] td.pages`)) || 0, 20000);
		expect(pagesBefore).toBeGreaterThan(0);
		const rising = await eventually(async () => (await intIn(`#crawls tr[data-crawlid="${crawlid}"] td.pages`)) > pagesBefore, 20000);
		expect(rising).toBe(true);
		// the chart has points and the crawler's throughput shows
		expect(await page.locator("#throughput-chart polyline").count()).toBe(1);
		expect(await intIn("#crawled-total")).toBeGreaterThan(0);

		// DASHBOARD_SCREENSHOT=<file.png> keeps a picture of the page with the crawl running
		if (process.env.DASHBOARD_SCREENSHOT) await page.screenshot({ path: process.env.DASHBOARD_SCREENSHOT, fullPage: true });
		await row.locator("button.stop").click();
		await page.waitForFunction(() => /"action": "stop"/.test(document.getElementById("answer")?.textContent ?? ""), undefined, { timeout: 20000 });
		const atStop = pagesOf(crawlid).length;
		const answer = JSON.parse((await page.locator("#answer").textContent())!) as { status: string; data: Message };
		expect(answer).toMatchObject({ status: "SUCCESS", data: { action: "stop", appid: "testapp", crawlid, total_purged: expect.any(Number) } });
		expect(answer.data.total_purged as number).toBeGreaterThan(0);
		expect(dialogs.filter(d => d.startsWith("confirm"))).toHaveLength(1);

		// the crawl leaves the list (nothing pending) and no more pages arrive past what was in flight
		await row.waitFor({ state: "detached", timeout: 20000 });
		expect(await redis.exists(pendingKey("link", "testapp", crawlid))).toBe(0);
		await new Promise(r => setTimeout(r, 3000));
		const after = pagesOf(crawlid).length;
		expect(after - atStop).toBeLessThanOrEqual(base.CONCURRENT_REQUESTS + base.CONCURRENT_ITEMS);
		expect(after).toBeLessThan(expected);
		await new Promise(r => setTimeout(r, 2000));
		expect(pagesOf(crawlid).length).toBe(after);
	});

	it("sets a domain throttle and a blacklist entry through the forms, and they land in ZooKeeper", async () => {
		const domain = `${uniqueName("thr")}.example`;
		const path = zookeeperDocumentPath(base.ZOOKEEPER_ASSIGN_PATH, base.ZOOKEEPER_ID);
		const form = page.locator("#domain-form");
		await form.locator("input[name=domain]").fill(domain);
		await form.locator("input[name=window]").fill("30");
		await form.locator("input[name=hits]").fill("7");
		await form.locator("input[name=scale]").fill("0.5");
		await form.locator("button[type=submit]").click();
		await page.waitForFunction(() => /"domain-update"/.test(document.getElementById("zk-answer")?.textContent ?? ""), undefined, { timeout: 20000 });
		const stored = parseDomainConfig((await zk.getData(path)).data?.toString("utf8") ?? null);
		expect(stored.domains[domain]).toEqual({ window: 30, hits: 7, scale: 0.5 });
		// the table shows what ZooKeeper holds
		const zkRow = page.locator(`#zk-domains tr[data-domain="${domain}"]`);
		await zkRow.waitFor({ timeout: 15000 });
		expect((await zkRow.locator("td").allTextContents()).slice(0, 4)).toEqual([domain, "30", "7", "0.5"]);

		const bad = `${uniqueName("bad")}.example`;
		await page.locator("#blacklist-form input[name=domain]").fill(bad);
		await page.locator("#blacklist-form button[type=submit]").click();
		await page.locator(`#zk-blacklist li[data-domain="${bad}"]`).waitFor({ timeout: 20000 });
		expect(parseDomainConfig((await zk.getData(path)).data!.toString("utf8")).blacklist).toContain(bad);
		// and removed again with its button
		await page.locator(`#zk-blacklist li[data-domain="${bad}"] button`).click();
		await page.locator(`#zk-blacklist li[data-domain="${bad}"]`).waitFor({ state: "detached", timeout: 20000 });
		expect(parseDomainConfig((await zk.getData(path)).data!.toString("utf8")).blacklist).not.toContain(bad);
	});

	it("gathers every node: a second node, its services and its recent warnings, shown as text", async () => {
		const peerRow = page.locator("#nodes tbody tr", { hasText: peer.nodeID });
		await peerRow.waitFor({ timeout: 20000 });
		expect(await peerRow.locator("td").last().textContent()).toBe("monitor, noisy");
		const errorCell = page.locator("#errors td", { hasText: HOSTILE_ERROR });
		await errorCell.first().waitFor({ timeout: 20000 });
		expect(await errorCell.first().textContent()).toBe(`${HOSTILE_ERROR} {"url":"http://127.0.0.1/<i>x</i>"}`);
		expect(await page.locator("#errors tbody tr", { hasText: HOSTILE_ERROR }).locator("td").nth(1).textContent()).toBe(peer.nodeID);
		expect(await page.locator("#errors script, #errors b, #errors i").count()).toBe(0);
	});

	it("shows a hostile crawl id as text", async () => {
		// a spider no crawler runs: the crawl stays listed
		expect((await feed({ url: `${site.origin}/hostile`, appid: "testapp", crawlid: HOSTILE, spiderid: "parked" })).status).toBe(200);
		const cellWith = page.locator("#crawls td.crawlid", { hasText: HOSTILE });
		await cellWith.first().waitFor({ timeout: 20000 });
		expect(await cellWith.first().textContent()).toBe(HOSTILE);
		expect(await page.locator("#crawls img").count()).toBe(0);
		// its info button sends an info request and shows the answer, as text too
		await page.locator("#crawls tbody tr", { hasText: HOSTILE }).first().locator("button.info").click();
		await page.waitForFunction(() => /"total_pending": 1/.test(document.getElementById("answer")?.textContent ?? ""), undefined, { timeout: 20000 });
		const info = JSON.parse((await page.locator("#answer").textContent())!) as { data: Message };
		expect(info.data).toMatchObject({ appid: "testapp", crawlid: HOSTILE, spiderid: "parked", total_pending: 1 });
		expect(await page.locator("img").count()).toBe(0);
		expect(dialogs.filter(d => d.startsWith("alert"))).toEqual([]);
		expect(pageErrors).toEqual([]);
	});
});
