// The cluster dashboard: polls GET /dashboard/api/state every POLL_MS and renders it; the buttons and forms
// send the same requests any client sends (POST /feed, then POST /poll for a late answer).
// Every string from the cluster is hostile input: it only ever reaches the page as a text node or an
// attribute value set through the DOM, never as HTML.

const POLL_MS = 2000;
const KEY_STORAGE = "scrapy-cluster-dashboard-key";
const SVG_NS = "http://www.w3.org/2000/svg";

const $ = id => document.getElementById(id);

let apiKey = localStorage.getItem(KEY_STORAGE) || "";
let needKey = false;
let timer = null;

// ---------------------------------------------------------------- DOM helpers (text only, never HTML)

/** An element with attributes/properties and children (strings become text nodes). */
function el(tag, props = {}, ...children) {
	const node = document.createElement(tag);
	for (const [k, v] of Object.entries(props)) {
		if (v === undefined || v === null) continue;
		if (k === "class") node.className = v;
		else if (k === "dataset") Object.assign(node.dataset, v);
		else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
		else node.setAttribute(k, String(v));
	}
	for (const child of children) if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
	return node;
}

function svg(tag, attrs = {}, text) {
	const node = document.createElementNS(SVG_NS, tag);
	for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
	if (text !== undefined) node.textContent = String(text);
	return node;
}

function setRows(tableId, rows, emptyText, columns) {
	const body = $(tableId).tBodies[0];
	body.replaceChildren(...(rows.length ? rows : [el("tr", {}, el("td", { colspan: columns, class: "note" }, emptyText))]));
}

const num = n => (typeof n === "number" && Number.isFinite(n) ? n.toLocaleString("en-US") : "–");
const cell = (text, cls) => el("td", cls ? { class: cls } : {}, text);

function age(ms) {
	if (!ms) return "–";
	const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
	return s < 60 ? `${s}s ago` : s < 3600 ? `${Math.floor(s / 60)}m ago` : `${Math.floor(s / 3600)}h ago`;
}

const time = ms => new Date(ms).toLocaleTimeString();

function randomId(prefix) {
	const bytes = crypto.getRandomValues(new Uint8Array(12));
	return prefix + Array.from(bytes, b => b.toString(16).padStart(2, "0")).join("");
}

// ---------------------------------------------------------------- talking to the api service

function headers(json) {
	const h = json ? { "Content-Type": "application/json" } : {};
	if (apiKey) h["X-Api-Key"] = apiKey;
	return h;
}

async function getJson(path) {
	const res = await fetch(path, { headers: headers(false), cache: "no-store" });
	let body = null;
	try {
		body = await res.json();
	} catch {
		/* not JSON */
	}
	return { status: res.status, body };
}

async function postJson(path, payload) {
	const res = await fetch(path, { method: "POST", headers: headers(true), body: JSON.stringify(payload) });
	let body = null;
	try {
		body = await res.json();
	} catch {
		/* not JSON */
	}
	return { status: res.status, body };
}

/** Feed a request as a client does; a late answer is polled for up to 30 s. Returns the final reply. */
async function feed(request, show) {
	show(`sending ${request.action} request ${request.uuid}…`);
	let reply = await postJson("/feed", request);
	if (reply.status === 401) askForKey("The API key was refused.");
	const pollId = reply.body && reply.body.data && reply.body.data.poll_id;
	if (reply.status === 200 && pollId) {
		const end = Date.now() + 30000;
		while (Date.now() < end) {
			show(`waiting for the answer of ${request.uuid} (poll_id ${pollId})…`);
			await new Promise(r => setTimeout(r, 1000));
			const polled = await postJson("/poll", { poll_id: pollId });
			if (polled.status !== 404) {
				reply = polled;
				break;
			}
		}
	}
	show(JSON.stringify(reply.body, null, 2) ?? `HTTP ${reply.status}`);
	refreshSoon();
	return reply;
}

const showAnswer = text => ($("answer").textContent = text);
const showZkAnswer = text => ($("zk-answer").textContent = text);

function crawlAction(action, crawl) {
	if (action === "stop" && !confirm(`Stop crawl ${crawl.crawlid} of ${crawl.appid}? Its queued requests are purged.`)) return;
	return feed({ action, appid: crawl.appid, crawlid: crawl.crawlid, spiderid: crawl.spiderid, uuid: randomId("dash-") }, showAnswer);
}

function zookeeperAction(action, domain, extra = {}) {
	const appid = $("zk-appid").value.trim() || "dashboard";
	return feed({ uuid: randomId("dash-"), appid, action, domain, ...extra }, showZkAnswer);
}

