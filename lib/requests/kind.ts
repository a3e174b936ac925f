/**
 * A request kind of the Kafka API: one module with a schema, a rank, a refusal check and a handler
 * (Scrapy Cluster's Kafka Monitor plugins). Kinds are validated in ascending rank; the first whose
 * schema accepts a message handles it. Registered in config/request-kinds.ts.
 */
import type { RedisClient } from "../redis/client.ts";
import type { Settings } from "../../config/index.ts";
import type { RequestSchema, SchemaIssue } from "./schema.ts";

/** What a handler may use: no Moleculer types, so kinds stay plain modules. */
export interface IngestContext {
	redis: RedisClient;
	settings: Settings;
	/** Call a cluster action (e.g. "info.handle"); rejects with a retryable error when no instance runs. */
	call(action: string, params: object): Promise<unknown>;
	log: { info(message: string, data?: object): void; warn(message: string, data?: object): void };
}

export interface RequestKind<T extends object = Record<string, unknown>> {
	/** Short name: crawl, action, stats, zookeeper. */
	name: string;
	/** The original's plugin class name, used for stats counters: ScraperHandler, ActionHandler, ... */
	handlerName: string;
	/** Default rank; lower is validated first. */
	rank: number;
	schema: RequestSchema<T>;
	/** Normalise an accepted request (e.g. give a scheme-less URL its http://) before the refusal check. */
	normalize?(request: T): T;
	/** A reason to refuse a request the schema accepted (values that would break key formats...), or null. */
	refuse?(request: T): string | null;
	/** Act on an accepted request. Throw a retryable error when something it needs is away. */
	handle(request: T, ctx: IngestContext): Promise<void>;
}

export interface Classified {
	kind: RequestKind;
	request: Record<string, unknown>;
}

/** Order kinds by rank. `ranks` (the PLUGINS setting) overrides ranks by handler name; null disables a kind. */
export function orderKinds(kinds: RequestKind[], ranks: Record<string, number | null> | null): RequestKind[] {
	return kinds
		.map(kind => ({ kind, rank: ranks && kind.handlerName in ranks ? ranks[kind.handlerName] : kind.rank }))
		.filter((k): k is { kind: RequestKind; rank: number } => k.rank !== null && k.rank !== undefined)
		.sort((a, b) => a.rank - b.rank)
		.map(k => k.kind);
}

/** The first kind (in the given order) whose schema accepts the value, or every kind's issues. */
export function classify(kinds: RequestKind[], value: unknown): Classified | { issues: Record<string, SchemaIssue[]> } {
	const issues: Record<string, SchemaIssue[]> = {};
	for (const kind of kinds) {
		const result = kind.schema.validate(value);
		if (result.ok) return { kind, request: result.value as Record<string, unknown> };
		issues[kind.name] = result.issues;
	}
	return { issues };
}
