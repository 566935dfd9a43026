#!/usr/bin/env bash
# scripts/savepoint.sh - stop the embedstream job with a savepoint and resubmit it from that
# savepoint (an upgrade, a configuration change or a rescale), through Flink's REST API.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: scripts/savepoint.sh --job JOB_ID [OPTIONS] [--] [JOB OPTIONS...]

Stops the job with a savepoint (Kafka offsets, dedup state, the document lane, the reply cache),
prints the savepoint location as the first line on stdout, then submits the job jar again from it
with scripts/submit-job.sh and the given job options, and prints the new job id as the second line.
The resubmission needs the cluster's jar upload API (web.submit.enable: true; checked before the
job is stopped). Without it, use --no-resubmit and `flink run -s SAVEPOINT ...`.
Give the job options again (all of them: they are not read back from the old job); change them,
the jar or --parallelism to upgrade or rescale.

  --job JOB_ID            the running job (scripts/submit-job.sh printed it; or GET /jobs)
  --rest URL              Flink REST endpoint (default: $FLINK_REST or http://127.0.0.1:8081)
  --savepoint-dir URI     where to write it (default: the cluster's
                          execution.checkpointing.savepoint-dir)
  --no-resubmit           only stop with a savepoint
  --jar PATH, --parallelism N, --allow-non-restored-state
                          passed to scripts/submit-job.sh
  --timeout SECS          longest wait for the savepoint, and then for RUNNING (default 300)
  -h, --help              this help
USAGE
}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=SCRIPTDIR/lib/flink-rest.sh
. "$ROOT/scripts/lib/flink-rest.sh"

FLINK_REST=${FLINK_REST:-http://127.0.0.1:8081}
JOB=
DIR=
RESUBMIT=1
TIMEOUT=300
SUBMIT_ARGS=()
while (($#)); do
  case $1 in
    --job) JOB=$2; shift 2 ;;
    --rest) FLINK_REST=$2; shift 2 ;;
    --savepoint-dir) DIR=$2; shift 2 ;;
    --no-resubmit) RESUBMIT=0; shift ;;
    --jar | --parallelism) SUBMIT_ARGS+=("$1" "$2"); shift 2 ;;
    --allow-non-restored-state) SUBMIT_ARGS+=("$1"); shift ;;
    --timeout) TIMEOUT=$2; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    --) shift; break ;;
    *) break ;;
  esac
done
[[ $JOB =~ ^[0-9a-f]{32}$ ]] || { usage >&2; flink_die "--job JOB_ID (32 hex digits) is required"; }

# The resubmission uploads the jar: on a cluster that refuses uploads, fail BEFORE stopping the
# job, not after (with --no-resubmit, stop and resume with `flink run -s SAVEPOINT` instead).
((RESUBMIT == 0)) || flink_require_jar_upload

# drain=false: the sources stop where they are; the rest of the input is read after the resume.
request=$(python3 -c 'import json, sys; b = {"drain": False, "formatType": "CANONICAL"}
if sys.argv[1]: b["targetDirectory"] = sys.argv[1]
print(json.dumps(b))' "$DIR")
flink_log "stopping job $JOB with a savepoint${DIR:+ in $DIR}"
trigger=$(flink_rest POST "/jobs/$JOB/stop" "$request") || flink_die "the cluster refused to stop job $JOB"
trigger=$(json_get "$trigger" 'd["request-id"]')

start=$SECONDS
location=
while ((SECONDS - start < TIMEOUT)); do
  status=$(flink_rest GET "/jobs/$JOB/savepoints/$trigger") || flink_die "cannot read the savepoint status"
  if [[ $(json_get "$status" 'd["status"]["id"]') == COMPLETED ]]; then
    location=$(json_get "$status" 'd["operation"].get("location") or ""')
    [[ -n $location ]] ||
      flink_die "savepoint failed, job $JOB keeps running: $(json_get "$status" 'd["operation"].get("failure-cause", {}).get("stack-trace", d)' | head -20)"
    break
  fi
  sleep 1
done
[[ -n $location ]] || flink_die "no savepoint after ${TIMEOUT}s (job $JOB may still be stopping; see the web UI)"
flink_log "job $JOB stopped; savepoint $location"
echo "$location"

((RESUBMIT)) || exit 0
exec "$ROOT/scripts/submit-job.sh" --rest "$FLINK_REST" --from-savepoint "$location" --timeout "$TIMEOUT" \
  ${SUBMIT_ARGS[@]+"${SUBMIT_ARGS[@]}"} -- "$@"
