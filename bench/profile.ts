/**
 * Summary of the crawler processes' CPU profiles (BENCH_CPU_PROF=1: bench/loop-probe.ts profiles each crawler's timed crawl): self time by
 * area (a node_modules package, a project folder, GC, idle) and the top functions, so the benchmark says
 * where a crawler's time goes. Also usable alone: node bench/profile.ts <dir with .cpuprofile files>.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

interface ProfileNode {
	id: number;
	callFrame: { functionName: string; url: string; lineNumber: number };
	hitCount?: number;
}

interface CpuProfile {
	nodes: ProfileNode[];
	startTime: number;
	endTime: number;
	samples?: number[];
	timeDeltas?: number[];
}

/** The area a script URL belongs to: node_modules/<package>, a project folder (lib/crawl, services, ...), node:internal. */
export function areaOf(url: string, functionName: string): string {
	if (!url) return functionName.startsWith("(") ? functionName : "(native)";
	const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
	if (nm) return nm[1]!;
	if (url.startsWith("node:")) return "node:internal";
	const project = /\/(lib\/[^/]+|services|mixins|config|bin|bench)\//.exec(url);
	return project ? project[1]! : url;
}

export function summarizeProfile(profile: CpuProfile): { totalMs: number; byArea: Map<string, number>; byFunction: Map<string, number> } {
	const selfMs = new Map<number, number>();
	if (profile.samples && profile.timeDeltas) {
		profile.samples.forEach((id, i) => selfMs.set(id, (selfMs.get(id) ?? 0) + (profile.timeDeltas![i] ?? 0) / 1000));
	}
	const byArea = new Map<string, number>();
	const byFunction = new Map<string, number>();
	let totalMs = 0;
	for (const node of profile.nodes) {
		const ms = selfMs.get(node.id) ?? 0;
		if (!ms) continue;
		totalMs += ms;
		const { functionName, url, lineNumber } = node.callFrame;
		const area = areaOf(url, functionName);
		byArea.set(area, (byArea.get(area) ?? 0) + ms);
		const fn = `${functionName || "(anonymous)"} ${url ? `${url.replace(/^.*\/(node_modules\/)?/, "")}:${lineNumber + 1}` : ""}`.trim();
		byFunction.set(fn, (byFunction.get(fn) ?? 0) + ms);
	}
	return { totalMs, byArea, byFunction };
}

/** Print a summary of every .cpuprofile in `dir`; returns the dir (or null when there is none). */
export function summarizeProfiles(dir: string, log: (line: string) => void): string | null {
	if (!existsSync(dir)) return null;
	const files = readdirSync(dir).filter(f => f.endsWith(".cpuprofile"));
	for (const f of files) {
		const { totalMs, byArea, byFunction } = summarizeProfile(JSON.parse(readFileSync(join(dir, f), "utf8")) as CpuProfile);
		const pct = (ms: number) => `${((100 * ms) / totalMs).toFixed(1)}%`;
		log(`\n  CPU profile ${f} (${(totalMs / 1000).toFixed(1)} s sampled)`);
		log(`    by area: ${[...byArea.entries()].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([a, ms]) => `${a} ${pct(ms)}`).join(", ")}`);
		for (const [fn, ms] of [...byFunction.entries()].sort((a, b) => b[1] - a[1]).slice(0, 15)) log(`    ${pct(ms).padStart(6)}  ${fn}`);
	}
	log(`  profiles in ${dir} (open them in Chrome DevTools > Performance)`);
	return dir;
}

if (import.meta.main) summarizeProfiles(process.argv[2] ?? ".", line => process.stdout.write(`${line}\n`));
