#!/usr/bin/env bash
# Conv2d forward/backward side by side: Descent (JMH ConvBenchmark, SIMD kernels, one thread) vs PyTorch (CPU,
# one thread), same shapes, back to back. Prints ms per pass and the ratio torch/descent (> 1: Descent faster).
#
#   bench/compare-conv.sh                 # builds bench/jmh when its jar is missing
#   bench/compare-conv.sh --seconds 5
#
# PyTorch: Debian's /usr/bin/python3 with python3-torch (+ libopenblas0), OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE
# unset (they halve OpenBLAS here), one thread. Debian's torch convolves with its own CPU kernels (mkldnn when
# available, else im2col + BLAS): the JSON lines say which.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
seconds=3
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
java_home=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
jar="$root/bench/jmh/target/descent-jmh.jar"
if [ ! -f "$jar" ]; then
  (cd "$root" && JAVA_HOME=$java_home ./mvnw -B -q -ntp -Pbench -pl bench/jmh -am package -DskipTests) >&2
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$java_home/bin/java" --add-modules jdk.incubator.vector --add-exports java.base/jdk.internal.misc=ALL-UNNAMED \
  --enable-native-access=ALL-UNNAMED -jar "$jar" -f 1 -wi 4 -w "${seconds}s" -i 5 -r "${seconds}s" \
  -rf json -rff "$out/descent.json" 'ConvBenchmark' >&2
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 "$root/bench/peers/torch_conv.py" --threads 1 \
  --seconds "$seconds" > "$out/torch.jsonl"
/usr/bin/python3 - "$out/descent.json" "$out/torch.jsonl" <<'PY'
import json, sys
descent = {}
for r in json.load(open(sys.argv[1])):
    descent[(r["params"]["shape"], r["benchmark"].rsplit(".", 1)[1])] = r["primaryMetric"]["score"]
torch = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
print(f"{'shape (b:c:h:w:oc:k:s:p)':28} {'pass':9} {'descent ms':>11} {'torch ms':>9} {'torch/descent':>14}")
for t in torch:
    d = descent.get((t["shape"], t["pass"]))
    if d is None:
        continue
    print(f"{t['shape']:28} {t['pass']:9} {d:11.3f} {t['ms']:9.3f} {t['ms'] / d:14.2f}")
print(f"torch {torch[0]['version']}, mkldnn={torch[0]['mkldnn']}, libblas={torch[0]['libblas']}, 1 thread")
PY
