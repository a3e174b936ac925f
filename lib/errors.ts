/**
 * The small error hierarchy that decides retry versus give-up.
 * - RefusedRequestError: the input is bad; retrying cannot help. Counted as a failure, logged, skipped.
 * - TransientError: something the request needs is away (Redis, Kafka, a downstream service); retry later.
 * Other errors are classified by isRetryable().
 */
export class ClusterError extends Error {
	readonly retryable: boolean;
	constructor(message: string, retryable: boolean) {
		super(message);
		this.name = new.target.name;
		this.retryable = retryable;
	}
}

export class RefusedRequestError extends ClusterError {
	/** Structured detail for logs (schema issues, offending field). */
	readonly detail: Record<string, unknown>;
	constructor(message: string, detail: Record<string, unknown> = {}) {
		super(message, false);
		this.detail = detail;
	}
}

export class TransientError extends ClusterError {
	constructor(message: string) {
		super(message, true);
	}
}

const RETRYABLE_NAMES = new Set([
	"ServiceNotFoundError",
	"ServiceNotAvailableError",
	"RequestTimeoutError",
	"RequestRejectedError",
	"QueueIsFullError",
	"BrokerDisconnectedError",
	"MaxRetriesPerRequestError",
	"KafkaJSConnectionError",
	"KafkaJSNumberOfRetriesExceeded",
	"KafkaJSRequestTimeoutError",
	"KafkaJSBrokerNotFound"
]);

const RETRYABLE_MESSAGE = /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|Connection is closed|Stream isn't writeable|enableOfflineQueue|LOADING|READONLY|TRYAGAIN|CLUSTERDOWN/;

/** True when the failure is about something being away rather than about the request itself. */
export function isRetryable(err: unknown): boolean {
	if (err instanceof ClusterError) return err.retryable;
	if (!(err instanceof Error)) return false;
	if ((err as { retryable?: unknown }).retryable === true) return true;
	return RETRYABLE_NAMES.has(err.name) || RETRYABLE_MESSAGE.test(err.message);
}
