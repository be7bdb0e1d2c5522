#!/usr/bin/env python3
"""PyTorch peer for `descent landscape plane`: the same model, directions, grid and data, evaluated in PyTorch.

Reads a Descent model file (an MLP: flatten / linear / activation / dropout layers) and the directions file that
`descent landscape plane` wrote (directions.descentd), evaluates L(w + a*d1 + b*d2) in eval mode on the first N
train and test examples of Fashion-MNIST for every point of the grid, and prints one JSON line: points/s, plus
the largest difference from Descent's landscape.csv when --check is given (a correctness cross-check).
Run with Debian's python3 (/usr/bin/python3), python3-torch and libopenblas0.
"""
import argparse, json, os, struct, sys, time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_train import load, loaded_blas  # noqa: E402

ALIGN = 16  # floats: Descent aligns every parameter tensor to 64 bytes


def read_model(path):
    b = open(path, "rb").read()
    assert b[:8] == b"DESCENTM", f"{path}: not a Descent model file"
    version, spec_len, floats = struct.unpack("<iiq", b[8:24])
    # version 1: magic, version, spec length, floats; version 2 adds the buffer float count (BatchNorm statistics);
    # version 3 has version 2's layout (it only changes how BatchNorm's scale is stored, which this peer never reads)
    header = {1: 24, 2: 32, 3: 32}.get(version)
    assert header, f"{path}: model file version {version} is not supported by this peer"
    spec = b[header:header + spec_len].decode()
    params = np.frombuffer(b, dtype="<f4", count=floats, offset=header + spec_len).copy()
    return spec, params


def read_directions(path):
    b = open(path, "rb").read()
    assert b[:8] == b"DESCENTD", f"{path}: not a Descent directions file"
    version, spec_len, notes_len, count, floats = struct.unpack("<iiiiq", b[8:32])
    off = 32 + spec_len + notes_len
    return [np.frombuffer(b, dtype="<f4", count=floats, offset=off + k * floats * 4).copy() for k in range(count)]


def build(spec):
    """torch module for the spec, and (param, slab offset) pairs in Descent's layout order."""
    lines = [l.split() for l in spec.strip().split("\n")[1:]]
    width = int(np.prod([int(v) for v in lines[0][1:]]))
    layers, layout, off = [], [], 0
    for t in lines[1:]:
        if t[0] == "flatten":
            layers.append(torch.nn.Flatten())
        elif t[0] == "linear":
            lin = torch.nn.Linear(width, int(t[1]))
            layers.append(lin)
            for p in (lin.weight, lin.bias):
                layout.append((p, off))
                off += (p.numel() + ALIGN - 1) // ALIGN * ALIGN
            width = int(t[1])
        elif t[0] == "activation":
            layers.append({"relu": torch.nn.ReLU(), "tanh": torch.nn.Tanh(), "sigmoid": torch.nn.Sigmoid(),
                           "gelu": torch.nn.GELU()}[t[1]])
        elif t[0] == "dropout":
            layers.append(torch.nn.Dropout(float(t[1])))
        else:
            raise SystemExit(f"torch_landscape: layer '{t[0]}' is not supported by this peer (MLPs only)")
    return torch.nn.Sequential(*layers).eval(), layout, off


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="data/fashion-mnist")
    ap.add_argument("--model", required=True)
    ap.add_argument("--directions", required=True)
    ap.add_argument("--grid", type=int, default=25)
    ap.add_argument("--range", type=float, default=1.0)
    ap.add_argument("--train-examples", type=int, default=2000)
    ap.add_argument("--test-examples", type=int, default=2000)
    ap.add_argument("--eval-batch", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--check", help="Descent's landscape.csv to compare with")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    spec, w = read_model(a.model)
    d1, d2 = read_directions(a.directions)[:2]
    net, layout, floats = build(spec)
    assert floats == len(w), f"layout mismatch: {floats} vs {len(w)} floats"
    w, d1, d2 = (torch.from_numpy(v) for v in (w, d1, d2))
    xtr, ytr = load(a.data, "train")
    xte, yte = load(a.data, "test")
    xtr, ytr, xte, yte = xtr[:a.train_examples], ytr[:a.train_examples], xte[:a.test_examples], yte[:a.test_examples]
    xs = np.array([-a.range + 2 * a.range * i / (a.grid - 1) for i in range(a.grid)])
    xs[-1] = a.range
    point = torch.empty_like(w)

    def evaluate(x, y):
        loss, correct = 0.0, 0
        for s in range(0, len(x), a.eval_batch):
            out = net(x[s:s + a.eval_batch])
            loss += torch.nn.functional.cross_entropy(out, y[s:s + a.eval_batch], reduction="sum").item()
            correct += (out.argmax(1) == y[s:s + a.eval_batch]).sum().item()
        return loss / len(x), correct / len(x)

    results = []
    with torch.no_grad():
        t0 = time.perf_counter()
        for j in range(a.grid):
            for i in range(a.grid):
                torch.add(w, d1, alpha=float(xs[i]), out=point)
                point.add_(d2, alpha=float(xs[j]))
                for p, off in layout:
                    p.copy_(point[off:off + p.numel()].view_as(p))
                results.append((*evaluate(xtr, ytr), *evaluate(xte, yte)))
        seconds = time.perf_counter() - t0
    report = {"points": a.grid * a.grid, "seconds": seconds, "points_per_second": a.grid * a.grid / seconds,
              "threads": a.threads, "blas": loaded_blas(), "torch": torch.__version__,
              "train_examples": len(xtr), "test_examples": len(xte)}
    if a.check:
        rows = [l.strip().split(",") for l in open(a.check).read().strip().split("\n")[1:]]
        diff = max(abs(float(r[3]) - results[int(r[0])][0]) for r in rows)
        acc = max(abs(float(r[4]) - results[int(r[0])][1]) for r in rows)
        report["max_abs_train_loss_difference"] = diff
        report["max_abs_train_accuracy_difference"] = acc
    print(json.dumps(report))


if __name__ == "__main__":
    main()
