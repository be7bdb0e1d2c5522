#!/usr/bin/python3
"""numpy (OpenBLAS) SGEMM throughput, same workload as `descent bench gemm` / GemmThroughput.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 bench/peers/numpy_gemm.py --size 1024 --threads 1
Prints one JSON line: {"gflops": .., "size": .., "threads": .., "library": "numpy", "blas": .., ...}.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _gemm_common as common  # noqa: E402

args = common.parse_args("numpy")
common.prepare_environment(args.threads)
import numpy as np  # noqa: E402

rng = np.random.default_rng(42)
a_shape = (args.k, args.m) if args.layout == "TN" else (args.m, args.k)
b_shape = (args.n, args.k) if args.layout == "NT" else (args.k, args.n)
a = rng.uniform(-1, 1, a_shape).astype(np.float32)
b = rng.uniform(-1, 1, b_shape).astype(np.float32)
c = np.empty((args.m, args.n), dtype=np.float32)
# transposed views: numpy hands them to sgemm with a transpose flag, no copy
lhs = a.T if args.layout == "TN" else a
rhs = b.T if args.layout == "NT" else b


def run():
    np.matmul(lhs, rhs, out=c)


reps, elapsed, gflops, best = common.measure(run, 2.0 * args.m * args.n * args.k, args.seconds)
common.report("numpy", np.__version__, args, reps, elapsed, gflops, best)
