import { RefusedRequestError, TransientError } from "../../../lib/errors.ts";
import { backoffDelay, retryUntilHandled, StoppingError } from "../../../lib/ingest/retry.ts";

const noSleep = async () => undefined;

describe("retryUntilHandled", () => {
	it("backs off exponentially, capped", () => {
		expect([1, 2, 3, 4, 5, 6, 7].map(a => backoffDelay(a))).toEqual([200, 400, 800, 1600, 3200, 5000, 5000]);
		expect(backoffDelay(3, 10, 30)).toBe(30);
	});

	it("retries transient failures for as long as it takes", async () => {
		let calls = 0;
		const delays: number[] = [];
		const result = await retryUntilHandled(
			async () => {
				calls++;
				if (calls < 20) throw new TransientError("redis away");
				return "done";
			},
			{ isStopping: () => false, sleep: noSleep, onRetry: (_e, _a, d) => void delays.push(d) }
		);
		expect(result).toBe("done");
		expect(calls).toBe(20);
		expect(delays).toHaveLength(19);
		expect(delays[18]).toBe(5000);
	});

	it("treats a missing service and connection errors as transient", async () => {
		let calls = 0;
		const errors = [Object.assign(new Error("Service 'info.handle' is not found."), { name: "ServiceNotFoundError" }), new Error("connect ECONNREFUSED 127.0.0.1:6379")];
		await retryUntilHandled(
			async () => {
				const e = errors[calls++];
				if (e) throw e;
			},
			{ isStopping: () => false, sleep: noSleep, maxUnexpectedAttempts: 1 }
		);
		expect(calls).toBe(3);
	});

	it("gives up a message whose handler keeps failing unexpectedly (poison), as a refusal", async () => {
		let calls = 0;
		const err = await retryUntilHandled(
			async () => {
				calls++;
				throw new TypeError("cannot read properties of undefined");
			},
			{ isStopping: () => false, sleep: noSleep, maxUnexpectedAttempts: 3 }
		).catch(e => e as RefusedRequestError);
		expect(calls).toBe(3);
		expect(err).toBeInstanceOf(RefusedRequestError);
		expect(err.message).toBe("gave up after 3 failed attempts: cannot read properties of undefined");
		expect(err.detail).toEqual({ poison: true });
	});

	it("passes a refusal through at once", async () => {
		let calls = 0;
		await expect(
			retryUntilHandled(
				async () => {
					calls++;
					throw new RefusedRequestError("bad");
				},
				{ isStopping: () => false, sleep: noSleep }
			)
		).rejects.toBeInstanceOf(RefusedRequestError);
		expect(calls).toBe(1);
	});

	it("stops retrying when the service stops, so the message is not committed", async () => {
		let stopping = false;
		const err = await retryUntilHandled(
			async () => {
				stopping = true;
				throw new TransientError("away");
			},
			{ isStopping: () => stopping, sleep: noSleep }
		).catch(e => e);
		expect(err).toBeInstanceOf(StoppingError);
	});
});
