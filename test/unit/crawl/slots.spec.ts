import { freeSlots } from "../../../lib/crawl/slots.ts";

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
