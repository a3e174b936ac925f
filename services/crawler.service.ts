/**
 * crawler: pulls requests from the Redis domain queues of the spider types it runs (SPIDERS), under the
 * cluster-wide per-domain throttle, fetches them (undici), lets the spider parse them (htmlparser2), queues
 * the links it yields and publishes every page to <KAFKA_TOPIC_PREFIX>.crawled_firehose. A popped request
 * is leased: it is acknowledged only after Kafka accepted its page, and returns to its queue if this node
 * dies. Domain throttles and blacklist come live from ZooKeeper.
 */
import { hostname } from "node:os";
import type { Context, ServiceSchema, ServiceSettingSchema } from "moleculer";
import { settingsOf } from "../config/broker.ts";
import type { Settings } from "../config/index.ts";
import { requestFingerprint } from "../lib/crawl/canonical.ts";
import { CRAWL_COUNTS_CAPACITY, CrawlCounts } from "../lib/crawl/crawl-counts.ts";
import { diffDomainConfig, domainThrottle, EMPTY_DOMAIN_CONFIG, isBlacklisted, parseDomainConfig, type DomainConfig } from "../lib/crawl/domain-config.ts";
import { decodeBody, extractLinks } from "../lib/crawl/extract.ts";
import { Fetcher, type FetchResult } from "../lib/crawl/fetch.ts";
import { linkFilterFor } from "../lib/crawl/link-filter.ts";
import { lookupPublicIp } from "../lib/crawl/public-ip.ts";
import { freeSlots, shareSlots } from "../lib/crawl/slots.ts";
import { fitRecord, pageRecord } from "../lib/crawl/record.ts";
import { RobotsCache } from "../lib/crawl/robots-cache.ts";
import { SPIDERS } from "../lib/crawl/spiders/index.ts";
import type { Spider } from "../lib/crawl/spiders/spider.ts";
import { isRetryable } from "../lib/errors.ts";
import { ClusterMetrics, type BacklogEntry } from "../lib/metrics/index.ts";
import { crawlDump, queueDump } from "../lib/stats/dump.ts";
import { Frontier, priorityTierEnd, type EnqueueItem, type FrontierRequest, type Popped, type ThrottleSpec } from "../lib/frontier/frontier.ts";
import { dupefilterKey, parseQueueKey, registeredDomain, throttleKey } from "../lib/frontier/keys.ts";
import { batch, closeRedis, type RedisClient } from "../lib/redis/client.ts";
import { KafkaMixin, type KafkaMixinThis } from "../mixins/kafka.mixin.ts";
import { RedisMixin, type RedisMixinThis } from "../mixins/redis.mixin.ts";
import { StatsMixin, type StatsMixinThis } from "../mixins/stats.mixin.ts";
import { ZookeeperMixin, type ZookeeperMixinThis } from "../mixins/zookeeper.mixin.ts";

/** This machine's name, in the status-code stats keys (as the original's `<host>:<spider>:<code>`). */
const HOST = hostname();
/** Statuses retried like Scrapy's RETRY_HTTP_CODES. */
export const RETRY_HTTP_CODES = new Set([500, 502, 503, 504, 522, 524, 408]);
/** Seconds an empty domain queue waits before it is looked at again. */
const EMPTY_RECHECK_S = 0.5;
/** Longest idle sleep of the scheduler, in ms. */
const MAX_IDLE_MS = 250;
/** Seconds between returns of expired leases. */
const REAP_EVERY_S = 5;

interface DomainQueue {
	key: string;
	spiderid: string;
	domain: string;
	/** Unix seconds before which this queue is not tried (throttle or empty). */
	nextAt: number;
	/**
	 * Score of its best request as the last look or pop left it; undefined: not known, read with heads() on
	 * the next pass. A known score is forgotten when a writer announces new requests for the queue and at
	 * every queue refresh, so other processes' pops and writes are seen within SCHEDULER_QUEUE_REFRESH.
	 * null: found empty, looked at again after EMPTY_RECHECK_S, or at once when a writer announces requests.
	 */
	head?: number | null;
	/** Unix seconds of the last successful pop (SCHEDULER_QUEUE_TIMEOUT drops idle queues from memory). */
	lastUsed: number;
}

