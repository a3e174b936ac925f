/**
 * robots.txt with Google's / RFC 9309 semantics.
 * - Groups start at `User-agent` lines (consecutive ones share the group); rules before any group are
 *   ignored; several groups naming the same agent are merged.
 * - The crawler's product token (the User-Agent up to the first "/" or space, case-insensitive) picks the
 *   group: an equal token, else the longest token that is a "-"-separated prefix of it (googlebot for
 *   googlebot-news), else `*`, else everything is allowed.
 * - `Allow` / `Disallow` patterns with `*` (any run) and a trailing `$` (end of URL) match the path and
 *   query; the longest matching pattern wins and Allow wins a tie; an empty pattern is no rule.
 *   Percent-encoding is normalised on both sides (upper-case hex, unreserved characters decoded,
 *   non-ASCII encoded as UTF-8), and /robots.txt is always allowed.
 * - `Crawl-delay` (seconds, may be fractional) of the chosen group.
 * - Only the first 500 KiB count; unknown or garbage lines are ignored; nothing here throws.
 */

export interface RobotsRules {
	isAllowed(url: string): boolean;
	/** Seconds between requests asked by the chosen group, or null. */
	crawlDelay: number | null;
}

export const ROBOTS_MAX_BYTES = 500 * 1024;

export const ALLOW_ALL: RobotsRules = Object.freeze({ isAllowed: () => true, crawlDelay: null });

interface Rule {
	allow: boolean;
	pattern: string;
	/** Pattern without `*` or `$`: a plain prefix (or exact, when anchored) comparison does. */
	literal: boolean;
	anchored: boolean;
}

interface Group {
	agents: string[];
	rules: Rule[];
	crawlDelay: number | null;
}

const KEYS: Record<string, "user-agent" | "allow" | "disallow" | "crawl-delay"> = {
	"user-agent": "user-agent",
	useragent: "user-agent",
	"user agent": "user-agent",
	allow: "allow",
	disallow: "disallow",
	dissallow: "disallow",
	dissalow: "disallow",
	disalow: "disallow",
	diasllow: "disallow",
	disallaw: "disallow",
	"crawl-delay": "crawl-delay",
	crawldelay: "crawl-delay"
};

/** The product token of a User-Agent string or of a robots.txt user-agent value, lower case. */
function productToken(agent: string): string {
	const match = /^[A-Za-z0-9_*-]+/.exec(agent.trim());
	return match ? match[0].toLowerCase() : "";
}

const UNRESERVED = /[A-Za-z0-9\-._~]/;

/** Normalise percent-encoding: %xx upper-cased, unreserved characters decoded, non-ASCII and controls encoded. */
export function normalizePath(path: string): string {
	let out = "";
	for (let i = 0; i < path.length; i++) {
		const ch = path[i]!;
		if (ch === "%" && /^[0-9A-Fa-f]{2}$/.test(path.slice(i + 1, i + 3))) {
			const hex = path.slice(i + 1, i + 3).toUpperCase();
			const decoded = String.fromCharCode(parseInt(hex, 16));
			out += UNRESERVED.test(decoded) ? decoded : `%${hex}`;
			i += 2;
			continue;
		}
		const code = ch.charCodeAt(0);
		if (code > 0x20 && code < 0x7f) {
			out += ch;
			continue;
		}
		// Non-ASCII (a surrogate pair is taken whole), space and control characters: UTF-8 percent-encoded.
		let char = ch;
		if (code >= 0xd800 && code <= 0xdbff && i + 1 < path.length) {
			const low = path.charCodeAt(i + 1);
			if (low >= 0xdc00 && low <= 0xdfff) {
				char += path[i + 1];
				i++;
			}
		}
		for (const byte of Buffer.from(char, "utf8")) out += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
	}
	return out;
}

function makeRule(allow: boolean, value: string): Rule | null {
	let pattern = value.trim();
	if (!pattern) return null;
	if (!pattern.startsWith("/") && !pattern.startsWith("*")) pattern = `/${pattern}`;
	pattern = normalizePath(pattern);
	const anchored = pattern.endsWith("$");
	const body = anchored ? pattern.slice(0, -1) : pattern;
	return { allow, pattern, literal: !body.includes("*") && !body.includes("$"), anchored };
}

/** Google's matcher: `*` matches any run, a final `$` the end; O(path × pattern), no backtracking. */
export function patternMatches(path: string, pattern: string): boolean {
	let positions: number[] = [0];
	for (let p = 0; p < pattern.length; p++) {
		const c = pattern[p];
		if (c === "$" && p === pattern.length - 1) return positions[positions.length - 1] === path.length;
		if (c === "*") {
			const from = positions[0]!;
			positions = [];
			for (let i = from; i <= path.length; i++) positions.push(i);
			continue;
		}
		const next: number[] = [];
		for (const pos of positions) if (pos < path.length && path[pos] === c) next.push(pos + 1);
		if (next.length === 0) return false;
		positions = next;
	}
	return true;
}

