/**
 * actionSchema against the original action_schema.json: required uuid (string 1-40), appid (string
 * 3-40), spiderid (string), action ("stop" | "info"); optional crawlid (string 1-40, no default, so a
 * missing crawlid stays missing); no other properties.
 */
import { actionSchema } from "../../../lib/requests/kinds/action.ts";
import { accepted, chars, deepFreeze, emoji, expectRejectedExtra, expectRejectedFor, expectRejectedNonObject, NON_OBJECTS, wrongTypes } from "./support.ts";

const BASE = { uuid: "abc12333", appid: "testapp", spiderid: "link", action: "info" };
const withField = (field: string, value: unknown): Record<string, unknown> => ({ ...BASE, [field]: value });

describe("actionSchema (action_schema.json)", () => {
	it("accepts the minimal request unchanged: no defaults, crawlid stays absent", () => {
		const value = accepted(actionSchema, BASE);
		expect(value).toEqual(BASE);
		expect(Object.keys(value)).toEqual(["uuid", "appid", "spiderid", "action"]);
		expect("crawlid" in value).toBe(false);
	});

	it("keeps a given crawlid and the client's key order", () => {
		const input = { action: "stop", appid: "testapp", crawlid: "ist234", uuid: "list234", spiderid: "link" };
		const value = accepted(actionSchema, input);
		expect(value).toEqual(input);
		expect(Object.keys(value)).toEqual(["action", "appid", "crawlid", "uuid", "spiderid"]);
	});

	it("does not mutate the input", () => {
		const input = deepFreeze({ ...BASE });
		const value = accepted(actionSchema, input);
		expect(input).toEqual(BASE);
		expect(value).not.toBe(input);
	});

	it.each<[string, unknown]>([
		["uuid", "a"],
		["uuid", chars(40)],
		["uuid", emoji(40)],
		["appid", "abc"],
		["appid", chars(40)],
		["appid", emoji(3)],
		["appid", emoji(40)],
		["crawlid", "a"],
		["crawlid", chars(40)],
		["crawlid", emoji(40)],
		["spiderid", "link"],
		["spiderid", ""],
		["spiderid", chars(500)],
		["action", "stop"],
		["action", "info"]
	])("accepts %s = %j", (field, value) => {
		expect(accepted(actionSchema, withField(field, value))[field]).toEqual(value);
	});

	it.each<[string, unknown]>([
		["uuid", ""],
		["uuid", chars(41)],
		["uuid", emoji(41)],
		["appid", ""],
		["appid", "ab"],
		["appid", emoji(2)],
		["appid", chars(41)],
		["appid", emoji(41)],
		["crawlid", ""],
		["crawlid", chars(41)],
		["crawlid", emoji(41)],
		["action", "expire"],
		["action", "expired"],
		["action", "Stop"],
		["action", "INFO"],
		["action", "info "],
		["action", ""],
		["action", "domain-update"]
	])("rejects %s = %j", (field, value) => {
		expectRejectedFor(actionSchema, withField(field, value), field);
	});

	const wrong: Array<[string, string, unknown]> = [];
	for (const field of ["uuid", "appid", "crawlid", "spiderid", "action"]) for (const [name, value] of wrongTypes("string")) if (!(field === "spiderid" && value === "")) wrong.push([field, name, value]);
	it.each(wrong)("rejects %s as %s", (field, _name, value) => {
		expectRejectedFor(actionSchema, withField(field, value), field);
	});

	it.each(["uuid", "appid", "spiderid", "action"])("rejects a request without the required %s", field => {
		const input: Record<string, unknown> = { ...BASE, crawlid: "abc" };
		delete input[field];
		expect(expectRejectedFor(actionSchema, input, field)).toContainEqual(expect.objectContaining({ type: "required", field }));
	});

	it.each(["url", "stats", "domain", "ts", "Action", "extra"])("rejects the unknown property %j", key => {
		expectRejectedExtra(actionSchema, withField(key, "x"), key);
	});

	it.each(NON_OBJECTS)("rejects a non-object request: %s", (_name, value) => {
		expectRejectedNonObject(actionSchema, value);
	});
});
