import { closeSync, openSync, realpathSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeOutput, ProgressReporter } from "../../../lib/progress/reporter.ts";

function stream(isTTY: boolean) {
	const chunks: string[] = [];
	return { chunks, s: { isTTY, write: (t: string) => chunks.push(t) } };
}

describe("progress reporter", () => {
	it("on a terminal rewrites one line in place, clears it for other output and ends it with a newline", () => {
		const { chunks, s } = stream(true);
		let n = 0;
		const p = new ProgressReporter(s, () => `n=${n}`);
		p.tick();
		n = 1;
		p.tick();
		p.clear();
		p.clear();
		n = 2;
		p.finish();
		expect(chunks).toEqual(["\r\x1b[Kn=0", "\r\x1b[Kn=1", "\r\x1b[K", "\r\x1b[Kn=2\n"]);
	});

	it("elsewhere writes plain lines, only when something changed, and no control characters", () => {
		const { chunks, s } = stream(false);
		let n = 0;
		const p = new ProgressReporter(s, () => `n=${n}`);
		p.tick();
		p.tick();
		n = 3;
		p.tick();
		p.clear();
		p.finish();
		n = 4;
		p.finish();
		expect(chunks).toEqual(["n=0\n", "n=3\n", "n=4\n"]);
	});

	it("tells where output goes", () => {
		expect(describeOutput(1, true)).toBe("the terminal");
		const dir = mkdtempSync(join(tmpdir(), "progress-"));
		const file = join(dir, "out.jsonl");
		const fd = openSync(file, "w");
		try {
			expect(describeOutput(fd, false)).toBe(`the file ${realpathSync(file)}`);
		} finally {
			closeSync(fd);
		}
		expect(describeOutput(987654, false)).toBe("standard output");
	});
});
