import { KNOWN_FOR_MS, KnownFingerprints } from "../../../lib/frontier/known.ts";

describe("KnownFingerprints", () => {
	it("knows a fingerprint per filter key, for KNOWN_FOR_MS", () => {
		let now = 1000;
		const known = new KnownFingerprints(100, () => now);
		known.add("link:dupefilter:c1", "fp1", 600);
		expect(known.knownIn("link:dupefilter:c1")("fp1")).toBe(true);
		expect(known.knownIn("link:dupefilter:c2")("fp1")).toBe(false);
		expect(known.knownIn("link:dupefilter:c1")("fp2")).toBe(false);
		now += KNOWN_FOR_MS - 1;
		expect(known.knownIn("link:dupefilter:c1")("fp1")).toBe(true);
		now += 1;
		expect(known.knownIn("link:dupefilter:c1")("fp1")).toBe(false);
		expect(known.size).toBe(0);
	});

	it("never outlives half the filter's own timeout", () => {
		let now = 0;
		const known = new KnownFingerprints(100, () => now);
		known.add("k", "fp", 10);
		now = 4999;
		expect(known.knownIn("k")("fp")).toBe(true);
		now = 5000;
		expect(known.knownIn("k")("fp")).toBe(false);
	});

	it("learning again extends an entry", () => {
		let now = 0;
		const known = new KnownFingerprints(100, () => now);
		known.add("k", "fp", 600);
		now = KNOWN_FOR_MS - 10;
		known.add("k", "fp", 600);
		now = KNOWN_FOR_MS + 10;
		expect(known.knownIn("k")("fp")).toBe(true);
	});

	it("keeps at most its capacity, forgetting the oldest first", () => {
		const known = new KnownFingerprints(3, () => 0);
		for (const fp of ["a", "b", "c", "d"]) known.add("k", fp, 600);
		expect(known.size).toBe(3);
		expect(known.knownIn("k")("a")).toBe(false);
		expect(["b", "c", "d"].every(fp => known.knownIn("k")(fp))).toBe(true);
	});
});

describe("KnownFingerprints.knownIn", () => {
	it("tests many fingerprints of one filter with one clock reading, and keeps filters apart", () => {
		let now = 0;
		let readings = 0;
		const known = new KnownFingerprints(100, () => (readings++, now));
		known.add("a", "x", 600);
		known.add("b", "y", 600);
		readings = 0;
		const inA = known.knownIn("a");
		expect([inA("x"), inA("y"), inA("z")]).toEqual([true, false, false]);
		expect(readings).toBe(1);
		expect(known.knownIn("nowhere")("x")).toBe(false);
		now = KNOWN_FOR_MS;
		expect(known.knownIn("a")("x")).toBe(false);
		expect(known.size).toBe(1);
	});

	it("evicts across filters, the oldest filter's oldest entries first", () => {
		const known = new KnownFingerprints(3, () => 0);
		known.add("a", "1", 600);
		known.add("a", "2", 600);
		known.add("b", "1", 600);
		known.add("b", "2", 600);
		expect(known.size).toBe(3);
		expect([known.knownIn("a")("1"), known.knownIn("a")("2"), known.knownIn("b")("1"), known.knownIn("b")("2")]).toEqual([false, true, true, true]);
		known.add("c", "1", 600);
		expect([known.knownIn("a")("2"), known.knownIn("c")("1")]).toEqual([false, true]);
		expect(known.size).toBe(3);
	});
});
