#!/usr/bin/env bash
# One peer table: Descent and its peers side by side on this machine, back to back, one command.
#
#   bench/compare-all.sh                      # everything (~40-60 min on 2 cores); rewrites docs/performance.md's table
#   bench/compare-all.sh --quick              # every row on small settings (~10 min): checks the whole pipeline
#   bench/compare-all.sh --only gemm,mlp      # a subset of: gemm, mlp, deep, cnn, scale, landscape
#   bench/compare-all.sh --peers numpy,torch  # a subset of: numpy, torch, djl, dl4j
#   bench/compare-all.sh --out DIR            # raw JSON + table.md (default: out/compare-all)
#   bench/compare-all.sh --docs FILE | --no-docs   # where the table goes (default: docs/performance.md on full runs only)
#   bench/compare-all.sh --table-only --out DIR    # render the table again from DIR's raw results, measure nothing
#
# Rows: SGEMM 1024 on 1 and 2 threads; the default MLP 784-256-128-10 (3 and 10 epochs: whole run, JIT warm-up
# included, and last epoch); the deep MLP 784-(512x8)-10; the default CNN (`train --model cnn`); the width-1024 MLP on
# 1 and 2 workers (PyTorch: threads), 1 epoch; the landscape grid of bench/compare-landscape.sh. The single-threaded
# rows of Descent, numpy and PyTorch and the scaling rows show the median of 3 alternated rounds (--quick: 1). Every training row: Fashion-MNIST, batch 128, SGD momentum 0.9 lr 0.01, 1 thread.
# Peers:
#   numpy (OpenBLAS) and PyTorch: Debian's /usr/bin/python3 with
#       apt-get update && apt-get install -y python3-numpy python3-torch libopenblas0
#     (without libopenblas0 torch runs on the reference BLAS, ~30x slower). Run with OPENBLAS_CORETYPE and
#     OPENBLAS_L2_SIZE unset (this machine exports values that halve OpenBLAS) and OMP_WAIT_POLICY=PASSIVE.
#   DJL 0.36 (PyTorch 2.7.1 engine) and Deeplearning4j 1.0.0-M2.1 (linux-x86_64 natives only): the separate Maven
#     project bench/jvm-peers, built here on first use (its natives come from Maven Central: needs the network once).
# A missing peer is reported, not fatal: its column shows "-" and the notes say why. Each measurement is bounded by
# --timeout seconds (default 3600). Absolute numbers on a shared machine drift: read the ratios, which come from one
# run on one machine, and the load average printed before and after.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
quick=0 only="gemm,mlp,deep,cnn,scale,landscape" peers="numpy,torch,djl,dl4j" out="$root/out/compare-all" docs=auto
timeout_s=3600 table_only=0
orig_args="$*"
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1; shift ;;
    --only) only=$2; shift 2 ;;
    --peers) peers=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --docs) docs=$2; shift 2 ;;
    --no-docs) docs=none; shift ;;
    --timeout) timeout_s=$2; shift 2 ;;
    --table-only) table_only=1; shift ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) echo "compare-all: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
for s in ${only//,/ }; do
  case "$s" in gemm|mlp|deep|cnn|scale|landscape) ;; *) echo "compare-all: unknown row group '$s'" >&2; exit 2 ;; esac
done
for p in ${peers//,/ }; do
  case "$p" in numpy|torch|djl|dl4j) ;; *) echo "compare-all: unknown peer '$p'" >&2; exit 2 ;; esac
done
want() { [[ ",$only," == *",$1,"* ]]; }
peer() { [[ ",$peers," == *",$1,"* ]]; }
if [ "$docs" = auto ]; then
  if [ "$quick" = 0 ] && [ "$only" = "gemm,mlp,deep,cnn,scale,landscape" ]; then docs="$root/docs/performance.md"; else docs=none; fi
fi

# ---------------------------------------------------------------- settings (full / quick)
if [ "$quick" = 1 ]; then
  gemm_seconds=2 mlp_epochs="1 2" mlp_limit=20000 deep_epochs=1 deep_limit=5000
  cnn_epochs=1 cnn_limit=2000 land_grid=5 land_examples=500 scale_limit=10240 rounds=1
else
  gemm_seconds=5 mlp_epochs="3 10" mlp_limit="" deep_epochs=3 deep_limit=""
  cnn_epochs=2 cnn_limit=20000 land_grid=15 land_examples=2000 scale_limit="" rounds=3
