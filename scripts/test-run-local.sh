#!/usr/bin/env bash
# scripts/test-run-local.sh [WORK_DIR] - tests scripts/run-local.sh against real servers.
#
# Run by scripts/test.sh after Maven (it needs the packaged job jar), with the servers test.sh
# starts as the "existing servers" (EMBEDSTREAM_TEST_KAFKA, EMBEDSTREAM_TEST_MILVUS_URI,
# EMBEDSTREAM_TEST_MILVUS_VENV); EMBEDSTREAM_SKIP_RUN_LOCAL_TEST=1 makes test.sh skip it. Every
# run-local here has its own --state-dir and free ports, so it runs beside a user's run-local.
#
#   1. pointedAtExistingServersStartsNoneOfItsOwn: run-local.sh --kafka --milvus --redis (a Redis
#      this test starts, so that stopping it disturbs nobody) starts no server: nothing listens on
#      the ports it was told to use for its own, no process runs from its state directory but the
#      job, the job's command line names the three servers and it created its topics on that
#      Kafka; a query is answered and its repeat is a cache hit (the job uses that Redis), the
#      job's collection is in that Milvus; the given Redis stopping is reported and the stack keeps
#      answering; after run-local exits, the given Kafka and Milvus still run.
#   2. redisStoppedUnderTheStackIsReportedAndTheCacheResumes: run-local.sh with its own Redis;
#      that Redis killed: "redis stopped (pid N)" on the console, run-local and the job still run,
#      a query is answered ok while Redis is down (a miss, where it was a hit before); after
#      `run-local.sh --restart-redis` the console says "redis restarted" and a repeated query is a
#      cache hit again; run-local stops the Redis it restarted when it exits.
#   3. migrateOnTheLocalStackSwapsAndRollsBack: `embedstream migrate --to-model all-minilm-l6-v2-q
#      --swap` against a running run-local (its REST port) starts the backfill job in its
#      MiniCluster, shows it caught up and swaps the alias: the same question is then answered by
#      the new model (a miss: no answer of the old space is served); `migrate --rollback` brings the
#      old model back, and `collections` lists both collections with the serving one marked.
# Fails with the reason, the console of run-local and the end of the job's log.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=SCRIPTDIR/lib/stack.sh
. "$ROOT/scripts/lib/stack.sh"

for var in EMBEDSTREAM_TEST_KAFKA EMBEDSTREAM_TEST_MILVUS_URI EMBEDSTREAM_TEST_MILVUS_VENV; do
  [[ -n ${!var:-} ]] || { stack_err "$var is not set: run this through scripts/test.sh"; exit 1; }
done
JAR="$ROOT/jobs/target/embedstream-job.jar"
[[ -f $JAR ]] || { stack_err "no $JAR: run this after mvn package (scripts/test.sh does)"; exit 1; }

WORK=${1:-$ROOT/.local/test-run-local-$$}
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
# run-local's own stop of its job and Redis must finish before the test's stop of run-local
# escalates to SIGKILL (which would leave them running).
export STACK_STOP_TIMEOUT=60
stack_cleanup_on_exit "$WORK"

KAFKA=$EMBEDSTREAM_TEST_KAFKA
MILVUS=$EMBEDSTREAM_TEST_MILVUS_URI
TEST_START=$SECONDS
CURRENT="" # the run-local being tested: its log is $WORK/logs/$CURRENT.log

t() { printf '[test-run-local] %s (%ds)\n' "$*" "$((SECONDS - TEST_START))" >&2; }
fail() {
  printf '[test-run-local] FAILED: %s\n' "$*" >&2
  if [[ -n $CURRENT ]]; then
    printf -- '----- console of %s -----\n' "$CURRENT" >&2
    tail -n 60 "$WORK/logs/$CURRENT.log" >&2 || true
    printf -- '----- end of its job log -----\n' >&2
    tail -n 40 "$WORK/$CURRENT/logs/job.log" | cut -c1-600 >&2 || true
  fi
  exit 1
}

