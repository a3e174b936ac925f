/**
 * A private ZooKeeper server for one test: its own zoo.cfg and data directory in a temp dir, on a free
 * port of 127.0.0.1, run as a child process (the Debian zookeeper.jar, as scripts/infra.sh uses). A test
 * can stop it (the crawler loses ZooKeeper) and start it again on the same port and data, so documents
 * and sessions survive as with a real restart. Ready means `ruok` answers `imok`.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { createConnection, createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const ZOOKEEPER_JAR = "/usr/share/java/zookeeper.jar";

export interface ZkServerOptions {
	/** ZooKeeper tick in ms (sessions may last 2..20 ticks); default 500, so a 4 s session timeout is granted. */
	tickTime?: number;
	/** How long start() waits for `imok`; default 30 s. */
	readyTimeoutMs?: number;
}

export interface ZkServer {
	readonly port: number;
	/** "127.0.0.1:<port>", for ZOOKEEPER_HOSTS. */
	readonly hosts: string;
	/** The temp dir holding zoo.cfg, data/ and zookeeper.log. */
	readonly dir: string;
	readonly running: boolean;
	/** Start (again) on the same port and data dir; resolves once `ruok` answers `imok`. */
	start(): Promise<void>;
	/** Stop the server and wait until the process has exited (SIGKILL after `graceMs`). */
	stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
	/** stop() and delete the temp dir. */
	destroy(): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>(resolve => setTimeout(resolve, ms));

/** A port nobody listens on right now (the OS picks it; closed again at once). */
export async function freePort(): Promise<number> {
	const server = createServer();
	await new Promise<void>((resolve, reject) => {
		server.once("error", reject);
		server.listen(0, "127.0.0.1", () => resolve());
	});
	const { port } = server.address() as AddressInfo;
	await new Promise<void>(resolve => server.close(() => resolve()));
	return port;
}

/** The server's answer to a four-letter word ("" when nothing answers within `timeoutMs`). */
export function fourLetterWord(port: number, word: string, timeoutMs = 1000): Promise<string> {
	return new Promise(resolve => {
		let answer = "";
		const socket = createConnection({ host: "127.0.0.1", port });
		const done = () => {
			clearTimeout(timer);
			socket.destroy();
			resolve(answer);
		};
		const timer = setTimeout(done, timeoutMs);
		socket.on("connect", () => socket.write(word));
		socket.on("data", chunk => void (answer += chunk.toString("utf8")));
		socket.on("end", done);
		socket.on("close", done);
		socket.on("error", () => undefined);
	});
}

export async function startZkServer(opts: ZkServerOptions = {}): Promise<ZkServer> {
	const dir = mkdtempSync(join(tmpdir(), "sc-zk-"));
	const port = await freePort();
	const cfg = join(dir, "zoo.cfg");
	writeFileSync(
		cfg,
		[
			"# private ZooKeeper of an integration test (test/support/zk-server.ts)",
			`tickTime=${opts.tickTime ?? 500}`,
			`dataDir=${join(dir, "data")}`,
			`clientPort=${port}`,
			"clientPortAddress=127.0.0.1",
			"maxClientCnxns=0",
			"admin.enableServer=false",
			"4lw.commands.whitelist=ruok",
			// small, unsynced transaction logs: this data only lives as long as the test
			"preAllocSize=1024",
			"forceSync=no",
			""
		].join("\n")
	);
	const readyTimeoutMs = opts.readyTimeoutMs ?? 30000;
	let child: ChildProcess | null = null;
	let exited: Promise<void> = Promise.resolve();
	// A Jest worker that dies without afterAll must not leave a Java process behind.
	const killOnExit = () => child?.kill("SIGKILL");

	const server: ZkServer = {
		port,
		hosts: `127.0.0.1:${port}`,
		dir,
		get running() {
			return child !== null && child.exitCode === null && child.signalCode === null;
		},

		async start() {
			if (server.running) return;
			const log = openSync(join(dir, "zookeeper.log"), "a");
			const proc = spawn("java", ["-Xmx128m", "-cp", ZOOKEEPER_JAR, "org.apache.zookeeper.server.ZooKeeperServerMain", cfg], { stdio: ["ignore", log, log] });
			closeSync(log);
			child = proc;
			exited = new Promise<void>(resolve => {
				if (proc.exitCode !== null || proc.signalCode !== null) resolve();
				else proc.once("exit", () => resolve());
			});
			proc.once("error", () => undefined);
			process.once("exit", killOnExit);
			const end = Date.now() + readyTimeoutMs;
			while (Date.now() < end) {
				if (proc.exitCode !== null || proc.signalCode !== null) break;
				if ((await fourLetterWord(port, "ruok", 500)) === "imok") return;
				await sleep(100);
			}
			await server.stop("SIGKILL");
			throw new Error(`private ZooKeeper on 127.0.0.1:${port} did not answer imok within ${readyTimeoutMs} ms; see ${join(dir, "zookeeper.log")}`);
		},

		async stop(signal: NodeJS.Signals = "SIGTERM", graceMs = 10000) {
			const proc = child;
			if (!proc) return;
			if (proc.exitCode === null && proc.signalCode === null) {
				proc.kill(signal);
				const timer = setTimeout(() => proc.kill("SIGKILL"), graceMs);
				await exited;
				clearTimeout(timer);
			}
			process.removeListener("exit", killOnExit);
			child = null;
		},

		async destroy() {
			await server.stop();
			rmSync(dir, { recursive: true, force: true });
		}
	};
	await server.start();
	return server;
}
