/**
 * Response decoding and link extraction (lib/crawl/extract.ts): Scrapy's response encoding rules and
 * LxmlLinkExtractor (a/area href, canonical de-duplication) as the link spider uses them.
 */
import { DEFAULT_MAX_LINKS, decodeBody, extractLinks, MAX_HREF_LENGTH } from "../../../lib/crawl/extract.ts";

const ascii = (s: string): Buffer => Buffer.from(s, "latin1");
const join = (...parts: Array<string | Buffer>): Buffer => Buffer.concat(parts.map(p => (typeof p === "string" ? ascii(p) : p)));
const hex = (h: string): Buffer => Buffer.from(h, "hex");

describe("decodeBody", () => {
	it("decodes UTF-8 by default", () => {
		expect(decodeBody(Buffer.from("<p>caf\u00e9 \u20ac</p>", "utf8"), undefined)).toEqual({ text: "<p>caf\u00e9 \u20ac</p>", encoding: "utf-8" });
		expect(decodeBody(Buffer.from("x", "utf8"), "text/html")).toEqual({ text: "x", encoding: "utf-8" });
	});

	it("uses the Content-Type charset", () => {
		expect(decodeBody(hex("63616fe9"), "text/html; charset=ISO-8859-1")).toEqual({ text: "ca\u006f\u00e9", encoding: "windows-1252" });
		expect(decodeBody(hex("cff0e8e2e5f2"), 'text/html; charset="windows-1251"')).toEqual({ text: "\u041f\u0440\u0438\u0432\u0435\u0442", encoding: "windows-1251" });
		expect(decodeBody(hex("93fa967b"), "text/plain;charset=Shift_JIS")).toEqual({ text: "\u65e5\u672c", encoding: "shift_jis" });
		expect(decodeBody(hex("80"), "text/html; charset=cp1252")).toEqual({ text: "\u20ac", encoding: "windows-1252" });
	});

	it("lets the Content-Type charset win over a <meta> declaration", () => {
		const body = join('<meta charset="shift_jis">', hex("e9"));
		expect(decodeBody(body, "text/html; charset=iso-8859-1")).toEqual({ text: '<meta charset="shift_jis">\u00e9', encoding: "windows-1252" });
	});

	it("reads <meta charset>", () => {
		const body = join('<html><head><meta charset="shift_jis"></head><body>', hex("93fa967b"), "</body></html>");
		expect(decodeBody(body, "text/html")).toEqual({ text: '<html><head><meta charset="shift_jis"></head><body>\u65e5\u672c</body></html>', encoding: "shift_jis" });
	});

	it("reads <meta http-equiv=Content-Type content=...charset=...>, attributes in any order", () => {
		const a = join('<meta http-equiv="Content-Type" content="text/html; charset=gbk">', hex("d6d0cec4"));
		expect(decodeBody(a, undefined)).toEqual({ text: '<meta http-equiv="Content-Type" content="text/html; charset=gbk">\u4e2d\u6587', encoding: "gbk" });
		const b = join("<META CONTENT='text/html;charset=EUC-KR' HTTP-EQUIV='content-type'>", hex("c7d1b1b9"));
		expect(decodeBody(b, "text/html")).toEqual({ text: "<META CONTENT='text/html;charset=EUC-KR' HTTP-EQUIV='content-type'>\ud55c\uad6d", encoding: "euc-kr" });
	});

	it("reads an XML declaration's encoding", () => {
		const body = join('<?xml version="1.0" encoding="ISO-8859-1"?><r>', hex("e9"), "</r>");
		expect(decodeBody(body, "application/xml")).toEqual({ text: '<?xml version="1.0" encoding="ISO-8859-1"?><r>\u00e9</r>', encoding: "windows-1252" });
	});

	it("ignores a <meta> declaration beyond the first 2048 bytes", () => {
		const body = join("<!--", "x".repeat(2100), '--><meta charset="windows-1252">', hex("e9"));
		const { text, encoding } = decodeBody(body, undefined);
		expect(encoding).toBe("utf-8");
		expect(text.endsWith("\ufffd")).toBe(true);
	});

	it("reads a declared UTF-16 without a BOM as UTF-8 (as browsers do)", () => {
		expect(decodeBody(Buffer.from('<meta charset="utf-16">\u00e9', "utf8"), undefined)).toEqual({ text: '<meta charset="utf-16">\u00e9', encoding: "utf-8" });
	});

	it("lets a byte-order mark win and strips it", () => {
		expect(decodeBody(join(hex("efbbbf"), Buffer.from("\u00e9", "utf8")), "text/html; charset=iso-8859-1")).toEqual({ text: "\u00e9", encoding: "utf-8" });
		expect(decodeBody(join(hex("fffe"), Buffer.from("h\u00e9", "utf16le")), undefined)).toEqual({ text: "h\u00e9", encoding: "utf-16le" });
		expect(decodeBody(hex("feff006800e9"), undefined)).toEqual({ text: "h\u00e9", encoding: "utf-16be" });
	});

	it("skips unknown or unsupported labels", () => {
		expect(decodeBody(Buffer.from("\u00e9", "utf8"), "text/html; charset=bogus-42")).toEqual({ text: "\u00e9", encoding: "utf-8" });
		expect(decodeBody(join('<meta charset="windows-1252">', hex("e9")), "text/html; charset=bogus")).toEqual({ text: '<meta charset="windows-1252">\u00e9', encoding: "windows-1252" });
		expect(decodeBody(Buffer.from("\u00e9", "utf8"), "text/html; charset=iso-2022-kr")).toEqual({ text: "\u00e9", encoding: "utf-8" });
		expect(decodeBody(Buffer.from('<meta charset="nonsense">ok', "utf8"), undefined)).toEqual({ text: '<meta charset="nonsense">ok', encoding: "utf-8" });
	});

	it("replaces invalid bytes instead of throwing", () => {
		expect(decodeBody(hex("61ff62c3"), "text/html; charset=utf-8")).toEqual({ text: "a\ufffdb\ufffd", encoding: "utf-8" });
		expect(decodeBody(Buffer.alloc(0), undefined)).toEqual({ text: "", encoding: "utf-8" });
	});
});

