/**
 * The request kinds of the Kafka API, the Kafka Monitor plugins of the original. Add a kind by writing one
 * module like lib/requests/kinds/crawl.ts (schema + rank + refuse + handle) and listing it here; the
 * PLUGINS setting can re-rank ({"StatsHandler": 50}) or disable ({"ZookeeperHandler": null}) kinds.
 */
import type { RequestKind } from "../lib/requests/kind.ts";
import { actionKind } from "../lib/requests/kinds/action.ts";
import { crawlKind } from "../lib/requests/kinds/crawl.ts";
import { statsKind } from "../lib/requests/kinds/stats.ts";
import { zookeeperKind } from "../lib/requests/kinds/zookeeper.ts";

export const REQUEST_KINDS = [crawlKind, actionKind, statsKind, zookeeperKind] as unknown as RequestKind[];
