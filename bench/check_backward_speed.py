"""How long `sg.check_backward` takes on a conv-relu-pool layer, against what a student runs
otherwise — cs231n's numerical gradient check (central differences, entry by entry, of every input
of the layer) — measured in one run, so that the ratio holds on a loaded machine.

    python3 bench/check_backward_speed.py [--size 16] [--filters 8] [--repeat 5] [--numerical]

The layer: x (4, 3, S, S) → conv 3×3 (F filters, padding 1) → relu → 2×2 max pool; its backward
written in vectorised NumPy. Printed: the check's time (best of ``--repeat``) over a yardstick timed
between its runs (300 NumPy forwards of the layer: the ratio is comparable across trees and loads,
run the script on two checkouts to compare them), the candidate points its kink cover evaluated,
the same check decided at its first N only (the second N switched off in-process: the default
decides a right backward again at a second N, the cost of catching a literal batch size; timed, and
counted in evaluations of f's graph, which the load does not change),
and with ``--numerical`` cs231n's numerical gradient check of the same layer.
"""
from __future__ import annotations

import argparse
import contextlib
import time

import numpy as np
import sympy as sp
from numpy.lib.stride_tricks import sliding_window_view

import symgrad as sg

N = sp.Symbol("N", integer=True, positive=True)


def layer(S, F):
    x, w, b = sg.tensor("x", (N, 3, S, S)), sg.tensor("w", (F, 3, 3, 3)), sg.tensor("b", (F,))
    return sg.max_pool2d(sg.relu(sg.conv2d(x, w, b, padding=1)), 2), [x, w, b]


