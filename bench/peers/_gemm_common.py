"""Shared bits of the GEMM peer benchmarks: arguments, timing loop, BLAS detection, JSON output.

Run the peers with Debian's /usr/bin/python3. OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE, which this machine
exports and which cut OpenBLAS to about half speed, must be unset before numpy/torch load OpenBLAS; the
scripts drop them from their own environment before importing either (bench/compare-gemm.sh unsets them
as well), and set the BLAS thread count from --threads before the libraries start their pools.
"""
import argparse
import json
import os
import time


def parse_args(library):
    p = argparse.ArgumentParser(description=f"SGEMM throughput with {library}, same workload as Descent")
    p.add_argument("--size", type=int, default=None, help="square m = n = k (overrides --m/--n/--k)")
    p.add_argument("--m", type=int, default=1024)
    p.add_argument("--n", type=int, default=1024)
    p.add_argument("--k", type=int, default=1024)
    p.add_argument("--layout", default="NN", choices=["NN", "NT", "TN"],
                   help="NN: A[m,k]B[k,n]; NT: A[m,k]B[n,k]^T; TN: A[k,m]^T B[k,n]")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seconds", type=float, default=3.0, help="timed duration (warm-up adds half)")
    a = p.parse_args()
    if a.size is not None:
        a.m = a.n = a.k = a.size
    return a


def prepare_environment(threads):
    """Call before importing numpy or torch."""
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        os.environ.pop(var, None)
    # DESCENT_PEER_CORETYPE=Haswell (or Zen) makes OpenBLAS use its AVX2 kernels on an AVX-512 machine: the peer of
    # a Descent run with -XX:UseAVX=2, to compare the AVX2 code paths side by side on one machine
    if os.environ.get("DESCENT_PEER_CORETYPE"):
        os.environ["OPENBLAS_CORETYPE"] = os.environ["DESCENT_PEER_CORETYPE"]
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)
    # torch (and OpenMP BLAS) spin-wait by default, which slows two threads down on two cores
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def blas_libraries():
    """The BLAS/LAPACK shared libraries mapped into this process (which BLAS numpy/torch really use)."""
    libs = set()
    with open("/proc/self/maps") as f:
        for line in f:
            path = line.split()[-1] if len(line.split()) >= 6 else ""
            name = os.path.basename(path)
            if any(t in name for t in ("blas", "mkl", "blis", "atlas")):
                libs.add(os.path.realpath(path))
    return sorted(libs)


def measure(run, flops, seconds):
    """Warm up for max(0.5, seconds/2), then time run() for about `seconds`; mean and best GFLOP/s."""
    end = time.perf_counter() + max(0.5, seconds / 2)
    while time.perf_counter() < end:
        run()
    reps, best = 0, float("inf")
    start = now = time.perf_counter()
    while now - start < seconds:
        t0 = now
        run()
        now = time.perf_counter()
        best = min(best, now - t0)
        reps += 1
    elapsed = now - start
    return reps, elapsed, flops * reps / elapsed / 1e9, flops / best / 1e9


def report(library, version, args, reps, elapsed, gflops, best):
    print(json.dumps({
        "library": library, "version": version, "blas": ", ".join(blas_libraries()) or "unknown",
        "gflops": round(gflops, 2), "best_gflops": round(best, 2),
        "size": args.m if args.m == args.n == args.k else f"{args.m}x{args.n}x{args.k}",
        "m": args.m, "n": args.n, "k": args.k, "layout": args.layout, "threads": args.threads,
        "repetitions": reps, "seconds": round(elapsed, 4), "ms_per_gemm": round(elapsed * 1e3 / reps, 4),
        "env": {v: os.environ.get(v) for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "OMP_WAIT_POLICY",
                                                "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")},
    }))
