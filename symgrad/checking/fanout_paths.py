"""The paths of the influence diagram that a hint names: for every value of the derivation that
fans out, each consumer's contribution pushed back to a wrt variable (one path's share of its
gradient), and the path written out as the expressions along it. Their own module, below hints.py,
so that the recognisers in their own modules (eps_path_hint, shared_param_hints) read them
without importing hints.py, which imports every recogniser."""
from __future__ import annotations

from typing import Any

import sympy as sp
from sympy.printing.str import StrPrinter

from .hint_case import short_text


def _label(D, v, limit=40) -> str:
    """A value by its SymPy expression: the user's own form, else rebuilt from the graph. One
    longer than ``limit`` has its inner calls written ``sigmoid(…)`` before it is cut (a GRU's
    (1 - sigmoid(…))*tanh(…) + sigmoid(…)*h, not "(1 - sigmoid(bzh + bzx + Wzh @ h + Wzx …")."""
    e = D.lowering.exprs.get(v.id)
    if e is None:
        from ..core.to_sympy import SympyBuilder
        try:
            e = SympyBuilder(D.ir, D.lowering.exprs)(v)
        except Exception:  # noqa: BLE001 - a label is only a label
            e = f"v{v.id}"
    if isinstance(e, sp.Basic) and len(str(e)) > limit:
        try:
            e = _Brief().doprint(e)
        except Exception:  # noqa: BLE001 - a label is only a label: the full text, cut
            pass
    return short_text(e, limit)


class _Brief(StrPrinter):
    """SymPy's str, with a function call below the top written ``name(…)`` where its own text is
    longer than `INNER` characters."""

    INNER = 16

    def __init__(self):
        super().__init__()
        self._depth = 0

    def _print(self, expr, **kw):
        if self._depth and isinstance(expr, sp.Function) and expr.args:
            if len(StrPrinter().doprint(expr)) > self.INNER:
                return f"{expr.func.__name__}(…)"
        self._depth += 1
        try:
            return super()._print(expr, **kw)
        finally:
            self._depth -= 1


def fanout_terms(D, wrt_var):
    """[(v, consumer eqn, term var)]: for every value v that fans out, each consumer's contribution
    to ∂f/∂v pushed back to ``wrt_var`` — one path's (or one bundle of paths') share of ∂f/∂wrt."""
    from ..core.reverse import backward
    contribs: dict[int, list] = {}
    var_of: dict[int, Any] = {}
    for st in D.raw_steps:
        for v, c in zip(st.eqn.inputs, st.contributions):
            if c is not None:
                contribs.setdefault(v.id, []).append((st.eqn, c))
                var_of[v.id] = v
    out = []
    for vid, lst in contribs.items():
        if len(lst) < 2:
            continue
        v = var_of[vid]
        for eqn, c in lst:
            if len(out) >= 32:
                return out
            if v.id == wrt_var.id:
                out.append((v, eqn, c))
                continue
            (term,) = backward(D.ir, v, [wrt_var], seed=c)
            if term is not None:
                out.append((v, eqn, term))
    return out


def _users(eqns) -> dict:
    """Each var id → the equations of ``eqns`` that read it (the graph's edges, walked forward)."""
    users: dict[int, list] = {}
    for e in eqns:
        for u in e.inputs:
            users.setdefault(u.id, []).append(e)
    return users


def first_steps_square(D, eqn, steps: int) -> bool:
    """Whether the path from ``eqn`` passes a square within its first ``steps`` equations, followed
    while they do not fork (a norm layer's variance path: its square may sit a few steps on)."""
    users = _users(D.ir.ancestors([D.output]))
    chain, cur = [eqn], eqn.out
    while len(users.get(cur.id, [])) == 1 and len(chain) < steps:
        chain.append(users[cur.id][0])
        cur = chain[-1].out
    return any(e.prim.name == "ewise" and _label(D, e.out, limit=10 ** 6).endswith("**2") for e in chain)


def _path(D, wrt_name, v, eqn) -> str:
    """wrt → … → v → consumer → … → the output, through single-consumer links."""
    users = _users(D.ir.ancestors([D.output]))
    chain = [wrt_name]
    if D.ir.producer[v.id].prim.name not in ("param",):
        chain.append("…" if D.ir.producer[v.id].inputs and not any(
            u.id in {w.id for w in D.wrt_vars} for u in D.ir.producer[v.id].inputs) else "")
        chain.append(_label(D, v))
    cur = eqn.out
    chain.append(_label(D, cur))
    while cur.id != D.output.id and len(users.get(cur.id, [])) == 1 and len(chain) < 8:
        cur = users[cur.id][0].out
        chain.append(_label(D, cur) if cur.id != D.output.id else "")
    if cur.id != D.output.id:
        chain.append("…")
    chain = [c for c in chain if c] + ["the output"]
    if len(chain) > 6:                       # long chains: the start, where it forks, the end
        chain = chain[:4] + ["…"] + chain[-2:]
    tidy = [c for i, c in enumerate(chain) if i == 0 or c != chain[i - 1]]   # no "… → …"
    return " → ".join(tidy)
