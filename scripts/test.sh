#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: selects JDK 25, fetches the datasets (idempotent,
# verified by SHA-256), then builds every module and runs every test with the Maven wrapper.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=lib/jdk.sh
. scripts/lib/jdk.sh
descent_select_jdk
echo "test: JAVA_HOME=$JAVA_HOME"
scripts/fetch-data.sh
# Prometheus + promtool for the monitoring end-to-end tests (unpacked into .tools/, nothing installed)
scripts/fetch-prometheus.sh >/dev/null
./mvnw -B -ntp verify "$@"
scripts/check-kotlin-ban.sh
