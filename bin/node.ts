/**
 * Start one cluster node: the services named by SERVICES (all of services/ when empty), over the
 * TRANSPORTER, with the REPL when asked (`--repl`, or REPL=1; default: when stdin is a terminal), and a
 * status line every STATUS_INTERVAL seconds when stdout is a terminal (`--status` / `--no-status` force it).
 *   node bin/node.ts [--repl|--no-repl] [--status|--no-status]
 */
import { existsSync, readdirSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { ServiceBroker, type ServiceSchema } from "moleculer";
import config from "../moleculer.config.ts";
import { settingsOf } from "../config/broker.ts";
import { transportKind } from "../lib/node/broker-options.ts";
import { startStatusLines } from "../lib/node/status.ts";

const SERVICES_DIR = resolve("services");

function availableServices(): Map<string, string> {
	const files = existsSync(SERVICES_DIR) ? readdirSync(SERVICES_DIR).filter(f => f.endsWith(".service.ts")) : [];
	return new Map(files.map(f => [basename(f, ".service.ts"), join(SERVICES_DIR, f)]));
}

function wantsStatus(argv: string[], intervalS: number): boolean {
	if (intervalS <= 0 || argv.includes("--no-status")) return false;
	return argv.includes("--status") || Boolean(process.stdout.isTTY);
}

function wantsRepl(argv: string[]): boolean {
	if (argv.includes("--no-repl")) return false;
	if (argv.includes("--repl")) return true;
	if (process.env.REPL !== undefined) return ["1", "true", "yes"].includes(process.env.REPL.toLowerCase());
	return Boolean(process.stdin.isTTY);
}

const broker = new ServiceBroker(config);
const settings = settingsOf(broker);
const available = availableServices();
const wanted = settings.SERVICES.length ? settings.SERVICES : [...available.keys()];
const unknown = wanted.filter(name => !available.has(name));
if (unknown.length) {
	process.stderr.write(`SERVICES: unknown service(s) ${unknown.join(", ")}; available: ${[...available.keys()].join(", ") || "(none)"}\n`);
	process.exit(78);
}

// Every node runs monitor (its recent warnings and errors, for the dashboard), whatever SERVICES lists.
const loaded = available.has("monitor") && !wanted.includes("monitor") ? [...wanted, "monitor"] : wanted;
for (const name of loaded) {
	const mod = (await import(pathToFileURL(available.get(name)!).href)) as { default: ServiceSchema };
	broker.createService(mod.default);
}

await broker.start();

const transport = transportKind(settings.TRANSPORTER);
const lines = [
	`Node ${broker.nodeID} is up (namespace "${settings.NAMESPACE}", transporter: ${transport === "none" ? "none, one process" : settings.TRANSPORTER}).`,
	`Services: ${wanted.length ? wanted.join(", ") : "(none yet)"}.`,
	`Data stack: Redis ${settings.REDIS_HOST}:${settings.REDIS_PORT}/${settings.REDIS_DB}, Kafka ${settings.KAFKA_HOSTS}, ZooKeeper ${settings.ZOOKEEPER_HOSTS}.`
];
if (wanted.includes("api")) lines.push(`REST: http://127.0.0.1:${settings.REST_PORT}/ (POST /feed, POST /poll); dashboard: http://127.0.0.1:${settings.REST_PORT}/dashboard`);
if (wanted.includes("ingest")) lines.push(`Kafka API: send JSON requests to topic ${settings.KAFKA_INCOMING_TOPIC}; results on ${settings.KAFKA_TOPIC_PREFIX}.crawled_firehose and ${settings.KAFKA_TOPIC_PREFIX}.outbound_firehose.`);
if (settings.METRICS_PORT !== null)
	lines.push(`Metrics (Prometheus): http://${settings.METRICS_HOST === "0.0.0.0" ? "127.0.0.1" : settings.METRICS_HOST}:${settings.METRICS_PORT}/metrics`);
const showStatus = wantsStatus(process.argv.slice(2), settings.STATUS_INTERVAL);
if (showStatus) lines.push(`Status: a line every ${settings.STATUS_INTERVAL} s (pages/s, backlog, nodes); STATUS_INTERVAL=0 or --no-status turns it off.`);
broker.logger.info(lines.join("\n"));
if (showStatus) {
	const stop = startStatusLines(broker, settings.STATUS_INTERVAL, line => process.stdout.write(`[status] ${line}\n`));
	broker.localBus.once("$broker.stopped", stop);
}

if (wantsRepl(process.argv.slice(2))) {
	broker.logger.info('REPL: type "help"; e.g. call crawl.feed {"url":"http://example.com","appid":"testapp","crawlid":"abc123"}');
	await broker.repl();
}
