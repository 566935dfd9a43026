#!/usr/bin/env bash
# scripts/test.sh - the project's test command.
#
#   scripts/test.sh [MAVEN-ARGS...]          both tiers against real servers, as CI runs them
#   scripts/test.sh --fast [MAVEN-ARGS...]   tier 1 only: `mvn -B -ntp test`, no servers, seconds
#
# Tier 1 is every *Test class (surefire; unit, operator-harness and MiniCluster tests that need no
# server, PipelineTest among them); tier 2 every *ITCase class (failsafe; real Kafka, Milvus Lite,
# Redis, Prometheus). Extra arguments go to Maven. One ITCase (tier 1 skipped):
#   EMBEDSTREAM_SKIP_SUBMISSION_TEST=1 scripts/test.sh -Dit.test=EndToEndPipelineITCase \
#       -Dtest=NONE -Dsurefire.failIfNoSpecifiedTests=false
# One *Test class: scripts/test.sh --fast -Dtest=PipelineTest
#
# Without --fast it installs what is missing (redis-server and prometheus via apt, Milvus Lite venv in .local/venv,
# Kafka jars in .local/kafka), starts a throw-away Kafka broker (KRaft), Milvus Lite
# server and Redis server on FREE ports of 127.0.0.1 (never the default ports, so it
# can run beside scripts/run-local.sh), exports where they are and runs
#
#     mvn -B -ntp verify "$@"
#
# from the repo root, then (when Maven passed) scripts/check-k8s.sh (the Kubernetes manifest against
# the operator's CRD schema) and scripts/test-submission.sh, which submits the
# packaged job jar to a standalone Flink cluster, stops it with a savepoint and resumes it;
# EMBEDSTREAM_SKIP_SUBMISSION_TEST=1 skips that step (for focused runs of single tests), and
# scripts/test-run-local.sh, which runs scripts/run-local.sh on these servers and stops Redis under
# it (EMBEDSTREAM_SKIP_RUN_LOCAL_TEST=1 skips it).
# The servers and their data (.local/test-<pid>/) are removed afterwards, whatever
# happens. The exit status is Maven's, or that of the first script test that failed after it.
#
# Exported to the tests:
#   EMBEDSTREAM_TEST_KAFKA        127.0.0.1:<port>             bootstrap servers
#   EMBEDSTREAM_TEST_MILVUS_URI   http://127.0.0.1:<port>
#   EMBEDSTREAM_TEST_REDIS_URI    redis://127.0.0.1:<port>
#   EMBEDSTREAM_TEST_PROMETHEUS   path of the prometheus binary (Debian package; the test starts it)
# and, for tests that stop/restart a server (see scripts/lib/stack.sh):
#   EMBEDSTREAM_TEST_STACK_LIB    path of scripts/lib/stack.sh
#   EMBEDSTREAM_TEST_KAFKA_HOME   Kafka install dir (libs/, config/)
#   EMBEDSTREAM_TEST_KAFKA_DIR    Kafka instance dir (server.properties, kafka.pid, data/, logs/)
#   EMBEDSTREAM_TEST_MILVUS_VENV  Milvus Lite venv (bin/milvus-lite, bin/python)
#   EMBEDSTREAM_TEST_MILVUS_DIR   Milvus instance dir (milvus.pid, data/, logs/)
#   EMBEDSTREAM_TEST_REDIS_DIR    Redis instance dir (redis.pid, logs/)
# e.g. restart Kafka on the same port after killing $EMBEDSTREAM_TEST_KAFKA_DIR/kafka.pid:
#   bash -c '. "$EMBEDSTREAM_TEST_STACK_LIB" && stack_start_kafka "$EMBEDSTREAM_TEST_KAFKA_HOME" "$EMBEDSTREAM_TEST_KAFKA_DIR" PORT'
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=SCRIPTDIR/lib/stack.sh
. "$ROOT/scripts/lib/stack.sh"

for tool in java mvn python3; do
  command -v "$tool" >/dev/null || { stack_err "$tool is not on PATH (needs Java 17, Maven, Python 3)"; exit 1; }
done

if [[ ${1:-} == --fast ]]; then
  shift
  stack_log "running: mvn -B -ntp test $* (tier 1: no servers)"
  exec mvn -B -ntp test "$@"
fi

LOCAL="$ROOT/.local"
WORK="$LOCAL/test-$$"

stack_cleanup_on_exit "$WORK"

stack_install_redis
# The real Prometheus that ShippedDashboardsAndAlertsQueryLiveMetricsITCase runs against the job.
stack_apt_install prometheus prometheus
stack_install_milvus "$LOCAL/venv"
stack_install_kafka "$LOCAL/kafka"

mkdir -p "$WORK"
# Each port is picked right before its server binds it, so the picks cannot collide.
port=$(stack_free_port 1)
stack_start_kafka "$LOCAL/kafka" "$WORK/kafka" "$port"
export EMBEDSTREAM_TEST_KAFKA="127.0.0.1:$port"

port=$(stack_free_port 1)
stack_start_milvus "$LOCAL/venv" "$WORK/milvus" "$port"
export EMBEDSTREAM_TEST_MILVUS_URI="http://127.0.0.1:$port"

port=$(stack_free_port 1)
stack_start_redis "$WORK/redis" "$port"
export EMBEDSTREAM_TEST_REDIS_URI="redis://127.0.0.1:$port"

EMBEDSTREAM_TEST_PROMETHEUS=$(command -v prometheus)
export EMBEDSTREAM_TEST_PROMETHEUS
export EMBEDSTREAM_TEST_STACK_LIB="$ROOT/scripts/lib/stack.sh"
export EMBEDSTREAM_TEST_KAFKA_HOME="$LOCAL/kafka"
export EMBEDSTREAM_TEST_KAFKA_DIR="$WORK/kafka"
export EMBEDSTREAM_TEST_MILVUS_VENV="$LOCAL/venv"
export EMBEDSTREAM_TEST_MILVUS_DIR="$WORK/milvus"
export EMBEDSTREAM_TEST_REDIS_DIR="$WORK/redis"

stack_log "test servers: Kafka $EMBEDSTREAM_TEST_KAFKA, Milvus $EMBEDSTREAM_TEST_MILVUS_URI, Redis $EMBEDSTREAM_TEST_REDIS_URI"
stack_log "running: mvn -B -ntp verify $*"
rc=0
mvn -B -ntp verify "$@" || rc=$?
stack_log "mvn exited with status $rc"
if ((rc == 0)); then
  stack_log "running: scripts/check-k8s.sh (FlinkDeployment against the operator's CRD schema)"
  scripts/check-k8s.sh || rc=$?
fi
# Like the cluster test, the run-local test needs the jar that `mvn verify` packages.
if ((rc == 0)) && [[ -z ${EMBEDSTREAM_SKIP_RUN_LOCAL_TEST:-} ]]; then
  stack_log "running: scripts/test-run-local.sh (run-local.sh on existing servers; Redis stopped under it)"
  scripts/test-run-local.sh "$WORK/run-local" || rc=$?
fi
# The cluster test needs the jar that `mvn verify` packages, so it runs after Maven.
if ((rc == 0)) && [[ -z ${EMBEDSTREAM_SKIP_SUBMISSION_TEST:-} ]]; then
  stack_log "running: scripts/test-submission.sh (job jar on a standalone Flink cluster)"
  scripts/test-submission.sh "$WORK/submission" || rc=$?
fi
exit "$rc"
