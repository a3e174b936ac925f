/**
 * The edits of Scrapy Cluster's ZookeeperMonitor on the crawler configuration document (pure, no I/O):
 * load the YAML (empty → {}), ensure `domains: {}` and `blacklist: []`, apply one action, and write the
 * document back as Python's `yaml.safe_dump(d, default_flow_style=False)` does: block style, keys
 * sorted, sequences not indented under their key, floats as Python writes them (`1.0`, `0.9`, `1.0e-05`).
 *
 *   blacklist: []                       blacklist:
 *   domains: {}        + blacklist-update → - bingo.com
 *                        bingo.com         domains: {}
 *
 * Values the document already holds keep their YAML type: a float stays a float (`scale: 1.0` is not
 * rewritten as `1`), a timestamp keeps its text. Unknown top-level keys are kept. Comments are not
 * (the original dropped them as well).
 */
import yaml from "js-yaml";

export type ZookeeperAction = "domain-update" | "domain-remove" | "blacklist-update" | "blacklist-remove";

export const ZOOKEEPER_ACTIONS: readonly ZookeeperAction[] = ["domain-update", "domain-remove", "blacklist-update", "blacklist-remove"];

/** What an edit needs of a zookeeper request (lib/requests/kinds/zookeeper.ts). */
export interface ZookeeperEdit {
	action: ZookeeperAction;
	domain: string;
	hits?: number;
	window?: number;
	/** Defaults to 1.0, as the schema does. */
	scale?: number;
}

/** The document node: ZOOKEEPER_ASSIGN_PATH + ZOOKEEPER_ID joined with exactly one '/'. */
export function zookeeperDocumentPath(assignPath: string, id: string): string {
	return `${assignPath.replace(/\/+$/, "")}/${id.replace(/^\/+/, "")}`;
}

/** A YAML float read from (or written to) the document: JavaScript numbers cannot tell 1.0 from 1. */
export class YamlFloat {
	readonly value: number;
	constructor(value: number) {
		this.value = value;
	}
	valueOf(): number {
		return this.value;
	}
}

/** A YAML timestamp read from the document, kept as its text (so it is written back as it was). */
export class YamlTimestamp {
	readonly text: string;
	constructor(text: string) {
		this.text = text;
	}
	toString(): string {
		return this.text;
	}
}

