"""How fast symgrad derives gradients, against plain ``sympy.diff``, measured in one run.

    python3 bench/derive_speed.py [--quick] [--sympy-timeout 120]

Rows (issue 2):
- a scalarized sigmoid MLP 4-8-8-2 with squared loss (130 parameters): sg.grad of every parameter vs
  sympy.diff per parameter (target: at least 25x faster);
- a scalarized 8-16-16-4 (about 500 parameters): sg.grad (target: under 5 s; sympy.diff is not run
  to the end: it is given ``--sympy-timeout`` seconds on a sample of parameters and extrapolated);
- a MatrixSymbol MLP 784-256-128-10 with softmax cross-entropy: sg.grad (target: under 1 s).
For every expression it also prints the reverse-mode program's operation count over the CSE'd
forward program's (target: at most 3x).

No JAX column, on purpose: this script times deriving gradient *expressions*, and JAX forms none —
it differentiates a traced graph into code. The comparison that is fair to both, the wall time from
a declared loss to its first gradient value (symgrad's compile + first call against jax.jit's
trace + XLA compile + first call), is bench/grad_speed.py's "time to a first gradient value" row.
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import platform
import time

import sympy as sp

import symgrad as sg


def scalar_mlp(widths):
    net = sg.mlp(widths, act=sg.sigmoid, out_act=sg.sigmoid, scalar=True)
    ys = sp.symbols(f"y0:{widths[-1]}", real=True)
    loss = sp.Add(*[(o - y) ** 2 for o, y in zip(net.output, ys)]) / 2
    return loss, net.params


def matrix_mlp(widths):
    net = sg.mlp(widths, act=sg.relu)
    t = sp.MatrixSymbol("t", widths[-1], 1)
    return sg.cross_entropy(net.output, t), net.params


def timed(fn, *args, **kw):
    t0 = time.perf_counter()
    out = fn(*args, **kw)
    return time.perf_counter() - t0, out


def _sympy_diff_all(loss, params, q):
    t0 = time.perf_counter()
    for p in params:
        sp.diff(loss, p)
    q.put(time.perf_counter() - t0)


def sympy_diff_time(loss, params, timeout):
    """Seconds sympy.diff takes for ``params`` (None if it did not finish within ``timeout``)."""
    q = mp.Queue()
    proc = mp.Process(target=_sympy_diff_all, args=(loss, params, q))
    proc.start()
    proc.join(timeout)
    if proc.is_alive():
        proc.terminate()
        proc.join()
        return None
    return q.get()


def ops_ratio(loss, params):
    d = sg.derive(loss, params)
    fwd, rev = d.forward_program.count_ops(), d.program.count_ops()
    return fwd, rev, rev / fwd


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="skip the sympy.diff timing of 4-8-8-2")
    ap.add_argument("--sympy-timeout", type=float, default=120.0)
    args = ap.parse_args(argv)
    print(f"# derive speed — {time.strftime('%Y-%m-%d')} — {platform.machine()}, "
          f"{mp.cpu_count()} cores, Python {platform.python_version()}, SymPy {sp.__version__}")
    rows = []

    loss, params = scalar_mlp([4, 8, 8, 2])
    t_sg, _ = timed(sg.grad, loss, params)
    if args.quick:
        t_sp = None
    else:
        t_sp = sympy_diff_time(loss, params, args.sympy_timeout)
    ratio = f"{t_sp / t_sg:.0f}x" if t_sp else "n/a"
    rows.append(("scalar sigmoid MLP 4-8-8-2, mse", len(params), t_sg,
                 f"{t_sp:.2f} s" if t_sp else ("skipped" if args.quick else f"> {args.sympy_timeout:.0f} s"),
                 ratio, "≥ 25x"))

    loss, params = scalar_mlp([8, 16, 16, 4])
    t_sg, _ = timed(sg.grad, loss, params)
    sample = params[:5]
    t_sp5 = None if args.quick else sympy_diff_time(loss, sample, args.sympy_timeout)
    est = f"~{t_sp5 / len(sample) * len(params):.0f} s (5 of {len(params)} took {t_sp5:.1f} s)" if t_sp5 else \
        ("skipped" if args.quick else f"> {args.sympy_timeout:.0f} s for 5 params")
    rows.append(("scalar sigmoid MLP 8-16-16-4, mse", len(params), t_sg, est, "", "< 5 s"))

    loss, params = matrix_mlp([784, 256, 128, 10])
    t_sg, _ = timed(sg.grad, loss, params)
    rows.append(("MatrixSymbol MLP 784-256-128-10, softmax CE", len(params), t_sg, "", "", "< 1 s"))

    print()
    print("| expression | wrt | sg.grad | sympy.diff | speed-up | target |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, n, t, tsp, r, target in rows:
        print(f"| {name} | {n} | {t:.3f} s | {tsp} | {r} | {target} |")

    print()
    print("| expression | forward ops | forward+reverse ops | ratio (target ≤ 3) |")
    print("| --- | --- | --- | --- |")
    for name, (loss, params) in [("scalar 4-8-8-2", scalar_mlp([4, 8, 8, 2])),
                                 ("scalar 8-16-16-4", scalar_mlp([8, 16, 16, 4])),
                                 ("matrix 784-256-128-10", matrix_mlp([784, 256, 128, 10])),
                                 ("sigmoid neuron", _neuron())]:
        f, r, q = ops_ratio(loss, params)
        print(f"| {name} | {f} | {r} | {q:.2f} |")


def _neuron():
    w0, w1, w2, x0, x1 = sp.symbols("w0 w1 w2 x0 x1")
    return sg.sigmoid(w0 * x0 + w1 * x1 + w2), [w0, w1, w2, x0, x1]


if __name__ == "__main__":
    main()
