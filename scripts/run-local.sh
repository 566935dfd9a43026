#!/usr/bin/env bash
# scripts/run-local.sh - build (if needed) and run embedstream locally, everything on 127.0.0.1:
#   Kafka (KRaft) :9092   data .local/kafka-data (kept between runs)
#   Milvus Lite   :19530  data .local/milvus/data (kept between runs)
#   Redis         :6379   reused when one already answers there; skipped when redis-server is missing
#   the Flink job (LocalRunner, mini cluster): web UI :8081, Prometheus metrics :9249
# Nothing listens on another address: Kafka's broker and controller listeners, Milvus Lite's
# --host, Redis' --bind and every socket of the MiniCluster (REST, blob server, data port, and the
# metrics through embedstream's LoopbackPrometheusReporterFactory, as Flink's own reporter binds
# every interface) are 127.0.0.1; LocalRunnerListensOnLoopbackOnlyTest checks the MiniCluster's.
# then ingests the sample corpus and runs the sample queries.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: scripts/run-local.sh [--no-sample] [--exit-after-demo] [--help]

Builds the job when needed, starts Kafka (127.0.0.1:9092), Milvus Lite (127.0.0.1:19530),
Redis (127.0.0.1:6379, optional) and the embedstream job (web UI http://127.0.0.1:8081,
metrics http://127.0.0.1:9249/metrics), ingests scripts/sample/corpus.jsonl and runs the
queries in scripts/sample/queries.txt. Ctrl-C stops everything it started.

  --no-sample        do not ingest the sample corpus nor run the sample queries
  --exit-after-demo  stop everything and exit after the sample queries
  --help             show this help

Logs: .local/logs/job.log (job), .local/kafka-data/logs, .local/milvus/logs, .local/redis/logs
EOF
}

SAMPLE=1
EXIT_AFTER_DEMO=0
for arg in "$@"; do
  case $arg in
    --no-sample) SAMPLE=0 ;;
    --exit-after-demo) EXIT_AFTER_DEMO=1 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "run-local.sh: unknown option: $arg" >&2; usage >&2; exit 2 ;;
  esac
done

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=SCRIPTDIR/lib/stack.sh
. "$ROOT/scripts/lib/stack.sh"

LOCAL="$ROOT/.local"
JAR="$ROOT/jobs/target/embedstream-job.jar"
CLASSPATH_FILE="$LOCAL/flink-classpath.txt"
KAFKA_PORT=9092
MILVUS_PORT=19530
REDIS_PORT=6379
WEB_PORT=8081
PROM_PORT=9249
TOPICS=(embedstream.documents embedstream.queries embedstream.responses embedstream.dlq)
BOOTSTRAP="127.0.0.1:$KAFKA_PORT"
MILVUS_URI="http://127.0.0.1:$MILVUS_PORT"

log() { printf '[run-local] %s\n' "$*" >&2; }
die() { printf '[run-local] ERROR: %s\n' "$*" >&2; exit 1; }

for tool in java mvn python3 curl setsid; do
  command -v "$tool" >/dev/null || die "$tool is not on PATH (needs Java 17, Maven, Python 3, curl, util-linux)"
done

mkdir -p "$LOCAL"
# One run-local at a time: a second one would adopt (and later stop) the first one's servers.
LOCK="$LOCAL/run-local.pid"
if stack_pid_alive "$LOCK" 'run-local'; then
  die "scripts/run-local.sh is already running (pid $(cat "$LOCK")); stop it first"
fi
echo $$ >"$LOCK"

# shellcheck disable=SC2317 # invoked by the traps below
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stack_stop_all
  rm -f "$LOCK"
  exit "$rc"
}
trap cleanup EXIT
trap 'echo >&2; log "stopping..."; exit 130' INT
trap 'log "stopping..."; exit 143' TERM

# ---- a. build when needed -------------------------------------------------------
stack_build_job "$ROOT" "$CLASSPATH_FILE" || die "could not build the job"

# ---- b. servers ------------------------------------------------------------------
for port in "$WEB_PORT" "$PROM_PORT"; do
  if stack_port_open "$port" && ! stack_pid_alive "$LOCAL/job.pid" 'LocalRunner'; then
    die "port $port on 127.0.0.1 is already in use by another program (the job needs it); stop it or free the port"
  fi
done

stack_install_kafka "$LOCAL/kafka"
stack_install_milvus "$LOCAL/venv"
stack_start_kafka "$LOCAL/kafka" "$LOCAL/kafka-data" "$KAFKA_PORT"
stack_start_milvus "$LOCAL/venv" "$LOCAL/milvus" "$MILVUS_PORT"