interface CrawlerState {
	spiders: Spider[];
	frontier: Frontier;
	fetcher: Fetcher;
	robots: RobotsCache;
	queues: Map<string, DomainQueue>;
	config: DomainConfig;
	crawlDelays: Map<string, number>;
	ip: string | null;
	inFlight: Set<Promise<void>>;
	/** Requests of inFlight still being fetched (the rest are pages being published; lib/crawl/slots.ts). */
	fetching: number;
	/** Lease of each crawl in flight, returned to its queue at once if the crawl does not finish before stop. */
	leases: Map<Promise<void>, { spiderid: string; lease: string }>;
	stopping: boolean;
	loop: Promise<void> | null;
	timers: NodeJS.Timeout[];
	wake: (() => void) | null;
	/** Connection subscribed to the frontier's announcements of queues that received requests. */
	subscriber: RedisClient | null;
	counts: { crawled: number; retried: number; failed: number; robotsDenied: number; queued: number; dropped: number; throttled: number };
	/** Pages published since start, by status code. */
	byStatus: Record<string, number>;
	/** Pages crawled per crawl since start (bounded), for crawler.status and the dashboard. */
	crawls: CrawlCounts;
	stopWatch: (() => void) | null;
	metrics: ClusterMetrics;
	/** Backlog of every registered queue of this node's spiders, from the last queue refresh (ZCARD, pipelined). */
	backlog: { entries: BacklogEntry[]; at: number };
}

/** Commands per pipeline when reading queue backlogs. */
const BACKLOG_PIPELINE = 1000;

type CrawlerVars = KafkaMixinThis & RedisMixinThis & StatsMixinThis & ZookeeperMixinThis & { crawler: CrawlerState };

interface CrawlerMethods {
	refreshQueues(): Promise<void>;
	refreshIp(): Promise<void>;
	schedule(): Promise<void>;
	tryPop(now: number): Promise<boolean>;
	startCrawl(popped: Popped): void;
	crawl(request: FrontierRequest, lease: string, fetched: () => void): Promise<void>;
	handleResult(request: FrontierRequest, result: FetchResult, spider: Spider): Promise<void>;
	retryOrGiveUp(request: FrontierRequest, reason: string, status: number | null): Promise<boolean>;
	enqueueRequests(requests: FrontierRequest[], parent: FrontierRequest): Promise<void>;
	throttleFor(queue: DomainQueue): { key: string; window: number; limit: number; moderated: boolean };
	settingsNow(): Settings;
	registerQueue(spiderid: string, domain: string): void;
	queuesAnnounced(message: string): void;
	readBacklog(keysBySpider: Map<string, string[]>): Promise<void>;
	statsDumpExtra(): Promise<Record<string, unknown>>;
	giveUp(request: FrontierRequest): void;
	freeSlots(): number;
}

const sleep = (ms: number) => new Promise<void>(resolve => setTimeout(resolve, ms).unref());
/** Seconds until a queue is tried again (throttle or empty), to the millisecond. */
const waitingSeconds = (q: DomainQueue, now: number): number => Math.max(0, Number((q.nextAt - now).toFixed(3)));

