import { processAlive, staleTestTopics, testTopicPid } from "../../support/stale-topics.ts";

describe("stale test topics", () => {
	it("reads the pid from the names tests give topics and ignores other topics", () => {
		expect(testTopicPid("it_25085_3ab84a.away.incoming")).toBe(25085);
		expect(testTopicPid("it.topics-28385-08e58d")).toBe(28385);
		expect(testTopicPid("MOL-it-ns-2356-f10d24.EVENT.client-2475")).toBe(2356);
		expect(testTopicPid("demo.incoming")).toBeNull();
		expect(testTopicPid("demo.outbound_firehose")).toBeNull();
		expect(testTopicPid("__consumer_offsets")).toBeNull();
	});

	it("keeps the topics of live processes and of non-test topics", () => {
		const topics = ["it_1_aaaaaa.incoming", "it_2_bbbbbb.incoming", "demo.crawled_firehose"];
		expect(staleTestTopics(topics, pid => pid === 2)).toEqual(["it_1_aaaaaa.incoming"]);
	});

	it("knows this process is alive", () => {
		expect(processAlive(process.pid)).toBe(true);
	});
});
