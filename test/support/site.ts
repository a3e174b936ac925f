/**
 * A generated website on 127.0.0.1 (random port) for integration tests and benchmarks; deterministic.
 *
 * Pages form a tree: "/" links to /d1/p0 .. /d1/p{fanout-1}; /dK/pI links to its children
 * /d{K+1}/p{I*fanout} .. /d{K+1}/p{I*fanout+fanout-1}, down to `depth` levels, and `pages` caps the tree
 * (breadth first, "/" included). Besides its children every page links to "/" (nav), its first child a
 * second time (de-duplication; "/" on leaves), itself as "#top" and its first child with a fragment, a
 * relative link (to its first child, or to its parent on leaves), /img/x.jpg (denied by extension), an
 * off-site http://offsite.invalid/x and a mailto:. So the pages reachable within a depth are exactly the
 * tree levels up to it (expectedPages), minus what robots.txt disallows.
 *
 * Special paths:
 *   /robots.txt      opts.robots, or 404 when null/undefined
 *   /redirect        302 -> /redirect2 -> 301 -> <origin>/ (relative, then absolute Location)
 *   /redirect-loop   302 -> /redirect-loop?n=N+1, endlessly
 *   /redirect-to?url=U[&status=S]   S (default 302) -> U, as given
 *   /slow            headers after 2 s
 *   /drip            200, then 1 byte every 200 ms for 30 s (stops when the client goes)
 *   /fail            500 always;  /flaky  500 on the first 2 requests, then 200
 *   /gzip /deflate /deflate-raw /br   an HTML page with that Content-Encoding
 *   /gzip-bomb       ~50 KB of gzip that decodes to 50 MB of zeros
 *   /huge            20 MB streamed (Content-Length set; stops when the client goes)
 *   /malformed       broken HTML: unclosed tags, <base href="/d1/">, invalid bytes, windows-1252 "café"
 *   /links-bomb      5000 links to /lb/0 .. /lb/4999 (small pages without links)
 *   /headers         the request headers as JSON (lower-case names); sets two Set-Cookie headers
 *   /cookie          the Cookie header as text/plain ("" when none)
 * Every request is counted in `hits` by path and query as requested.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from "node:zlib";
import { parseRobots } from "../../lib/crawl/robots.ts";

export interface SiteOptions {
	/** Cap on the number of tree pages, "/" included (default: the whole tree). */
	pages?: number;
	/** Children per page (default 3). */
	fanout?: number;
	/** Levels below "/" (default 3). */
	depth?: number;
	/** Approximate size of each tree page (default 2048). */
	pageBytes?: number;
	/** robots.txt text; null or undefined: /robots.txt is 404. */
	robots?: string | null;
	/** Label in titles, texts and the X-Site header, to tell sites apart (default "site"). */
	hostLabel?: string;
}

export interface TestSite {
	/** http://127.0.0.1:PORT */
	origin: string;
	port: number;
	/** Path (and query) as requested -> times served. */
	hits: Map<string, number>;
	/** Every request in order of arrival: path (and query) and Date.now() when it arrived (the last 10,000). */
	arrivals: Array<{ target: string; at: number }>;
	totalHits(): number;
	/** Long-running responses (/slow, /drip, /huge) and timers still going: 0 once every client has gone. */
	pending(): number;
	close(): Promise<void>;
	/** URLs of the tree pages reachable from "/" within maxdepth following on-site links, respecting robots.txt (for userAgent). */
	expectedPages(maxdepth: number, userAgent?: string): string[];
}

export const HUGE_BYTES = 20 * 1024 * 1024;
export const GZIP_BOMB_BYTES = 50 * 1024 * 1024;
export const DRIP_INTERVAL_MS = 200;
export const DRIP_DURATION_MS = 30_000;
export const SLOW_DELAY_MS = 2000;
export const LINKS_BOMB_COUNT = 5000;
export const OFFSITE_URL = "http://offsite.invalid/x";

const FILLER =
	"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat. ";

// A minimal JPEG (SOI, APP0 JFIF, EOI): enough for a Content-Type check.
const JPEG = Buffer.from("ffd8ffe000104a46494600010100000100010000ffd9", "hex");

const MALFORMED = Buffer.concat([
	Buffer.from('<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1252">\n<title>Malformed caf', "latin1"),
	Buffer.from([0xe9]),
	Buffer.from(
		'</title>\n<base href="/d1/">\n</head><body><div><p>unclosed <b>bold <i>italic\n' +
			'<a href="p1">relative to the base</a>\n' +
			"<a href='/d1/p0'>single quotes</a>\n" +
			"<a href=/d2/p0>unquoted</a>\n" +
			'<a href="  /d1/p2  ">spaces around</a>\n' +
			'<a href="javascript:void(0)">script</a>\n' +
			"<a>no href</a>\n" +
			"<p>invalid bytes: ",
		"latin1"
	),
	Buffer.from([0x81, 0x8d, 0xff, 0xfe]),
	Buffer.from("\n<p>caf", "latin1"),
	Buffer.from([0xe9]),
	Buffer.from(" cr", "latin1"),
	Buffer.from([0xe8]),
	Buffer.from("me br", "latin1"),
	Buffer.from([0xfb]),
	Buffer.from("l", "latin1"),
	Buffer.from([0xe9]),
	Buffer.from("e\n<table><tr><td>cell <td>cell 2\n</body>", "latin1")
]);

