"""How fast `sg.grad` differentiates whole-batch tensor declarations (issue 11), measured in one run.

    PYTHONPATH=. python3 bench/grad_speed.py [--depth 10] [--width 512]

Rows:
- a 10-layer 512-wide MLP with batch norm, declared over the batch (sg.tensor, symbolic N; batch
  statistics as axis reductions), softmax cross-entropy with integer labels: sg.grad of every
  parameter (target: under 1 s);
- a 10-layer 512-wide residual MLP (h ← h + relu(h @ W + b)): sg.grad(..., named=True) of every
  parameter (target: under 1 s) and its size (operations), which must grow linearly in the depth.
"""
from __future__ import annotations

import argparse
import os
import platform
import time

import sympy as sp

import symgrad as sg

N = sp.Symbol("N", integer=True, positive=True)


def bn_mlp(depth, width, d_in=64, classes=10, eps=1e-5):
    """x (N, d_in) → [affine → batch norm (mean, var over N) → relu] × depth → affine → CE."""
    x, y = sg.tensor("x", (N, d_in)), sg.tensor("y", (N,), integer=True)
    params, h, fan_in = [], x, d_in
    for i in range(depth):
        W, b = sg.tensor(f"W{i}", (fan_in, width)), sg.tensor(f"b{i}", (width,))
        gamma, beta = sg.tensor(f"gamma{i}", (width,)), sg.tensor(f"beta{i}", (width,))
        z = h @ W + b
        zhat = (z - z.mean(axis=0)) / sp.sqrt(z.var(axis=0) + eps)
        h = sg.relu(gamma * zhat + beta)
        params += [W, b, gamma, beta]
        fan_in = width
    W, b = sg.tensor("Wout", (width, classes)), sg.tensor("bout", (classes,))
    params += [W, b]
    return sg.cross_entropy(h @ W + b, y), params


def residual_mlp(depth, width):
    """h ← h + relu(h @ W + b), depth times; loss the mean over N of Σ (h − y)²."""
    x, y = sg.tensor("x", (N, width)), sg.tensor("y", (N, width))
    params, h = [], x
    for i in range(depth):
        W, b = sg.tensor(f"W{i}", (width, width)), sg.tensor(f"b{i}", (width,))
        h = h + sg.relu(h @ W + b)
        params += [W, b]
    return sg.sum((h - y) ** 2) / N, params


def first_and_best(k, fn):
    """The first run (cold: SymPy's and symgrad's caches empty for this network) and the fastest of
    k runs (seconds), and the last result."""
    times = []
    for _ in range(k):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return times[0], min(times), out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--depth", type=int, default=10)
    ap.add_argument("--width", type=int, default=512)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    print(f"# grad speed — {time.strftime('%Y-%m-%d')} — {platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, SymPy {sp.__version__}")

    # declaring is the user's work, not sg.grad's: build the expression outside the timing
    loss, params = bn_mlp(args.depth, args.width)
    cold, t, _ = first_and_best(args.repeat, lambda: sg.grad(loss, params))
    print(f"sg.grad, {args.depth}-layer {args.width}-wide batch-norm MLP over the batch "
          f"({len(params)} tensors): first {cold:.3f} s, best {t:.3f} s (target < 1 s)")

    loss, params = residual_mlp(args.depth, args.width)
    cold, t, named = first_and_best(args.repeat, lambda: sg.grad(loss, params, named=True))
    print(f"sg.grad(named=True), {args.depth}-layer {args.width}-wide residual MLP: first {cold:.3f} s, "
          f"best {t:.3f} s "
          f"(target < 1 s), {len(named.definitions)} definitions, {named.count_ops()} operations")
    sizes = [sg.grad(*residual_mlp(d, args.width), named=True).count_ops() for d in range(2, args.depth + 1)]
    steps = {b - a for a, b in zip(sizes, sizes[1:])}
    print(f"  size by depth 2..{args.depth}: {sizes} — "
          + ("linear (the same increment per layer)" if len(steps) == 1 else f"increments {sorted(steps)}"))


if __name__ == "__main__":
    main()
