import { fitRecord, pageRecord, pythonUtcTimestamp } from "../../../lib/crawl/record.ts";

const page = {
	appid: "app",
	crawlid: "crawlid",
	attrs: {},
	url: "http://dumb.com",
	responseUrl: "http://dumb.com",
	status: 200,
	responseHeaders: {},
	requestHeaders: {},
	body: Buffer.from("text"),
	text: "text",
	encoding: "utf-8",
	links: []
};

describe("crawled_firehose record", () => {
	it("has exactly the original's fields, keys sorted (test_pipelines.py)", () => {
		const record = pageRecord(page, false, new Date("2016-01-05T20:14:54.653Z"));
		expect(JSON.stringify(record)).toBe(
			'{"appid":"app","attrs":{},"body":"text","crawlid":"crawlid","encoding":"utf-8","links":[],"request_headers":{},"response_headers":{},"response_url":"http://dumb.com","status_code":200,"status_msg":"OK","timestamp":"2016-01-05T20:14:54.653000","url":"http://dumb.com"}'
		);
	});

	it("base64-encodes the raw body with KAFKA_BASE_64_ENCODE", () => {
		expect(pageRecord(page, true).body).toBe("dGV4dA==");
	});

	it("writes timestamps as Python's utcnow().isoformat()", () => {
		expect(pythonUtcTimestamp(new Date("2026-01-02T03:04:05.006Z"))).toBe("2026-01-02T03:04:05.006000");
	});

	it("keeps header lists and strips newlines from link URLs", () => {
		const record = pageRecord({ ...page, responseHeaders: { "Set-Cookie": ["a=1", "b=2"] }, links: [{ url: "http://x.com/a\nb", text: "x" }] }, false);
		expect(record.response_headers).toEqual({ "Set-Cookie": ["a=1", "b=2"] });
		expect(record.links).toEqual([{ url: "http://x.com/ab", text: "x" }]);
	});

	it("cuts the body of a page too big for a Kafka message until it fits", () => {
		const big = pageRecord({ ...page, text: "é\u0001".repeat(300000) }, false);
		const { message, truncated } = fitRecord(big, 100_000);
		expect(truncated).toBe(true);
		expect(message.length).toBeLessThanOrEqual(100_000);
		expect(message.length).toBeGreaterThan(80_000);
		const parsed = JSON.parse(message.toString("utf8")) as Record<string, unknown>;
		expect(Object.keys(parsed)).toEqual(Object.keys(big));
		const small = pageRecord(page, false);
		expect(fitRecord(small, 100_000)).toEqual({ message: Buffer.from(JSON.stringify(small)), truncated: false });
	});
});
