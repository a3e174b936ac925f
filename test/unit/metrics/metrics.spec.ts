import { ServiceBroker } from "moleculer";
import { backlogSeries, ClusterMetrics, ingestFailureReason, METRIC, METRIC_DEFINITIONS, OTHER_DOMAINS } from "../../../lib/metrics/index.ts";

describe("cluster metrics", () => {
	it("names every metric sc_* with Prometheus-safe names and documents each", () => {
		for (const def of METRIC_DEFINITIONS) {
			expect(def.name).toMatch(/^sc_[a-z_]+$/);
			expect(def.description.length).toBeGreaterThan(10);
		}
		expect(new Set(METRIC_DEFINITIONS.map(d => d.name)).size).toBe(Object.keys(METRIC).length);
	});

	it("maps refusals to a bounded set of reasons", () => {
		expect(ingestFailureReason("Unparseable JSON Received")).toBe("unparseable");
		expect(ingestFailureReason("Did not find schema to validate request")).toBe("no_schema");
		expect(ingestFailureReason("Refused request")).toBe("refused");
		expect(ingestFailureReason("gave up after 5 failed attempts: boom", { poison: true })).toBe("poison");
	});

	it("keeps at most maxDomains backlog series per spider and sums the rest as (other)", () => {
		const entries = [
			{ spider: "link", domain: "a.com", backlog: 5 },
			{ spider: "link", domain: "b.com", backlog: 9 },
			{ spider: "link", domain: "c.com", backlog: 1 },
			{ spider: "link", domain: "d.com", backlog: 2 },
			{ spider: "wandering", domain: "a.com", backlog: 3 }
		];
		expect(backlogSeries(entries, 2)).toEqual([
			{ spider: "link", domain: "b.com", backlog: 9 },
			{ spider: "link", domain: "a.com", backlog: 5 },
			{ spider: "link", domain: OTHER_DOMAINS, backlog: 3 },
			{ spider: "wandering", domain: "a.com", backlog: 3 }
		]);
		expect(backlogSeries(entries)).toHaveLength(5);
	});

	describe("on Moleculer's registry", () => {
		let broker: ServiceBroker;
		afterEach(async () => broker?.stop());

		it("records nothing and never throws when metrics are off", () => {
			broker = new ServiceBroker({ logger: false, metrics: false });
			const m = new ClusterMetrics(broker.metrics);
			expect(m.enabled).toBe(false);
			m.pageCrawled("link", 200);
			m.backlog([{ spider: "link", domain: "a.com", backlog: 1 }], ["link"]);
			expect(broker.metrics.hasMetric(METRIC.PAGES)).toBe(false);
		});

		it("registers once per node and counts, observes and sets with labels", () => {
			broker = new ServiceBroker({ logger: false, metrics: { enabled: true } });
			const a = new ClusterMetrics(broker.metrics);
			const b = new ClusterMetrics(broker.metrics);
			a.pageCrawled("link", 200);
			b.pageCrawled("link", 200);
			a.pageCrawled("link", 404);
			a.fetchDone("link", 0.2);
			a.throttled("link", 1.5);
			a.kafkaSent("t", 3, 0.01, null);
			a.kafkaSent("t", 2, 0.5, { transient: true });
			const snap = (name: string) => broker.metrics.getMetric(name)!.snapshot() as Array<{ labels: Record<string, string>; value?: number; count?: number; sum?: number }>;
			expect(snap(METRIC.PAGES).map(s => [s.labels, s.value])).toEqual([
				[{ spider: "link", status: "200" }, 2],
				[{ spider: "link", status: "404" }, 1]
			]);
			expect(snap(METRIC.FETCH_DURATION)[0]).toMatchObject({ labels: { spider: "link" }, count: 1, sum: 0.2 });
			expect(snap(METRIC.THROTTLED)[0]?.value).toBe(1);
			expect(snap(METRIC.THROTTLE_WAIT)[0]).toMatchObject({ count: 1, sum: 1.5 });
			expect(snap(METRIC.KAFKA_PRODUCED)[0]).toMatchObject({ labels: { topic: "t" }, value: 3 });
			expect(snap(METRIC.KAFKA_PRODUCE_ERRORS)[0]).toMatchObject({ labels: { topic: "t", transient: "true" }, value: 1 });
			expect(snap(METRIC.KAFKA_PRODUCE_DURATION)[0]).toMatchObject({ count: 2 });
		});

		it("sets the backlog gauges, and a queue that went away to 0", () => {
			broker = new ServiceBroker({ logger: false, metrics: { enabled: true } });
			const m = new ClusterMetrics(broker.metrics);
			const gauge = () => Object.fromEntries((broker.metrics.getMetric(METRIC.BACKLOG)!.snapshot() as unknown as Array<{ labels: { domain: string }; value: number }>).map(s => [s.labels.domain, s.value]));
			m.backlog(
				[
					{ spider: "link", domain: "a.com", backlog: 4 },
					{ spider: "link", domain: "b.com", backlog: 0 }
				],
				["link", "wandering"]
			);
			expect(gauge()).toEqual({ "a.com": 4, "b.com": 0 });
			m.backlog([{ spider: "link", domain: "b.com", backlog: 7 }], ["link", "wandering"]);
			expect(gauge()).toEqual({ "a.com": 0, "b.com": 7 });
			const domains = broker.metrics.getMetric(METRIC.BACKLOG_DOMAINS)!.snapshot() as unknown as Array<{ labels: { spider: string }; value: number }>;
			expect(domains.map(d => [d.labels.spider, d.value])).toEqual([
				["link", 1],
				["wandering", 0]
			]);
		});
	});
});
