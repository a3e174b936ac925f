#!/usr/bin/env bash
# npm start: install what is missing, bring up the local data stack (unless REDIS_HOST, KAFKA_HOSTS and
# ZOOKEEPER_HOSTS point elsewhere), then run every service of the cluster in one Moleculer node.
# Extra arguments go to bin/node.ts (--repl / --no-repl).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/ensure-deps.sh
bash scripts/infra.sh up
exec node_modules/.bin/node bin/node.ts "$@"
