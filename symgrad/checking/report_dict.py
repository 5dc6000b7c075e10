"""Check results as plain data, for a program to read (an autograder) instead of English.

``CheckResult.to_dict()`` (of `sg.check` and `sg.check_backward`) and ``GradcheckResult.to_dict()``
(of `sg.gradcheck`) give dicts of JSON's types only — str, bool, int, float, None, lists, dicts —
so ``json.dumps(r.to_dict(), allow_nan=False)`` always works and ``json.loads`` gives it back equal.
The encoding, one rule per kind of value:

    a number           a float (an int for an integer array's entries, an entry index)
    not finite         the strings "inf", "-inf", "nan" (strict JSON has no such numbers): the
                       relative error of a claim of the wrong shape is "inf"
    an array           {"shape": [3, 2], "values": [[...], [...], [...]]} (values: nested lists)
    a hint             {"kind": "flipped sign", "text": "flipped sign: the claim is −1 times ..."}:
                       the kind is the one its recogniser gave it (`hint_kind.Hint`, the words the
                       table of slips in docs/checking.md lists; for most hints the words its text
                       begins with), never parsed from the text; a hint without one is {"text": ...}

>>> import sympy as sp, symgrad as sg
>>> w, x, y = sp.symbols('w x y')
>>> d = sg.check((y - w*x)**2 / 2, w, (y - w*x)*x).to_dict()
>>> d["verdict"], d["ok"], d["hint"]["kind"], d["counterexample"]["variable"]
('not equal', False, 'flipped sign', 'w')
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .hint_kind import kind_of


def number(v) -> Any:
    """A float (an int stays an int, a bool a bool); not finite as "inf", "-inf" or "nan"."""
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    f = float(v)
    if math.isfinite(f):
        return f
    return "nan" if math.isnan(f) else ("inf" if f > 0 else "-inf")


def value(v) -> Any:
    """A number as `number`, an array as {"shape", "values"}; None stays None. Anything else (a
    claim that returned something that is not numbers) as its str, so the dict is always JSON."""
    if v is None:
        return None
    if isinstance(v, (bool, int, float, np.number, np.bool_)):
        return number(v)
    try:
        a = np.asarray(v)
    except Exception:  # noqa: BLE001 - not array-like: said as text
        return str(v)
    if a.dtype.kind not in "biuf":
        try:
            a = a.astype(float)
        except (TypeError, ValueError):
            return str(v)
    if a.ndim == 0:
        return number(a.item())
    return {"shape": list(a.shape), "values": _nested(a)}


def _nested(a: np.ndarray):
    if a.ndim == 0:
        return number(a.item())
    return [_nested(e) for e in a]


def hint(h: str | None) -> dict | None:
    """{"kind", "text"} for a hint its recogniser gave a kind (a `Hint`); else {"text"}."""
    if h is None:
        return None
    kind = kind_of(h)
    return {"kind": kind, "text": str(h)} if kind else {"text": str(h)}


def counterexample(c) -> dict | None:
    """A `Counterexample`: the variable, the worst entry's index (None for a scalar, or when the
    claim's shape is wrong), the claimed and true values (whole, as arrays), the claimed and true
    values of that entry, the relative error, the point (every value, `dout` too), and why the claim
    is not finite there (None when it is)."""
    if c is None:
        return None
    index = None if c.index is None else [int(i) for i in c.index]
    claimed, true = np.asarray(c.claimed), np.asarray(c.true)
    entry = None
    if index is not None and claimed.shape == true.shape:
        entry = {"claimed": number(claimed[tuple(index)]), "true": number(true[tuple(index)])}
    return {"variable": str(c.param), "index": index, "claimed": value(c.claimed), "true": value(c.true),
            "entry": entry, "relative_error": number(c.rel_error),
            "point": {str(k): value(v) for k, v in c.point.items()}, "why": c.why}


def wrong_variables(r, rtol: float) -> list | None:
    """The variables whose claim is wrong, in wrt order: of a wrong result, those whose largest
    relative error over the compared points is over ``rtol`` (not finite: a wrong shape, or a claim
    not finite there), and the counterexample's in any case; none of a right one (a claim that
    differs only on a kink is right). None when the result is wrong but no variable was singled out
    (a backward that raised when called again at other sizes: the hint says what it raised)."""
    if bool(r):
        return []
    out = [str(k) for k, e in r.errors.items() if not (np.isfinite(e) and e <= rtol)]
    c = r.counterexample
    if c is not None and str(c.param) not in out:
        out.append(str(c.param))
    return out or None


def check_result(r, rtol: float) -> dict:
    """A `CheckResult` (see `CheckResult.to_dict`); ``rtol``: the relative error over which a claim
    differs."""
    return {"verdict": r.verdict, "ok": bool(r), "wrong": wrong_variables(r, rtol),
            "counterexample": counterexample(r.counterexample), "hint": hint(r.hint), "kink": r.kink,
            "method": r.method, "layout": r.layout, "errors": {str(k): number(v) for k, v in r.errors.items()}}


def _kink(k) -> dict:
    return {"index": None if k.index is None else [int(i) for i in k.index], "analytic": number(k.analytic),
            "left": number(k.left), "right": number(k.right), "step": number(k.step)}


def param_report(p) -> dict:
    """One parameter of `sg.gradcheck`'s result."""
    return {"name": p.name, "ok": None, "max_relative_error": number(p.max_rel_error),
            "index": None if p.index is None else [int(i) for i in p.index],
            "analytic": number(p.analytic), "numeric": number(p.numeric), "step": number(p.step),
            "taylor_order": None if p.taylor_order is None else number(p.taylor_order),
            "band": p.band, "note": p.note or None, "compared": int(p.compared),
            "kinks": [_kink(k) for k in p.kinks]}


def gradcheck_result(r) -> dict:
    """A `GradcheckResult` (see `GradcheckResult.to_dict`): ``ok`` and ``wrong`` (the parameters at
    or over ``tol``, in order) say what str()'s first line says."""
    params = {}
    for name, p in r.params.items():
        d = param_report(p)
        d["ok"] = bool(p.max_rel_error < r.tol)
        params[str(name)] = d
    return {"ok": bool(r), "wrong": [n for n, d in params.items() if not d["ok"]], "tol": number(r.tol),
            "params": params, "masks_seed": r.masks_seed, "held": r.held}
