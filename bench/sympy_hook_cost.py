"""The cost of `symgrad.frontend.sympy_node_methods` (the ``__getattr__``, ``transpose`` and ``expand``
it installs on SymPy's ``Expr`` when symgrad is imported) on SymPy-heavy work, with and without the
hook in one process.

    PYTHONPATH=. python bench/sympy_hook_cost.py [--rounds 9]

Workloads: ``sg.grad`` of a 3-layer tanh MLP's softmax cross-entropy (written with SymPy's own
``sp.tanh``, ``sp.exp``, ``sp.log`` of tensors: the expression is built once, with the hook), and
plain SymPy with no tensor anywhere: ``simplify`` of trigonometric/rational expressions, ``series``,
``expand`` and ``lambdify``. Each round runs every workload once with the hook and once without, in
turns (which first alternates), SymPy's cache cleared before each run; the time is this thread's CPU
time (time.thread_time: a loaded machine's descheduling left out). Printed per workload: the medians
and the median of the per-round ratios with / without. ``--old`` times the hook as first written, a
``__getattr__`` on ``Expr``, in place of the descriptors.
"""
from __future__ import annotations

import argparse
import statistics
import time

import sympy as sp
from sympy.core.cache import clear_cache

import symgrad as sg
from symgrad.frontend import sympy_node_methods as hook

_NAMES = sorted(hook._TENSOR_METHODS)
_INSTALLED = {n: vars(sp.Expr)[n] for n in _NAMES + ["transpose", "expand", "__dir__"]}


def hook_on():
    for n, v in _INSTALLED.items():
        setattr(sp.Expr, n, v)


def hook_off():
    for n in _NAMES + ["__dir__"]:
        if n in vars(sp.Expr):
            delattr(sp.Expr, n)
    sp.Expr.transpose, sp.Expr.expand = hook._sympy_transpose, hook._sympy_expand


def _old_getattr(self, name):
    """The hook as first written (a ``__getattr__`` on ``Expr``), for the comparison: ``--old``."""
    if name in hook._TENSOR_METHODS:
        if hook._is_node_of_tensors(self):
            return getattr(hook.as_tensor(self), name)
    elif name[0] == "_":
        raise AttributeError(name)
    return object.__getattribute__(self, name)


def old_hook_on():
    hook_off()
    sp.Expr.__getattr__ = _old_getattr
    sp.Expr.transpose, sp.Expr.expand = _INSTALLED["transpose"], _INSTALLED["expand"]


def old_hook_off():
    if "__getattr__" in vars(sp.Expr):
        del sp.Expr.__getattr__
    hook_off()


def _mlp_loss():
    N = sp.Symbol("N", integer=True, positive=True)
    x, y = sg.tensor("x", (N, 8)), sg.tensor("y", (N,), integer=True)
    Ws = [sg.tensor(f"W{i}", s) for i, s in enumerate([(8, 16), (16, 16), (16, 4)])]
    bs = [sg.tensor(f"b{i}", (s[1],)) for i, s in enumerate([(8, 16), (16, 16), (16, 4)])]
    h = sp.tanh(x @ Ws[0] + bs[0])
    h = sp.tanh(h @ Ws[1] + bs[1])
    z = h @ Ws[2] + bs[2]
    p = sp.exp(z) / sp.exp(z).sum(axis=1, keepdims=True)
    return -(sg.one_hot(y, 4) * sp.log(p)).sum(axis=1).mean(), Ws + bs


def workloads():
    loss, params = _mlp_loss()
    a, b, c, t = sp.symbols("a b c t")

    def grad_mlp():
        for w in params:
            sg.grad(loss, w)

    def simplify():
        sp.simplify(sp.sin(a) ** 2 + sp.cos(a) ** 2 + (a**2 - b**2) / (a - b) + sp.cosh(c) ** 2 - sp.sinh(c) ** 2)
        sp.simplify((sp.exp(2 * a) - 1) / (sp.exp(a) + 1) + sp.gamma(a + 1) / sp.gamma(a))

    def series():
        sp.series(sp.tan(sp.sin(t)) - sp.sin(sp.tan(t)), t, 0, 12)
        sp.series(sp.exp(t) / (1 - t - t**2), t, 0, 15)

    def expand_lambdify():
        e = sp.expand((a + b + c + 1) ** 9)
        sp.lambdify((a, b, c), e, "numpy")(1.0, 2.0, 3.0)

    return {"sg.grad, 3-layer MLP (6 parameters)": grad_mlp, "sympy simplify": simplify,
            "sympy series": series, "sympy expand + lambdify": expand_lambdify}


def _run(f):
    clear_cache()
    t0 = time.thread_time()
    f()
    return time.thread_time() - t0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--old", action="store_true", help="time the first hook, a __getattr__ on Expr, instead")
    args = ap.parse_args(argv)
    on_, off_ = (old_hook_on, old_hook_off) if args.old else (hook_on, hook_off)
    for name, f in workloads().items():
        with_hook, without = [], []
        for r in range(args.rounds):
            for on in ((True, False) if r % 2 == 0 else (False, True)):
                (on_ if on else off_)()
                (with_hook if on else without).append(_run(f))
        off_()
        hook_on()
        ratio = statistics.median(w / wo for w, wo in zip(with_hook, without))
        print(f"{name:38s} with {statistics.median(with_hook) * 1e3:8.1f} ms   without "
              f"{statistics.median(without) * 1e3:8.1f} ms   with/without {ratio:.3f}")


if __name__ == "__main__":
    main()
