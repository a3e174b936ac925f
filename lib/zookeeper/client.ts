/**
 * A promise-based ZooKeeper session from the ZOOKEEPER_* settings (node-zookeeper-client underneath).
 * Reconnects by itself; after a session expiry it opens a new session and re-arms every data watch,
 * so watchers see changes made while ZooKeeper was away.
 */
import zookeeper from "node-zookeeper-client";
import type { Client, Stat } from "node-zookeeper-client";
import type { Settings } from "../../config/index.ts";

export type ZookeeperSettings = Pick<Settings, "ZOOKEEPER_HOSTS" | "ZOOKEEPER_SESSION_TIMEOUT">;

export interface ZookeeperLog {
	info(message: string, data?: object): void;
	warn(message: string, data?: object): void;
}

/** Data of a node (null when it does not exist) and its version (-1 when missing). */
export interface NodeData {
	data: Buffer | null;
	version: number;
}

export type DataListener = (node: NodeData) => void;

const { CreateMode, Exception } = zookeeper;

function errorCode(err: unknown): number | null {
	return err instanceof Exception ? (err as InstanceType<typeof Exception>).getCode() : null;
}

/** Milliseconds a lost connection may take to come back before a new client is made. */
export const RECONNECT_WATCHDOG_MS = 8000;

export class ZookeeperSession {
	private client: Client;
	private readonly settings: ZookeeperSettings;
	private readonly log: ZookeeperLog;
	private readonly watches = new Map<string, Set<DataListener>>();
	private isConnected = false;
	private closed = false;
	private reconnectTimer: NodeJS.Timeout | null = null;

	constructor(settings: ZookeeperSettings, log: ZookeeperLog) {
		this.settings = settings;
		this.log = log;
		this.client = this.newClient();
	}

	get connected(): boolean {
		return this.isConnected;
	}

	private newClient(): Client {
		const client = zookeeper.createClient(this.settings.ZOOKEEPER_HOSTS, {
			sessionTimeout: this.settings.ZOOKEEPER_SESSION_TIMEOUT,
			spinDelay: 1000,
			retries: 0
		});
		client.on("state", state => {
			if (client !== this.client) return;
			if (state === zookeeper.State.SYNC_CONNECTED) {
				const was = this.isConnected;
				this.isConnected = true;
				if (!was) this.log.info("ZooKeeper connected", { zookeeper: this.settings.ZOOKEEPER_HOSTS });
			} else if (state === zookeeper.State.DISCONNECTED) {
				this.isConnected = false;
				if (this.closed) return;
				this.log.warn("ZooKeeper connection lost, reconnecting", { zookeeper: this.settings.ZOOKEEPER_HOSTS });
				this.watchReconnect();
			} else if (state === zookeeper.State.EXPIRED) {
				this.isConnected = false;
				if (this.closed) return;
				this.log.warn("ZooKeeper session expired, opening a new one", { zookeeper: this.settings.ZOOKEEPER_HOSTS });
				this.replaceClient();
			}
		});
		return client;
	}

	/** A fresh client and session; every data watch is armed again on it. */
	private replaceClient(): void {
		this.client.close();
		this.client = this.newClient();
		this.client.connect();
		for (const path of this.watches.keys()) this.arm(path);
		this.watchReconnect();
	}

	/**
	 * node-zookeeper-client has no handshake timeout: a server that accepts the TCP connection but never
	 * answers (a ZooKeeper still loading, or one that lost the socket) leaves the client waiting forever.
	 * If the connection is not back within RECONNECT_WATCHDOG_MS, start over with a new client.
	 */
	private watchReconnect(): void {
		if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
		const client = this.client;
		this.reconnectTimer = setTimeout(() => {
			this.reconnectTimer = null;
			if (this.closed || this.isConnected || client !== this.client) return;
			this.log.warn("ZooKeeper did not answer, opening a new connection", { zookeeper: this.settings.ZOOKEEPER_HOSTS });
			this.replaceClient();
		}, RECONNECT_WATCHDOG_MS);
		this.reconnectTimer.unref();
	}

