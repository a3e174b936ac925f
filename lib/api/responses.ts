/**
 * The REST service's answers (pure): the original's wrapper {status, data, error} and its messages,
 * the index document, and the poll request schema.
 */
import { RequestSchema, stringLength } from "../requests/schema.ts";

export interface Wrapped {
	status: "SUCCESS" | "FAILURE";
	data: unknown;
	error: null | { message: string; cause?: string };
}

export const MESSAGES = {
	invalidJson: "The payload must be valid JSON.",
	schema: "JSON did not validate against schema.",
	noEndpoint: "The desired endpoint does not exist",
	kafka: "Unable to connect to Kafka",
	redis: "Unable to connect to Redis",
	pollNotFound: "Could not find matching poll_id",
	pollUnparseable: "Unparseable JSON Received from redis",
	internal: "An error occurred while processing your request.",
	tooLarge: "The payload is too large.",
	apiKey: "A valid API key is required in the X-Api-Key header.",
	method: "The method is not allowed for this endpoint."
} as const;

export const success = (data: unknown): Wrapped => ({ status: "SUCCESS", data, error: null });

export const failure = (message: string, cause?: string): Wrapped => ({ status: "FAILURE", data: null, error: cause === undefined ? { message } : { message, cause } });

export type NodeHealth = "GREEN" | "YELLOW" | "RED";

export function nodeHealth(kafka: boolean, redis: boolean): NodeHealth {
	return kafka && redis ? "GREEN" : kafka || redis ? "YELLOW" : "RED";
}

export function indexDocument(opts: { kafka: boolean; redis: boolean; myId: string; startedAt: number; now?: number }) {
	return {
		kafka_connected: opts.kafka,
		redis_connected: opts.redis,
		my_id: opts.myId,
		node_health: nodeHealth(opts.kafka, opts.redis),
		uptime_sec: Math.floor(((opts.now ?? Date.now()) - opts.startedAt) / 1000)
	};
}

/** The original's rest/schemas/poll.json. */
export const pollSchema = new RequestSchema<{ poll_id: string }>({ poll_id: { rule: stringLength(1, 100) } }, ["poll_id"]);

/** Redis key of a late answer. */
export const pollKey = (uuid: string): string => `rest:poll:${uuid}`;

/** Which appids an API key may act for; null when keys are off (anyone may act for any appid). */
export function keyAppids(keys: Record<string, string[]> | null, presented: string | undefined): string[] | null | "invalid" {
	if (keys === null) return null;
	if (!presented || !Object.hasOwn(keys, presented)) return "invalid";
	return keys[presented] ?? [];
}
