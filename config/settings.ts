/**
 * Every setting of the cluster, with the defaults of Scrapy Cluster 1.2 under the same names.
 *
 * Precedence (lowest first): these defaults, the local override file (config/localsettings.json or the
 * file named by LOCAL_SETTINGS, gitignored, like the original's localsettings.py), environment variables
 * of the same name. Values are typed and checked when the node starts: a bad value stops it with a message
 * naming the setting.
 */
import { section } from "../lib/config/definition.ts";

const isHostList = (v: string): string | null =>
	v.split(",").every(h => /^\[?[A-Za-z0-9_.:-]+\]?:\d{1,5}$/.test(h.trim())) ? null : `expected host:port[,host:port...], got "${v}"`;

const isRegex = (v: string): string | null => {
	try {
		new RegExp(v);
		return null;
	} catch (err) {
		return `not a valid regular expression: ${(err as Error).message}`;
	}
};

const core = section("Core");
const redis = section("Redis");
const kafka = section("Kafka");
const zk = section("ZooKeeper");
const sched = section("Scheduler");
const throttle = section("Throttle");
const crawler = section("Crawler");
const monitor = section("Redis Monitor");
const rest = section("Rest");
const stats = section("Stats");
const log = section("Logging");
const cluster = section("Cluster");

export const SETTING_DEFINITIONS = {
	// --- Core ---------------------------------------------------------------------------------------
	HEARTBEAT_TIMEOUT: core.int(120, "Seconds an instance's heartbeat key (stats:<component>:self:<host>:<id>) lives; refreshed well before it expires.", { min: 1 }),

	// --- Redis --------------------------------------------------------------------------------------
	REDIS_HOST: redis.str("localhost", "The Redis host."),
	REDIS_PORT: redis.int(6379, "The port to use when connecting to REDIS_HOST.", { min: 1, max: 65535 }),
	REDIS_DB: redis.int(0, "The Redis database to use.", { min: 0, max: 15 }),
	REDIS_PASSWORD: redis.optStr(null, "Password (Redis AUTH); null for none.", { secret: true }),
	REDIS_USERNAME: redis.optStr(null, "ACL user name (Redis 6+); null for the default user."),
	REDIS_TLS: redis.bool(false, "Connect to Redis over TLS."),
	REDIS_SOCKET_TIMEOUT: redis.int(10, "Seconds before a Redis connection attempt is given up and retried.", { min: 1 }),
	REDIS_CLUSTER: redis.bool(
		false,
		"Use a Redis Cluster: REDIS_HOST:REDIS_PORT is any node, the others are discovered. Each spider's frontier keys then share its hash tag ({<spiderid>}); needs REDIS_DB 0 and SCHEDULER_TYPE_ENABLED."
	),
	REDIS_LOCK_EXPIRATION: redis.int(6, "Seconds a vacant worker lock stays in Redis before another worker may take the job.", { min: 1 }),

	// --- Kafka --------------------------------------------------------------------------------------
	KAFKA_HOSTS: kafka.str("localhost:9092", "Kafka bootstrap brokers, 'h1:9092,h2:9092'.", { check: isHostList }),
	KAFKA_INCOMING_TOPIC: kafka.str("demo.incoming", "The topic API requests are read from (the REST service's KAFKA_PRODUCER_TOPIC)."),
	KAFKA_INCOMING_PARTITIONS: kafka.int(4, "Partitions the incoming topic is created with when missing; ingest instances beyond this number sit idle.", { min: 1 }),
	KAFKA_GROUP: kafka.str("demo-group", "Consumer group of the ingest service."),
	PLUGINS: kafka.json<Record<string, number | null> | null>(null, "Re-rank or disable request kinds by handler name, e.g. {\"ZookeeperHandler\": null}; null keeps each kind's rank (crawl 100, action 200, stats 300, zookeeper 400).", {
		nullable: true,
		check: v =>
			v === null || (typeof v === "object" && !Array.isArray(v) && Object.values(v).every(r => r === null || typeof r === "number"))
				? null
				: "expected an object mapping handler names (ScraperHandler, ActionHandler, StatsHandler, ZookeeperHandler) to a rank or null"
	}),
	KAFKA_TOPIC_PREFIX: kafka.str("demo", "Prefix of the outbound topics: <prefix>.crawled_firehose, <prefix>.outbound_firehose, ..."),
	KAFKA_APPID_TOPICS: kafka.bool(false, "Also send results to <prefix>.crawled_<appid> / <prefix>.outbound_<appid>."),
	KAFKA_BASE_64_ENCODE: kafka.bool(false, "Base64-encode the crawled body in crawled_firehose messages."),
	KAFKA_FEED_TIMEOUT: kafka.int(5, "Seconds to wait for Kafka to accept a fed request before failing.", { min: 1 }),
	KAFKA_CONN_TIMEOUT: kafka.int(5, "Seconds to wait when connecting to a broker.", { min: 1 }),
	KAFKA_CONSUMER_AUTO_OFFSET_RESET: kafka.str("earliest", "Where a consumer group without committed offsets starts: earliest or latest.", { choices: ["earliest", "latest"] }),
	KAFKA_CONSUMER_TIMEOUT: kafka.int(50, "Milliseconds a consumer waits for new messages in one fetch (max wait).", { min: 0 }),
	KAFKA_CONSUMER_COMMIT_INTERVAL_MS: kafka.int(5000, "How often handled offsets are committed, in ms (offsets are only ever committed after handling).", { min: 0 }),
	KAFKA_CONSUMER_AUTO_COMMIT_ENABLE: kafka.bool(true, "Commit handled offsets periodically (false: commit after every batch)."),
	KAFKA_CONSUMER_FETCH_MESSAGE_MAX_BYTES: kafka.int(10 * 1024 * 1024, "Largest message a consumer fetches.", { min: 1024 }),
	KAFKA_CONSUMER_SLEEP_TIME: kafka.float(1, "Seconds between polls of response consumers when idle.", { min: 0 }),
	KAFKA_PRODUCER_BATCH_LINGER_MS: kafka.int(25, "Longest time in milliseconds a produced message waits to be batched with others while an earlier batch of its topic is in flight; a message produced while none is in flight is sent at once.", { min: 0 }),
	KAFKA_PRODUCER_BUFFER_BYTES: kafka.int(4 * 1024 * 1024, "Bytes of produced messages held in one batch before it is sent without waiting for the linger.", { min: 1024 }),
	KAFKA_PRODUCER_MAX_REQUEST_SIZE: kafka.int(1024 * 1024, "Largest message the producer sends (the broker's message.max.bytes must allow it).", { min: 1024 }),
	KAFKA_CLIENT_ID: kafka.str("scrapy-cluster", "Kafka client id prefix; the node id is appended."),
	KAFKA_SSL: kafka.bool(false, "Connect to Kafka over TLS."),
	KAFKA_SSL_CA: kafka.optStr(null, "Path of a PEM CA bundle to trust (KAFKA_SSL)."),
	KAFKA_SSL_CERT: kafka.optStr(null, "Path of a PEM client certificate (mutual TLS)."),
	KAFKA_SSL_KEY: kafka.optStr(null, "Path of the PEM private key of KAFKA_SSL_CERT.", { secret: true }),
	KAFKA_SSL_REJECT_UNAUTHORIZED: kafka.bool(true, "Refuse brokers whose certificate does not verify."),
	KAFKA_SASL_MECHANISM: kafka.optStr(null, "SASL mechanism: plain, scram-sha-256 or scram-sha-512; null for none.", { choices: ["plain", "scram-sha-256", "scram-sha-512"] }),
	KAFKA_SASL_USERNAME: kafka.optStr(null, "SASL user name."),
	KAFKA_SASL_PASSWORD: kafka.optStr(null, "SASL password.", { secret: true }),

	// --- ZooKeeper ----------------------------------------------------------------------------------
	ZOOKEEPER_HOSTS: zk.str("localhost:2181", "ZooKeeper connection string, 'h1:2181,h2:2181'.", { check: isHostList }),
	ZOOKEEPER_ASSIGN_PATH: zk.str("/scrapy-cluster/crawler/", "ZooKeeper folder of the crawler configuration documents.", {
		check: v => (v.startsWith("/") ? null : `must be an absolute ZooKeeper path starting with '/', got "${v}"`)
	}),
	ZOOKEEPER_ID: zk.str("all", "Name of the configuration document inside ZOOKEEPER_ASSIGN_PATH.", {
		check: v => (/^[^/\s]+$/.test(v) ? null : `must be one path segment without '/' or spaces, got "${v}"`)
	}),
	ZOOKEEPER_SESSION_TIMEOUT: zk.int(30000, "ZooKeeper session timeout in ms.", { min: 1000 }),

	// --- Scheduler ----------------------------------------------------------------------------------
	SCHEDULER_PERSIST: sched.bool(true, "Keep the spider's domain queues in Redis when a crawler shuts down."),
	SCHEDULER_QUEUE_REFRESH: sched.int(10, "Seconds between looks for new domain queues.", { min: 1 }),
	SCHEDULER_QUEUE_TIMEOUT: sched.int(3600, "Seconds an unused domain queue is kept in a crawler's memory.", { min: 1 }),
	SCHEDULER_BACKLOG_BLACKLIST: sched.bool(true, "Keep requests for ZooKeeper-blacklisted domains queued for later (false: discard them)."),
	SCHEDULER_IP_REFRESH: sched.int(60, "Seconds between refreshes of the crawler's public IP address.", { min: 1 }),
	SCHEDULER_TYPE_ENABLED: sched.bool(true, "Throttle per spider type (the spider name is part of the throttle key)."),
	SCHEDULER_IP_ENABLED: sched.bool(true, "Throttle per public IP address (the IP is part of the throttle key)."),
	SCHEDULER_ITEM_RETRIES: sched.int(3, "Passes over all known domain queues before the scheduler idles.", { min: 1, aliases: ["SCHEUDLER_ITEM_RETRIES"] }),
	PUBLIC_IP_URL: sched.str("http://ip.42.pl/raw", "URL answering the crawler's public IP address."),
	IP_ADDR_REGEX: sched.str("(\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3})", "Regular expression whose first match in PUBLIC_IP_URL's answer is the IP.", { check: isRegex }),

	// --- Throttle -----------------------------------------------------------------------------------
	QUEUE_HITS: throttle.int(10, "Requests per QUEUE_WINDOW per domain (cluster-wide) for domains without a ZooKeeper entry.", { min: 1 }),
	QUEUE_WINDOW: throttle.float(60, "Seconds of the throttle window.", { min: 0.001 }),
	QUEUE_MODERATED: throttle.bool(true, "Spread QUEUE_HITS evenly over QUEUE_WINDOW instead of allowing bursts."),
	DUPEFILTER_TIMEOUT: throttle.int(600, "Seconds a crawlid's duplicate filter lives after its last use.", { min: 1 }),
	GLOBAL_PAGE_PER_DOMAIN_LIMIT: throttle.optInt(null, "Most pages crawled per domain and crawlid, whatever the request says; null for no limit.", { min: 1 }),
	GLOBAL_PAGE_PER_DOMAIN_LIMIT_TIMEOUT: throttle.int(600, "Seconds the global per-domain page counter lives after its last use.", { min: 1 }),
	DOMAIN_MAX_PAGE_TIMEOUT: throttle.int(600, "Seconds the domain_max_pages counter lives after its last use.", { min: 1 }),

	// --- Crawler ------------------------------------------------------------------------------------
	DOWNLOAD_TIMEOUT: crawler.float(10, "Seconds before a fetch is abandoned (then retried).", { min: 0.1 }),
	DOWNLOAD_MAXSIZE: crawler.int(10 * 1024 * 1024, "Largest response body fetched, in bytes; larger ones are cut off and flagged.", { min: 1024 }),
	RETRY_TIMES: crawler.int(3, "Retries of a failed fetch (timeouts, connection errors, 5xx) before it is given up.", { min: 0 }),
	CONCURRENT_REQUESTS: crawler.int(16, "Fetches in flight per crawler instance.", { min: 1 }),
	CONCURRENT_ITEMS: crawler.int(16, "Fetched pages per crawler instance still being published to Kafka and having their links queued, beyond the fetches in flight (Scrapy's CONCURRENT_ITEMS); fetching pauses while this many wait, so memory stays bounded.", { min: 1 }),
	REDIRECT_MAX_TIMES: crawler.int(20, "Redirects followed per request.", { min: 0 }),
	ROBOTSTXT_OBEY: crawler.bool(true, "Obey robots.txt (cached cluster-wide in Redis)."),
	USER_AGENT: crawler.str("scrapy-cluster-ts/0.1 (+https://github.com/istresearch/scrapy-cluster)", "User-Agent of requests that do not set useragent."),
	SPIDERS: crawler.list(["link", "wandering"], "Spider types a crawler node runs."),
	REQUEST_LEASE_TIMEOUT: crawler.int(120, "Seconds before a popped request whose crawler died returns to its queue.", { min: 1 }),

	// --- Redis Monitor ------------------------------------------------------------------------------
	RETRY_FAILURES: monitor.bool(true, "Retry an action that failed unexpectedly."),
	RETRY_FAILURES_MAX: monitor.int(3, "Retries of a failed action before it is reported as failed.", { min: 0 }),

	// --- Rest ---------------------------------------------------------------------------------------
	REST_PORT: rest.int(5343, "Port of the REST service (the original's FLASK_PORT; 0x5343 = 'SC').", { min: 0, max: 65535, aliases: ["FLASK_PORT"] }),
	REST_HOST: rest.str("0.0.0.0", "Address the REST service listens on."),
	WAIT_FOR_RESPONSE_TIME: rest.float(5, "Seconds /feed waits for an action's answer before returning a poll_id.", { min: 0 }),
	REST_POLL_TTL: rest.int(3600, "Seconds a late answer is kept in Redis (rest:poll:<uuid>) for /poll.", { min: 1 }),
	REST_BODY_LIMIT: rest.str("1MB", "Largest request body the REST service accepts (larger: 413).", {
		check: v => (/^\d+(\.\d+)?\s*(b|kb|mb|gb)?$/i.test(v) ? null : `expected a size like 512kb or 1MB, got "${v}"`)
	}),
	REST_API_KEYS: rest.json<Record<string, string[]> | null>(null, "API keys as {\"<key>\": [\"<appid>\", ...]}; null disables keys.", {
		secret: true,
		nullable: true,
		check: v =>
			v === null ||
			(typeof v === "object" && !Array.isArray(v) && Object.values(v).every(a => Array.isArray(a) && a.every(s => typeof s === "string")))
				? null
				: "expected an object mapping each key to a list of appids"
	}),

	// --- Stats --------------------------------------------------------------------------------------
	STATS_TOTAL: stats.bool(true, "Count total and failed requests per component."),
	STATS_PLUGINS: stats.bool(true, "Count requests per plugin (handler/monitor)."),
	STATS_CYCLE: stats.int(5, "Seconds between trims of the rolling time windows.", { min: 1 }),
	STATS_DUMP: stats.int(60, "Seconds between stats dumps to the log; 0 disables.", { min: 0 }),
	STATS_DUMP_CRAWL: stats.bool(true, "Include the crawlers' stats in the dumps."),
	STATS_DUMP_QUEUE: stats.bool(true, "Include queue backlogs in the dumps."),
	STATS_TIMES: stats.list(["SECONDS_15_MINUTE", "SECONDS_1_HOUR", "SECONDS_6_HOUR", "SECONDS_12_HOUR", "SECONDS_1_DAY", "SECONDS_1_WEEK"], "Rolling windows kept for every counter (SECONDS_<n>_<MINUTE|HOUR|DAY|WEEK> or a number of seconds).", {
		check: v => {
			const bad = v.filter(n => !/^(SECONDS_\d+_(MINUTE|HOUR|DAY|WEEK)|\d+)$/.test(n));
			return bad.length ? `unknown time window(s) ${bad.join(", ")}; use e.g. SECONDS_15_MINUTE or 900` : null;
		}
	}),
	STATS_STATUS_CODES: stats.bool(true, "Count crawled responses per status code."),
	STATUS_RESPONSE_CODES: stats.intList([200, 404, 403, 504], "Status codes counted when STATS_STATUS_CODES is on."),

	// --- Logging ------------------------------------------------------------------------------------
	LOG_LEVEL: log.str("INFO", "Lowest level logged: TRACE, DEBUG, INFO, WARNING, ERROR, CRITICAL.", {
		choices: ["TRACE", "DEBUG", "INFO", "WARNING", "WARN", "ERROR", "CRITICAL", "FATAL"]
	}),
	LOG_JSON: log.bool(false, "One JSON object per line (timestamp, level, logger, message, extra fields), ready for ELK."),
	LOG_STDOUT: log.bool(true, "Log to standard output; false writes LOG_DIR/LOG_FILE."),
	LOG_DIR: log.str("logs", "Folder of the log file when LOG_STDOUT is false."),
	LOG_FILE: log.str("scrapy_cluster.log", "Log file name when LOG_STDOUT is false; rolled files get a number appended."),
	LOG_MAX_BYTES: log.int(10 * 1024 * 1024, "Size at which the log file is rolled.", { min: 1024 }),
	LOG_BACKUPS: log.int(5, "Rolled log files kept besides the current one.", { min: 0 }),

	// --- Cluster (Moleculer) ------------------------------------------------------------------------
	TRANSPORTER: cluster.optStr(null, "Transport between nodes: null (one process), redis://host:port or kafka://host:port.", {
		check: v => (v === null || /^(redis|rediss|kafka):\/\/.+/i.test(v) ? null : `expected redis://host:port or kafka://host:port, got "${v}"`)
	}),
	NAMESPACE: cluster.str("scrapy-cluster", "Moleculer namespace; nodes only see nodes of the same namespace."),
	NODE_ID: cluster.optStr(null, "Moleculer node id; null makes <hostname>-<pid>.", { aliases: ["NODEID"] }),
	SERVICES: cluster.list([], "Services this node runs (e.g. crawler,ingest); empty runs all of them."),
	REQUEST_TIMEOUT: cluster.int(10000, "Milliseconds before a call between services times out.", { min: 0 }),
	METRICS_PORT: cluster.optInt(null, "Port of the Prometheus metrics endpoint (/metrics); null disables it.", { min: 0, max: 65535 }),
	METRICS_HOST: cluster.str("0.0.0.0", "Address the metrics endpoint listens on (with METRICS_PORT)."),
	STATUS_INTERVAL: cluster.int(5, "Seconds between the status lines a node prints when its standard output is a terminal; 0 disables them.", { min: 0 })
} as const;

type Definitions = typeof SETTING_DEFINITIONS;
type ValueOf<D> = D extends { default: infer T } ? T : never;

/** The typed, checked settings of one node. */
export type Settings = { readonly [K in keyof Definitions]: ValueOf<Definitions[K]> };
export type SettingName = keyof Settings;