fi
deep_widths=512,512,512,512,512,512,512,512

java_home=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
if [ ! -x "$java_home/bin/java" ] || ! "$java_home/bin/java" -version 2>&1 | grep -q 'version "25'; then
  java_home=/usr/lib/jvm/temurin-25-jdk-amd64
fi
py=/usr/bin/python3
raw="$out/raw"
log="$out/log.txt"
if [ "$table_only" = 1 ]; then
  [ -f "$raw/machine.json" ] || { echo "compare-all: no earlier results in $raw" >&2; exit 1; }
  only=none
else
rm -rf "$raw"
mkdir -p "$raw" "$out/runs"
: >"$log"
note() { echo "$*" >>"$raw/notes.txt"; echo "  note: $*" >&2; }
step=0
progress() { step=$((step + 1)); echo "[$(date -u +%T)] ($step) $*" >&2; }
# run a peer: CMD... with a bound, the machine's OpenBLAS overrides off (OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE), the
# thread count in every variable a BLAS/OpenMP reads, passive OpenMP waiting; its JSON line (the last line starting
# with '{') goes to $raw/NAME.json.  Usage: capture NAME THREADS CMD...
# The whole command's wall time (interpreter or JVM start, imports, data loading, training, test) goes into the JSON as
# command_seconds: what a user waits for, next to the training loop's own examples/s.
with_wall() {  # FILE SECONDS: adds "command_seconds" to the JSON object in FILE
  "$py" -c 'import json,sys; d=json.load(open(sys.argv[1])); d["command_seconds"]=float(sys.argv[2]); print(json.dumps(d))' \
    "$1" "$2" >"$1.tmp" && mv "$1.tmp" "$1"
}
since() { "$py" -c 'import sys,time; print(f"{time.time()-float(sys.argv[1]):.3f}")' "$1"; }
capture() {
  local name=$1 t=$2; shift 2
  local tmp="$out/runs/$name.out" t0
  t0=$(date +%s.%N)
  if timeout "$timeout_s" env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS="$t" OPENBLAS_NUM_THREADS="$t" \
      MKL_NUM_THREADS="$t" OMP_WAIT_POLICY=PASSIVE "$@" >"$tmp" 2>>"$log"; then
    local wall; wall=$(since "$t0")
    if grep '^{' "$tmp" | tail -1 >"$raw/$name.json" && [ -s "$raw/$name.json" ]; then
      with_wall "$raw/$name.json" "$wall"; return 0
    fi
    note "$name: no JSON result (see $tmp and $log)"
  else
    note "$name: failed or timed out after ${timeout_s}s (exit $?; see $log)"
  fi
  rm -f "$raw/$name.json"
  return 0
}
# a Descent command that writes DIR/summary.json: copy it to $raw/NAME.json
descent_summary() {
  local name=$1 dir=$2 t0; shift 2
  t0=$(date +%s.%N)
  if timeout "$timeout_s" "$root/descent" "$@" --out "$dir" >>"$log" 2>&1 && [ -f "$dir/summary.json" ]; then
    local wall; wall=$(since "$t0")
    "$py" -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))))' "$dir/summary.json" >"$raw/$name.json"
    with_wall "$raw/$name.json" "$wall"
  else
    note "$name: descent $1 $2 failed (see $log)"
  fi
}

# ---------------------------------------------------------------- what is here
echo "compare-all: $( [ $quick = 1 ] && echo quick || echo full ) run of [$only] against [$peers], output in $out" >&2
[ -x "$py" ] || { echo "compare-all: $py missing (Debian's python3 runs the Python peers)" >&2; exit 1; }
"$root/scripts/fetch-data.sh" fashion-mnist >/dev/null
data="$root/data/fashion-mnist"
if [ ! -x "$root/descent" ]; then echo "compare-all: no ./descent launcher in $root" >&2; exit 1; fi
"$root/descent" --version >/dev/null 2>&1 || {
  echo "compare-all: ./descent does not start; build first: ./mvnw -q -pl engine,sdk,samples -am package -DskipTests" >&2
  exit 1; }
