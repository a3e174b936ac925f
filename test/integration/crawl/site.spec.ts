/**
 * The generated test website (test/support/site.ts): its link tree agrees with expectedPages, hits are
 * counted, the special paths behave, and close() is prompt even with connections open.
 */
import { Agent, get, type IncomingMessage } from "node:http";
import { startSite, LINKS_BOMB_COUNT, OFFSITE_URL, type TestSite } from "../../support/site.ts";

/** Poll until check() is true or timeoutMs passes (bounded); returns the last answer. */
async function eventually(check: () => boolean, timeoutMs: number): Promise<boolean> {
	const end = Date.now() + timeoutMs;
	while (!check() && Date.now() < end) await new Promise(r => setTimeout(r, 20));
	return check();
}

interface Got {
	status: number;
	headers: IncomingMessage["headers"];
	body: Buffer;
}

function fetchRaw(url: string, agent?: Agent): Promise<Got> {
	return new Promise((resolve, reject) => {
		const req = get(url, { agent: agent ?? false }, res => {
			const chunks: Buffer[] = [];
			res.on("data", (c: Buffer) => chunks.push(c));
			res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
			res.on("error", reject);
		});
		req.on("error", reject);
		req.setTimeout(10000, () => req.destroy(new Error(`timeout fetching ${url}`)));
	});
}

const HREF = /<a\s[^>]*href="([^"]*)"/g;

/** A tiny breadth-first crawler: on-site links, no fragments, no images, each page once. */
async function crawl(site: TestSite, maxdepth: number): Promise<string[]> {
	const seen = new Set<string>([`${site.origin}/`]);
	const found: string[] = [];
	let frontier = [`${site.origin}/`];
	for (let depth = 0; depth <= maxdepth && frontier.length > 0; depth++) {
		const next: string[] = [];
		for (const url of frontier) {
			const page = await fetchRaw(url);
			expect([url, page.status]).toEqual([url, 200]);
			found.push(url);
			if (depth === maxdepth) continue;
			for (const [, href] of page.body.toString("utf8").matchAll(HREF)) {
				const link = new URL(href!, url);
				link.hash = "";
				if (link.origin !== site.origin || link.pathname.endsWith(".jpg") || seen.has(link.href)) continue;
				seen.add(link.href);
				next.push(link.href);
			}
		}
		frontier = next;
	}
	return found;
}

