#!/usr/bin/env bash
# scripts/bench.sh - measures the pipeline on the local stack and reports; it is not a test.
#
# Starts its own Kafka, Milvus Lite and Redis on free ports of 127.0.0.1 (beside anything
# scripts/run-local.sh runs), runs the job (LocalRunner, parallelism 2) in fresh JVMs with the
# configurations below, and writes bench/results/<UTC timestamp>/:
#   results.json   every raw figure, the medians and the ratios
#   *.png          charts (XChart, via `scripts/embedstream bench-plot`)
#   summary.md     the figures against the targets, in a few lines
#   raw/, data/, jobs/   per-run JSON, generated inputs, job logs (git-ignored; only summary.md is kept)
#
# Section "cache" (the caches issue):
#   1. cold ingest of --docs documents with Redis, then the same texts again under new doc ids
#      (every text cached): documents/s of each and their ratio;
#   2. a Zipf-distributed repeated-query workload (exponent --zipf over the ingested documents'
#      own words) at --qps for --seconds, --repeats times: answered queries/s, hit ratio, and
#      p50/p95/p99 of hits and of misses as a client sees them (produce -> response consumed);
#   3. Redis stopped vs no Redis configured: ingest of --outage-docs new documents in a fresh JVM
#      each (cold in-process cache), --repeats times each, then 20 q/s for 10 s: documents/s,
#      lost documents, unanswered queries; the ratio of the medians.
#
# Section "model" (the ceiling): `embedstream bench-model` on the chunks of the first --ingest-docs
#   documents: raw ONNX Runtime chunks/s with the job's engines and threads (2 x 1) at batch sizes
#   1, 4, 16, in arrival order and grouped by length; then the int8 model at the best setting and
#   the mean cosine between int8 and fp32 vectors.
#
# Section "batching" (the batching issue), --repeats times, each variant in a fresh job JVM without
#   Redis (cold caches; the JIT warmed first by an ingest of --warmup-docs other documents):
#   1. ingest of the same --ingest-docs documents (Kafka -> Flink -> Milvus, first publish to last
#      row) with the adaptive batcher, with fixed unsorted batches of --fixed-size, and per record
#      (batch size 1): chunks/s, ratios to each other and to the raw ceiling; batch size, padding
#      and model busy share sampled every second (scripts/bench-sample.py);
#   2. on the adaptive job: the same documents again, unchanged (dropped by dedup-documents; done
#      when its dedupDropped counter has grown by all of them): ratio to the cold ingest;
#   3. query latency at 20 q/s (produce -> response consumed, distinct texts) idle, then while a
#      backlog of 1,000+ new documents saturates ingest;
#   4. the load shapes constant, ramp, burst, spike and wave between 20 and --peak q/s.
#   In run 1, the adaptive cold ingest and the backlog queries are profiled: a JFR recording of the
#   job and CPU-seconds per process and per job thread (scripts/bench-profile.py), so a target
#   missed on this machine comes with what limits it.
#
# Section "migration" (the model lifecycle issue; only when named in --only), --repeats times, each
#   on its own documents topic (compacted) and collection alias, in one stack:
#   a. cold ingest of the first --migration-docs documents of scripts/sample/corpus.jsonl into a
#      fresh serving job (first publish -> every document in Milvus): documents/s;
#   b. 20 q/s for 20 s against the serving job while idle (produce -> response consumed);
#   c. a backfill job (job.role backfill, model all-minilm-l6-v2-q, its own consumer group),
#      submitted through the serving job's MiniCluster REST API (/jars/upload, /jars/:id/run),
#      replays the topic into the collection of its vector space while 20 q/s go to the serving
#      job: documents/s = documents / seconds from the submission until the new collection holds
#      as many chunks as the serving one (and from its first row), and query p50/p99 during the
#      backfill against idle (target p99 <= 2x idle);
#   d. after the serving job stopped, a cold ingest as in (a) with the backfill's model: the
#      baseline of the backfill's ratio (same work per document; target >= 0.9).
#   Writes <OUT>/migration.json, migration-*.png and migration.md (also summary.md when it is the
#   only section) via scripts/bench-migration.py.
#
# Section "overload" (the overload control issue; only when named in --only), --repeats times, each
#   on fresh jobs with Redis and default settings:
#   F. fairness and backlog: tenant B publishes 1 new document/s for --fair-seconds while sending
#      5 q/s (bench-queries --tenant B): B's freshness (publish -> its doc_id is in Milvus, polled
#      every 100 ms; scripts/bench-overload-fresh.py) p50/p99 and query p99, alone; then tenant A
#      publishes --fair-docs documents at once (corpus texts each behind a unique token: no cache
#      hit) and during the first seconds of that backlog B does the same again while a third tenant
#      sends 20 q/s: B's freshness p99 and query p99 with A against alone (target <= 2x each) and
#      the 20 q/s p99 (target <= 250 ms);
#   H. hits: Zipf queries (exponent --zipf) at 1,000 q/s for --overload-seconds against a cache
#      warmed by 20 s at 100 q/s of the same texts: p99 (target <= 50 ms), unanswered (target 0),
#      hit ratio; in run 1 the rate steps 1000, 1500, 2000, 3000, 4000 (20 s each) until a step's
#      p99 > 100 ms, and the highest passing one runs for --overload-seconds: the highest
#      sustained rate;
#   O. overload: capacity C = ok answers/s of distinct texts (all misses) offered at 60 q/s (a rate the client itself sustains here) for
#      20 s; idle p99 at 20 q/s; then 3 x C for --overload-seconds, each query with a 1 s deadline:
#      answers per status (ok, overloaded, rate_limited, expired, ...), unanswered and late (> 100 ms
#      past the deadline; targets 0), duplicates, the job JVM's max heap used (Prometheus, every
#      second); right after it 20 q/s for 20 s: seconds until a second's p99 is within 1.2 x the
#      idle p99 (target <= 10 s).
#   Writes <OUT>/overload.json, overload-*.png and overload.md (also summary.md when it is the only
#   section) via scripts/bench-overload.py.
#
# Usage: scripts/bench.sh [--only model,batching,cache,migration,overload] [--repeats N] [--migration-docs N] [--ingest-docs N] [--warmup-docs N] [--fixed-size N]
#                         [--peak N] [--qps N] [--seconds N] [--zipf S] [--docs N] [--outage-docs N]
#                         [--fair-docs N] [--fair-seconds N] [--overload-seconds N]
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=SCRIPTDIR/lib/stack.sh
. "$ROOT/scripts/lib/stack.sh"

