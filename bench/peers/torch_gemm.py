#!/usr/bin/python3
"""PyTorch (CPU) SGEMM throughput, same workload as `descent bench gemm` / GemmThroughput.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 bench/peers/torch_gemm.py --size 1024 --threads 1
Debian's python3-torch uses the system libblas.so.3: install libopenblas0 too, or it runs the reference BLAS.
Prints one JSON line: {"gflops": .., "size": .., "threads": .., "library": "torch", "blas": .., ...}.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _gemm_common as common  # noqa: E402

args = common.parse_args("torch")
common.prepare_environment(args.threads)
import torch  # noqa: E402

torch.set_num_threads(args.threads)
g = torch.Generator().manual_seed(42)
a_shape = (args.k, args.m) if args.layout == "TN" else (args.m, args.k)
b_shape = (args.n, args.k) if args.layout == "NT" else (args.k, args.n)
a = torch.rand(a_shape, generator=g, dtype=torch.float32) * 2 - 1
b = torch.rand(b_shape, generator=g, dtype=torch.float32) * 2 - 1
c = torch.empty((args.m, args.n), dtype=torch.float32)
lhs = a.t() if args.layout == "TN" else a
rhs = b.t() if args.layout == "NT" else b


def run():
    torch.matmul(lhs, rhs, out=c)


with torch.no_grad():
    reps, elapsed, gflops, best = common.measure(run, 2.0 * args.m * args.n * args.k, args.seconds)
common.report("torch", torch.__version__, args, reps, elapsed, gflops, best)
