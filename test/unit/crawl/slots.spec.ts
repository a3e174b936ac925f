import { freeSlots, shareSlots } from "../../../lib/crawl/slots.ts";

describe("freeSlots", () => {
	it("gives every fetch slot when idle", () => {
		expect(freeSlots({ fetching: 0, inFlight: 0 }, 16, 16)).toBe(16);
	});

	it("does not count pages being finished against the fetch slots while item slots remain", () => {
		expect(freeSlots({ fetching: 0, inFlight: 10 }, 16, 16)).toBe(16);
		expect(freeSlots({ fetching: 4, inFlight: 14 }, 16, 16)).toBe(12);
	});

	it("stops fetching when the items being finished fill their slots (memory stays bounded)", () => {
		expect(freeSlots({ fetching: 0, inFlight: 30 }, 16, 16)).toBe(2);
		expect(freeSlots({ fetching: 0, inFlight: 32 }, 16, 16)).toBe(0);
		expect(freeSlots({ fetching: 16, inFlight: 40 }, 16, 16)).toBe(0);
	});

	it("never starts more than CONCURRENT_REQUESTS fetches", () => {
		expect(freeSlots({ fetching: 16, inFlight: 16 }, 16, 100)).toBe(0);
		expect(freeSlots({ fetching: 15, inFlight: 15 }, 16, 100)).toBe(1);
	});
});

describe("shareSlots", () => {
	it("shares evenly, the remainder to the best queues first", () => {
		expect(shareSlots(16, 4)).toEqual([4, 4, 4, 4]);
		expect(shareSlots(10, 4)).toEqual([3, 3, 2, 2]);
		expect(shareSlots(5, 1)).toEqual([5]);
	});

	it("gives one slot each to the best queues when there are fewer slots than queues", () => {
		expect(shareSlots(2, 5)).toEqual([1, 1]);
	});

	it("gives nothing without slots or queues, and never more than the slots", () => {
		expect(shareSlots(0, 3)).toEqual([]);
		expect(shareSlots(4, 0)).toEqual([]);
		for (let free = 0; free < 20; free++) for (let q = 0; q < 8; q++) expect(shareSlots(free, q).reduce((a, b) => a + b, 0)).toBe(q === 0 ? 0 : free);
	});
});