// ---------------------------------------------------------------- rendering

function renderStatus(state, error) {
	const status = $("status");
	status.classList.toggle("error", Boolean(error));
	status.textContent = error ? error : `live · updated ${time(state.time)} by ${state.node}`;
}

function renderProblems(problems) {
	$("problems").replaceChildren(...problems.map(p => el("li", {}, p)));
}

/** Points (rates) to an SVG polyline/area inside a box (pure). */
function chartPoints(points, width, height, pad) {
	if (points.length === 0) return { line: "", max: 0 };
	const max = Math.max(1, ...points.map(p => p.rate));
	const t0 = points[0].t;
	const span = Math.max(1, points[points.length - 1].t - t0);
	const xy = points.map(p => [pad + ((p.t - t0) / span) * (width - 2 * pad), height - pad - (p.rate / max) * (height - 2 * pad)]);
	return { line: xy.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(" "), max, first: xy[0], last: xy[xy.length - 1] };
}

function renderThroughput(t) {
	const points = t.points;
	$("rate-now").textContent = points.length ? num(points[points.length - 1].rate) : "–";
	$("crawled-total").textContent = num(t.crawled_total);
	$("in-flight").textContent = num(t.in_flight);
	const [W, H, P] = [640, 180, 24];
	const chart = $("throughput-chart");
	const { line, max, first, last } = chartPoints(points, W, H, P);
	const parts = [svg("line", { class: "axis", x1: P, y1: H - P, x2: W - P, y2: H - P }), svg("line", { class: "axis", x1: P, y1: P, x2: P, y2: H - P })];
	if (line) {
		parts.push(svg("polygon", { class: "area", points: `${first[0]},${H - P} ${line} ${last[0]},${H - P}` }));
		parts.push(svg("polyline", { class: "line", points: line }));
		parts.push(svg("text", { x: P + 4, y: P - 6 }, `${num(max)} pages/s`));
		parts.push(svg("text", { x: P, y: H - 6 }, time(points[0].t)));
		parts.push(svg("text", { x: W - P, y: H - 6, "text-anchor": "end" }, time(points[points.length - 1].t)));
	} else {
		parts.push(svg("text", { x: W / 2, y: H / 2, "text-anchor": "middle" }, "collecting samples…"));
	}
	chart.replaceChildren(...parts);
}

function renderCrawls(crawls) {
	if (!crawls) return setRows("crawls", [], "unknown (see the problems above)", 9);
	const rows = crawls.rows.map(c =>
		el(
			"tr",
			{ dataset: { crawlid: c.crawlid, appid: c.appid, spiderid: c.spiderid } },
			cell(c.spiderid),
			cell(c.appid, "wrap"),
			cell(c.crawlid, "wrap crawlid"),
			cell(num(c.total_pending), "num pending"),
			cell(num(c.total_domains), "num"),
			cell(num(c.crawled), "num pages"),
			cell(age(c.last_page)),
			cell(c.expires ? new Date(c.expires * 1000).toLocaleString() : "–"),
			el(
				"td",
				{},
				el("button", { type: "button", class: "info", onclick: () => crawlAction("info", c) }, "Info"),
				" ",
				el("button", { type: "button", class: "stop", onclick: () => crawlAction("stop", c) }, "Stop")
			)
		)
	);
	setRows("crawls", rows, "no crawl has queued requests", 9);
	$("crawls-note").textContent = crawls.truncated ? "More crawls are active than listed here." : "";
}

function renderBacklog(backlog) {
	if (!backlog) {
		$("backlog-total").textContent = "–";
		$("backlog-domains").textContent = "–";
		return setRows("backlog", [], "unknown (see the problems above)", 4);
	}
	$("backlog-total").textContent = num(backlog.total);
	$("backlog-domains").textContent = num(backlog.domains);
	const rows = backlog.rows.map(r =>
		el(
			"tr",
			{},
			cell(r.spiderid),
			cell(r.domain, "wrap"),
			cell(num(r.backlog), "num"),
			cell(r.throttle ? `${r.throttle.limit} per ${r.throttle.window}s${r.throttle.moderated ? ", moderated" : ""}` : "–")
		)
	);
	setRows("backlog", rows, "nothing queued", 4);
}

