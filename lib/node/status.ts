/**
 * The short status a node prints in an interactive terminal (bin/node.ts): pages/s, backlog, nodes,
 * from the cluster's own registry and every crawler's `crawler.status` (no keyspace scan).
 */
import type { ServiceBroker } from "moleculer";
import { RateMeter, statusLine, summarizeCrawlers, type ClusterStatus, type CrawlerStatusPart } from "../progress/format.ts";

/** Milliseconds a crawler may take to answer its status before the line is printed without it. */
export const STATUS_CALL_TIMEOUT_MS = 2000;

interface NodeInfo {
	id: string;
	available?: boolean;
	services?: Array<{ name: string }>;
}

/** Ask every available crawler node for its status and sum them up. */
export async function collectClusterStatus(broker: ServiceBroker): Promise<ClusterStatus> {
	const nodes = (broker.registry.getNodeList({ onlyAvailable: true, withServices: true }) as unknown as NodeInfo[]).filter(n => n.available !== false);
	const crawlerNodes = nodes.filter(n => (n.services ?? []).some(s => s.name === "crawler")).map(n => n.id);
	const answers = await Promise.all(
		crawlerNodes.map(nodeID =>
			broker.call<CrawlerStatusPart, Record<string, never>>("crawler.status", {}, { nodeID, timeout: STATUS_CALL_TIMEOUT_MS, retries: 0 }).catch(() => null)
		)
	);
	return summarizeCrawlers(nodes.length, answers.filter((a): a is CrawlerStatusPart => a !== null));
}

/** Print a status line every `intervalS` seconds with `write`; returns a function that stops it. */
export function startStatusLines(broker: ServiceBroker, intervalS: number, write: (line: string) => void): () => void {
	const meter = new RateMeter(Math.max(10_000, intervalS * 3000));
	let busy = false;
	const tick = async () => {
		if (busy) return;
		busy = true;
		try {
			const status = await collectClusterStatus(broker);
			meter.add(Date.now(), status.pages);
			write(statusLine(status, meter.rate()));
		} catch {
			/* the next tick tries again */
		} finally {
			busy = false;
		}
	};
	const timer = setInterval(() => void tick(), intervalS * 1000);
	timer.unref();
	return () => clearInterval(timer);
}
