/** The spider types a crawler node can run (SPIDERS setting picks among them). */
import { linkSpider } from "./link.ts";
import type { Spider } from "./spider.ts";
import { wanderingSpider } from "./wandering.ts";

export const SPIDERS: ReadonlyMap<string, Spider> = new Map([linkSpider, wanderingSpider].map(s => [s.name, s]));