	/** Start connecting; resolves when connected or after `timeoutMs` (false: still trying in the background). */
	connect(timeoutMs: number): Promise<boolean> {
		const client = this.client;
		return new Promise(resolve => {
			const timer = setTimeout(() => resolve(false), timeoutMs);
			client.once("connected", () => {
				clearTimeout(timer);
				resolve(true);
			});
			client.connect();
		});
	}

	private call<T>(fn: (cb: (err: unknown, result?: T) => void) => void): Promise<T> {
		return new Promise((resolve, reject) => fn((err, result) => (err ? reject(err) : resolve(result as T))));
	}

	/** Create the node and its parents when missing (empty data). */
	async mkdirp(path: string): Promise<void> {
		await this.call<string>(cb => this.client.mkdirp(path, CreateMode.PERSISTENT, (e: unknown, p?: string) => cb(e, p)));
	}

	async getData(path: string): Promise<NodeData> {
		try {
			const [data, stat] = await new Promise<[Buffer | null, Stat]>((resolve, reject) =>
				this.client.getData(path, (err: unknown, d: Buffer | null, s: Stat) => (err ? reject(err) : resolve([d, s])))
			);
			return { data: data ?? Buffer.alloc(0), version: stat.version };
		} catch (err) {
			if (errorCode(err) === Exception.NO_NODE) return { data: null, version: -1 };
			throw err;
		}
	}

	/**
	 * Write data if the node is still at `version` (-1: create it). Returns false when someone else wrote
	 * first (read again and retry): this is how concurrent edits are never lost.
	 */
	async setDataIfVersion(path: string, data: Buffer, version: number): Promise<boolean> {
		try {
			if (version === -1) {
				const parent = path.slice(0, path.lastIndexOf("/"));
				if (parent) await this.mkdirp(parent);
				await this.call<string>(cb => this.client.create(path, data, CreateMode.PERSISTENT, (e: unknown, p?: string) => cb(e, p)));
			} else {
				await this.call<Stat>(cb => this.client.setData(path, data, version, (e: unknown, s?: Stat) => cb(e, s)));
			}
			return true;
		} catch (err) {
			const code = errorCode(err);
			if (code === Exception.BAD_VERSION || code === Exception.NODE_EXISTS || code === Exception.NO_NODE) return false;
			throw err;
		}
	}

	async remove(path: string): Promise<void> {
		try {
			await this.call<void>(cb => this.client.remove(path, -1, (e: unknown) => cb(e)));
		} catch (err) {
			if (errorCode(err) !== Exception.NO_NODE) throw err;
		}
	}

	/**
	 * Call `listener` with the node's data now and after every change (including creation and deletion),
	 * across reconnects and session expiries. Returns a function that stops watching.
	 */
	watchData(path: string, listener: DataListener): () => void {
		let listeners = this.watches.get(path);
		const first = !listeners;
		if (!listeners) {
			listeners = new Set();
			this.watches.set(path, listeners);
		}
		listeners.add(listener);
		if (first) this.arm(path);
		return () => {
			listeners.delete(listener);
			if (listeners.size === 0) this.watches.delete(path);
		};
	}

	private arm(path: string): void {
		if (this.closed || !this.watches.has(path)) return;
		const client = this.client;
		const deliver = (node: NodeData) => this.watches.get(path)?.forEach(l => l(node));
		const onEvent = () => this.arm(path);
		// exists() watches creation as well as change and deletion; getData() then reads the value.
		client.exists(path, onEvent, (err: unknown, stat: Stat | null) => {
			if (client !== this.client || this.closed) return;
			if (err) {
				setTimeout(() => this.arm(path), 1000).unref();
				return;
			}
			if (!stat) {
				deliver({ data: null, version: -1 });
				return;
			}
			client.getData(path, (e: unknown, data: Buffer | null, s: Stat) => {
				if (client !== this.client || this.closed) return;
				if (e) {
					if (errorCode(e) !== Exception.NO_NODE) setTimeout(() => this.arm(path), 1000).unref();
					return;
				}
				deliver({ data: data ?? Buffer.alloc(0), version: s.version });
			});
		});
	}

	close(): void {
		this.closed = true;
		if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
		this.watches.clear();
		this.isConnected = false;
		this.client.close();
	}
}