REDIS_ARGS=()
REDIS_NOTE="no Redis cache"
if stack_redis_ping "$REDIS_PORT" && ! stack_pid_alive "$LOCAL/redis/redis.pid" 'redis-server'; then
  log "reusing the Redis that answers on 127.0.0.1:$REDIS_PORT (not stopped on exit)"
  REDIS_ARGS=(--redis.uri "redis://127.0.0.1:$REDIS_PORT")
elif command -v redis-server >/dev/null; then
  stack_start_redis "$LOCAL/redis" "$REDIS_PORT"
  REDIS_ARGS=(--redis.uri "redis://127.0.0.1:$REDIS_PORT")
elif stack_port_open "$REDIS_PORT"; then
  log "port $REDIS_PORT is in use by something that does not answer Redis PING: running without the Redis cache"
else
  log "redis-server not found: running without the Redis cache"
fi
((${#REDIS_ARGS[@]} == 0)) || REDIS_NOTE="Redis redis://127.0.0.1:$REDIS_PORT"

# ---- c. topics -------------------------------------------------------------------
stack_create_topics "$LOCAL/kafka" "$BOOTSTRAP" 2 "${TOPICS[@]}"

# ---- d. the job ------------------------------------------------------------------
job_running() {
  curl -fsS --max-time 3 "http://127.0.0.1:$WEB_PORT/jobs/overview" | grep -q '"state":"RUNNING"'
}
if stack_pid_alive "$LOCAL/job.pid" 'LocalRunner'; then
  # Left over from a run that was killed; its Kafka/Milvus were adopted above.
  log "stopping a job left over from an earlier run (pid $(cat "$LOCAL/job.pid"))"
  stack_stop "$LOCAL/job.pid" TERM
fi
log "starting the job; log: $LOCAL/logs/job.log"
stack_spawn job "$LOCAL" TERM "${JAVA_HOME:+$JAVA_HOME/bin/}java" -Xmx2g -Dai.djl.offline=true \
  -cp "$JAR:$(cat "$CLASSPATH_FILE")" dev.embedstream.jobs.LocalRunner \
  --kafka.bootstrap-servers "$BOOTSTRAP" --milvus.uri "$MILVUS_URI" ${REDIS_ARGS[@]+"${REDIS_ARGS[@]}"} \
  --local.web-port "$WEB_PORT" --local.prometheus-port "$PROM_PORT" --local.checkpoint-dir "$LOCAL/checkpoints"

# ---- e. wait until it answers queries ------------------------------------------
log "waiting for the job to run (up to 180 s)..."
stack_wait_for job "$LOCAL" 180 job_running
log "waiting for the job to answer a probe query (up to 120 s)..."
if ! scripts/embedstream query "ready probe" --timeout 120s >/dev/null; then
  printf -- '----- last lines of %s -----\n' "$LOCAL/logs/job.log" >&2
  tail -n 60 "$LOCAL/logs/job.log" >&2
  die "the job did not answer the probe query"
fi
echo "embedstream ready: web UI http://127.0.0.1:$WEB_PORT, metrics http://127.0.0.1:$PROM_PORT/metrics," \
  "topics ${TOPICS[*]} on $BOOTSTRAP, Milvus $MILVUS_URI, $REDIS_NOTE"

# ---- f. sample corpus and queries ------------------------------------------------
DEMO_FAILURES=0
if ((SAMPLE)); then
  if [[ -f scripts/sample/corpus.jsonl ]]; then
    log "ingesting scripts/sample/corpus.jsonl"
    scripts/embedstream ingest scripts/sample/corpus.jsonl --await-milvus "$MILVUS_URI"
  else
    log "scripts/sample/corpus.jsonl not found: skipping the sample ingest"
  fi
  if [[ -f scripts/sample/queries.txt ]]; then
    while IFS= read -r query <&3 || [[ -n $query ]]; do
      [[ -n ${query//[[:space:]]/} && $query != \#* ]] || continue
      printf '\n> %s\n' "$query"
      # A failed answer is shown, counted and reported, but does not tear the stack down.
      scripts/embedstream query "$query" --top-k 3 </dev/null || DEMO_FAILURES=$((DEMO_FAILURES + 1))
    done 3<scripts/sample/queries.txt
    ((DEMO_FAILURES == 0)) || log "WARNING: $DEMO_FAILURES sample queries were not answered ok (see above and $LOCAL/logs/job.log)"
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
echo "running; Ctrl-C to stop (job log: $LOCAL/logs/job.log)"
while true; do
  if dead=$(stack_dead_service); then
    die "$dead stopped unexpectedly; see the logs under $LOCAL"
  fi
  sleep 2
done
