"""A checked layer's outputs, as `sg.check_backward` made its f of them — for the hints that change
one output's product (gate_factor_hints, product_operand_hint) or hold one output inside another
(output_path_hint).

check_backward checks ``backward`` against the gradient of f = Σₖ sum(outₖ ⊙ doutₖ). SymPy
flattens each term's product: an LSTM's next_h ⊙ dnext_h is one Mul o·tanh(c)·dout, a product
layer's (2·x ⊙ w) ⊙ dout is 2·x·w·dout and x ⊙ x ⊙ dout is x²·dout, so a hint that took the outputs
back out of f (the co-factors of a dout in a Mul of three arguments) missed every product but the
plain two-factor one. check_backward records the outputs it builds f from (`record`), the check
carries them to the hints' `Case` at the sizes it drew, and the hints rebuild f from them
(`f_of`) with one output changed: nothing is unpicked. An f given to `sg.check` directly, not made
by check_backward, is read as before, from its terms (`_from_terms`).
"""
from __future__ import annotations

import re

import sympy as sp


def record(claim, outs, dnames) -> None:
    """Note on check_backward's claim function the outputs f is made of: [(out, its dout's name)],
    dout None for a scalar loss (f = out itself)."""
    claim.layer_outputs = tuple(zip(outs, dnames))


def recorded(claimed, sizes: dict):
    """The outputs noted on a claim function (or on one it wraps, through ``claim_source``), each
    with its dout tensor, with the check's symbolic sizes made the numbers ``sizes`` {name: n} gives
    them; None for any other claim."""
    from ..frontend import tensor as T
    fn, seen = claimed, 0
    while fn is not None and not hasattr(fn, "layer_outputs") and seen < 8:
        fn, seen = getattr(fn, "claim_source", None), seen + 1
    outs = getattr(fn, "layer_outputs", None)
    if outs is None:
        return None
    numbers = {}
    for o, _ in outs:
        for t in o.atoms(T.Tensor):
            for d in t.shape:
                for s in sp.sympify(d).free_symbols:
                    if s.name in sizes:
                        numbers[s] = sp.Integer(sizes[s.name])
    got = []
    for o, d in outs:
        o = T.as_tensor(o).xreplace(numbers) if numbers else o
        got.append((o, None if d is None else T.tensor(d, tuple(T.shape_of(o)))))
    return got


def layer_outputs(case) -> list:
    """[(out, dout tensor)] of the case's layer: recorded by check_backward, else read off f's terms
    Σₖ sum(outₖ * doutₖ) of a hand-made f; [] where f is no such sum."""
    if getattr(case, "outputs", None):
        return list(case.outputs)
    return _from_terms(case.f)


def _from_terms(f) -> list:
    from ..frontend import tensor as T
    terms = f.args if isinstance(f, sp.Add) else (f.expr.args if isinstance(f, T.Ewise) and isinstance(f.expr, sp.Add)
                                                  else (f,))
    outs = []
    for t in terms:
        if not (isinstance(t, T.Reduce) and t.op == "sum" and len(t.axes) == len(t.x.shape)):
            return []
        body = t.x.expr if isinstance(t.x, T.Ewise) else t.x
        if not isinstance(body, sp.Mul):
            return []
        douts = [a for a in body.args if isinstance(a, T.Tensor) and re.fullmatch(r"dout\d*", a.name)]
        if len(douts) != 1:
            return []
        rest = sp.Mul(*[a for a in body.args if a is not douts[0]])
        outs.append((T.Ewise(rest, douts[0].shape) if not isinstance(rest, T.TensorExpr) else rest, douts[0]))
    # SymPy orders the Add's terms its own way; the douts are named in the tuple's order (dout, dout1, ...)
    outs.sort(key=lambda od: int(od[1].name[4:] or -1))
    return outs


def f_of(outputs, changed: dict | None = None):
    """check_backward's f of ``outputs`` [(out, dout)], output k replaced by ``changed[k]``."""
    from ..frontend import tensor as T
    changed = changed or {}
    f = sp.Integer(0)
    for k, (o, d) in enumerate(outputs):
        o = changed.get(k, o)
        f = f + (o if d is None else T.sum(T.as_tensor(o) * d))
    return f


def body(out):
    """An output's elementwise expression (an Ewise's SymPy body, else the output itself)."""
    from ..frontend import tensor as T
    return out.expr if isinstance(out, T.Ewise) else out


def product_splits(out):
    """The ways an output that is a product (o ⊙ tanh(c), 2·x ⊙ w, x ⊙ x) splits in two, k·(a ⊙ b):
    [(k, a, b)] with k its number, a one factor (a square's base) and b the rest."""
    e = body(out)
    coeff, rest = e.as_coeff_Mul() if isinstance(e, sp.Mul) else (sp.S.One, e)     # 2 or 0.5 of 0.5·x·w
    factors = sp.Mul.make_args(rest)
    flat = []
    for a in factors:
        flat += [a.base, a.base] if isinstance(a, sp.Pow) and a.exp == 2 else [a]
    if len(flat) < 2:
        return []
    out_, seen = [], set()
    for i, a in enumerate(flat):
        if a not in seen:
            seen.add(a)
            out_.append((coeff, a, sp.Mul(*(flat[:i] + flat[i + 1:]))))
    return out_
