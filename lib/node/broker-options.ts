/**
 * Broker options of a cluster node from its settings: transporter (none, Redis or Kafka), namespace,
 * node id, logger, metrics, graceful shutdown.
 */
import { hostname } from "node:os";
import type { BrokerOptions } from "moleculer";
import type { Settings } from "../../config/index.ts";
import "../../config/broker.ts";
import { buildLogger } from "../logging/index.ts";
import { RecentLogAppender } from "../monitor/recent-log.ts";

/** Milliseconds a stopping node waits for requests in flight before it stops anyway. */
export const SHUTDOWN_TIMEOUT_MS = 10000;

export type TransportKind = "none" | "redis" | "kafka";

export function transportKind(transporter: string | null): TransportKind {
	if (!transporter) return "none";
	const scheme = transporter.slice(0, transporter.indexOf(":")).toLowerCase();
	if (scheme === "redis" || scheme === "rediss") return "redis";
	if (scheme === "kafka") return "kafka";
	throw new Error(`TRANSPORTER: unsupported transporter "${transporter}"; use redis://host:port or kafka://host:port`);
}

export function defaultNodeId(): string {
	return `${hostname()}-${process.pid}`;
}

export function brokerOptions(settings: Settings): BrokerOptions {
	transportKind(settings.TRANSPORTER);
	return {
		namespace: settings.NAMESPACE,
		nodeID: settings.NODE_ID ?? defaultNodeId(),
		// URL strings are accepted by Moleculer but missing from its typings.
		transporter: settings.TRANSPORTER as BrokerOptions["transporter"],
		// The Winston logger, and the recent warnings and errors the dashboard shows (monitor.recent).
		logger: [buildLogger(settings), new RecentLogAppender()] as unknown as BrokerOptions["logger"],
		requestTimeout: settings.REQUEST_TIMEOUT,
		retryPolicy: { enabled: true, retries: 3, delay: 200, maxDelay: 2000, factor: 2, check: err => Boolean((err as { retryable?: boolean }).retryable) },
		validator: true,
		tracking: { enabled: true, shutdownTimeout: SHUTDOWN_TIMEOUT_MS },
		metrics:
			settings.METRICS_PORT === null
				? false
				: { enabled: true, reporter: [{ type: "Prometheus", options: { host: settings.METRICS_HOST, port: settings.METRICS_PORT, path: "/metrics" } }] },
		clusterSettings: settings
	};
}
