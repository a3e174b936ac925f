#!/usr/bin/env bash
# A local Redis Cluster for development and tests: three masters (no replicas) on loopback, all
# state under <dir>. Used by the Redis Cluster integration test and by anyone trying REDIS_CLUSTER=true.
#
#   scripts/redis-cluster.sh up       start the three servers and create the cluster (idempotent)
#   scripts/redis-cluster.sh down     stop them (their data stays; --clean deletes it)
#   scripts/redis-cluster.sh status   exit 0 when the cluster answers with state ok
#
# Knobs: REDIS_CLUSTER_PORTS (default "7000 7001 7002", three or more), REDIS_CLUSTER_DIR
# (default <root>/.infra/redis-cluster), REDIS_CLUSTER_TIMEOUT (default 20 s).
# Nodes then use: REDIS_CLUSTER=true REDIS_HOST=127.0.0.1 REDIS_PORT=<first port>.
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname -- "$SCRIPT_DIR")
read -r -a PORTS <<<"${REDIS_CLUSTER_PORTS:-7000 7001 7002}"
DIR=${REDIS_CLUSTER_DIR:-$ROOT/.infra/redis-cluster}
TIMEOUT=${REDIS_CLUSTER_TIMEOUT:-20}

say() { printf 'redis-cluster: %s\n' "$*"; }
err() { printf 'redis-cluster: error: %s\n' "$*" >&2; }

if ((${#PORTS[@]} < 3)); then err "REDIS_CLUSTER_PORTS needs three ports or more (got '${PORTS[*]}')"; exit 2; fi
for p in "${PORTS[@]}"; do
  if ! [[ $p =~ ^[0-9]+$ ]] || ((p < 1 || p > 55535)); then
    err "bad port '$p' in REDIS_CLUSTER_PORTS (each port + 10000 is the cluster bus, so at most 55535)"; exit 2
  fi
done

need_redis() {
  command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1 && return 0
  bash "$SCRIPT_DIR/infra.sh" install >/dev/null || { err "redis-server is missing and scripts/infra.sh install failed"; exit 1; }
}

cli() { redis-cli -h 127.0.0.1 -p "$1" "${@:2}"; }
answers() { [[ $(cli "$1" ping 2>/dev/null) == PONG ]]; }
cluster_ok() { cli "${PORTS[0]}" cluster info 2>/dev/null | tr -d '\r' | grep -qx 'cluster_state:ok'; }

wait_for() { # wait_for DESCRIPTION COMMAND..
  local what=$1 deadline=$((SECONDS + TIMEOUT)); shift
  until "$@"; do
    if ((SECONDS >= deadline)); then err "$what did not happen within ${TIMEOUT}s (REDIS_CLUSTER_TIMEOUT); logs in $DIR"; return 1; fi
    sleep 0.1
  done
}

up() {
  need_redis
  mkdir -p -- "$DIR"
  local p
  for p in "${PORTS[@]}"; do
    answers "$p" && continue
    mkdir -p -- "$DIR/$p"
    redis-server --port "$p" --bind 127.0.0.1 --cluster-enabled yes --cluster-config-file "$DIR/$p/nodes.conf" \
      --cluster-node-timeout 5000 --dir "$DIR/$p" --appendonly no --save "" --daemonize yes \
      --pidfile "$DIR/$p/redis.pid" --logfile "$DIR/$p/redis.log"
    wait_for "Redis on port $p answering" answers "$p"
  done
  if ! cluster_ok; then
    local known
    known=$(cli "${PORTS[0]}" cluster info | tr -d '\r' | sed -n 's/^cluster_known_nodes://p')
    if [[ $known == 1 ]]; then
      local addrs=()
      for p in "${PORTS[@]}"; do addrs+=("127.0.0.1:$p"); done
      redis-cli --cluster create "${addrs[@]}" --cluster-replicas 0 --cluster-yes >"$DIR/create.log" 2>&1 \
        || { err "redis-cli --cluster create failed; see $DIR/create.log"; tail -n 5 "$DIR/create.log" >&2; return 1; }
    fi
    wait_for "cluster state ok" cluster_ok
  fi
  say "up: ${#PORTS[@]} masters on 127.0.0.1:${PORTS[*]// /,} (REDIS_CLUSTER=true REDIS_HOST=127.0.0.1 REDIS_PORT=${PORTS[0]})"
}

down() {
  local p pid
  for p in "${PORTS[@]}"; do
    [[ -f $DIR/$p/redis.pid ]] || continue
    pid=$(<"$DIR/$p/redis.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    rm -f -- "$DIR/$p/redis.pid"
  done
  [[ ${1:-} == --clean ]] && rm -rf -- "$DIR"
  say "down"
}

case ${1:-} in
  up) up ;;
  down) down "${2:-}" ;;
  status) if cluster_ok; then say "ok on ${PORTS[*]}"; else say "not running"; exit 1; fi ;;
  *) err "usage: scripts/redis-cluster.sh up|down [--clean]|status"; exit 2 ;;
esac
