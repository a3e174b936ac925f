/** Markdown listing of setting definitions, grouped by section (used for README). */
import type { SettingDefinition } from "./definition.ts";

export function settingsTable(definitions: Record<string, SettingDefinition<unknown>>): string {
	const groups = new Map<string, string[]>();
	for (const [name, def] of Object.entries(definitions)) {
		const shown = def.default === null ? "null" : JSON.stringify(def.default);
		const aliases = def.aliases?.length ? ` (also ${def.aliases.map(a => `\`${a}\``).join(", ")})` : "";
		const text = def.description.replace(/\|/g, "\\|").replace(/</g, "&lt;").replace(/>/g, "&gt;");
		const row = `| \`${name}\`${aliases} | \`${shown.replace(/\|/g, "\\|")}\` | ${text} |`;
		groups.set(def.group, [...(groups.get(def.group) ?? []), row]);
	}
	let out = "";
	for (const [group, rows] of groups) out += `\n**${group}**\n\n| Setting | Default | Meaning |\n|---|---|---|\n${rows.join("\n")}\n`;
	return out;
}
