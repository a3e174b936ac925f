/**
 * The cluster's own metrics, on Moleculer's metric registry (`broker.metrics`), so the Prometheus reporter
 * (METRICS_PORT) serves them at /metrics next to Moleculer's built-in ones. Every series gets the
 * reporter's default labels `namespace` and `nodeID`: one series per node.
 *
 * Names and labels are documented in README "Metrics"; change both together.
 * All recording methods are no-ops when metrics are disabled, and never throw.
 */

/** Histogram buckets for durations, in seconds. */
export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Histogram buckets for throttle waits, in seconds. */
export const WAIT_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300];

export const METRIC = {
	PAGES: "sc_pages_crawled_total",
	FETCH_DURATION: "sc_fetch_duration_seconds",
	RETRIES: "sc_crawl_retries_total",
	GIVEN_UP: "sc_crawl_given_up_total",
	THROTTLED: "sc_throttled_pops_total",
	THROTTLE_WAIT: "sc_throttle_wait_seconds",
	BACKLOG: "sc_queue_backlog",
	BACKLOG_DOMAINS: "sc_queue_domains",
	KAFKA_PRODUCE_DURATION: "sc_kafka_produce_duration_seconds",
	KAFKA_PRODUCED: "sc_kafka_produced_messages_total",
	KAFKA_PRODUCE_ERRORS: "sc_kafka_produce_errors_total",
	INGEST: "sc_ingest_requests_total",
	INGEST_FAILURES: "sc_ingest_failures_total"
} as const;

export type MetricName = (typeof METRIC)[keyof typeof METRIC];

export interface MetricDefinition {
	name: MetricName;
	type: "counter" | "gauge" | "histogram";
	labelNames: string[];
	description: string;
	unit?: string;
	buckets?: number[];
	quantiles?: boolean;
}

/** Every metric of the project (README "Metrics" lists the same). */
export const METRIC_DEFINITIONS: readonly MetricDefinition[] = [
	{ name: METRIC.PAGES, type: "counter", labelNames: ["spider", "status"], description: "Pages crawled and published, by spider type and HTTP status code." },
	{
		name: METRIC.FETCH_DURATION,
		type: "histogram",
		labelNames: ["spider"],
		description: "Duration of each fetch (redirects and body included), failed ones too.",
		unit: "seconds",
		buckets: DURATION_BUCKETS,
		quantiles: true
	},
	{ name: METRIC.RETRIES, type: "counter", labelNames: ["spider"], description: "Fetches queued again for a retry (timeouts, connection errors, retryable statuses)." },
	{ name: METRIC.GIVEN_UP, type: "counter", labelNames: ["spider"], description: "Requests given up (retries exhausted or an error that would repeat)." },
	{ name: METRIC.THROTTLED, type: "counter", labelNames: ["spider"], description: "Pops refused by a domain throttle (the queue had work but its window was full)." },
	{
		name: METRIC.THROTTLE_WAIT,
		type: "histogram",
		labelNames: ["spider"],
		description: "Time a throttled domain queue must wait before its next allowed pop.",
		unit: "seconds",
		buckets: WAIT_BUCKETS,
		quantiles: true
	},
	{ name: METRIC.BACKLOG, type: "gauge", labelNames: ["spider", "domain"], description: "Requests waiting in a domain queue (as seen by this crawler node; every crawler reports the same queues)." },
	{ name: METRIC.BACKLOG_DOMAINS, type: "gauge", labelNames: ["spider"], description: "Domain queues known to a spider type's registry." },
	{
		name: METRIC.KAFKA_PRODUCE_DURATION,
		type: "histogram",
		labelNames: ["topic"],
		description: "Duration of each produce request to Kafka (one batch), successful or not.",
		unit: "seconds",
		buckets: DURATION_BUCKETS,
		quantiles: true
	},
	{ name: METRIC.KAFKA_PRODUCED, type: "counter", labelNames: ["topic"], description: "Messages Kafka acknowledged." },
	{ name: METRIC.KAFKA_PRODUCE_ERRORS, type: "counter", labelNames: ["topic", "transient"], description: "Failed produce requests; transient=true ones are retried (Kafka away)." },
	{ name: METRIC.INGEST, type: "counter", labelNames: ["kind"], description: "API requests ingest accepted and handled, by kind (crawl, action, stats, zookeeper)." },
	{ name: METRIC.INGEST_FAILURES, type: "counter", labelNames: ["reason"], description: "API requests ingest refused, by reason (unparseable, no_schema, refused, poison)." }
];

/** What this module needs of Moleculer's MetricRegistry (it satisfies this structurally). */
export interface MetricSink {
	isEnabled(): boolean;
	hasMetric(name: string): boolean;
	register(opts: object): unknown;
	increment(name: string, labels?: Record<string, unknown>, value?: number): unknown;
	set(name: string, value: number, labels?: Record<string, unknown>): unknown;
	observe(name: string, value: number, labels?: Record<string, unknown>): unknown;
}

type Labels = Record<string, string | number | boolean>;

