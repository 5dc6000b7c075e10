"""Name a several-output layer's backward that takes an output's upstream gradient alone, where that
output is also used by another output: cs231n's lstm_step_backward with

    dc = dnext_c                                   # for dnext_c + dnext_h * o * (1 - np.tanh(next_c)**2)

next_c is an output (dnext_c arrives there) and is used again inside next_h = o ⊙ tanh(next_c), so
the gradient reaching it is the sum of both. The fan-out hint sees the path left out, but names it
by SymPy text of the whole cell (hundreds of characters); this names it by the outputs.

`sg.check_backward` checks a tuple of outputs as f = Σₖ Σ outₖ ⊙ doutₖ. For each output out_j that
occurs inside another, out_i, f is derived again with that occurrence held at its value (a fresh
tensor in its place) — the gradient without the path out_j → out_i — and the claim compared with it.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from .hint_kind import Hint
from .hint_case import Case, _claim_is_gradient_of, _fitted, differs, value_at
from .layer_outputs import body, f_of, layer_outputs

_ORDINAL = ("first", "second", "third", "fourth", "fifth")


def output_path_hint(case: Case):
    from ..frontend import tensor as T
    Cs, Ts = _fitted(case)
    if not differs(Cs, Ts):
        return None
    outs = layer_outputs(case)
    if len(outs) < 2 or any(d is None for _, d in outs):
        return None
    for j, (oj, dj) in enumerate(outs):
        for i, (oi, di) in enumerate(outs):
            inner = body(oj)             # an output's Ewise is inlined where another output uses it
            if i == j or not (oi.has(oj) or oi.has(inner)):
                continue
            U = T.tensor("_held_output", tuple(T.shape_of(oj)))
            held = T.as_tensor(oi.xreplace({oj: U, inner: U}), tuple(T.shape_of(oi)))
            if _claim_is_gradient_of(case, f_of(outs, {i: held}),
                                     lambda v, oj=oj, U=U: {U.name: value_at(oj, v)}):
                return _sentence(case, i, j, oi, oj)
    return None


def _sentence(case, i, j, oi, oj) -> str:
    from ..frontend import tensor as T
    nth = lambda k: _ORDINAL[k] if k < len(_ORDINAL) else f"number {k + 1}"    # noqa: E731
    lstm = (any(isinstance(e, sp.tanh) and e.args[0] in (oj, body(oj)) for e in sp.preorder_traversal(oi))
            or oi.has(T.Ewise(sp.tanh(oj), T.shape_of(oj))))
    eg = (" — in an LSTM step, dnext_c + dnext_h * o * (1 - np.tanh(next_c)**2), not dnext_c alone"
          if lstm else "")
    return Hint("an output's path through another output left out",
                f"the {nth(j)} output of the layer is "
                f"also used inside the {nth(i)} one, so the gradient reaching it is its own upstream "
                f"gradient (the backward's {nth(j)} argument) plus what comes back through the {nth(i)} "
                f"output (the {nth(i)} argument times the {nth(i)} output's derivative with respect to it); "
                f"the claim for {case.w.name} has the {nth(j)} argument's share alone{eg}.")
