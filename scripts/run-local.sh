#!/usr/bin/env bash
# scripts/run-local.sh - build (if needed) and run embedstream locally, everything on 127.0.0.1:
#   Kafka (KRaft) :9092   data .local/kafka-data (kept between runs)
#   Milvus Lite   :19530  data .local/milvus/data (kept between runs)
#   Redis         :6379   reused when one already answers there; skipped when redis-server is missing
#   the Flink job (LocalRunner, mini cluster): web UI :8081, Prometheus metrics :9249
# then ingests the sample corpus and runs the sample queries. Every port can be changed
# (--kafka-port ...), and --kafka, --milvus and --redis use servers that already run instead.
# Nothing listens on another address: Kafka's broker and controller listeners, Milvus Lite's
# --host, Redis' --bind and every socket of the MiniCluster (REST, blob server, data port, and the
# metrics through embedstream's LoopbackPrometheusReporterFactory, as Flink's own reporter binds
# every interface) are 127.0.0.1; LocalRunnerListensOnLoopbackOnlyTest checks the MiniCluster's.
#
# Supervision, once running. The job, and a Kafka or Milvus this script started, are what the
# stack is for (no query is taken or answered without them, and nothing here brings them back),
# so when one of them dies everything is stopped, with a pointer to the logs. Redis only holds
# caches the job does without (its RedisLink fails open behind a circuit breaker), so a Redis that
# stops is reported and the stack keeps running. The script does not restart it by itself (a Redis
# stopped on purpose, to watch the job without it, stays stopped) but says how:
# `scripts/run-local.sh --restart-redis` asks the running script (SIGUSR1) to start it again on
# the same port. A server given by --kafka, --milvus or --redis is someone else's: the script
# reports when it stops or starts answering again, and nothing more. scripts/test-run-local.sh
# tests both behaviours.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: scripts/run-local.sh [options]

Builds the job when needed, starts Kafka (127.0.0.1:9092), Milvus Lite (127.0.0.1:19530),
Redis (127.0.0.1:6379, optional) and the embedstream job (web UI http://127.0.0.1:8081,
metrics http://127.0.0.1:9249/metrics), ingests scripts/sample/corpus.jsonl and runs the
queries in scripts/sample/queries.txt. Ctrl-C stops everything it started.

Servers that already run, each flag on its own: such a server is not installed, started nor
stopped by this script, and the job, the sample ingest and the sample queries use it.
  --kafka HOST:PORT     Kafka bootstrap servers (a comma-separated list works); the job's
                        missing topics are created there (2 partitions, the broker's replication,
                        embedstream.documents compacted)
  --milvus URI          Milvus, e.g. http://10.0.0.7:19530
  --redis URI           Redis of the caches, e.g. redis://127.0.0.1:6380 (rediss:// for TLS)

Ports of what it starts, all on 127.0.0.1 (defaults in brackets):
  --kafka-port N   [9092]     --milvus-port N   [19530]    --redis-port N   [6379]
  --web-port N     [8081]     --metrics-port N  [9249]
  --state-dir DIR  [.local]   server data, logs, PID files and checkpoints of this run;
                              one run-local at a time per directory

  --no-sample           do not ingest the sample corpus nor run the sample queries
  --exit-after-demo     stop everything and exit after the sample queries
  --restart-redis       ask the run-local running with this --state-dir to start its Redis
                        again (after it said "redis stopped"), then exit
  --help                show this help

A Redis that stops is reported and the stack keeps running: the job answers without its caches,
which resume within seconds of Redis coming back. A Kafka, Milvus or job that stops ends the
run. Options take "--option VALUE" or "--option=VALUE".

Logs: .local/logs/job.log (job), .local/kafka-data/logs, .local/milvus/logs, .local/redis/logs
EOF
}

