/**
 * The dashboard's page files (public/dashboard/, relative to the working directory, as bin/node.ts finds
 * services/): a fixed list, read once and kept, served with a strict Content-Security-Policy (only the
 * page's own script, style and API; no inline script, no other origin).
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";

export const DASHBOARD_DIR = "public/dashboard";

/** URL file name → file and content type; nothing else is served. */
export const DASHBOARD_FILES: Readonly<Record<string, { file: string; type: string }>> = {
	"": { file: "index.html", type: "text/html; charset=utf-8" },
	"dashboard.js": { file: "dashboard.js", type: "text/javascript; charset=utf-8" },
	"dashboard.css": { file: "dashboard.css", type: "text/css; charset=utf-8" }
};

export const DASHBOARD_HEADERS: Readonly<Record<string, string>> = {
	"Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
	"X-Content-Type-Options": "nosniff",
	"Referrer-Policy": "no-referrer",
	"Cache-Control": "no-cache"
};

export interface StaticFile {
	type: string;
	body: Buffer;
}

const cache = new Map<string, StaticFile>();

/** The page file for a URL file name, or null when there is no such file. */
export function dashboardFile(name: string, dir = resolve(DASHBOARD_DIR)): StaticFile | null {
	if (!Object.hasOwn(DASHBOARD_FILES, name)) return null;
	const spec = DASHBOARD_FILES[name]!;
	const path = join(dir, spec.file);
	let file = cache.get(path);
	if (!file) {
		file = { type: spec.type, body: readFileSync(path) };
		cache.set(path, file);
	}
	return file;
}
