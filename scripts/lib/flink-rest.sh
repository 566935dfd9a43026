# shellcheck shell=bash
# scripts/lib/flink-rest.sh - the few calls of Flink's REST API that submit-job.sh and savepoint.sh
# make (upload a jar, run it, stop a job with a savepoint, wait for states). A sourced library.
# Every call has a time limit; JSON is read and written with python3 (no jq needed).
#
#   flink_rest METHOD PATH [JSON]       call $FLINK_REST (e.g. http://127.0.0.1:8081), print the body
#   flink_upload_jar JAR                POST /jars/upload, print the answer
#   json_get JSON EXPR                  print EXPR of the parsed document `d`, e.g. 'd["jobid"]'
#   flink_job_exception JOB             the first lines of the job's latest exception
#   flink_await_job_running JOB SECS    until the job and all its tasks run; fail if it ends or
#                                       restarts first (the job may still be restarting then)

flink_log() { printf '[%s] %s\n' "$(basename "$0" .sh)" "$*" >&2; }
flink_die() { printf '[%s] ERROR: %s\n' "$(basename "$0" .sh)" "$*" >&2; exit 1; }

# _flink_curl PATH CURL_ARGS...: the body of a 2xx answer, or a logged failure.
_flink_curl() {
  local path=$1 out code
  shift
  out=$(curl -sS --max-time "${FLINK_REST_TIMEOUT:-60}" -w '\n%{http_code}' "$@" "${FLINK_REST%/}$path") ||
    { flink_log "$path: no answer from $FLINK_REST"; return 1; }
  code=${out##*$'\n'}
  out=${out%$'\n'*}
  if [[ $code != 2?? ]]; then
    flink_log "$path answered HTTP $code: $out"
    return 1
  fi
  printf '%s\n' "$out"
}

flink_rest() {
  local method=$1 path=$2 body=${3:-}
  if [[ -n $body ]]; then
    _flink_curl "$path" -X "$method" -H 'Content-Type: application/json' --data "$body"
  else
    _flink_curl "$path" -X "$method"
  fi
}

flink_upload_jar() {
  FLINK_REST_TIMEOUT=600 _flink_curl /jars/upload -X POST -H 'Expect:' -F "jarfile=@$1;type=application/java-archive"
}

json_get() {
  python3 -c 'import json, sys; d = json.loads(sys.argv[1]); v = eval(sys.argv[2]); print(v if isinstance(v, str) else json.dumps(v))' "$1" "$2"
}

# The first lines of the job's most recent exception.
flink_job_exception() {
  local body
  body=$(flink_rest GET "/jobs/$1/exceptions" 2>/dev/null) || { echo "(unavailable)"; return 0; }
  json_get "$body" '((d.get("exceptionHistory") or {}).get("entries") or [{}])[0].get("stacktrace", "(none)")' | head -n 12
}

flink_await_job_running() {
  local job=$1 secs=$2 start=$SECONDS body state
  while ((SECONDS - start < secs)); do
    if body=$(flink_rest GET "/jobs/$job" 2>/dev/null); then
      state=$(json_get "$body" '"%s %s" % (d["state"], all(v["status"] == "RUNNING" for v in d["vertices"]))')
      case $state in
        "RUNNING True") return 0 ;;
        # A job that restarts before all its tasks ever ran will not come up by waiting longer.
        FAILED* | CANCELED* | FINISHED* | RESTARTING*)
          flink_log "job $job is ${state% *}; its latest exception: $(flink_job_exception "$job")"
          return 1 ;;
      esac
    fi
    sleep 1
  done
  flink_log "job $job not running with all tasks after ${secs}s (last state: ${state:-unknown})"
  return 1
}

# flink_require_jar_upload: fail with what to do instead when the cluster does not serve the jar
# upload API (web.submit.enable: false, flink-conf/config.yaml's default): GET /jars answers 404.
flink_require_jar_upload() {
  local code
  code=$(curl -sS -o /dev/null --max-time 30 -w '%{http_code}' "${FLINK_REST%/}/jars") ||
    flink_die "no answer from $FLINK_REST (is the JobManager's REST endpoint there?)"
  [[ $code == 404 ]] || return 0
  flink_die "the cluster at $FLINK_REST does not accept jar uploads through its REST API (GET /jars answered 404:
  web.submit.enable is false, as flink-conf/config.yaml ships it). Either
  - submit with the Flink CLI, which sends the job graph to POST /jobs and needs no upload API:
      flink run --detached -m HOST:PORT [-s SAVEPOINT] [-p N] jobs/target/embedstream-job.jar <job options>
  - or run the job in application mode (the jar in the image: docker/k8s/flinkdeployment.yaml),
  - or opt in where only trusted clients reach the REST endpoint: start the cluster with
      web.submit.enable: true   (config.yaml, or -D web.submit.enable=true)"
}
