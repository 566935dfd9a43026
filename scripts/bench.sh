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
# Section "model" (the batching issue's ceiling): `embedstream bench-model` on the first --docs
#   documents' chunks: raw ONNX Runtime chunks/s with the job's engines and threads (2 x 1) at batch
#   sizes 1, 4, 16, 64, in arrival order and grouped by length; then the int8 model at the best
#   setting and the mean cosine between int8 and fp32 vectors.
#
# Usage: scripts/bench.sh [--only cache|model] [--repeats N] [--qps N] [--seconds N] [--zipf S] [--docs N] [--outage-docs N]
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=SCRIPTDIR/lib/stack.sh
. "$ROOT/scripts/lib/stack.sh"

REPEATS=3 QPS=1000 SECONDS_PER_RUN=30 ZIPF=1.1 DOCS=300 OUTAGE_DOCS=150 ONLY=""
while (($#)); do
  case $1 in
    --only) ONLY=$2; shift ;;
    --repeats) REPEATS=$2; shift ;;
    --qps) QPS=$2; shift ;;
    --seconds) SECONDS_PER_RUN=$2; shift ;;
    --zipf) ZIPF=$2; shift ;;
    --docs) DOCS=$2; shift ;;
    --outage-docs) OUTAGE_DOCS=$2; shift ;;
    -h | --help) sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
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

if [[ -z $ONLY || $ONLY == model ]]; then
  log "model alone: raw ONNX Runtime on the chunks of $DOCS documents (2 engines x 1 thread), then int8 vs fp32"
  scripts/embedstream bench-model --docs "$DOCS" --repeats "$REPEATS" --batch-sizes 1,4,16,64 \
    --compare all-minilm-l6-v2-q --out "$OUT/raw/model.json" >/dev/null
fi
if [[ $ONLY == model ]]; then
  python3 scripts/bench-report.py "$OUT" "$QPS" "$SECONDS_PER_RUN" "$ZIPF" "$DOCS" "$OUTAGE_DOCS" "$REPEATS"
  exit 0
fi
stack_install_redis
stack_install_milvus "$LOCAL/venv"
stack_install_kafka "$LOCAL/kafka"

port=$(stack_free_port 1); stack_start_kafka "$LOCAL/kafka" "$WORK/kafka" "$port"; BOOTSTRAP="127.0.0.1:$port"
port=$(stack_free_port 1); stack_start_milvus "$LOCAL/venv" "$WORK/milvus" "$port"; MILVUS_URI="http://127.0.0.1:$port"
port=$(stack_free_port 1); stack_start_redis "$WORK/redis" "$port"; REDIS_URI="redis://127.0.0.1:$port"
stack_create_topics "$LOCAL/kafka" "$BOOTSTRAP" 2 embedstream.documents embedstream.queries embedstream.responses embedstream.dlq

cli() { scripts/embedstream --bootstrap "$BOOTSTRAP" "$@"; }

# start_job NAME [job options...]: a fresh JVM with the job, ready once it answers a query. All
# jobs share one consumer group, so each resumes where the last one stopped instead of reading
# (and answering, and embedding) everything the earlier runs sent.
start_job() {
  local name=$1 web prom
  shift
  read -r web prom < <(stack_free_port 2)
  log "job '$name': starting ($*)"
  stack_spawn "job-$name" "$OUT/jobs" TERM "${JAVA_HOME:+$JAVA_HOME/bin/}java" -Xmx2g -Dai.djl.offline=true \
    -cp "$JAR:$(cat "$CLASSPATH_FILE")" dev.embedstream.jobs.LocalRunner \
    --kafka.bootstrap-servers "$BOOTSTRAP" --kafka.group-id bench --milvus.uri "$MILVUS_URI" \
    --local.web-port "$web" --local.prometheus-port "$prom" --local.checkpoint-dir "$WORK/checkpoints-$name" "$@"
  cli query "ready probe" --timeout 180s >/dev/null || die "job '$name' did not answer (log: $OUT/jobs/logs/job-$name.log)"
}
stop_job() { stack_stop "$OUT/jobs/job-$1.pid" TERM; }

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

# ---- 1 + 2: with Redis ----------------------------------------------------------------
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

# ---- 3: Redis stopped vs no Redis ---------------------------------------------------
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

# ---- report -------------------------------------------------------------------------
python3 scripts/bench-report.py "$OUT" "$QPS" "$SECONDS_PER_RUN" "$ZIPF" "$DOCS" "$OUTAGE_DOCS" "$REPEATS"
cli bench-plot "$OUT/results.json" >/dev/null
log "results in $OUT"
