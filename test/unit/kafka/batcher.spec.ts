import { Batcher } from "../../../lib/kafka/batcher.ts";

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

describe("Batcher (producer linger)", () => {
	it("sends items added within the linger together", async () => {
		const batches: number[][] = [];
		const b = new Batcher<number>({ lingerMs: 30, maxBytes: 1000, sizeOf: () => 1, flush: async items => void batches.push(items) });
		const all = Promise.all([b.add(1), b.add(2), b.add(3)]);
		expect(batches).toEqual([]);
		await all;
		expect(batches).toEqual([[1, 2, 3]]);
		await b.add(4);
		expect(batches).toEqual([[1, 2, 3], [4]]);
	});

	it("never lets a batch grow past maxBytes: a big item goes in a batch of its own", async () => {
		const batches: string[][] = [];
		const b = new Batcher<string>({ lingerMs: 10000, maxBytes: 10, sizeOf: s => s.length, flush: async items => void batches.push(items) });
		const all = Promise.all([b.add("aaa"), b.add("bbbbbbbbb"), b.add("cc")]);
		await b.drain();
		await all;
		expect(batches).toEqual([["aaa"], ["bbbbbbbbb"], ["cc"]]);
	});

	it("sends at once when the batch reaches maxBytes", async () => {
		const batches: string[][] = [];
		const b = new Batcher<string>({ lingerMs: 10000, maxBytes: 12, sizeOf: s => s.length, flush: async items => void batches.push(items) });
		await Promise.all([b.add("aaaa"), b.add("bbbb"), b.add("cccc")]);
		expect(batches).toEqual([["aaaa", "bbbb", "cccc"]]);
	});

	it("rejects every item of a failed batch and keeps working", async () => {
		let fail = true;
		const b = new Batcher<number>({
			lingerMs: 5,
			maxBytes: 100,
			sizeOf: () => 1,
			flush: async () => {
				if (fail) throw new Error("broker away");
			}
		});
		const results = await Promise.allSettled([b.add(1), b.add(2)]);
		expect(results.map(r => r.status)).toEqual(["rejected", "rejected"]);
		fail = false;
		await expect(b.add(3)).resolves.toBeUndefined();
	});

	it("drain() flushes what is pending and waits for batches in flight", async () => {
		const done: number[] = [];
		const b = new Batcher<number>({
			lingerMs: 10000,
			maxBytes: 100,
			sizeOf: () => 1,
			flush: async items => {
				await sleep(20);
				done.push(...items);
			}
		});
		void b.add(1);
		void b.add(2);
		expect(b.size).toBe(2);
		await b.drain();
		expect(done).toEqual([1, 2]);
		expect(b.size).toBe(0);
	});

	it("with idleFlush: sends at once when idle, batches what comes while a batch is in flight", async () => {
		const batches: number[][] = [];
		const b = new Batcher<number>({
			lingerMs: 10000,
			idleFlush: true,
			maxBytes: 100,
			sizeOf: () => 1,
			flush: async items => {
				batches.push(items);
				await sleep(20);
			}
		});
		const first = b.add(1);
		expect(batches).toEqual([[1]]);
		const rest = Promise.all([b.add(2), b.add(3)]);
		expect(batches).toEqual([[1]]);
		await first;
		await rest;
		// sent when the first batch completed, long before the 10 s linger
		expect(batches).toEqual([[1], [2, 3]]);
		await b.add(4);
		expect(batches).toEqual([[1], [2, 3], [4]]);
	});

	it("sends immediately with a zero linger", async () => {
		const batches: number[][] = [];
		const b = new Batcher<number>({ lingerMs: 0, maxBytes: 100, sizeOf: () => 1, flush: async items => void batches.push(items) });
		await Promise.all([b.add(1), b.add(2)]);
		expect(batches).toEqual([[1], [2]]);
	});
});
