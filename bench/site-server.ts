/**
 * Serves the benchmark's generated site (bench/site.ts) from its own process, so its CPU is not in the
 * measured process. One port, one listener per host address (127.0.0.1 .. 127.0.0.<hosts>).
 *   node bench/site-server.ts '<SiteSpec JSON>'
 * Prints one line `{"port": P, "hosts": [...]}` on stdout when every listener is up.
 * Paths: /p/<k> (page k; 404 on another host), /robots.txt, anything else 404. Control (any host):
 * GET /__bench/hits -> {"pages": <page responses>, "robots": n, "other": n}; POST /__bench/reset zeroes them.
 * Exits when its stdin closes (the benchmark went away) or on SIGTERM.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { DEFAULT_SITE, hostAddress, renderPage, ROBOTS_TXT, type SiteSpec } from "./site.ts";

const spec: SiteSpec = { ...DEFAULT_SITE, ...(process.argv[2] ? (JSON.parse(process.argv[2]) as Partial<SiteSpec>) : {}) };
const hits = { pages: 0, robots: 0, other: 0 };
const cache = new Map<number, Buffer>();
let port = 0;

function handle(req: IncomingMessage, res: ServerResponse, host: number): void {
	const path = (req.url ?? "/").split("?")[0]!;
	if (path === "/__bench/hits") {
		res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(hits));
		return;
	}
	if (path === "/__bench/reset") {
		hits.pages = hits.robots = hits.other = 0;
		res.writeHead(204).end();
		return;
	}
	if (path === "/robots.txt") {
		hits.robots++;
		res.writeHead(200, { "content-type": "text/plain" }).end(ROBOTS_TXT);
		return;
	}
	const m = /^\/p\/(\d+)$/.exec(path);
	const k = m ? Number(m[1]) : -1;
	if (k < 0 || k >= spec.pages || k % spec.hosts !== host) {
		hits.other++;
		res.writeHead(404, { "content-type": "text/plain" }).end("not found");
		return;
	}
	let body = cache.get(k);
	if (!body) {
		body = Buffer.from(renderPage(spec, port, k), "utf8");
		cache.set(k, body);
	}
	hits.pages++;
	res.writeHead(200, { "content-type": "text/html; charset=utf-8", "content-length": body.length, "last-modified": "Mon, 23 Nov 2026 00:00:00 GMT" }).end(body);
}

function listen(server: Server, host: string, wanted: number): Promise<number> {
	return new Promise((resolve, reject) => {
		server.once("error", reject);
		server.listen(wanted, host, () => {
			server.off("error", reject);
			resolve((server.address() as AddressInfo).port);
		});
	});
}

const servers: Server[] = [];
// The first listener picks a free port; the others take the same port on their own address (retried
// on another port in the rare case one of those is taken).
for (let attempt = 0; attempt < 20 && servers.length < spec.hosts; attempt++) {
	for (const s of servers.splice(0)) s.close();
	try {
		for (let i = 0; i < spec.hosts; i++) {
			const server = createServer({ keepAliveTimeout: 30_000 }, (req, res) => handle(req, res, i));
			port = await listen(server, hostAddress(i), i === 0 ? 0 : port);
			servers.push(server);
		}
	} catch {
		continue;
	}
}
if (servers.length < spec.hosts) {
	process.stderr.write("site-server: could not listen on the loopback addresses\n");
	process.exit(1);
}
// Render every page now, so serving costs the same for whoever crawls first.
for (let k = 0; k < spec.pages; k++) cache.set(k, Buffer.from(renderPage(spec, port, k), "utf8"));
process.stdout.write(`${JSON.stringify({ port, hosts: Array.from({ length: spec.hosts }, (_, i) => hostAddress(i)) })}\n`);

const stop = () => {
	for (const s of servers) s.close();
	process.exit(0);
};
process.on("SIGTERM", stop);
process.stdin.on("end", stop);
process.stdin.resume();
