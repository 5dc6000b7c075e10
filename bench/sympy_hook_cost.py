"""The cost of what symgrad installs on SymPy's classes when it is imported (the tensor methods,
``transpose``, ``expand``, ``__dir__``, ``__getitem__`` and ``_iterable`` of
`symgrad.frontend.sympy_node_methods` on ``Expr``, its ``.float()``-like masks on ``Relational``,
`symgrad.frontend.entrywise_spellings`' ``Abs.eval`` and ``MatPow.__new__``) on SymPy-heavy work,
with and without all of it in one process.

    PYTHONPATH=. python bench/sympy_hook_cost.py [--rounds 9]

What is toggled is not a list written here: every SymPy class's attributes are read before
``import symgrad`` and after it, and each one added, or replaced by a value symgrad made, is a hook
(`installed_hooks`);
``hook_off`` puts SymPy's own back (removes what was added), ``hook_on`` symgrad's. An attribute
made by symgrad on a class of a SymPy module that only symgrad's import loads has no "before": the
bench refuses to run then, naming it.

Workloads: ``sg.grad`` of a 3-layer tanh MLP's softmax cross-entropy (written with SymPy's own
``sp.tanh``, ``sp.exp``, ``sp.log`` of tensors: the expression is built once, with the hooks), and
plain SymPy with no tensor anywhere: ``simplify`` of trigonometric/rational expressions, ``series``,
``expand`` and ``lambdify``, and matrices — ``MatrixSymbol`` powers, products, inverses and a
derivative, an explicit 3×3 matrix's determinant and powers, and ``Abs`` of scalars and of a
matrix's entries. Each round runs every workload once with the hooks and once without, in
turns (which first alternates), SymPy's cache cleared before each run; the time is this thread's CPU
time (time.thread_time: a loaded machine's descheduling left out). Printed per workload: the medians
and the median of the per-round ratios with / without. ``--old`` times the first hook alone, a
``__getattr__`` on ``Expr``, against none.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time

import sympy as sp
from sympy.core.cache import clear_cache

_MISSING = object()


def sympy_classes() -> list:
    """Every class defined in a loaded SymPy module (each once)."""
    seen = {}
    for mod_name, mod in list(sys.modules.items()):
        if mod is None or not (mod_name == "sympy" or mod_name.startswith("sympy.")):
            continue
        for v in list(vars(mod).values()):
            if isinstance(v, type) and str(getattr(v, "__module__", "")).startswith("sympy"):
                seen[id(v)] = v
    return list(seen.values())


def _attributes(classes) -> dict:
    return {k: dict(vars(k)) for k in classes}


def _made_by_symgrad(v) -> bool:
    """Whether a class attribute's value is symgrad's: a function, a classmethod/staticmethod of one,
    or an instance of a class defined in a symgrad module."""
    f = getattr(v, "__func__", v)
    # a function's globals name the module it was written in (functools.wraps copies __module__)
    where = f.__globals__.get("__name__") if hasattr(f, "__globals__") else type(v).__module__
    return str(where).startswith("symgrad")


_BEFORE = _attributes(sympy_classes())
import symgrad as sg  # noqa: E402  (after SymPy's own attributes are read)
from symgrad.frontend import sympy_node_methods as hook  # noqa: E402


def installed_hooks(before=None) -> dict:
    """``{(class, name): (sympy's value or _MISSING, symgrad's value)}``: each attribute of a SymPy
    class that ``import symgrad`` added or replaced."""
    before = _BEFORE if before is None else before
    hooks, unknown = {}, []
    for k in sympy_classes():
        now = vars(k)
        if k not in before:
            unknown += [f"{k.__module__}.{k.__qualname__}.{n}" for n, v in now.items() if _made_by_symgrad(v)]
            continue
        old = before[k]
        for n, v in now.items():
            theirs = old.get(n, _MISSING)
            # added, or replaced by symgrad's own (a counter such as Dummy._count that SymPy moved on
            # while symgrad was imported is SymPy's state, not a hook: putting it back would repeat it)
            if theirs is _MISSING or (theirs is not v and _made_by_symgrad(v)):
                hooks[(k, n)] = (theirs, v)
        for n in old.keys() - now.keys():
            raise RuntimeError(f"import symgrad removed {k.__qualname__}.{n}: the bench cannot put it back")
    if unknown:
        raise RuntimeError("symgrad's attributes on classes of SymPy modules first loaded by symgrad, "
                           f"with no SymPy original known: {', '.join(sorted(unknown))}; import those "
                           "modules before symgrad in bench/sympy_hook_cost.py")
    return hooks


_HOOKS = installed_hooks()


def hook_on():
    for (k, n), (_, mine) in _HOOKS.items():
        setattr(k, n, mine)


def hook_off():
    for (k, n), (theirs, _) in _HOOKS.items():
        if theirs is _MISSING:
            if n in vars(k):
                delattr(k, n)
        else:
            setattr(k, n, theirs)


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

    def matrices():
        n = sp.Symbol("n", integer=True, positive=True)
        A, B = sp.MatrixSymbol("A", n, n), sp.MatrixSymbol("B", n, n)
        v = sp.MatrixSymbol("v", n, 1)
        for k in range(2, 9):                       # MatPow.__new__, Inverse, transposes
            ((A * B + B * A) ** k).T
            sp.Inverse(A**k * B**k).doit()
            (A**k)[0, 1]
        (v.T * A**2 * v).diff(v)
        M = sp.Matrix(3, 3, sp.symbols("m0:9", real=True))
        M.det()
        (M**3)[0, 0]
        M.applyfunc(sp.Abs)
        sum(sp.Abs(a - i) + sp.Abs(i * b) for i in range(-40, 40))
        sp.simplify(sp.Abs(M[0, 0] * M[1, 1]) / sp.Abs(M[1, 1]))

    return {"sg.grad, 3-layer MLP (6 parameters)": grad_mlp, "sympy simplify": simplify,
            "sympy series": series, "sympy expand + lambdify": expand_lambdify,
            "sympy matrices, MatPow, Abs": matrices}


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
