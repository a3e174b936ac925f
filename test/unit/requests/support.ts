/**
 * Helpers shared by the request schema tests: accept/reject assertions that say which field a
 * rejection is about, so a test cannot pass because some unrelated field was refused.
 */
import type { SchemaIssue, ValidationResult } from "../../../lib/requests/schema.ts";

export interface AnySchema {
	validate(input: unknown): ValidationResult<object>;
}

/** The validated value; fails the test (with the issues) when the schema refuses. */
export function accepted(schema: AnySchema, input: unknown): Record<string, unknown> {
	const result = schema.validate(input);
	if (!result.ok) throw new Error(`expected ${JSON.stringify(input)} to be accepted, got issues ${JSON.stringify(result.issues)}`);
	return result.value as Record<string, unknown>;
}

/** The issues; fails the test when the schema accepts. */
export function rejected(schema: AnySchema, input: unknown): SchemaIssue[] {
	const result = schema.validate(input);
	if (result.ok) throw new Error(`expected ${JSON.stringify(input)} to be rejected, got ${JSON.stringify(result.value)}`);
	expect(result.issues.length).toBeGreaterThan(0);
	return result.issues;
}

const concerns = (issue: SchemaIssue, field: string): boolean => issue.field === field || issue.field.startsWith(`${field}[`);

/** Rejected, and every issue is about `field` (or one of its array items). */
export function expectRejectedFor(schema: AnySchema, input: unknown, field: string): SchemaIssue[] {
	const issues = rejected(schema, input);
	expect(issues.filter(i => !concerns(i, field))).toEqual([]);
	return issues;
}

/** Rejected only because of the unknown property `key` (additionalProperties: false). */
export function expectRejectedExtra(schema: AnySchema, input: unknown, key: string): void {
	const issues = rejected(schema, input);
	expect(issues.filter(i => i.type !== "objectStrict" && i.field !== key)).toEqual([]);
	const strict = issues.find(i => i.type === "objectStrict");
	expect(strict).toBeDefined();
	expect(String(strict?.actual).split(", ")).toContain(key);
}

/** Rejected because the request is not a JSON object. */
export function expectRejectedNonObject(schema: AnySchema, input: unknown): void {
	const issues = rejected(schema, input);
	expect(issues).toEqual([{ type: "object", field: "", message: "The request must be a JSON object.", actual: input }]);
}

/** A deep-frozen copy, so a validator that writes into its input throws in strict mode. */
export function deepFreeze<T>(value: T): T {
	if (value !== null && typeof value === "object") {
		for (const v of Object.values(value)) deepFreeze(v);
		Object.freeze(value);
	}
	return value;
}

/** Values of every JSON type but the given ones, for wrong-type tables. */
export function wrongTypes(...except: Array<"string" | "integer" | "number" | "boolean" | "null" | "array" | "object">): Array<[string, unknown]> {
	const all: Array<[string, unknown, string[]]> = [
		["string", "5", ["string"]],
		["empty string", "", ["string"]],
		["integer", 5, ["integer", "number"]],
		["float", 2.5, ["number"]],
		["true", true, ["boolean"]],
		["false", false, ["boolean"]],
		["null", null, ["null"]],
		["array", ["abc"], ["array"]],
		["empty array", [], ["array"]],
		["object", { a: "abc" }, ["object"]],
		["empty object", {}, ["object"]]
	];
	return all.filter(([, , types]) => !types.some(t => (except as string[]).includes(t))).map(([name, value]) => [name, value]);
}

/** Non-object JSON values, each of which must be refused as a request. */
export const NON_OBJECTS: Array<[string, unknown]> = [
	["null", null],
	["array", []],
	["array of a valid-looking object", [{ uuid: "abc", appid: "testapp" }]],
	["string", '{"uuid":"abc","appid":"testapp"}'],
	["empty string", ""],
	["integer", 1],
	["zero", 0],
	["float", 1.5],
	["true", true],
	["false", false]
];

/** n copies of a 2-UTF-16-unit character: n code points, 2n String.length. */
export const emoji = (n: number): string => "😀".repeat(n);
export const chars = (n: number): string => "x".repeat(n);
