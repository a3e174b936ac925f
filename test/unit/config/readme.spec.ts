import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { SETTING_DEFINITIONS } from "../../../config/settings.ts";
import { settingsTable } from "../../../lib/config/table.ts";

describe("README settings section", () => {
	it("is the current output of scripts/settings-table.ts (every setting, default and meaning)", () => {
		const readme = readFileSync(resolve(__dirname, "../../../README.md"), "utf8");
		const start = readme.indexOf("<!-- settings-table:start -->") + "<!-- settings-table:start -->".length;
		const end = readme.indexOf("<!-- settings-table:end -->");
		expect(readme.slice(start, end).trim()).toBe(settingsTable(SETTING_DEFINITIONS).trim());
	});
});
