#!/usr/bin/env bash
# Training throughput, Descent vs PyTorch, side by side on the same machine: the same MLP (default
# 784-256-128-10 ReLU), batch, optimizer (SGD momentum 0.9, lr 0.01), data (Fashion-MNIST) and thread count.
# Usage: bench/compare-train.sh [--threads T] [--epochs E (default 1; >= 2 shows the steady state)] [--batch B] [--widths 256,128]
# PyTorch runs under Debian's /usr/bin/python3 (python3-torch + libopenblas0) with OPENBLAS_CORETYPE and
# OPENBLAS_L2_SIZE unset (they slow OpenBLAS on this machine) and OMP_WAIT_POLICY=PASSIVE.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
threads=1 epochs=1 batch=128 widths=256,128
while [ $# -gt 0 ]; do
  case "$1" in
    --threads) threads=$2; shift 2 ;;
    --epochs) epochs=$2; shift 2 ;;
    --batch) batch=$2; shift 2 ;;
    --widths) widths=$2; shift 2 ;;
    *) echo "compare-train: unknown option $1" >&2; exit 2 ;;
  esac
done
py=/usr/bin/python3
"$py" -c "import torch" 2>/dev/null || {
  echo "compare-train: PyTorch missing: apt-get install -y python3-torch libopenblas0" >&2; exit 1; }
"$root/scripts/fetch-data.sh" fashion-mnist >/dev/null

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "== descent (threads=$threads batch=$batch widths=$widths epochs=$epochs)"
"$root/descent" bench train --threads "$threads" --batch "$batch" --widths "$widths" --epochs "$epochs" \
  --out "$out/descent" 2>/dev/null | grep -v '^wrote'
echo "== pytorch"
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS="$threads" OMP_WAIT_POLICY=PASSIVE \
  "$py" "$root/bench/peers/torch_train.py" --data "$root/data/fashion-mnist" --threads "$threads" \
  --batch "$batch" --widths "$widths" --epochs "$epochs" | tee "$out/torch.json"
"$py" - "$out/descent/summary.json" "$out/torch.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); t = json.load(open(sys.argv[2]))
print(f"descent {d['examples_per_second']:,.0f} ex/s (acc {d['test_accuracy']:.4f}) | "
      f"torch {t['examples_per_second']:,.0f} ex/s (acc {t['test_accuracy']:.4f}, {t['blas']}) | "
      f"ratio descent/torch = {d['examples_per_second'] / t['examples_per_second']:.2f}x (whole run)")
de, te = d.get("epoch_examples_per_second", []), t.get("epoch_examples_per_second", [])
if de and te:
    print("per epoch (descent / torch ex/s): " + ", ".join(
        f"{a:,.0f} / {b:,.0f} = {a / b:.2f}x" for a, b in zip(de, te)))
    print(f"last epoch (JIT warm-up behind it): ratio descent/torch = {de[-1] / te[-1]:.2f}x")
PY