function renderZookeeper(zk) {
	$("zk-path").textContent = zk ? zk.path + (zk.exists ? "" : " (not written yet)") + (zk.error ? ` — ${zk.error}` : "") : "unknown";
	const domains = zk ? Object.entries(zk.domains).sort(([a], [b]) => a.localeCompare(b)) : [];
	setRows(
		"zk-domains",
		domains.map(([domain, d]) =>
			el(
				"tr",
				{ dataset: { domain } },
				cell(domain, "wrap"),
				cell(num(d.window), "num"),
				cell(num(d.hits), "num"),
				cell(String(d.scale), "num"),
				el("td", {}, el("button", { type: "button", class: "remove", onclick: () => zookeeperAction("domain-remove", domain) }, "Remove"))
			)
		),
		zk ? "no domain throttles: QUEUE_HITS per QUEUE_WINDOW for every domain" : "unknown (see the problems above)",
		5
	);
	$("zk-blacklist").replaceChildren(
		...(zk ? zk.blacklist : []).map(domain =>
			el("li", { dataset: { domain } }, domain, " ", el("button", { type: "button", class: "remove", title: "remove from the blacklist", onclick: () => zookeeperAction("blacklist-remove", domain) }, "×"))
		)
	);
}

function renderNodes(state) {
	setRows(
		"nodes",
		state.nodes.map(n =>
			el("tr", {}, cell(n.id + (n.id === state.node ? " (this)" : ""), "wrap"), cell(n.hostname ?? "–"), cell(n.available ? "up" : "down"), cell(n.cpu === null ? "–" : `${n.cpu}%`, "num"), cell(n.services.join(", ") || "–", "wrap"))
		),
		"no nodes",
		5
	);
	setRows(
		"crawlers",
		state.crawlers.map(c =>
			el("tr", {}, cell(c.node, "wrap"), cell(c.spiders.join(", ")), cell(num(c.in_flight), "num"), cell(num(c.counts.crawled), "num"), cell(num(c.counts.retried), "num"), cell(num(c.counts.failed), "num"), cell(num(c.queues), "num"))
		),
		"no crawler node",
		7
	);
}

function renderErrors(errors) {
	setRows(
		"errors",
		errors.map(e => el("tr", {}, cell(time(e.time)), cell(e.node, "wrap"), cell(e.level, `level-${e.level}`), cell(e.module), cell(e.data ? `${e.message} ${e.data}` : e.message, "wrap"))),
		"none",
		5
	);
}

function render(state) {
	renderStatus(state, null);
	renderProblems(state.problems);
	renderThroughput(state.throughput);
	renderCrawls(state.crawls);
	renderBacklog(state.backlog);
	renderZookeeper(state.zookeeper);
	renderNodes(state);
	renderErrors(state.errors);
}

// ---------------------------------------------------------------- polling and the key form

async function refresh() {
	clearTimeout(timer);
	timer = null;
	if (needKey) return;
	// A hidden tab costs the cluster nothing: it refreshes when shown again.
	if (document.hidden) return;
	try {
		const reply = await getJson("/dashboard/api/state");
		if (reply.status === 401) {
			askForKey(apiKey ? "The API key was refused." : "This cluster needs an API key.");
			renderStatus(null, "waiting for an API key");
			return;
		}
		if (reply.status !== 200 || !reply.body) throw new Error(`HTTP ${reply.status}`);
		render(reply.body);
	} catch (err) {
		renderStatus(null, `cannot reach the cluster (${err.message}); retrying`);
	}
	timer = setTimeout(refresh, POLL_MS);
}

function refreshSoon() {
	clearTimeout(timer);
	timer = setTimeout(refresh, 300);
}

function askForKey(message) {
	needKey = true;
	$("key-form").hidden = false;
	$("key-message").textContent = message;
	$("key-input").focus();
}

function init() {
	$("key-button").addEventListener("click", () => {
		$("key-form").hidden = !$("key-form").hidden;
		$("key-message").textContent = "";
	});
	$("key-form").addEventListener("submit", event => {
		event.preventDefault();
		apiKey = $("key-input").value.trim();
		localStorage.setItem(KEY_STORAGE, apiKey);
		$("key-input").value = "";
		$("key-form").hidden = true;
		needKey = false;
		refresh();
	});
	$("key-clear").addEventListener("click", () => {
		apiKey = "";
		localStorage.removeItem(KEY_STORAGE);
		$("key-message").textContent = "forgotten";
	});
	$("domain-form").addEventListener("submit", event => {
		event.preventDefault();
		const f = event.target.elements;
		zookeeperAction("domain-update", f.domain.value.trim(), { window: Number(f.window.value), hits: Number(f.hits.value), scale: Number(f.scale.value) });
	});
	$("blacklist-form").addEventListener("submit", event => {
		event.preventDefault();
		zookeeperAction("blacklist-update", event.target.elements.domain.value.trim());
	});
	document.addEventListener("visibilitychange", () => {
		if (!document.hidden) refresh();
	});
	refresh();
}

init();