def forward(x, w, b):
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    z = np.einsum("nchwkl,fckl->nfhw", sliding_window_view(xp, (3, 3), axis=(2, 3)), w) + b[None, :, None, None]
    a = np.maximum(z, 0)
    n, f, h, wd = a.shape
    return a.reshape(n, f, h // 2, 2, wd // 2, 2).max(axis=(3, 5)), (xp, z, a)


def backward(dout, x, w, b):
    _, (xp, z, a) = forward(x, w, b)
    n, f, h, wd = a.shape
    win = a.reshape(n, f, h // 2, 2, wd // 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(n, f, h // 2, wd // 2, 4)
    dwin = np.zeros_like(win)
    np.put_along_axis(dwin, win.argmax(-1)[..., None], dout[..., None], -1)
    da = dwin.reshape(n, f, h // 2, wd // 2, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(n, f, h, wd)
    dz = da * (z > 0)
    dw = np.einsum("nchwkl,nfhw->fckl", sliding_window_view(xp, (3, 3), axis=(2, 3)), dz)
    dxp = np.zeros_like(xp)
    for i in range(3):
        for j in range(3):
            dxp[:, :, i:i + h, j:j + wd] += np.einsum("nfhw,fc->nchw", dz, w[:, :, i, j])
    return dxp[:, :, 1:-1, 1:-1], dw, dz.sum(axis=(0, 2, 3))


def numerical_check(S, F, seed=0):
    """cs231n's eval_numerical_gradient_array for x, w and b, compared with the backward."""
    rng = np.random.default_rng(seed)
    vals = [rng.normal(size=(4, 3, S, S)), rng.normal(size=(F, 3, 3, 3)), rng.normal(size=F)]
    dout = rng.normal(size=(4, F, S // 2, S // 2))
    grads = backward(dout, *vals)
    errs = []
    for k, v in enumerate(vals):
        num = np.zeros_like(v)
        for ix in np.ndindex(v.shape):
            old = v[ix]
            v[ix] = old + 1e-5
            pos = forward(*vals)[0]
            v[ix] = old - 1e-5
            neg = forward(*vals)[0]
            v[ix] = old
            num[ix] = np.sum((pos - neg) * dout) / 2e-5
        errs.append(np.max(np.abs(num - grads[k]) / np.maximum(1e-8, np.abs(num) + np.abs(grads[k]))))
    return max(errs)


def best(fn, repeat):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


@contextlib.contextmanager
def one_size():
    """sg.check as it was before the second N: `_at_other_sizes` returns the first verdict."""
    import symgrad.checking.verdict as Ve
    kept = Ve._at_other_sizes
    Ve._at_other_sizes = lambda first, *a, **k: first
    try:
        yield
    finally:
        Ve._at_other_sizes = kept


def _evaluations(fn) -> int:
    """How many times ``fn`` evaluates a graph (`symgrad.core.evaluate.evaluate`, as the checking
    modules import it): a count that the machine's load does not change."""
    import symgrad.checking.claims as Cl
    import symgrad.checking.sampling as Sa
    import symgrad.checking.ties as Ti
    import symgrad.checking.verdict as Ve
    import symgrad.core.evaluate as E
    mods = [m for m in (E, Cl, Sa, Ti, Ve) if hasattr(m, "evaluate")]
    orig = {m: m.evaluate for m in mods}
    count = [0]

    def counted(*a, **k):
        count[0] += 1
        return E.__dict__["_original_evaluate"](*a, **k)
    E._original_evaluate = orig[E]
    for m in mods:
        m.evaluate = counted
    try:
        fn()
    finally:
        for m in mods:
            m.evaluate = orig[m]
    return count[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=16)
    ap.add_argument("--filters", type=int, default=8)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--numerical", action="store_true", help="also time cs231n's numerical gradient check (slow)")
    a = ap.parse_args()
    out, wrt = layer(a.size, a.filters)
    sg.check_backward(out, wrt, backward)           # the derivation is built once, as in a session
    import symgrad.checking.sides as S
    counts = {"candidates": 0}
    cand = S._candidate

    def counted(*args):
        counts["candidates"] += 1
        return cand(*args)
    S._candidate = counted
    rng = np.random.default_rng(0)
    vals = [rng.normal(size=(4, 3, a.size, a.size)), rng.normal(size=(a.filters, 3, 3, 3)), rng.normal(size=a.filters)]
    checks, refs, ones = [], [], []
    for _ in range(a.repeat):          # interleaved, so that all see the same load
        t, r = best(lambda: sg.check_backward(out, wrt, backward), 1)
        checks.append(t)
        refs.append(best(lambda: [forward(*vals) for _ in range(300)], 1)[0])
        with one_size():
            ones.append(best(lambda: sg.check_backward(out, wrt, backward), 1)[0])
    S._candidate = cand
    t_check, t_ref, t_one = min(checks), min(refs), min(ones)
    evals = {"two": _evaluations(lambda: sg.check_backward(out, wrt, backward))}
    with one_size():
        evals["one"] = _evaluations(lambda: sg.check_backward(out, wrt, backward))
    print(f"conv-relu-pool {a.size}x{a.size}, {a.filters} filters, N = 4")
    print(f"  sg.check_backward            {t_check:8.3f} s   verdict {r.verdict!r}; "
          f"{counts['candidates'] // a.repeat} kink-cover candidates per check")
    print(f"  300 NumPy forwards (a yardstick) {t_ref:8.3f} s   ratio check / yardstick {t_check / t_ref:.2f}")
    print(f"  at N = 4 only (no second N)  {t_one:8.3f} s   ratio two sizes / one size {t_check / t_one:.2f} "
          f"(the second N: {r.method.split('decided again at ')[-1] if 'decided again' in r.method else 'none'}); "
          f"evaluations of f's graph {evals['two']} / {evals['one']}")
    if a.numerical:
        t_num, err = best(lambda: numerical_check(a.size, a.filters), 1)
        print(f"  numerical gradient (cs231n)  {t_num:8.3f} s   max relative error {err:.1e}")
        print(f"  ratio check_backward / numerical gradient: {t_check / t_num:.2f}")


if __name__ == "__main__":
    main()