REPEATS=3 QPS=1000 SECONDS_PER_RUN=30 ZIPF=1.1 DOCS=300 OUTAGE_DOCS=150 ONLY="model,batching,cache"
INGEST_DOCS=500 WARMUP_DOCS=200 FIXED_SIZE=32 PEAK=100 MIGRATION_DOCS=1000 MIGRATION_MODEL=all-minilm-l6-v2-q
FAIR_DOCS=5000 FAIR_SECONDS=30 OVERLOAD_SECONDS=60
while (($#)); do
  case $1 in
    --only) ONLY=$2; shift ;;
    --repeats) REPEATS=$2; shift ;;
    --qps) QPS=$2; shift ;;
    --seconds) SECONDS_PER_RUN=$2; shift ;;
    --zipf) ZIPF=$2; shift ;;
    --docs) DOCS=$2; shift ;;
    --outage-docs) OUTAGE_DOCS=$2; shift ;;
    --ingest-docs) INGEST_DOCS=$2; shift ;;
    --warmup-docs) WARMUP_DOCS=$2; shift ;;
    --fixed-size) FIXED_SIZE=$2; shift ;;
    --peak) PEAK=$2; shift ;;
    --migration-docs) MIGRATION_DOCS=$2; shift ;;
    --fair-docs) FAIR_DOCS=$2; shift ;;
    --fair-seconds) FAIR_SECONDS=$2; shift ;;
    --overload-seconds) OVERLOAD_SECONDS=$2; shift ;;
    -h | --help) sed -n '2,83p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

log() { printf '[bench] %s\n' "$*" >&2; }
die() { printf '[bench] ERROR: %s\n' "$*" >&2; exit 1; }

LOCAL="$ROOT/.local"
JAR="$ROOT/jobs/target/embedstream-job.jar"
CLASSPATH_FILE="$LOCAL/flink-classpath.txt"
WORK="$LOCAL/bench-$$"
OUT="$ROOT/bench/results/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$OUT/raw" "$OUT/data" "$WORK"

stack_cleanup_on_exit "$WORK"

stack_build_job "$ROOT" "$CLASSPATH_FILE" || die "could not build the job"
section() { [[ ",$ONLY," == *",$1,"* ]]; }
report() {
  if section migration; then
    [[ ! -e $OUT/raw/profile-migration-backfill.json ]] ||
      python3 scripts/bench-profile.py --summarise "$OUT/raw/profile-migration-backfill" || log "could not read the JFR recording"
    python3 scripts/bench-migration.py "$OUT" "$MIGRATION_DOCS" "$REPEATS" "$MIGRATION_MODEL" "$ONLY"
    scripts/embedstream bench-plot "$OUT/migration.json" >/dev/null
  fi
  if section overload; then
    python3 scripts/bench-overload.py "$OUT" "$REPEATS" "$ONLY" "$FAIR_DOCS" "$FAIR_SECONDS" "$OVERLOAD_SECONDS"
    scripts/embedstream bench-plot "$OUT/overload.json" >/dev/null
  fi
  section model || section batching || section cache || { log "results in $OUT"; return 0; }
  local profiles=("$OUT"/raw/profile-*.json)
  [[ ! -e ${profiles[0]} ]] || python3 scripts/bench-profile.py --summarise "${profiles[@]%.json}" \
    || log "could not read the JFR recordings"
  python3 scripts/bench-report.py "$OUT" "$QPS" "$SECONDS_PER_RUN" "$ZIPF" "$DOCS" "$OUTAGE_DOCS" "$REPEATS" \
    "$INGEST_DOCS" "$FIXED_SIZE" "$PEAK" "$ONLY" "$WARMUP_DOCS"
  scripts/embedstream bench-plot "$OUT/results.json" >/dev/null
  log "results in $OUT"
}