interface Page {
	level: number;
	index: number;
}

class SiteTree {
	readonly fanout: number;
	readonly depth: number;
	readonly pages: number;

	constructor(fanout: number, depth: number, pages: number) {
		this.fanout = fanout;
		this.depth = depth;
		this.pages = pages;
	}

	/** Breadth-first number of a page ("/" is 0). */
	private order(level: number, index: number): number {
		let before = 0;
		for (let l = 0; l < level; l++) before += this.fanout ** l;
		return before + index;
	}

	exists(page: Page): boolean {
		return page.level >= 0 && page.level <= this.depth && page.index >= 0 && page.index < this.fanout ** page.level && this.order(page.level, page.index) < this.pages;
	}

	parse(path: string): Page | null {
		if (path === "/") return { level: 0, index: 0 };
		const match = /^\/d(\d{1,4})\/p(\d{1,12})$/.exec(path);
		if (!match) return null;
		const page = { level: Number(match[1]), index: Number(match[2]) };
		return page.level >= 1 && this.exists(page) ? page : null;
	}

	children(page: Page): Page[] {
		const out: Page[] = [];
		for (let c = 0; c < this.fanout; c++) {
			const child = { level: page.level + 1, index: page.index * this.fanout + c };
			if (this.exists(child)) out.push(child);
		}
		return out;
	}
}

const pathOf = (page: Page): string => (page.level === 0 ? "/" : `/d${page.level}/p${page.index}`);

/** The hrefs of a tree page, as written in its HTML. */
function pageHrefs(tree: SiteTree, page: Page): { children: string[]; others: string[] } {
	const children = tree.children(page);
	const firstChild = children[0];
	const parent: Page | null = page.level === 0 ? null : { level: page.level - 1, index: Math.floor(page.index / tree.fanout) };
	let relative: string;
	if (firstChild) relative = page.level === 0 ? `d1/p${firstChild.index}` : `../d${firstChild.level}/p${firstChild.index}`;
	else relative = parent && parent.level > 0 ? `../d${parent.level}/p${parent.index}` : "../";
	return {
		children: children.map(pathOf),
		others: ["/", firstChild ? pathOf(firstChild) : "/", "#top", firstChild ? `${pathOf(firstChild)}#section` : "/#section", relative, "/img/x.jpg", OFFSITE_URL, "mailto:webmaster@example.com"]
	};
}

