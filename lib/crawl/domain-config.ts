/**
 * The crawler configuration document in ZooKeeper (ZOOKEEPER_ASSIGN_PATH + ZOOKEEPER_ID), YAML as the
 * original's example.yml:
 *   blacklist: [bad.com]
 *   domains: {dmoz.org: {window: 60, hits: 10, scale: 0.5}}
 * and the throttle each domain gets from it (pure).
 */
import yaml from "js-yaml";

export interface DomainThrottle {
	window: number;
	hits: number;
	scale: number;
}

export interface DomainConfig {
	blacklist: string[];
	domains: Record<string, DomainThrottle>;
}

export const EMPTY_DOMAIN_CONFIG: DomainConfig = Object.freeze({ blacklist: [], domains: {} }) as DomainConfig;

/** Parse the document; throws with a readable message when it is not the expected shape. */
export function parseDomainConfig(text: string | null): DomainConfig {
	if (text === null || text.trim() === "") return { blacklist: [], domains: {} };
	const doc = yaml.load(text) as unknown;
	if (doc === null || doc === undefined) return { blacklist: [], domains: {} };
	if (typeof doc !== "object" || Array.isArray(doc)) throw new Error("the configuration must be a YAML mapping with 'blacklist' and 'domains'");
	const raw = doc as { blacklist?: unknown; domains?: unknown };
	// A single domain written as a scalar ("blacklist: bad.com") counts as a one-entry list.
	const listed = typeof raw.blacklist === "string" ? [raw.blacklist] : Array.isArray(raw.blacklist) ? raw.blacklist : [];
	const blacklist = listed.filter((d): d is string => typeof d === "string").map(d => d.toLowerCase());
	const domains: Record<string, DomainThrottle> = {};
	if (raw.domains && typeof raw.domains === "object" && !Array.isArray(raw.domains)) {
		for (const [domain, value] of Object.entries(raw.domains as Record<string, unknown>)) {
			if (!value || typeof value !== "object") continue;
			const v = value as Record<string, unknown>;
			const window = Number(v.window);
			const hits = Number(v.hits);
			// As the original: only domains with both window and hits count.
			if (!(window > 0) || !(hits > 0)) continue;
			const scale = v.scale === undefined || v.scale === null ? 1 : Math.min(1, Math.max(0, Number(v.scale) || 0));
			domains[domain.toLowerCase()] = { window, hits, scale };
		}
	}
	return { blacklist, domains };
}

export interface ThrottleDefaults {
	QUEUE_HITS: number;
	QUEUE_WINDOW: number;
	QUEUE_MODERATED: boolean;
}

/**
 * Window and limit of a domain: its ZooKeeper entry (limit = floor(hits * scale)) or the defaults; a
 * robots.txt Crawl-delay lowers the limit so pops are at least that far apart, and forces moderation.
 * A limit of 0 (scale 0) pauses the domain.
 */
export function domainThrottle(domain: string, config: DomainConfig, defaults: ThrottleDefaults, crawlDelay: number | null = null): { window: number; limit: number; moderated: boolean } {
	const entry = config.domains[domain];
	const window = entry ? entry.window : defaults.QUEUE_WINDOW;
	let limit = entry ? Math.floor(entry.hits * entry.scale) : defaults.QUEUE_HITS;
	let moderated = defaults.QUEUE_MODERATED;
	if (crawlDelay !== null && crawlDelay > 0) {
		limit = Math.min(limit, Math.max(1, Math.floor(window / crawlDelay)));
		moderated = true;
	}
	return { window, limit, moderated };
}

/** True when the domain (or a parent domain) is blacklisted. */
export function isBlacklisted(domain: string, config: DomainConfig): boolean {
	return config.blacklist.some(b => domain === b || domain.endsWith(`.${b}`));
}

/** One change between two configurations, for the log. */
export type DomainConfigChange =
	| { change: "blacklisted" | "unblacklisted"; domain: string }
	| { change: "throttle"; domain: string; from: DomainThrottle | null; to: DomainThrottle | null };

/** What changed from `before` to `after`: blacklist entries added and removed, domain throttles set, changed or removed. */
export function diffDomainConfig(before: DomainConfig, after: DomainConfig): DomainConfigChange[] {
	const changes: DomainConfigChange[] = [];
	const was = new Set(before.blacklist);
	const now = new Set(after.blacklist);
	for (const domain of after.blacklist) if (!was.has(domain)) changes.push({ change: "blacklisted", domain });
	for (const domain of before.blacklist) if (!now.has(domain)) changes.push({ change: "unblacklisted", domain });
	const domains = [...new Set([...Object.keys(before.domains), ...Object.keys(after.domains)])].sort();
	for (const domain of domains) {
		const from = before.domains[domain] ?? null;
		const to = after.domains[domain] ?? null;
		if (from && to && from.window === to.window && from.hits === to.hits && from.scale === to.scale) continue;
		changes.push({ change: "throttle", domain, from, to });
	}
	return changes;
}
