/** Small pure helpers of the benchmark: percentiles and figure formatting. */

/** The q-quantile (0..1) by the nearest-rank method: the smallest value with at least q of the values at or below it. */
export function percentile(values: readonly number[], q: number): number {
	if (!values.length) return Number.NaN;
	const sorted = [...values].sort((a, b) => a - b);
	const rank = Math.ceil(q * sorted.length);
	return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export const round = (x: number, digits = 1): number => Number(x.toFixed(digits));

/** ratio a/b, or null when either is missing or b is zero. */
export function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
	if (a === null || a === undefined || b === null || b === undefined || !(b > 0) || !Number.isFinite(a)) return null;
	return round(a / b, 2);
}

/**
 * Ratios a/b of measurements taken in the same round (one after the other, seconds apart), and their median
 * (the lower middle one of an even count). On a machine whose speed drifts during a run, a pair measured
 * side by side says more than the best a of all rounds over the best b, which may come from different moments.
 */
export function pairedRatios(rounds: ReadonlyArray<{ a: number | null; b: number | null }>): { each: Array<number | null>; median: number | null } {
	const each = rounds.map(r => ratio(r.a, r.b));
	const known = each.filter((x): x is number => x !== null);
	return { each, median: known.length ? percentile(known, 0.5) : null };
}

/** Redis INFO commandstats as command -> calls. */
export function parseCommandStats(info: string): Map<string, number> {
	const out = new Map<string, number>();
	for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) out.set(m[1]!, Number(m[2]));
	return out;
}

/** after - before, per command, dropping commands that did not change. */
export function commandDelta(before: Map<string, number>, after: Map<string, number>): Map<string, number> {
	const out = new Map<string, number>();
	for (const [cmd, calls] of after) {
		const d = calls - (before.get(cmd) ?? 0);
		if (d > 0) out.set(cmd, d);
	}
	return out;
}

/** Pages per second in each `bucketMs` after `from`, from the times pages landed (ms since the epoch). */
export function rateTimeline(landed: readonly number[], from: number, bucketMs: number): number[] {
	const counts: number[] = [];
	for (const at of landed) {
		const i = Math.max(0, Math.floor((at - from) / bucketMs));
		while (counts.length <= i) counts.push(0);
		counts[i]!++;
	}
	return counts.map(n => round((n * 1000) / bucketMs));
}
