/**
 * A real cluster node for transporter tests, run with Node 24 as a process of its own: the test checks
 * that separate processes find each other through the transporter (and Moleculer loads its Kafka
 * transporter's ESM-only @platformatic/kafka itself, outside Jest's module system).
 *   node test/support/transport-peer.ts server <transporter> <namespace>   serves echo.where until SIGTERM
 *   node test/support/transport-peer.ts client <transporter> <namespace>   calls echo.where, prints {"answer": nodeID}
 */
import { ServiceBroker } from "moleculer";

const [role, transporter, namespace] = process.argv.slice(2);
if (!role || !transporter || !namespace) {
	process.stderr.write("usage: transport-peer.ts server|client <transporter> <namespace>\n");
	process.exit(2);
}

const broker = new ServiceBroker({ nodeID: `${role}-${process.pid}`, namespace, transporter: transporter as "Redis", logger: false });
if (role === "server") {
	broker.createService({ name: "echo", actions: { where: () => broker.nodeID } });
	await broker.start();
	process.stdout.write("ready\n");
} else {
	await broker.start();
	await broker.waitForServices("echo", 30000);
	const answer = await broker.call("echo.where");
	process.stdout.write(`${JSON.stringify({ answer, client: broker.nodeID })}\n`);
	await broker.stop();
	process.exit(0);
}
