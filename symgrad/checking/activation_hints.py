"""Name an activation's derivative written wrong in one place of a layer with several: an LSTM step
has three sigmoid gates and two tanh, and its backward may write one of them wrong — tanh(next_c)'s
derivative as ``1 - tc`` where ``1 - tc**2`` belongs, the g gate's tanh′ as the sigmoid's
``g * (1 - g)``, the o gate's σ′ as tanh's ``1 - o**2``, or one gate's σ′ left out.
`hints.sigmoid_hint` and `hints.tanh_hint` derive f again with every sigmoid (or tanh) slipped at
once; this derives it with one node slipped and the others right, node by node, and also tries the
other activation's derivative form, which they do not. A backward over T steps (rnn_backward's loop
around an LSTM step) makes its slip at every step: the nodes are tried in groups, one group the same
gate of every step (σ(a[:, 4:6]) of each step's a), or tanh(c_t) of every step.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from ..frontend.functions import sigmoid
from .hint_kind import Hint
from .hint_case import Case, _claim_is_gradient_of, _fitted, differs, short_text

MAX_NODES = 6


_VALUE = {"tanh": np.tanh, "sigmoid": lambda z: 1 / (1 + np.exp(-z)), "softplus": lambda z: np.logaddexp(0, z)}


def _variant(base, label, dfun):
    """``base`` with its derivative replaced; its value stays base's (``_imp_`` is what lambdify
    calls for a function it does not know, inside an elementwise body)."""
    def fdiff(self, argindex=1):
        return dfun(base(self.args[0]), self.args[0])
    _variant.count += 1
    return label, type(f"{base.__name__}_slip{_variant.count}", (base,),
                       {"fdiff": fdiff, "_imp_": staticmethod(_VALUE[base.__name__])})


_variant.count = 0


_TANH = [
    _variant(sp.tanh, "1 − tanh(z)", lambda t, z: 1 - t),
    _variant(sp.tanh, "tanh(z)(1 − tanh(z)), the sigmoid's form", lambda t, z: t * (1 - t)),
    _variant(sp.tanh, "tanh(z)", lambda t, z: t),
    _variant(sp.tanh, "tanh(z)²", lambda t, z: t ** 2),
    _variant(sp.tanh, "1 (the tanh' factor left out)", lambda t, z: sp.S.One),
]
_SIGMOID = [
    _variant(sigmoid, "1 − σ(z)², tanh's form", lambda s, z: 1 - s ** 2),
    _variant(sigmoid, "1 (the σ' factor left out)", lambda s, z: sp.S.One),
    _variant(sigmoid, "σ(z)", lambda s, z: s),
    _variant(sigmoid, "1 − σ(z)", lambda s, z: 1 - s),
]
_RIGHT = {sp.tanh: ("tanh'", "1 − tanh(z)²", "h = tanh(z): dz = dh * (1 - h**2)"),
          sigmoid: ("σ'", "σ(z)(1 − σ(z))", "s = σ(z): dz = ds * s * (1 - s)")}


def activations(f) -> list:
    """The tanh and sigmoid applications of f, each once."""
    return _nodes(f, sp.tanh) + _nodes(f, sigmoid)


def _nodes(f, base):
    return list(dict.fromkeys(n for n in sp.preorder_traversal(f) if isinstance(n, base)))


def _where(n, acts, f=None) -> str:
    """The node as a student finds it: a gate sliced from one product as fn(a[:, 4:6]) with a named
    once; an activation of other activations (an LSTM's tanh(next_c)) said so; the body of a
    ``M.applyfunc(sigmoid)`` (its argument SymPy's lambda variable) by the matrix it is applied to."""
    from ..frontend import tensor as T
    fn = "σ" if isinstance(n, sigmoid) else "tanh"
    z = n.args[0]
    if isinstance(z, sp.Dummy) and f is not None:
        from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction as Apply
        m = next((a for a in sp.preorder_traversal(f) if isinstance(a, Apply) and a.function.expr == n), None)
        if m is not None:
            return f"{fn}(z) applied entrywise to z = {short_text(m.expr, 50)}"
    if isinstance(z, T.Index):
        cut = ", ".join(":" if (a, b) == (0, int(d)) else f"{a or ''}:{b if b != int(d) else ''}"
                        for (a, b, _), d in zip(z.args[1], T.shape_of(z.args[0])))
        return f"{fn}(a[{cut}]), a = {short_text(z.args[0], 50)}"
    inner = [m for m in acts if m is not n and z.has(m)]
    if inner:
        return f"{fn}(z) of a z made from other activations (an LSTM's tanh(next_c))"
    return short_text(n, 70)


def _role(n, acts):
    """What a node is in one step of a layer, the same for every step of a recurrence: a gate by its
    function and slice of the product (a_t[:, 4:6] for every t), an activation of other activations
    (tanh(c_t)); any other node is its own."""
    from ..frontend import tensor as T
    z = n.args[0]
    if isinstance(z, T.Index):
        return (type(n), tuple(z.args[1]), tuple(T.shape_of(z.args[0])))
    if any(m is not n and z.has(m) for m in acts):
        return (type(n), "of activations")
    return n


def _groups(nodes, acts) -> list:
    """The nodes grouped by their role, in f's order."""
    out = {}
    for n in nodes:
        out.setdefault(_role(n, acts), []).append(n)
    return list(out.values())


def _slipped(e, group: set, cls, memo: dict):
    """``e`` with each node of ``group`` made a ``cls`` of its arguments, from the leaves up: a step's
    gate holds the earlier steps' gates inside its argument (xreplace, from the top down, would slip
    the outermost alone)."""
    from ..frontend import tensor as T
    if e in memo:
        return memo[e]
    new = e
    if e.args and not isinstance(e, T.Tensor):
        args = [_slipped(a, group, cls, memo) if isinstance(a, sp.Basic) else a for a in e.args]
        if e in group:
            new = cls(*args)
        elif not all(a is b for a, b in zip(args, e.args)):
            new = T.Ewise(args[0], T.shape_of(args[0])) if isinstance(e, T.Ewise) else e.func(*args)
    memo[e] = new
    return new


def one_activation_hint(case: Case):
    Cs, Ts = _fitted(case)
    if not differs(Cs, Ts):
        return None
    tanhs, sigs = _nodes(case.f, sp.tanh), _nodes(case.f, sigmoid)
    acts = tanhs + sigs
    groups = {base: _groups(nodes, acts) for base, nodes in ((sp.tanh, tanhs), (sigmoid, sigs))}
    if not 1 <= len(acts) or len(groups[sp.tanh]) + len(groups[sigmoid]) > MAX_NODES:
        return None
    steps = max(len(g) for gs in groups.values() for g in gs)
    for base, variants in ((sp.tanh, _TANH), (sigmoid, _SIGMOID)):
        for label, cls in variants:
            for group in groups[base]:
                n = group[0]
                if len(acts) == 1 and "form" not in label:
                    continue                   # one activation slipped everywhere: sigmoid_hint's or tanh_hint's
                if steps > 1 and len(group) != steps:
                    continue                   # a recurrence's slip is made at every step
                if _claim_is_gradient_of(case, _slipped(case.f, set(group), cls, {})):
                    name, right, how = _RIGHT[base]
                    said = _where(n, acts, case.f)
                    where = (f" at every step: for {said} of each of the {steps} steps (a as "
                             f"the first step writes it)" if steps > 1 else
                             f" in one place: for {said}" if len(acts) > 1
                             else f": for {said}")
                    kind = f"{name}(z) written wrong" + (" at every step" if steps > 1 else
                                                         " in one place" if len(acts) > 1 else "")
                    return Hint.sentence(kind, f"{name}(z) written wrong{where}, the claim's chain rule has "
                                         f"{name}(z) = {label} where {right} belongs (with {how})"
                                         + ("; the other activations' derivatives are right." if len(acts) > 1
                                            else "."))
    return None
