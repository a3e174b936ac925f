/**
 * zookeeperSchema against the original zookeeper_schema.json: required uuid (string 1-40), appid
 * (string 3-40), domain (string), action (one of four); optional hits and window (integers, default
 * 0) and scale (number 0.0-1.0 inclusive, default 1.0); no other properties.
 */
import { zookeeperSchema } from "../../../lib/requests/kinds/zookeeper.ts";
import { accepted, chars, deepFreeze, emoji, expectRejectedExtra, expectRejectedFor, expectRejectedNonObject, NON_OBJECTS, wrongTypes } from "./support.ts";

const BASE = { uuid: "abc123", appid: "madisonTest", action: "domain-update", domain: "dmoz.org" };
const withField = (field: string, value: unknown): Record<string, unknown> => ({ ...BASE, [field]: value });

describe("zookeeperSchema (zookeeper_schema.json)", () => {
	it("fills hits 0, window 0 and scale 1.0 after the client's keys, in schema order", () => {
		const value = accepted(zookeeperSchema, BASE);
		expect(value).toEqual({ ...BASE, hits: 0, window: 0, scale: 1.0 });
		expect(Object.keys(value)).toEqual(["uuid", "appid", "action", "domain", "hits", "window", "scale"]);
	});

	it("keeps the client's hits, window and scale", () => {
		const input = { ...BASE, hits: 60, window: 60, scale: 0.9 };
		expect(accepted(zookeeperSchema, input)).toEqual(input);
	});

	it("fills only what is missing", () => {
		expect(accepted(zookeeperSchema, { ...BASE, window: 30 })).toEqual({ ...BASE, window: 30, hits: 0, scale: 1.0 });
		expect(accepted(zookeeperSchema, { ...BASE, scale: 0 })).toEqual({ ...BASE, scale: 0, hits: 0, window: 0 });
	});

	it("does not mutate the input", () => {
		const input = deepFreeze({ ...BASE });
		accepted(zookeeperSchema, input);
		expect(input).toEqual(BASE);
	});

	it.each(["domain-update", "domain-remove", "blacklist-update", "blacklist-remove"])("accepts action %j", action => {
		expect(accepted(zookeeperSchema, withField("action", action)).action).toBe(action);
	});

	it.each<[string, unknown]>([
		["uuid", "a"],
		["uuid", chars(40)],
		["uuid", emoji(40)],
		["appid", "abc"],
		["appid", chars(40)],
		["appid", emoji(3)],
		["appid", emoji(40)],
		["domain", "ebay.com"],
		["domain", ""],
		["domain", "has spaces * and ?"],
		["hits", 0],
		["hits", 1],
		["hits", -5],
		["hits", 1000000],
		["window", 0],
		["window", 60],
		["window", -1],
		["scale", 0],
		["scale", 0.0],
		["scale", 1],
		["scale", 1.0],
		["scale", 0.5],
		["scale", 0.9],
		["scale", 1e-9],
		["scale", 0.999999]
	])("accepts %s = %j", (field, value) => {
		expect(accepted(zookeeperSchema, withField(field, value))[field]).toEqual(value);
	});

	it.each<[string, unknown]>([
		["uuid", ""],
		["uuid", chars(41)],
		["uuid", emoji(41)],
		["appid", "ab"],
		["appid", emoji(2)],
		["appid", chars(41)],
		["appid", emoji(41)],
		["action", "domain_update"],
		["action", "Domain-Update"],
		["action", "domain-add"],
		["action", "info"],
		["action", ""],
		["hits", 2.5],
		["hits", 0.1],
		["window", 60.5],
		["scale", -0.1],
		["scale", -1e-9],
		["scale", 1.1],
		["scale", 1.0000001],
		["scale", 2]
	])("rejects %s = %j", (field, value) => {
		expectRejectedFor(zookeeperSchema, withField(field, value), field);
	});

	const wrong: Array<[string, string, unknown]> = [];
	for (const field of ["uuid", "appid", "domain", "action"]) for (const [name, value] of wrongTypes("string")) if (!(field === "domain" && value === "")) wrong.push([field, name, value]);
	for (const field of ["hits", "window"]) for (const [name, value] of wrongTypes("integer")) wrong.push([field, name, value]);
	for (const [name, value] of wrongTypes("number")) wrong.push(["scale", name, value]);
	it.each(wrong)("rejects %s as %s", (field, _name, value) => {
		expectRejectedFor(zookeeperSchema, withField(field, value), field);
	});

	it.each(["uuid", "appid", "domain", "action"])("rejects a request without the required %s", field => {
		const input: Record<string, unknown> = { ...BASE, hits: 1, window: 1 };
		delete input[field];
		expect(expectRejectedFor(zookeeperSchema, input, field)).toContainEqual(expect.objectContaining({ type: "required", field }));
	});

	it.each(["spiderid", "crawlid", "url", "stats", "ts", "blacklist", "Hits"])("rejects the unknown property %j", key => {
		expectRejectedExtra(zookeeperSchema, withField(key, 1), key);
	});

	it.each(NON_OBJECTS)("rejects a non-object request: %s", (_name, value) => {
		expectRejectedNonObject(zookeeperSchema, value);
	});
});