if section model; then
  log "model alone: raw ONNX Runtime on the chunks of $INGEST_DOCS documents (2 engines x 1 thread), then int8 vs fp32"
  scripts/embedstream bench-model --docs "$INGEST_DOCS" --repeats "$REPEATS" --batch-sizes 1,4,16 \
    --compare all-minilm-l6-v2-q --out "$OUT/raw/model.json" >/dev/null
fi
if ! section batching && ! section cache && ! section migration && ! section overload; then
  report
  exit 0
fi
stack_install_redis
stack_install_milvus "$LOCAL/venv"
stack_install_kafka "$LOCAL/kafka"

port=$(stack_free_port 1); stack_start_kafka "$LOCAL/kafka" "$WORK/kafka" "$port"; BOOTSTRAP="127.0.0.1:$port"
port=$(stack_free_port 1); stack_start_milvus "$LOCAL/venv" "$WORK/milvus" "$port"; MILVUS_URI="http://127.0.0.1:$port"
port=$(stack_free_port 1); stack_start_redis "$WORK/redis" "$port"; REDIS_URI="redis://127.0.0.1:$port"
stack_create_topics "$LOCAL/kafka" "$BOOTSTRAP" 2 embedstream.documents:cleanup.policy=compact embedstream.queries embedstream.responses embedstream.dlq

cli() { scripts/embedstream --bootstrap "$BOOTSTRAP" "$@"; }

# start_job NAME [job options...]: a fresh JVM with the job, ready once it answers a query; its
# Prometheus endpoint is then $METRICS. Each job has its own consumer group, set to the end of the
# input topics first: it handles only what is sent while it runs, never what an earlier job read
# (offsets are committed with checkpoints, so a shared group would replay an earlier job's tail
# and warm this one's cache with it).
start_job() {
  local name=$1 web prom
  shift
  read -r web prom < <(stack_free_port 2)
  METRICS="http://127.0.0.1:$prom/metrics" JOB=$name WEB="http://127.0.0.1:$web"
  log "job '$name': starting ($*)"
  stack_kafka_tool "$LOCAL/kafka" org.apache.kafka.tools.consumer.group.ConsumerGroupCommand --bootstrap-server "$BOOTSTRAP" \
    --group "bench-$name" --reset-offsets --to-latest --topic embedstream.documents --topic embedstream.queries --execute >/dev/null \
    || die "could not set consumer group bench-$name to the end of the topics"
  stack_spawn "job-$name" "$OUT/jobs" TERM "${JAVA_HOME:+$JAVA_HOME/bin/}java" -Xmx2g -Dai.djl.offline=true "${STACK_JOB_JAVA_OPENS[@]}" \
    -cp "$JAR:$(cat "$CLASSPATH_FILE")" dev.embedstream.jobs.LocalRunner \
    --kafka.bootstrap-servers "$BOOTSTRAP" --kafka.group-id "bench-$name" --milvus.uri "$MILVUS_URI" \
    --local.web-port "$web" --local.prometheus-port "$prom" --local.checkpoint-dir "$WORK/checkpoints-$name" "$@"
  # A probe sent while the job starts waits longer than query.max-latency and is shed ("overloaded"):
  # the job is up then, so the next probe is answered in time.
  local probe i
  for ((i = 0; i < 10; i++)); do
    probe=$(cli query "ready probe" --timeout 180s 2>&1) && return 0
    [[ $probe == *"error overloaded"* ]] || break
  done
  die "job '$name' did not answer ok: $probe (log: $OUT/jobs/logs/job-$name.log)"
}
stop_job() { stack_stop "$OUT/jobs/job-$1.pid" TERM; }
# profile_start PHASE / profile_stop: JFR of the current job and CPU per process and thread for the
# phase in between (scripts/bench-profile.py -> raw/profile-PHASE.json); only in run 1, so the
# recording's small cost touches one run of the median.
profile_start() {
  PROFILER=
  (($1 == 0)) || return 0
  python3 scripts/bench-profile.py "$(cat "$OUT/jobs/job-$JOB.pid")" "$OUT/raw/profile-$2" & PROFILER=$!
  local i
  for ((i = 0; i < 300; i++)); do # until the recording runs (jcmd attaches slowly on a busy machine)
    [[ -e $OUT/raw/profile-$2.started ]] && return 0
    sleep 0.1
  done
  log "profile $2 did not start within 30 s"
}
profile_stop() {
  [[ -n $PROFILER ]] || return 0
  kill "$PROFILER" 2>/dev/null || true
  wait "$PROFILER" || log "profile incomplete (see the log above)"
}

# ---- inputs ------------------------------------------------------------------------
python3 - "$OUT/data" "$DOCS" "$OUTAGE_DOCS" "$REPEATS" <<'EOF'
import json, sys
out, docs, outage, repeats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
corpus = [json.loads(l) for l in open("scripts/sample/corpus.jsonl", encoding="utf-8") if l.strip()]
if docs + outage * repeats > len(corpus):
    sys.exit(f"the corpus has {len(corpus)} documents; --docs + --outage-docs x --repeats is too many")
def write(name, rows, prefix):
    with open(f"{out}/{name}", "w", encoding="utf-8") as f:
        for d in rows:
            f.write(json.dumps(dict(d, doc_id=prefix + d["doc_id"]), ensure_ascii=False) + "\n")