# The first run-local writes the job's Flink classpath (.local/flink-classpath.txt) and so packages
# the job once more, as on a fresh clone (Maven cannot list it without packaging embedstream-common
# in the same run); the second finds both fresh.
# start_run_local NAME ARGS...: scripts/run-local.sh --state-dir $WORK/NAME --no-sample ARGS, in
# the background (console in $WORK/logs/NAME.log), until it prints "embedstream ready".
start_run_local() {
  CURRENT=$1
  shift
  stack_spawn "$CURRENT" "$WORK" TERM scripts/run-local.sh --state-dir "$WORK/$CURRENT" --no-sample "$@" ||
    fail "run-local did not start"
  stack_wait_for "$CURRENT" "$WORK" 300 grep -q '^embedstream ready' "$WORK/logs/$CURRENT.log" ||
    fail "run-local was not ready within 300 s"
}

# await_console REGEX SECS: until run-local's console has a line matching REGEX (while it runs).
await_console() {
  local start=$SECONDS
  until grep -Eq -- "$1" "$WORK/logs/$CURRENT.log"; do
    stack_pid_alive "$WORK/$CURRENT.pid" || fail "run-local exited while waiting for /$1/"
    ((SECONDS - start < $2)) || fail "no line /$1/ on run-local's console within $2 s"
    sleep 0.5
  done
  t "console: $(grep -Em1 -- "$1" "$WORK/logs/$CURRENT.log")"
}

# ask TEXT: one query through the CLI and the test Kafka; prints "STATUS CACHE" (CACHE "-" if none).
ask() {
  local json
  json=$(scripts/embedstream --bootstrap "$KAFKA" query "$1" --raw --timeout 60s 2>/dev/null) || true
  [[ -n $json ]] || { echo "none -"; return 0; }
  python3 -c 'import json,sys; r=json.loads(sys.argv[1]); print(r.get("status","?"), r.get("cache") or "-")' "$json"
}

# expect_answer TEXT STATUS_CACHE_REGEX WHY
expect_answer() {
  local got
  got=$(ask "$1")
  [[ $got =~ ^($2)$ ]] || fail "$3: query '$1' answered '$got', expected /$2/"
  t "query '$1': $got"
}

# await_hit TEXT SECS: repeats TEXT until its answer is a cache hit; each answer must be ok. The
# breaker stops calling a failed Redis for 5 s and lettuce reconnects within 2 s, so a returning
# Redis is used again within seconds; the first answer after that is a miss (Redis came back
# empty, so the epoch is new) and stores what the next one hits.
await_hit() {
  local start=$SECONDS got
  while true; do
    got=$(ask "$1")
    [[ $got == ok\ * ]] || fail "query '$1' answered '$got' while waiting for a cache hit"
    if [[ $got == "ok hit" ]]; then
      t "query '$1': ok hit"
      return 0
    fi
    ((SECONDS - start < $2)) || fail "query '$1' was no cache hit within $2 s (last: $got)"
    sleep 1
  done
}

# The processes whose command line holds DIR, but the job (LocalRunner): every server run-local
# starts has its state directory in its arguments (Kafka's server.properties, Milvus Lite's
# --data-dir, Redis' --dir).
servers_from() {
  local p cmd
  for p in /proc/[0-9]*; do
    cmd=$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null) || continue
    [[ $cmd == *"$1"* && $cmd != *LocalRunner* && $cmd != *run-local.sh* ]] || continue
    printf '%s %s\n' "${p#/proc/}" "$cmd"
  done
}

job_cmdline() { tr '\0' ' ' <"/proc/$(cat "$WORK/$CURRENT/job.pid")/cmdline"; }

stop_run_local() {
  stack_stop "$WORK/$CURRENT.pid" TERM
  ! stack_pid_alive "$WORK/$CURRENT/job.pid" || fail "the job still runs after run-local exited"
}

