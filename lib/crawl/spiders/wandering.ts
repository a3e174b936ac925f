/**
 * The `wandering` spider: follows one random link per page, ignoring maxdepth, and counts its steps in
 * `attrs.step`. It stops on a page without links (or when the chosen link was already crawled).
 */
import { type Spider } from "./spider.ts";

export const wanderingSpider: Spider = {
	name: "wandering",
	parse(page, tools) {
		const step = typeof page.request.step === "number" ? page.request.step : 1;
		const attrs = { ...(page.request.attrs ?? {}), step };
		if (page.html === null) return { links: [], requests: [], attrs };
		const links = tools.links();
		if (!links.length) return { links: [], requests: [], attrs };
		const chosen = links[Math.floor(tools.random() * links.length)]!;
		return { links: [], requests: [{ ...page.request, url: chosen.url, step: step + 1, retry_times: 0 }], attrs };
	}
};
