#!/usr/bin/env bash
# Prints one line that totals the Surefire results of every module (run after `mvnw verify`):
#   tests: 412 run, 0 failed, 0 errors, 1 skipped (engine 280, sdk 29, monitoring 22, samples 81)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
total=0 failed=0 errors=0 skipped=0 per=()
for module in engine sdk monitoring samples; do
  reports=("$module"/target/surefire-reports/TEST-*.xml)
  [ -e "${reports[0]}" ] || continue
  # the <testsuite ...> element of each report carries its counts
  read -r t f e s < <(sed -n 's/.*<testsuite \(.*\)>.*/\1/p' "${reports[@]}" | awk '
    { for (i = 1; i <= NF; i++) { split($i, kv, "="); gsub(/"/, "", kv[2]); c[kv[1]] += kv[2] } }
    END { printf "%d %d %d %d\n", c["tests"], c["failures"], c["errors"], c["skipped"] }')
  total=$((total + t)) failed=$((failed + f)) errors=$((errors + e)) skipped=$((skipped + s))
  per+=("$module $t")
done
summary=$(IFS=,; echo "${per[*]}" | sed 's/,/, /g')
echo "tests: $total run, $failed failed, $errors errors, $skipped skipped ($summary)"
