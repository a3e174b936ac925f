import { formatRecord } from "../../../lib/dump/format.ts";

const plain = { pretty: false, noBody: false, justBody: false, decodeBase64: false };

describe("formatRecord (kafkadump output)", () => {
	const record = JSON.stringify({ url: "http://a.com", body: Buffer.from("<html>é</html>").toString("base64"), encoding: "utf-8" });

	it("prints JSON on one line, or indented", () => {
		expect(formatRecord('{"a":1}', plain)).toBe('{"a":1}');
		expect(formatRecord('{"a":1}', { ...plain, pretty: true })).toBe('{\n  "a": 1\n}');
	});

	it("drops or keeps only the body, decoding base64 with the record's encoding", () => {
		expect(formatRecord(record, { ...plain, noBody: true })).toBe('{"url":"http://a.com","encoding":"utf-8"}');
		expect(formatRecord(record, { ...plain, justBody: true, decodeBase64: true })).toBe("<html>é</html>");
		expect(JSON.parse(formatRecord(record, { ...plain, decodeBase64: true })).body).toBe("<html>é</html>");
	});

	it("prints non-JSON records as they are", () => {
		expect(formatRecord("not json", { ...plain, pretty: true })).toBe("not json");
	});
});
