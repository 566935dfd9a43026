#!/usr/bin/env bash
# Checks docker/k8s/flinkdeployment.yaml offline for the rules the operator's validator applies
# to flinkConfiguration (a savepoint upgrade needs checkpoint and savepoint directories) and for
# what embedstream relies on (autoscaler on, Prometheus reporter, the job jar and class).
# Then validates it against the FlinkDeployment CRD's schema: the CRD comes from the operator API
# jar on Maven Central (scripts/k8s/pom.xml, fetched once into .local/k8s), the validation is
# scripts/k8s/validate.py with jsonschema + PyYAML from PyPI in .local/k8s/venv.
set -euo pipefail
cd "$(dirname "$0")/.."
MANIFEST=${1:-docker/k8s/flinkdeployment.yaml}
K8S=.local/k8s

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

# -v1.yml is the CRD in apiextensions.k8s.io/v1 form (versions[].schema); -v1beta1.yml is the legacy form.
CRD=$K8S/flinkdeployments.flink.apache.org-v1.yml
if [[ ! -s $CRD ]]; then
  mkdir -p "$K8S"
  mvn -B -ntp -q -f scripts/k8s/pom.xml dependency:copy-dependencies -DoutputDirectory="$PWD/$K8S/jars" >&2
  unzip -p "$K8S"/jars/flink-kubernetes-operator-api-*.jar "META-INF/fabric8/$(basename "$CRD")" >"$CRD.tmp"
  mv "$CRD.tmp" "$CRD"
fi
if [[ ! -x $K8S/venv/bin/python ]] || ! "$K8S/venv/bin/python" -c 'import jsonschema, yaml' 2>/dev/null; then
  python3 -m venv "$K8S/venv"
  "$K8S/venv/bin/pip" install -q --disable-pip-version-check "jsonschema==4.25.1" "PyYAML==6.0.3" >&2
fi
"$K8S/venv/bin/python" scripts/k8s/validate.py "$MANIFEST" "$CRD" || fail=1
exit "$fail"