describe("the test site", () => {
	const sites: TestSite[] = [];
	const start = async (...args: Parameters<typeof startSite>): Promise<TestSite> => {
		const site = await startSite(...args);
		sites.push(site);
		return site;
	};
	afterEach(async () => {
		await Promise.all(sites.splice(0).map(s => s.close()));
	});

	it("listens on 127.0.0.1 at a random port", async () => {
		const site = await start();
		expect(site.origin).toBe(`http://127.0.0.1:${site.port}`);
		expect(site.port).toBeGreaterThan(0);
	});

	it("knows the pages reachable within each depth (fanout 3, depth 3)", async () => {
		const site = await start();
		expect(site.expectedPages(0)).toEqual([`${site.origin}/`]);
		expect(site.expectedPages(1)).toHaveLength(4);
		expect(site.expectedPages(2)).toHaveLength(13);
		expect(site.expectedPages(3)).toHaveLength(40);
		expect(site.expectedPages(10)).toHaveLength(40);
		expect(site.expectedPages(1)).toEqual(["/", "/d1/p0", "/d1/p1", "/d1/p2"].map(p => `${site.origin}${p}`));
	});

	it("serves exactly the expected pages to a crawler, each fetched once", async () => {
		const site = await start({ fanout: 4, depth: 2 });
		for (const depth of [0, 1, 2]) {
			const before = site.totalHits();
			const crawled = await crawl(site, depth);
			expect(new Set(crawled)).toEqual(new Set(site.expectedPages(depth)));
			expect(site.totalHits() - before).toBe(crawled.length);
		}
		expect(site.expectedPages(2)).toHaveLength(1 + 4 + 16);
		expect(site.hits.get("/")).toBe(3);
		expect(site.hits.get("/d2/p15")).toBe(1);
		expect(site.hits.get("/d3/p0")).toBeUndefined();
	});

	it("caps the tree at `pages`, breadth first", async () => {
		const site = await start({ fanout: 3, depth: 3, pages: 10 });
		expect(site.expectedPages(2)).toHaveLength(10);
		expect(site.expectedPages(2)).toContain(`${site.origin}/d2/p5`);
		expect(site.expectedPages(2)).not.toContain(`${site.origin}/d2/p6`);
		expect((await fetchRaw(`${site.origin}/d2/p5`)).status).toBe(200);
		expect((await fetchRaw(`${site.origin}/d2/p6`)).status).toBe(404);
		expect(new Set(await crawl(site, 3))).toEqual(new Set(site.expectedPages(3)));
	});

	it("leaves out what robots.txt disallows, and serves robots.txt (404 without)", async () => {
		const robots = "User-agent: *\nDisallow: /d1/p1\n";
		const site = await start({ robots });
		const expected = site.expectedPages(2);
		expect(expected).toHaveLength(13 - 1 - 3);
		expect(expected).not.toContain(`${site.origin}/d1/p1`);
		expect(expected).not.toContain(`${site.origin}/d2/p3`);
		expect(site.expectedPages(2, "otherbot")).toHaveLength(9);
		const got = await fetchRaw(`${site.origin}/robots.txt`);
		expect(got.status).toBe(200);
		expect(got.body.toString()).toBe(robots);
		const plain = await start();
		expect((await fetchRaw(`${plain.origin}/robots.txt`)).status).toBe(404);
	});

	it("writes each tree page with the links the crawler must handle, padded to about pageBytes", async () => {
		const site = await start({ pageBytes: 4000, hostLabel: "alpha" });
		const page = await fetchRaw(`${site.origin}/d1/p1`);
		const html = page.body.toString("utf8");
		expect(page.headers["x-site"]).toBe("alpha");
		expect(html).toContain("<title>alpha /d1/p1</title>");
		expect(page.body.length).toBeGreaterThanOrEqual(3900);
		expect(page.body.length).toBeLessThanOrEqual(4100);
		const hrefs = [...html.matchAll(HREF)].map(m => m[1]);
		expect(hrefs).toEqual(
			expect.arrayContaining(["/d2/p3", "/d2/p4", "/d2/p5", "#top", "/d2/p3#section", "../d2/p3", "/img/x.jpg", OFFSITE_URL, "mailto:webmaster@example.com"])
		);
		expect(hrefs.filter(h => h === "/d2/p3")).toHaveLength(2);
		// Leaves link back to their parent, relatively.
		const leaf = (await fetchRaw(`${site.origin}/d3/p4`)).body.toString("utf8");
		expect([...leaf.matchAll(HREF)].map(m => m[1])).toContain("../d2/p1");
		expect((await fetchRaw(`${site.origin}/img/x.jpg`)).headers["content-type"]).toBe("image/jpeg");
	});

	it("counts hits per path and query, repeated fetches included", async () => {
		const site = await start();
		await fetchRaw(`${site.origin}/`);
		await fetchRaw(`${site.origin}/`);
		await fetchRaw(`${site.origin}/d1/p0?x=1`);
		await fetchRaw(`${site.origin}/missing`);
		expect(site.hits.get("/")).toBe(2);
		expect(site.hits.get("/d1/p0?x=1")).toBe(1);
		expect(site.hits.get("/missing")).toBe(1);
		expect(site.totalHits()).toBe(4);
	});

	it("serves the special paths", async () => {
		const site = await start();
		const redirect = await fetchRaw(`${site.origin}/redirect`);
		expect([redirect.status, redirect.headers.location]).toEqual([302, "/redirect2"]);
		const redirect2 = await fetchRaw(`${site.origin}/redirect2`);
		expect([redirect2.status, redirect2.headers.location]).toEqual([301, `${site.origin}/`]);
		const loop = await fetchRaw(`${site.origin}/redirect-loop?n=7`);
		expect([loop.status, loop.headers.location]).toEqual([302, "/redirect-loop?n=8"]);
		expect((await fetchRaw(`${site.origin}/fail`)).status).toBe(500);
		expect((await fetchRaw(`${site.origin}/fail`)).status).toBe(500);
		const flaky = [];
		for (let i = 0; i < 4; i++) flaky.push((await fetchRaw(`${site.origin}/flaky`)).status);
		expect(flaky).toEqual([500, 500, 200, 200]);
		const gzip = await fetchRaw(`${site.origin}/gzip`);
		expect(gzip.headers["content-encoding"]).toBe("gzip");
		expect(gzip.body.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
		const malformed = (await fetchRaw(`${site.origin}/malformed`)).body;
		expect(malformed.includes(Buffer.from([0x63, 0x61, 0x66, 0xe9]))).toBe(true); // "café" in windows-1252
		expect(malformed.toString("latin1")).toContain('<base href="/d1/">');
		expect(malformed.toString("latin1")).toContain("charset=windows-1252");
		const bomb = (await fetchRaw(`${site.origin}/links-bomb`)).body.toString("utf8");
		expect([...bomb.matchAll(HREF)]).toHaveLength(LINKS_BOMB_COUNT);
		expect((await fetchRaw(`${site.origin}/lb/4999`)).status).toBe(200);
		const headers = await fetchRaw(`${site.origin}/headers`);
		expect(headers.headers["set-cookie"]).toHaveLength(2);
		expect((JSON.parse(headers.body.toString()) as Record<string, string>).host).toBe(`127.0.0.1:${site.port}`);
		expect((await fetchRaw(`${site.origin}/cookie`)).body.toString()).toBe("");
		expect((await fetchRaw(`${site.origin}/d9/p0`)).status).toBe(404);
	});

	it("sends /slow after 2 s", async () => {
		const site = await start();
		const started = Date.now();
		const slow = fetchRaw(`${site.origin}/slow`);
		await new Promise(r => setTimeout(r, 100));
		expect(site.pending()).toBe(2); // the response and its timer
		expect((await slow).status).toBe(200);
		expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
		expect(site.pending()).toBe(0);
	});

	it("stops dripping when the client goes", async () => {
		const site = await start();
		await new Promise<void>((resolve, reject) => {
			const req = get(`${site.origin}/drip`, { agent: false }, res => {
				res.once("data", () => {
					req.destroy();
					resolve();
				});
			});
			req.on("error", err => (req.destroyed ? undefined : reject(err)));
		});
		// The server notices the disconnect and clears its timer.
		expect(await eventually(() => site.pending() === 0, 2000)).toBe(true);
		const started = Date.now();
		await site.close();
		expect(Date.now() - started).toBeLessThan(500);
	});

	it("closes promptly with keep-alive, drip, slow and huge connections open", async () => {
		const site = await start();
		const agent = new Agent({ keepAlive: true });
		try {
			expect((await fetchRaw(`${site.origin}/`, agent)).status).toBe(200);
			const open = ["/drip", "/slow", "/huge"].map(path => {
				let req: ReturnType<typeof get> | undefined;
				const done = new Promise<void>(resolve => {
					req = get(`${site.origin}${path}`, { agent: false }, res => {
						res.pause(); // /huge: do not read, so the server is stuck on backpressure
						res.on("error", () => resolve());
						res.on("close", () => resolve());
					});
					req.on("error", () => resolve());
					req.on("close", () => resolve());
				});
				return { req, done };
			});
			await new Promise(r => setTimeout(r, 300));
			const started = Date.now();
			await site.close();
			expect(Date.now() - started).toBeLessThan(1000);
			// A paused client socket never reads the server's close: let the client go too.
			for (const o of open) o.req?.destroy();
			await Promise.all(open.map(o => o.done));
		} finally {
			agent.destroy();
		}
	});
});
