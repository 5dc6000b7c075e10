"""Name a gate's factor slipped in a gated cell's backward (11-785's GRU cell, HW3P1:
r = σ(…), z = σ(…), n = tanh(Wnx x + bnx + r ⊙ (Wnh h + bnh)), h' = (1 − z) ⊙ n + z ⊙ h):

- a factor left out of one product's derivative: ``dWnh = np.outer(dn_pre, h)`` where
  ``np.outer(dn_pre * r, h)`` belongs (r ⊙ (…) passed back without its r);
- z and 1 − z swapped: ``dn = delta * z`` where ``delta * (1 - z)`` belongs;
- the other factor without one of its terms: ``dr = dn_pre * (Wnh @ h)`` where ``dn_pre * (Wnh @ h
  + bnh)`` belongs (the bias left out).

As `operand_hints` does for a parameter's own product, f is derived again with one elementwise product
a ⊙ b of f changed in its derivative only: a ⊙ b becomes C + K ⊙ b + a ⊙ B, K holding the slipped
factor's value, B b's value and C = a ⊙ b − K ⊙ b − a ⊙ b (constants at the point): b's derivative
takes K, a's the right b, and every value and every other path is kept. Where the parameter itself is a factor, only the other factor is slipped (Swish's β·Z with β
left out of dZ, 11-785's learnable-β Swish; dβ with Z for Z²): the parameter's own operand is
`operand_hints`'.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from ..frontend.functions import sigmoid
from .hint_kind import Hint
from .hint_case import Case, _claim_is_gradient_of, _fitted, differs, value_at
from .hint_case import short_text as _text
from .layer_outputs import body, f_of, layer_outputs, product_splits
from .output_path_hint import _ORDINAL

MAX_PRODUCTS = 12



def _short(e, limit=60) -> str:
    """A factor as a student reads it: a gate σ(… Wzh @ h …) named by the first product inside it,
    1 − that gate, tanh(…) likewise; else its text, cut short."""
    from ..frontend import tensor as T
    inner = e.args[0] if isinstance(e, T.Ewise) else e
    for fn, name in ((sigmoid, "σ"), (sp.tanh, "tanh")):
        if isinstance(inner, fn):
            mm = next((n for n in sp.preorder_traversal(inner.args[0]) if isinstance(n, T.TensorMatMul)), None)
            return f"{name}(… {mm} …)" if mm is not None else _text(inner, limit)
    if isinstance(inner, sp.Mul) and len(inner.args) <= 3:       # the rest of a product: mask ⊙ σ(…)
        return " ⊙ ".join(_short(a, limit) for a in inner.args)
    if isinstance(inner, sp.Add) and len(inner.args) == 2 and sp.S.One in inner.args:
        t = next(a for a in inner.args if a != 1)
        if t.could_extract_minus_sign():
            return f"(1 − {_short(-t, limit)})"
    return f"({_text(e, limit)})" if isinstance(inner, sp.Add) else _text(e, limit)


def _gate_of(e):
    """σ(…) where ``e`` is a sigmoid gate (as written or as the tensor node wrapping it), else None."""
    from ..frontend import tensor as T
    inner = e.args[0] if isinstance(e, T.Ewise) else e
    return inner if isinstance(inner, sigmoid) else None


def _sig(e):
    """The gate σ(…) that ``e`` is, or that is a factor of the product ``e`` (dropout's mask ⊙ o of an
    LSTM's output dropped out); None otherwise."""
    from ..frontend import tensor as T
    e = e.args[0] if isinstance(e, T.Ewise) else e
    if isinstance(e, sp.Mul):
        return next((a for a in e.args if _sig(a) is not None and not isinstance(a, sp.Mul)), None)
    return e if isinstance(e, sigmoid) else None


def _slips(a, leaves=(), outputs=(), other=None):
    """(slipped factor, words) for the factor ``a`` of a product; ``leaves``: f's input tensors, each
    a value a backward may take for another of the same shape (an LSTM's df = dc * prev_h for
    dc * prev_c); ``outputs``: the layer's [(out, dout)]; ``other``: the product's other factor (an
    LSTM's do = dnext_h * o for dnext_h * np.tanh(next_c))."""
    from ..frontend import tensor as T
    yield sp.S.One, f"without its factor {_short(a)}"
    act = a.args[0] if isinstance(a, T.Ewise) else a
    if isinstance(act, sp.tanh):                 # an LSTM's do = dnext_h * next_c for * np.tanh(next_c)
        z = act.args[0]
        said = next((f"the layer's {_ORDINAL[k]} output" for k, (o, _) in enumerate(outputs)
                     if len(outputs) > 1 and body(o) == body(z) and k < len(_ORDINAL)), None)
        yield z, (f"with {said} itself where its tanh belongs (the tanh left out: an LSTM's do = dnext_h * "
                  f"np.tanh(next_c), not dnext_h * next_c)" if said else
                  f"with {_short(z, 40)} where tanh of it belongs (the tanh left out)")
        if said:                                 # do = dnext_h * np.tanh(prev_c): the previous state's tanh
            for t in leaves:
                if tuple(t.shape) == tuple(T.shape_of(z)):
                    yield sp.tanh(t), (f"with tanh({t.name}) where the tanh of {said} belongs (an LSTM's do = "
                                       f"dnext_h * np.tanh(next_c), the new cell state's, not {t.name}'s)")
            if other is not None and _sig(other) is not None:    # do = dnext_h * o: the gate itself
                yield _sig(other), (f"with the gate {_short(_sig(other), 40)} itself where the tanh of {said} belongs "
                              f"(an LSTM's do = dnext_h * np.tanh(next_c), not dnext_h * o; the σ' "
                              f"factor o * (1 - o) then follows: da_o = do * o * (1 - o))")
    for t in leaves:
        if isinstance(a, T.Tensor) and t != a and tuple(t.shape) == tuple(a.shape):
            yield t, f"with {t.name} where {a.name} belongs" + OPERAND
    if _sig(a) is not None:
        yield 1 - a, f"with 1 − {_short(a, 40)} where {_short(a, 40)} belongs (z and 1 − z swapped)"
    one_minus = (isinstance(a, sp.Add) and len(a.args) == 2 and sp.S.One in a.args
                 and next(t for t in a.args if t != 1).could_extract_minus_sign())
    if one_minus:
        s = -next(t for t in a.args if t != 1)
        yield s, f"with {_short(s, 40)} where 1 − {_short(s, 40)} belongs (z and 1 − z swapped)"
    elif isinstance(a, sp.Add) and 2 <= len(a.args) <= 4:
        for t in a.args:
            yield a - t, f"with {_text(a - t)} where {_text(a)} belongs ({_text(t, 30)} left out)"


OPERAND = " — another value of the same shape"


def _cell_words(f) -> str:
    """The backward's lines for the gated cell f is: a GRU's (an interpolation (1 − z) ⊙ … + z ⊙ …,
    in 11-785's columns and in torch's and d2l's rows), else an LSTM's."""
    gru = any(isinstance(n, sp.Add) and sp.S.One in n.args and any(_sig(-a) is not None for a in n.args
                                                                   if a != 1)
              for n in sp.preorder_traversal(f))
    if gru:
        return ("(a GRU's backward: dn = delta * (1 - z), the r of r * (Wnh @ h + bnh) on both of its paths; "
                "in torch's and d2l's rows dH_tilde = dout * (1 - Z), the R of (R * H) @ W_hh on both of its "
                "factors' paths)")
    return ("(an LSTM's backward: dc = dnext_c + dnext_h * o * (1 - np.tanh(next_c)**2), "
            "do = dnext_h * np.tanh(next_c))")


def gate_factor_hint(case: Case):
    from ..frontend import tensor as T
    from .layer_hints import _rebuilt
    w = case.w
    Cs, Ts = _fitted(case)
    if not isinstance(w, T.Tensor) or not differs(Cs, Ts) or not case.f.has(sigmoid):
        return None
    is_dout = lambda a: isinstance(a, T.Tensor) and a.name.startswith("dout")      # noqa: E731
    outputs = layer_outputs(case)
    # (the product, a factor, the other, f with the product replaced): f's own two-factor products
    # first (those name a slip inside the layer first), then each output's product o ⊙ tanh(next_c)
    # as check_backward made f of it, f rebuilt from the outputs with that output changed
    cands = []
    for m in dict.fromkeys(sp.preorder_traversal(case.f)):
        if (isinstance(m, sp.Mul) and m.has(w) and len(m.args) == 2 and not any(a.is_number for a in m.args)
                and not any(is_dout(a) for a in m.args)):
            for i, a in enumerate(m.args):
                cands.append((m, a, m.args[1 - i], m.args, lambda P, m=m: _rebuilt(case.f, {m: P})))
    cands = cands[:2 * MAX_PRODUCTS]
    for k, (o, _) in enumerate(outputs):
        if not o.has(w):
            continue
        try:
            oshape = tuple(T.shape_of(o))
        except Exception:   # noqa: BLE001 - an output without a tensor shape is not tried
            continue
        for c, a, b in product_splits(o):
            shown = sp.Mul(a, b).args if isinstance(sp.Mul(a, b), sp.Mul) and len(sp.Mul(a, b).args) == 2 else (a, b)
            cands.append((a * b, a, b, shown,
                          lambda P, k=k, c=c, oshape=oshape: f_of(outputs, {k: T.as_tensor(c * P, oshape)})))
    memo = {}      # a product's a, b and a ⊙ b are the same for every candidate: evaluated once a point

    def value(e, vals, shape=None):
        key = (e, shape, tuple(id(v) for v in vals.values()))      # the point's arrays, alive meanwhile
        if key not in memo:
            memo[key] = value_at(e, vals, shape)
        return memo[key]
    leaves = sorted((t for t in case.f.atoms(T.Tensor) if not t.name.startswith("dout")
                     and not getattr(t, "is_integer_tensor", False) and len(t.shape) > 1), key=lambda t: t.name)
    for m, a, b, shown, slipped_f in cands:
        if a == w or (not a.has(w) and not b.has(w)):   # w's own factor: operand_hints'
            continue
        try:
            mshape, ashape, bshape = (tuple(T.shape_of(e)) for e in (m, a, b))
        except Exception:   # noqa: BLE001 - a product without a tensor shape is not tried
            continue
        for c, words in _slips(a, leaves, outputs, b):
                K, B, C = T.tensor("_K", ashape), T.tensor("_B", bshape), T.tensor("_C", mshape)

                def extra(vals, m=m, a=a, b=b, c=c, K=K, B=B, C=C, ashape=ashape):
                    kv = np.broadcast_to(value(c, vals, ashape), ashape)
                    av, bv, mv = value(a, vals), value(b, vals), value(m, vals)
                    return {K.name: kv, B.name: bv, C.name: mv - kv * bv - av * bv}
                # a ⊙ b as C + K ⊙ b + a ⊙ B: b's derivative takes the slipped K, a's the value B of b
                if _claim_is_gradient_of(case, slipped_f(C + K * b + a * B), extra):
                    gate = _sig(a) is not None or _sig(b) is not None or "swapped" in words
                    why = ("(the value the forward multiplied by, cached by it: an LSTM's df = dc * prev_c, "
                           "not dc * prev_h)" if words.endswith(OPERAND) else
                           _cell_words(case.f) if gate else
                           f"(the chain rule through {_text(m, 40)} multiplies by {_text(a, 40)}, "
                           f"as d/dZ σ(β·Z) = β·σ′(β·Z) and d/dβ σ(β·Z) = Z·σ′(β·Z))")
                    return Hint(f"{'gate' if gate else 'inner'} factor",
                                f"the claim for {w.name} passes the "
                                f"gradient back through the product {_short(shown[0], 40)} ⊙ {_short(shown[1], 40)} {words} — the derivative "
                                f"of a ⊙ b with respect to b is a, the same factor the forward multiplies by "
                                f"{why}.")
    return None
