/**
 * Commands issued during one turn of the event loop go to Redis together: one pipeline, one socket
 * write, sent from setImmediate once the turn's I/O callbacks have run. A busy crawler finishes several
 * pages per turn, and a socket write costs more than the command it carries (tens of microseconds on a
 * VM), so acknowledgements, stats and link lookups of those pages share writes. Commands keep their order
 * on the connection (as separate calls would); each caller gets its own reply or error. On a Redis
 * Cluster, commands are sent one by one as they come (a cluster pipeline must stay within one slot).
 */
import { isCluster, type BatchCommand, type BatchResult, type RedisClient } from "./client.ts";

interface Waiting {
	command: BatchCommand;
	resolve: (value: unknown) => void;
	reject: (err: unknown) => void;
}

type Callable = Record<string, (...args: unknown[]) => Promise<unknown>>;

export class Coalescer {
	readonly redis: RedisClient;
	private waiting: Waiting[] | null = null;

	constructor(redis: RedisClient) {
		this.redis = redis;
	}

	/** Send one command (a built-in or a script defined with defineCommand) with the others of this turn. */
	send(...command: BatchCommand): Promise<unknown> {
		if (isCluster(this.redis)) return this.direct(command);
		return new Promise((resolve, reject) => {
			if (!this.waiting) {
				this.waiting = [];
				setImmediate(() => this.flush());
			}
			this.waiting.push({ command, resolve, reject });
		});
	}

	/** Several commands that need not be atomic, with the others of this turn: one [error, value] each, in order. */
	async batch(commands: BatchCommand[]): Promise<BatchResult[]> {
		return Promise.all(commands.map(c => this.send(...c).then(v => [null, v] as BatchResult, (err: Error) => [err, null] as BatchResult)));
	}

	private direct([name, ...args]: BatchCommand): Promise<unknown> {
		try {
			const method = (this.redis as unknown as Callable)[name];
			return typeof method === "function" ? method.apply(this.redis, args) : this.redis.call(name, ...args);
		} catch (err) {
			return Promise.reject(err);
		}
	}

	private flush(): void {
		const waiting = this.waiting ?? [];
		this.waiting = null;
		if (waiting.length === 1) {
			const [only] = waiting;
			this.direct(only!.command).then(only!.resolve, only!.reject);
			return;
		}
		let sent: Promise<BatchResult[] | null>;
		try {
			const pipeline = this.redis.pipeline();
			const callable = pipeline as unknown as Record<string, (...args: unknown[]) => unknown>;
			for (const { command: [name, ...args] } of waiting) {
				// Scripts defined with defineCommand are methods of the pipeline; any other name goes as a raw command.
				if (typeof callable[name] === "function") callable[name].apply(pipeline, args);
				else pipeline.call(name, ...args);
			}
			sent = pipeline.exec() as Promise<BatchResult[] | null>;
		} catch (err) {
			sent = Promise.reject(err);
		}
		sent.then(
			results => {
				waiting.forEach((w, i) => {
					const [err, value] = results?.[i] ?? [new Error("Redis pipeline aborted"), null];
					if (err) w.reject(err);
					else w.resolve(value);
				});
			},
			(err: unknown) => waiting.forEach(w => w.reject(err))
		);
	}
}

const coalescers = new WeakMap<RedisClient, Coalescer>();

/** The one Coalescer of a connection (commands of every user of the connection share its writes). */
export function coalescerFor(redis: RedisClient): Coalescer {
	let c = coalescers.get(redis);
	if (!c) coalescers.set(redis, (c = new Coalescer(redis)));
	return c;
}
