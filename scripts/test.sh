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
rc=0
./mvnw -B -ntp verify "$@" || rc=$?
scripts/check-kotlin-ban.sh || rc=$((rc == 0 ? 1 : rc))
# One line that totals every module's tests (also after a failure, so the count of what ran is visible)
scripts/test-totals.sh
if [ "$rc" = 0 ]; then echo "test: PASS"; else echo "test: FAIL (exit $rc)"; fi
exit "$rc"
