/**
 * Preloaded into cluster node processes by the benchmark (BENCH_LOOP_PROBE=1: `node --import
 * ./bench/loop-probe.ts bin/node.ts`): measures the event loop's delay (how late a ready callback runs,
 * e.g. the reply of a Redis round trip waiting behind a page being parsed) and the process' CPU time
 * between a SIGUSR2 (sent by the benchmark when the crawl starts) and exit, and writes them as JSON to
 * BENCH_LOOP_PROBE_OUT. With BENCH_LOOP_PROBE_PROFILE (a folder), it also takes a CPU profile of that window
 * only (not of start-up and warm-up, as --cpu-prof would) and writes it there as <pid>.cpuprofile. Nothing
 * here changes what the node does.
 */
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import { join } from "node:path";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";

const out = process.env.BENCH_LOOP_PROBE_OUT;
if (out) {
	const histogram = monitorEventLoopDelay({ resolution: 2 });
	histogram.enable();
	let since = performance.now();
	let cpu = process.cpuUsage();
	let elu = performance.eventLoopUtilization();
	let signals = 0;
	let snapshot: string | null = null;
	const measure = () => {
		const used = process.cpuUsage(cpu);
		const ms = (ns: number) => Number((ns / 1e6).toFixed(2));
		const wall = performance.now() - since;
		return JSON.stringify({
			wall_ms: Math.round(wall),
			cpu_ms: Math.round((used.user + used.system) / 1000),
			cpu_share: Number(((used.user + used.system) / 1000 / wall).toFixed(2)),
			// Share of the wall time the main thread ran JavaScript or callbacks (the rest: waiting for I/O).
			loop_busy: Number(performance.eventLoopUtilization(elu).utilization.toFixed(2)),
			loop_delay_ms: { mean: ms(histogram.mean), p50: ms(histogram.percentile(50)), p90: ms(histogram.percentile(90)), p99: ms(histogram.percentile(99)), max: ms(histogram.max) }
		});
	};
	const profileDir = process.env.BENCH_LOOP_PROBE_PROFILE;
	const session = profileDir ? new Session() : null;
	session?.connect();
	// First SIGUSR2: start of the measured window; second: its end.
	process.on("SIGUSR2", () => {
		if (signals++ === 0) {
			histogram.reset();
			since = performance.now();
			cpu = process.cpuUsage();
			elu = performance.eventLoopUtilization();
			session?.post("Profiler.enable", () => session.post("Profiler.start"));
		} else if (snapshot === null) {
			snapshot = measure();
			session?.post("Profiler.stop", (err, result) => {
				if (!err) writeFileSync(join(profileDir!, `${process.pid}.cpuprofile`), JSON.stringify(result.profile));
			});
		}
	});
	process.on("exit", () => writeFileSync(out, snapshot ?? measure()));
}
