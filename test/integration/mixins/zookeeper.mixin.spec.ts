import type { ServiceBroker } from "moleculer";
import { ZookeeperMixin } from "../../../mixins/zookeeper.mixin.ts";
import type { NodeData, ZookeeperSession } from "../../../lib/zookeeper/client.ts";
import { eventually, testBroker, testSettings, uniqueName } from "../../support/cluster.ts";

type ZkService = { zk: ZookeeperSession; zookeeperConnected(): boolean };

describe("ZookeeperMixin against the real ZooKeeper", () => {
	let broker: ServiceBroker;
	let svc: ZkService;
	const root = `/it-${uniqueName("zk")}`;

	beforeAll(async () => {
		broker = testBroker(testSettings());
		svc = broker.createService({ name: "z", mixins: [ZookeeperMixin()] }) as unknown as ZkService;
		await broker.start();
	});
	afterAll(async () => {
		await svc.zk.remove(`${root}/crawler/all`);
		await svc.zk.remove(`${root}/crawler`);
		await svc.zk.remove(root);
		await broker.stop();
	});

	it("connects and reports health", () => {
		expect(svc.zookeeperConnected()).toBe(true);
	});

	it("creates a document with its parents and refuses a write based on a stale version", async () => {
		const path = `${root}/crawler/all`;
		expect(await svc.zk.getData(path)).toEqual({ data: null, version: -1 });
		expect(await svc.zk.setDataIfVersion(path, Buffer.from("blacklist: []\n"), -1)).toBe(true);
		// a second creator loses: someone else created it first
		expect(await svc.zk.setDataIfVersion(path, Buffer.from("x"), -1)).toBe(false);
		const v0 = await svc.zk.getData(path);
		expect(v0.data!.toString()).toBe("blacklist: []\n");
		expect(await svc.zk.setDataIfVersion(path, Buffer.from("domains: {}\n"), v0.version)).toBe(true);
		// a writer that read v0 must not overwrite the newer document
		expect(await svc.zk.setDataIfVersion(path, Buffer.from("lost update"), v0.version)).toBe(false);
		expect((await svc.zk.getData(path)).data!.toString()).toBe("domains: {}\n");
	});

	it("watches a document: current value first, then every change, creation and deletion", async () => {
		const path = `${root}/watched`;
		const seen: NodeData[] = [];
		const stop = svc.zk.watchData(path, n => seen.push(n));
		await eventually(() => seen.length >= 1);
		expect(seen[0]).toEqual({ data: null, version: -1 });
		await svc.zk.setDataIfVersion(path, Buffer.from("one"), -1);
		await eventually(() => seen.some(n => n.data?.toString() === "one"));
		await svc.zk.setDataIfVersion(path, Buffer.from("two"), 0);
		await eventually(() => seen.some(n => n.data?.toString() === "two"));
		await svc.zk.remove(path);
		await eventually(() => seen.length >= 4 && seen[seen.length - 1]!.data === null);
		expect(seen.map(n => n.data?.toString() ?? null)).toEqual([null, "one", "two", null]);
		stop();
	});
});