# ---------------------------------------------------------------- 1
t "1. pointedAtExistingServersStartsNoneOfItsOwn"
port=$(stack_free_port 1)
stack_start_redis "$WORK/given-redis" "$port" || fail "could not start the given Redis"
REDIS="redis://127.0.0.1:$port"
read -r web metrics own_kafka own_milvus own_redis <<<"$(stack_free_port 5)"
start_run_local existing --kafka "$KAFKA" --milvus "$MILVUS" --redis "$REDIS" --web-port "$web" \
  --metrics-port "$metrics" --kafka-port "$own_kafka" --milvus-port "$own_milvus" --redis-port "$own_redis"
t "ready"
for port in "$own_kafka" "$own_milvus" "$own_redis"; do
  ! stack_port_open "$port" || fail "something listens on 127.0.0.1:$port, a port run-local would use for a server of its own"
done
[[ -z $(servers_from "$WORK/existing") ]] || fail "run-local started servers: $(servers_from "$WORK/existing")"
for expect in "--kafka.bootstrap-servers $KAFKA " "--milvus.uri $MILVUS " "--redis.uri $REDIS "; do
  [[ $(job_cmdline) == *"$expect"* ]] || fail "the job's command line lacks '$expect': $(job_cmdline)"
done
# test.sh's Kafka has none of the default topics: the job made them (local.create-topics).
grep -q 'created topic embedstream.queries' "$WORK/$CURRENT/logs/job.log" || fail "the job did not create its topics on the given Kafka"
expect_answer "how do I read a file line by line" 'ok miss' "a first query"
await_hit "how do I read a file line by line" 30 # the job caches in the given Redis
"$EMBEDSTREAM_TEST_MILVUS_VENV/bin/python" - "$MILVUS" <<'EOF' || fail "the job's collection is not in the given Milvus"
import sys
from pymilvus import MilvusClient
client = MilvusClient(uri=sys.argv[1], timeout=10)
assert client.has_collection("embedstream_chunks"), client.list_collections()
EOF
stack_stop "$WORK/given-redis/redis.pid" TERM
await_console 'the redis at redis://127\.0\.0\.1:[0-9]+ does not accept connections; the job keeps answering' 30
expect_answer "how do I read a file line by line" 'ok miss' "while the given Redis is down"
stop_run_local
stack_tcp_open "${KAFKA%:*}" "${KAFKA##*:}" || fail "the given Kafka stopped with run-local"
# shellcheck disable=SC2046 # "HOST PORT"
stack_tcp_open $(stack_endpoint "$MILVUS" 19530) || fail "the given Milvus stopped with run-local"
t "1. passed"

# ---------------------------------------------------------------- 2
t "2. redisStoppedUnderTheStackIsReportedAndTheCacheResumes"
read -r web metrics own_redis <<<"$(stack_free_port 3)"
start_run_local own-redis --kafka "$KAFKA" --milvus "$MILVUS" --redis-port "$own_redis" --web-port "$web" \
  --metrics-port "$metrics"
