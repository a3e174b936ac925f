/** Bounded waiting of the benchmark: every wait for a count ends, by its timeout or by a stall. */

export interface CountWaitOptions {
	/** Longest wait in all. */
	timeoutMs: number;
	/** Longest wait without the count changing. */
	stallMs: number;
	/** Waits until the count is worth looking at again (a wake-up or a poll interval), at most `remainingMs`. */
	pause: (remainingMs: number) => Promise<void>;
	/** Called with the count every 2 s while waiting. */
	onProgress?: (count: number) => void;
}

/** How often onProgress is called. */
const PROGRESS_EVERY_MS = 2000;

/** Wait until count() reaches target; resolves with whether it did before the timeout or a stall. */
export async function waitForCount(count: () => number, target: number, opts: CountWaitOptions): Promise<boolean> {
	const end = performance.now() + opts.timeoutMs;
	let last = count();
	let lastChange = performance.now();
	let lastReport = lastChange;
	while (count() < target) {
		const now = performance.now();
		if (now >= end || now - lastChange >= opts.stallMs) return false;
		await opts.pause(end - now);
		const n = count();
		if (n !== last) {
			last = n;
			lastChange = performance.now();
		}
		if (opts.onProgress && performance.now() - lastReport > PROGRESS_EVERY_MS) {
			lastReport = performance.now();
			opts.onProgress(n);
		}
	}
	return true;
}
