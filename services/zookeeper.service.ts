/**
 * zookeeper: Scrapy Cluster's ZookeeperMonitor. Edits the crawler configuration document in ZooKeeper
 * (ZOOKEEPER_ASSIGN_PATH + ZOOKEEPER_ID; created with its parents when missing) for domain-update,
 * domain-remove, blacklist-update and blacklist-remove requests, and answers {action, domain, appid}
 * (plus uuid and server_time, added by ActionMixin) on <prefix>.outbound_firehose.
 * Counters: stats:redis-monitor:{total,fail,ZookeeperMonitor}.
 *
 * Concurrent edits are never lost: each edit reads the document and its version, applies the action
 * (lib/monitor/zk-document.ts) and writes only if the version is unchanged; when someone wrote in
 * between, it reads again and retries (ZK_EDIT_ATTEMPTS times, with a small random backoff).
 * A ZooKeeper failure throws "Unable to load Zookeeper config" or "Unable to store Zookeeper config"
 * (the original's texts); ActionMixin retries it and finally answers with an `error`.
 */
import type { ServiceSchema, ServiceSettingSchema } from "moleculer";
import { settingsOf } from "../config/broker.ts";
import { parseDomainConfig } from "../lib/crawl/domain-config.ts";
import { applyZookeeperAction, zookeeperDocumentPath, type ZookeeperEdit } from "../lib/monitor/zk-document.ts";
import { ActionMixin, type ActionMixinThis, type ActionRequest } from "../mixins/action.mixin.ts";
import { KafkaMixin, type KafkaMixinThis } from "../mixins/kafka.mixin.ts";
import { RedisMixin, type RedisMixinThis } from "../mixins/redis.mixin.ts";
import { StatsMixin, type StatsMixinThis } from "../mixins/stats.mixin.ts";
import { ZookeeperMixin, type ZookeeperMixinThis } from "../mixins/zookeeper.mixin.ts";

/** The original's error texts, given in the answer when ZooKeeper cannot be read or written. */
export const LOAD_ERROR = "Unable to load Zookeeper config";
export const STORE_ERROR = "Unable to store Zookeeper config";

/** Read-edit-write rounds before an edit that keeps losing to concurrent writers gives up. */
export const ZK_EDIT_ATTEMPTS = 20;
/** Upper bound in ms of the random pause after a lost round (grows with the round, up to this). */
export const ZK_EDIT_MAX_BACKOFF_MS = 100;
/** Milliseconds one ZooKeeper read or write may take before it counts as failed. */
export const ZK_OP_TIMEOUT_MS = 2000;

interface EditState {
	path: string;
	/** Documents written by this instance. */
	edits: number;
	/** Rounds lost to a concurrent writer (read again and retried). */
	conflicts: number;
}

type ZookeeperVars = ActionMixinThis & RedisMixinThis & KafkaMixinThis & StatsMixinThis & ZookeeperMixinThis & { zkEdit: EditState };

interface ZookeeperMethods {
	answer(request: ActionRequest): Promise<Record<string, unknown>>;
	editDocument(edit: ZookeeperEdit): Promise<{ attempts: number }>;
}

