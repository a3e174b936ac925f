import { parseSettingValue, section, SettingValueError } from "../../../lib/config/definition.ts";

const s = section("Test");

describe("parseSettingValue", () => {
	it("parses integers from strings and numbers, within range", () => {
		const def = s.int(1, "x", { min: 1, max: 10 });
		expect(parseSettingValue(def, "7")).toBe(7);
		expect(parseSettingValue(def, " 3 ")).toBe(3);
		expect(parseSettingValue(def, 10)).toBe(10);
		for (const bad of ["0", "11", "3.5", "abc", "", 2.5, true, null])
			expect(() => parseSettingValue(def, bad)).toThrow(SettingValueError);
		expect(() => parseSettingValue(def, "abc")).toThrow('expected an integer between 1 and 10, got "abc"');
	});

	it("parses floats", () => {
		const def = s.float(1, "x", { min: 0 });
		expect(parseSettingValue(def, "0.25")).toBe(0.25);
		expect(parseSettingValue(def, 2)).toBe(2);
		expect(() => parseSettingValue(def, "-1")).toThrow("expected a number >= 0");
		expect(() => parseSettingValue(def, "NaN")).toThrow(SettingValueError);
		expect(() => parseSettingValue(def, "")).toThrow(SettingValueError);
	});

	it("parses booleans the way Python settings spell them too", () => {
		const def = s.bool(false, "x");
		for (const t of ["true", "True", "1", "yes", "on", true, 1]) expect(parseSettingValue(def, t)).toBe(true);
		for (const f of ["false", "False", "0", "no", "off", false, 0]) expect(parseSettingValue(def, f)).toBe(false);
		expect(() => parseSettingValue(def, "maybe")).toThrow("expected a boolean");
	});

	it("parses nullable values", () => {
		const def = s.optInt(null, "x", { min: 1 });
		expect(parseSettingValue(def, "")).toBeNull();
		expect(parseSettingValue(def, "None")).toBeNull();
		expect(parseSettingValue(def, null)).toBeNull();
		expect(parseSettingValue(def, "5")).toBe(5);
		expect(() => parseSettingValue(s.int(1, "x"), null)).toThrow(SettingValueError);
	});

	it("parses lists as JSON arrays or comma-separated", () => {
		const def = s.list([], "x");
		expect(parseSettingValue(def, "a, b,c")).toEqual(["a", "b", "c"]);
		expect(parseSettingValue(def, '["a","b"]')).toEqual(["a", "b"]);
		expect(parseSettingValue(def, "")).toEqual([]);
		expect(parseSettingValue(def, ["x"])).toEqual(["x"]);
		expect(() => parseSettingValue(def, "[1,2]")).toThrow(SettingValueError);
		expect(() => parseSettingValue(def, "[oops")).toThrow(SettingValueError);
		const ints = s.intList([], "x");
		expect(parseSettingValue(ints, "200, 404")).toEqual([200, 404]);
		expect(parseSettingValue(ints, [500])).toEqual([500]);
		expect(() => parseSettingValue(ints, "200,abc")).toThrow(SettingValueError);
	});

	it("checks string choices case-insensitively and keeps the canonical spelling", () => {
		const def = s.str("earliest", "x", { choices: ["earliest", "latest"] });
		expect(parseSettingValue(def, "LATEST")).toBe("latest");
		expect(() => parseSettingValue(def, "middle")).toThrow("expected one of earliest, latest");
	});

	it("parses JSON values and runs custom checks", () => {
		const def = s.json<Record<string, number>>({}, "x", { check: v => (typeof v === "object" && v !== null ? null : "must be an object") });
		expect(parseSettingValue(def, '{"a":1}')).toEqual({ a: 1 });
		expect(() => parseSettingValue(def, "{bad")).toThrow("expected a JSON value");
		expect(() => parseSettingValue(def, "3")).toThrow("must be an object");
	});
});
