#!/usr/bin/env bash
# Checks docker/k8s/flinkdeployment.yaml offline for the rules the operator's validator applies
# to flinkConfiguration (a savepoint upgrade needs checkpoint and savepoint directories) and for
# what embedstream relies on (autoscaler on, Prometheus reporter, the job jar and class).
# Not yet a schema validation: the CRD schema would have to come from an artifact at check time.
set -euo pipefail
cd "$(dirname "$0")/.."
MANIFEST=${1:-docker/k8s/flinkdeployment.yaml}

fail=0
need() {  # need DESCRIPTION REGEX: the manifest must have a line matching REGEX
  if ! grep -Eq "$2" "$MANIFEST"; then
    echo "check-k8s: $MANIFEST: $1 (no line matching /$2/)" >&2
    fail=1
  fi
}
need "flinkVersion v2_x" '^  flinkVersion: v2_[0-9]+$'
need "upgradeMode savepoint" '^    upgradeMode: savepoint$'
need "savepoint upgrades need state.checkpoints.dir" '^    (state\.checkpoints\.dir|execution\.checkpointing\.dir): "?[a-z0-9]+://'
need "savepoint upgrades need state.savepoints.dir" '^    (state\.savepoints\.dir|execution\.checkpointing\.savepoint-dir): "?[a-z0-9]+://'
need "autoscaler enabled" '^    job\.autoscaler\.enabled: "true"$'
need "Prometheus reporter" '^    metrics\.reporter\.prom\.factory\.class: "?org\.apache\.flink\.metrics\.prometheus\.PrometheusReporterFactory'
need "Prometheus reporter port 9249" '^    metrics\.reporter\.prom\.port: "9249"$'
need "the job jar" '^    jarURI: local:///opt/flink/usrlib/embedstream-job\.jar$'
need "the job class" '^    entryClass: dev\.embedstream\.jobs\.EmbedstreamJob$'
need "TaskManager slots" '^    taskmanager\.numberOfTaskSlots: "[0-9]+"$'
(( fail == 0 )) && echo "check-k8s: $MANIFEST: operator rules and embedstream settings present"
exit "$fail"