a = corpus[:docs]
write("cold.jsonl", a, "cold:")
write("cached.jsonl", a, "again:")
# A question per ingested document: its own words (the first line after the signature).
with open(f"{out}/queries.txt", "w", encoding="utf-8") as f:
    seen = set()
    for d in a:
        lines = [l.strip() for l in d["text"].split("\n") if l.strip()]
        q = (lines[1] if len(lines) > 1 else lines[0])[:160]
        if q not in seen:
            seen.add(q)
            f.write(q + "\n")
for r in range(repeats):
    b = corpus[docs + r * outage: docs + (r + 1) * outage]
    write(f"noredis-{r}.jsonl", b, f"noredis{r}:")
    write(f"deadredis-{r}.jsonl", b, f"deadredis{r}:")
EOF
python3 - "$OUT/data" "$INGEST_DOCS" "$REPEATS" "$WARMUP_DOCS" <<'EOF'
import json, sys
out, docs, repeats, warm = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
corpus = [json.loads(l) for l in open("scripts/sample/corpus.jsonl", encoding="utf-8") if l.strip()]
if docs + warm + 600 > len(corpus):
    sys.exit(f"the corpus has {len(corpus)} documents; --ingest-docs + --warmup-docs leave fewer than 600 for the backlog")
def write(name, rows, prefix):
    with open(f"{out}/{name}", "w", encoding="utf-8") as f:
        for d in rows:
            f.write(json.dumps(dict(d, doc_id=prefix + d["doc_id"]), ensure_ascii=False) + "\n")
# The timed ingest is the first docs (the texts bench-model measured); the warm-up and the backlog
# are other texts, so no timed text is in the job's in-process cache before its run.
for r in range(repeats):
    for v in ("adaptive", "fixed", "single"):
        write(f"ingest-{v}-{r}.jsonl", corpus[:docs], f"{v}{r}:")
        write(f"warm-{v}-{r}.jsonl", corpus[docs:docs + warm], f"warm{v}{r}:")
    write(f"backlog-{r}.jsonl", corpus[docs + warm:], f"backlog{r}:")
# Query texts: a line of every document, distinct; idle and backlog runs get disjoint halves so
# neither finds the other's vectors in the in-process cache.
qs, seen = [], set()
for d in corpus:
    lines = [l.strip() for l in d["text"].split("\n") if l.strip()]
    q = (lines[1] if len(lines) > 1 else lines[0])[:160]
    if q not in seen:
        seen.add(q)
        qs.append(q)
half = len(qs) // 2
open(f"{out}/queries-idle.txt", "w", encoding="utf-8").write("\n".join(qs[:half]) + "\n")
open(f"{out}/queries-backlog.txt", "w", encoding="utf-8").write("\n".join(qs[half:]) + "\n")
open(f"{out}/queries-all.txt", "w", encoding="utf-8").write("\n".join(qs) + "\n")
EOF

