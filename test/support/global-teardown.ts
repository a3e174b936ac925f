import { spawnSync } from "node:child_process";
import { resolve } from "node:path";

export default function globalTeardown(): void {
	if (process.env.SC_TEST_INFRA_STARTED !== "1" || process.env.KEEP_INFRA === "1") return;
	spawnSync("bash", [resolve(__dirname, "../../scripts/infra.sh"), "down"], { stdio: ["ignore", "inherit", "inherit"] });
}
