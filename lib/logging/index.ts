/**
 * The node's logger: Moleculer's Winston adapter configured from the LOG_* settings.
 * - LOG_JSON: one JSON object a line: timestamp, level, logger (the Moleculer module, e.g. "ingest"),
 *   service (for a service's lines), node, message and every extra field passed as the second argument
 *   (`logger.info("msg", {..})`); multi-line messages stay on one line (JSON-escaped).
 * - LOG_STDOUT=false: LOG_DIR/LOG_FILE rolled by size at LOG_MAX_BYTES, keeping LOG_BACKUPS old files
 *   (winston's File transport does the rotation).
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { Loggers, type LogLevels } from "moleculer";
import winston from "winston";
import type { Settings } from "../../config/index.ts";

type LogSettings = Pick<Settings, "LOG_LEVEL" | "LOG_JSON" | "LOG_STDOUT" | "LOG_DIR" | "LOG_FILE" | "LOG_MAX_BYTES" | "LOG_BACKUPS">;

const LEVEL_BY_NAME: Record<string, LogLevels> = {
	TRACE: "trace",
	DEBUG: "debug",
	INFO: "info",
	WARNING: "warn",
	WARN: "warn",
	ERROR: "error",
	CRITICAL: "fatal",
	FATAL: "fatal"
};

/** Map a LOG_LEVEL value (Python or Moleculer spelling) to a Moleculer level. */
export function moleculerLevel(logLevel: string): LogLevels {
	const level = LEVEL_BY_NAME[logLevel.toUpperCase()];
	if (!level) throw new Error(`LOG_LEVEL: unknown level "${logLevel}"`);
	return level;
}

const BINDING_KEYS = new Set(["nodeID", "ns", "mod", "svc", "ver", "level", "message", "timestamp", "logger", "node", "service"]);

/**
 * Rename Moleculer's bindings to ELK-friendly names: mod -> logger, nodeID -> node, svc -> service (loggers
 * of a service only; broker and transit lines have none); drop the namespace and version.
 */
const bindingsFormat = winston.format(info => {
	const record = info as Record<string, unknown>;
	record.logger = typeof record.mod === "string" ? record.mod.toLowerCase() : "node";
	if (record.nodeID !== undefined) record.node = record.nodeID;
	if (typeof record.svc === "string") record.service = record.svc;
	delete record.mod;
	delete record.nodeID;
	delete record.ns;
	delete record.svc;
	delete record.ver;
	return info;
});

const textLine = winston.format.printf(info => {
	const record = info as Record<string, unknown>;
	const extra = Object.fromEntries(Object.entries(record).filter(([k]) => !BINDING_KEYS.has(k) && typeof k === "string"));
	const extraText = Object.keys(extra).length ? ` ${JSON.stringify(extra)}` : "";
	return `${String(record.timestamp)} ${String(record.level).toUpperCase().padEnd(5)} [${String(record.node ?? "-")}/${String(record.logger)}] ${String(record.message)}${extraText}`;
});

export function winstonOptions(settings: LogSettings): winston.LoggerOptions {
	const format = winston.format.combine(
		winston.format.timestamp(),
		winston.format.errors({ stack: true }),
		bindingsFormat(),
		settings.LOG_JSON ? winston.format.json() : textLine
	);
	let transport: winston.transport;
	if (settings.LOG_STDOUT) {
		transport = new winston.transports.Console({ format });
	} else {
		mkdirSync(settings.LOG_DIR, { recursive: true });
		transport = new winston.transports.File({
			filename: join(settings.LOG_DIR, settings.LOG_FILE),
			maxsize: settings.LOG_MAX_BYTES,
			maxFiles: settings.LOG_BACKUPS + 1,
			tailable: true,
			format
		});
	}
	return { level: "silly", transports: [transport] };
}

/** Moleculer's Winston logger that also closes its transports (the log file) when the broker stops. */
class ClosingWinstonLogger extends Loggers.Winston {
	override stop(): void {
		const self = this as unknown as { winston?: winston.Logger };
		self.winston?.close();
	}
}

/** The `logger` broker option for these settings. */
export function buildLogger(settings: LogSettings): Loggers.Winston {
	return new ClosingWinstonLogger({
		level: moleculerLevel(settings.LOG_LEVEL),
		winston: winstonOptions(settings)
	} as ConstructorParameters<typeof Loggers.Winston>[0]);
}