# ---- migration -------------------------------------------------------------------------
# rows COLLECTION_OR_PREFIX: chunk rows in the collection (an alias works), or in the one collection
# whose name starts with the prefix (ends in "__"); 0 while there is none.
rows() {
  "$LOCAL/venv/bin/python" - "$MILVUS_URI" "$1" <<'EOF'
import sys
from pymilvus import MilvusClient
c = MilvusClient(uri=sys.argv[1], timeout=10)
name = sys.argv[2]
if name.endswith("__"):
    names = [n for n in c.list_collections() if n.startswith(name)]
    if not names:
        print(0); sys.exit()
    name = names[0]
print(c.query(name, filter="", output_fields=["count(*)"], consistency_level="Strong")[0]["count(*)"])
EOF
}
# backfill_body TOPIC ALIAS GROUP: the /jars/:id/run request of a backfill job on this stack.
backfill_body() {
  python3 - "$BOOTSTRAP" "$MILVUS_URI" "$1" "$2" "$MIGRATION_MODEL" "$3" <<'EOF'
import json, sys
b, m, topic, alias, model, group = sys.argv[1:]
print(json.dumps({"entryClass": "dev.embedstream.jobs.EmbedstreamJob", "parallelism": 2, "programArgsList": [
    "--job.role", "backfill", "--model.name", model, "--kafka.group-id", group, "--kafka.bootstrap-servers", b,
    "--milvus.uri", m, "--milvus.collection", alias, "--topic.documents", topic]}))
EOF
}
# watch_backfill PREFIX CHUNKS SUBMITTED OUT: poll the new collection until it holds CHUNKS rows
# (15 min at most); write when its first row and its last one came.
watch_backfill() {
  local prefix=$1 chunks=$2 submitted=$3 out=$4 first="" done="" n now
  while :; do
    n=$(rows "$prefix" 2>/dev/null || echo 0)
    now=$(date +%s.%N)
    [[ -n $first || $n == 0 ]] || first=$now
    if ((n >= chunks)); then done=$now; break; fi
    awk -v a="$now" -v b="$submitted" 'BEGIN { exit !(a - b > 900) }' && break
    sleep 0.5
  done
  python3 -c 'import json,sys; s,f,d,c,n=sys.argv[1:]; print(json.dumps({"submitted": float(s), "first_row": float(f) if f else None, "done": float(d) if d else None, "chunks": int(c), "documents": int(n)}))' \
    "$submitted" "$first" "$done" "$chunks" "$MIGRATION_DOCS" >"$out"
}
if section migration; then
  head -n "$MIGRATION_DOCS" scripts/sample/corpus.jsonl >"$OUT/data/migration.jsonl"
  for ((r = 0; r < REPEATS; r++)); do
    topic="bench-migration-$r.documents" alias="bench_migration_$r"
    stack_create_topics "$LOCAL/kafka" "$BOOTSTRAP" 2 "$topic:cleanup.policy=compact"
    start_job "migration-$r" --topic.documents "$topic" --milvus.collection "$alias"
    log "migration, run $((r + 1))/$REPEATS: a. cold ingest of $MIGRATION_DOCS documents"
    cli --documents-topic "$topic" ingest "$OUT/data/migration.jsonl" --await-milvus "$MILVUS_URI" --collection "$alias" \
      --await-timeout 15m --out "$OUT/raw/migration-ingest-$r.json" >/dev/null || log "migration run $((r + 1)): not every document landed"
    chunks=$(rows "$alias")
    log "migration, run $((r + 1))/$REPEATS: b. 20 q/s idle ($chunks chunks serving)"
    sleep 10 # idle: Milvus Lite finishes indexing the segments the ingest sealed
    cli bench-queries --rate 20 --duration 20s --warmup 5s --queries "$OUT/data/queries-idle.txt" \
      --out "$OUT/raw/migration-latency-idle-$r.json" >/dev/null || log "idle queries $((r + 1)): some unanswered or not ok"
    log "migration, run $((r + 1))/$REPEATS: c. backfill with $MIGRATION_MODEL while 20 q/s go to the serving job"
    jar=$(curl -fsS -X POST -H 'Expect:' -F "jarfile=@$JAR" "$WEB/jars/upload" \
      | python3 -c 'import json,sys,os; print(os.path.basename(json.load(sys.stdin)["filename"]))') || die "could not upload the job jar to $WEB"
    # Run 1: what the machine spends its cores on while the backfill and the queries share it (the
    # backfill runs in the serving job's JVM: one MiniCluster).
    profile_start "$r" migration-backfill
    submitted=$(date +%s.%N)
    backfill=$(curl -fsS -X POST -H 'Content-Type: application/json' -d "$(backfill_body "$topic" "$alias" "bench-migration-backfill-$r")" \
      "$WEB/jars/$jar/run" | python3 -c 'import json,sys; print(json.load(sys.stdin)["jobid"])') || die "could not run the backfill job"
    # The collection is named after the model as Milvus allows: lower case, other characters "_".
    slug=$(tr 'A-Z' 'a-z' <<<"$MIGRATION_MODEL" | sed 's/[^a-z0-9_]/_/g')
    watch_backfill "${alias}__${slug}__" "$chunks" "$submitted" "$OUT/raw/migration-backfill-$r.json" & watcher=$!
    sleep 3
    cli bench-queries --rate 20 --duration 20s --warmup 3s --queries "$OUT/data/queries-backlog.txt" \
      --out "$OUT/raw/migration-latency-backfill-$r.json" >/dev/null || log "backfill queries $((r + 1)): some unanswered or not ok"
    wait "$watcher" || true
    profile_stop
    grep -q '"done": [0-9]' "$OUT/raw/migration-backfill-$r.json" || log "migration run $((r + 1)): the backfill did not catch up within 15 min"
    curl -fsS -X PATCH "$WEB/jobs/$backfill?mode=cancel" >/dev/null || log "could not cancel the backfill job $backfill"
    stop_job "migration-$r"
    # The ratio's baseline: a cold ingest of the same documents with the backfill's model.
    log "migration, run $((r + 1))/$REPEATS: d. cold ingest with $MIGRATION_MODEL (the backfill's baseline)"
    stack_create_topics "$LOCAL/kafka" "$BOOTSTRAP" 2 "$topic-b:cleanup.policy=compact"
    start_job "migration-b-$r" --topic.documents "$topic-b" --milvus.collection "${alias}_b" --model.name "$MIGRATION_MODEL"
    cli --documents-topic "$topic-b" ingest "$OUT/data/migration.jsonl" --await-milvus "$MILVUS_URI" --collection "${alias}_b" \
      --await-timeout 15m --out "$OUT/raw/migration-ingest-b-$r.json" >/dev/null || log "migration run $((r + 1)): not every document landed (d)"
    stop_job "migration-b-$r"
  done
fi

# ---- overload --------------------------------------------------------------------------
# heap_sample OUT: the job JVM's heap used (bytes), one "epoch value" line a second, until killed.
heap_sample() {
  while :; do
    { curl -fsS "$METRICS" 2>/dev/null || true; } |
      awk -v t="$(date +%s.%N)" '/^flink_taskmanager_Status_JVM_Memory_Heap_Used/ { print t, $2; exit }' >>"$1" || true
    sleep 1
  done
}
# p99_of FILE: the p99_ms of a bench-queries report, 1e9 when there is none
p99_of() { python3 -c 'import json,sys; v=json.load(open(sys.argv[1])).get("p99_ms"); print(v if v is not None else 1e9)' "$1" 2>/dev/null || echo 1e9; }
if section overload; then
  python3 - "$OUT/data" "$REPEATS" "$FAIR_DOCS" "$FAIR_SECONDS" "$OVERLOAD_SECONDS" <<'EOF'
