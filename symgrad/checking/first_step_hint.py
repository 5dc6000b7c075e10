"""Otherwise: the first derivation step (from the output down) whose value no subexpression of the
claim reproduces, when the claim reproduces an earlier one."""
from __future__ import annotations

import numpy as np
import sympy as sp

from .hint_kind import Hint
from .claims import _eval_claim
from .fanout_paths import _label
from .hint_case import Case, same


def first_step_hint(case: Case):
    """Walk the reverse-mode steps from the output towards w. A step's adjoint ḡ (∂f/∂ of that
    equation's output) is "reproduced" when some subexpression of the claim has its value at every
    point. Report the first step that is not reproduced, after one that is."""
    from ..core.to_sympy import SympyBuilder
    expr = case.claim_expr
    if expr is None or not case.derivation.raw_steps:
        return None
    D = case.derivation
    subs = []
    for s in sp.preorder_traversal(expr):
        if isinstance(s, sp.Expr) and not s.is_Atom and not isinstance(s, sp.Lambda):
            subs.append(s)
            if isinstance(s, sp.MatMul) and len(s.args) > 2:     # A·B·C holds A·B and B·C too
                subs += [sp.MatMul(*s.args[:i]) for i in range(2, len(s.args))]
                subs += [sp.MatMul(*s.args[i:]) for i in range(1, len(s.args) - 1)]
    subs = list(dict.fromkeys(subs))[:80]
    sub_vals = []
    for s in subs:
        try:
            sub_vals.append([_eval_claim(s, p.example(0)) for p in case.points])
        except Exception:   # noqa: BLE001 - a subexpression that does not evaluate alone
            sub_vals.append(None)
    from ..core.reverse import depends_on
    on_path = depends_on(D.ir, [D.wrt_vars[case.k]])
    steps = [st for st in D.raw_steps if st.eqn.out.id in on_path and st.eqn.out.id != D.output.id]
    gvals = case.eval_vars(D.ir, [st.cotangent for st in steps])
    last_ok = None
    build = SympyBuilder(D.ir, D.lowering.exprs)
    for j, st in enumerate(steps):
        target = [v[j] for v in gvals]
        hit = any(sv is not None and all(np.asarray(a).shape == np.asarray(b).shape and same(a, b)
                                         for a, b in zip(sv, target)) for sv in sub_vals)
        if hit:
            last_ok = st
            continue
        if last_ok is not None and any(sv is not None and np.asarray(sv[0]).shape == np.asarray(target[0]).shape
                                       for sv in sub_vals):
            return Hint("first differing step",
                        f"the claim agrees with the derivation down to "
                        f"∂f/∂({_label(D, last_ok.eqn.out)}) = {build(last_ok.cotangent)}, but no part of it "
                        f"equals the next step, ∂f/∂({_label(D, st.eqn.out)}) = {build(st.cotangent)} "
                        f"({st.eqn.prim.rule} rule).")
    return None
