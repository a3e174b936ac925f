/**
 * The Scrapy peer: a Python venv in .bench/venv (gitignored) with Scrapy from PyPI, made when missing,
 * and a run of bench/scrapy/run.py on the generated site. Failures come back as a reason, never thrown:
 * the benchmark prints it and goes on with the ratio marked missing.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./cluster.ts";

export const VENV = join(ROOT, ".bench", "venv");
const venvPython = join(VENV, "bin", "python");

export interface ScrapyResult {
	pages: number;
	items: number;
	seconds: number;
	pages_per_s: number;
	scrapy: string;
}

function run(cmd: string, args: string[], timeoutMs: number): { ok: boolean; out: string } {
	const r = spawnSync(cmd, args, { cwd: ROOT, encoding: "utf8", timeout: timeoutMs });
	const out = `${r.stdout ?? ""}${r.stderr ?? ""}${r.error ? String(r.error) : ""}`;
	return { ok: r.status === 0, out };
}

const lastLines = (text: string, n = 6) => text.trim().split("\n").slice(-n).join("\n");

/** The venv's python with Scrapy importable, installing what is missing; or why not. */
export function ensureScrapy(log: (line: string) => void): { python: string } | { error: string } {
	if (!existsSync(venvPython)) {
		const python = process.env.BENCH_PYTHON ?? "python3";
		log(`  creating the Python venv ${VENV} (${python} -m venv)`);
		mkdirSync(join(ROOT, ".bench"), { recursive: true });
		const r = run(python, ["-m", "venv", VENV], 120_000);
		if (!r.ok) {
			rmSync(VENV, { recursive: true, force: true });
			return { error: `could not create a venv with ${python} (set BENCH_PYTHON to a Python 3 with venv): ${lastLines(r.out)}` };
		}
	}
	if (run(venvPython, ["-c", "import scrapy"], 60_000).ok) return { python: venvPython };
	log("  installing Scrapy from PyPI into the venv (pip install scrapy), once");
	const r = run(venvPython, ["-m", "pip", "install", "--disable-pip-version-check", "-q", "scrapy"], 600_000);
	if (!r.ok) return { error: `pip install scrapy failed: ${lastLines(r.out)}` };
	return run(venvPython, ["-c", "import scrapy"], 60_000).ok ? { python: venvPython } : { error: "scrapy installed but does not import" };
}

export function runScrapy(python: string, opts: { seeds: string[]; maxdepth: number; concurrency: number; timeoutS: number }): Promise<ScrapyResult | { error: string }> {
	const out = join(ROOT, ".bench", "scrapy-items.jl");
	return new Promise(resolve => {
		const child = spawn(python, [join(ROOT, "bench/scrapy/run.py"), JSON.stringify({ ...opts, out })], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
		let stdout = "";
		let stderr = "";
		child.stdout.on("data", (b: Buffer) => void (stdout += b.toString("utf8")));
		child.stderr.on("data", (b: Buffer) => void (stderr = (stderr + b.toString("utf8")).slice(-8192)));
		const timer = setTimeout(() => child.kill("SIGKILL"), (opts.timeoutS + 60) * 1000);
		child.once("exit", code => {
			clearTimeout(timer);
			rmSync(out, { force: true });
			const line = stdout.trim().split("\n").pop() ?? "";
			try {
				if (code !== 0) throw new Error(`exit ${code}`);
				resolve(JSON.parse(line) as ScrapyResult);
			} catch (err) {
				resolve({ error: `Scrapy run failed (${(err as Error).message}): ${lastLines(stderr || stdout)}` });
			}
		});
	});
}
