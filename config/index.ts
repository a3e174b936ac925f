/**
 * Where configuration enters the program: defaults, then the local override file, then the environment,
 * each value typed and checked. All problems are reported together in one ConfigError.
 */
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseSettingValue, SettingValueError, type SettingDefinition } from "../lib/config/definition.ts";
import { SETTING_DEFINITIONS, type SettingName, type Settings } from "./settings.ts";

export { SETTING_DEFINITIONS, type Settings, type SettingName };

/** The default local override file, relative to the working directory (the project root under npm). */
export const DEFAULT_LOCAL_SETTINGS_FILE = "config/localsettings.json";

export class ConfigError extends Error {
	readonly problems: string[];
	constructor(problems: string[]) {
		super(`Invalid configuration:\n  - ${problems.join("\n  - ")}`);
		this.name = "ConfigError";
		this.problems = problems;
	}
}

export interface LoadSettingsOptions {
	/** Environment to read (default: process.env). */
	env?: Record<string, string | undefined>;
	/**
	 * Local override file (JSON object of setting name to value). Default: $LOCAL_SETTINGS, else
	 * config/localsettings.json when it exists. `false` skips the file.
	 */
	localFile?: string | false;
	/** Values applied last, over the environment (tests, embedding). Typed values or strings. */
	overrides?: Partial<Record<SettingName, unknown>>;
}

const NAMES = Object.keys(SETTING_DEFINITIONS) as SettingName[];
const definitionOf = (name: SettingName) => SETTING_DEFINITIONS[name] as SettingDefinition<unknown>;

/** Map every accepted name (including aliases) to its canonical setting name. */
const NAME_BY_ALIAS: ReadonlyMap<string, SettingName> = new Map(
	NAMES.flatMap(name => [[name, name] as const, ...(definitionOf(name).aliases ?? []).map(a => [a, name] as const)])
);

function closestName(unknown: string): string | null {
	// A small edit-distance search so a typo in the local file gets a useful hint.
	const distance = (a: string, b: string): number => {
		const row = Array.from({ length: b.length + 1 }, (_, i) => i);
		for (let i = 1; i <= a.length; i++) {
			let prev = row[0]!;
			row[0] = i;
			for (let j = 1; j <= b.length; j++) {
				const tmp = row[j]!;
				row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
				prev = tmp;
			}
		}
		return row[b.length]!;
	};
	let best: string | null = null;
	let bestDistance = 4;
	for (const name of NAME_BY_ALIAS.keys()) {
		const d = distance(unknown.toUpperCase(), name);
		if (d < bestDistance) {
			best = name;
			bestDistance = d;
		}
	}
	return best;
}

function readLocalFile(path: string, problems: string[]): Record<string, unknown> {
	let text: string;
	try {
		text = readFileSync(path, "utf8");
	} catch (err) {
		problems.push(`cannot read local settings file ${path}: ${(err as Error).message}`);
		return {};
	}
	let parsed: unknown;
	try {
		parsed = JSON.parse(text);
	} catch (err) {
		problems.push(`local settings file ${path} is not valid JSON: ${(err as Error).message}`);
		return {};
	}
	if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
		problems.push(`local settings file ${path} must hold a JSON object of setting names to values`);
		return {};
	}
	return parsed as Record<string, unknown>;
}

/** Settings that are valid alone but not together. */
function crossCheck(values: Map<SettingName, unknown>): string[] {
	const problems: string[] = [];
	if (values.get("REDIS_CLUSTER") === true) {
		if (values.get("REDIS_DB") !== 0) problems.push(`REDIS_DB must be 0 with REDIS_CLUSTER=true (a Redis Cluster has only database 0; got ${String(values.get("REDIS_DB"))})`);
		if (values.get("SCHEDULER_TYPE_ENABLED") !== true)
			problems.push("SCHEDULER_TYPE_ENABLED must be true with REDIS_CLUSTER=true (a throttle shared by spider types would span hash slots)");
	}
	return problems;
}

/** Load, type and check every setting. Throws ConfigError naming each bad setting and where it came from. */
export function loadSettings(options: LoadSettingsOptions = {}): Settings {
	const env = options.env ?? process.env;
	const problems: string[] = [];
	const values = new Map<SettingName, unknown>();
	for (const name of NAMES) values.set(name, definitionOf(name).default);

	const apply = (name: SettingName, raw: unknown, source: string) => {
		try {
			values.set(name, parseSettingValue(definitionOf(name), raw));
		} catch (err) {
			if (!(err instanceof SettingValueError)) throw err;
			problems.push(`${name} (from ${source}): ${err.message}`);
		}
	};

	const filePath =
		options.localFile === false
			? null
			: (options.localFile ?? env.LOCAL_SETTINGS ?? (existsSync(resolve(DEFAULT_LOCAL_SETTINGS_FILE)) ? DEFAULT_LOCAL_SETTINGS_FILE : null));
	if (filePath) {
		const local = readLocalFile(resolve(filePath), problems);
		for (const [key, raw] of Object.entries(local)) {
			const name = NAME_BY_ALIAS.get(key);
			if (!name) {
				const hint = closestName(key);
				problems.push(`unknown setting "${key}" in ${filePath}${hint ? ` (did you mean ${hint}?)` : ""}`);
				continue;
			}
			apply(name, raw, filePath);
		}
	}

	for (const name of NAMES) {
		// The canonical name wins over aliases when both are set.
		const names = [...(definitionOf(name).aliases ?? []), name];
		for (const candidate of names) {
			const raw = env[candidate];
			if (raw !== undefined) apply(name, raw, `environment variable ${candidate}`);
		}
	}

	for (const [key, raw] of Object.entries(options.overrides ?? {})) {
		const name = NAME_BY_ALIAS.get(key);
		if (!name) problems.push(`unknown setting "${key}" in overrides`);
		else apply(name, raw, "overrides");
	}

	if (!problems.length) problems.push(...crossCheck(values));
	if (problems.length) throw new ConfigError(problems);
	return Object.freeze(Object.fromEntries(values)) as unknown as Settings;
}

/** Settings as printable pairs, secrets masked. */
export function describeSettings(settings: Settings): Array<[SettingName, string]> {
	return NAMES.map(name => {
		const value = settings[name];
		const shown = definitionOf(name).secret && value !== null ? "********" : JSON.stringify(value);
		return [name, shown];
	});
}
