/**
 * Request schemas on fastest-validator that accept and reject exactly what Scrapy Cluster's JSON
 * schemas (Draft 4, with default filling) accept and reject:
 * - the request must be a JSON object; unknown properties are refused (additionalProperties: false);
 * - a property given as null is refused unless the schema allows it (no original schema does);
 * - string lengths count characters (code points), as Python's len() does, not UTF-16 units;
 * - missing optional properties get their default, null included, in schema order after the client's keys.
 */
import FV from "fastest-validator";
import type { ValidationError, ValidationRule } from "fastest-validator";

// At run time the package exports the class itself (module.exports = Validator); see the toolchain notes, P8.
const Validator = ((FV as unknown as { default?: unknown }).default ?? FV) as unknown as typeof FV.default;
const validator = new Validator({ useNewCustomCheckerFunction: true });

export interface FieldSpec {
	rule: ValidationRule;
	/** Value filled in when the property is missing (undefined: left missing). */
	default?: unknown;
}

export interface SchemaIssue {
	type: string;
	field: string;
	message: string;
	actual?: unknown;
}

export type ValidationResult<T> = { ok: true; value: T } | { ok: false; issues: SchemaIssue[] };

export class RequestSchema<T extends object = Record<string, unknown>> {
	readonly fields: Readonly<Record<string, FieldSpec>>;
	readonly required: readonly string[];
	private readonly check: (obj: object) => true | ValidationError[];

	constructor(fields: Record<string, FieldSpec>, required: string[]) {
		this.fields = fields;
		this.required = required;
		const compiled: Record<string, unknown> = { $$strict: true };
		for (const [name, spec] of Object.entries(fields)) {
			const rule = (typeof spec.rule === "string" ? { type: spec.rule } : spec.rule) as Record<string, unknown>;
			compiled[name] = { ...rule, optional: !required.includes(name) };
		}
		this.check = validator.compile(compiled) as (obj: object) => true | ValidationError[];
	}

	/** Validate a parsed JSON value; on success return a copy with the defaults filled in. */
	validate(input: unknown): ValidationResult<T> {
		if (input === null || typeof input !== "object" || Array.isArray(input))
			return { ok: false, issues: [{ type: "object", field: "", message: "The request must be a JSON object.", actual: input }] };
		const copy: Record<string, unknown> = { ...(input as Record<string, unknown>) };
		const issues: SchemaIssue[] = [];
		for (const [name, value] of Object.entries(copy))
			if (value === null && name in this.fields) issues.push({ type: "null", field: name, message: `The '${name}' field must not be null.`, actual: null });
		const result = this.check(copy);
		if (result !== true)
			for (const e of result) issues.push({ type: e.type, field: e.field ?? "", message: e.message ?? e.type, actual: e.actual });
		if (issues.length) return { ok: false, issues };
		// The client's keys in their order, then the missing ones' defaults in schema order (as the original).
		const value: Record<string, unknown> = {};
		for (const key of Object.keys(input as object)) if (copy[key] !== undefined) value[key] = copy[key];
		for (const [name, spec] of Object.entries(this.fields))
			if (value[name] === undefined && spec.default !== undefined) value[name] = structuredClone(spec.default);
		return { ok: true, value: value as T };
	}
}

/** A string whose length in characters (code points) is within [min, max]. */
export function stringLength(min?: number, max?: number): ValidationRule {
	return {
		type: "string",
		custom: (value: unknown, errors: Array<Record<string, unknown>>) => {
			if (typeof value !== "string") return value;
			const length = [...value].length;
			if (min !== undefined && length < min) errors.push({ type: "stringMin", expected: min, actual: length });
			if (max !== undefined && length > max) errors.push({ type: "stringMax", expected: max, actual: length });
			return value;
		}
	} as unknown as ValidationRule;
}

export const integer = (min?: number, max?: number): ValidationRule =>
	({ type: "number", integer: true, ...(min !== undefined ? { min } : {}), ...(max !== undefined ? { max } : {}) }) as ValidationRule;

export const uniqueStrings = (): ValidationRule => ({ type: "array", items: "string", unique: true }) as ValidationRule;

export const oneOf = (...values: string[]): ValidationRule => ({ type: "enum", values }) as ValidationRule;

/** A one-line reason from issues: their messages joined, e.g. "The 'appid' field length must be ...". */
export function describeIssues(issues: SchemaIssue[]): string {
	const text = issues.map(i => (i.message.length > 300 ? `${i.message.slice(0, 300)}...` : i.message)).join(" ");
	return text.length > 2000 ? `${text.slice(0, 2000)}...` : text;
}
