/**
 * The node's recent warnings and errors, kept in memory for the dashboard (`monitor.recent`):
 * - RecentLog: a bounded ring buffer of log entries (pure); messages and data are cut to a few hundred
 *   characters, so a flood of huge errors costs bounded memory.
 * - RecentLogAppender: a Moleculer logger (one more appender beside the node's Winston logger, see
 *   lib/node/broker-options.ts) that puts every warn, error and fatal line of every module in a RecentLog,
 *   whatever LOG_LEVEL says.
 */
import { Loggers, type ServiceBroker } from "moleculer";

type AppenderOptions = NonNullable<ConstructorParameters<typeof Loggers.Base>[0]>;

export interface RecentEntry {
	/** Unix milliseconds. */
	time: number;
	level: "warn" | "error" | "fatal";
	/** The Moleculer module (service name, "broker", "transit", ...), lower-case. */
	module: string;
	message: string;
	/** The data object of the line as JSON, cut to RECENT_DATA_CHARS; absent when the line had none. */
	data?: string;
}

/** Entries a node keeps. */
export const RECENT_CAPACITY = 200;
export const RECENT_MESSAGE_CHARS = 500;
export const RECENT_DATA_CHARS = 1000;

const cut = (text: string, max: number): string => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** JSON of a log argument that never throws (cycles, BigInt) and keeps an Error's message and name. */
function describe(value: unknown): string {
	if (value instanceof Error) return JSON.stringify({ name: value.name, message: value.message });
	try {
		const seen = new WeakSet<object>();
		return (
			JSON.stringify(value, (_k, v: unknown) => {
				if (typeof v === "bigint") return v.toString();
				if (v instanceof Error) return { name: v.name, message: v.message };
				if (v !== null && typeof v === "object") {
					if (seen.has(v)) return "[circular]";
					seen.add(v);
				}
				return v;
			}) ?? String(value)
		);
	} catch {
		return String(value);
	}
}

/** One log call (level, module, arguments) as an entry, or null for levels below warn. */
export function recentEntry(level: string, module: string, args: readonly unknown[], now = Date.now()): RecentEntry | null {
	if (level !== "warn" && level !== "error" && level !== "fatal") return null;
	const [first, ...rest] = args;
	const message = first instanceof Error ? first.message : typeof first === "string" ? first : describe(first);
	const entry: RecentEntry = { time: now, level, module: module.toLowerCase(), message: cut(message, RECENT_MESSAGE_CHARS) };
	const extra = first instanceof Error ? [{ name: first.name }, ...rest] : rest;
	if (extra.length) entry.data = cut(extra.map(describe).join(" "), RECENT_DATA_CHARS);
	return entry;
}

/** A ring buffer of the last `capacity` entries. */
export class RecentLog {
	private readonly entries: RecentEntry[] = [];
	private next = 0;
	/** Entries ever added (also those overwritten since). */
	total = 0;

	readonly capacity: number;

	constructor(capacity = RECENT_CAPACITY) {
		this.capacity = capacity;
		if (!(capacity >= 1)) throw new Error("RecentLog capacity must be at least 1");
	}

	add(entry: RecentEntry): void {
		this.total++;
		if (this.entries.length < this.capacity) this.entries.push(entry);
		else this.entries[this.next] = entry;
		this.next = (this.next + 1) % this.capacity;
	}

	/** The newest `limit` entries, newest first. */
	list(limit = this.capacity): RecentEntry[] {
		const ordered = this.entries.length < this.capacity ? this.entries.slice() : [...this.entries.slice(this.next), ...this.entries.slice(0, this.next)];
		return ordered.reverse().slice(0, Math.max(0, limit));
	}

	get size(): number {
		return this.entries.length;
	}
}

/** A Moleculer logger appender that keeps warnings and errors of every module in a RecentLog. */
export class RecentLogAppender extends Loggers.Base<AppenderOptions> {
	readonly recent: RecentLog;

	constructor(capacity = RECENT_CAPACITY) {
		super({ level: "warn" });
		this.recent = new RecentLog(capacity);
	}

	override getLogHandler(bindings: { mod?: string }): (level: string, args: unknown[]) => void {
		const module = String(bindings.mod ?? "node");
		return (level: string, args: unknown[]) => {
			const entry = recentEntry(level, module, args);
			if (entry) this.recent.add(entry);
		};
	}
}

/** The RecentLog of a broker whose logger includes a RecentLogAppender; null otherwise. */
export function recentLogOf(broker: ServiceBroker): RecentLog | null {
	const factory = (broker as unknown as { loggerFactory?: { appenders?: unknown[] } }).loggerFactory;
	const appender = factory?.appenders?.find((a: unknown): a is RecentLogAppender => a instanceof RecentLogAppender);
	return appender?.recent ?? null;
}
