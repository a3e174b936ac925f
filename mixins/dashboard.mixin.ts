/**
 * The live dashboard of the api service (GET /dashboard): the page files and GET /dashboard/api/state,
 * one JSON document gathered from the cluster's own actions:
 *   $node.list, $node.services        nodes and the services each runs
 *   crawler.status (on every crawler node)   counts (the throughput chart), throttles, pages per crawl
 *   stats.report {stats: "queue"}     backlog per domain
 *   info.crawls                       crawls with queued requests
 *   zookeeper.document                domain throttles and blacklist
 *   monitor.recent (on every node)    recent warnings and errors
 * A part whose service runs nowhere or does not answer in time is left empty and named in `problems`.
 * Gatherings are shared: callers within DASHBOARD_CACHE_MS get the same document. With REST_API_KEYS the
 * state needs a valid X-Api-Key and lists only the crawls of the key's appids. The page's buttons and
 * forms use POST /feed and /poll, as any client does.
 * Needs the api service's `send` and `allowedAppids` methods.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Service } from "moleculer";
import { CRAWL_COUNTS_CAPACITY } from "../lib/crawl/crawl-counts.ts";
import { buildState, stateForAppids, ThroughputSeries, type CrawlerStatus, type DashboardState, type Gathered, type ZookeeperView } from "../lib/dashboard/state.ts";
import { DASHBOARD_HEADERS, dashboardFile } from "../lib/dashboard/static.ts";
import type { RecentEntry } from "../lib/monitor/recent-log.ts";
import { defineMixin } from "./define.ts";

/** Milliseconds one action of a gathering may take. */
export const DASHBOARD_CALL_TIMEOUT_MS = 2500;
/** A state document younger than this is served again instead of gathering anew. */
export const DASHBOARD_CACHE_MS = 1000;

export interface DashboardMixinThis {
	dashboard: { series: ThroughputSeries; last: DashboardState | null; gathering: Promise<DashboardState> | null };
	gatherDashboard(): Promise<DashboardState>;
	dashboardState(): Promise<DashboardState>;
	serveDashboardFile(res: ServerResponse, name: string): void;
	serveDashboardState(req: IncomingMessage, res: ServerResponse): Promise<void>;
}

interface ApiMethods {
	send(res: ServerResponse, code: number, body: unknown): void;
	allowedAppids(req: IncomingMessage, res: ServerResponse): string[] | null | false;
}

type This = DashboardMixinThis & ApiMethods & Pick<Service, "broker" | "logger">;

const describeError = (err: unknown): string => {
	const e = err as { name?: string; message?: string };
	if (e?.name === "ServiceNotFoundError" || e?.name === "ServiceNotAvailableError") return "no node runs this service";
	if (e?.name === "RequestTimeoutError") return `no answer within ${DASHBOARD_CALL_TIMEOUT_MS} ms`;
	return String(e?.message ?? err).slice(0, 300);
};

type Handler = (req: IncomingMessage, res: ServerResponse, err: Error) => void;

/**
 * The moleculer-web route of the dashboard: the page files and the state, GET only, not logged (the page
 * polls every 2 s), errors answered by the api service's `onError`.
 */
export function dashboardRoute(onError: Handler) {
	return {
		path: "/dashboard",
		mappingPolicy: "restrict",
		logging: false,
		bodyParsers: { json: false, urlencoded: false },
		aliases: {
			"GET /"(this: DashboardMixinThis, _req: IncomingMessage, res: ServerResponse) {
				this.serveDashboardFile(res, "");
			},
			"GET /dashboard.js"(this: DashboardMixinThis, _req: IncomingMessage, res: ServerResponse) {
				this.serveDashboardFile(res, "dashboard.js");
			},
			"GET /dashboard.css"(this: DashboardMixinThis, _req: IncomingMessage, res: ServerResponse) {
				this.serveDashboardFile(res, "dashboard.css");
			},
			"GET /api/state"(this: DashboardMixinThis, req: IncomingMessage, res: ServerResponse) {
				void this.serveDashboardState(req, res);
			}
		},
		onError
	};
}

