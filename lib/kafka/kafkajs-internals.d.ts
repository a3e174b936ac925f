/** The one kafkajs internal this project touches (lib/kafka/client.ts mends its idle timer loop). */
declare module "kafkajs/src/network/requestQueue/index.js" {
	export default class RequestQueue {
		/** Requests waiting for an in-flight slot or for a broker's throttle to end. */
		pending: unknown[];
		/** Date.now() until which the broker asked this connection to wait; -1 when it never did. */
		throttledUntil: number;
		scheduleCheckPendingRequests(): void;
	}
}
