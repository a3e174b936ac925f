/**
 * Feed one JSON request into KAFKA_INCOMING_TOPIC (the original's `kafka_monitor.py feed`):
 *   npm run feed -- '{"url": "http://example.com", "appid": "testapp", "crawlid": "abc123"}'
 * Validates it with the ingest schemas first. Exit 0 when Kafka accepted it, 1 otherwise.
 */
import { REQUEST_KINDS } from "../config/request-kinds.ts";
import { cliLog, cliSettings, quietLog } from "../lib/cli.ts";
import { RefusedRequestError } from "../lib/errors.ts";
import { feedRequest } from "../lib/ingest/feed.ts";
import { KafkaClient } from "../lib/kafka/client.ts";
import { orderKinds } from "../lib/requests/kind.ts";

const settings = cliSettings();
const log = cliLog("kafka-monitor", settings, process.stdout);
const arg = process.argv[2];
if (arg === undefined || process.argv.length > 3) {
	process.stderr.write("usage: npm run feed -- '<json request>'\n");
	process.exit(2);
}

let value: unknown;
try {
	value = JSON.parse(arg);
} catch (err) {
	log.error("JSON failed to parse", { error: (err as Error).message });
	process.exit(1);
}

log.info(`Feeding JSON into ${settings.KAFKA_INCOMING_TOPIC}`);
process.stdout.write(`${JSON.stringify(value, null, 4)}\n`);
const kafka = new KafkaClient(settings, `${settings.KAFKA_CLIENT_ID}-feed-${process.pid}`, quietLog(cliLog("kafka", settings)));
let code = 0;
try {
	await feedRequest(kafka, settings, value, orderKinds(REQUEST_KINDS, settings.PLUGINS));
	log.info("Successfully fed item to Kafka", { topic: settings.KAFKA_INCOMING_TOPIC });
} catch (err) {
	code = 1;
	if (err instanceof RefusedRequestError) log.error(`Request refused: ${err.message}`, { reasons: err.detail.reasons ?? err.detail.reason });
	else log.error("Failed to feed item into Kafka", { error: (err as Error).message });
}
// A producer still retrying an unreachable broker would keep the process alive: give it a moment, then go.
await Promise.race([kafka.close(), new Promise(resolve => setTimeout(resolve, 2000).unref())]);
process.exit(code);
