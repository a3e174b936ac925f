/** The CPU profile summary of the benchmark (bench/profile.ts): self time by area and by function. */
import { areaOf, summarizeProfile } from "../../../bench/profile.ts";

describe("bench profile summary", () => {
	it("names the area of a script", () => {
		expect(areaOf("file:///w/node_modules/parse5/dist/tokenizer/index.js", "x")).toBe("parse5");
		expect(areaOf("file:///w/node_modules/@swc/core/index.js", "x")).toBe("@swc/core");
		expect(areaOf("file:///w/lib/crawl/extract.ts", "extractLinks")).toBe("lib/crawl");
		expect(areaOf("file:///w/services/crawler.service.ts", "crawl")).toBe("services");
		expect(areaOf("node:internal/streams/readable", "read")).toBe("node:internal");
		expect(areaOf("", "(garbage collector)")).toBe("(garbage collector)");
	});

	it("adds the sampled time of each node to its function and area", () => {
		const profile = {
			startTime: 0,
			endTime: 4000,
			nodes: [
				{ id: 1, callFrame: { functionName: "(root)", url: "", lineNumber: -1 } },
				{ id: 2, callFrame: { functionName: "parse", url: "file:///w/node_modules/parse5/a.js", lineNumber: 9 } },
				{ id: 3, callFrame: { functionName: "(garbage collector)", url: "", lineNumber: -1 } }
			],
			samples: [2, 2, 3, 2],
			timeDeltas: [1000, 1000, 1000, 1000]
		};
		const s = summarizeProfile(profile);
		expect(s.totalMs).toBe(4);
		expect(s.byArea.get("parse5")).toBe(3);
		expect(s.byArea.get("(garbage collector)")).toBe(1);
		expect(s.byFunction.get("parse a.js:10")).toBe(3);
	});
});
