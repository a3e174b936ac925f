/**
 * Requests waiting for their answer on the outbound topic, by uuid. An answer nobody waits for (late, or
 * for another instance) is handed to `onUnclaimed`, which stores it for /poll.
 */
export class ResponseWaiters {
	private readonly waiting = new Map<string, (answer: Record<string, unknown>) => void>();

	/** Wait up to `timeoutMs` for the answer of `uuid`; null when it did not come in time. */
	wait(uuid: string, timeoutMs: number): { answer: Promise<Record<string, unknown> | null>; cancel: () => void } {
		let timer: NodeJS.Timeout | undefined;
		const answer = new Promise<Record<string, unknown> | null>(resolve => {
			this.waiting.set(uuid, a => {
				clearTimeout(timer);
				this.waiting.delete(uuid);
				resolve(a);
			});
			timer = setTimeout(() => {
				this.waiting.delete(uuid);
				resolve(null);
			}, timeoutMs);
		});
		return {
			answer,
			cancel: () => {
				clearTimeout(timer);
				this.waiting.delete(uuid);
			}
		};
	}

	/** Deliver an answer; false when nobody here waits for it. */
	deliver(answer: Record<string, unknown>): boolean {
		const uuid = typeof answer.uuid === "string" ? answer.uuid : null;
		const resolve = uuid === null ? undefined : this.waiting.get(uuid);
		if (!resolve) return false;
		resolve(answer);
		return true;
	}

	get size(): number {
		return this.waiting.size;
	}
}
