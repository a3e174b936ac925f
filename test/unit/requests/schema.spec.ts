/**
 * The RequestSchema building blocks in lib/requests/schema.ts, on small schemas of their own.
 */
import { integer, oneOf, RequestSchema, stringLength, uniqueStrings } from "../../../lib/requests/schema.ts";
import { accepted, expectRejectedExtra, expectRejectedFor, expectRejectedNonObject, NON_OBJECTS } from "./support.ts";

describe("RequestSchema", () => {
	const schema = new RequestSchema(
		{
			name: { rule: stringLength(2, 4) },
			count: { rule: integer(-1, 1), default: 0 },
			tags: { rule: uniqueStrings(), default: ["x"] },
			mode: { rule: oneOf("a", "b"), default: null },
			note: { rule: stringLength(1) }
		},
		["name"]
	);

	it("counts string lengths in code points, not UTF-16 units", () => {
		expect(accepted(schema, { name: "😀😀" }).name).toBe("😀😀");
		expect(accepted(schema, { name: "😀😀😀😀" }).name).toBe("😀😀😀😀");
		expectRejectedFor(schema, { name: "😀" }, "name");
		expectRejectedFor(schema, { name: "😀😀😀😀😀" }, "name");
		expectRejectedFor(schema, { name: "abcde" }, "name");
	});

	it("reports length issues with the length in characters", () => {
		expect(expectRejectedFor(schema, { name: "😀😀😀😀😀" }, "name")).toEqual([expect.objectContaining({ type: "stringMax", field: "name", actual: 5 })]);
		expect(expectRejectedFor(schema, { name: "a" }, "name")).toEqual([expect.objectContaining({ type: "stringMin", field: "name", actual: 1 })]);
	});

	it("has inclusive integer bounds and refuses fractions and booleans", () => {
		for (const count of [-1, 0, 1]) expect(accepted(schema, { name: "ab", count }).count).toBe(count);
		for (const count of [-2, 2, 0.5, true, "1"]) expectRejectedFor(schema, { name: "ab", count }, "count");
	});

	it("fills defaults with fresh copies, null included, and leaves default-less optional fields absent", () => {
		const first = accepted(schema, { name: "ab" });
		expect(first).toEqual({ name: "ab", count: 0, tags: ["x"], mode: null });
		expect("note" in first).toBe(false);
		(first.tags as string[]).push("y");
		expect(accepted(schema, { name: "ab" }).tags).toEqual(["x"]);
		expect(schema.fields.tags?.default).toEqual(["x"]);
	});

	it("refuses explicit nulls even where the default is null", () => {
		expect(expectRejectedFor(schema, { name: "ab", mode: null }, "mode")).toEqual([{ type: "null", field: "mode", message: "The 'mode' field must not be null.", actual: null }]);
	});

	it("refuses unknown properties and non-objects", () => {
		expectRejectedExtra(schema, { name: "ab", other: 1 }, "other");
		for (const [, value] of NON_OBJECTS) expectRejectedNonObject(schema, value);
	});

	it("exposes fields and required as given", () => {
		expect(Object.keys(schema.fields)).toEqual(["name", "count", "tags", "mode", "note"]);
		expect(schema.required).toEqual(["name"]);
	});
});

