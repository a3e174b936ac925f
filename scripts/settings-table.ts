/**
 * Print the Markdown table of every setting (README's "Settings" section is this output):
 *   node scripts/settings-table.ts
 */
import { SETTING_DEFINITIONS } from "../config/settings.ts";
import { settingsTable } from "../lib/config/table.ts";

process.stdout.write(settingsTable(SETTING_DEFINITIONS));
