/**
 * Look at the cluster's Kafka topics (the original's kafkadump.py):
 *   npm run dump -- list
 *   npm run dump -- dump -t demo.crawled_firehose [-p] [-b] [-n 10] [-c group] [--no-body] [--just-body] [-d]
 * `dump` prints each message (one JSON line, or indented with -p) from the end of the topic (or its
 * beginning with -b) until interrupted or -n messages were printed, then a summary on stderr.
 * Progress (count, rate, bytes) goes to stderr: rewritten in place every second on a terminal, otherwise
 * a plain line every 10 s (`--progress SECONDS` changes it, 0 turns it off), so stdout stays the data.
 */
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { parseArgs } from "node:util";
import { cliLog, cliSettings, quietLog } from "../lib/cli.ts";
import { formatRecord, type DumpFormat } from "../lib/dump/format.ts";
import { dumpProgressLine, RateMeter } from "../lib/progress/format.ts";
import { describeOutput, ProgressReporter } from "../lib/progress/reporter.ts";
import { KafkaClient } from "../lib/kafka/client.ts";

const USAGE = `usage:
  npm run dump -- list
  npm run dump -- dump -t TOPIC [options]
options:
  -t, --topic TOPIC        topic to read (required)
  -c, --consumer GROUP     consumer group id (default: a throw-away group, deleted afterwards)
  -b, --from-beginning     read from the beginning of the topic (default: only new messages)
  -n, --max N              stop after N messages
  -p, --pretty             indent JSON
      --no-body            drop the "body" field
      --just-body          print only the "body" field
  -d, --decode-base64      decode a base64 "body" (KAFKA_BASE_64_ENCODE) using the record's encoding
      --progress SECONDS   seconds between progress lines on stderr (default: 1 on a terminal, else 10; 0: none)
`;

const settings = cliSettings();
const log = cliLog("kafkadump", settings);
const [command, ...rest] = process.argv.slice(2);
const kafka = new KafkaClient(settings, `${settings.KAFKA_CLIENT_ID}-dump-${process.pid}`, quietLog(log));

async function finish(code: number): Promise<never> {
	await Promise.race([kafka.close(), new Promise(resolve => setTimeout(resolve, 5000).unref())]);
	process.exit(code);
}

if (command === "list") {
	try {
		const topics = await kafka.listTopics();
		process.stdout.write(`Topics:\n${topics.map(t => `- ${t}\n`).join("")}`);
		await finish(0);
	} catch (err) {
		log.error("Cannot list topics; check KAFKA_HOSTS", { kafka: settings.KAFKA_HOSTS, error: (err as Error).message });
		await finish(1);
	}
} else if (command === "dump") {
	let args;
	try {
		args = parseArgs({
			args: rest,
			options: {
				topic: { type: "string", short: "t" },
				consumer: { type: "string", short: "c" },
				"from-beginning": { type: "boolean", short: "b", default: false },
				max: { type: "string", short: "n" },
				pretty: { type: "boolean", short: "p", default: false },
				"no-body": { type: "boolean", default: false },
				"just-body": { type: "boolean", default: false },
				"decode-base64": { type: "boolean", short: "d", default: false },
				progress: { type: "string" }
			}
		}).values;
	} catch (err) {
		process.stderr.write(`${(err as Error).message}\n${USAGE}`);
		process.exit(2);
	}
	const max = args.max === undefined ? Infinity : Number(args.max);
	const progressS = args.progress === undefined ? (process.stderr.isTTY ? 1 : 10) : Number(args.progress);
	if (!args.topic || !(max > 0) || !(progressS >= 0)) {
		process.stderr.write(USAGE);
		process.exit(2);
	}
	const format: DumpFormat = { pretty: args.pretty, noBody: args["no-body"], justBody: args["just-body"], decodeBase64: args["decode-base64"] };
	const throwAway = args.consumer === undefined;
	const groupId = args.consumer ?? `kafkadump-${hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`;
	let count = 0;
	let bytes = 0;
	const startedAt = Date.now();
	const meter = new RateMeter(10_000);
	const topic = args.topic;
	const progress = new ProgressReporter(process.stderr, () => {
		meter.add(Date.now(), count);
		return dumpProgressLine({ topic, count, bytes, elapsedS: (Date.now() - startedAt) / 1000, rate: meter.rate() });
	});
	// Log lines and the in-place progress line share stderr.
	const info = (message: string) => {
		progress.clear();
		log.info(message);
	};
	let progressTimer: NodeJS.Timeout | undefined;
	let done = false;
	let resolveDone: () => void = () => undefined;
	const allDone = new Promise<void>(resolve => (resolveDone = resolve));
	const stop = () => {
		done = true;
		resolveDone();
	};
	process.once("SIGINT", stop);
	process.once("SIGTERM", stop);
	try {
		if ((await kafka.partitionCount(args.topic)) === 0) {
			info(`Topic ${args.topic} does not exist yet; creating it to wait for its first messages`);
			await kafka.ensureTopics([{ topic: args.topic, partitions: 1 }]);
		}
		const handle = await kafka.consume({
			groupId,
			topics: [args.topic],
			fromBeginning: args["from-beginning"],
			onMessage: async message => {
				if (done) return;
				const raw = message.value?.toString("utf8") ?? "";
				count++;
				bytes += message.value?.length ?? 0;
				// Both on one terminal: the data line replaces the progress line, which comes back at the next tick.
				if (process.stdout.isTTY) progress.clear();
				process.stdout.write(`${formatRecord(raw, format)}\n`);
				if (count >= max) stop();
			}
		});
		const to = describeOutput(1, Boolean(process.stdout.isTTY));
		info(`Dumping ${args.topic} (${args["from-beginning"] ? "from the beginning" : "new messages"}) to ${to}, progress on stderr; Ctrl-C to stop`);
		if (progressS > 0) {
			progress.tick();
			progressTimer = setInterval(() => progress.tick(), progressS * 1000);
		}
		await allDone;
		clearInterval(progressTimer);
		if (progressS > 0) progress.finish();
		await handle.stop();
		if (throwAway) await kafka.deleteGroups([groupId]).catch(() => undefined);
		log.info(`Num Records: ${count}, Total MBs: ${(bytes / 1024 / 1024).toFixed(3)}, kb per message: ${count ? (bytes / 1024 / count).toFixed(3) : 0}`);
		await finish(0);
	} catch (err) {
		log.error("Cannot read the topic; check KAFKA_HOSTS", { kafka: settings.KAFKA_HOSTS, topic: args.topic, error: (err as Error).message });
		await finish(1);
	}
} else {
	process.stderr.write(USAGE);
	process.exit(command === undefined || command === "help" || command === "--help" ? 0 : 2);
}
