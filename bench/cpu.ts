/**
 * Who used the machine during a measurement: CPU time of named processes over an interval, read from
 * /proc/<pid>/stat (Linux; elsewhere, or for a process gone meanwhile, the name is left out), as a share of
 * one core (1 = one core busy the whole interval).
 */
import { existsSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";

/** Clock ticks per second of /proc's CPU times (USER_HZ, 100 on Linux). */
const TICKS_PER_S = 100;

function cpuSeconds(pid: number): number | null {
	try {
		const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
		// Fields after the command name (which may hold spaces) in parentheses; utime and stime are fields 14 and 15.
		const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
		return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_S;
	} catch {
		return null;
	}
}

/** Read and write system calls a process made so far, from /proc/<pid>/io, or null. */
function ioCalls(pid: number): { reads: number; writes: number } | null {
	try {
		const io = readFileSync(`/proc/${pid}/io`, "utf8");
		const reads = /^syscr:\s*(\d+)/m.exec(io);
		const writes = /^syscw:\s*(\d+)/m.exec(io);
		return reads && writes ? { reads: Number(reads[1]), writes: Number(writes[1]) } : null;
	} catch {
		return null;
	}
}

/** Busy seconds of the whole machine (all CPUs: processes, kernel, interrupts) from /proc/stat, or null. */
function machineBusySeconds(): number | null {
	try {
		const line = readFileSync("/proc/stat", "utf8").split("\n")[0]!;
		// cpu user nice system idle iowait irq softirq steal ...
		const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
		return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) / TICKS_PER_S;
	} catch {
		return null;
	}
}

export class CpuMeter {
	private readonly start = new Map<string, { pid: number; cpu: number; io: { reads: number; writes: number } | null }>();
	private readonly startedAt = performance.now();
	private readonly machineAt = machineBusySeconds();

	constructor(pids: Record<string, number | undefined>) {
		for (const [name, pid] of Object.entries(pids)) {
			const cpu = pid === undefined ? null : cpuSeconds(pid);
			if (pid !== undefined && cpu !== null) this.start.set(name, { pid, cpu, io: ioCalls(pid) });
		}
	}

	/** Seconds since the meter started. */
	seconds(): number {
		return (performance.now() - this.startedAt) / 1000;
	}

	/** Read and write system calls (sockets, files, pipes) each process made since the meter started. */
	ioCalls(): Record<string, { reads: number; writes: number }> {
		const out: Record<string, { reads: number; writes: number }> = {};
		for (const [name, { pid, io }] of this.start) {
			const now = ioCalls(pid);
			if (io && now) out[name] = { reads: now.reads - io.reads, writes: now.writes - io.writes };
		}
		return out;
	}

	/** Share of one core each process used since the meter started, two decimals. */
	read(): Record<string, number> {
		const seconds = (performance.now() - this.startedAt) / 1000;
		const out: Record<string, number> = {};
		for (const [name, { pid, cpu }] of this.start) {
			const now = cpuSeconds(pid);
			if (now !== null && seconds > 0) out[name] = Math.round(((now - cpu) / seconds) * 100) / 100;
		}
		const machine = machineBusySeconds();
		// Everything, including kernel work no process is charged for (loopback networking in interrupts).
		if (machine !== null && this.machineAt !== null && seconds > 0) out.machine = Math.round(((machine - this.machineAt) / seconds) * 100) / 100;
		return out;
	}
}

/** Pids of the data stack started by scripts/infra.sh (its run directory), by name; external services are absent. */
export function infraPids(root: string): Record<string, number> {
	const run = join(process.env.INFRA_DIR || join(root, ".infra"), "run");
	const out: Record<string, number> = {};
	for (const name of ["redis", "kafka", "zookeeper"]) {
		const file = join(run, `${name}.pid`);
		if (!existsSync(file)) continue;
		const pid = Number(readFileSync(file, "utf8").trim());
		if (Number.isInteger(pid) && pid > 0) out[name] = pid;
	}
	return out;
}

/** "crawler1 98%, kafka 18%, ...; machine 170% of 200%" largest first. */
export function formatShares(shares: Record<string, number>): string {
	const { machine, ...processes } = shares;
	const list = Object.entries(processes)
		.sort((a, b) => b[1] - a[1])
		.map(([name, share]) => `${name} ${Math.round(share * 100)}%`)
		.join(", ");
	return machine === undefined ? list : `${list}; whole machine ${Math.round(machine * 100)}% of ${availableParallelism() * 100}%`;
}