/** Python's repr() of a float (shortest round-trip digits; exponent below 1e-4 and from 1e16). */
export function pythonFloatRepr(x: number): string {
	if (Number.isNaN(x)) return "nan";
	if (x === Infinity) return "inf";
	if (x === -Infinity) return "-inf";
	if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
	const [mantissa = "", expText = "0"] = x.toExponential().split("e");
	const exp = Number(expText);
	const sign = mantissa.startsWith("-") ? "-" : "";
	const digits = mantissa.replace("-", "").replace(".", "");
	if (exp < -4 || exp >= 16) {
		const rest = digits.slice(1);
		const e = `${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
		return `${sign}${digits[0]}${rest ? `.${rest}` : ""}e${e}`;
	}
	if (exp < 0) return `${sign}0.${"0".repeat(-exp - 1)}${digits}`;
	const whole = digits.slice(0, exp + 1).padEnd(exp + 1, "0");
	const fraction = digits.slice(exp + 1);
	return `${sign}${whole}.${fraction || "0"}`;
}

/** PyYAML's representation of a float: repr() lower-cased, '.0' added before a bare exponent. */
export function pyyamlFloat(x: number): string {
	if (Number.isNaN(x)) return ".nan";
	if (x === Infinity) return ".inf";
	if (x === -Infinity) return "-.inf";
	const value = pythonFloatRepr(x).toLowerCase();
	return !value.includes(".") && value.includes("e") ? value.replace("e", ".0e") : value;
}

const builtin = (yaml as unknown as { types: { float: yaml.Type; timestamp: yaml.Type } }).types;

const floatType = new yaml.Type("tag:yaml.org,2002:float", {
	kind: "scalar",
	resolve: (data: unknown) => builtin.float.resolve(data),
	construct: (data: unknown) => new YamlFloat(builtin.float.construct(data) as number),
	// Floats read from the document, and non-integral numbers put in by an edit.
	predicate: (data: object) => data instanceof YamlFloat || (typeof data === "number" && !Number.isInteger(data)),
	represent: (data: object) => pyyamlFloat(data instanceof YamlFloat ? data.value : (data as unknown as number))
});

const timestampType = new yaml.Type("tag:yaml.org,2002:timestamp", {
	kind: "scalar",
	resolve: (data: unknown) => builtin.timestamp.resolve(data),
	construct: (data: unknown) => new YamlTimestamp(String(data)),
	instanceOf: YamlTimestamp,
	represent: (data: object) => (data as YamlTimestamp).text
});

/** js-yaml's default schema with floats and timestamps kept as they were written. */
const DOCUMENT_SCHEMA = yaml.DEFAULT_SCHEMA.extend({ implicit: [floatType, timestampType] });

type Mapping = Record<string, unknown>;

const isMapping = (v: unknown): v is Mapping => v !== null && typeof v === "object" && !Array.isArray(v) && !(v instanceof YamlFloat) && !(v instanceof YamlTimestamp);

function typeName(v: unknown): string {
	if (Array.isArray(v)) return "a list";
	if (v instanceof YamlFloat || typeof v === "number") return "a number";
	if (v instanceof YamlTimestamp) return "a timestamp";
	return typeof v === "object" ? "a mapping" : `a ${typeof v}`;
}

/** Set an own property, even one named like a prototype member (`__proto__`, `constructor`). */
function setOwn(target: Mapping, key: string, value: unknown): void {
	Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Parse the document text: null or empty (or only comments) → {}. Throws a clear Error otherwise. */
export function loadZookeeperDocument(text: string | null): Mapping {
	if (text === null || text.trim() === "") return {};
	let doc: unknown;
	try {
		doc = yaml.load(text, { schema: DOCUMENT_SCHEMA });
	} catch (err) {
		throw new Error(`the ZooKeeper document is not valid YAML: ${(err as Error).message}`);
	}
	if (doc === null || doc === undefined) return {};
	if (!isMapping(doc)) throw new Error(`the ZooKeeper document must be a YAML mapping with 'blacklist' and 'domains', found ${typeName(doc)}`);
	return doc;
}

/** Write the document as Python's yaml.safe_dump(d, default_flow_style=False). */
export function dumpZookeeperDocument(doc: Mapping): string {
	return yaml.dump(doc, { schema: DOCUMENT_SCHEMA, sortKeys: true, noArrayIndent: true, lineWidth: -1, noRefs: true });
}

function checkEdit(edit: ZookeeperEdit): void {
	if (!ZOOKEEPER_ACTIONS.includes(edit.action)) throw new Error(`unknown zookeeper action "${String(edit.action)}"`);
	if (typeof edit.domain !== "string" || edit.domain === "") throw new Error("the zookeeper action needs a domain");
	if (edit.action === "domain-update") {
		for (const field of ["hits", "window"] as const) {
			const v = edit[field];
			if (typeof v !== "number" || !Number.isInteger(v) || v === 0) throw new Error(`'hits' and 'window' not set for domain update (${field}: ${String(v)})`);
		}
		if (edit.scale !== undefined && (typeof edit.scale !== "number" || !(edit.scale >= 0 && edit.scale <= 1)))
			throw new Error(`scale must be a number between 0 and 1, got ${String(edit.scale)}`);
	}
}

/**
 * Apply one action to the document text and return the new text. Throws (without changing anything)
 * when the document is not valid YAML or not of the expected shape, or the edit is incomplete.
 */
export function applyZookeeperAction(yamlText: string | null, edit: ZookeeperEdit): string {
	checkEdit(edit);
	const doc = loadZookeeperDocument(yamlText);

	// As the original: add the two sections when missing (an empty `domains:` / `blacklist:` counts as missing).
	if (doc.domains === undefined || doc.domains === null) setOwn(doc, "domains", {});
	if (doc.blacklist === undefined || doc.blacklist === null) setOwn(doc, "blacklist", []);
	if (!isMapping(doc.domains)) throw new Error(`'domains' in the ZooKeeper document must be a mapping, found ${typeName(doc.domains)}`);
	if (!Array.isArray(doc.blacklist)) throw new Error(`'blacklist' in the ZooKeeper document must be a list, found ${typeName(doc.blacklist)}`);
	const domains = doc.domains;
	const blacklist = doc.blacklist as unknown[];

	switch (edit.action) {
		case "domain-update":
			setOwn(domains, edit.domain, { window: edit.window, hits: edit.hits, scale: new YamlFloat(edit.scale ?? 1) });
			break;
		case "domain-remove":
			if (Object.hasOwn(domains, edit.domain)) delete domains[edit.domain];
			break;
		case "blacklist-update":
			// As the original, without duplicates; unlike it (a set), in order: existing entries first, the new one last.
			blacklist.push(edit.domain);
			setOwn(doc, "blacklist", [...new Set(blacklist)]);
			break;
		case "blacklist-remove":
			for (let i = blacklist.indexOf(edit.domain); i !== -1; i = blacklist.indexOf(edit.domain)) blacklist.splice(i, 1);
			break;
	}
	return dumpZookeeperDocument(doc);
}
