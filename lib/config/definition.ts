/**
 * Typed setting definitions and the parsing of raw values (environment strings or JSON values from the
 * local override file). Pure: no I/O, no process.env access.
 */

export type SettingKind = "string" | "int" | "float" | "bool" | "list" | "intList" | "json";

export interface SettingDefinition<T> {
	kind: SettingKind;
	default: T;
	/** One line for README and `--help`-style listings. */
	description: string;
	/** Section heading used when the settings are listed. */
	group: string;
	/** Other names accepted for the same setting (older or misspelt names of the original). */
	aliases?: readonly string[];
	/** `null` is a legal value (the default may be null too). */
	nullable?: boolean;
	min?: number;
	max?: number;
	/** Allowed values of a string setting, compared case-insensitively; the canonical spelling is kept. */
	choices?: readonly string[];
	/** Extra check run after parsing; returns an error text or null. */
	check?(value: T): string | null;
	/** Secret values are masked when settings are printed. */
	secret?: boolean;
}

export class SettingValueError extends Error {
	constructor(message: string) {
		super(message);
		this.name = "SettingValueError";
	}
}

type Opts<T> = Omit<SettingDefinition<T>, "kind" | "default" | "description" | "group">;

function define<T>(kind: SettingKind, group: string, def: T, description: string, opts: Opts<T> = {}): SettingDefinition<T> {
	return { kind, group, default: def, description, ...opts };
}

/** Builders used by config/settings.ts. The group is bound once per section. */
export function section(group: string) {
	return {
		str: (def: string, description: string, opts?: Opts<string>) => define<string>("string", group, def, description, opts),
		optStr: (def: string | null, description: string, opts?: Opts<string | null>) =>
			define<string | null>("string", group, def, description, { ...opts, nullable: true }),
		int: (def: number, description: string, opts?: Opts<number>) => define<number>("int", group, def, description, opts),
		optInt: (def: number | null, description: string, opts?: Opts<number | null>) =>
			define<number | null>("int", group, def, description, { ...opts, nullable: true }),
		float: (def: number, description: string, opts?: Opts<number>) => define<number>("float", group, def, description, opts),
		bool: (def: boolean, description: string, opts?: Opts<boolean>) => define<boolean>("bool", group, def, description, opts),
		list: (def: string[], description: string, opts?: Opts<string[]>) => define<string[]>("list", group, def, description, opts),
		intList: (def: number[], description: string, opts?: Opts<number[]>) => define<number[]>("intList", group, def, description, opts),
		json: <T>(def: T, description: string, opts?: Opts<T>) => define<T>("json", group, def, description, opts)
	};
}

const TRUE_WORDS = new Set(["1", "true", "yes", "on", "y"]);
const FALSE_WORDS = new Set(["0", "false", "no", "off", "n"]);
const NULL_WORDS = new Set(["", "null", "none"]);

function describeKind(def: SettingDefinition<unknown>): string {
	const range =
		def.min !== undefined && def.max !== undefined
			? ` between ${def.min} and ${def.max}`
			: def.min !== undefined
				? ` >= ${def.min}`
				: def.max !== undefined
					? ` <= ${def.max}`
					: "";
	switch (def.kind) {
		case "int":
			return `an integer${range}`;
		case "float":
			return `a number${range}`;
		case "bool":
			return "a boolean (true/false, 1/0, yes/no)";
		case "list":
			return "a list (JSON array or comma-separated)";
		case "intList":
			return "a list of integers (JSON array or comma-separated)";
		case "json":
			return "a JSON value";
		default:
			return def.choices ? `one of ${def.choices.join(", ")}` : "a string";
	}
}

function checkRange(def: SettingDefinition<unknown>, n: number): boolean {
	if (def.min !== undefined && n < def.min) return false;
	if (def.max !== undefined && n > def.max) return false;
	return true;
}

function splitList(raw: string): unknown[] {
	const trimmed = raw.trim();
	if (trimmed.startsWith("[")) {
		const parsed: unknown = JSON.parse(trimmed);
		if (!Array.isArray(parsed)) throw new Error("not an array");
		return parsed;
	}
	if (trimmed === "") return [];
	return trimmed.split(",").map(s => s.trim());
}

/**
 * Parse one raw value (a string from the environment, or any JSON value from the local file) into the
 * setting's type. Throws SettingValueError with a message naming what was expected.
 */
export function parseSettingValue<T>(def: SettingDefinition<T>, raw: unknown): T {
	const fail = (): never => {
		const shown = typeof raw === "string" ? JSON.stringify(raw) : JSON.stringify(raw) ?? String(raw);
		throw new SettingValueError(`expected ${describeKind(def as SettingDefinition<unknown>)}${def.nullable ? " or null" : ""}, got ${shown}`);
	};

	if (raw === null || (typeof raw === "string" && def.nullable && NULL_WORDS.has(raw.trim().toLowerCase()))) {
		if (def.nullable) return null as T;
		fail();
	}

	let value: unknown;
	switch (def.kind) {
		case "string": {
			if (typeof raw !== "string") fail();
			const s = raw as string;
			if (def.choices) {
				const hit = def.choices.find(c => c.toLowerCase() === s.trim().toLowerCase());
				if (hit === undefined) fail();
				value = hit;
			} else value = s;
			break;
		}
		case "int": {
			const n = typeof raw === "number" ? raw : typeof raw === "string" && /^\s*[-+]?\d+\s*$/.test(raw) ? Number(raw) : NaN;
			if (!Number.isSafeInteger(n) || !checkRange(def as SettingDefinition<unknown>, n)) fail();
			value = n;
			break;
		}
		case "float": {
			const n = typeof raw === "number" ? raw : typeof raw === "string" && raw.trim() !== "" ? Number(raw) : NaN;
			if (!Number.isFinite(n) || !checkRange(def as SettingDefinition<unknown>, n)) fail();
			value = n;
			break;
		}
		case "bool": {
			if (typeof raw === "boolean") value = raw;
			else if (typeof raw === "number" && (raw === 0 || raw === 1)) value = raw === 1;
			else if (typeof raw === "string" && TRUE_WORDS.has(raw.trim().toLowerCase())) value = true;
			else if (typeof raw === "string" && FALSE_WORDS.has(raw.trim().toLowerCase())) value = false;
			else fail();
			break;
		}
		case "list":
		case "intList": {
			let items: unknown[] = [];
			try {
				items = Array.isArray(raw) ? raw : typeof raw === "string" ? splitList(raw) : fail();
			} catch {
				fail();
			}
			if (def.kind === "list") {
				if (!items.every(i => typeof i === "string")) fail();
				value = items;
			} else {
				const nums = items.map(i => (typeof i === "string" && /^\s*[-+]?\d+\s*$/.test(i) ? Number(i) : i));
				if (!nums.every(n => typeof n === "number" && Number.isSafeInteger(n))) fail();
				value = nums;
			}
			break;
		}
		case "json": {
			if (typeof raw === "string") {
				try {
					value = JSON.parse(raw);
				} catch {
					fail();
				}
			} else value = raw;
			break;
		}
	}

	if (def.check) {
		const problem = def.check(value as T);
		if (problem) throw new SettingValueError(problem);
	}
	return value as T;
}
