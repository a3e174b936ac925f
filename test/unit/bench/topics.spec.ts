/** Which Kafka topics the benchmark deletes (bench/cluster.ts benchTopicsToDelete). */
import { benchTopicsToDelete } from "../../../bench/cluster.ts";

describe("bench topic clean-up", () => {
	const topics = [
		"benchmwtva745_r1_c1.crawled_firehose",
		"benchmwtva745_r1_c1.incoming",
		"benchmwtva745_r1_c2.crawled_firehose",
		"benchmwtva745_ingest.incoming",
		"benchmwtwp0s0_r3_c2.outbound_firehose",
		"demo.crawled_firehose",
		"demo.incoming",
		"it_12782_42c09a.crawled_firehose",
		"benchmark.results",
		"__consumer_offsets"
	];

	it("takes one measurement's topics by its prefix, and nothing else", () => {
		expect(benchTopicsToDelete(topics, "benchmwtva745_r1_c1.")).toEqual(["benchmwtva745_r1_c1.crawled_firehose", "benchmwtva745_r1_c1.incoming"]);
		expect(benchTopicsToDelete(topics, "benchmwtva745_ingest.")).toEqual(["benchmwtva745_ingest.incoming"]);
	});

	it("without a prefix takes every benchmark run's topics, never the cluster's own or the tests'", () => {
		expect(benchTopicsToDelete(topics)).toEqual(topics.slice(0, 5));
	});
});
