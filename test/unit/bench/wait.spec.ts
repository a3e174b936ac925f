/** The benchmark's bounded count waits (bench/wait.ts). */
import { waitForCount } from "../../../bench/wait.ts";

describe("waitForCount", () => {
	it("resolves true once the count reaches the target, looking again after each pause", async () => {
		let n = 0;
		let pauses = 0;
		const reached = await waitForCount(() => n, 3, { timeoutMs: 5000, stallMs: 5000, pause: async () => void (pauses++, n++) });
		expect(reached).toBe(true);
		expect(pauses).toBe(3);
	});

	it("gives up after stallMs without the count changing, though the timeout is far", async () => {
		const started = performance.now();
		const reached = await waitForCount(() => 1, 2, { timeoutMs: 60_000, stallMs: 60, pause: () => new Promise(r => setTimeout(r, 10)) });
		expect(reached).toBe(false);
		expect(performance.now() - started).toBeLessThan(2000);
	});

	it("gives up at the timeout while the count still grows, and passes pause no more than the time left", async () => {
		let n = 0;
		const offered: number[] = [];
		const reached = await waitForCount(() => n, 1_000_000, {
			timeoutMs: 80,
			stallMs: 60_000,
			pause: remainingMs => {
				offered.push(remainingMs);
				n++;
				return new Promise(r => setTimeout(r, 10));
			}
		});
		expect(reached).toBe(false);
		expect(n).toBeGreaterThan(1);
		expect(Math.max(...offered)).toBeLessThanOrEqual(80);
	});

	it("reports progress every 2 s, with the count then", async () => {
		jest.useFakeTimers();
		try {
			let n = 0;
			const seen: number[] = [];
			const pause = async () => {
				jest.advanceTimersByTime(700);
				n++;
			};
			expect(await waitForCount(() => n, 6, { timeoutMs: 60_000, stallMs: 60_000, onProgress: c => seen.push(c), pause })).toBe(true);
			// Looks at 0.7, 1.4, 2.1, 2.8, 3.5 and 4.2 s: reports at 2.1 s and 2.1 s later.
			expect(seen).toEqual([3, 6]);
		} finally {
			jest.useRealTimers();
		}
	});
});
