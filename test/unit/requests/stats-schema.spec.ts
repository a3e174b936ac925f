/**
 * statsSchema against the original stats_schema.json: required uuid (string 1-40) and appid (string
 * 3-40); optional stats (one of eight names, default "all"); no other properties.
 */
import { STATS_TYPES, statsSchema } from "../../../lib/requests/kinds/stats.ts";
import { accepted, chars, deepFreeze, emoji, expectRejectedExtra, expectRejectedFor, expectRejectedNonObject, NON_OBJECTS, wrongTypes } from "./support.ts";

const BASE = { uuid: "abc123", appid: "testapp" };
const withField = (field: string, value: unknown): Record<string, unknown> => ({ ...BASE, [field]: value });

describe("statsSchema (stats_schema.json)", () => {
	it("has the original's eight stats names", () => {
		expect([...STATS_TYPES]).toEqual(["kafka-monitor", "redis-monitor", "crawler", "spider", "machine", "queue", "rest", "all"]);
	});

	it("fills stats with \"all\" after the client's keys", () => {
		const value = accepted(statsSchema, { appid: "testapp", uuid: "abc123" });
		expect(value).toEqual({ appid: "testapp", uuid: "abc123", stats: "all" });
		expect(Object.keys(value)).toEqual(["appid", "uuid", "stats"]);
	});

	it("does not mutate the input", () => {
		const input = deepFreeze({ ...BASE });
		accepted(statsSchema, input);
		expect(input).toEqual(BASE);
		expect("stats" in input).toBe(false);
	});

	it.each(["kafka-monitor", "redis-monitor", "crawler", "spider", "machine", "queue", "rest", "all"])("accepts and keeps stats = %j", stats => {
		expect(accepted(statsSchema, withField("stats", stats))).toEqual({ ...BASE, stats });
	});

	it.each<[string, unknown]>([
		["uuid", "a"],
		["uuid", chars(40)],
		["uuid", emoji(40)],
		["appid", "abc"],
		["appid", "test"],
		["appid", chars(40)],
		["appid", emoji(3)],
		["appid", emoji(40)]
	])("accepts %s = %j", (field, value) => {
		expect(accepted(statsSchema, withField(field, value))[field]).toEqual(value);
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
		["stats", "ALL"],
		["stats", "All"],
		["stats", ""],
		["stats", "crawlers"],
		["stats", "queues"],
		["stats", "kafka_monitor"],
		["stats", "zookeeper"],
		["stats", " all"]
	])("rejects %s = %j", (field, value) => {
		expectRejectedFor(statsSchema, withField(field, value), field);
	});

	const wrong: Array<[string, string, unknown]> = [];
	for (const field of ["uuid", "appid", "stats"]) for (const [name, value] of wrongTypes("string")) wrong.push([field, name, value]);
	wrong.push(["stats", "array of a member", ["all"]]);
	it.each(wrong)("rejects %s as %s", (field, _name, value) => {
		expectRejectedFor(statsSchema, withField(field, value), field);
	});

	it.each(["uuid", "appid"])("rejects a request without the required %s", field => {
		const input: Record<string, unknown> = { ...BASE, stats: "queue" };
		delete input[field];
		expect(expectRejectedFor(statsSchema, input, field)).toContainEqual(expect.objectContaining({ type: "required", field }));
	});

	it.each(["crawlid", "spiderid", "action", "url", "ts", "Stats", "poll_id"])("rejects the unknown property %j", key => {
		expectRejectedExtra(statsSchema, withField(key, "x"), key);
	});

	it.each(NON_OBJECTS)("rejects a non-object request: %s", (_name, value) => {
		expectRejectedNonObject(statsSchema, value);
	});
});
