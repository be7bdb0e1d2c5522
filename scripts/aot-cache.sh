#!/usr/bin/env bash
# Creates the JDK AOT cache (JEP 483/514/515: classes loaded and linked, plus method profiles) that ./descent uses
# when present: samples/target/descent.aot, from a short recorded workload (`descent aot-training`, hidden: a 1-epoch
# bench train, a 1-epoch train on 12,000 examples and a 5x5 landscape plane, ~15 s). The
# ./descent launcher runs this when the cache is missing or older than the jars and Fashion-MNIST is in data/; a
# missing or stale cache is simply not used. DESCENT_AOT=0 turns both creation and use off. Measured effect: docs/performance.md.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out="$root/samples/target/descent.aot"
data="${DESCENT_DATA_DIR:-$root/data}"
if ! ls "$data"/fashion-mnist/train-images-idx3-ubyte* >/dev/null 2>&1; then
  echo "aot-cache: no Fashion-MNIST under $data (./descent data fetch); no AOT cache made" >&2
  exit 0
fi
rm -f "$out" "$out.failed"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if DESCENT_AOT=0 DESCENT_JAVA_OPTS="${DESCENT_JAVA_OPTS:-} -XX:AOTCacheOutput=$out -Xlog:aot=off -Xlog:cds=off" \
     "$root/descent" aot-training >"$tmp/log" 2>&1 && [ -f "$out" ]; then
  echo "aot-cache: wrote $out" >&2
else
  rm -f "$out"
  touch "$out.failed" # the launcher does not try again until the jars change
  echo "aot-cache: could not create the AOT cache (the launcher runs without it); log: $(tail -3 "$tmp/log")" >&2
fi
