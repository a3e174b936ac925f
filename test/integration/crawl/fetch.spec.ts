/**
 * The page fetcher (lib/crawl/fetch.ts) against the generated test site on 127.0.0.1: redirects,
 * deadlines, decoding, body caps, error classes, headers and cookies.
 */
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { isRetryable, RefusedRequestError } from "../../../lib/errors.ts";
import { DEFAULT_ACCEPT, FetchError, Fetcher, type FetchOptions } from "../../../lib/crawl/fetch.ts";
import { GZIP_BOMB_BYTES, HUGE_BYTES, startSite, type TestSite } from "../../support/site.ts";

/** Poll until check() is true or timeoutMs passes (bounded); returns the last answer. */
async function eventually(check: () => boolean, timeoutMs: number): Promise<boolean> {
	const end = Date.now() + timeoutMs;
	while (!check() && Date.now() < end) await new Promise(r => setTimeout(r, 20));
	return check();
}

const UA = "scrapy-cluster-ts-test/1.0 (+https://example.com)";
const MB = 1024 * 1024;

async function caught(promise: Promise<unknown>): Promise<unknown> {
	try {
		await promise;
	} catch (err) {
		return err;
	}
	throw new Error("expected a rejection");
}

async function closedPort(): Promise<number> {
	const server = createServer();
	await new Promise<void>(resolve => server.listen(0, "127.0.0.1", () => resolve()));
	const { port } = server.address() as AddressInfo;
	await new Promise<void>(resolve => server.close(() => resolve()));
	return port;
}