if peer numpy && ! "$py" -c 'import numpy' 2>/dev/null; then
  note "numpy missing: apt-get update && apt-get install -y python3-numpy libopenblas0"; peers=${peers//numpy/}
fi
if peer torch && ! "$py" -c 'import torch' 2>/dev/null; then
  note "PyTorch missing: apt-get update && apt-get install -y python3-torch libopenblas0"; peers=${peers//torch/}
fi
if peer torch || peer numpy; then
  dpkg -s libopenblas0 >/dev/null 2>&1 || dpkg -s libopenblas0-pthread >/dev/null 2>&1 ||
    note "libopenblas0 missing: numpy/torch run on the reference BLAS (apt-get install -y libopenblas0)"
fi
jvm_cp="$root/bench/jvm-peers/target/jvm-peers.jar:$root/bench/jvm-peers/target/lib/*"
if peer djl || peer dl4j; then
  if [ ! -f "$root/bench/jvm-peers/target/jvm-peers.jar" ]; then
    progress "building the JVM peers (bench/jvm-peers: DJL + DL4J, ~260 MB of jars from Maven Central on first use)"
    (cd "$root" && JAVA_HOME=$java_home ./mvnw -B -q -ntp -f bench/jvm-peers/pom.xml package) >>"$log" 2>&1 ||
      { note "bench/jvm-peers did not build (network? see $log): DJL and DL4J skipped"; peers=${peers//djl/}; peers=${peers//dl4j/}; }
  fi
fi
jvm_peer() {  # NAME LIB THREADS args...
  local name=$1 lib=$2 t=$3; shift 3
  capture "$name" "$t" "$java_home/bin/java" -Xmx2g --enable-native-access=ALL-UNNAMED \
    -Dai.djl.offline=true -Djavacpp.platform=linux-x86_64 -cp "$jvm_cp" dev.descent.peers.Main --lib "$lib" \
    --threads "$t" --data "$data" "$@"
}
# Rows that one core decides run $rounds times, alternating Descent and its main peers, and show the run with the
# median rate: on these VMs a single-threaded run's speed depends on which of the two vCPUs it lands on (numpy's
# SGEMM pinned to each in turn: 178-186 against 169-173 GFLOP/s, and the default MLP's steady state ~20% apart), and
# one run is a draw. pick_median NAME: $raw/rounds/NAME.r1..rN.json -> $raw/NAME.json, with every round's rate kept.
pick_median() {
  "$py" - "$raw" "$1" "$rounds" <<'PY'
import json, os, sys
raw, name, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
runs = []
for r in range(1, rounds + 1):
    f = os.path.join(raw, "rounds", f"{name}.r{r}.json")
    if os.path.exists(f):
        runs.append(json.load(open(f)))
key = next((k for k in ("examples_per_second", "gflops", "points_per_second") if runs and runs[0].get(k)), None)
runs = [d for d in runs if key and d.get(key)]
if runs:
    median = sorted(runs, key=lambda d: d[key])[(len(runs) - 1) // 2]
    median["rounds_" + key] = [d[key] for d in runs]  # in round order
    json.dump(median, open(os.path.join(raw, name + ".json"), "w"))
PY
}
torch_train() {  # NAME THREADS args...
  local name=$1 t=$2; shift 2
  capture "$name" "$t" "$py" "$root/bench/peers/torch_train.py" --data "$data" --threads "$t" "$@"
}
limit_args() { [ -n "$1" ] && echo "--train-limit $1" || true; }

# the CPU, named
cpu_model=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
family=$(sed -n 's/^cpu family\s*: //p' /proc/cpuinfo | head -1)
model=$(sed -n 's/^model\s*: //p' /proc/cpuinfo | head -1)
flags=$(sed -n 's/^flags\s*: //p' /proc/cpuinfo | head -1)
has() { [[ " $flags " == *" $1 "* ]] && echo yes || echo no; }
l2=$(lscpu | sed -n 's/^ *L2\( cache\)\{0,1\}: *//p' | head -1)
if [ -z "$l2" ]; then  # lscpu of some VMs names no caches: ask the C library (CPUID)
  l2=$(getconf LEVEL2_CACHE_SIZE 2>/dev/null || true)
  case "$l2" in ''|0|-1) l2=unknown ;; *) l2="$((l2 / 1024)) KiB per core (getconf)" ;; esac
fi
"$py" - "$raw/machine.json" "$cpu_model" "$family" "$model" "$(has avx2)" "$(has avx512f)" "$(nproc)" "$l2" \
  "$("$java_home/bin/java" -version 2>&1 | head -1)" "$(cut -d' ' -f1-3 /proc/loadavg)" \
  "bench/compare-all.sh${orig_args:+ $orig_args}" "$(date -u '+%Y-%m-%d %H:%M UTC')" <<'PY'
import json, sys
f = dict(zip(["cpu", "family", "model", "avx2", "avx512f", "cores", "l2", "java", "load_before", "command", "date"],
             sys.argv[2:]))
json.dump(f, open(sys.argv[1], "w"))
PY
echo "compare-all: $cpu_model, family $family model $model, avx2 $(has avx2), avx512f $(has avx512f), $(nproc) cores," \
  "load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
fi  # table_only

# ---------------------------------------------------------------- rows
mkdir -p "$raw/rounds" "$out/runs/rounds"
if want gemm; then
  for t in 1 2; do
    n=$([ "$t" = 1 ] && echo "$rounds" || echo 1) # 2 threads use both vCPUs: no draw
    for r in $(seq 1 "$n"); do
      progress "SGEMM 1024, $t thread(s) (round $r of $n): descent"
      descent_summary "rounds/gemm$t.descent.r$r" "$out/runs/gemm$t.r$r" bench gemm --size 1024 --threads "$t" \
        --seconds "$gemm_seconds"
      for p in numpy torch; do
        peer $p || continue
        progress "SGEMM 1024, $t thread(s) (round $r of $n): $p"
        capture "rounds/gemm$t.$p.r$r" "$t" "$py" "$root/bench/peers/${p}_gemm.py" --size 1024 --threads "$t" \
          --seconds "$gemm_seconds"
      done
    done
    for p in descent numpy torch; do pick_median "gemm$t.$p"; done
    for p in djl dl4j; do
      peer $p || continue
      progress "SGEMM 1024, $t thread(s): $p"
      jvm_peer "gemm$t.$p" $p "$t" --task gemm --size 1024 --seconds "$gemm_seconds"
    done
  done
fi

train_row() {  # ROW EPOCHS LIMIT MODEL WIDTHS
  local row=$1 e=$2 lim=$3 m=$4 w=$5
  local desc="$m${w:+ $w}, $e epoch(s)${lim:+ on $lim examples}" r
  for r in $(seq 1 "$rounds"); do
    progress "$desc (round $r of $rounds): descent"
    # shellcheck disable=SC2046
    descent_summary "rounds/$row.descent.r$r" "$out/runs/$row.r$r" bench train --model "$m" ${w:+--widths "$w"} \
      --epochs "$e" --threads 1 $(limit_args "$lim")
    if peer torch; then
      progress "$desc (round $r of $rounds): torch"
      # shellcheck disable=SC2046
      torch_train "rounds/$row.torch.r$r" 1 --model "$m" ${w:+--widths "$w"} --epochs "$e" $(limit_args "$lim")
    fi
  done
  pick_median "$row.descent"
  pick_median "$row.torch"
  for p in djl dl4j; do
    peer $p || continue
    progress "$desc: $p"
    jvm_peer "$row.$p" $p 1 --task "$m" ${w:+--widths "$w"} --epochs "$e" $(limit_args "$lim")
  done
}
if want mlp; then
  for e in $mlp_epochs; do train_row "mlp$e" "$e" "$mlp_limit" mlp 256,128; done
fi
if want deep; then train_row deep "$deep_epochs" "$deep_limit" mlp "$deep_widths"; fi
if want cnn; then train_row cnn "$cnn_epochs" "$cnn_limit" cnn ""; fi

# data-parallel scaling: the width-1024 MLP, batch 512, one epoch; Descent 1 and 2 sync workers of one thread each
# (the actor engine), PyTorch 1 and 2 threads (intra-op)
# The scaling rows alternate 1 and 2 workers (threads) over the rounds too; each row shows its median run.
if want scale; then
  for r in $(seq 1 "$rounds"); do
    for n in 1 2; do
      progress "width-1024 MLP, batch 512, 1 epoch (round $r of $rounds): descent, $n worker(s)"
      # shellcheck disable=SC2046
      descent_summary "rounds/scale$n.descent.r$r" "$out/runs/scale$n.r$r" bench train --widths 1024,1024 \
        --batch 512 --epochs 1 --threads 1 --workers "$n" $(limit_args "$scale_limit")
      if peer torch; then
        progress "width-1024 MLP, batch 512, 1 epoch (round $r of $rounds): torch, $n thread(s)"
        # shellcheck disable=SC2046
        torch_train "rounds/scale$n.torch.r$r" "$n" --widths 1024,1024 --batch 512 --epochs 1 \
          $(limit_args "$scale_limit")
      fi
    done
  done
  for name in scale1.descent scale2.descent scale1.torch scale2.torch; do pick_median "$name"; done
fi

if want landscape; then
  if peer torch; then
    lo="$out/runs/landscape"
    rm -rf "$lo"; mkdir -p "$lo"
    progress "landscape: training the model to look at (784-256-128-10, 2 epochs on 10000 examples)"
    if timeout "$timeout_s" "$root/descent" train --epochs 2 --train-limit 10000 --out "$lo/run" >>"$log" 2>&1; then
      common=(--model "$lo/run/model.descent" --grid "$land_grid" --range 1.0 --train-examples "$land_examples"
              --test-examples "$land_examples" --eval-batch 1000 --sharpness-examples 0)
      for e in 1 2; do
        progress "landscape ${land_grid}x${land_grid}, $land_examples + $land_examples examples: descent, $e evaluator(s)"
        descent_summary "landscape$e.descent" "$lo/e$e" landscape plane "${common[@]}" --evaluators "$e"
      done
      if [ -f "$lo/e1/directions.descentd" ]; then
        for t in 1 2; do
          progress "landscape: torch, $t thread(s)"
          capture "landscape$t.torch" "$t" "$py" "$root/bench/peers/torch_landscape.py" --data "$data" \
            --model "$lo/run/model.descent" --directions "$lo/e1/directions.descentd" --grid "$land_grid" \
            --train-examples "$land_examples" --test-examples "$land_examples" --threads "$t" \
            --check "$lo/e1/landscape.csv"
        done
      fi
    else
      note "landscape: training the model failed (see $log)"
    fi
  else
    note "landscape: needs the PyTorch peer (only one implemented), skipped"
  fi
fi

# ---------------------------------------------------------------- the table
"$py" - "$raw" "$out/table.md" "$docs" "$(cut -d' ' -f1-3 /proc/loadavg)" "$quick" \
  "$mlp_epochs" "$deep_epochs" "${deep_limit:-60000}" "$cnn_epochs" "$cnn_limit" "$land_grid" "$land_examples" \
  "${mlp_limit:-60000}" "${scale_limit:-60000}" "$orig_args" <<'PY'
import glob, json, os, re, sys, datetime
(raw, table_path, docs, load_after, quick, mlp_epochs, deep_epochs, deep_limit, cnn_epochs, cnn_limit, grid,
 examples, mlp_limit, scale_limit, argv) = sys.argv[1:]
res = {}
for f in glob.glob(os.path.join(raw, "*.json")):
    name = os.path.basename(f)[:-5]
    if name == "machine":
        continue
    try:
        res[name] = json.load(open(f))
    except ValueError:
        pass
machine = json.load(open(os.path.join(raw, "machine.json")))
notes = open(os.path.join(raw, "notes.txt")).read().split("\n") if os.path.exists(os.path.join(raw, "notes.txt")) else []
libs = [("descent", "Descent"), ("numpy", "numpy (OpenBLAS)"), ("torch", "PyTorch"), ("djl", "DJL (PyTorch)"),
        ("dl4j", "DL4J")]

def gflops(d): return d.get("gflops")
def whole(d): return d.get("examples_per_second")
def last(d):
    e = d.get("epoch_examples_per_second") or []
    return e[-1] if e else None
def pps(d): return d.get("points_per_second")

rows = []  # (label, unit, {lib: value})
def row(label, unit, key, fn):
    vals = {}
    for lib, _ in libs:
        d = res.get(f"{key}.{lib}")
        if d is not None:
            v = fn(d)
            if v:
                vals[lib] = v
    if vals:
        rows.append((label, unit, vals))

row("SGEMM 1024, 1 thread", "GFLOP/s", "gemm1", gflops)
row("SGEMM 1024, 2 threads", "GFLOP/s", "gemm2", gflops)
lim = lambda n: "" if n in ("", "60000") else f", first {int(n):,} examples"
def per_command(d):  # commands per hour: higher is better, like every other row
    s = d.get("command_seconds")
    return 3600 / s if s else None
for e in mlp_epochs.split():
    row(f"Default MLP 784-256-128-10, {e} epoch(s){lim(mlp_limit)}: whole run", "ex/s", f"mlp{e}", whole)
    if int(e) > 1:
        row(f"Default MLP, {e} epochs: last epoch", "ex/s", f"mlp{e}", last)
    row(f"Default MLP, {e} epoch(s): the whole command (start, data, training, test) as runs per hour",
        "runs/h", f"mlp{e}", per_command)
row(f"Deep MLP 784-(512x8)-10, {deep_epochs} epoch(s){lim(deep_limit)}: whole run", "ex/s", "deep", whole)
if int(deep_epochs) > 1:
    row(f"Deep MLP, {deep_epochs} epochs: last epoch", "ex/s", "deep", last)
row(f"Default CNN, {cnn_epochs} epoch(s){lim(cnn_limit)}: whole run", "ex/s", "cnn", whole)
if int(cnn_epochs) > 1:
    row(f"Default CNN, {cnn_epochs} epochs: last epoch", "ex/s", "cnn", last)
for n in (1, 2):
    row(f"Width-1024 MLP 784-1024-1024-10, batch 512, 1 epoch{lim(scale_limit)}: {n} worker(s) (PyTorch: threads)",
        "ex/s", f"scale{n}", whole)
# landscape: Descent evaluators vs PyTorch threads
for n in (1, 2):
    d, t = res.get(f"landscape{n}.descent"), res.get(f"landscape{n}.torch")
    vals = {}
    if d and pps(d): vals["descent"] = pps(d)
    if t and pps(t): vals["torch"] = pps(t)
    if vals:
        rows.append((f"Landscape grid {grid}x{grid}, {examples}+{examples} examples, {n} core(s)"
                     + (" (Descent: evaluators)" if n == 2 else ""), "points/s", vals))

fmt = lambda v: f"{v:,.1f}" if v < 100 else f"{v:,.0f}"
head = "| measure | unit | " + " | ".join(n for _, n in libs) + " | Descent / PyTorch | Descent / best peer |"
lines = [head, "|" + " --- |" * (len(libs) + 4)]
for label, unit, vals in rows:
    cells = [fmt(vals[l]) if l in vals else "-" for l, _ in libs]
    d = vals.get("descent")
    vs_torch = f"{d / vals['torch']:.2f}x" if d and vals.get("torch") else "-"
    others = [v for l, v in vals.items() if l != "descent"]
    vs_best = f"{d / max(others):.2f}x" if d and others else "-"
    lines.append(f"| {label} | {unit} | " + " | ".join(cells) + f" | {vs_torch} | {vs_best} |")
g1, g2 = res.get("gemm1.descent"), res.get("gemm2.descent")
extra = []
if g1 and g2 and gflops(g1) and gflops(g2):
    extra.append(f"Descent SGEMM 2 threads / 1 thread: {gflops(g2) / gflops(g1):.2f}x.")
for lib, who in (("descent", "Descent 2 sync workers / 1 worker"), ("torch", "PyTorch 2 threads / 1 thread")):
    s1, s2 = res.get(f"scale1.{lib}"), res.get(f"scale2.{lib}")
    if s1 and s2 and whole(s1) and whole(s2):
        r1, r2 = s1.get("rounds_examples_per_second") or [], s2.get("rounds_examples_per_second") or []
        per = (f" (medians of {len(r1)} alternated rounds; per round "
               + ", ".join(f"{b / a:.2f}x" for a, b in zip(r1, r2)) + ")") if len(r1) > 1 and len(r1) == len(r2) else ""
        extra.append(f"{who} on the width-1024 MLP (batch 512, 1 epoch): {whole(s2) / whole(s1):.2f}x{per}.")
per_round = []
for key, label, unit in (("gemm1", "SGEMM 1 thread", "GFLOP/s"), ("mlp3", "default MLP 3 epochs", "ex/s"),
                         ("mlp10", "default MLP 10 epochs", "ex/s"), ("deep", "deep MLP", "ex/s"),
                         ("cnn", "CNN", "ex/s")):
    parts = []
    for lib in ("descent", "numpy", "torch"):
        d = res.get(f"{key}.{lib}") or {}
        rs = d.get("rounds_gflops") or d.get("rounds_examples_per_second") or []
        if len(rs) > 1:
            parts.append(f"{lib} " + " / ".join(fmt(v) for v in rs))
    if parts:
        per_round.append(f"{label} ({unit}): " + "; ".join(parts))
if per_round:
    extra.append("Single-threaded rows of Descent, numpy and PyTorch: the median of alternated rounds (one run is a draw "
                 "of the vCPU it lands on); DJL and DL4J: one run. Rounds, in order: " + ". ".join(per_round) + ".")
l1, l2 = res.get("landscape1.torch"), None
if l1 and "max_abs_train_loss_difference" in l1:
    extra.append(f"Landscape cross-check: max |train loss difference| Descent vs PyTorch "
                 f"{l1['max_abs_train_loss_difference']:.2e}.")
backends = {}
for name, d in sorted(res.items()):
    lib = name.split(".", 1)[1]
    if lib != "descent" and d.get("blas"):
        backends.setdefault(lib, set()).add(str(d["blas"]) + (" (torch " + str(d.get("torch") or d.get("version") or re.sub(r"^torch ?", "", d.get("library", "")) or "?")
                                                     + ")" if lib == "torch" else ""))
accs = []
for key in [k for k in sorted(res) if k.split(".")[0] in ("mlp3", "mlp10", "deep", "cnn", "mlp1", "mlp2")]:
    a = res[key].get("test_accuracy")
    if a is not None:
        accs.append(f"{key} {a:.3f}")
cpu = machine["cpu"]
fam, mod = int(machine["family"] or 0), int(machine["model"] or 0)
zen = {23: "Zen/Zen+/Zen 2", 25: "Zen 3/Zen 4", 26: "Zen 5"}.get(fam, "") if "AMD" in cpu else ""
if fam == 23:
    zen = "Zen 1/Zen+" if mod < 0x30 else "Zen 2"
isa = "AVX-512" if machine["avx512f"] == "yes" else ("AVX2" if machine["avx2"] == "yes" else "no AVX2")
cpu_line = (f"{cpu}{' (' + zen + ')' if zen else ''}, family {fam} model {mod}, {isa} "
            f"(avx2 {machine['avx2']}, avx512f {machine['avx512f']}), {machine['cores']} cores, L2 {machine['l2']}")
now = machine.get("date") or datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
cmd = machine.get("command") or ("bench/compare-all.sh" + (" " + argv if argv else ""))
md = [f"Measured {now} with `{cmd}`{' (quick settings: smaller runs, not the reference table)' if quick == '1' else ''}.",
      "",
      f"CPU: {cpu_line}. {machine['java']}. Load average before {machine['load_before']}, after {load_after}"
      " (2 cores: a load above ~0.5 means other work shared the machine; compare the ratios, taken in one run).",
      "", *lines, ""]
for e in mlp_epochs.split():
    secs = {lib: res[f"mlp{e}.{lib}"]["command_seconds"] for lib, _ in libs
            if res.get(f"mlp{e}.{lib}", {}).get("command_seconds")}
    if secs:
        extra.append(f"Default MLP, {e} epoch(s), the whole command in seconds (wall, the launcher or interpreter "
                     "included): " + ", ".join(f"{lib} {v:.2f}" for lib, v in secs.items()) + ".")
md += [f"- {e}" for e in extra]
md.append("- Training rows: Fashion-MNIST, batch 128, SGD momentum 0.9 lr 0.01 (DL4J: its Nesterovs updater), "
          "1 thread, data in memory, examples/s of the training loop (the whole run includes the JIT warm-up of "
          "the JVM libraries). Peers: " + "; ".join(f"{k}: {', '.join(sorted(v))}" for k, v in sorted(backends.items()))
          + ".")
if accs:
    md.append("- Test accuracy at the end (sanity check, not a race): " + ", ".join(accs) + ".")
md += [f"- note: {n}" for n in notes if n.strip()]
text = "\n".join(md) + "\n"
open(table_path, "w").write(text)
print(text)
if docs != "none":
    begin, end = "<!-- compare-all:begin (generated by bench/compare-all.sh) -->", "<!-- compare-all:end -->"
    if os.path.exists(docs):
        old = open(docs).read()
    else:
        old = ("# Performance\n\nDescent against the libraries a user would otherwise pick, measured side by side on one "
               "machine by one command.\n\n" + begin + "\n" + end + "\n")
    if begin not in old:
        old = old.rstrip("\n") + "\n\n## Peer table\n\n" + begin + "\n" + end + "\n"
    pre, rest = old.split(begin, 1)
    post = rest.split(end, 1)[1] if end in rest else ""
    open(docs, "w").write(pre + begin + "\n" + text + end + post)
    print(f"updated {docs}", file=sys.stderr)
PY
echo "compare-all: table in $out/table.md (raw JSON in $raw, log $log)" >&2
