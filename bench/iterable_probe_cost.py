"""The cost of ``Expr._iterable``, the probe that keeps SymPy's ``iterable(expr)`` False once symgrad
has given ``Expr`` a ``__getitem__`` (`symgrad.frontend.sympy_node_methods`), against SymPy alone
and against the eleventh session's probe (two class look-ups on each of ``iterable()``'s two
reads), in one process.

    PYTHONPATH=. python bench/iterable_probe_cost.py [--rounds 7]

Three settings, swapped on ``Expr`` in turns: "sympy" (no ``__getitem__``, no ``_iterable``: SymPy's
own ``iter()`` and its TypeError), "old" (the previous probe, written out below) and "new" (the
module's, one dict look-up per read). Timed: ``iterable(e)`` for a Symbol, a sum, ``sin(x)``, an
undefined function's ``f(x)`` and an Integer (best of ``--rounds`` × 20,000 calls, ns a call), and
SymPy's ``series`` of two functions (CPU time, cache cleared, median of rounds): a workload of
thousands of ``iterable()`` calls. Printed: each setting's time and the ratios old/sympy, new/sympy.
"""
from __future__ import annotations

import argparse
import statistics
import time
import timeit

import sympy as sp
from sympy.core.cache import clear_cache
from sympy.utilities.iterables import iterable

import symgrad  # noqa: F401  (installs the hooks)
from symgrad.frontend import sympy_node_methods as hook


class OldProbe:
    """The eleventh session's probe: the class's ``__getitem__`` and ``__iter__`` looked up each read."""

    def __get__(self, e, owner=None):
        k = owner if e is None else type(e)
        if getattr(k, "__getitem__", None) is hook._getitem and getattr(k, "__iter__", None) is None:
            return False
        raise AttributeError("_iterable")


NEW = vars(sp.Expr)["_iterable"]


def setting(name):
    for attr in ("__getitem__", "_iterable"):
        if attr in vars(sp.Expr):
            delattr(sp.Expr, attr)
    if name != "sympy":
        sp.Expr.__getitem__ = hook._getitem
        sp.Expr._iterable = OldProbe() if name == "old" else NEW


def probes():
    x = sp.Symbol("x")
    return {"Symbol": x, "x + 1": x + 1, "sin(x)": sp.sin(x), "f(x)": sp.Function("f")(x), "Integer": sp.Integer(3)}


def series_work():
    x = sp.Symbol("x")
    clear_cache()
    t = time.thread_time()
    sp.series(sp.exp(sp.sin(x)), x, 0, 10)
    sp.series(sp.log(1 + sp.tan(x)), x, 0, 9)
    return time.thread_time() - t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=7)
    rounds = ap.parse_args().rounds
    names = ("sympy", "old", "new")
    calls = {n: {} for n in names}
    work = {n: [] for n in names}
    for r in range(rounds):
        order = names if r % 2 == 0 else names[::-1]
        for n in order:
            setting(n)
            for what, e in probes().items():
                assert iterable(e) is False, (n, what)
                ns = min(timeit.repeat(lambda: iterable(e), number=20000, repeat=3)) / 20000 * 1e9
                calls[n][what] = min(calls[n].get(what, ns), ns)
            work[n].append(series_work())
    setting("new")
    print(f"{'iterable(e), ns a call':24s}" + "".join(f"{n:>9s}" for n in names) + "  old/sympy  new/sympy")
    for what in probes():
        c = [calls[n][what] for n in names]
        print(f"{what:24s}" + "".join(f"{v:9.0f}" for v in c) + f"  {c[1] / c[0]:9.2f}  {c[2] / c[0]:9.2f}")
    m = [statistics.median(work[n]) * 1e3 for n in names]
    print(f"{'series, ms (median)':24s}" + "".join(f"{v:9.1f}" for v in m) + f"  {m[1] / m[0]:9.2f}  {m[2] / m[0]:9.2f}")


if __name__ == "__main__":
    main()
