/**
 * The crawler's public IP for IP-based throttling (SCHEDULER_IP_ENABLED): the first IP_ADDR_REGEX match
 * in PUBLIC_IP_URL's answer; on any failure 127.0.0.1, as the original, with the reason.
 */
import { request } from "undici";

export const FALLBACK_IP = "127.0.0.1";

export async function lookupPublicIp(url: string, pattern: string, timeoutMs = 5000): Promise<{ ip: string; error: string | null }> {
	try {
		const res = await request(url, { method: "GET", headersTimeout: timeoutMs, bodyTimeout: timeoutMs, signal: AbortSignal.timeout(timeoutMs) });
		const body = (await res.body.text()).slice(0, 10000);
		if (res.statusCode >= 400) return { ip: FALLBACK_IP, error: `HTTP ${res.statusCode}` };
		const match = new RegExp(pattern).exec(body);
		const ip = match?.[1] ?? match?.[0];
		return ip ? { ip, error: null } : { ip: FALLBACK_IP, error: "no IP address in the answer" };
	} catch (err) {
		return { ip: FALLBACK_IP, error: (err as Error).message };
	}
}
