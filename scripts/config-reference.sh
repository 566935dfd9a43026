#!/usr/bin/env bash
# Rewrites the generated option table of docs/configuration.md from EmbedstreamOptions (key,
# default and description live in the option). EmbedstreamOptionsTest fails when they drift.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
mvn -B -ntp -q -pl common test -Dtest=EmbedstreamOptionsTest -Dsurefire.failIfNoSpecifiedTests=false \
  -Dembedstream.write-config-reference=true "$@"
echo "docs/configuration.md regenerated"