function escapeHtml(text: string): string {
	return text.replace(/[&<>"]/g, c => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c] ?? c);
}

function padded(head: string, tail: string, bytes: number, seed: string): string {
	const room = bytes - head.length - tail.length - "<p></p>\n".length;
	if (room <= 0) return head + tail;
	let text = "";
	while (text.length < room) text += `${seed} ${FILLER}`;
	return `${head}<p>${escapeHtml(text.slice(0, room))}</p>\n${tail}`;
}

function treePageHtml(tree: SiteTree, page: Page, label: string, pageBytes: number): string {
	const path = pathOf(page);
	const { children, others } = pageHrefs(tree, page);
	const [home, again, top, section, relative, image, offsite, mail] = others;
	const head =
		`<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>${escapeHtml(label)} ${path}</title></head>\n<body>\n<h1 id="top">${escapeHtml(label)} ${path}</h1>\n` +
		`<nav><a href="${home}">Home</a></nav>\n<ul>\n${children.map(c => `<li><a href="${c}">Page ${c}</a></li>`).join("\n")}\n</ul>\n` +
		`<p><a href="${again}">Again</a> <a href="${top}">Top</a> <a href="${section}">Section</a> <a href="${relative}">Relative</a> ` +
		`<a href="${image}">Image</a> <a href="${offsite}">Elsewhere</a> <a href="${mail}">Mail</a></p>\n`;
	return padded(head, "</body></html>\n", pageBytes, `${label} ${path}`);
}

function simpleHtml(title: string, body = ""): string {
	return `<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>\n`;
}

export async function startSite(opts: SiteOptions = {}): Promise<TestSite> {
	const fanout = Math.max(1, Math.floor(opts.fanout ?? 3));
	const depth = Math.max(0, Math.floor(opts.depth ?? 3));
	const tree = new SiteTree(fanout, depth, opts.pages ?? Number.POSITIVE_INFINITY);
	const pageBytes = Math.max(0, opts.pageBytes ?? 2048);
	const label = opts.hostLabel ?? "site";
	const robots = opts.robots ?? null;
	const hits = new Map<string, number>();
	const arrivals: Array<{ target: string; at: number }> = [];
	const timers = new Set<NodeJS.Timeout>();
	const live = new Set<ServerResponse>();
	let flakyCount = 0;
	let closing: Promise<void> | null = null;
	let origin = "";

	const later = (ms: number, fn: () => void): NodeJS.Timeout => {
		const timer = setTimeout(() => {
			timers.delete(timer);
			fn();
		}, ms);
		timers.add(timer);
		return timer;
	};
	const every = (ms: number, fn: () => void): NodeJS.Timeout => {
		const timer = setInterval(fn, ms);
		timers.add(timer);
		return timer;
	};
	const cancel = (timer: NodeJS.Timeout): void => {
		clearTimeout(timer);
		timers.delete(timer);
	};
	/** A long-running response: destroyed at close(), forgotten when it ends. */
	const track = (res: ServerResponse, onClose: () => void = () => undefined): void => {
		live.add(res);
		res.on("close", () => {
			live.delete(res);
			onClose();
		});
	};

	const html = (res: ServerResponse, status: number, body: string | Buffer, headers: Record<string, string> = {}): void => {
		const buf = typeof body === "string" ? Buffer.from(body, "utf8") : body;
		res.writeHead(status, { "Content-Type": "text/html; charset=utf-8", "Content-Length": String(buf.length), "X-Site": label, ...headers });
		res.end(buf);
	};
	const encodedPage = (encode: (b: Buffer) => Buffer, encoding: string) => (_req: IncomingMessage, res: ServerResponse) => {
		const body = encode(Buffer.from(simpleHtml(`${label} ${encoding}`, `<p>compressed with ${encoding}: ${FILLER.repeat(20)}</p><a href="/">Home</a>`), "utf8"));
		res.writeHead(200, { "Content-Type": "text/html; charset=utf-8", "Content-Encoding": encoding === "deflate-raw" ? "deflate" : encoding, "Content-Length": String(body.length) });
		res.end(body);
	};
	let bomb: Buffer | null = null;

	const special: Record<string, (req: IncomingMessage, res: ServerResponse, url: URL) => void> = {
		"/robots.txt": (_req, res) => {
			if (robots === null) return html(res, 404, simpleHtml("Not found"));
			res.writeHead(200, { "Content-Type": "text/plain; charset=utf-8" });
			res.end(robots);
		},
		"/redirect": (_req, res) => {
			res.writeHead(302, { Location: "/redirect2", "Content-Length": "0" });
			res.end();
		},
		"/redirect2": (_req, res) => {
			res.writeHead(301, { Location: `${origin}/`, "Content-Length": "0" });
			res.end();
		},
		"/redirect-loop": (_req, res, url) => {
			const n = Number(url.searchParams.get("n") ?? 0) + 1;
			res.writeHead(302, { Location: `/redirect-loop?n=${n}`, "Content-Length": "0" });
			res.end();
		},
		"/redirect-to": (_req, res, url) => {
			const status = Number(url.searchParams.get("status") ?? 302);
			res.writeHead([301, 302, 303, 307, 308].includes(status) ? status : 302, { Location: url.searchParams.get("url") ?? "/", "Content-Length": "0" });
			res.end();
		},
		"/slow": (_req, res) => {
			const timer = later(SLOW_DELAY_MS, () => html(res, 200, simpleHtml("Slow")));
			track(res, () => cancel(timer));
		},
		"/drip": (_req, res) => {
			res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
			res.write("<");
			let left = Math.floor(DRIP_DURATION_MS / DRIP_INTERVAL_MS);
			const timer = every(DRIP_INTERVAL_MS, () => {
				if (--left <= 0) {
					cancel(timer);
					res.end("x");
				} else res.write("x");
			});
			track(res, () => cancel(timer));
		},
		"/fail": (_req, res) => html(res, 500, simpleHtml("Internal Server Error")),
		"/flaky": (_req, res) => (++flakyCount <= 2 ? html(res, 500, simpleHtml("Flaky failure")) : html(res, 200, simpleHtml("Flaky success"))),
		"/gzip": encodedPage(gzipSync, "gzip"),
		"/deflate": encodedPage(deflateSync, "deflate"),
		"/deflate-raw": encodedPage(deflateRawSync, "deflate-raw"),
		"/br": encodedPage(brotliCompressSync, "br"),
		"/gzip-bomb": (_req, res) => {
			// Concatenated gzip members are one valid gzip stream: 50 members of 1 MiB of zeros each.
			bomb ??= Buffer.concat(Array.from({ length: GZIP_BOMB_BYTES / (1024 * 1024) }, () => gzipSync(Buffer.alloc(1024 * 1024), { level: 9 })));
			res.writeHead(200, { "Content-Type": "text/html", "Content-Encoding": "gzip", "Content-Length": String(bomb.length) });
			res.end(bomb);
		},
		"/huge": (_req, res) => {
			const chunk = Buffer.alloc(64 * 1024, "<p>huge page</p>\n");
			let sent = 0;
			res.writeHead(200, { "Content-Type": "text/html; charset=utf-8", "Content-Length": String(HUGE_BYTES) });
			const pump = (): void => {
				while (sent < HUGE_BYTES && !res.destroyed) {
					const piece = chunk.subarray(0, Math.min(chunk.length, HUGE_BYTES - sent));
					sent += piece.length;
					if (!res.write(piece)) return void res.once("drain", pump);
				}
				if (!res.destroyed) res.end();
			};
			track(res);
			pump();
		},
		"/malformed": (_req, res) => {
			res.writeHead(200, { "Content-Type": "text/html", "Content-Length": String(MALFORMED.length) });
			res.end(MALFORMED);
		},
		"/links-bomb": (_req, res) => {
			const links = Array.from({ length: LINKS_BOMB_COUNT }, (_, i) => `<a href="/lb/${i}">link ${i}</a>`).join("\n");
			html(res, 200, simpleHtml("Links bomb", links));
		},
		"/headers": (req, res) => {
			const body = Buffer.from(JSON.stringify(req.headers), "utf8");
			res.setHeader("Set-Cookie", ["session=abc123; Path=/; HttpOnly", "theme=dark; Path=/"]);
			res.setHeader("X-Mixed-Case", "Yes");
			res.writeHead(200, { "Content-Type": "application/json", "Content-Length": String(body.length) });
			res.end(body);
		},
		"/cookie": (req, res) => {
			res.writeHead(200, { "Content-Type": "text/plain; charset=utf-8" });
			res.end(req.headers.cookie ?? "");
		},
		"/img/x.jpg": (_req, res) => {
			res.writeHead(200, { "Content-Type": "image/jpeg", "Content-Length": String(JPEG.length) });
			res.end(JPEG);
		}
	};

	const server = createServer((req, res) => {
		const target = req.url ?? "/";
		hits.set(target, (hits.get(target) ?? 0) + 1);
		arrivals.push({ target, at: Date.now() });
		if (arrivals.length > 10_000) arrivals.shift();
		if (closing) {
			res.destroy();
			return;
		}
		let url: URL;
		try {
			url = new URL(target, "http://127.0.0.1");
		} catch {
			return html(res, 400, simpleHtml("Bad request"));
		}
		const handler = special[url.pathname];
		if (handler) return handler(req, res, url);
		const page = tree.parse(url.pathname);
		if (page) return html(res, 200, treePageHtml(tree, page, label, pageBytes));
		if (/^\/lb\/\d{1,6}$/.test(url.pathname)) return html(res, 200, simpleHtml(`${label} ${url.pathname}`));
		html(res, 404, simpleHtml("Not found"));
	});

	await new Promise<void>((resolve, reject) => {
		server.once("error", reject);
		server.listen(0, "127.0.0.1", () => {
			server.off("error", reject);
			resolve();
		});
	});
	const port = (server.address() as AddressInfo).port;
	origin = `http://127.0.0.1:${port}`;

	return {
		origin,
		port,
		hits,
		arrivals,
		totalHits: () => [...hits.values()].reduce((a, b) => a + b, 0),
		pending: () => live.size + timers.size,
		close: () => {
			closing ??= new Promise<void>(resolve => {
				for (const timer of timers) clearTimeout(timer);
				timers.clear();
				for (const res of live) res.destroy();
				live.clear();
				server.close(() => resolve());
				server.closeAllConnections();
			});
			return closing;
		},
		expectedPages: (maxdepth: number, userAgent = "Scrapy") => {
			const rules = robots === null ? null : parseRobots(robots, userAgent);
			const seen = new Set<string>(["/"]);
			const found: string[] = [];
			let frontier: string[] = ["/"];
			for (let level = 0; level <= maxdepth && frontier.length > 0; level++) {
				const next: string[] = [];
				for (const path of frontier) {
					const page = tree.parse(path);
					if (!page || (rules && !rules.isAllowed(`${origin}${path}`))) continue;
					found.push(`${origin}${path}`);
					if (level === maxdepth) continue;
					const { children, others } = pageHrefs(tree, page);
					for (const href of [...children, ...others]) {
						const link = new URL(href, `${origin}${path}`);
						if (link.origin !== origin || seen.has(link.pathname)) continue;
						seen.add(link.pathname);
						next.push(link.pathname);
					}
				}
				frontier = next;
			}
			return found;
		}
	};
}
