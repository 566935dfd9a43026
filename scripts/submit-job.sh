#!/usr/bin/env bash
# scripts/submit-job.sh - submit the embedstream job jar to a running Flink cluster through its
# REST API (what `flink run --detached` does), wait until all its tasks run, print the job id.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: scripts/submit-job.sh [OPTIONS] [--] [JOB OPTIONS...]

Uploads the job jar to the Flink cluster, runs dev.embedstream.jobs.EmbedstreamJob with the job
options (every `--key value` of docs/configuration.md, e.g. --kafka.bootstrap-servers
kafka:9092 --milvus.uri http://milvus:19530), waits until the job and all its tasks are RUNNING,
removes the uploaded jar from the cluster and prints the job id on stdout.

The cluster must serve the jar upload API: web.submit.enable: true. flink-conf/config.yaml ships
it off; this script then stops before uploading and says what to use instead (`flink run`, which
sends the job graph to POST /jobs, or application mode).

  --rest URL                Flink REST endpoint (default: $FLINK_REST or http://127.0.0.1:8081)
  --jar PATH                job jar (default: jobs/target/embedstream-job.jar; build it with
                            mvn -B -ntp -DskipTests package)
  --parallelism N           job parallelism (default: the cluster's parallelism.default)
  --from-savepoint PATH     start from this savepoint or retained checkpoint
  --allow-non-restored-state  allow savepoint state that no operator of the job claims
  --timeout SECS            how long to wait for RUNNING (default 180)
  -h, --help                this help

Exit status 0 when the job runs; non-zero with the cluster's error otherwise.
USAGE
}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=SCRIPTDIR/lib/flink-rest.sh
. "$ROOT/scripts/lib/flink-rest.sh"

FLINK_REST=${FLINK_REST:-http://127.0.0.1:8081}
JAR=$ROOT/jobs/target/embedstream-job.jar
PARALLELISM=
SAVEPOINT=
ALLOW_NON_RESTORED=false
TIMEOUT=180
while (($#)); do
  case $1 in
    --rest) FLINK_REST=$2; shift 2 ;;
    --jar) JAR=$2; shift 2 ;;
    --parallelism) PARALLELISM=$2; shift 2 ;;
    --from-savepoint) SAVEPOINT=$2; shift 2 ;;
    --allow-non-restored-state) ALLOW_NON_RESTORED=true; shift ;;
    --timeout) TIMEOUT=$2; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    --) shift; break ;;
    *) break ;;
  esac
done
[[ -f $JAR ]] || flink_die "$JAR not found (build it: mvn -B -ntp -DskipTests package)"
[[ -z $PARALLELISM || $PARALLELISM =~ ^[1-9][0-9]*$ ]] || flink_die "--parallelism must be a positive integer"

# A cluster on flink-conf/config.yaml refuses uploads: say so (and what to do) before sending the jar.
flink_require_jar_upload
flink_log "uploading $JAR ($(du -h "$JAR" | cut -f1)) to $FLINK_REST"
upload=$(flink_upload_jar "$JAR") || flink_die "upload to $FLINK_REST failed"
[[ $(json_get "$upload" 'd.get("status", "")') == success ]] || flink_die "upload refused: $upload"
jar_id=$(basename "$(json_get "$upload" 'd["filename"]')")
# The cluster keeps an uploaded jar until it is deleted; one per submission would fill its disk.
trap 'flink_rest DELETE "/jars/$jar_id" >/dev/null || true' EXIT

request=$(python3 - "$PARALLELISM" "$SAVEPOINT" "$ALLOW_NON_RESTORED" "$@" <<'PY'
import json, sys
parallelism, savepoint, allow, *args = sys.argv[1:]
body = {"entryClass": "dev.embedstream.jobs.EmbedstreamJob", "programArgsList": args}
if parallelism:
    body["parallelism"] = int(parallelism)
if savepoint:
    body["savepointPath"] = savepoint
    body["allowNonRestoredState"] = allow == "true"
print(json.dumps(body))
PY
)
flink_log "running the job${SAVEPOINT:+ from $SAVEPOINT}${PARALLELISM:+ at parallelism $PARALLELISM}"
run=$(FLINK_REST_TIMEOUT=300 flink_rest POST "/jars/$jar_id/run" "$request") || flink_die "the cluster did not run the job"
job=$(json_get "$run" 'd["jobid"]')
flink_await_job_running "$job" "$TIMEOUT" ||
  flink_die "job $job did not start (if it is restarting, it is still on the cluster: cancel it or fix the cause)"
flink_log "job $job is running"
echo "$job"
