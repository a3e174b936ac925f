/**
 * The last results of a pure function of a string, first in first out: the same links (navigation,
 * headers, footers, a site's hubs) appear on page after page, and each would otherwise be parsed and
 * hashed again every time.
 */
export class Recent<V> {
	private readonly map = new Map<string, V>();
	private readonly size: number;

	constructor(size: number) {
		this.size = size;
	}

	get(key: string, compute: (key: string) => V): V {
		const hit = this.map.get(key);
		if (hit !== undefined || this.map.has(key)) return hit as V;
		const value = compute(key);
		this.map.set(key, value);
		if (this.map.size > this.size) this.map.delete(this.map.keys().next().value!);
		return value;
	}
}

/** URLs whose canonical form, GET fingerprint and registered domain are remembered. */
export const RECENT_URLS = 8192;
