#!/usr/bin/env python3
"""PyTorch peer for `./descent story grokking --preset paper`: the same decoder-only transformer and step.

The grokking paper's model (Power et al. 2022) as Descent builds it: token + learned position embedding
(width 128), 2 pre-norm blocks (causal self-attention with 4 heads, fused qkv with bias, output projection;
MLP 4x with tanh-GELU), final LayerNorm, logits of the last position over the p residues. Data: all pairs
of (a + b) mod p as tokens [a, op, b, =], a seeded train split. Optimizer AdamW(lr 1e-3, betas 0.9/0.98,
wd 1), minibatches of --batch. Prints one JSON line with the mean milliseconds of a training step
(forward, backward, AdamW update) after --warmup steps (wall clock, and CPU time of the process, which
is the fairer number on a busy machine), the steps/s and the BLAS in use.
Run with Debian's python3 (/usr/bin/python3) and python3-torch + libopenblas0.
"""
import argparse, json, math, time

import torch
import torch.nn as nn
import torch.nn.functional as F


def loaded_blas():
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


class Block(nn.Module):
    def __init__(self, c, heads):
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(c)
        self.qkv = nn.Linear(c, 3 * c)
        self.proj = nn.Linear(c, c)
        self.ln2 = nn.LayerNorm(c)
        self.fc = nn.Linear(c, 4 * c)
        self.out = nn.Linear(4 * c, c)

    def forward(self, x):
        b, t, c = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(c, dim=2)
        q = q.view(b, t, self.heads, c // self.heads).transpose(1, 2)
        k = k.view(b, t, self.heads, c // self.heads).transpose(1, 2)
        v = v.view(b, t, self.heads, c // self.heads).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(c // self.heads)
        mask = torch.ones(t, t, dtype=torch.bool).tril()
        att = att.masked_fill(~mask, float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).reshape(b, t, c)
        x = x + self.proj(y)
        return x + self.out(F.gelu(self.fc(self.ln2(x)), approximate="tanh"))


class Transformer(nn.Module):
    def __init__(self, vocab, t, c, heads, layers, classes):
        super().__init__()
        self.tok = nn.Embedding(vocab, c)
        self.pos = nn.Parameter(torch.zeros(t, c))
        self.blocks = nn.ModuleList(Block(c, heads) for _ in range(layers))
        self.ln = nn.LayerNorm(c)
        self.head = nn.Linear(c, classes)
        for p in self.parameters():
            if p.dim() >= 2:
                nn.init.normal_(p, std=0.02)

    def forward(self, ids):
        x = self.tok(ids) + self.pos
        for b in self.blocks:
            x = b(x)
        return self.head(self.ln(x)[:, -1, :])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--modulus", type=int, default=97)
    ap.add_argument("--train-fraction", type=float, default=0.5)
    ap.add_argument("--batch", type=int, default=512)
    ap.add_argument("--width", type=int, default=128)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--warmup", type=int, default=30)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    p = a.modulus
    pairs = torch.tensor([(x, y) for x in range(p) for y in range(p)])
    ids = torch.stack([pairs[:, 0], torch.full((p * p,), p), pairs[:, 1], torch.full((p * p,), p + 1)], dim=1)
    labels = (pairs[:, 0] + pairs[:, 1]) % p
    perm = torch.randperm(p * p)
    n_train = round(a.train_fraction * p * p)
    xtr, ytr = ids[perm[:n_train]], labels[perm[:n_train]]
    model = Transformer(p + 2, 4, a.width, a.heads, a.layers, p)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.98), weight_decay=1.0)
    batch = min(a.batch, n_train)
    order = torch.randperm(n_train)
    pos = 0
    times, cpu = [], []
    for step in range(a.warmup + a.steps):
        if pos + batch > n_train:
            order, pos = torch.randperm(n_train), 0
        idx = order[pos:pos + batch]
        pos += batch
        t0, c0 = time.perf_counter(), time.process_time()
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(xtr[idx]), ytr[idx])
        loss.backward()
        opt.step()
        if step >= a.warmup:
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
    ms = 1000 * sum(times) / len(times)
    cpu_ms = 1000 * sum(cpu) / len(cpu)
    print(json.dumps({"peer": "pytorch " + torch.__version__, "blas": loaded_blas(), "threads": a.threads,
                      "batch": batch, "parameters": sum(q.numel() for q in model.parameters()),
                      "steps_timed": len(times), "ms_per_step": ms, "cpu_ms_per_step": cpu_ms,
                      "steps_per_second": 1000 / ms,
                      "final_loss": loss.item()}))


if __name__ == "__main__":
    main()