import json, sys
out, repeats, fair_docs, fair_seconds, seconds = sys.argv[1], *map(int, sys.argv[2:])
corpus = [json.loads(l) for l in open("scripts/sample/corpus.jsonl", encoding="utf-8") if l.strip()]
lines = []
for d in corpus:
    ls = [l.strip() for l in d["text"].split("\n") if l.strip()]
    lines.append((ls[1] if len(ls) > 1 else ls[0])[:160])
def docs(name, tenant, n, token):
    # a unique token before each corpus text: every document is new work (no embedding cache hit)
    with open(f"{out}/{name}", "w", encoding="utf-8") as f:
        for i in range(n):
            d = corpus[i % len(corpus)]
            f.write(json.dumps({"doc_id": f"{token}-{i}", "op": "upsert", "tenant": tenant,
                                "text": f"{token}x{i} {d['text']}"}, ensure_ascii=False) + "\n")
def queries(name, n, token):
    open(f"{out}/{name}", "w", encoding="utf-8").write("".join(f"{token}x{i} {lines[i % len(lines)]}\n" for i in range(n)))
for r in range(repeats):
    docs(f"overload-a-{r}.jsonl", "A", fair_docs, f"a{r}")
    for phase in ("alone", "backlog"):
        docs(f"overload-b-{phase}-{r}.jsonl", "B", fair_seconds, f"b{phase}{r}")
        queries(f"overload-qb-{phase}-{r}.txt", 5 * fair_seconds + 50, f"qb{phase}{r}")
    queries(f"overload-qc-{r}.txt", 20 * (fair_seconds + 10), f"qc{r}")
    queries(f"overload-capacity-{r}.txt", 200 * 25, f"cap{r}")
    queries(f"overload-idle-{r}.txt", 20 * 25, f"idle{r}")
    queries(f"overload-burst-{r}.txt", 1000 * seconds, f"burst{r}")
    queries(f"overload-recovery-{r}.txt", 20 * 25, f"rec{r}")
