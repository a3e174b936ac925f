#!/usr/bin/env bash
# Local data stack for development and tests: Redis, ZooKeeper and a single-node
# Kafka broker (KRaft), all on loopback, all state under <root>/.infra/.
#
#   scripts/infra.sh install                install what is missing (Debian packages, Kafka jars)
#   scripts/infra.sh up [C..]               install, then start what is not running, wait until it answers
#   scripts/infra.sh down [--clean] [C..]   stop what `up` started (--clean also deletes its data)
#   scripts/infra.sh reset                  same as `down --clean`
#   scripts/infra.sh status [C..]           one line per component; exit 0 only if all answer
#   scripts/infra.sh env                    the effective settings, KEY=VALUE lines
# C: components to act on, any of redis, zookeeper, kafka (default: all three); e.g. `down kafka`
# stops only the broker and `up kafka` starts it again on its data (Redis saves its RDB when stopped).
#
# Settings (environment, Scrapy Cluster names and defaults):
#   REDIS_HOST=localhost REDIS_PORT=6379 ZOOKEEPER_HOSTS=localhost:2181 KAFKA_HOSTS=localhost:9092
#   (for the *_HOSTS lists only the first host:port counts). A host that is not local
#   (localhost, 127.x, ::1) is left alone: nothing is started for it.
# Knobs: INFRA_DIR (default <root>/.infra), KAFKA_CONTROLLER_PORT (default Kafka port + 1),
#   KAFKA_LIB_DIR (Kafka jars; default $INFRA_DIR/kafka/lib, so a second stack in another INFRA_DIR
#   can share the jars of the first),
#   KAFKA_HEAP_OPTS (default -Xms256m -Xmx512m), ZOOKEEPER_HEAP_OPTS (default -Xmx256m),
#   INFRA_TIMEOUT (20 s per component), INFRA_KAFKA_TIMEOUT (60 s), INFRA_STOP_TIMEOUT (20 s).
# shellcheck disable=SC2016,SC2034  # single-quoted bash -c bodies on purpose; H_*/P_* are read via namerefs
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname -- "$SCRIPT_DIR")
INFRA_DIR=${INFRA_DIR:-$ROOT/.infra}
mkdir -p -- "$INFRA_DIR"
INFRA_DIR=$(cd -- "$INFRA_DIR" && pwd)
RUN=$INFRA_DIR/run LOGS=$INFRA_DIR/logs DATA=$INFRA_DIR/data CONF=$INFRA_DIR/conf
KAFKA_LIB=${KAFKA_LIB_DIR:-$INFRA_DIR/kafka/lib}
KAFKA_POM=$SCRIPT_DIR/kafka/pom.xml
KAFKA_LOG4J=$SCRIPT_DIR/kafka/log4j2.properties
ZK_JAR=/usr/share/java/zookeeper.jar

TIMEOUT=${INFRA_TIMEOUT:-20}
KAFKA_TIMEOUT=${INFRA_KAFKA_TIMEOUT:-60}
STOP_TIMEOUT=${INFRA_STOP_TIMEOUT:-20}