describe("Fetcher against the test site", () => {
	let site: TestSite;
	let other: TestSite;
	const fetchers: Fetcher[] = [];
	const fetcher = (opts: Partial<FetchOptions> = {}): Fetcher => {
		const f = new Fetcher({ timeoutMs: 5000, maxBodyBytes: 5 * MB, maxRedirects: 10, userAgent: UA, ...opts });
		fetchers.push(f);
		return f;
	};

	beforeAll(async () => {
		site = await startSite({ hostLabel: "main" });
		other = await startSite({ hostLabel: "other" });
	});
	afterEach(async () => {
		await Promise.all(fetchers.splice(0).map(f => f.close()));
	});
	afterAll(async () => {
		await Promise.all([site?.close(), other?.close()]);
	});

	it("fetches a page", async () => {
		const res = await fetcher().fetch({ url: `${site.origin}/` });
		expect(res.url).toBe(`${site.origin}/`);
		expect(res.responseUrl).toBe(`${site.origin}/`);
		expect(res.status).toBe(200);
		expect(res.redirects).toEqual([]);
		expect(res.truncated).toBe(false);
		expect(res.body.toString("utf8")).toContain("<title>main /</title>");
		expect(res.responseHeaders["Content-Type"]).toEqual(["text/html; charset=utf-8"]);
	});

	it("reuses keep-alive connections for requests to one origin", async () => {
		const f = fetcher();
		const results = await Promise.all(Array.from({ length: 20 }, (_, i) => f.fetch({ url: `${site.origin}/d2/p${i % 9}` })));
		expect(results.map(r => r.status)).toEqual(Array(20).fill(200));
	});

	it("follows redirects, relative and absolute, and lists the URLs redirected through", async () => {
		const res = await fetcher().fetch({ url: `${site.origin}/redirect` });
		expect(res.status).toBe(200);
		expect(res.url).toBe(`${site.origin}/redirect`);
		expect(res.responseUrl).toBe(`${site.origin}/`);
		expect(res.redirects).toEqual([`${site.origin}/redirect`, `${site.origin}/redirect2`]);
		expect(res.body.toString("utf8")).toContain("<title>main /</title>");
	});

	it("follows 303 and 307 too, to another origin", async () => {
		for (const status of [303, 307, 308]) {
			const res = await fetcher().fetch({ url: `${site.origin}/redirect-to?status=${status}&url=${encodeURIComponent(`${other.origin}/d1/p1`)}` });
			expect(res.responseUrl).toBe(`${other.origin}/d1/p1`);
			expect(res.body.toString("utf8")).toContain("<title>other /d1/p1</title>");
		}
	});

	it("fails a redirect loop with too_many_redirects after maxRedirects", async () => {
		const before = site.totalHits();
		const err = await caught(fetcher({ maxRedirects: 5 }).fetch({ url: `${site.origin}/redirect-loop` }));
		expect(err).toBeInstanceOf(FetchError);
		expect((err as FetchError).code).toBe("too_many_redirects");
		expect(isRetryable(err)).toBe(true);
		expect(site.totalHits() - before).toBe(6);
	});

	it("with maxRedirects 0 refuses to follow any redirect", async () => {
		const err = await caught(fetcher({ maxRedirects: 0 }).fetch({ url: `${site.origin}/redirect` }));
		expect((err as FetchError).code).toBe("too_many_redirects");
	});

	it("returns a redirect to a non-HTTP location as the response itself", async () => {
		const res = await fetcher().fetch({ url: `${site.origin}/redirect-to?url=${encodeURIComponent("mailto:someone@example.com")}` });
		expect(res.status).toBe(302);
		expect(res.redirects).toEqual([]);
		expect(res.responseHeaders.Location).toEqual(["mailto:someone@example.com"]);
	});

	it("times out on headers that do not come (/slow) at the deadline", async () => {
		const started = Date.now();
		const err = await caught(fetcher({ timeoutMs: 500 }).fetch({ url: `${site.origin}/slow` }));
		const elapsed = Date.now() - started;
		expect(err).toBeInstanceOf(FetchError);
		expect((err as FetchError).code).toBe("timeout");
		expect((err as FetchError).url).toBe(`${site.origin}/slow`);
		expect(isRetryable(err)).toBe(true);
		expect(elapsed).toBeGreaterThanOrEqual(450);
		expect(elapsed).toBeLessThan(1500);
	});

	it("cuts a slow-drip body at the deadline", async () => {
		const started = Date.now();
		const err = await caught(fetcher({ timeoutMs: 700 }).fetch({ url: `${site.origin}/drip` }));
		const elapsed = Date.now() - started;
		expect((err as FetchError).code).toBe("timeout");
		expect(elapsed).toBeGreaterThanOrEqual(650);
		expect(elapsed).toBeLessThan(2000);
		// The connection was dropped: the site stops dripping.
		expect(await eventually(() => site.pending() === 0, 2000)).toBe(true);
	});

	it("applies one deadline across redirects", async () => {
		const err = await caught(fetcher({ timeoutMs: 500 }).fetch({ url: `${site.origin}/redirect-to?url=/slow` }));
		expect((err as FetchError).code).toBe("timeout");
		expect((err as FetchError).url).toBe(`${site.origin}/redirect-to?url=/slow`);
		expect((err as FetchError).message).toContain(`at ${site.origin}/slow`);
	});

	it("returns HTTP error statuses as results", async () => {
		const res = await fetcher().fetch({ url: `${site.origin}/fail` });
		expect(res.status).toBe(500);
		expect(res.body.toString("utf8")).toContain("Internal Server Error");
		expect((await fetcher().fetch({ url: `${site.origin}/no/such/page` })).status).toBe(404);
	});

	it.each(["/gzip", "/deflate", "/deflate-raw", "/br"])("decodes %s", async path => {
		const res = await fetcher().fetch({ url: `${site.origin}${path}` });
		expect(res.status).toBe(200);
		expect(res.truncated).toBe(false);
		const text = res.body.toString("utf8");
		expect(text.startsWith("<!DOCTYPE html>")).toBe(true);
		expect(text).toContain("compressed with");
		expect(text.trimEnd().endsWith("</html>")).toBe(true);
	});

	it("truncates /huge at maxBodyBytes, quickly and with bounded memory", async () => {
		const f = fetcher({ maxBodyBytes: MB });
		const baseline = process.memoryUsage().arrayBuffers;
		let peak = baseline;
		const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().arrayBuffers)), 5);
		const started = Date.now();
		try {
			const res = await f.fetch({ url: `${site.origin}/huge` });
			expect(res.status).toBe(200);
			expect(res.truncated).toBe(true);
			expect(res.body.length).toBe(MB);
			expect(res.responseHeaders["Content-Length"]).toEqual([String(HUGE_BYTES)]);
		} finally {
			clearInterval(sampler);
		}
		expect(Date.now() - started).toBeLessThan(2000);
		expect(peak - baseline).toBeLessThan(HUGE_BYTES / 2);
	});

	it("caps the decoded size of a gzip bomb", async () => {
		const started = Date.now();
		const res = await fetcher({ maxBodyBytes: MB }).fetch({ url: `${site.origin}/gzip-bomb` });
		expect(res.truncated).toBe(true);
		expect(res.body.length).toBe(MB);
		expect(res.body.every(b => b === 0)).toBe(true);
		expect(Date.now() - started).toBeLessThan(3000);
		expect(GZIP_BOMB_BYTES).toBeGreaterThan(MB);
	});

	it("does not truncate a body of exactly maxBodyBytes", async () => {
		const full = await fetcher().fetch({ url: `${site.origin}/d1/p0` });
		const exact = await fetcher({ maxBodyBytes: full.body.length }).fetch({ url: `${site.origin}/d1/p0` });
		expect(exact.truncated).toBe(false);
		expect(exact.body.equals(full.body)).toBe(true);
		const cut = await fetcher({ maxBodyBytes: full.body.length - 1 }).fetch({ url: `${site.origin}/d1/p0` });
		expect(cut.truncated).toBe(true);
		expect(cut.body.equals(full.body.subarray(0, full.body.length - 1))).toBe(true);
	});

	it("fails a refused connection with a retryable FetchError", async () => {
		const port = await closedPort();
		const err = await caught(fetcher().fetch({ url: `http://127.0.0.1:${port}/` }));
		expect(err).toBeInstanceOf(FetchError);
		expect((err as FetchError).code).toBe("connection");
		expect(isRetryable(err)).toBe(true);
	});

	it("refuses URLs that are not http or https, without retry", async () => {
		for (const url of ["ftp://127.0.0.1/x", "mailto:a@b.c", "not a url", "file:///etc/passwd"]) {
			const err = await caught(fetcher().fetch({ url }));
			expect(err).toBeInstanceOf(RefusedRequestError);
			expect(isRetryable(err)).toBe(false);
		}
	});

	it("stops on the caller's abort signal and when the fetcher closes", async () => {
		const controller = new AbortController();
		const f = fetcher();
		const aborted = caught(f.fetch({ url: `${site.origin}/slow` }, controller.signal));
		setTimeout(() => controller.abort(), 100);
		expect(((await aborted) as FetchError).code).toBe("aborted");

		const closing = caught(f.fetch({ url: `${site.origin}/drip` }));
		await new Promise(r => setTimeout(r, 100));
		const started = Date.now();
		await f.close();
		expect(((await closing) as FetchError).code).toBe("closed");
		expect(Date.now() - started).toBeLessThan(1000);
		expect(((await caught(f.fetch({ url: `${site.origin}/` }))) as FetchError).code).toBe("closed");
	});

	it("gives response headers as lists, keeping each Set-Cookie and the received spelling", async () => {
		const res = await fetcher().fetch({ url: `${site.origin}/headers` });
		expect(res.responseHeaders["Set-Cookie"]).toEqual(["session=abc123; Path=/; HttpOnly", "theme=dark; Path=/"]);
		expect(res.responseHeaders["X-Mixed-Case"]).toEqual(["Yes"]);
		for (const values of Object.values(res.responseHeaders)) expect(Array.isArray(values)).toBe(true);
	});

	it("sends the default headers and reports them", async () => {
		const res = await fetcher().fetch({ url: `${site.origin}/headers` });
		const seen = JSON.parse(res.body.toString("utf8")) as Record<string, string>;
		expect(seen["user-agent"]).toBe(UA);
		expect(seen.accept).toBe(DEFAULT_ACCEPT);
		expect(seen["accept-language"]).toBe("en");
		expect(seen["accept-encoding"]).toBe("gzip, deflate, br");
		expect(seen.cookie).toBeUndefined();
		expect(res.requestHeaders).toEqual({
			"User-Agent": [UA],
			Accept: [DEFAULT_ACCEPT],
			"Accept-Language": ["en"],
			"Accept-Encoding": ["gzip, deflate, br"]
		});
	});

	it("lets request headers override the defaults, User-Agent included", async () => {
		const res = await fetcher().fetch({ url: `${site.origin}/headers`, headers: { "user-agent": "Other/2.0", "X-Extra": "1", Connection: "close" } });
		const seen = JSON.parse(res.body.toString("utf8")) as Record<string, string>;
		expect(seen["user-agent"]).toBe("Other/2.0");
		expect(seen["x-extra"]).toBe("1");
		expect(res.requestHeaders["user-agent"]).toEqual(["Other/2.0"]);
		expect(res.requestHeaders["User-Agent"]).toBeUndefined();
	});

	it("sends a cookie only when given, and never remembers one", async () => {
		const f = fetcher();
		await f.fetch({ url: `${site.origin}/headers` }); // the server sets two cookies
		expect((await f.fetch({ url: `${site.origin}/cookie` })).body.toString()).toBe("");
		const withCookie = await f.fetch({ url: `${site.origin}/cookie`, cookie: "a=1; b=2" });
		expect(withCookie.body.toString()).toBe("a=1; b=2");
		expect(withCookie.requestHeaders.Cookie).toEqual(["a=1; b=2"]);
		const after = await f.fetch({ url: `${site.origin}/cookie`, cookie: null });
		expect(after.body.toString()).toBe("");
		expect(after.requestHeaders.Cookie).toBeUndefined();
	});

	it("keeps the cookie on a same-host redirect and drops it on a redirect to another host", async () => {
		const f = fetcher();
		const same = await f.fetch({ url: `${site.origin}/redirect-to?url=/cookie`, cookie: "a=1" });
		expect(same.body.toString()).toBe("a=1");
		const cross = await f.fetch({ url: `${site.origin}/redirect-to?url=${encodeURIComponent(`${other.origin}/cookie`)}`, cookie: "a=1" });
		expect(cross.responseUrl).toBe(`${other.origin}/cookie`);
		expect(cross.body.toString()).toBe("");
		expect(cross.requestHeaders.Cookie).toBeUndefined();
	});
});