# Zipf texts: one line per document, distinct, the first 300 documents (the cache section's kind)
seen = list(dict.fromkeys(lines[:300]))
open(f"{out}/overload-zipf.txt", "w", encoding="utf-8").write("\n".join(seen) + "\n")
EOF
  for ((r = 0; r < REPEATS; r++)); do
    topic="bench-overload-$r.documents" alias="bench_overload_$r"
    stack_create_topics "$LOCAL/kafka" "$BOOTSTRAP" 2 "$topic:cleanup.policy=compact"
    # F. fairness and backlog
    start_job "overload-f-$r" --redis.uri "$REDIS_URI" --topic.documents "$topic" --milvus.collection "$alias"
    fair() { # PHASE: B's documents and queries for --fair-seconds (the third tenant's 20 q/s beside them under the backlog)
      local phase=$1 fresh third=
      "$LOCAL/venv/bin/python" scripts/bench-overload-fresh.py "$BOOTSTRAP" "$topic" "$MILVUS_URI" "$alias" B \
        "$OUT/data/overload-b-$phase-$r.jsonl" "$FAIR_SECONDS" "$OUT/raw/overload-fresh-$phase-$r.json" "$LOCAL/kafka" & fresh=$!
      if [[ $phase == backlog ]]; then
        cli bench-queries --tenant C --rate 20 --duration "${FAIR_SECONDS}s" --warmup 3s --queries "$OUT/data/overload-qc-$r.txt" \
          --out "$OUT/raw/overload-third-$r.json" >/dev/null & third=$!
      fi
      sleep 3 # B's producer is up
      cli bench-queries --tenant B --rate 5 --duration "${FAIR_SECONDS}s" --warmup 2s --queries "$OUT/data/overload-qb-$phase-$r.txt" \
        --out "$OUT/raw/overload-bq-$phase-$r.json" >/dev/null || log "overload run $((r + 1)): B's queries ($phase): some unanswered or not ok"
      [[ -z $third ]] || wait "$third" || log "overload run $((r + 1)): the third tenant's queries: some unanswered or not ok"
      wait "$fresh" || log "overload run $((r + 1)): B's freshness ($phase) failed"
    }
    log "overload, run $((r + 1))/$REPEATS: F. tenant B alone (1 document/s and 5 q/s for ${FAIR_SECONDS}s)"
    fair alone
    log "overload, run $((r + 1))/$REPEATS: F. tenant A publishes $FAIR_DOCS documents; B again, and 20 q/s of tenant C"
    cli --documents-topic "$topic" ingest "$OUT/data/overload-a-$r.jsonl" >/dev/null
    fair backlog
    stop_job "overload-f-$r"
    # H. hits, on a fresh job (A's backlog would otherwise still take the cores)
    # (its own empty documents topic; the collection of F, so searches have rows to scan)
    stack_create_topics "$LOCAL/kafka" "$BOOTSTRAP" 2 "$topic-h:cleanup.policy=compact"
    start_job "overload-h-$r" --redis.uri "$REDIS_URI" --topic.documents "$topic-h" --milvus.collection "$alias"
    heap_sample "$OUT/raw/overload-heap-$r.txt" & sampler=$!
    log "overload, run $((r + 1))/$REPEATS: H. warm the cache (100 q/s for 20 s), then Zipf at 1000 q/s"
    cli bench-queries --rate 100 --duration 20s --warmup 0s --zipf "$ZIPF" --seed "$r" --queries "$OUT/data/overload-zipf.txt" \
      --out "$OUT/raw/overload-warm-$r.json" >/dev/null || true
    cli bench-queries --rate 1000 --duration "${OVERLOAD_SECONDS}s" --warmup 2s --zipf "$ZIPF" --seed "$((r + 100))" \
      --queries "$OUT/data/overload-zipf.txt" --out "$OUT/raw/overload-hits-$r.json" >/dev/null || log "overload run $((r + 1)): hits: some unanswered or not ok"
    if ((r == 0)); then
      best=
      for step in 1000 1500 2000 3000 4000; do
        log "overload: H. step $step q/s for 20 s"
        cli bench-queries --rate "$step" --duration 20s --warmup 2s --zipf "$ZIPF" --seed "$step" --queries "$OUT/data/overload-zipf.txt" \
          --out "$OUT/raw/overload-step-$step.json" >/dev/null || true
        awk -v p="$(p99_of "$OUT/raw/overload-step-$step.json")" 'BEGIN { exit !(p <= 100) }' || break
        best=$step
      done
      if [[ -n $best ]]; then
        log "overload: H. the highest passing step, $best q/s, for ${OVERLOAD_SECONDS}s"
        cli bench-queries --rate "$best" --duration "${OVERLOAD_SECONDS}s" --warmup 2s --zipf "$ZIPF" --seed 7 --queries "$OUT/data/overload-zipf.txt" \
          --out "$OUT/raw/overload-sustained.json" >/dev/null || true
      fi
    fi
    # O. overload
    log "overload, run $((r + 1))/$REPEATS: O. capacity (distinct texts at 60 q/s for 20 s)"
    cli bench-queries --rate 60 --duration 20s --warmup 0s --queries "$OUT/data/overload-capacity-$r.txt" \
      --out "$OUT/raw/overload-capacity-$r.json" >/dev/null || true
    capacity=$(python3 -c 'import json,sys; print(max(1, round(json.load(open(sys.argv[1]))["by_status"].get("ok", 0) / 20)))' \
      "$OUT/raw/overload-capacity-$r.json") || { log "overload run $((r + 1)): no capacity measured; 3 x 10 q/s instead"; capacity=10; }
    sleep 5
    cli bench-queries --rate 20 --duration 20s --warmup 2s --queries "$OUT/data/overload-idle-$r.txt" \
      --out "$OUT/raw/overload-idle-$r.json" >/dev/null || log "overload run $((r + 1)): idle queries: some unanswered or not ok"
    log "overload, run $((r + 1))/$REPEATS: O. $((3 * capacity)) q/s (3 x capacity $capacity) for ${OVERLOAD_SECONDS}s, deadline 1 s"
    : >"$OUT/raw/overload-burst-heap-$r.txt"
    heap_sample "$OUT/raw/overload-burst-heap-$r.txt" & burst_heap=$!
    cli bench-queries --rate "$((3 * capacity))" --duration "${OVERLOAD_SECONDS}s" --warmup 0s --deadline 1s \
      --queries "$OUT/data/overload-burst-$r.txt" --out "$OUT/raw/overload-burst-$r.json" >/dev/null & burst=$!
    sleep "$OVERLOAD_SECONDS"
    kill "$burst_heap"; wait "$burst_heap" 2>/dev/null || true
    log "overload, run $((r + 1))/$REPEATS: O. recovery (20 q/s for 20 s right after the burst)"
    cli bench-queries --rate 20 --duration 20s --warmup 0s --queries "$OUT/data/overload-recovery-$r.txt" \
      --out "$OUT/raw/overload-recovery-$r.json" >/dev/null || log "overload run $((r + 1)): recovery queries: some unanswered or not ok"
    wait "$burst" || log "overload run $((r + 1)): burst: not every answer ok (expected: shed)"
    echo "{\"capacity_qps\": $capacity}" >"$OUT/raw/overload-capacity-rate-$r.json"
    kill "$sampler"; wait "$sampler" 2>/dev/null || true
    stop_job "overload-h-$r"
  done
fi

