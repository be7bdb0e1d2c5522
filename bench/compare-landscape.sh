#!/usr/bin/env bash
# Landscape grid evaluation throughput, Descent vs PyTorch, side by side on the same machine: the same trained MLP
# (default 784-256-128-10), the same directions (Descent's directions.descentd, read by the peer), the same grid and
# the same train/test subsets, eval mode. Reports points/s of Descent with 1 and 2 evaluators, each in a fresh JVM and
# in one warm engine (`descent bench landscape`), (first layer precomputed,
# the default, and direct: every layer at every point, as the peer does), PyTorch with 1 and 2 threads, the ratios,
# and the largest loss difference between the two (a correctness cross-check, against the default mode).
# Usage: bench/compare-landscape.sh [--grid 15] [--examples 2000] [--widths 256,128]
# PyTorch runs under Debian's /usr/bin/python3 (python3-torch + libopenblas0) with OPENBLAS_CORETYPE and
# OPENBLAS_L2_SIZE unset and OMP_WAIT_POLICY=PASSIVE.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
grid=15 examples=2000 widths=256,128
while [ $# -gt 0 ]; do
  case "$1" in
    --grid) grid=$2; shift 2 ;;
    --examples) examples=$2; shift 2 ;;
    --widths) widths=$2; shift 2 ;;
    *) echo "compare-landscape: unknown option $1" >&2; exit 2 ;;
  esac
done
py=/usr/bin/python3
"$py" -c "import torch" 2>/dev/null || {
  echo "compare-landscape: PyTorch missing: apt-get install -y python3-torch libopenblas0" >&2; exit 1; }
"$root/scripts/fetch-data.sh" fashion-mnist >/dev/null

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "== training a model to look at (784-$widths-10, 2 epochs on 10000 examples)"
"$root/descent" train --widths "$widths" --epochs 2 --train-limit 10000 --out "$out/run" | tail -1
common=(--model "$out/run/model.descent" --grid "$grid" --range 1.0 --train-examples "$examples"
        --test-examples "$examples" --eval-batch 1000 --sharpness-examples 0)
for e in 1 2; do
  echo "== descent landscape plane, $e evaluator(s), ${grid}x${grid} points, $examples + $examples examples each"
  "$root/descent" landscape plane "${common[@]}" --evaluators "$e" --out "$out/e$e" | tail -1
  echo "== the same, direct (every layer at every point: -Ddescent.landscape.precomputeFirstLayer=false)"
  DESCENT_JAVA_OPTS="${DESCENT_JAVA_OPTS:-} -Ddescent.landscape.precomputeFirstLayer=false" \
    "$root/descent" landscape plane "${common[@]}" --evaluators "$e" --out "$out/direct$e" | tail -1
done
for t in 1 2; do
  echo "== pytorch, $t thread(s)"
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS="$t" OMP_WAIT_POLICY=PASSIVE \
    "$py" "$root/bench/peers/torch_landscape.py" --data "$root/data/fashion-mnist" --model "$out/run/model.descent" \
    --directions "$out/e1/directions.descentd" --grid "$grid" --train-examples "$examples" \
    --test-examples "$examples" --threads "$t" --check "$out/e1/landscape.csv" | tee "$out/torch$t.json"
done
echo "== descent, warm engine (one JVM: a warm-up run, then 3 rounds of 1 and 2 evaluators; as in a service)"
"$root/descent" bench landscape --model "$out/run/model.descent" --grid "$grid" --examples "$examples" --rounds 3 \
  --out "$out/warm" | tail -2 | head -1
"$root/descent" bench landscape --model "$out/run/model.descent" --grid "$grid" --examples "$examples" --rounds 3 \
  --direct --out "$out/warmdirect" | tail -2 | head -1
"$py" - "$out" <<'PY'
import json, sys
o = sys.argv[1]
pps = lambda d: json.load(open(f"{o}/{d}/summary.json"))["points_per_second"]
d1, d2, x1, x2 = pps("e1"), pps("e2"), pps("direct1"), pps("direct2")
t1 = json.load(open(f"{o}/torch1.json")); t2 = json.load(open(f"{o}/torch2.json"))
tb = max(t1['points_per_second'], t2['points_per_second'])
print(f"descent 1 evaluator {d1:.1f} points/s, 2 evaluators {d2:.1f} points/s (scaling {d2 / d1:.2f}x)"
      " [first layer precomputed]")
print(f"descent 1 evaluator {x1:.1f} points/s, 2 evaluators {x2:.1f} points/s (scaling {x2 / x1:.2f}x)"
      " [direct: every layer at every point, as the peer]")
print(f"torch   1 thread    {t1['points_per_second']:.1f} points/s, 2 threads {t2['points_per_second']:.1f} points/s"
      f" ({t1['blas']}, torch {t1['torch']})")
print(f"ratio descent/torch: 1 core {d1 / t1['points_per_second']:.2f}x, 2 cores {d2 / tb:.2f}x (vs torch's better"
      f" setting); direct: 1 core {x1 / t1['points_per_second']:.2f}x, 2 cores {x2 / tb:.2f}x")
w = json.load(open(f"{o}/warm/summary.json")); wd = json.load(open(f"{o}/warmdirect/summary.json"))
print(f"warm engine: 1 evaluator {w['points_per_second_1']:.1f}, 2 evaluators {w['points_per_second_2']:.1f} points/s"
      f" (scaling {w['scaling']:.2f}x) [precomputed]; direct {wd['points_per_second_1']:.1f} / "
      f"{wd['points_per_second_2']:.1f} (scaling {wd['scaling']:.2f}x); ratio to torch: 1 core "
      f"{w['points_per_second_1'] / t1['points_per_second']:.2f}x, 2 cores {w['points_per_second_2'] / tb:.2f}x; "
      f"direct {wd['points_per_second_1'] / t1['points_per_second']:.2f}x / {wd['points_per_second_2'] / tb:.2f}x")
print(f"max |train loss difference| descent vs torch: {t1['max_abs_train_loss_difference']:.2e}, "
      f"max |accuracy difference|: {t1['max_abs_train_accuracy_difference']:.4f}")
PY
