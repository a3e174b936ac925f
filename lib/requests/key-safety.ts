/**
 * Checks that keep request values from breaking the colon-separated Redis key formats, the
 * "<appid>||<crawlid>" blacklist members and SCAN/KEYS patterns. Each returns a reason or null.
 */
const UNSAFE = /[:*?[\]\\\u0000-\u001f\u007f]/;

/** A value as shown in a reason: quoted, at most 200 characters. */
export function shown(value: string): string {
	return JSON.stringify(value.length > 200 ? `${value.slice(0, 200)}...` : value);
}

export function unsafeIdReason(field: string, value: string): string | null {
	if (UNSAFE.test(value)) return `${field} ${shown(value)} contains a character that breaks Redis key formats (':', '*', '?', '[', ']', '\\' or a control character)`;
	if (value.includes("||")) return `${field} ${shown(value)} contains "||", the separator of blacklist entries`;
	return null;
}

/** Spider ids name a spider module: letters, digits, '_' and '-'. */
export function spiderIdReason(value: string): string | null {
	return /^[A-Za-z0-9_-]{1,64}$/.test(value) ? null : `spiderid ${shown(value)} must be 1-64 letters, digits, '_' or '-'`;
}

export function firstReason(...reasons: Array<string | null>): string | null {
	return reasons.find(r => r !== null) ?? null;
}
