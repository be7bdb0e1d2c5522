#!/usr/bin/env bash
# One training step of the grokking paper's transformer (2 layers, width 128, 4 heads, p = 97, batch 512,
# AdamW betas 0.9/0.98, wd 1), Descent vs PyTorch, side by side on the same machine and thread count.
# Usage: bench/compare-grokking.sh [--threads T (default 1)] [--steps N (default 300)] [--batch B (default 512)]
# Descent: `descent story grokking --preset paper --steps N --no-control` (ms_per_step in its summary.json times
# the training steps only; evaluations are outside the clock; the first steps include JIT warm-up). Both report
# wall and CPU time per step: on a busy shared machine compare the CPU times.
# PyTorch runs under Debian's /usr/bin/python3 (python3-torch + libopenblas0) with OPENBLAS_CORETYPE and
# OPENBLAS_L2_SIZE unset (they slow OpenBLAS on this machine) and OMP_WAIT_POLICY=PASSIVE; it times N steps after 30
# warm-up steps.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
threads=1 steps=300 batch=512
while [ $# -gt 0 ]; do
  case "$1" in
    --threads) threads=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --batch) batch=$2; shift 2 ;;
    *) echo "compare-grokking: unknown option $1" >&2; exit 2 ;;
  esac
done
py=/usr/bin/python3
"$py" -c "import torch" 2>/dev/null || {
  echo "compare-grokking: PyTorch missing: apt-get install -y python3-torch libopenblas0" >&2; exit 1; }

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "== descent (threads=$threads batch=$batch steps=$steps)"
"$root/descent" story grokking --preset paper --steps "$steps" --batch-size "$batch" --threads "$threads" \
  --no-control --eval-points 2 --checkpoint-every 0 --out "$out/descent" 2>/dev/null | tail -1
echo "== pytorch"
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS="$threads" OMP_WAIT_POLICY=PASSIVE \
  "$py" "$root/bench/peers/torch_grokking.py" --threads "$threads" --batch "$batch" --steps "$steps" \
  | tee "$out/torch.json"
"$py" - "$out/descent/summary.json" "$out/torch.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); t = json.load(open(sys.argv[2]))
print(f"descent {d['ms_per_step']:.2f} ms/step wall, {d['cpu_ms_per_step']:.2f} ms CPU ({d['parameters']:,} parameters) | "
      f"torch {t['ms_per_step']:.2f} ms/step wall, {t['cpu_ms_per_step']:.2f} ms CPU ({t['parameters']:,} parameters, "
      f"{t['blas']}) | ratio descent/torch: wall {d['ms_per_step'] / t['ms_per_step']:.2f}x, "
      f"CPU {d['cpu_ms_per_step'] / t['cpu_ms_per_step']:.2f}x")
PY