describe("extractLinks", () => {
	const PAGE = "http://ex.com/dir/page.html";

	it("extracts a and area hrefs in document order, resolved against the page URL", () => {
		const html = '<a href="one.html">One</a><map><area href="/two" alt="t"></map><a href="http://other.org/3">Three</a><a name="x">no href</a><link href="/style">';
		expect(extractLinks(html, PAGE)).toEqual([
			{ url: "http://ex.com/dir/one.html", text: "One" },
			{ url: "http://ex.com/two", text: "" },
			{ url: "http://other.org/3", text: "Three" }
		]);
	});

	it("resolves against <base href>, itself resolved against the page URL", () => {
		expect(extractLinks('<head><base href="/sub/"></head><a href="a.html">A</a><a href="../b">B</a>', PAGE)).toEqual([
			{ url: "http://ex.com/sub/a.html", text: "A" },
			{ url: "http://ex.com/b", text: "B" }
		]);
		expect(extractLinks('<base href="https://cdn.example.net/x/"><a href="y">Y</a>', PAGE)).toEqual([{ url: "https://cdn.example.net/x/y", text: "Y" }]);
	});

	it("uses only the first <base href>", () => {
		expect(extractLinks('<base href="http://one.com/"><base href="http://two.com/"><a href="a">A</a>', PAGE)).toEqual([{ url: "http://one.com/a", text: "A" }]);
	});

	it("ignores an invalid or non-http <base href>", () => {
		expect(extractLinks('<base href="http://[bad"><a href="a">A</a>', PAGE)).toEqual([{ url: "http://ex.com/dir/a", text: "A" }]);
		expect(extractLinks('<base href="javascript:alert(1)"><a href="a">A</a>', PAGE)).toEqual([{ url: "http://ex.com/dir/a", text: "A" }]);
	});

	it("survives <base href=\"::bad\"> (a relative path, as browsers read it)", () => {
		expect(extractLinks('<base href="::bad"><a href="http://x.com/">X</a><a href="y">Y</a>', PAGE)).toEqual([
			{ url: "http://x.com/", text: "X" },
			{ url: "http://ex.com/dir/y", text: "Y" }
		]);
	});

	it("strips whitespace around and newlines/tabs inside hrefs", () => {
		expect(extractLinks('<a href="  \n /a/\nb\t.html?x=1\r\n ">A</a>', PAGE)).toEqual([{ url: "http://ex.com/a/b.html?x=1", text: "A" }]);
	});

	it("percent-encodes spaces and non-ASCII characters inside hrefs", () => {
		expect(extractLinks('<a href="/a b/caf\u00e9">A</a>', PAGE)).toEqual([{ url: "http://ex.com/a%20b/caf%C3%A9", text: "A" }]);
	});

	it("decodes entities in hrefs", () => {
		expect(extractLinks('<a href="/q?a=1&amp;b=2">Q</a>', PAGE)).toEqual([{ url: "http://ex.com/q?a=1&b=2", text: "Q" }]);
	});

	it("drops non-http(s) schemes", () => {
		const html = ["javascript:void(0)", "JavaScript:go()", "mailto:a@b.c", "tel:+123", "data:text/html,hi", "ftp://ex.com/f", "file:///etc/passwd", "about:blank"]
			.map(h => `<a href="${h}">x</a>`)
			.join("");
		expect(extractLinks(html + '<a href="https://ok.com/">ok</a>', PAGE)).toEqual([{ url: "https://ok.com/", text: "ok" }]);
	});

	it("removes fragments and keeps same-page links, like Scrapy", () => {
		expect(extractLinks('<a href="#top">Top</a><a href="other.html#s2">Other</a>', PAGE)).toEqual([
			{ url: PAGE, text: "Top" },
			{ url: "http://ex.com/dir/other.html", text: "Other" }
		]);
		expect(extractLinks('<a href="">Self</a>', PAGE)).toEqual([{ url: PAGE, text: "Self" }]);
	});

	it("de-duplicates by canonical URL, keeping the first occurrence", () => {
		const html = '<a href="/a?x=1&y=2">first</a><a href="/a?y=2&x=1#frag">second</a><a href="HTTP://EX.COM:80/a?x=1&amp;y=2">third</a><a href="/%61?x=1&y=2">fourth</a><a href="/a?x=1">other</a>';
		expect(extractLinks(html, PAGE)).toEqual([
			{ url: "http://ex.com/a?x=1&y=2", text: "first" },
			{ url: "http://ex.com/a?x=1", text: "other" }
		]);
	});

	it("collapses whitespace in the anchor text, nested elements included", () => {
		expect(extractLinks('<a href="/x">\n  Hello <b>big</b>\n\t world&nbsp;!  </a>', PAGE)).toEqual([{ url: "http://ex.com/x", text: "Hello big world !" }]);
		expect(extractLinks('<a href="/y"><img src="i.png" alt="pic"></a>', PAGE)).toEqual([{ url: "http://ex.com/y", text: "" }]);
	});

	it("returns at most maxLinks links", () => {
		const html = Array.from({ length: 20 }, (_, i) => `<a href="/p${i}">${i}</a>`).join("");
		expect(extractLinks(html, PAGE, 3).map(l => l.text)).toEqual(["0", "1", "2"]);
		expect(extractLinks(html, PAGE, 0)).toEqual([]);
		expect(extractLinks(html, PAGE, -1)).toEqual([]);
		expect(extractLinks(html, PAGE)).toHaveLength(20);
	});

	it(`returns at most ${DEFAULT_MAX_LINKS} links by default`, () => {
		const html = Array.from({ length: DEFAULT_MAX_LINKS + 5 }, (_, i) => `<a href="/p${i}">x</a>`).join("");
		const links = extractLinks(html, PAGE);
		expect(links).toHaveLength(DEFAULT_MAX_LINKS);
		expect(links[DEFAULT_MAX_LINKS - 1]?.url).toBe(`http://ex.com/p${DEFAULT_MAX_LINKS - 1}`);
	});

	it("counts the limit after de-duplication", () => {
		expect(extractLinks('<a href="/a">1</a><a href="/a">2</a><a href="/b">3</a>', PAGE, 2)).toEqual([
			{ url: "http://ex.com/a", text: "1" },
			{ url: "http://ex.com/b", text: "3" }
		]);
	});

	it("recovers links from malformed HTML", () => {
		expect(extractLinks('<div><a href="/one">One<p><a href="/two">Two</div></span><a href="/three">Three', PAGE).map(l => l.url)).toEqual([
			"http://ex.com/one",
			"http://ex.com/two",
			"http://ex.com/three"
		]);
		expect(extractLinks('<a href="/x" <a href="/y">Y</a>', PAGE)).toEqual(expect.any(Array));
		expect(extractLinks('<a href="/unterminated', PAGE)).toEqual(expect.any(Array));
	});

	it("applies a <base href> that comes after the links, ends an anchor at the next one, and skips script text", () => {
		const html =
			'<a href="a1">one <a href="a2">two</a> tail</a>' +
			'<script>document.write(\'<a href="/fromscript">x</a>\')</script><style>a[href="/css"]{}</style>' +
			'<base href="http://other.org/dir/">';
		expect(extractLinks(html, PAGE)).toEqual([
			{ url: "http://other.org/dir/a1", text: "one" },
			{ url: "http://other.org/dir/a2", text: "two" }
		]);
	});

	it("does not throw on garbage input", () => {
		const garbage = String.fromCharCode(...Array.from({ length: 5000 }, (_, i) => (i * 7919) % 65536)).replaceAll("\ud800", "");
		expect(() => extractLinks(garbage, PAGE)).not.toThrow();
		// The HTML parser drops NUL characters in text, as browsers do.
		expect(extractLinks("\u0000\u0001<a href=\"/ok\">\u0000ok</a>\ufffd", PAGE)).toEqual([{ url: "http://ex.com/ok", text: "ok" }]);
		expect(extractLinks("", PAGE)).toEqual([]);
	});

	it("skips hrefs longer than MAX_HREF_LENGTH and survives huge attributes", () => {
		const long = "/" + "a".repeat(MAX_HREF_LENGTH);
		const html = `<a href="${long}">long</a><a href="/short" title="${"t".repeat(1_000_000)}">short</a>`;
		expect(extractLinks(html, PAGE)).toEqual([{ url: "http://ex.com/short", text: "short" }]);
	});

	it("keeps absolute links when the page URL is not valid", () => {
		expect(extractLinks('<a href="relative">R</a><a href="https://abs.com/x">A</a>', "not a url")).toEqual([{ url: "https://abs.com/x", text: "A" }]);
	});
});