# ---- batching --------------------------------------------------------------------------
ingest_timed() { # VARIANT REPEAT: warm-up, then the timed ingest with the batch metrics sampled
  local v=$1 r=$2 sampler
  cli ingest "$OUT/data/warm-$v-$r.jsonl" --await-milvus "$MILVUS_URI" >/dev/null || log "warm-up $v $r incomplete"
  python3 scripts/bench-sample.py "$METRICS" "$OUT/raw/batches-$v-$r.jsonl" & sampler=$!
  log "$v, run $((r + 1))/$REPEATS: ingest $INGEST_DOCS documents"
  [[ $v != adaptive ]] || profile_start "$r" ingest
  cli ingest "$OUT/data/ingest-$v-$r.jsonl" --await-milvus "$MILVUS_URI" --await-timeout 10m \
    --out "$OUT/raw/ingest-$v-$r.json" >/dev/null || log "$v run $((r + 1)): not every document landed"
  [[ $v != adaptive ]] || profile_stop
  kill "$sampler"; wait "$sampler" 2>/dev/null || true
}
if section batching; then
  for ((r = 0; r < REPEATS; r++)); do
    start_job "adaptive-$r" --batch.strategy ADAPTIVE
    ingest_timed adaptive "$r"
    log "adaptive, run $((r + 1))/$REPEATS: the same documents again, unchanged"
    cli ingest "$OUT/data/ingest-adaptive-$r.jsonl" --await-dedup "$METRICS" --await-timeout 2m \
      --out "$OUT/raw/reingest-$r.json" >/dev/null || log "re-ingest $((r + 1)): not every document was dropped"
    log "adaptive, run $((r + 1))/$REPEATS: 20 q/s idle"
    sleep 10 # idle: Milvus Lite finishes indexing the segments the ingest sealed
    cli bench-queries --rate 20 --duration 20s --warmup 5s --queries "$OUT/data/queries-idle.txt" \
      --out "$OUT/raw/latency-idle-$r.json" >/dev/null || log "idle queries $((r + 1)): some unanswered or not ok"
    log "adaptive, run $((r + 1))/$REPEATS: 20 q/s under a document backlog"
    python3 scripts/bench-sample.py "$METRICS" "$OUT/raw/batches-backlog-$r.jsonl" & sampler=$!
    cli ingest "$OUT/data/backlog-$r.jsonl" --await-milvus "$MILVUS_URI" --await-timeout 10m \
      --out "$OUT/raw/backlog-ingest-$r.json" >/dev/null & backlog=$!
    sleep 3
    profile_start "$r" backlog
    cli bench-queries --rate 20 --duration 20s --warmup 3s --queries "$OUT/data/queries-backlog.txt" \
      --out "$OUT/raw/latency-backlog-$r.json" >/dev/null || log "backlog queries $((r + 1)): some unanswered or not ok"
    profile_stop
    wait "$backlog" || log "backlog $((r + 1)): not every document landed"
    kill "$sampler"; wait "$sampler" 2>/dev/null || true
    for shape in constant ramp burst spike wave; do
      log "adaptive, run $((r + 1))/$REPEATS: load shape $shape (20 -> $PEAK q/s)"
      cli bench-queries --shape "$shape" --rate 20 --peak "$PEAK" --duration 20s --warmup 2s \
        --queries "$OUT/data/queries-all.txt" --out "$OUT/raw/shape-$shape-$r.json" >/dev/null \
        || log "shape $shape $((r + 1)): some unanswered or not ok"
    done
    stop_job "adaptive-$r"
    start_job "fixed-$r" --batch.strategy FIXED --batch.max-size "$FIXED_SIZE"
    ingest_timed fixed "$r"
    stop_job "fixed-$r"
    start_job "single-$r" --batch.strategy FIXED --batch.max-size 1
    ingest_timed single "$r"
    stop_job "single-$r"
  done
fi
if ! section cache; then
  report
  exit 0
fi

# ---- cache 1 + 2: with Redis ----------------------------------------------------------------
start_job redis --redis.uri "$REDIS_URI"
log "cold ingest of $DOCS documents"
cli ingest "$OUT/data/cold.jsonl" --await-milvus "$MILVUS_URI" --out "$OUT/raw/ingest-cold.json" >/dev/null
log "the same texts again under new doc ids (all cached)"
cli ingest "$OUT/data/cached.jsonl" --await-milvus "$MILVUS_URI" --out "$OUT/raw/ingest-cached.json" >/dev/null
for ((r = 0; r < REPEATS; r++)); do
  log "Zipf queries, run $((r + 1))/$REPEATS: $QPS q/s for ${SECONDS_PER_RUN}s, s=$ZIPF"
  cli bench-queries --rate "$QPS" --duration "${SECONDS_PER_RUN}s" --warmup 5s --zipf "$ZIPF" --seed "$r" \
    --queries "$OUT/data/queries.txt" --out "$OUT/raw/zipf-$r.json" >/dev/null || log "run $((r + 1)): some queries unanswered or not ok (see raw/zipf-$r.json)"
done
stop_job redis

# ---- cache 3: Redis stopped vs no Redis ---------------------------------------------------
DEAD_REDIS_URI=$REDIS_URI
stack_stop "$WORK/redis/redis.pid" TERM
for ((r = 0; r < REPEATS; r++)); do
  for variant in noredis deadredis; do
    if [[ $variant == noredis ]]; then start_job "$variant-$r"; else start_job "$variant-$r" --redis.uri "$DEAD_REDIS_URI"; fi
    log "$variant, run $((r + 1))/$REPEATS: ingest $OUTAGE_DOCS new documents"
    cli ingest "$OUT/data/$variant-$r.jsonl" --await-milvus "$MILVUS_URI" --await-timeout 5m \
      --out "$OUT/raw/$variant-ingest-$r.json" >/dev/null || log "$variant run $((r + 1)): not every document landed"
    cli bench-queries --rate 20 --duration 10s --warmup 0s --queries "$OUT/data/queries.txt" \
      --out "$OUT/raw/$variant-queries-$r.json" >/dev/null || log "$variant run $((r + 1)): some queries unanswered or not ok"
    stop_job "$variant-$r"
  done
done

report