t "ready"
REDIS_PIDFILE="$WORK/own-redis/redis/redis.pid"
stack_pid_alive "$REDIS_PIDFILE" redis-server || fail "run-local started no Redis of its own"
[[ $(job_cmdline) == *"--redis.uri redis://127.0.0.1:$own_redis "* ]] || fail "the job does not use run-local's Redis: $(job_cmdline)"
text="which module parses command line options"
expect_answer "$text" 'ok miss' "a first query"
await_hit "$text" 30
pid=$(cat "$REDIS_PIDFILE")
kill -KILL "$pid"
await_console "redis stopped \\(pid $pid, 127\\.0\\.0\\.1:$own_redis; .*restart it with: scripts/run-local.sh --state-dir .* --restart-redis" 30
expect_answer "$text" 'ok miss' "the repeat while Redis is down (nothing is served from cache without it)"
! stack_port_open "$own_redis" || fail "a Redis answers again on $own_redis before it was restarted"
stack_pid_alive "$WORK/own-redis.pid" || fail "run-local exited after its Redis stopped"
stack_pid_alive "$WORK/own-redis/job.pid" || fail "the job exited after Redis stopped"
! grep -q 'stopped unexpectedly' "$WORK/logs/own-redis.log" || fail "run-local took Redis' end for a fatal one"
scripts/run-local.sh --state-dir "$WORK/own-redis" --restart-redis || fail "run-local.sh --restart-redis failed"
await_console 'redis restarted \(pid [0-9]+\)' 60
await_hit "$text" 60
pid=$(cat "$REDIS_PIDFILE")
stop_run_local
! kill -0 "$pid" 2>/dev/null || fail "the restarted Redis (pid $pid) still runs after run-local exited"
t "2. passed"

# ---------------------------------------------------------------- 3
t "3. migrateOnTheLocalStackSwapsAndRollsBack"
read -r web metrics own_redis <<<"$(stack_free_port 3)"
start_run_local migrate --kafka "$KAFKA" --milvus "$MILVUS" --redis-port "$own_redis" --web-port "$web" \
  --metrics-port "$metrics"
t "ready"
head -n 30 scripts/sample/corpus.jsonl >"$WORK/migrate-docs.jsonl"
scripts/embedstream --bootstrap "$KAFKA" ingest "$WORK/migrate-docs.jsonl" --await-milvus "$MILVUS" >/dev/null 2>&1 ||
  fail "the 30 documents did not reach Milvus"
# model_of TEXT: the model field of the answer to one query.
model_of() {
  local json
  json=$(scripts/embedstream --bootstrap "$KAFKA" query "$1" --raw --timeout 60s 2>/dev/null) || true
  [[ -n $json ]] || json='{}'
  python3 -c 'import json,sys; r=json.loads(sys.argv[1]); print(r.get("status"), r.get("cache"), r.get("model"))' "$json"
}
text="an abstract base class decorator"
[[ $(model_of "$text") == "ok miss all-minilm-l6-v2" ]] || fail "before the migration: $(model_of "$text")"
migrate=(scripts/embedstream --bootstrap "$KAFKA" migrate --milvus "$MILVUS")
out=$("${migrate[@]}" --to-model all-minilm-l6-v2-q --flink "http://127.0.0.1:$web" --redis "redis://127.0.0.1:$own_redis" \
  --swap --catch-up-timeout 5m 2>&1) || fail "migrate --swap failed: $(tail -c 1500 <<<"$out")"
grep -q "^swapped: alias 'embedstream_chunks' serves 'embedstream_chunks__all_minilm_l6_v2_q__" <<<"$out" ||
  fail "migrate did not say swapped: $(tail -c 1500 <<<"$out")"
t "migrate: $(grep -E '^caught up' <<<"$out")"
got=$(model_of "$text")
[[ $got == "ok miss all-minilm-l6-v2-q" ]] || fail "after the swap the question was answered '$got' (expected a miss of the new model)"
t "after the swap: $got"
out=$("${migrate[@]}" --rollback 2>&1) || fail "migrate --rollback failed: $out"
got=$(model_of "$text")
[[ $got == "ok "*" all-minilm-l6-v2" ]] || fail "after the rollback the question was answered '$got'"
t "after the rollback: $got"
out=$(scripts/embedstream collections --milvus "$MILVUS" 2>&1) || fail "collections failed: $out"
grep -qE '^\*  embedstream_chunks__all_minilm_l6_v2__' <<<"$out" && grep -q 'embedstream_chunks__all_minilm_l6_v2_q__' <<<"$out" ||
  fail "collections does not list both, the old one serving: $out"
stop_run_local
t "3. passed"