say() { printf 'infra: %s\n' "$*"; }
err() { printf 'infra: error: %s\n' "$*" >&2; }
rel() { case $1 in "$ROOT"/*) printf '%s' "${1#"$ROOT"/}" ;; *) printf '%s' "$1" ;; esac; }
now() { printf '%s' "${EPOCHREALTIME/,/.}"; }
usec() { local t=${EPOCHREALTIME/[.,]/}; printf '%s' "$((10#$t))"; }  # wall clock in microseconds
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }

# ---------------------------------------------------------------- settings
# first entry of a host list -> "host port"; accepts scheme://, [v6]:port, host (default port)
first_hostport() {
  local v=${1%%,*} def=$2 h p
  v=${v#*://}; v=${v%%/*}; v=${v// /}
  if [[ $v == \[*\]* ]]; then h=${v%%]*}; h=${h#[}; p=${v#*]}; p=${p#:}
  elif [[ $v == *:*:* ]]; then h=$v; p=""            # bare IPv6, no port
  elif [[ $v == *:* ]]; then h=${v%:*}; p=${v##*:}
  else h=$v; p=""; fi
  printf '%s %s' "${h:-localhost}" "${p:-$def}"
}

load_settings() {
  REDIS_HOST_V=${REDIS_HOST:-localhost}
  REDIS_PORT_V=${REDIS_PORT:-6379}
  ZOOKEEPER_HOSTS_V=${ZOOKEEPER_HOSTS:-localhost:2181}
  KAFKA_HOSTS_V=${KAFKA_HOSTS:-localhost:9092}
  local hp
  H_redis=$REDIS_HOST_V; P_redis=$REDIS_PORT_V
  hp=$(first_hostport "$ZOOKEEPER_HOSTS_V" 2181); H_zookeeper=${hp% *}; P_zookeeper=${hp##* }
  hp=$(first_hostport "$KAFKA_HOSTS_V" 9092); H_kafka=${hp% *}; P_kafka=${hp##* }
  SET_redis="REDIS_HOST/REDIS_PORT=$H_redis:$P_redis"
  SET_zookeeper="ZOOKEEPER_HOSTS=$ZOOKEEPER_HOSTS_V"
  SET_kafka="KAFKA_HOSTS=$KAFKA_HOSTS_V"
  local c
  for c in redis zookeeper kafka; do
    local -n port=P_$c
    if ! [[ $port =~ ^[0-9]+$ ]] || (( port < 1 || port > 65535 )); then
      local -n s=SET_$c; err "$c: bad port '$port' in $s"; exit 2
    fi
  done
  CPORT_kafka=${KAFKA_CONTROLLER_PORT:-$((P_kafka + 1))}
  if ! [[ $CPORT_kafka =~ ^[0-9]+$ ]] || (( CPORT_kafka < 1 || CPORT_kafka > 65535 )); then
    err "kafka: bad controller port '$CPORT_kafka' (KAFKA_CONTROLLER_PORT, default Kafka port + 1)"; exit 2
  fi
  # two local servers cannot share a port
  local -A seen=()
  for c in redis zookeeper kafka kafka-controller; do
    local h p
    if [[ $c == kafka-controller ]]; then h=$H_kafka p=$CPORT_kafka; else local -n hh=H_$c pp=P_$c; h=$hh p=$pp; fi
    is_local "$h" || continue
    if [[ -n ${seen[$p]:-} ]]; then
      err "$c and ${seen[$p]} both want port $p; change $SET_redis / $SET_zookeeper / $SET_kafka (controller: KAFKA_CONTROLLER_PORT=$CPORT_kafka)"
      exit 2
    fi
    seen[$p]=$c
  done
}

ALL_COMPONENTS=(kafka zookeeper redis)
# parse_components ARGS..: sets COMPONENTS (default all three) and CLEAN (--clean seen, where allowed)
parse_components() {
  local allow_clean=$1 a; shift
  COMPONENTS=() CLEAN=0
  for a in "$@"; do
    case $a in
      redis|zookeeper|kafka) [[ " ${COMPONENTS[*]} " == *" $a "* ]] || COMPONENTS+=("$a") ;;
      --clean) if ((allow_clean)); then CLEAN=1; else err "unknown option '$a'"; exit 2; fi ;;
      *) err "unknown argument '$a' (components: redis, zookeeper, kafka)"; exit 2 ;;
    esac
  done
  ((${#COMPONENTS[@]})) || COMPONENTS=("${ALL_COMPONENTS[@]}")
}
# wanted NAME: NAME is among the selected COMPONENTS
wanted() { [[ " ${COMPONENTS[*]} " == *" $1 "* ]]; }

is_local() {
  case $1 in
    localhost|localhost.localdomain|ip6-localhost|::1|0:0:0:0:0:0:0:1|127.*) return 0 ;;
    *) return 1 ;;
  esac
}
# address we bind to and probe: the host itself if it is a 127.x address, else 127.0.0.1
bind_addr() { case $1 in 127.*) printf '%s' "$1" ;; *) printf '127.0.0.1' ;; esac; }

# ---------------------------------------------------------------- probes
tcp_open() { timeout 1 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$1" "$2" 2>/dev/null; }

probe_redis() {
  timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1" && printf "PING\r\n" >&3 && IFS= read -r l <&3 && [[ $l == "+PONG"* ]]' \
    "$1" "$2" 2>/dev/null
}
probe_zookeeper() {
  local r
  r=$(timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1" && printf ruok >&3 && cat <&3' "$1" "$2" 2>/dev/null) || true
  [[ $r == imok ]]
}
# A real metadata round trip; the broker is listed only once it is registered and unfenced.
probe_kafka() {
  tcp_open "$1" "$2" || return 1
  command -v kcat >/dev/null 2>&1 || return 0
  timeout 5 kcat -b "$1:$2" -L -m 3 2>/dev/null | grep -q ' broker [0-9]* at '
}

# ---------------------------------------------------------------- pid files
pidfile() { printf '%s/%s.pid' "$RUN" "$1"; }
addrfile() { printf '%s/%s.addr' "$RUN" "$1"; }   # addr:port the server was started on
our_addr() { cat -- "$(addrfile "$1")" 2>/dev/null || true; }
# alive = exists and is not a zombie (an exited server can stay a zombie for a while if
# the reaper of orphans, pid 1, is slow; in this sandbox it takes up to ~2 s)
alive() {
  local st
  kill -0 "$1" 2>/dev/null || return 1
  st=$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null) || return 1
  [[ $st != Z ]]
}
# marker that must appear in /proc/PID/cmdline, so a recycled pid is not taken for ours
cmd_marker() {
  case $1 in redis) printf 'redis-server' ;; zookeeper) printf 'ZooKeeperServerMain' ;; kafka) printf 'kafka.Kafka' ;; esac
}
# prints our pid if the pid file names a live process of that kind; removes a stale pid file
our_pid() {
  local f pid; f=$(pidfile "$1")
  [[ -f $f ]] || return 1
  pid=$(<"$f"); pid=${pid//[!0-9]/}
  if [[ -n $pid ]] && alive "$pid" \
     && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$(cmd_marker "$1")"; then
    printf '%s' "$pid"; return 0
  fi
  rm -f -- "$f" "$(addrfile "$1")"; return 1
}

# ---------------------------------------------------------------- install
as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then
    if [[ -t 0 ]]; then sudo "$@"; else sudo -n "$@"; fi
  else
    err "need root to run: $*  (not root and no sudo; install those packages by hand)"; return 1
  fi
}

install_debs() {
  local need=()
  command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
  [[ -f $ZK_JAR ]] || need+=(zookeeper)
  command -v kcat >/dev/null 2>&1 || need+=(kcat)
  command -v java >/dev/null 2>&1 || need+=(openjdk-17-jre-headless)
  command -v mvn >/dev/null 2>&1 || need+=(maven)
  ((${#need[@]})) || return 0
  local t0 log=$LOGS/install.log; t0=$(now)
  say "installing Debian packages: ${need[*]} (log: $(rel "$log"))"
  if ! { as_root apt-get update -q && as_root env DEBIAN_FRONTEND=noninteractive \
         apt-get install -y -q -o Dpkg::Use-Pty=0 "${need[@]}"; } </dev/null >>"$log" 2>&1; then
    err "apt-get install ${need[*]} failed; see $(rel "$log")"; tail -n 5 "$log" >&2; return 1
  fi
  say "installed ${need[*]} in $(since "$t0")"
}

kafka_version() { sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$KAFKA_POM" | head -n 1; }
kafka_stamp() { printf 'kafka %s pom %s\n' "$(kafka_version)" "$(sha256sum <"$KAFKA_POM" | cut -c1-16)"; }

install_kafka() {
  local stamp; stamp=$(kafka_stamp)
  if [[ -f $KAFKA_LIB/.installed && $(<"$KAFKA_LIB/.installed") == "$stamp" ]]; then return 0; fi
  local t0 log=$LOGS/install.log tmp=$KAFKA_LIB.tmp; t0=$(now)
  say "fetching Kafka $(kafka_version) jars with mvn into $(rel "$KAFKA_LIB") (log: $(rel "$log"))"
  rm -rf -- "$tmp"
  if ! mvn -B -q -Dstyle.color=never -f "$KAFKA_POM" dependency:copy-dependencies \
        -DoutputDirectory="$tmp" </dev/null >>"$log" 2>&1; then
    err "mvn could not fetch Kafka (scripts/kafka/pom.xml); see $(rel "$log")"; tail -n 5 "$log" >&2; return 1
  fi
  mkdir -p -- "$(dirname -- "$KAFKA_LIB")"
  rm -rf -- "$KAFKA_LIB"; mv -- "$tmp" "$KAFKA_LIB"
  printf '%s\n' "$stamp" >"$KAFKA_LIB/.installed"
  say "Kafka $(kafka_version) ready ($(find "$KAFKA_LIB" -name '*.jar' | wc -l) jars) in $(since "$t0")"
}

cmd_install() {
  mkdir -p -- "$LOGS"
  install_debs
  install_kafka
}

# ---------------------------------------------------------------- start
# launch NAME CMD...: detached (own session, no stdin, output to its log), pid file written by the child
launch() {
  local name=$1 where=$2; shift 2
  local f; f=$(pidfile "$name")
  rm -f -- "$f"
  printf '%s\n' "$where" >"$(addrfile "$name")"
  # 9>&-: the server must not inherit the lock fd (see lock), or it holds the lock forever
  setsid -f bash -c 'echo $$ >"$0"; exec "$@"' "$f" "$@" </dev/null >>"$LOGS/$name.log" 2>&1 9>&-
  local i
  for ((i = 0; i < 100; i++)); do [[ -s $f ]] && return 0; sleep 0.02; done
  err "$name: did not start; see $(rel "$LOGS/$name.log")"; return 1
}

start_redis() {
  local addr=$1 port=$2 bind
  mkdir -p -- "$DATA/redis"
  bind=$addr; [[ $addr == 127.0.0.1 ]] && bind="127.0.0.1 -::1"
  # shellcheck disable=SC2086
  launch redis "$addr:$port" redis-server --port "$port" --bind $bind --protected-mode yes --daemonize no \
    --dir "$DATA/redis" --dbfilename dump.rdb --save "3600 1 300 100 60 10000" --appendonly no \
    --logfile "$LOGS/redis.log"
}

start_zookeeper() {
  local addr=$1 port=$2 cfg=$CONF/zoo.cfg
  mkdir -p -- "$DATA/zookeeper" "$CONF"
  cat >"$cfg" <<EOF
# generated by scripts/infra.sh
tickTime=2000
initLimit=10
syncLimit=5
dataDir=$DATA/zookeeper
clientPort=$port
clientPortAddress=$addr
maxClientCnxns=0
admin.enableServer=false
4lw.commands.whitelist=ruok,srvr,stat,mntr
autopurge.snapRetainCount=3
autopurge.purgeInterval=24
EOF
  local cp=$ZK_JAR
  [[ -f /usr/share/java/slf4j-simple.jar ]] && cp+=:/usr/share/java/slf4j-simple.jar
  # shellcheck disable=SC2086
  launch zookeeper "$addr:$port" java ${ZOOKEEPER_HEAP_OPTS:--Xmx256m} -XX:+UseSerialGC -Djava.awt.headless=true \
    -Dorg.slf4j.simpleLogger.showDateTime=true \
    "-Dorg.slf4j.simpleLogger.dateTimeFormat=yyyy-MM-dd HH:mm:ss,SSS" -Dzookeeper.admin.enableServer=false \
    -cp "$cp" org.apache.zookeeper.server.ZooKeeperServerMain "$cfg"
}

kafka_jvm_opts() {
  # shellcheck disable=SC2206
  JVM_OPTS=(${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m} -XX:+UseG1GC -XX:MaxGCPauseMillis=20
    -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -XX:+ExitOnOutOfMemoryError
    -Djava.awt.headless=true -Dlog4j2.configurationFile="$KAFKA_LOG4J" -Dkafka.logs.dir="$LOGS"
    -cp "$KAFKA_LIB/*")
}

start_kafka() {
  local addr=$1 port=$2 cport=$CPORT_kafka cfg=$CONF/kafka.properties dir=$DATA/kafka
  if tcp_open "$addr" "$cport"; then
    err "kafka: controller port $addr:$cport is taken; set KAFKA_CONTROLLER_PORT to a free port"; return 1
  fi
  mkdir -p -- "$dir" "$CONF"
  cat >"$cfg" <<EOF
# generated by scripts/infra.sh: single node, KRaft combined mode (broker + controller)
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$addr:$cport
listeners=PLAINTEXT://$addr:$port,CONTROLLER://$addr:$cport
advertised.listeners=PLAINTEXT://$addr:$port
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$dir
num.partitions=1
default.replication.factor=1
auto.create.topics.enable=true
delete.topic.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=5
transaction.state.log.num.partitions=5
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=4
log.retention.hours=168
EOF
  local jv
  jv=$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
  if ! [[ $jv =~ ^[0-9]+ ]] || (( ${jv%%.*} < 17 )); then
    err "kafka: Kafka 4.x needs Java 17 or newer; 'java' on PATH is $jv"; return 1
  fi
  local JVM_OPTS; kafka_jvm_opts
  if [[ ! -f $dir/meta.properties ]]; then
    local id t0; t0=$(now)
    # 16 random bytes, URL-safe base64 as Kafka wants; passed as --cluster-id=<id> because an id starting
    # with "-" would otherwise be read as an option (1 start in 64)
    id=$(head -c 16 /dev/urandom | base64 | tr "+/" "-_" | tr -d "=")
    if ! java "${JVM_OPTS[@]}" kafka.tools.StorageTool format --ignore-formatted --cluster-id="$id" -c "$cfg" \
         </dev/null >>"$LOGS/kafka.log" 2>&1; then
      err "kafka: formatting $(rel "$dir") failed; see $(rel "$LOGS/kafka.log")"; return 1
    fi
    say "kafka: formatted $(rel "$dir") (cluster id $id) in $(since "$t0")"
  fi
  launch kafka "$addr:$port" java "${JVM_OPTS[@]}" kafka.Kafka "$cfg"
}

# wait_ready NAME ADDR PORT TIMEOUT T0
wait_ready() {
  local name=$1 addr=$2 port=$3 limit=$4 t0=$5 pid deadline
  deadline=$(( 10#${t0/./} + limit * 1000000 ))
  while :; do
    if ! pid=$(our_pid "$name"); then
      err "$name: exited during start-up; see $(rel "$LOGS/$name.log")"
      tail -n 5 "$LOGS/$name.log" | sed 's/^/  | /' >&2; return 1
    fi
    if "probe_$name" "$addr" "$port"; then
      say "$name started (pid $pid) on $addr:$port in $(since "$t0")"; return 0
    fi
    if (( $(usec) >= deadline )); then
      err "$name: no answer on $addr:$port after ${limit}s (pid $pid still running); see $(rel "$LOGS/$name.log")"
      return 1
    fi
    sleep 0.1
  done
}

lock() {
  mkdir -p -- "$RUN"
  exec 9>"$RUN/lock"
  flock -w 300 9 || { err "another infra.sh is busy ($(rel "$RUN/lock"))"; exit 1; }
}

cmd_up() {
  lock
  cmd_install
  load_settings
  mkdir -p -- "$RUN" "$LOGS" "$DATA" "$CONF"
  local c host port addr pid where rc=0 started=()
  declare -A T0
  # phase 1: decide and launch (Kafka first: it is the slow one); phase 2: wait for the launched ones
  for c in kafka zookeeper redis; do
    wanted "$c" || continue
    local -n hv=H_$c pv=P_$c sv=SET_$c
    host=$hv port=$pv
    if ! is_local "$host"; then say "$c: $sv is not local; not starting it"; continue; fi
    addr=$(bind_addr "$host")
    if pid=$(our_pid "$c"); then
      where=$(our_addr "$c")
      if [[ -n $where && $where != "$addr:$port" ]]; then
        err "$c: already running (pid $pid) on $where, but $sv asks for $addr:$port; run 'scripts/infra.sh down' first"
        rc=1; continue
      fi
      if "probe_$c" "$addr" "$port"; then say "$c: already running (pid $pid) on $addr:$port"; continue; fi
      say "$c: pid $pid is up but $addr:$port does not answer yet; waiting"
      T0[$c]=$(now); started+=("$c"); continue
    fi
    if tcp_open "$addr" "$port"; then
      if "probe_$c" "$addr" "$port"; then
        say "$c: $addr:$port already answers (not started by infra.sh); using it"; continue
      fi
      err "$c: $addr:$port is taken by something that is not a $c server; set $sv to a free port"
      rc=1; continue
    fi
    T0[$c]=$(now)
    if "start_$c" "$addr" "$port"; then started+=("$c"); else rc=1; fi
  done
  for c in redis zookeeper kafka; do
    [[ " ${started[*]} " == *" $c "* ]] || continue
    local -n hv=H_$c pv=P_$c
    local limit=$TIMEOUT; [[ $c == kafka ]] && limit=$KAFKA_TIMEOUT
    wait_ready "$c" "$(bind_addr "$hv")" "$pv" "$limit" "${T0[$c]}" || rc=1
  done
  return "$rc"
}

# ---------------------------------------------------------------- stop
cmd_down() {
  local clean=$CLEAN
  lock
  load_settings
  local c pid pids=() names=() t0; t0=$(now)
  for c in kafka zookeeper redis; do
    wanted "$c" || continue
    if pid=$(our_pid "$c"); then
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid"); names+=("$c")
    else
      local -n hv=H_$c pv=P_$c
      if ! is_local "$hv"; then
        say "$c: not local ($hv); nothing to stop"
      elif tcp_open "$(bind_addr "$hv")" "$pv"; then
        say "$c: $(bind_addr "$hv"):$pv answers but was not started by infra.sh; leaving it"
      else
        say "$c: not running"
      fi
    fi
  done
  # wait for all of them together, each line as soon as that one has exited
  local i j left=${#pids[@]} deadline=$(( ${EPOCHREALTIME%[.,]*} + STOP_TIMEOUT ))
  while ((left)) && (( ${EPOCHREALTIME%[.,]*} < deadline )); do
    for i in "${!pids[@]}"; do
      [[ -n ${pids[$i]} ]] || continue
      if ! alive "${pids[$i]}"; then
        say "${names[$i]} stopped (pid ${pids[$i]}) in $(since "$t0")"
        rm -f -- "$(pidfile "${names[$i]}")" "$(addrfile "${names[$i]}")"; pids[i]=""; left=$((left - 1))
      fi
    done
    if ((left)); then sleep 0.1; fi
  done
  for i in "${!pids[@]}"; do
    [[ -n ${pids[$i]} ]] || continue
    kill -KILL "${pids[$i]}" 2>/dev/null || true
    for ((j = 0; j < 50; j++)); do alive "${pids[$i]}" || break; sleep 0.1; done
    say "${names[$i]}: killed (pid ${pids[$i]}) after ${STOP_TIMEOUT}s without exiting on SIGTERM"
    rm -f -- "$(pidfile "${names[$i]}")" "$(addrfile "${names[$i]}")"
  done
  if ((clean)); then
    if ((${#COMPONENTS[@]} == ${#ALL_COMPONENTS[@]})); then
      rm -rf -- "$DATA" "$CONF"
      say "deleted $(rel "$DATA")"
    else
      for c in "${COMPONENTS[@]}"; do rm -rf -- "${DATA:?}/$c"; say "deleted $(rel "$DATA/$c")"; done
    fi
  fi
}

# ---------------------------------------------------------------- status / env
cmd_status() {
  load_settings
  local c host port addr pid where rc=0
  for c in redis zookeeper kafka; do
    wanted "$c" || continue
    local -n hv=H_$c pv=P_$c sv=SET_$c
    host=$hv port=$pv
    if ! is_local "$host"; then
      if "probe_$c" "$host" "$port"; then say "$c: external ($sv), answers"
      else say "$c: external ($sv), not answering"; rc=1; fi
      continue
    fi
    addr=$(bind_addr "$host")
    if pid=$(our_pid "$c"); then
      where=$(our_addr "$c")
      if [[ -n $where && $where != "$addr:$port" ]]; then
        say "$c: running (pid $pid) on $where, but $sv asks for $addr:$port"; rc=1
      elif "probe_$c" "$addr" "$port"; then say "$c: running (pid $pid) on $addr:$port"
      else say "$c: started (pid $pid) but $addr:$port does not answer; see $(rel "$LOGS/$c.log")"; rc=1; fi
    elif "probe_$c" "$addr" "$port"; then
      say "$c: external on $addr:$port (not started by infra.sh)"
    elif tcp_open "$addr" "$port"; then
      say "$c: $addr:$port is taken by something that is not a $c server ($sv)"; rc=1
    else
      say "$c: stopped ($addr:$port)"; rc=1
    fi
  done
  return "$rc"
}

cmd_env() {
  load_settings
  printf 'REDIS_HOST=%s\nREDIS_PORT=%s\nKAFKA_HOSTS=%s\nZOOKEEPER_HOSTS=%s\n' \
    "$REDIS_HOST_V" "$REDIS_PORT_V" "$KAFKA_HOSTS_V" "$ZOOKEEPER_HOSTS_V"
}

usage() { sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

case ${1:-} in
  install) lock; cmd_install; say "install: all there (Debian packages, Kafka $(kafka_version) in $(rel "$KAFKA_LIB"))" ;;
  up) parse_components 0 "${@:2}"; cmd_up ;;
  down) parse_components 1 "${@:2}"; cmd_down ;;
  reset) parse_components 1 --clean; cmd_down ;;
  status) parse_components 0 "${@:2}"; cmd_status ;;
  env) cmd_env ;;
  -h|--help|help) usage ;;
  *) usage >&2; exit 2 ;;
esac
