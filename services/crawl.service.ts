/**
 * crawl: the client entry of the cluster inside Moleculer. `crawl.feed` validates a request (crawl,
 * action, stats or zookeeper) with the ingest schemas and produces it to KAFKA_INCOMING_TOPIC:
 *   mol $ call crawl.feed {"url":"http://example.com","appid":"testapp","crawlid":"abc123"}
 */
import { Errors, type Context, type ServiceSchema, type ServiceSettingSchema } from "moleculer";
import { settingsOf } from "../config/broker.ts";
import { REQUEST_KINDS } from "../config/request-kinds.ts";
import { RefusedRequestError } from "../lib/errors.ts";
import { feedRequest, type FeedResult } from "../lib/ingest/feed.ts";
import { orderKinds } from "../lib/requests/kind.ts";
import { KafkaMixin, type KafkaMixinThis } from "../mixins/kafka.mixin.ts";

const CrawlService: ServiceSchema<ServiceSettingSchema, Record<string, never>, KafkaMixinThis> = {
	name: "crawl",
	mixins: [KafkaMixin()],
	actions: {
		feed: {
			async handler(ctx: Context<Record<string, unknown>>): Promise<FeedResult> {
				const settings = settingsOf(this.broker);
				const kinds = orderKinds(REQUEST_KINDS, settings.PLUGINS);
				// The REPL adds nothing to params, but HTTP gateways may: feed exactly what the caller sent.
				const value = { ...ctx.params };
				try {
					const result = await feedRequest(this.kafka, settings, value, kinds);
					this.logger.info("Fed request to Kafka", { topic: result.topic, kind: result.kind });
					return result;
				} catch (err) {
					if (err instanceof RefusedRequestError)
						throw new Errors.ValidationError(`${err.message}: ${JSON.stringify(err.detail.reasons ?? err.detail.reason)}`, "REQUEST_REFUSED", err.detail);
					this.logger.warn("Failed to feed request into Kafka", { error: (err as Error).message });
					throw new Errors.MoleculerRetryableError(`Unable to feed the request to Kafka: ${(err as Error).message}`, 503, "KAFKA_UNAVAILABLE");
				}
			}
		}
	}
};

export default CrawlService;
