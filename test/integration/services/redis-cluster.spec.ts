/**
 * The cluster on a real Redis Cluster (REDIS_CLUSTER=true): three masters started by
 * scripts/redis-cluster.sh, two crawler nodes, ingest, info, stop, expire and stats, Kafka and ZooKeeper
 * from the shared stack, and a loopback site. Proves the frontier scripts run there (a cross-slot key
 * would fail them with CROSSSLOT), that every page arrives once, that info/stop/expire/stats answer,
 * and that the keyspace really is spread over the masters.
 */
import { Redis } from "ioredis";
import type { ServiceBroker } from "moleculer";
import type { Settings } from "../../../config/index.ts";
import { KafkaClient } from "../../../lib/kafka/client.ts";
import CrawlerService from "../../../services/crawler.service.ts";
import ExpireService from "../../../services/expire.service.ts";
import InfoService from "../../../services/info.service.ts";
import IngestService from "../../../services/ingest.service.ts";
import StatsService from "../../../services/stats.service.ts";
import StopService from "../../../services/stop.service.ts";
import { collectTopics, eventually, feedTo, prefixedSettings, testBroker, uniqueName } from "../../support/cluster.ts";
import { hashSlot } from "../../support/hash-slot.ts";
import { startRedisCluster, type TestRedisCluster } from "../../support/redis-cluster.ts";
import { startSite, type TestSite } from "../../support/site.ts";

const quietLog = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined };
type Message = Record<string, unknown>;

