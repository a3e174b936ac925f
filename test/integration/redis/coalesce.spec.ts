/**
 * The command coalescer against the real Redis: commands of one event-loop turn share one socket write
 * (counted on the connection's own stream), keep their order, and each caller gets its own reply or error.
 */
import { Redis } from "ioredis";
import { redisOptions } from "../../../lib/redis/client.ts";
import { Coalescer, coalescerFor } from "../../../lib/redis/coalesce.ts";
import { testSettings, uniqueName } from "../../support/cluster.ts";

describe("Coalescer", () => {
	let redis: Redis;
	let writes = 0;
	let prefix: string;

	beforeAll(async () => {
		redis = new Redis(redisOptions(testSettings(), "it-coalesce"));
		await redis.connect();
		redis.defineCommand("twice", { numberOfKeys: 1, lua: "return redis.call('INCRBY', KEYS[1], 2 * tonumber(ARGV[1]))" });
		// Count what goes to the socket (observation only: every write still happens).
		const stream = (redis as unknown as { stream: { write: (...args: unknown[]) => boolean } }).stream;
		const write = stream.write.bind(stream);
		stream.write = (...args: unknown[]) => {
			writes++;
			return write(...args);
		};
	});
	beforeEach(() => {
		prefix = uniqueName("co");
		writes = 0;
	});
	afterAll(async () => {
		const keys = await redis.keys("co-*");
		if (keys.length) await redis.del(...keys);
		await redis.quit();
	});

	it("sends the commands of one turn in one write, in order, each caller with its own reply", async () => {
		const c = new Coalescer(redis);
		const replies = await Promise.all([
			c.send("set", `${prefix}:a`, "1"),
			c.send("incr", `${prefix}:a`),
			c.send("twice", `${prefix}:a`, 5),
			c.send("get", `${prefix}:a`),
			c.send("rpush", `${prefix}:l`, "x", "y")
		]);
		expect(replies).toEqual(["OK", 2, 12, "12", 2]);
		expect(writes).toBe(1);
	});

	it("gives an error to its own caller only", async () => {
		const c = new Coalescer(redis);
		await redis.set(`${prefix}:s`, "text");
		writes = 0;
		const results = await Promise.allSettled([c.send("incr", `${prefix}:s`), c.send("incr", `${prefix}:n`), c.send("nosuchcommand", "x")]);
		expect(results[0]).toMatchObject({ status: "rejected", reason: expect.objectContaining({ message: expect.stringMatching(/not an integer/) }) });
		expect(results[1]).toEqual({ status: "fulfilled", value: 1 });
		expect(results[2]).toMatchObject({ status: "rejected", reason: expect.objectContaining({ message: expect.stringMatching(/unknown command/i) }) });
		expect(writes).toBe(1);
	});

	it("sends commands of different turns in different writes, and a lone command as a plain call", async () => {
		const c = new Coalescer(redis);
		expect(await c.send("incr", `${prefix}:t`)).toBe(1);
		expect(await c.send("incr", `${prefix}:t`)).toBe(2);
		expect(await c.send("twice", `${prefix}:t`, 1)).toBe(4);
		expect(writes).toBe(3);
	});

	it("batch(): one [error, value] per command, with the rest of the turn", async () => {
		const c = coalescerFor(redis);
		expect(coalescerFor(redis)).toBe(c);
		const [batch, alone] = await Promise.all([c.batch([["sadd", `${prefix}:b`, "m"], ["hincrby", `${prefix}:b`, "f", 1], ["scard", `${prefix}:b`]]), c.send("exists", `${prefix}:b`)]);
		expect(batch[0]).toEqual([null, 1]);
		expect(batch[1]![0]).toBeInstanceOf(Error); // WRONGTYPE: the key is a set
		expect(batch[2]).toEqual([null, 1]);
		expect(alone).toBe(1);
		expect(writes).toBe(1);
	});
});
