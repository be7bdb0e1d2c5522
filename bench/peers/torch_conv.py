#!/usr/bin/python3
"""PyTorch (CPU) Conv2d forward and backward on the shapes of bench/jmh ConvBenchmark.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 bench/peers/torch_conv.py --threads 1
Backward = input, weight and bias gradients from a fixed dY (torch.autograd.grad on a retained graph), the same
work as Descent's Conv2d.backward with needInputGrad. Prints one JSON line per shape and pass:
{"library": "torch", "shape": "128:1:28:28:16:5:1:2", "pass": "forward", "ms": .., ...}.
"""
import argparse
import json
import os
import time

parser = argparse.ArgumentParser()
parser.add_argument("--threads", type=int, default=1)
parser.add_argument("--seconds", type=float, default=3.0)
parser.add_argument("--shapes", default="128:1:28:28:16:5:1:2 128:16:14:14:32:5:1:2 64:32:16:16:32:3:1:1")
args = parser.parse_args()
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(args.threads)
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

torch.set_num_threads(args.threads)


def measure(fn, seconds):
    for _ in range(5):
        fn()
    best = float("inf")
    reps = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
        reps += 1
    return (time.perf_counter() - start) / reps * 1e3, best * 1e3, reps


g = torch.Generator().manual_seed(1)
for shape in args.shapes.split():
    b, c, h, w, oc, k, s, p = (int(v) for v in shape.split(":"))
    x = torch.randn(b, c, h, w, generator=g).requires_grad_(True)
    wt = (torch.randn(oc, c, k, k, generator=g) * (2.0 / (c * k * k)) ** 0.5).requires_grad_(True)
    bias = torch.zeros(oc).requires_grad_(True)
    with torch.no_grad():
        fwd_ms, fwd_best, fwd_reps = measure(lambda: F.conv2d(x, wt, bias, stride=s, padding=p), args.seconds)
    y = F.conv2d(x, wt, bias, stride=s, padding=p)
    dy = torch.randn(y.shape, generator=g)
    bwd_ms, bwd_best, bwd_reps = measure(
        lambda: torch.autograd.grad(y, (x, wt, bias), dy, retain_graph=True), args.seconds)
    for name, ms, best, reps in (("forward", fwd_ms, fwd_best, fwd_reps), ("backward", bwd_ms, bwd_best, bwd_reps)):
        print(json.dumps({"library": "torch", "version": torch.__version__, "shape": shape, "pass": name,
                          "ms": round(ms, 4), "best_ms": round(best, 4), "reps": reps, "threads": args.threads,
                          "mkldnn": torch.backends.mkldnn.is_available(),
                          "libblas": os.path.realpath("/usr/lib/x86_64-linux-gnu/libblas.so.3")}))
