#!/usr/bin/env bash
# Two worker JVMs of one thread each against one single-JVM worker of one thread, on the width-1024 MLP (784-1024-1024-10), Fashion-MNIST, batch 512 (docs/cluster.md, "Measured"). Runs from a frozen
# copy of the build (so editing sources meanwhile cannot rebuild jars under running JVMs), every process bounded
# by `timeout`, ports 25711-25712 on 127.0.0.1. Two layouts of the two workers: "cluster" (two `descent node` JVMs
# and a submitter that only aggregates) and "hybrid" (the submitter computes worker 0, one node JVM worker 1).
# Prints epoch lines, the cluster line and CPU seconds per JVM.
#   [TRAIN_LIMIT=10240] [EPOCHS=2] bench/cluster-speedup.sh [rounds] [out-dir]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$root/scripts/lib/jdk.sh"
descent_select_jdk
rounds=${1:-2}
out=${2:-$(mktemp -d /tmp/descent-cluster-speedup.XXXXXX)}
mkdir -p "$out/dist"
(cd "$root" && ./mvnw -q -o -DskipTests package)
cp -r "$root/samples/target/descent-samples.jar" "$root/samples/target/lib" "$out/dist/"
J="$JAVA_HOME/bin/java"
FLAGS=(--add-modules jdk.incubator.vector --add-exports java.base/jdk.internal.misc=ALL-UNNAMED
  --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow -Xss4m -Xmx2g
  -Ddescent.home="$root" -Ddescent.data.dir="${DESCENT_DATA_DIR:-$root/data}"
  -cp "$out/dist/descent-samples.jar:$out/dist/lib/*" dev.descent.samples.DescentCli)
ARGS=(--widths 1024,1024 --batch 512 --threads 1 --train-limit "${TRAIN_LIMIT:-10240}" --epochs "${EPOCHS:-2}" --gradient-stats-every 0 --overwrite)
for round in $(seq 1 "$rounds"); do
  /usr/bin/time -f "single cpu_user=%U cpu_sys=%S wall=%e" -o "$out/single$round.time" \
    timeout 600 "$J" "${FLAGS[@]}" train "${ARGS[@]}" --workers 1 --out "$out/single$round" > "$out/single$round.log" 2>&1
  # two runs on the cluster: "cluster" = a submitter that only aggregates + two worker-node JVMs (three JVMs);
  # "hybrid" = a submitter that computes worker 0 itself (--submitter-workers 1) + one worker-node JVM (two JVMs)
  for mode in cluster hybrid; do
    pids=()
    ports=(25711 25712)
    [ "$mode" = hybrid ] && ports=(25711)
    for port in "${ports[@]}"; do
      /usr/bin/time -f "$mode-node$port cpu_user=%U cpu_sys=%S wall=%e" -o "$out/$mode-node$port-$round.time" \
        timeout 900 "$J" "${FLAGS[@]}" node --seed-nodes 127.0.0.1:25711 --port $port --workers 1 \
        > "$out/$mode-node$port-$round.log" 2>&1 &
      pids+=($!)
    done
    sleep 5
    extra=(--nodes 2)
    [ "$mode" = hybrid ] && extra=(--nodes 1 --workers 2 --submitter-workers 1)
    /usr/bin/time -f "$mode-submitter cpu_user=%U cpu_sys=%S wall=%e" -o "$out/$mode$round.time" \
      timeout 600 "$J" "${FLAGS[@]}" train "${ARGS[@]}" --cluster 127.0.0.1:25711 "${extra[@]}" \
      --out "$out/$mode$round" > "$out/$mode$round.log" 2>&1
    for p in "${pids[@]}"; do
      kill -INT $(pgrep -P "$p") 2>/dev/null || true # the node's JVM (child of `timeout`): leaves the cluster
    done
    wait "${pids[@]}" 2>/dev/null || true
  done
  echo "== round $round (load: $(cut -d' ' -f1-3 /proc/loadavg))"
  for run in single cluster hybrid; do
    echo "-- $run"
    grep -ah "train loss\|^cluster:" "$out/$run$round.log" | sed 's/.*\r//'
  done
  cat "$out"/single$round.time "$out"/cluster$round.time "$out"/hybrid$round.time "$out"/*node*-$round.time \
    | grep cpu_user
done
echo "logs: $out"