const CrawlerService: ServiceSchema<ServiceSettingSchema, CrawlerMethods, CrawlerVars> = {
	name: "crawler",
	mixins: [
		StatsMixin({
			component: "crawler",
			heartbeatKeys: (host, id, settings) => settings.SPIDERS.map(spider => `stats:crawler:${host}:${spider}:${id}`)
		}),
		ZookeeperMixin(),
		KafkaMixin(),
		RedisMixin()
	],

	actions: {
		/**
		 * What this crawler node is doing: queues it knows, throttle state, counts since start, and the pages
		 * of its `crawls` (default 20, up to 1000) most recently crawled crawls.
		 */
		status: {
			params: { crawls: { type: "number", integer: true, min: 0, max: CRAWL_COUNTS_CAPACITY, optional: true, convert: true } },
			handler(ctx: Context<{ crawls?: number }>) {
				const now = Date.now() / 1000;
				const c = this.crawler;
				return {
					node: this.broker.nodeID,
					spiders: c.spiders.map(s => s.name),
					in_flight: c.inFlight.size,
					fetching: c.fetching,
					public_ip: c.ip,
					counts: c.counts,
					status_codes: c.byStatus,
					backlog: queueDump(c.backlog.entries),
					backlog_at: c.backlog.at,
					crawls: c.crawls.list().slice(0, ctx.params.crawls ?? 20),
					blacklist: c.config.blacklist,
					domains: Object.keys(c.config.domains),
					queues: [...c.queues.values()].map(q => ({ queue: q.key, waiting_s: waitingSeconds(q, now), throttle: this.throttleFor(q) }))
				};
			}
		}
	},

	methods: {
		settingsNow() {
			return settingsOf(this.broker);
		},

		/** A queue this node just wrote to is known at once (others learn it within SCHEDULER_QUEUE_REFRESH). */
		registerQueue(spiderid, domain) {
			const key = this.crawler.frontier.queueKey(spiderid, domain);
			if (!this.crawler.spiders.some(sp => sp.name === spiderid) || this.crawler.queues.has(key)) return;
			this.crawler.queues.set(key, { key, spiderid, domain, nextAt: 0, lastUsed: Date.now() / 1000 });
			this.crawler.wake?.();
		},

		/** Queues announced by a writer (frontier.announce): known empty ones are tried now, new ones registered. */
		queuesAnnounced(message) {
			const c = this.crawler;
			let woke = false;
			for (const key of message.split("\n")) {
				const parsed = parseQueueKey(key);
				if (!parsed || !c.spiders.some(sp => sp.name === parsed.spiderid)) continue;
				const q = c.queues.get(key);
				if (!q) {
					this.registerQueue(parsed.spiderid, parsed.domain);
					continue;
				}
				if (q.head === null) {
					q.nextAt = 0;
					woke = true;
				}
				q.head = undefined;
			}
			if (woke) c.wake?.();
		},

		throttleFor(queue) {
			const s = this.settingsNow();
			const t = domainThrottle(queue.domain, this.crawler.config, s, this.crawler.crawlDelays.get(queue.domain) ?? null);
			const key = throttleKey(queue.domain, { spiderid: s.SCHEDULER_TYPE_ENABLED ? this.crawler.frontier.spiderPart(queue.spiderid) : null, ip: s.SCHEDULER_IP_ENABLED ? this.crawler.ip : null });
			return { key, ...t };
		},

		async refreshQueues() {
			const c = this.crawler;
			const s = this.settingsNow();
			const now = Date.now() / 1000;
			const keysBySpider = new Map<string, string[]>();
			// Heads learnt from pops may have changed by other processes' pops and writes: read them again.
			for (const q of c.queues.values()) if (q.head !== null) q.head = undefined;
			for (const spider of c.spiders) {
				const keys = await c.frontier.queueKeys(spider.name);
				keysBySpider.set(spider.name, keys);
				for (const key of keys) {
					if (c.queues.has(key)) continue;
					const parsed = parseQueueKey(key);
					if (parsed) c.queues.set(key, { key, spiderid: parsed.spiderid, domain: parsed.domain, nextAt: 0, lastUsed: now });
				}
			}
			// Forget queues unused for SCHEDULER_QUEUE_TIMEOUT (the registry in Redis still knows them).
			for (const [key, q] of c.queues) {
				if (now - q.lastUsed > s.SCHEDULER_QUEUE_TIMEOUT) {
					c.queues.delete(key);
					await c.frontier.forgetIfEmpty(q.spiderid, key);
				}
			}
			c.wake?.();
			await this.readBacklog(keysBySpider);
		},

		/** Backlog of the registered queues (one batched ZCARD per queue), for the gauges, the dump and crawler.status. */
		async readBacklog(keysBySpider) {
			const c = this.crawler;
			const all = [...keysBySpider.values()].flat();
			const sizes: number[] = [];
			for (let i = 0; i < all.length; i += BACKLOG_PIPELINE) {
				// batch(): the queues of several spiders are in several slots on a Redis Cluster
				for (const [err, n] of await batch(this.redis, all.slice(i, i + BACKLOG_PIPELINE).map(key => ["zcard", key]))) sizes.push(err ? 0 : Number(n));
			}
			const entries: BacklogEntry[] = [];
			all.forEach((key, i) => {
				const parsed = parseQueueKey(key);
				if (parsed) entries.push({ spider: parsed.spiderid, domain: parsed.domain, backlog: sizes[i] ?? 0 });
			});
			c.backlog = { entries, at: Date.now() / 1000 };
			c.metrics.backlog(entries, c.spiders.map(sp => sp.name));
		},

		/** STATS_DUMP_CRAWL / STATS_DUMP_QUEUE parts of this crawler's periodic stats dump. */
		async statsDumpExtra() {
			const c = this.crawler;
			const s = this.settingsNow();
			const out: Record<string, unknown> = {};
			if (s.STATS_DUMP_CRAWL) {
				const now = Date.now() / 1000;
				const throttled = [...c.queues.values()].map(q => {
					const t = this.throttleFor(q);
					return { queue: q.key, waiting_s: waitingSeconds(q, now), limit: t.limit, window: t.window };
				});
				out.crawl = crawlDump({ ...c.counts, in_flight: c.inFlight.size }, c.byStatus, throttled);
			}
			if (s.STATS_DUMP_QUEUE) out.queue = queueDump(c.backlog.entries);
			return out;
		},

		/** Requests the scheduler may start now (CONCURRENT_REQUESTS fetches, CONCURRENT_ITEMS pages being finished). */
		freeSlots() {
			const s = this.settingsNow();
			return freeSlots({ fetching: this.crawler.fetching, inFlight: this.crawler.inFlight.size }, s.CONCURRENT_REQUESTS, s.CONCURRENT_ITEMS);
		},

		giveUp(request) {
			this.crawler.counts.failed++;
			this.crawler.metrics.increment("sc_crawl_given_up_total", { spider: request.spiderid });
		},

		async refreshIp() {
			const s = this.settingsNow();
			if (!s.SCHEDULER_IP_ENABLED) return;
			const { ip, error } = await lookupPublicIp(s.PUBLIC_IP_URL, s.IP_ADDR_REGEX);
			if (error) this.logger.warn("Could not reach out to get public ip, throttling as 127.0.0.1; check PUBLIC_IP_URL", { url: s.PUBLIC_IP_URL, error });
			if (ip !== this.crawler.ip) this.logger.info("Public IP for throttling", { ip });
			this.crawler.ip = ip;
		},

		async schedule() {
			const c = this.crawler;
			// Sleep until `ms` pass or something wakes the loop (a slot freed, a queue announced, a config change).
			const idle = async (ms: number) => {
				await new Promise<void>(resolve => {
					c.wake = resolve;
					setTimeout(resolve, ms).unref();
				});
				c.wake = null;
			};
			while (!c.stopping) {
				if (this.freeSlots() <= 0) {
					// A fetch ending or a page finished wakes the loop (startCrawl).
					await idle(MAX_IDLE_MS);
					continue;
				}
				let popped = false;
				try {
					// While Redis is away, ask nothing: a pop queued until it returns would carry a stale time.
					if (this.redis.status === "ready") popped = await this.tryPop(Date.now() / 1000);
				} catch (err) {
					this.logger.warn("Scheduling failed, retrying", { error: (err as Error).message });
					await sleep(500);
				}
				if (!popped && !c.stopping) {
					const now = Date.now() / 1000;
					let next = Infinity;
					for (const q of c.queues.values()) next = Math.min(next, q.nextAt);
					await idle(Math.max(5, Math.min(MAX_IDLE_MS, (next - now) * 1000)));
				}
			}
		},

		/** Pop one request: among the queues allowed now, the one whose best request has the highest priority. */
		async tryPop(now) {
			const c = this.crawler;
			const s = this.settingsNow();
			const ready = [...c.queues.values()].filter(q => q.nextAt <= now && !isBlacklisted(q.domain, c.config));
			if (!ready.length) return false;
			// Heads are read only for queues whose best request this process does not know (pops tell it).
			const unknown = ready.filter(q => q.head === undefined || q.head === null);
			const heads = await c.frontier.heads(unknown.map(q => q.key));
			unknown.forEach((q, i) => (q.head = heads[i]?.score ?? null));
			const candidates: Array<{ q: DomainQueue; score: number }> = [];
			ready.forEach(q => {
				if (q.head !== null && q.head !== undefined) candidates.push({ q, score: q.head });
				else q.nextAt = now + EMPTY_RECHECK_S;
			});
			candidates.sort((a, b) => a.score - b.score);
			// Strict priority across domains, as one pop at a time would give: this pass takes only requests of
			// the best priority any queue has (links are 10 below their page, so a crawl goes level by level);
			// queues whose best request is of a lower priority wait for a later pass.
			const below = candidates.length ? priorityTierEnd(candidates[0]!.score) : null;
			const tier = candidates.filter(cand => below === null || cand.score < below);
			const free = this.freeSlots();
			if (free <= 0) return false;
			const open: Array<{ q: DomainQueue; throttle: ThrottleSpec }> = [];
			for (const { q } of tier) {
				const throttle = this.throttleFor(q);
				if (throttle.limit > 0) open.push({ q, throttle });
				else q.nextAt = now + 1;
			}
			// The free slots are shared by the tier's queues, best first (they get the remainder), so one domain
			// does not take them all; every queue's share is popped at once, one script call each (a pass takes
			// one round trip, not one per queue). Slots a queue leaves unused go to the next pass, at once.
			// The time of the pop itself, not of the pass: heads() may have waited for Redis to come back, and a
			// stale time would date the throttle hit and the lease in the past (the lease reaped at once: a duplicate).
			const picks = shareSlots(free, open.length).map((share, i) => ({ ...open[i]!, share }));
			const results = await Promise.all(picks.map(({ q, throttle, share }) => c.frontier.popMany(q.spiderid, q.domain, throttle, s.REQUEST_LEASE_TIMEOUT, share, Date.now() / 1000, below)));
			let started = 0;
			picks.forEach(({ q }, i) => {
				const r = results[i]!;
				q.head = r.kind === "empty" ? null : r.head;
				if (r.kind === "throttled") {
					q.nextAt = r.retryAt;
					c.counts.throttled++;
					c.metrics.throttled(q.spiderid, r.retryAt - now);
				} else if (r.kind === "popped") {
					q.lastUsed = now;
					for (const popped of r.items) this.startCrawl(popped);
					started += r.items.length;
				}
				// Found empty, or emptied by this pop: looked at again later (or when requests are announced).
				if (q.head === null) q.nextAt = now + EMPTY_RECHECK_S;
			});
			return started > 0;
		},

		/** Crawl a popped request in the background, in flight until it ends (its lease kept for stop). */
		startCrawl({ request, lease }) {
			const c = this.crawler;
			c.fetching++;
			let fetching = true;
			const fetched = () => {
				if (!fetching) return;
				fetching = false;
				c.fetching--;
				c.wake?.();
			};
			const task = this.crawl(request, lease, fetched).catch(async (err: Error) => {
				if (isRetryable(err)) {
					// Redis or Kafka away: the lease stays, the request returns to its queue after REQUEST_LEASE_TIMEOUT.
					this.logger.warn("Crawl interrupted; the request returns to its queue when its lease expires", { url: request.url, error: err.message });
					return;
				}
				// Anything else would fail again: give the request up instead of looping on it.
				this.giveUp(request);
				this.logger.error("Crawl failed, request given up", { url: request.url, crawlid: request.crawlid, error: err.message });
				await c.frontier.ack(request.spiderid, lease).catch(() => undefined);
			});
			c.inFlight.add(task);
			c.leases.set(task, { spiderid: request.spiderid, lease });
			void task.finally(() => {
				fetched();
				c.inFlight.delete(task);
				c.leases.delete(task);
				c.wake?.();
			});
		},

		/** Fetch, publish and follow one request; `fetched` is called once its fetch slot is free again. */
		async crawl(request, lease, fetched) {
			const c = this.crawler;
			const s = this.settingsNow();
			const spider = SPIDERS.get(request.spiderid) ?? SPIDERS.get("link")!;
			const now = Date.now() / 1000;
			if (request.expires && now > request.expires) {
				this.logger.debug("Dropped expired request", { url: request.url, crawlid: request.crawlid });
				c.counts.dropped++;
				await c.frontier.ack(request.spiderid, lease);
				return;
			}
			if (s.ROBOTSTXT_OBEY) {
				const rules = await c.robots.rulesFor(request.url);
				const domain = registeredDomain(request.url);
				if (domain && rules.crawlDelay !== null && c.crawlDelays.get(domain) !== rules.crawlDelay) {
					c.crawlDelays.set(domain, rules.crawlDelay);
					this.logger.info("Domain throttled by robots.txt Crawl-delay", { domain, crawl_delay: rules.crawlDelay });
				}
				if (!rules.isAllowed(request.url)) {
					this.logger.debug("Forbidden by robots.txt", { url: request.url, crawlid: request.crawlid });
					c.counts.robotsDenied++;
					await c.frontier.ack(request.spiderid, lease);
					return;
				}
			}
			// Seeds enter the duplicate filter when crawled, so links back to them are not fetched again.
			if ((request.curdepth ?? 0) === 0 && !request.retry_times) {
				const key = dupefilterKey(c.frontier.spiderPart(request.spiderid), request.crawlid);
				await this.redis.multi().sadd(key, requestFingerprint("GET", request.url)).expire(key, s.DUPEFILTER_TIMEOUT).exec();
			}
			let result: FetchResult;
			const fetchStarted = performance.now();
			try {
				try {
					result = await c.fetcher.fetch({
						url: request.url,
						headers: request.useragent ? { "User-Agent": request.useragent } : undefined,
						cookie: request.cookie ?? null
					});
				} finally {
					fetched();
					c.metrics.fetchDone(request.spiderid, (performance.now() - fetchStarted) / 1000);
				}
			} catch (err) {
				await this.retryOrGiveUp(request, (err as Error).message, null);
				await c.frontier.ack(request.spiderid, lease);
				return;
			}
			if (RETRY_HTTP_CODES.has(result.status) && (await this.retryOrGiveUp(request, `HTTP ${result.status}`, result.status))) {
				await c.frontier.ack(request.spiderid, lease);
				return;
			}
			await this.handleResult(request, result, spider);
			await c.frontier.ack(request.spiderid, lease);
		},

		/** Queue a retry (lower priority) while retries remain; returns false when given up. */
		async retryOrGiveUp(request, reason, status) {
			const c = this.crawler;
			const s = this.settingsNow();
			const tries = request.retry_times ?? 0;
			if (tries < s.RETRY_TIMES) {
				const retry: FrontierRequest = { ...request, retry_times: tries + 1, priority: request.priority - 10 };
				const domain = registeredDomain(retry.url);
				if (domain) {
					await c.frontier.enqueue(retry, domain, {
						dupefilterTimeout: s.DUPEFILTER_TIMEOUT,
						checkBlacklist: true,
						domainMaxPagesTimeout: s.DOMAIN_MAX_PAGE_TIMEOUT,
						globalPageLimit: null,
						globalPageLimitTimeout: s.GLOBAL_PAGE_PER_DOMAIN_LIMIT_TIMEOUT
					});
					this.registerQueue(retry.spiderid, domain);
				}
				c.counts.retried++;
				c.metrics.increment("sc_crawl_retries_total", { spider: request.spiderid });
				this.logger.info("Scraper Retry", { url: request.url, crawlid: request.crawlid, retry_times: tries + 1, reason });
				return true;
			}
			this.giveUp(request);
			this.logger.warn("Gave up retrying", { url: request.url, crawlid: request.crawlid, retry_times: tries, reason });
			if (status === null) {
				// As the original: a download that never answered counts as a 504.
				if (s.STATS_STATUS_CODES && s.STATUS_RESPONSE_CODES.includes(504)) await this.statsIncrement(`${HOST}:${request.spiderid}:504`);
			}
			return false;
		},

		async handleResult(request, result, spider) {
			const c = this.crawler;
			const s = this.settingsNow();
			const contentType = result.responseHeaders["content-type"]?.[0] ?? result.responseHeaders["Content-Type"]?.[0];
			const isHtml = !contentType || /html|xml/i.test(contentType);
			const decoded = isHtml || /text|json/i.test(contentType ?? "") ? decodeBody(result.body, contentType) : null;
			let filter: (url: string) => boolean;
			try {
				filter = linkFilterFor({
					allowed_domains: request.allowed_domains ?? null,
					allow_regex: request.allow_regex ?? null,
					deny_regex: request.deny_regex ?? null,
					deny_extensions: request.deny_extensions ?? null
				});
			} catch (err) {
				// Ingest refuses patterns that do not compile, so only hand-written queue entries get here.
				this.logger.warn("Link filter does not compile; following no links of this page", { url: request.url, error: (err as Error).message });
				filter = () => false;
			}
			const output = spider.parse(
				{ request, responseUrl: result.responseUrl, status: result.status, html: isHtml && decoded ? decoded.text : null },
				{ links: () => (decoded ? extractLinks(decoded.text, result.responseUrl).filter(l => filter(l.url)) : []), random: Math.random }
			);
			const record = pageRecord(
				{
					appid: request.appid,
					crawlid: request.crawlid,
					attrs: output.attrs !== undefined ? output.attrs : (request.attrs ?? null),
					url: request.url,
					responseUrl: result.responseUrl,
					status: result.status,
					responseHeaders: result.responseHeaders,
					requestHeaders: result.requestHeaders,
					body: result.body,
					text: decoded?.text ?? null,
					encoding: decoded?.encoding ?? "utf-8",
					links: output.links
				},
				s.KAFKA_BASE_64_ENCODE
			);
			// Leave room for Kafka's own record and batch headers.
			const fitted = fitRecord(record, s.KAFKA_PRODUCER_MAX_REQUEST_SIZE - 1024);
			if (fitted.truncated) this.logger.warn("Page body cut to fit KAFKA_PRODUCER_MAX_REQUEST_SIZE", { url: request.url, limit: s.KAFKA_PRODUCER_MAX_REQUEST_SIZE });
			const message = { value: fitted.message };
			const topics = [`${s.KAFKA_TOPIC_PREFIX}.crawled_firehose`];
			if (s.KAFKA_APPID_TOPICS) topics.push(`${s.KAFKA_TOPIC_PREFIX}.crawled_${request.appid}`);
			// The page goes to Kafka while its links go to the frontier; the lease ends (crawl()) after both.
			await Promise.all([...topics.map(t => this.kafka.produce(t, message)), this.enqueueRequests(output.requests, request)]);
			c.counts.crawled++;
			c.byStatus[String(result.status)] = (c.byStatus[String(result.status)] ?? 0) + 1;
			c.metrics.pageCrawled(request.spiderid, result.status);
			c.crawls.add(request.spiderid, request.appid, request.crawlid);
			this.logger.debug("Scraped page", { url: request.url, status_code: result.status, crawlid: request.crawlid, links: output.links.length });
			if (s.STATS_STATUS_CODES && s.STATUS_RESPONSE_CODES.includes(result.status)) await this.statsIncrement(`${HOST}:${request.spiderid}:${result.status}`);
		},

		/** Queue a page's follow-up requests: one frontier script call per spider, links in page order. */
		async enqueueRequests(requests, parent) {
			const c = this.crawler;
			const s = this.settingsNow();
			const now = Date.now() / 1000;
			const bySpider = new Map<string, EnqueueItem[]>();
			for (const request of requests) {
				const domain = registeredDomain(request.url);
				if (!domain) continue;
				if ((!s.SCHEDULER_BACKLOG_BLACKLIST && isBlacklisted(domain, c.config)) || (request.expires && now > request.expires)) {
					c.counts.dropped++;
					continue;
				}
				const items = bySpider.get(request.spiderid) ?? [];
				items.push({ request, domain, fingerprint: requestFingerprint("GET", request.url) });
				bySpider.set(request.spiderid, items);
			}
			const opts = {
				dupefilterTimeout: s.DUPEFILTER_TIMEOUT,
				checkBlacklist: true,
				domainMaxPagesTimeout: s.DOMAIN_MAX_PAGE_TIMEOUT,
				globalPageLimit: s.GLOBAL_PAGE_PER_DOMAIN_LIMIT,
				globalPageLimitTimeout: s.GLOBAL_PAGE_PER_DOMAIN_LIMIT_TIMEOUT
			};
			for (const items of bySpider.values()) {
				const outcomes = await c.frontier.enqueueMany(items, opts);
				items.forEach(({ request, domain }, i) => {
					if (outcomes[i] === "queued") {
						c.counts.queued++;
						this.registerQueue(request.spiderid, domain);
					} else {
						c.counts.dropped++;
						this.logger.debug("Request not queued", { url: request.url, crawlid: parent.crawlid, reason: outcomes[i] });
					}
				});
			}
		}
	},

	created() {
		const s = settingsOf(this.broker);
		const spiders = s.SPIDERS.map(name => SPIDERS.get(name));
		const unknown = s.SPIDERS.filter(name => !SPIDERS.has(name));
		if (unknown.length) throw new Error(`SPIDERS: unknown spider type(s) ${unknown.join(", ")}; available: ${[...SPIDERS.keys()].join(", ")}`);
		const fetcher = new Fetcher({ timeoutMs: s.DOWNLOAD_TIMEOUT * 1000, maxBodyBytes: s.DOWNLOAD_MAXSIZE, maxRedirects: s.REDIRECT_MAX_TIMES, userAgent: s.USER_AGENT });
		this.crawler = {
			spiders: spiders.filter((sp): sp is Spider => sp !== undefined),
			frontier: new Frontier(this.redis),
			fetcher,
			robots: new RobotsCache(this.redis, fetcher, s.USER_AGENT),
			queues: new Map(),
			config: EMPTY_DOMAIN_CONFIG,
			crawlDelays: new Map(),
			ip: null,
			inFlight: new Set(),
			fetching: 0,
			leases: new Map(),
			stopping: false,
			loop: null,
			timers: [],
			wake: null,
			subscriber: null,
			counts: { crawled: 0, retried: 0, failed: 0, robotsDenied: 0, queued: 0, dropped: 0, throttled: 0 },
			byStatus: {},
			stopWatch: null,
			metrics: new ClusterMetrics(this.broker.metrics),
			backlog: { entries: [], at: 0 },
			crawls: new CrawlCounts()
		};
	},

	async started() {
		const c = this.crawler;
		const s = this.settingsNow();
		const every = (seconds: number, what: string, fn: () => Promise<unknown>) => {
			const timer = setInterval(() => fn().catch((err: Error) => this.logger.warn(`${what} failed`, { error: err.message })), seconds * 1000);
			timer.unref();
			c.timers.push(timer);
		};
		for (const spider of c.spiders) {
			const found = await c.frontier.registerExistingQueues(spider.name).catch(() => 0);
			if (found) this.logger.info("Registered existing domain queues", { spider: spider.name, queues: found });
		}
		// Output topics exist before the first page, so readers can subscribe at once.
		const topics = [`${s.KAFKA_TOPIC_PREFIX}.crawled_firehose`];
		await this.kafka.ensureTopics(topics.map(topic => ({ topic, partitions: 1 }))).catch((err: Error) => this.logger.warn("Could not create the output topic yet; producing will create it", { topics, error: err.message }));
		await this.refreshIp();
		await this.refreshQueues().catch((err: Error) => this.logger.warn("Queue refresh failed", { error: err.message }));
		// Announcements make an idle crawler pop as soon as a request is queued (a hint: the registry and the
		// periodic rechecks still find everything when the subscription is down; ioredis resubscribes).
		c.subscriber = this.redis.duplicate();
		c.subscriber.on("error", () => undefined);
		c.subscriber.on("message", (_channel: string, message: string) => this.queuesAnnounced(message));
		await c.subscriber.subscribe(c.frontier.channel).catch((err: Error) => this.logger.warn("Could not subscribe to queue announcements; relying on rechecks", { channel: c.frontier.channel, error: err.message }));

		const path = `${s.ZOOKEEPER_ASSIGN_PATH.replace(/\/+$/, "")}/${s.ZOOKEEPER_ID}`;
		let first = true;
		c.stopWatch = this.zk.watchData(path, node => {
			try {
				const before = c.config;
				c.config = parseDomainConfig(node.data ? node.data.toString("utf8") : null);
				// One line per change: at INFO with what changed (blacklist entries, domain throttles), at DEBUG
				// when a reconnect re-read the same document.
				const changes = diffDomainConfig(before, c.config);
				const level = changes.length || first ? "info" : "debug";
				first = false;
				this.logger[level]("Crawler configuration from ZooKeeper applied", { path, blacklist: c.config.blacklist, domains: Object.keys(c.config.domains), changes });
				c.wake?.();
			} catch (err) {
				this.logger.error("Bad crawler configuration in ZooKeeper, keeping the last good one", { path, error: (err as Error).message });
			}
		});

		every(s.SCHEDULER_QUEUE_REFRESH, "Queue refresh", () => this.refreshQueues());
		every(REAP_EVERY_S, "Lease return", async () => {
			for (const spider of c.spiders) {
				const returned = await c.frontier.reap(spider.name);
				if (returned) this.logger.info("Returned requests of a stopped crawler to their queues", { spider: spider.name, returned });
			}
		});
		if (s.SCHEDULER_IP_ENABLED) every(s.SCHEDULER_IP_REFRESH, "Public IP refresh", () => this.refreshIp());
		c.loop = this.schedule();
		this.logger.info("Crawling", { spiders: c.spiders.map(sp => sp.name), concurrency: s.CONCURRENT_REQUESTS, concurrent_items: s.CONCURRENT_ITEMS });
	},

	async stopped() {
		const c = this.crawler;
		c.stopping = true;
		c.wake?.();
		c.timers.forEach(t => clearInterval(t));
		c.stopWatch?.();
		if (c.subscriber) await closeRedis(c.subscriber);
		await c.loop;
		// Finish what is in flight (bounded by DOWNLOAD_TIMEOUT); what does not finish (Kafka away) goes back
		// to its queue now instead of after REQUEST_LEASE_TIMEOUT.
		await Promise.race([Promise.allSettled([...c.inFlight]), sleep(this.settingsNow().DOWNLOAD_TIMEOUT * 1000 + 2000)]);
		// (Not while Redis is away: the call would wait for it; the leases then expire as a dead crawler's.)
		const unfinished = this.redis.status === "ready" ? [...c.leases.values()] : [];
		for (const spiderid of new Set(unfinished.map(l => l.spiderid))) {
			const leases = unfinished.filter(l => l.spiderid === spiderid).map(l => l.lease);
			const returned = await c.frontier.release(spiderid, leases).catch((err: Error) => {
				this.logger.warn("Could not return unfinished requests; they return when their leases expire", { spider: spiderid, leases: leases.length, error: err.message });
				return 0;
			});
			if (returned) this.logger.info("Returned unfinished requests to their queues", { spider: spiderid, returned });
		}
		await c.fetcher.close();
	}
};

export default CrawlerService;
