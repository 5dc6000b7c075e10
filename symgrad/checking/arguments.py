"""The arguments of `symgrad.checking.verdict.check`, checked before anything is sampled.

A misspelled name in ``at=`` or ``assumptions=`` would otherwise be ignored without a word (the
symbol it meant is then drawn at random), ``batch=0`` would mean "one example", ``points=0`` would
fail on an empty list, and an interval ``(2, 1)`` inside NumPy. Each is an `ArgumentError` naming
the argument and what it takes.

>>> import sympy as sp
>>> w, x = sp.symbols('w x')
>>> check_arguments(w * x, [w], [x], at={"y": 1.0})
Traceback (most recent call last):
...
symgrad.errors.ArgumentError: at= names 'y', which is not a symbol of f, of wrt or of the claim; those are 'w', 'x'
"""
from __future__ import annotations

from typing import Mapping

import numpy as np
import sympy as sp
from sympy.tensor.array.expressions import ArraySymbol

from ..core.policy import DEFAULT, check_policy
from ..core.values import key_name
from ..errors import ArgumentError
from ..errors import show_value          # a NumPy scalar in a message as its number

# the words ``assumptions=`` takes besides an interval (their intervals are in sampling.interval_of)
ASSUMPTION_WORDS = ("positive", "negative", "unit")


def _symbol_names(expr) -> set:
    expr = sp.sympify(expr)                     # already SymPy: text was parsed before this point
    names = {s.name for s in expr.free_symbols
             if isinstance(s, (sp.Symbol, sp.MatrixSymbol)) and not isinstance(s, sp.Dummy)}
    return names | {t.name for t in expr.atoms(ArraySymbol)}     # N-d tensors (sg.tensor)


def _count(name: str, value, least: int, what: str) -> None:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < least:
        raise ArgumentError(f"{name} must be an integer >= {least} ({what}), got {show_value(value)}")


def _keys(arg: str, d, known: set) -> None:
    if not isinstance(d, Mapping):
        raise ArgumentError(f"{arg}= must be a dict keyed by symbol or name, got {d!r}")
    for k in d:
        if not isinstance(k, (str, sp.Symbol, sp.MatrixSymbol, ArraySymbol)):    # ArraySymbol: sg.tensor
            raise ArgumentError(f"{arg}= is keyed by symbols or their names; got the key {k!r}")
        if key_name(k) not in known:
            raise ArgumentError(f"{arg}= names {key_name(k)!r}, which is not a symbol of f, of wrt or of the "
                                f"claim; those are {', '.join(repr(n) for n in sorted(known))}")


def _interval(name: str, a) -> None:
    if isinstance(a, str):
        if a not in ASSUMPTION_WORDS:
            raise ArgumentError(f"assumptions[{name!r}] is {a!r}; it takes an interval (lo, hi) with lo < hi "
                                f"or one of {', '.join(repr(w) for w in ASSUMPTION_WORDS)}")
        return
    ok = isinstance(a, (tuple, list)) and len(a) == 2 and all(
        isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) and np.isfinite(v)
        for v in a) and a[0] < a[1]
    if not ok:
        raise ArgumentError(f"assumptions[{name!r}] is {a!r}; it takes an interval (lo, hi) of finite numbers "
                            f"with lo < hi, or one of {', '.join(repr(w) for w in ASSUMPTION_WORDS)} "
                            f"(to fix a value, use at=)")


def check_arguments(f, params, claims, *, at=None, assumptions=None, batch=7, points=3, seed=0,
                    policy=DEFAULT) -> None:
    """Refuse what `check` cannot use (see the module docstring). ``claims``: the normalised claim
    (a list of expressions, or a callable)."""
    check_policy(policy)
    _count("points", points, 1, "the number of random points the claim is compared at")
    if batch is not None:
        _count("batch", batch, 1, "the batch size a callable claim is called with; None: one example")
    _count("seed", seed, 0, "of the random points")
    known = _symbol_names(f) | {w.name for w in params}
    if not callable(claims):
        for c in claims:
            known |= _symbol_names(c)
    if at is not None:
        _keys("at", at, known)
        for k, v in at.items():
            if v is None:
                raise ArgumentError(f"at[{key_name(k)!r}] is None; give a number (or an array for a matrix)")
    if assumptions is not None:
        _keys("assumptions", assumptions, known)
        for k, a in assumptions.items():
            _interval(key_name(k), a)


def check_gradcheck_arguments(program, values, batch, max_entries, seed, tol) -> None:
    """`symgrad.checking.programcheck.gradcheck`'s arguments: a program with ``loss`` and ``grad``, dicts
    of values and of the batch, ``max_entries`` >= 1, ``seed`` >= 0 and a tolerance > 0."""
    for method in ("loss", "grad"):
        if not callable(getattr(program, method, None)):
            wrap = ("; for a loss function and a gradient function of your own, hand over both: "
                    "gradcheck(types.SimpleNamespace(loss=my_loss, grad=my_grad), values, batch), with "
                    "my_loss(values, batch) -> float and my_grad(values, batch) -> {name: array}"
                    if callable(program) else "")
            name = getattr(program, "__qualname__", None)
            what = f"the function {name}" if callable(program) and isinstance(name, str) else repr(program)
            raise ArgumentError(f"gradcheck needs a program with .loss and .grad (sg.compile's Program); "
                                f"got {what}, which has no .{method}{wrap}")
    for arg, d in (("values", values), ("batch", batch)):
        if not isinstance(d, Mapping):
            raise ArgumentError(f"{arg} must be a dict keyed by symbol or name, got {d!r}")
    _count("max_entries", max_entries, 1, "entries of each parameter to difference")
    _count("seed", seed, 0, "of the entries chosen")
    if isinstance(tol, bool) or not isinstance(tol, (int, float, np.integer, np.floating)) \
            or not np.isfinite(tol) or tol <= 0:
        raise ArgumentError(f"tol must be a finite number > 0 (the largest relative error that passes), got {show_value(tol)}")