/** Map a refused request's log message to a short, bounded failure reason. */
export function ingestFailureReason(message: string, detail: { poison?: unknown } = {}): string {
	if (detail.poison) return "poison";
	if (message.startsWith("Unparseable JSON")) return "unparseable";
	if (message.startsWith("Did not find schema")) return "no_schema";
	return "refused";
}

/** A queue's backlog, for the backlog gauges and the queue dump. */
export interface BacklogEntry {
	spider: string;
	domain: string;
	backlog: number;
}

/** Domain series kept per spider in the backlog gauge; the rest are summed into domain="(other)". */
export const BACKLOG_MAX_DOMAINS = 100;
export const OTHER_DOMAINS = "(other)";

/**
 * The backlog series to report: per spider, the `maxDomains` largest queues by name and the sum of the
 * rest as "(other)", so the number of series stays bounded however many domains a crawl touches.
 */
export function backlogSeries(entries: readonly BacklogEntry[], maxDomains = BACKLOG_MAX_DOMAINS): BacklogEntry[] {
	const bySpider = new Map<string, BacklogEntry[]>();
	for (const e of entries) {
		const list = bySpider.get(e.spider) ?? [];
		list.push(e);
		bySpider.set(e.spider, list);
	}
	const out: BacklogEntry[] = [];
	for (const [spider, list] of [...bySpider].sort(([a], [b]) => a.localeCompare(b))) {
		const sorted = [...list].sort((a, b) => b.backlog - a.backlog || a.domain.localeCompare(b.domain));
		const kept = sorted.slice(0, maxDomains);
		out.push(...kept.map(e => ({ spider, domain: e.domain, backlog: e.backlog })));
		if (sorted.length > maxDomains) out.push({ spider, domain: OTHER_DOMAINS, backlog: sorted.slice(maxDomains).reduce((n, e) => n + e.backlog, 0) });
	}
	return out;
}

const registered = new WeakSet<object>();

/** Typed recording on a node's metric registry. Many services of one node share the same metrics. */
export class ClusterMetrics {
	private readonly sink: MetricSink | null;
	/** Backlog series set last time, so queues that went away are set to 0 instead of keeping their value. */
	private lastBacklog = new Set<string>();

	constructor(sink: MetricSink | null | undefined) {
		this.sink = sink && sink.isEnabled() ? sink : null;
		if (this.sink && !registered.has(this.sink)) {
			for (const def of METRIC_DEFINITIONS) if (!this.sink.hasMetric(def.name)) this.sink.register({ ...def });
			registered.add(this.sink);
		}
	}

	get enabled(): boolean {
		return this.sink !== null;
	}

	private safely(fn: (sink: MetricSink) => void): void {
		if (!this.sink) return;
		try {
			fn(this.sink);
		} catch {
			/* metrics never break the work they measure */
		}
	}

	increment(name: MetricName, labels: Labels, value = 1): void {
		this.safely(s => s.increment(name, labels, value));
	}

	observe(name: MetricName, value: number, labels: Labels): void {
		this.safely(s => s.observe(name, value, labels));
	}

	set(name: MetricName, value: number, labels: Labels): void {
		this.safely(s => s.set(name, value, labels));
	}

	pageCrawled(spider: string, status: number): void {
		this.increment(METRIC.PAGES, { spider, status: String(status) });
	}

	fetchDone(spider: string, seconds: number): void {
		this.observe(METRIC.FETCH_DURATION, seconds, { spider });
	}

	throttled(spider: string, waitSeconds: number): void {
		this.increment(METRIC.THROTTLED, { spider });
		this.observe(METRIC.THROTTLE_WAIT, Math.max(0, waitSeconds), { spider });
	}

	/** Produce hook of the Kafka client (lib/kafka/client.ts `onSend`). */
	kafkaSent(topic: string, messages: number, seconds: number, error: { transient: boolean } | null): void {
		this.observe(METRIC.KAFKA_PRODUCE_DURATION, seconds, { topic });
		if (error) this.increment(METRIC.KAFKA_PRODUCE_ERRORS, { topic, transient: String(error.transient) });
		else this.increment(METRIC.KAFKA_PRODUCED, { topic }, messages);
	}

	/** Set the backlog gauges from a full listing of the queues of some spiders (bounded by backlogSeries). */
	backlog(entries: readonly BacklogEntry[], spiders: readonly string[]): void {
		if (!this.sink) return;
		const series = backlogSeries(entries);
		const now = new Set<string>();
		for (const e of series) {
			const id = `${e.spider}\u0000${e.domain}`;
			now.add(id);
			this.set(METRIC.BACKLOG, e.backlog, { spider: e.spider, domain: e.domain });
		}
		for (const id of this.lastBacklog) {
			if (now.has(id)) continue;
			const [spider, domain] = id.split("\u0000") as [string, string];
			this.set(METRIC.BACKLOG, 0, { spider, domain });
		}
		this.lastBacklog = now;
		for (const spider of spiders) this.set(METRIC.BACKLOG_DOMAINS, entries.filter(e => e.spider === spider).length, { spider });
	}
}
