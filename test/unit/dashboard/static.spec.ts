import { readFileSync } from "node:fs";
import { DASHBOARD_FILES, DASHBOARD_HEADERS, dashboardFile } from "../../../lib/dashboard/static.ts";

describe("dashboard page files", () => {
	it("serves the listed files and nothing else", () => {
		expect(dashboardFile("")!.type).toMatch(/^text\/html/);
		expect(dashboardFile("dashboard.js")!.body.toString()).toContain("/dashboard/api/state");
		expect(dashboardFile("dashboard.css")!.type).toMatch(/^text\/css/);
		for (const name of ["../package.json", "index.html", "dashboard.js/../../package.json", "constructor", "__proto__"]) expect(dashboardFile(name)).toBeNull();
	});

	it("loads only its own files: no inline script or style, no other origin (the CSP forbids them)", () => {
		const html = readFileSync("public/dashboard/index.html", "utf8");
		expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
		expect(html).not.toMatch(/\son[a-z]+=/i);
		expect(html).not.toMatch(/style=/);
		expect(html).not.toMatch(/https?:\/\//);
		for (const ref of html.matchAll(/(?:src|href)="\/dashboard\/([^"]+)"/g)) expect(Object.keys(DASHBOARD_FILES)).toContain(ref[1]);
		expect(DASHBOARD_HEADERS["Content-Security-Policy"]).toMatch(/default-src 'none'; script-src 'self'/);
	});

	it("never turns cluster strings into HTML: the script builds text nodes only", () => {
		const js = readFileSync("public/dashboard/dashboard.js", "utf8");
		expect(js).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function/);
	});
});