describe("on a Redis Cluster (three masters)", () => {
	let cluster: TestRedisCluster;
	let base: Settings;
	let brokers: ServiceBroker[] = [];
	let kafka: KafkaClient;
	let site: TestSite;
	const pages: Message[] = [];
	const answers: Message[] = [];
	const stops: Array<() => Promise<void>> = [];

	const feed = (...requests: object[]) => feedTo(kafka, base, ...requests);
	const answer = (uuid: string) => eventually(() => answers.find(a => a.uuid === uuid), 20000);

	beforeAll(async () => {
		cluster = await startRedisCluster();
		site = await startSite({ fanout: 4, depth: 2 });
		const prefix = uniqueName("rc").replace(/-/g, "_");
		base = prefixedSettings(prefix, {
			...cluster.settings,
			KAFKA_PRODUCER_BATCH_LINGER_MS: 5,
			ZOOKEEPER_ASSIGN_PATH: `/it-rc-${prefix}/crawler/`,
			SPIDERS: ["link"],
			QUEUE_HITS: 50,
			QUEUE_WINDOW: 1,
			SCHEDULER_QUEUE_REFRESH: 1
		});
		kafka = new KafkaClient(base, "it-redis-cluster", quietLog);
		stops.push(await collectTopics(kafka, { [`${prefix}.crawled_firehose`]: pages, [`${prefix}.outbound_firehose`]: answers }));
		const front = testBroker(base);
		for (const svc of [IngestService, CrawlerService, InfoService, StopService, ExpireService, StatsService]) front.createService(svc);
		const second = testBroker(base);
		second.createService(CrawlerService);
		brokers = [front, second];
		await Promise.all(brokers.map(b => b.start()));
		await eventually(async () => ((await front.call("ingest.status")) as { consuming: boolean }).consuming, 30000);
	}, 120000);

	afterAll(async () => {
		await Promise.all(brokers.map(b => b.stop()));
		for (const stop of stops) await stop();
		await kafka?.close();
		await site?.close();
		await cluster?.destroy();
	});

	it("crawls a site with two crawler nodes: every page once", async () => {
		const crawlid = uniqueName("crawl");
		const expected = site.expectedPages(2);
		await feed({ url: `${site.origin}/`, appid: "testapp", crawlid, maxdepth: 2, allowed_domains: ["127.0.0.1"] });
		const mine = () => pages.filter(p => p.crawlid === crawlid);
		await eventually(() => mine().length >= expected.length, 60000);
		await new Promise(r => setTimeout(r, 1000));
		const urls = mine().map(p => String(p.url));
		console.log(`Redis Cluster crawl: ${expected.length} pages expected, ${urls.length} delivered, ${urls.length - new Set(urls).size} duplicated`);
		expect([...new Set(urls)].sort()).toEqual([...expected].sort());
		expect(urls).toHaveLength(expected.length);
	});

	it("info, stats and stop answer for a queued crawl; expire ends another", async () => {
		// spider "parked" has no crawler here, so its requests stay queued
		const crawlid = uniqueName("parked");
		await feed(
			{ url: `${site.origin}/a`, appid: "rcapp", crawlid, spiderid: "parked", maxdepth: 1 },
			{ url: "http://example.com/b", appid: "rcapp", crawlid, spiderid: "parked", maxdepth: 1, priority: 3 }
		);
		// ingest queues them asynchronously: ask until both are counted
		let info: Message | undefined;
		for (let probe = 0; probe < 20 && info?.total_pending !== 2; probe++) {
			await feed({ action: "info", appid: "rcapp", crawlid, spiderid: "parked", uuid: `${crawlid}-info-${probe}` });
			info = await answer(`${crawlid}-info-${probe}`);
		}
		expect(info).toMatchObject({ total_pending: 2, total_domains: 2, spiderid: "parked", appid: "rcapp" });

		// the dashboard's list of active crawls reads the pending index of every master
		const active = (await brokers[0]!.call("info.crawls")) as { crawls: Array<Record<string, unknown>> };
		expect(active.crawls.find(c => c.crawlid === crawlid)).toMatchObject({ spiderid: "parked", appid: "rcapp", total_pending: 2, total_domains: 2 });

		await feed({ stats: "queue", appid: "rcapp", uuid: `${crawlid}-stats` });
		const stats = (await answer(`${crawlid}-stats`)) as { queues?: Record<string, { spider_backlog: number; num_domains: number }> };
		expect(stats?.queues?.queue_parked).toMatchObject({ spider_backlog: 2, num_domains: 2 });

		await feed({ action: "stop", appid: "rcapp", crawlid, spiderid: "parked", uuid: `${crawlid}-stop` });
		expect(await answer(`${crawlid}-stop`)).toMatchObject({ action: "stop", total_purged: 2 });
		await feed({ action: "info", appid: "rcapp", crawlid, spiderid: "parked", uuid: `${crawlid}-after` });
		expect(await answer(`${crawlid}-after`)).toMatchObject({ total_pending: 0 });

		const expiring = uniqueName("expiring");
		await feed({ url: `${site.origin}/x`, appid: "rcapp", crawlid: expiring, spiderid: "parked", maxdepth: 1, expires: Math.floor(Date.now() / 1000) + 2 });
		const expired = await eventually(() => answers.find(a => a.action === "expired" && a.crawlid === expiring), 30000);
		expect(expired).toMatchObject({ action: "expired", spiderid: "parked", total_expired: 1 });
	});

	it("spreads the keyspace over the masters, each spider's frontier in one slot", async () => {
		const perMaster: Array<{ port: number; keys: string[] }> = [];
		for (const port of cluster.ports) {
			const node = new Redis({ host: "127.0.0.1", port, lazyConnect: true });
			await node.connect();
			perMaster.push({ port, keys: await node.keys("*") });
			await node.quit();
		}
		const counts = perMaster.map(m => `${m.port}: ${m.keys.length}`).join(", ");
		console.log(`keys per master: ${counts}`);
		expect(perMaster.filter(m => m.keys.length > 0).length).toBeGreaterThanOrEqual(2);
		const linkKeys = perMaster.flatMap(m => m.keys.filter(k => k.startsWith("{link}") || k.startsWith("timeout:{link}")));
		expect(linkKeys.length).toBeGreaterThan(0);
		expect(new Set(linkKeys.map(hashSlot)).size).toBe(1);
	});
});
