/**
 * Retry policy of the ingest service: what cannot be handled now (Redis, Kafka or a downstream service
 * away) is retried with a capped exponential backoff for as long as it takes; an unexpected error is
 * retried a few times and then the message is given up as poison, so it never blocks its partition.
 */
import { isRetryable, RefusedRequestError } from "../errors.ts";

export interface RetryOptions {
	/** Attempts for errors that are not known to be transient before giving up (default 5). */
	maxUnexpectedAttempts?: number;
	/** First delay in ms (default 200), doubled each time up to maxDelayMs (default 5000). */
	initialDelayMs?: number;
	maxDelayMs?: number;
	/** True when the service is stopping: retrying ends with StoppingError (the message is not committed). */
	isStopping: () => boolean;
	/** Called before each wait (e.g. a consumer heartbeat, a log line on the first failure). */
	onRetry?: (err: unknown, attempt: number, delayMs: number) => Promise<void> | void;
	sleep?: (ms: number) => Promise<void>;
}

export class StoppingError extends Error {
	constructor() {
		super("service is stopping; the message will be handled again after restart");
		this.name = "StoppingError";
	}
}

export function backoffDelay(attempt: number, initialDelayMs = 200, maxDelayMs = 5000): number {
	return Math.min(initialDelayMs * 2 ** Math.max(0, attempt - 1), maxDelayMs);
}

const defaultSleep = (ms: number) => new Promise<void>(resolve => setTimeout(resolve, ms));

/**
 * Run fn until it succeeds. RefusedRequestError passes through at once. An unexpected error that
 * persists is turned into a RefusedRequestError (poison) after maxUnexpectedAttempts.
 */
export async function retryUntilHandled<T>(fn: () => Promise<T>, opts: RetryOptions): Promise<T> {
	const sleep = opts.sleep ?? defaultSleep;
	const maxUnexpected = opts.maxUnexpectedAttempts ?? 5;
	let attempt = 0;
	let unexpected = 0;
	for (;;) {
		if (opts.isStopping()) throw new StoppingError();
		try {
			return await fn();
		} catch (err) {
			if (err instanceof RefusedRequestError) throw err;
			attempt++;
			if (!isRetryable(err)) {
				unexpected++;
				if (unexpected >= maxUnexpected)
					throw new RefusedRequestError(`gave up after ${unexpected} failed attempts: ${(err as Error).message ?? String(err)}`, { poison: true });
			}
			const delay = backoffDelay(attempt, opts.initialDelayMs, opts.maxDelayMs);
			await opts.onRetry?.(err, attempt, delay);
			if (opts.isStopping()) throw new StoppingError();
			await sleep(delay);
		}
	}
}
