/**
 * stop and expire during a running crawl: the crawl ends past what is in flight, the answer counts what
 * was purged, and info agrees. Real crawler, Kafka, Redis, ZooKeeper and a loopback site.
 */
import type { ServiceBroker } from "moleculer";
import type { Settings } from "../../../config/index.ts";
import { KafkaClient } from "../../../lib/kafka/client.ts";
import CrawlerService from "../../../services/crawler.service.ts";
import ExpireService from "../../../services/expire.service.ts";
import InfoService from "../../../services/info.service.ts";
import IngestService from "../../../services/ingest.service.ts";
import StopService from "../../../services/stop.service.ts";
import { collectTopics, CRAWL_TEST_DBS, eventually, feedTo, prefixedSettings, testBroker, uniqueName } from "../../support/cluster.ts";
import { startSite, type TestSite } from "../../support/site.ts";

const quietLog = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined };
type Message = Record<string, unknown>;

describe("stop and expire during a running crawl", () => {
	let base: Settings;
	let broker: ServiceBroker;
	let kafka: KafkaClient;
	let site: TestSite;
	const pages: Message[] = [];
	const answers: Message[] = [];
	const stops: Array<() => Promise<void>> = [];

	const feed = (...requests: object[]) => feedTo(kafka, base, ...requests);
	const pagesOf = (crawlid: string) => pages.filter(p => p.crawlid === crawlid);

	beforeAll(async () => {
		site = await startSite({ fanout: 5, depth: 2 });
		const prefix = uniqueName("run").replace(/-/g, "_");
		base = prefixedSettings(prefix, {
			REDIS_DB: CRAWL_TEST_DBS.runningCrawl,
			KAFKA_PRODUCER_BATCH_LINGER_MS: 5,
			ZOOKEEPER_ASSIGN_PATH: `/it-run-${prefix}/crawler/`,
			// 4 pages a second: a 31-page crawl runs for several seconds
			QUEUE_HITS: 4,
			QUEUE_WINDOW: 1,
			QUEUE_MODERATED: true,
			CONCURRENT_REQUESTS: 2,
			CONCURRENT_ITEMS: 2,
			SCHEDULER_QUEUE_REFRESH: 1
		});
		kafka = new KafkaClient(base, "it-running", quietLog);
		stops.push(await collectTopics(kafka, { [`${prefix}.crawled_firehose`]: pages, [`${prefix}.outbound_firehose`]: answers }));
		broker = testBroker(base);
		for (const svc of [IngestService, CrawlerService, InfoService, StopService, ExpireService]) broker.createService(svc);
		await broker.start();
		await eventually(async () => ((await broker.call("ingest.status")) as { consuming: boolean }).consuming, 30000);
	});

	afterAll(async () => {
		await broker.stop();
		for (const stop of stops) await stop();
		await kafka.close();
		await site.close();
	});

	it("stop ends a running crawl: pending requests purged, nothing crawled past what was in flight", async () => {
		const crawlid = uniqueName("stopme");
		const expected = site.expectedPages(2).length;
		await feed({ url: `${site.origin}/`, appid: "testapp", crawlid, maxdepth: 2, allowed_domains: ["127.0.0.1"] });
		await eventually(() => pagesOf(crawlid).length >= 5, 30000);
		await feed({ action: "stop", appid: "testapp", crawlid, uuid: `${crawlid}-stop`, spiderid: "link" });
		const answer = await eventually(() => answers.find(a => a.uuid === `${crawlid}-stop`), 20000);
		const atStop = pagesOf(crawlid).length;
		expect(answer).toMatchObject({ action: "stop", crawlid, total_purged: expect.any(Number) });
		expect(answer!.total_purged as number).toBeGreaterThan(0);
		await new Promise(r => setTimeout(r, 3000));
		const after = pagesOf(crawlid).length;
		console.log(`stop during a crawl: ${atStop} pages when answered, ${after} in the end of ${expected}; ${String(answer!.total_purged)} purged`);
		// only what was in flight (fetches, and fetched pages being published) may still arrive
		expect(after - atStop).toBeLessThanOrEqual(base.CONCURRENT_REQUESTS + base.CONCURRENT_ITEMS);
		expect(after).toBeLessThan(expected);
		await feed({ action: "info", appid: "testapp", crawlid, uuid: `${crawlid}-info`, spiderid: "link" });
		expect(await eventually(() => answers.find(a => a.uuid === `${crawlid}-info`), 20000)).toMatchObject({ total_pending: 0 });
	});

	it("expire ends a running crawl once its time passes and says so once", async () => {
		const crawlid = uniqueName("expireme");
		const expected = site.expectedPages(2).length;
		await feed({ url: `${site.origin}/`, appid: "testapp", crawlid, maxdepth: 2, allowed_domains: ["127.0.0.1"], expires: Math.floor(Date.now() / 1000) + 3 });
		const expired = await eventually(() => answers.find(a => a.action === "expired" && a.crawlid === crawlid), 30000);
		const atExpiry = pagesOf(crawlid).length;
		expect(expired).toMatchObject({ action: "expired", crawlid, appid: "testapp", spiderid: "link", total_expired: expect.any(Number) });
		await new Promise(r => setTimeout(r, 3000));
		const after = pagesOf(crawlid).length;
		console.log(`expire during a crawl: ${atExpiry} pages when expired, ${after} in the end of ${expected}; ${String(expired!.total_expired)} purged`);
		expect(atExpiry).toBeGreaterThan(0);
		expect(after - atExpiry).toBeLessThanOrEqual(base.CONCURRENT_REQUESTS + base.CONCURRENT_ITEMS);
		expect(after).toBeLessThan(expected);
		expect(answers.filter(a => a.action === "expired" && a.crawlid === crawlid)).toHaveLength(1);
	});
});