function ruleMatches(rule: Rule, path: string): boolean {
	if (rule.literal) {
		const body = rule.anchored ? rule.pattern.slice(0, -1) : rule.pattern;
		return rule.anchored ? path === body : path.startsWith(body);
	}
	return patternMatches(path, rule.pattern);
}

/** The path and query of a URL (or of a path given as such), normalised for matching. */
function matchPath(url: string): string | null {
	if (url.startsWith("/")) {
		const path = url.split("#", 1)[0]!;
		return normalizePath(path);
	}
	try {
		const parsed = new URL(url);
		return normalizePath(`${parsed.pathname || "/"}${parsed.search}`);
	} catch {
		return null;
	}
}

function parseGroups(text: string): Group[] {
	const groups: Group[] = [];
	let current: Group | null = null;
	let inAgents = false;
	for (const rawLine of text.split(/\r\n|\r|\n/)) {
		const hash = rawLine.indexOf("#");
		const line = (hash >= 0 ? rawLine.slice(0, hash) : rawLine).trim();
		if (!line) continue;
		let key: string;
		let value: string;
		const colon = line.indexOf(":");
		if (colon >= 0) {
			key = line.slice(0, colon).trim().toLowerCase();
			value = line.slice(colon + 1).trim();
		} else {
			// Google accepts a missing colon when a known key is followed by whitespace.
			const match = /^(\S+)\s+(.*)$/.exec(line);
			if (!match) continue;
			key = match[1]!.toLowerCase();
			value = match[2]!.trim();
		}
		const kind = KEYS[key];
		if (!kind) continue; // sitemap, host, garbage: no effect on groups
		if (kind === "user-agent") {
			if (!current || !inAgents) {
				current = { agents: [], rules: [], crawlDelay: null };
				groups.push(current);
				inAgents = true;
			}
			const token = productToken(value);
			if (token) current.agents.push(token);
			continue;
		}
		inAgents = false;
		if (!current) continue;
		if (kind === "crawl-delay") {
			const delay = Number.parseFloat(value);
			if (Number.isFinite(delay) && delay >= 0 && current.crawlDelay === null) current.crawlDelay = delay;
			continue;
		}
		const rule = makeRule(kind === "allow", value);
		if (rule) current.rules.push(rule);
	}
	return groups;
}

class ParsedRobots implements RobotsRules {
	readonly crawlDelay: number | null;
	private readonly rules: Rule[];

	constructor(rules: Rule[], crawlDelay: number | null) {
		this.rules = rules;
		this.crawlDelay = crawlDelay;
	}

	isAllowed(url: string): boolean {
		try {
			const path = matchPath(url);
			if (path === null || path === "/robots.txt") return true;
			let best: Rule | null = null;
			for (const rule of this.rules) {
				if (best && (rule.pattern.length < best.pattern.length || (rule.pattern.length === best.pattern.length && best.allow))) continue;
				if (ruleMatches(rule, path)) best = rule;
			}
			return best ? best.allow : true;
		} catch {
			return true;
		}
	}
}

/** Cut at ROBOTS_MAX_BYTES of UTF-8 (a character cut in two is dropped by the decoder). */
function limitBytes(text: string): string {
	if (text.length * 3 <= ROBOTS_MAX_BYTES) return text;
	const bytes = Buffer.from(text.slice(0, ROBOTS_MAX_BYTES), "utf8");
	return bytes.length <= ROBOTS_MAX_BYTES ? bytes.toString("utf8") : bytes.subarray(0, ROBOTS_MAX_BYTES).toString("utf8");
}

/** How specifically a group's agent names the crawler: its length, 0 for `*`, -1 when it does not apply. */
function agentScore(agent: string, ours: string): number {
	if (agent === "*") return 0;
	return ours && (agent === ours || ours.startsWith(`${agent}-`)) ? agent.length : -1;
}

export function parseRobots(text: string, userAgent: string): RobotsRules {
	try {
		const body = limitBytes(String(text ?? "")).replace(/^\uFEFF/, "");
		const groups = parseGroups(body);
		const ours = productToken(String(userAgent ?? "")).replace(/\*/g, "");
		const score = (group: Group): number => group.agents.reduce((max, agent) => Math.max(max, agentScore(agent, ours)), -1);
		const best = groups.reduce((max, group) => Math.max(max, score(group)), -1);
		if (best < 0) return ALLOW_ALL;
		const chosen = groups.filter(group => score(group) === best);
		const crawlDelay = chosen.find(group => group.crawlDelay !== null)?.crawlDelay ?? null;
		return new ParsedRobots(chosen.flatMap(group => group.rules), crawlDelay);
	} catch {
		return ALLOW_ALL;
	}
}
