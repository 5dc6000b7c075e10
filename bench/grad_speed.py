"""How fast `sg.grad` differentiates whole-batch tensor declarations (issue 11), measured in one run.

    PYTHONPATH=. python3 bench/grad_speed.py [--depth 10] [--width 512]

Rows:
- a 10-layer 512-wide MLP with batch norm, declared over the batch (sg.tensor, symbolic N; batch
  statistics as axis reductions), softmax cross-entropy with integer labels: sg.grad of every
  parameter (target: under 1 s);
- a 10-layer 512-wide residual MLP (h ← h + relu(h @ W + b)): sg.grad(..., named=True) of every
  parameter (target: under 1 s) and its size (operations), which must grow linearly in the depth;
- (printed first) time to a first gradient value, against jax.jit (when jax is installed; else
  "not installed"), the same batch-norm MLP: ``sg.compile`` (derive, generate, compile the NumPy
  module) plus the first ``Program.grad`` call, against ``jax.jit(jax.value_and_grad(loss))``'s
  first call (trace, lower, XLA compile, run), on the same float32 batch; the values checked equal
  (the gradients in float64, after the timing).

Why JAX appears only in that row: `sg.grad` hands back gradient *expressions* (SymPy/tensor
declarations one can print, check and teach from), which JAX never forms — it traces the loss
function to a graph and differentiates that, so timing ``sg.grad`` against anything in JAX would
compare different products. What both do produce is runnable gradient code, so the fair question is
the wall time from a declared loss to its first gradient value, each tool's whole path included and
run first in the process (cold for this network: SymPy's and symgrad's caches hold nothing of it,
XLA's compilation cache is not persisted; each tool's one-time start-up — its first compile of
anything — done before, on another tiny loss). Not equal in kind, said with the numbers: symgrad's
program serves any batch size N (N is a symbol), while jax.jit traces and compiles again for each new
shape. For the same reason bench/derive_speed.py, which times symbolic derivation against
``sympy.diff``, has no JAX column.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time

import numpy as np
import sympy as sp

import symgrad as sg

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))   # bench/, also when loaded from its path
import jax_peer  # noqa: E402

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


def bn_mlp_jax(depth, d_in=64, eps=1e-5):
    """`bn_mlp`'s loss as a JAX function of ({name: array}, x, y), or ``None`` without jax."""
    got = jax_peer.load()
    if got is None:
        return None
    jax, jnp = got

    def loss(ps, x, y):
        h = x
        for i in range(depth):
            z = h @ ps[f"W{i}"] + ps[f"b{i}"]
            mu = jnp.mean(z, axis=0)
            var = jnp.mean((z - mu) ** 2, axis=0)
            h = jax.nn.relu(ps[f"gamma{i}"] * (z - mu) / jnp.sqrt(var + eps) + ps[f"beta{i}"])
        logits = h @ ps["Wout"] + ps["bout"]
        return jnp.mean(jax.nn.logsumexp(logits, axis=1) - jnp.take_along_axis(logits, y[:, None], 1)[:, 0])
    return loss


def first_gradient_value(depth, width, batch=256, seed=0):
    """Seconds (wall, and CPU of this process: the machine may be busy) from the declared loss to
    its first gradient value: symgrad's (compile + first ``Program.grad``) and jax.jit's (first call
    of the jitted value_and_grad), or ``None`` for jax when it is not installed; the losses are
    checked equal, and the gradients (in float64, after the timing)."""
    loss, params = bn_mlp(depth, width)
    rng = np.random.default_rng(seed)
    values = {}
    for p in params:
        shape = tuple(int(d) for d in p.shape)
        values[p.name] = ((rng.uniform(-1, 1, shape) / np.sqrt(shape[0])) if len(shape) == 2
                          else np.ones(shape) if p.name.startswith("gamma") else np.zeros(shape)).astype(np.float32)
    x = rng.standard_normal((batch, 64)).astype(np.float32)
    y = rng.integers(0, 10, batch)
    named = {s.name: s for s in loss.free_symbols}
    # each tool's one-time start-up (first compile of anything) on another, tiny loss, outside the timing
    w, u = sg.tensor("w", (3,)), sg.tensor("u", (N, 3))
    sg.compile(sg.sum(sg.relu(u * w)) / N, [w], [u], dtype="float32").grad({"w": np.ones(3, np.float32)},
                                                                         {"u": np.ones((2, 3), np.float32)})
    t0, c0 = time.perf_counter(), time.process_time()
    prog = sg.compile(loss, params, [named["x"], named["y"]], dtype="float32")
    ours = prog.grad(values, {"x": x, "y": y})
    t_ours = (time.perf_counter() - t0, time.process_time() - c0)
    jloss = bn_mlp_jax(depth)
    if jloss is None:
        return t_ours, None
    import jax
    import jax.numpy as jnp
    jax.jit(jax.grad(lambda a: jnp.sum(jax.nn.relu(a) ** 2)))(jnp.ones(3)).block_until_ready()
    ps = {k: jnp.asarray(v) for k, v in values.items()}
    xj, yj = jnp.asarray(x), jnp.asarray(y.astype(np.int32))
    t0, c0 = time.perf_counter(), time.process_time()
    lj, gj = jax.jit(jax.value_and_grad(jloss))(ps, xj, yj)
    gj = {k: np.asarray(g) for k, g in gj.items()}                # waits for the value
    t_jax = (time.perf_counter() - t0, time.process_time() - c0)
    assert abs(float(lj) - prog.loss(values, {"x": x, "y": y})) < 1e-3 * float(lj), (float(lj), ours)
    # the gradients, in float64 (see jax_peer.float64_check): both compiled again for them
    v64, b64 = {k: v.astype(np.float64) for k, v in values.items()}, {"x": x.astype(np.float64), "y": y}
    prog64 = sg.compile(loss, params, [named["x"], named["y"]], dtype="float64")
    with jax_peer.float64_check():
        l64, g64 = jax.jit(jax.value_and_grad(jloss))({k: jnp.asarray(v) for k, v in v64.items()},
                                                     jnp.asarray(b64["x"]), yj)
        l64, g64 = float(l64), {k: np.asarray(g) for k, g in g64.items()}
    jax_peer.assert_same("batch-norm MLP, float64", prog64.loss(v64, b64), prog64.grad(v64, b64), l64, g64)
    return t_ours, t_jax


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
    ap.add_argument("--no-first-value", action="store_true", help="skip the time-to-first-gradient-value row")
    args = ap.parse_args(argv)
    xla = jax_peer.one_xla_thread()
    print(f"# grad speed — {time.strftime('%Y-%m-%d')} — {platform.machine()}, {jax_peer.cpu_model()}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}, SymPy {sp.__version__}, "
          f"{jax_peer.version()} ({xla})")

    if not args.no_first_value:                      # first: both cold
        t_ours, t_jax = first_gradient_value(args.depth, args.width)
        them = f"{t_jax[0]:.2f} s wall, {t_jax[1]:.2f} s CPU" if t_jax is not None else jax_peer.NOT_INSTALLED
        ratio = (f"; symgrad / jax = {t_ours[0] / t_jax[0]:.2f} wall, {t_ours[1] / t_jax[1]:.2f} CPU"
                 if t_jax is not None else "")
        print(f"time to a first gradient value, {args.depth}-layer {args.width}-wide batch-norm MLP, batch 256: "
              f"symgrad (sg.compile + Program.grad) {t_ours[0]:.2f} s wall, {t_ours[1]:.2f} s CPU; "
              f"jax.jit(value_and_grad) first call {them}{ratio}")

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
