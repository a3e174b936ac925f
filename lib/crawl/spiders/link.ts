/** The `link` spider: follows every allowed link until the request's maxdepth. */
import { childRequest, type Spider } from "./spider.ts";

export const linkSpider: Spider = {
	name: "link",
	parse(page, tools) {
		const depth = page.request.curdepth ?? 0;
		if (page.html === null || depth >= page.request.maxdepth) return { links: [], requests: [] };
		const links = tools.links();
		return { links, requests: links.map(link => childRequest(page.request, link.url)) };
	}
};