/** A ZooKeeper failure, answered with one of the original's texts; `detail` says what happened. */
class ZookeeperConfigError extends Error {
	readonly detail: string;
	constructor(message: string, detail: string) {
		super(message);
		this.name = "ZookeeperConfigError";
		this.detail = detail;
	}
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
	let timer: NodeJS.Timeout | undefined;
	const timeout = new Promise<never>((_, reject) => {
		timer = setTimeout(() => reject(new Error(`ZooKeeper did not answer the ${what} within ${ms} ms`)), ms);
	});
	return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const sleep = (ms: number) => new Promise<void>(resolve => setTimeout(resolve, ms));

const ZookeeperService: ServiceSchema<ServiceSettingSchema, ZookeeperMethods, ZookeeperVars> = {
	name: "zookeeper",
	// Moleculer runs the last mixin's hooks first: Redis, Kafka and ZooKeeper are up before stats and the action.
	mixins: [ActionMixin({ plugin: "ZookeeperMonitor" }), StatsMixin({ component: "redis-monitor" }), ZookeeperMixin(), KafkaMixin(), RedisMixin()],

	actions: {
		/**
		 * The crawler configuration document as the crawlers read it: {path, exists, version, blacklist,
		 * domains: {<domain>: {window, hits, scale}}}, plus `error` when it does not parse (the dashboard).
		 */
		document: {
			async handler() {
				const path = this.zkEdit.path;
				if (!this.zookeeperConnected()) throw new ZookeeperConfigError(LOAD_ERROR, "not connected to ZooKeeper");
				const { data, version } = await withTimeout(this.zk.getData(path), ZK_OP_TIMEOUT_MS, "read");
				const answer: Record<string, unknown> = { path, exists: version >= 0, version };
				try {
					Object.assign(answer, parseDomainConfig(data ? data.toString("utf8") : null));
				} catch (err) {
					Object.assign(answer, { blacklist: [], domains: {}, error: `${LOAD_ERROR}: ${(err as Error).message}` });
				}
				return answer;
			}
		},

		/** This instance's document path, counts since start and connection health. */
		status: {
			handler() {
				return {
					node: this.broker.nodeID,
					path: this.zkEdit.path,
					edits: this.zkEdit.edits,
					conflicts: this.zkEdit.conflicts,
					zookeeper_connected: this.zookeeperConnected(),
					kafka_connected: this.kafkaConnected(),
					redis_connected: this.redisConnected()
				};
			}
		}
	},

	methods: {
		/** As the original's test_zk_errors: {action, domain, appid, error} (uuid and server_time added). */
		failureResponse(request: ActionRequest, err: Error) {
			return { action: request.action, domain: request.domain, appid: request.appid, error: err.message };
		},

		async answer(request: ActionRequest) {
			const edit: ZookeeperEdit = {
				action: request.action as ZookeeperEdit["action"],
				domain: request.domain as string,
				hits: request.hits as number | undefined,
				window: request.window as number | undefined,
				scale: request.scale as number | undefined
			};
			const log = { action: edit.action, domain: edit.domain, appid: request.appid, uuid: request.uuid };
			this.logger.info("Received zookeeper request", log);
			try {
				const { attempts } = await this.editDocument(edit);
				this.logger.info("Updated the crawler configuration in ZooKeeper", { ...log, path: this.zkEdit.path, attempts });
			} catch (err) {
				if (!(err instanceof ZookeeperConfigError)) throw err;
				this.logger.error(err.message, { ...log, path: this.zkEdit.path, reason: err.detail });
				throw err;
			}
			return { action: edit.action, domain: edit.domain, appid: request.appid };
		},

		async editDocument(edit: ZookeeperEdit) {
			const path = this.zkEdit.path;
			for (let attempt = 1; attempt <= ZK_EDIT_ATTEMPTS; attempt++) {
				// While ZooKeeper is away its client queues requests: fail now rather than wait.
				if (!this.zookeeperConnected()) throw new ZookeeperConfigError(LOAD_ERROR, "not connected to ZooKeeper");
				let current;
				try {
					current = await withTimeout(this.zk.getData(path), ZK_OP_TIMEOUT_MS, "read");
				} catch (err) {
					throw new ZookeeperConfigError(LOAD_ERROR, (err as Error).message);
				}
				let text: string;
				try {
					text = applyZookeeperAction(current.data ? current.data.toString("utf8") : null, edit);
				} catch (err) {
					throw new ZookeeperConfigError(LOAD_ERROR, (err as Error).message);
				}
				let written: boolean;
				try {
					written = await withTimeout(this.zk.setDataIfVersion(path, Buffer.from(text, "utf8"), current.version), ZK_OP_TIMEOUT_MS, "write");
				} catch (err) {
					throw new ZookeeperConfigError(STORE_ERROR, (err as Error).message);
				}
				if (written) {
					this.zkEdit.edits++;
					return { attempts: attempt };
				}
				// Someone wrote in between: read the new version and apply the action to it.
				this.zkEdit.conflicts++;
				await sleep(Math.random() * Math.min(ZK_EDIT_MAX_BACKOFF_MS, 5 * 2 ** attempt));
			}
			throw new ZookeeperConfigError(STORE_ERROR, `the document kept changing under ${ZK_EDIT_ATTEMPTS} attempts`);
		}
	},

	created() {
		const s = settingsOf(this.broker);
		this.zkEdit = { path: zookeeperDocumentPath(s.ZOOKEEPER_ASSIGN_PATH, s.ZOOKEEPER_ID), edits: 0, conflicts: 0 };
	},

	async started() {
		const s = settingsOf(this.broker);
		// The outbound topic exists before the first answer, so readers can subscribe at once.
		const topic = `${s.KAFKA_TOPIC_PREFIX}.outbound_firehose`;
		await this.kafka
			.ensureTopics([{ topic, partitions: 1 }])
			.catch((err: Error) => this.logger.warn("Could not create the outbound topic yet; producing will create it", { topic, error: err.message }));
	}
};

export default ZookeeperService;