SAMPLE=1
EXIT_AFTER_DEMO=0
RESTART_REDIS_REQUEST=0
EXT_KAFKA=""
EXT_MILVUS=""
EXT_REDIS=""
KAFKA_PORT=9092
MILVUS_PORT=19530
REDIS_PORT=6379
WEB_PORT=8081
PROM_PORT=9249
STATE=""
bad_usage() {
  echo "run-local.sh: $*; see scripts/run-local.sh --help" >&2
  exit 2
}
while (($#)); do
  arg=$1 value=""
  shift
  case $arg in
    --*=*) value=${arg#*=} arg=${arg%%=*} ;;
    --kafka | --milvus | --redis | --*-port | --state-dir)
      (($#)) || bad_usage "$arg needs a value"
      value=$1
      shift
      ;;
  esac
  case $arg in
    --kafka) EXT_KAFKA=$value ;;
    --milvus) EXT_MILVUS=$value ;;
    --redis) EXT_REDIS=$value ;;
    --kafka-port) KAFKA_PORT=$value ;;
    --milvus-port) MILVUS_PORT=$value ;;
    --redis-port) REDIS_PORT=$value ;;
    --web-port) WEB_PORT=$value ;;
    --metrics-port) PROM_PORT=$value ;;
    --state-dir) STATE=$value ;;
    --no-sample) SAMPLE=0 ;;
    --exit-after-demo) EXIT_AFTER_DEMO=1 ;;
    --restart-redis) RESTART_REDIS_REQUEST=1 ;;
    -h | --help) usage; exit 0 ;;
    *) bad_usage "unknown option: $arg" ;;
  esac
done
for port in "$KAFKA_PORT" "$MILVUS_PORT" "$REDIS_PORT" "$WEB_PORT" "$PROM_PORT"; do
  [[ $port =~ ^[1-9][0-9]{0,4}$ ]] && ((port <= 65535)) || bad_usage "not a TCP port: '$port'"
done
if [[ -n $(printf '%s\n' "$KAFKA_PORT" "$MILVUS_PORT" "$REDIS_PORT" "$WEB_PORT" "$PROM_PORT" | sort | uniq -d) ]]; then
  bad_usage "two of --kafka-port, --milvus-port, --redis-port, --web-port and --metrics-port are the same"
