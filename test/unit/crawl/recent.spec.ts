/** lib/crawl/recent.ts: the last answers of a pure function, oldest dropped first. */
import { Recent } from "../../../lib/crawl/recent.ts";
import { registeredDomain } from "../../../lib/frontier/keys.ts";

describe("Recent", () => {
	it("computes a key once while it is among the last `size`, null answers included, and forgets the oldest", () => {
		const calls: string[] = [];
		const recent = new Recent<string | null>(2);
		const compute = (k: string) => (calls.push(k), k === "none" ? null : k.toUpperCase());
		expect(recent.get("a", compute)).toBe("A");
		expect(recent.get("none", compute)).toBeNull();
		expect(recent.get("a", compute)).toBe("A");
		expect(recent.get("none", compute)).toBeNull();
		expect(calls).toEqual(["a", "none"]);
		// a third key drops the oldest ("a"), which is computed again when asked
		expect(recent.get("b", compute)).toBe("B");
		expect(recent.get("a", compute)).toBe("A");
		expect(calls).toEqual(["a", "none", "b", "a"]);
	});

	it("gives registeredDomain the same answers remembered or not", () => {
		const urls = ["http://www.bbc.co.uk/news", "http://127.0.0.1:8080/p/1", "http://localhost/", "not a url", "http://xn--bcher-kva.de/"];
		const first = urls.map(registeredDomain);
		expect(first).toEqual(["bbc.co.uk", "127.0.0.1", "localhost", null, "bücher.de"]);
		expect(urls.map(registeredDomain)).toEqual(first);
	});
});
