/**
 * Running progress of a command-line tool on a stream (stderr), so stdout stays the data:
 * - on a terminal, one line rewritten in place about every second;
 * - otherwise (a file, a pipe, a CI log), a plain line every `intervalS` seconds, only when something changed.
 * The caller owns the timer (tick()); `finish()` ends the in-place line.
 */
import { fstatSync, readlinkSync } from "node:fs";

export interface ProgressStream {
	write(text: string): unknown;
	isTTY?: boolean;
}

export class ProgressReporter {
	private readonly stream: ProgressStream;
	private readonly render: () => string;
	private readonly tty: boolean;
	private lastLine = "";
	private shown = false;

	constructor(stream: ProgressStream, render: () => string) {
		this.stream = stream;
		this.render = render;
		this.tty = Boolean(stream.isTTY);
	}

	/** Show the current progress (in place on a terminal; a new line otherwise, unless unchanged). */
	tick(): void {
		const line = this.render();
		if (this.tty) {
			this.stream.write(`\r\x1b[K${line}`);
			this.shown = true;
		} else if (line !== this.lastLine) {
			this.stream.write(`${line}\n`);
		}
		this.lastLine = line;
	}

	/** Before another line is written to the same stream: clear the in-place line (terminal only). */
	clear(): void {
		if (this.tty && this.shown) {
			this.stream.write("\r\x1b[K");
			this.shown = false;
		}
	}

	/** The final state, on a line of its own. */
	finish(): void {
		const line = this.render();
		if (this.tty) this.stream.write(`\r\x1b[K${line}\n`);
		else if (line !== this.lastLine) this.stream.write(`${line}\n`);
		this.lastLine = line;
		this.shown = false;
	}
}

/** Where a file descriptor goes, for "writing to ...": the terminal, a file (with its path), a pipe. */
export function describeOutput(fd: number, isTTY: boolean): string {
	if (isTTY) return "the terminal";
	try {
		const st = fstatSync(fd);
		if (st.isFile()) {
			try {
				return `the file ${readlinkSync(`/proc/self/fd/${fd}`)}`;
			} catch {
				return "a file";
			}
		}
		// A shell pipe is a FIFO; a parent process's pipe (Node's spawn) is a socket pair.
		if (st.isFIFO() || st.isSocket()) return "a pipe";
		if (st.isCharacterDevice()) return "a character device";
	} catch {
		/* unknown */
	}
	return "standard output";
}
