/**
 * Linger batching: items added within `lingerMs` of each other (or until `maxBytes` is reached) are
 * flushed together; each add() resolves or rejects with the flush of its batch. This is how
 * KAFKA_PRODUCER_BATCH_LINGER_MS and KAFKA_PRODUCER_BUFFER_BYTES apply (kafkajs itself sends one
 * request per send call).
 *
 * With `idleFlush`, an item that finds nothing pending and no batch in flight is sent at once, and
 * what gathers while a batch is in flight goes as soon as it completes (or at the linger, whichever
 * comes first): an idle producer adds no latency, a busy one still sends in batches.
 */
export interface BatcherOptions<T> {
	lingerMs: number;
	/** Send at once when idle (see above); default false: every item waits up to lingerMs. */
	idleFlush?: boolean;
	maxBytes: number;
	sizeOf: (item: T) => number;
	flush: (items: T[]) => Promise<void>;
}

interface Pending<T> {
	item: T;
	resolve: () => void;
	reject: (err: unknown) => void;
}

export class Batcher<T> {
	private readonly opts: BatcherOptions<T>;
	private pending: Pending<T>[] = [];
	private pendingBytes = 0;
	private timer: NodeJS.Timeout | null = null;
	private readonly inFlight = new Set<Promise<void>>();

	constructor(opts: BatcherOptions<T>) {
		this.opts = opts;
	}

	add(item: T): Promise<void> {
		return new Promise<void>((resolve, reject) => {
			const size = this.opts.sizeOf(item);
			// A batch never grows past maxBytes: what is pending goes first when this item would not fit.
			if (this.pending.length && this.pendingBytes + size > this.opts.maxBytes) this.flushNow();
			this.pending.push({ item, resolve, reject });
			this.pendingBytes += size;
			const idle = this.opts.idleFlush === true && this.pending.length === 1 && this.inFlight.size === 0;
			if (idle || this.pendingBytes >= this.opts.maxBytes || this.opts.lingerMs <= 0) this.flushNow();
			else this.timer ??= setTimeout(() => this.flushNow(), this.opts.lingerMs);
		});
	}

	/** Items waiting for their batch to be sent. */
	get size(): number {
		return this.pending.length;
	}

	/** Send what is pending now and wait for every batch in flight. */
	async drain(): Promise<void> {
		this.flushNow();
		await Promise.allSettled([...this.inFlight]);
	}

	private flushNow(): void {
		if (this.timer) clearTimeout(this.timer);
		this.timer = null;
		if (this.pending.length === 0) return;
		const batch = this.pending;
		this.pending = [];
		this.pendingBytes = 0;
		const sending = this.opts.flush(batch.map(p => p.item)).then(
			() => batch.forEach(p => p.resolve()),
			err => batch.forEach(p => p.reject(err))
		);
		this.inFlight.add(sending);
		void sending.finally(() => {
			this.inFlight.delete(sending);
			if (this.opts.idleFlush && this.inFlight.size === 0 && this.pending.length) this.flushNow();
		});
	}
}
