/** How bin/dump.ts prints one Kafka record (pure). Non-JSON records are printed as they are. */
export interface DumpFormat {
	pretty: boolean;
	noBody: boolean;
	justBody: boolean;
	decodeBase64: boolean;
}

export function formatRecord(raw: string, format: DumpFormat): string {
	let record: unknown;
	try {
		record = JSON.parse(raw);
	} catch {
		return raw;
	}
	if (record !== null && typeof record === "object" && !Array.isArray(record)) {
		const obj = { ...(record as Record<string, unknown>) };
		if (format.decodeBase64 && typeof obj.body === "string") {
			const encoding = typeof obj.encoding === "string" ? obj.encoding.toLowerCase().replace("-", "") : "utf8";
			const nodeEncoding = (["utf8", "latin1", "ascii", "utf16le"].includes(encoding) ? encoding : "utf8") as BufferEncoding;
			obj.body = Buffer.from(obj.body, "base64").toString(nodeEncoding);
		}
		if (format.justBody) return typeof obj.body === "string" ? obj.body : JSON.stringify(obj.body ?? null);
		if (format.noBody) delete obj.body;
		record = obj;
	}
	return format.pretty ? JSON.stringify(record, null, 2) : JSON.stringify(record);
}
