#!/usr/bin/env bash
# SGEMM side by side: Descent (SIMD kernels) vs numpy (OpenBLAS) vs PyTorch (CPU), same shapes, same machine,
# back to back, printed as GFLOP/s and ratios. Absolute numbers on shared machines drift: read the ratios.
#
#   bench/compare-gemm.sh                    # 1024^3 on 1 and 2 threads + the MLP shapes on 1 and 2 threads
#   bench/compare-gemm.sh --seconds 5 --threads "1"
#   bench/compare-gemm.sh --shapes "NN:1024:1024:1024 NT:128:256:784"
#   bench/compare-gemm.sh --rounds 3         # repeat the whole set, keep each library's best round
#
# Descent runs dev.descent.engine.kernel.GemmThroughput with engine/target/classes (built with Maven when
# missing) and the Agrona/SLF4J jars from ~/.m2; if that is not possible it falls back to
# `./descent bench gemm`. Peers run on Debian's /usr/bin/python3 (apt-get install python3-numpy python3-torch
# libopenblas0) with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset (they halve OpenBLAS here), the thread
# count set through OMP/OPENBLAS_NUM_THREADS and torch.set_num_threads, OMP_WAIT_POLICY=PASSIVE.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
seconds=3
rounds=1
threads_list="1 2"
shapes="NN:1024:1024:1024 NT:128:256:784 NN:128:784:256 TN:256:784:128"
python=/usr/bin/python3
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --threads) threads_list=$2; shift 2 ;;
    --shapes) shapes=$2; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

java_home=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
if [ ! -x "$java_home/bin/java" ] || ! "$java_home/bin/java" -version 2>&1 | grep -q 'version "25'; then
  java_home=/usr/lib/jvm/temurin-25-jdk-amd64
fi
m2=${MAVEN_REPO:-$HOME/.m2/repository}
jar_of() { ls "$m2/$1/$2/$3/$2-$3.jar" 2>/dev/null || true; }
prop() { sed -n "s:.*<$1>\(.*\)</$1>.*:\1:p" "$root/pom.xml" | head -1; }
classes="$root/engine/target/classes"
if [ ! -f "$classes/dev/descent/engine/kernel/GemmThroughput.class" ]; then
  echo "compare-gemm: building the engine classes..." >&2
  (cd "$root" && JAVA_HOME=$java_home ./mvnw -B -q -ntp -pl engine compile) >&2 || true
fi
agrona=$(jar_of org/agrona agrona "$(prop agrona.version)")
slf4j=$(jar_of org/slf4j slf4j-api "$(prop slf4j.version)")
mode=none
if [ -f "$classes/dev/descent/engine/kernel/GemmThroughput.class" ] && [ -n "$agrona" ] && [ -n "$slf4j" ]; then
  mode=classes
elif [ -x "$root/descent" ]; then
  mode=launcher
fi

descent_run() {  # layout m n k threads -> one JSON line
  case $mode in
    classes)
      "$java_home/bin/java" --add-modules jdk.incubator.vector --add-exports java.base/jdk.internal.misc=ALL-UNNAMED \
        --enable-native-access=ALL-UNNAMED -cp "$classes:$agrona:$slf4j" \
        dev.descent.engine.kernel.GemmThroughput "$2" "$3" "$4" "$1" "$5" "$seconds" 2>/dev/null | grep '^{' ;;
    launcher)
      local out
      out=$("$root/descent" bench gemm --m "$2" --n "$3" --k "$4" --layout "$1" --threads "$5" \
            --seconds "$seconds" 2>/dev/null || "$root/descent" bench gemm --size "$2" --threads "$5" 2>/dev/null || true)
      echo "$out" | grep '^{' | tail -1 || true ;;
    *) echo '{"library":"descent","error":"no engine classes and no ./descent launcher"}' ;;
  esac
}
peer_run() {  # script layout m n k threads
  if [ ! -x "$python" ] || ! "$python" -c "import ${1%%_*}" 2>/dev/null; then
    echo "{\"library\":\"${1%%_*}\",\"error\":\"not installed for $python\"}"; return
  fi
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS="$6" OPENBLAS_NUM_THREADS="$6" OMP_WAIT_POLICY=PASSIVE \
    "$python" "$root/bench/peers/$1.py" --layout "$2" --m "$3" --n "$4" --k "$5" --threads "$6" \
    --seconds "$seconds" 2>/dev/null | grep '^{' || echo "{\"library\":\"${1%%_*}\",\"error\":\"failed\"}"
}

results=$(mktemp)
trap 'rm -f "$results"' EXIT
echo "compare-gemm: descent via $mode, ${seconds}s per measurement, $rounds round(s), $(nproc) cores," \
  "load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ)" >&2
for r in $(seq "$rounds"); do
  for t in $threads_list; do
    for s in $shapes; do
      IFS=: read -r layout m n k <<<"$s"
      echo "  round $r: $layout ${m}x${n}x${k} threads=$t ..." >&2
      { echo "$s:$t descent $(descent_run "$layout" "$m" "$n" "$k" "$t")"
        echo "$s:$t numpy $(peer_run numpy_gemm "$layout" "$m" "$n" "$k" "$t")"
        echo "$s:$t torch $(peer_run torch_gemm "$layout" "$m" "$n" "$k" "$t")"; } >>"$results"
    done
  done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg) (ratios taken on a loaded machine are not trustworthy)" >&2

"${python}" - "$results" <<'PY'
import json, sys
rows, blas = {}, set()
for line in open(sys.argv[1]):
    key, lib, js = line.split(" ", 2)
    try:
        d = json.loads(js)
    except ValueError:
        d = {"error": js.strip() or "no output"}
    r = rows.setdefault(key, {})
    if lib not in r or (d.get("gflops") or 0) > (r[lib].get("gflops") or 0):   # best round
        r[lib] = d
    if "blas" in d:
        blas.add(f"{lib}: {d['blas']}")
def g(d):
    return d.get("gflops") if isinstance(d, dict) else None
print(f"{'shape (layout:m:n:k:threads)':32} {'descent':>9} {'numpy':>9} {'torch':>9} {'d/numpy':>8} {'d/torch':>8}")
for key, r in rows.items():
    d, n, t = (g(r.get(x, {})) for x in ("descent", "numpy", "torch"))
    f = lambda v: f"{v:9.1f}" if v else f"{'-':>9}"
    q = lambda a, b: f"{a / b:8.2f}" if a and b else f"{'-':>8}"
    print(f"{key:32} {f(d)} {f(n)} {f(t)} {q(d, n)} {q(d, t)}")
# two-thread scaling of Descent, per shape
for key, r in rows.items():
    if key.endswith(":2"):
        one = rows.get(key[:-2] + ":1", {}).get("descent")
        if g(one) and g(r.get("descent", {})):
            print(f"descent 2-thread speed-up {key[:-2]}: {g(r['descent']) / g(one):.2f}x")
for b in sorted(blas):
    print("blas", b)
for key, r in rows.items():
    for lib, d in r.items():
        if "error" in d:
            print(f"note: {lib} {key}: {d['error']}")
PY
