import { RepeatFilter } from "../../../lib/logging/repeat.ts";

describe("repeat filter", () => {
	it("lets a key through once per window", () => {
		const f = new RepeatFilter(1000);
		expect(f.repeated("a", 0)).toBe(false);
		expect(f.repeated("a", 500)).toBe(true);
		expect(f.repeated("b", 500)).toBe(false);
		expect(f.repeated("a", 999)).toBe(true);
		expect(f.repeated("a", 1000)).toBe(false);
		expect(f.repeated("a", 1500)).toBe(true);
	});

	it("keeps at most maxKeys keys, forgetting the oldest", () => {
		const f = new RepeatFilter(10_000, 2);
		f.repeated("a", 0);
		f.repeated("b", 1);
		f.repeated("c", 2);
		expect(f.repeated("a", 3)).toBe(false);
		expect(f.repeated("c", 4)).toBe(true);
	});
});
