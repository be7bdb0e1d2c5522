#!/usr/bin/env python3
"""PyTorch peer for `./descent bench train`: the same MLP (or --model cnn: the LeNet-like CNN), batch, optimizer
and thread count.

Trains an MLP (default 784-256-128-10, ReLU, cross-entropy, SGD momentum 0.9) on Fashion-MNIST for the
given number of epochs and prints one JSON line: examples/s of the training loop (data already in memory,
shuffled per epoch, like Descent's), plus final test accuracy so the two runs can be checked for sanity.
Run with Debian's python3 (/usr/bin/python3) and python3-torch + libopenblas0.
"""
import argparse, gzip, json, os, struct, sys, time

import numpy as np
import torch


def read_idx(path):
    opener = gzip.open if open(path, "rb").read(2) == b"\x1f\x8b" else open
    with opener(path, "rb") as f:
        data = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load(data_dir, split):
    prefix = "train" if split == "train" else "t10k"
    x = read_idx(os.path.join(data_dir, f"{prefix}-images-idx3-ubyte")).reshape(-1, 784).astype(np.float32) / 255.0
    y = read_idx(os.path.join(data_dir, f"{prefix}-labels-idx1-ubyte")).astype(np.int64)
    return torch.from_numpy(x), torch.from_numpy(y)


def loaded_blas():
    """The BLAS library actually mapped into this process (Debian's torch uses the libblas.so.3 alternative)."""
    try:
        with open("/proc/self/maps") as f:
            libs = {line.split()[-1].rsplit("/", 1)[-1] for line in f if ".so" in line}
    except OSError:
        return "unknown"
    for name in ("openblas", "mkl", "blis", "libblas"):
        hits = sorted(l for l in libs if name in l)
        if hits:
            return hits[0]
    return "unknown"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="data/fashion-mnist")
    ap.add_argument("--widths", default="256,128")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--model", default="mlp", choices=["mlp", "cnn"],
                    help="cnn: conv5x5(16, same)-maxpool2-ReLU-conv5x5(32, same)-maxpool2-ReLU-Linear128-ReLU-Linear10 "
                         "(Descent's layer order; ReLU after the pooling is the same function as before it)")
    ap.add_argument("--train-limit", type=int, default=0, help="use only the first N training examples")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    xtr, ytr = load(a.data, "train")
    xte, yte = load(a.data, "test")
    if a.train_limit > 0:
        xtr, ytr = xtr[:a.train_limit], ytr[:a.train_limit]
    if a.model == "cnn":
        xtr, xte = xtr.reshape(-1, 1, 28, 28), xte.reshape(-1, 1, 28, 28)
        nn = torch.nn
        layers = [nn.Conv2d(1, 16, 5, padding=2), nn.MaxPool2d(2), nn.ReLU(),
                  nn.Conv2d(16, 32, 5, padding=2), nn.MaxPool2d(2), nn.ReLU(), nn.Flatten(),
                  nn.Linear(32 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10)]
    else:
        sizes = [784] + [int(w) for w in a.widths.split(",") if w] + [10]
        layers = []
        for i in range(len(sizes) - 1):
            layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
            if i < len(sizes) - 2:
                layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    for m in model:
        if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d)):
            torch.nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            torch.nn.init.zeros_(m.bias)
    opt = torch.optim.SGD(model.parameters(), lr=a.lr, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()
    n = xtr.shape[0]
    examples, train_seconds, per_epoch = 0, 0.0, []
    for epoch in range(a.epochs):
        perm = torch.randperm(n)
        t0 = time.perf_counter()
        for s in range(0, n - a.batch + 1, a.batch):
            idx = perm[s:s + a.batch]
            xb, yb = xtr[idx], ytr[idx]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            examples += a.batch
        seconds = time.perf_counter() - t0
        train_seconds += seconds
        per_epoch.append((n // a.batch) * a.batch / seconds)
    with torch.no_grad():
        acc = (model(xte).argmax(1) == yte).float().mean().item()
    blas = loaded_blas()
    print(json.dumps({"library": f"torch {torch.__version__}", "blas": blas, "threads": a.threads,
                      "batch": a.batch, "model": a.model, "widths": a.widths if a.model == "mlp" else "", "epochs": a.epochs,
                      "examples_per_second": examples / train_seconds,
                      "epoch_examples_per_second": per_epoch, "test_accuracy": acc}))


if __name__ == "__main__":
    sys.exit(main())