fi
# A relative --state-dir is the caller's, so resolve it before the cd below.
[[ -z $STATE || $STATE == /* ]] || STATE="$PWD/$STATE"

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=SCRIPTDIR/lib/stack.sh
. "$ROOT/scripts/lib/stack.sh"

# LOCAL holds what is installed or built once per checkout (Kafka jars, the Milvus venv, the job's
# classpath); STATE what one run owns (its lock, server data, logs, PID files, checkpoints).
LOCAL="$ROOT/.local"
STATE=${STATE:-$LOCAL}
JAR="$ROOT/jobs/target/embedstream-job.jar"
CLASSPATH_FILE="$LOCAL/flink-classpath.txt"
TOPICS=(embedstream.documents embedstream.queries embedstream.responses embedstream.dlq)
BOOTSTRAP=${EXT_KAFKA:-127.0.0.1:$KAFKA_PORT}
MILVUS_URI=${EXT_MILVUS:-http://127.0.0.1:$MILVUS_PORT}
LOCK="$STATE/run-local.pid"

log() { printf '[run-local] %s\n' "$*" >&2; }
die() { printf '[run-local] ERROR: %s\n' "$*" >&2; exit 1; }
# A URI as shown on the console: without the user info, which may hold a password.
shown() { if [[ $1 == *://*@* ]]; then printf '%s://%s' "${1%%://*}" "${1##*@}"; else printf '%s' "$1"; fi; }

# The command line that reaches this run, for the messages that say what to run next.
SELF="scripts/run-local.sh"
[[ $STATE == "$LOCAL" ]] || SELF+=" --state-dir $(printf '%q' "$STATE")"

if ((RESTART_REDIS_REQUEST)); then
  stack_pid_alive "$LOCK" 'run-local' || die "no scripts/run-local.sh runs with its state in $STATE"
  kill -USR1 "$(cat "$LOCK")"
  log "asked run-local (pid $(cat "$LOCK")) to start its Redis again; its console says how that went"
  exit 0
fi

for tool in java mvn python3 curl setsid; do
  command -v "$tool" >/dev/null || die "$tool is not on PATH (needs Java 17, Maven, Python 3, curl, util-linux)"
done

mkdir -p "$LOCAL" "$STATE"
# One run-local at a time per state directory: a second one would adopt (and later stop) the
# first one's servers.
if stack_pid_alive "$LOCK" 'run-local'; then
  die "scripts/run-local.sh is already running (pid $(cat "$LOCK")); stop it first"
fi
echo $$ >"$LOCK"

# shellcheck disable=SC2317 # invoked by the traps below
cleanup() {
  local rc=$?
  trap - EXIT INT TERM USR1
  stack_stop_all
  rm -f "$LOCK"
  exit "$rc"
}
trap cleanup EXIT
trap 'echo >&2; log "stopping..."; exit 130' INT
trap 'log "stopping..."; exit 143' TERM
# From `run-local.sh --restart-redis`; the supervision loop (g) acts on it.
RESTART_REDIS=0
trap 'RESTART_REDIS=1' USR1

# reachable ADDRESS DEFAULT_PORT: true when an address of ADDRESS (a comma-separated list for
# Kafka) accepts TCP connections. A TCP connect, not a protocol ping: it needs no client and
# works for TLS or password-protected servers alike.
reachable() {
  local one hp
  local -a list
  IFS=, read -r -a list <<<"$1"
  for one in ${list[@]+"${list[@]}"}; do
    hp=$(stack_endpoint "$one" "$2") || continue
    # shellcheck disable=SC2086 # "HOST PORT"
    stack_tcp_open $hp && return 0
  done
  return 1
}

# A server given on the command line must answer now: a typo is better reported than waited on.
for server in kafka:9092 milvus:19530 redis:6379; do
  default=${server#*:} server=${server%%:*}
  case $server in
    kafka) address=$EXT_KAFKA ;;
    milvus) address=$EXT_MILVUS ;;
    redis) address=$EXT_REDIS ;;
  esac
  [[ -n $address ]] || continue
  [[ $address != *[[:space:]]* ]] || die "--$server '$address': an address holds no white space"
  IFS=, read -r -a parts <<<"$address"
  for one in ${parts[@]+"${parts[@]}"}; do
    stack_endpoint "$one" "$default" >/dev/null || die "--$server $(shown "$address"): '$(shown "$one")' is neither HOST:PORT nor a URI"
  done
  reachable "$address" "$default" || die "--$server $(shown "$address"): nothing accepts connections there"
  log "using the $server at $(shown "$address") (not started nor stopped by this script)"
done

# ---- a. build when needed -------------------------------------------------------
stack_build_job "$ROOT" "$CLASSPATH_FILE" || die "could not build the job"

# ---- b. servers ------------------------------------------------------------------
for port in "$WEB_PORT" "$PROM_PORT"; do
  if stack_port_open "$port" && ! stack_pid_alive "$STATE/job.pid" 'LocalRunner'; then
    die "port $port on 127.0.0.1 is already in use by another program (the job needs it); stop it or free the port"
  fi
done

[[ -n $EXT_KAFKA ]] || stack_install_kafka "$LOCAL/kafka"
[[ -n $EXT_MILVUS ]] || stack_install_milvus "$LOCAL/venv"
[[ -n $EXT_KAFKA ]] || stack_start_kafka "$LOCAL/kafka" "$STATE/kafka-data" "$KAFKA_PORT"
[[ -n $EXT_MILVUS ]] || stack_start_milvus "$LOCAL/venv" "$STATE/milvus" "$MILVUS_PORT"

# REDIS_MODE: own (started here: supervised, restarted on request, stopped on exit), reused (one
# that answered on --redis-port), external (--redis), none. The last two are watched, not owned.
REDIS_MODE=none
REDIS_URI=""
if [[ -n $EXT_REDIS ]]; then
  REDIS_MODE=external REDIS_URI=$EXT_REDIS
elif stack_redis_ping "$REDIS_PORT" && ! stack_pid_alive "$STATE/redis/redis.pid" 'redis-server'; then
  log "reusing the Redis that answers on 127.0.0.1:$REDIS_PORT (not stopped on exit)"
  REDIS_MODE=reused
elif command -v redis-server >/dev/null; then
  stack_start_redis "$STATE/redis" "$REDIS_PORT"
  REDIS_MODE=own
elif stack_port_open "$REDIS_PORT"; then
  log "port $REDIS_PORT is in use by something that does not answer Redis PING: running without the Redis cache"
else
  log "redis-server not found: running without the Redis cache"
fi
[[ $REDIS_MODE == none || -n $REDIS_URI ]] || REDIS_URI="redis://127.0.0.1:$REDIS_PORT"
REDIS_ARGS=()
REDIS_NOTE="no Redis cache"
if [[ $REDIS_MODE != none ]]; then
  REDIS_ARGS=(--redis.uri "$REDIS_URI")
  REDIS_NOTE="Redis $(shown "$REDIS_URI")"
fi

# ---- c. topics -------------------------------------------------------------------
# A Kafka of ours gets them from its own tools; on one given by --kafka the job creates what is
# missing (LocalRunner's local.create-topics), as no Kafka tools are installed for it.
TOPIC_ARGS=()
if [[ -n $EXT_KAFKA ]]; then
  TOPIC_ARGS=(--local.create-topics true)
else
  # The documents topic compacted (DESIGN section 2): a model migration's backfill replays it.
  stack_create_topics "$LOCAL/kafka" "$BOOTSTRAP" 2 "${TOPICS[0]}:cleanup.policy=compact" "${TOPICS[@]:1}"
fi

# ---- d. the job ------------------------------------------------------------------
job_running() {
  curl -fsS --max-time 3 "http://127.0.0.1:$WEB_PORT/jobs/overview" | grep -q '"state":"RUNNING"'
}
if stack_pid_alive "$STATE/job.pid" 'LocalRunner'; then
  # Left over from a run that was killed; its Kafka/Milvus were adopted above.
  log "stopping a job left over from an earlier run (pid $(cat "$STATE/job.pid"))"
  stack_stop "$STATE/job.pid" TERM
fi
log "starting the job; log: $STATE/logs/job.log"
# --add-opens: a jar run through the REST API (embedstream migrate's backfill job) goes through
# Flink's application runner, whose DataStream V2 translators need java.util opened (Flink's own
# launch scripts pass the same); without them /jars/:id/run fails with InaccessibleObjectException.
stack_spawn job "$STATE" TERM "${JAVA_HOME:+$JAVA_HOME/bin/}java" -Xmx2g -Dai.djl.offline=true "${STACK_JOB_JAVA_OPENS[@]}" \
  -cp "$JAR:$(cat "$CLASSPATH_FILE")" dev.embedstream.jobs.LocalRunner \
  --kafka.bootstrap-servers "$BOOTSTRAP" --milvus.uri "$MILVUS_URI" ${REDIS_ARGS[@]+"${REDIS_ARGS[@]}"} \
  --local.web-port "$WEB_PORT" --local.prometheus-port "$PROM_PORT" --local.checkpoint-dir "$STATE/checkpoints" \
  --local.upload-dir "$STATE/jars" \
  ${TOPIC_ARGS[@]+"${TOPIC_ARGS[@]}"}

# The CLI, pointed at this run's Kafka.
cli() { scripts/embedstream --bootstrap "$BOOTSTRAP" "$@"; }

# ---- e. wait until it answers queries ------------------------------------------
log "waiting for the job to run (up to 180 s)..."
stack_wait_for job "$STATE" 180 job_running
log "waiting for the job to answer a probe query (up to 120 s)..."
if ! cli query "ready probe" --timeout 120s >/dev/null; then
  printf -- '----- last lines of %s -----\n' "$STATE/logs/job.log" >&2
  tail -n 60 "$STATE/logs/job.log" >&2
  die "the job did not answer the probe query"
fi
echo "embedstream ready: web UI http://127.0.0.1:$WEB_PORT, metrics http://127.0.0.1:$PROM_PORT/metrics," \
  "topics ${TOPICS[*]} on $BOOTSTRAP, Milvus $MILVUS_URI, $REDIS_NOTE"

# ---- f. sample corpus and queries ------------------------------------------------
DEMO_FAILURES=0
if ((SAMPLE)); then
  if [[ -f scripts/sample/corpus.jsonl ]]; then
    log "ingesting scripts/sample/corpus.jsonl"
    cli ingest scripts/sample/corpus.jsonl --await-milvus "$MILVUS_URI"
  else
    log "scripts/sample/corpus.jsonl not found: skipping the sample ingest"
  fi
  if [[ -f scripts/sample/queries.txt ]]; then
    while IFS= read -r query <&3 || [[ -n $query ]]; do
      [[ -n ${query//[[:space:]]/} && $query != \#* ]] || continue
      printf '\n> %s\n' "$query"
      # A failed answer is shown, counted and reported, but does not tear the stack down.
      cli query "$query" --top-k 3 </dev/null || DEMO_FAILURES=$((DEMO_FAILURES + 1))
    done 3<scripts/sample/queries.txt
    ((DEMO_FAILURES == 0)) || log "WARNING: $DEMO_FAILURES sample queries were not answered ok (see above and $STATE/logs/job.log)"
    echo
  else
    log "scripts/sample/queries.txt not found: skipping the sample queries"
  fi
fi

# ---- g. keep running or exit -----------------------------------------------------
if ((EXIT_AFTER_DEMO)); then
  log "demo done (--exit-after-demo): stopping"
  exit $((DEMO_FAILURES == 0 ? 0 : 1))
fi

REDIS_PIDFILE="$STATE/redis/redis.pid"
REDIS_DOWN=0
redis_alive() {
  case $REDIS_MODE in
    own) stack_pid_alive "$REDIS_PIDFILE" 'redis-server' ;;
    *) reachable "$REDIS_URI" 6379 ;;
  esac
}
restart_redis() {
  case $REDIS_MODE in
    none) log "--restart-redis: this run has no Redis"; return 0 ;;
    reused | external)
      log "--restart-redis: the Redis at $(shown "$REDIS_URI") is not run by this script; start it again yourself"
      return 0
      ;;
  esac
  if stack_pid_alive "$REDIS_PIDFILE" 'redis-server'; then
    log "--restart-redis: redis runs (pid $(cat "$REDIS_PIDFILE")), nothing to do"
  elif stack_start_redis "$STATE/redis" "$REDIS_PORT"; then
    REDIS_DOWN=0
    log "redis restarted (pid $(cat "$REDIS_PIDFILE")) on 127.0.0.1:$REDIS_PORT; the job reconnects by itself and its caches resume within seconds"
  else
    log "redis could not be started again (see above); the job keeps answering without its caches"
  fi
}
watch_redis() {
  [[ $REDIS_MODE != none ]] || return 0
  if ((RESTART_REDIS)); then
    RESTART_REDIS=0
    restart_redis
  fi
  if redis_alive; then
    if ((REDIS_DOWN)); then
      REDIS_DOWN=0
      log "the redis at $(shown "$REDIS_URI") answers again; the job's caches resume within seconds"
    fi
  elif [[ $REDIS_MODE == own ]] && stack_redis_ping "$REDIS_PORT"; then
    # Someone started a Redis on our port after ours died: use it, but it is not ours to stop.
    REDIS_MODE=reused REDIS_DOWN=0
    log "a redis not started by this script answers on 127.0.0.1:$REDIS_PORT; the job's caches resume within seconds (it is not stopped on exit)"
  elif ((!REDIS_DOWN)); then
    REDIS_DOWN=1
    if [[ $REDIS_MODE == own ]]; then
      log "redis stopped (pid $(cat "$REDIS_PIDFILE" 2>/dev/null || echo '?'), 127.0.0.1:$REDIS_PORT; log $STATE/redis/logs/redis.log);" \
        "the job keeps answering without its caches; restart it with: $SELF --restart-redis"
    else
      log "the redis at $(shown "$REDIS_URI") does not accept connections; the job keeps answering without its caches," \
        "which resume within seconds of it coming back (it is not run by this script)"
    fi
  fi
}
# A Kafka or Milvus given on the command line is reported when it goes away and comes back; the job
# rides out the gap by itself (it restarts from its last checkpoint; searches answer `error`).
declare -A EXT_DOWN=([kafka]=0 [milvus]=0)
watch_external() {
  local name=$1 address=$2 default=$3 impact=$4
  [[ -n $address ]] || return 0
  if reachable "$address" "$default"; then
    if ((EXT_DOWN[$name])); then
      EXT_DOWN[$name]=0
      log "the $name at $(shown "$address") accepts connections again"
    fi
  elif ((!EXT_DOWN[$name])); then
    EXT_DOWN[$name]=1
    log "the $name at $(shown "$address") does not accept connections; $impact (it is not run by this script)"
  fi
}

echo "running; Ctrl-C to stop (job log: $STATE/logs/job.log)"
while true; do
  if dead=$(stack_dead_service redis); then
    die "$dead stopped unexpectedly; see the logs under $STATE"
  fi
  watch_redis
  watch_external kafka "$EXT_KAFKA" 9092 "no query is taken or answered until it is back"
  watch_external milvus "$EXT_MILVUS" 19530 "queries are answered with an error and documents wait until it is back"
  sleep 2
done
