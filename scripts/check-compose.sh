#!/usr/bin/env bash
# Validates docker/docker-compose.yml as `docker compose config` does, without a Docker engine:
# with the Compose v2 plugin when it is installed, otherwise with docker/compose-config, a small
# Go program around compose-go (the loader, schema and model checks of Compose v2 itself; Go
# fetches it from the Go module proxy on first use). Prints the normalised file with -v.
set -euo pipefail
cd "$(dirname "$0")/.."
FILE=docker/docker-compose.yml
out=/dev/null
[[ ${1:-} == -v ]] && out=/dev/stdout

if docker compose version >/dev/null 2>&1; then
  docker compose -f "$FILE" config >"$out"
  echo "check-compose: $FILE is valid (docker compose $(docker compose version --short))"
elif command -v go >/dev/null; then
  go -C docker/compose-config run . ../docker-compose.yml >"$out"
  echo "check-compose: $FILE is valid (compose-go $(sed -n 's|.*compose-spec/compose-go/v2 \(v[^ ]*\)$|\1|p' docker/compose-config/go.mod))"
else
  echo "check-compose: needs the Docker Compose v2 plugin or a Go toolchain" >&2
  exit 2
fi
