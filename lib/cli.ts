/**
 * Small helpers for the command-line tools (bin/feed.ts, bin/dump.ts): settings with a clean exit on
 * bad configuration, and log lines in the original's "<time> [<name>] LEVEL: message" shape.
 */
import { ConfigError, loadSettings, type Settings } from "../config/index.ts";

export function cliSettings(): Settings {
	try {
		return loadSettings();
	} catch (err) {
		if (err instanceof ConfigError) {
			process.stderr.write(`${err.message}\n`);
			process.exit(78);
		}
		throw err;
	}
}

export interface CliLog {
	error(message: string, data?: object): void;
	warn(message: string, data?: object): void;
	info(message: string, data?: object): void;
	debug(message: string, data?: object): void;
}

/** Log lines to stderr (stdout stays for the tool's output); debug lines only with LOG_LEVEL=DEBUG. */
export function cliLog(name: string, settings: Settings, stream: NodeJS.WritableStream = process.stderr): CliLog {
	const debug = ["DEBUG", "TRACE"].includes(settings.LOG_LEVEL.toUpperCase());
	const write = (level: string, message: string, data?: object) =>
		stream.write(`${new Date().toISOString()} [${name}] ${level}: ${message}${data && Object.keys(data).length ? ` ${JSON.stringify(data)}` : ""}\n`);
	return {
		error: (m, d) => write("ERROR", m, d),
		warn: (m, d) => write("WARNING", m, d),
		info: (m, d) => write("INFO", m, d),
		debug: (m, d) => (debug ? write("DEBUG", m, d) : undefined)
	};
}

/** A log for library internals (the Kafka client): only errors, the rest at DEBUG. */
export function quietLog(log: CliLog): CliLog {
	return { error: log.error, warn: log.debug, info: log.debug, debug: log.debug };
}