export function DashboardMixin() {
	return defineMixin<This>({
		methods: {
			async gatherDashboard(this: This): Promise<DashboardState> {
				const problems: string[] = [];
				const opts = (nodeID?: string) => ({ timeout: DASHBOARD_CALL_TIMEOUT_MS, retries: 0, ...(nodeID ? { nodeID } : {}) });
				const attempt = async <T>(what: string, call: () => Promise<T>): Promise<T | null> => {
					try {
						return await call();
					} catch (err) {
						problems.push(`${what}: ${describeError(err)}`);
						return null;
					}
				};
				const [nodes, services] = await Promise.all([
					this.broker.call("$node.list", { onlyAvailable: false }) as Promise<Gathered["nodes"]>,
					this.broker.call("$node.services", { skipInternal: true, withActions: false, onlyAvailable: true, grouping: true }) as Promise<Gathered["services"]>
				]);
				const runs = (name: string) => services.find(s => s.name === name)?.nodes ?? [];
				const need = (name: string, what: string) => {
					if (runs(name).length) return true;
					problems.push(`${what}: no node runs the ${name} service`);
					return false;
				};
				const [crawlers, queue, crawls, zookeeper, recent] = await Promise.all([
					Promise.all(runs("crawler").map(id => attempt(`crawler.status on ${id}`, () => this.broker.call("crawler.status", { crawls: CRAWL_COUNTS_CAPACITY }, opts(id)) as Promise<CrawlerStatus>))),
					need("stats", "backlog per domain") ? attempt("stats.report", () => this.broker.call("stats.report", { stats: "queue" }, opts()) as Promise<Gathered["queue"]>) : null,
					need("info", "active crawls") ? attempt("info.crawls", () => this.broker.call("info.crawls", {}, opts()) as Promise<Gathered["crawls"]>) : null,
					need("zookeeper", "domain throttles and blacklist") ? attempt("zookeeper.document", () => this.broker.call("zookeeper.document", {}, opts()) as Promise<ZookeeperView>) : null,
					Promise.all(
						runs("monitor").map(id =>
							attempt(`monitor.recent on ${id}`, () => this.broker.call("monitor.recent", { limit: 50 }, opts(id)) as Promise<{ node: string; entries: RecentEntry[] }>)
						)
					)
				]);
				if (!runs("crawler").length) problems.push("throughput: no node runs the crawler service");
				return buildState(
					{
						time: Date.now(),
						node: this.broker.nodeID,
						nodes,
						services,
						crawlers: crawlers.filter((c): c is CrawlerStatus => c !== null),
						queue,
						crawls,
						zookeeper,
						recent: recent.filter((r): r is { node: string; entries: RecentEntry[] } => r !== null),
						problems
					},
					this.dashboard.series
				);
			},

			/** The latest state: shared while a gathering runs, reused for DASHBOARD_CACHE_MS. */
			dashboardState(this: This): Promise<DashboardState> {
				const d = this.dashboard;
				if (d.last && Date.now() - d.last.time < DASHBOARD_CACHE_MS) return Promise.resolve(d.last);
				d.gathering ??= this.gatherDashboard()
					.then(state => (d.last = state))
					.finally(() => (d.gathering = null));
				return d.gathering;
			},

			serveDashboardFile(this: This, res: ServerResponse, name: string) {
				let file;
				try {
					file = dashboardFile(name);
				} catch (err) {
					this.logger.warn("Dashboard file missing; run the node from the project folder", { file: name, error: (err as Error).message });
				}
				if (!file) return this.send(res, 404, { status: "FAILURE", data: null, error: { message: "The desired endpoint does not exist" } });
				res.writeHead(200, { ...DASHBOARD_HEADERS, "Content-Type": file.type, "Content-Length": file.body.length });
				res.end(file.body);
			},

			async serveDashboardState(this: This, req: IncomingMessage, res: ServerResponse) {
				try {
					const allowed = this.allowedAppids(req, res);
					if (allowed === false) return;
					const state = await this.dashboardState();
					this.send(res, 200, stateForAppids(state, allowed));
				} catch (err) {
					this.logger.warn("Dashboard state failed", { error: (err as Error).message });
					this.send(res, 500, { status: "FAILURE", data: null, error: { message: "An error occurred while processing your request." } });
				}
			}
		},

		created(this: This) {
			this.dashboard = { series: new ThroughputSeries(), last: null, gathering: null };
		}
	});
}
