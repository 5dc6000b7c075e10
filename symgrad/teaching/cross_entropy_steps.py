"""A softmax cross-entropy as one step of the text, as the slides write it.

``sg.cross_entropy(z, y)`` lowers to a logsumexp, a one-hot, a product, sums and reshapes; the
forward pass wrote eight u's and the backward pass a step for each, and δ's chain-rule side
named the one-hot's u₃. The slides write one forward line and one backward line,

    L = cross_entropy(z⁽²⁾, y)
    δ⁽²⁾ = ∂L/∂z⁽²⁾ = ∂L/∂L · ∂L/∂z⁽²⁾ = (softmax(z⁽²⁾, axis=1) − one_hot(y, 3))/N

(a target distribution: softmax(z) − t given its rows sum to 1). The numbers stay reverse mode's
(the sum of its contributions through the logsumexp and the picked logit). The groups are
`symgrad.teaching.cross_entropy_fold`'s; the text folds those `sg.cross_entropy` made (a
−Σ(log_softmax(z) ⊙ one_hot(y))/N the user wrote out stays as written: a log_softmax step, then
the mean) that take the logits, whose target takes no gradient: reduced over the batch ("mean",
"sum") or per example ("none": u₁ = cross_entropy(z, y, reduction='none'), and δ =
(∂L/∂u₁).reshape(N, 1) ⊙ (softmax(z, axis=1) − one_hot(y, 3)), each example's row times the
gradient of its own loss).

>>> import symgrad as sg
>>> z, y = sg.tensor("z", (4, 3)), sg.tensor("y", (4,), integer=True)
>>> print(sg.derive(sg.cross_entropy(z, y), [z], output_name="L").render("unicode").split("Backward")[0])
L = cross_entropy(z, y)
Forward pass:
  L = cross_entropy(z, y)
<BLANKLINE>
"""
from __future__ import annotations

import sympy as sp

from .cross_entropy_column import column_note
from .cross_entropy_fold import delta

RULE = ("softmax cross-entropy: each example's δ is softmax(z) − its one-hot target{per}")


class CrossEntropy(sp.Expr):
    """cross_entropy(z, y) as the user called it (a display node: printed, never evaluated)."""

    def __new__(cls, z, t, reduction):
        if not isinstance(reduction, sp.core.symbol.Str):       # xreplace rebuilds it with the Str
            reduction = sp.core.symbol.Str(reduction)
        return sp.Expr.__new__(cls, z, t, reduction)

    @property
    def reduction(self) -> str:
        return self.args[2].name

    def _sympystr(self, printer):
        more = "" if self.reduction in ("mean", "example") else f", reduction={self.reduction!r}"
        return f"cross_entropy({printer._print(self.args[0])}, {printer._print(self.args[1])}{more})"

    def _latex(self, printer):
        more = "" if self.reduction in ("mean", "example") else r",\ \operatorname{reduction}=\text{%s}" % self.reduction
        return r"\operatorname{cross\_entropy}\left(%s,\ %s%s\right)" % (
            printer._print(self.args[0]), printer._print(self.args[1]), more)


def folded(groups: dict, need: set) -> dict:
    """The groups the text writes as one step: of the logits, over the batch, their target no
    input of a gradient (``need``: the ids reverse mode differentiates)."""
    return {end: ce for end, ce in groups.items()
            if ce.of_logits and ce.called and ce.target not in need}


def definition(ce, disp):
    """The forward line's right side: cross_entropy(z⁽²⁾, y); 2·cross_entropy(z⁽²⁾, t) where a
    MatrixSymbol column's cross-entropy is scaled."""
    ce_of = CrossEntropy(disp[ce.z], disp[ce.target], ce.reduction)
    return ce_of if ce.scale == 1 else sp.Mul(ce.scale, ce_of, evaluate=False)


def backward(ce, graph, disp, given, upstream):
    """(the rule, δ) of the logits' step: δ = (softmax(z) − one_hot(y))/N times ``upstream``, the
    gradient of the loss (None where it is the output itself)."""
    e = delta(ce, graph, disp, given)
    if e is not None and upstream is not None:
        shape = graph.producer[ce.end].out.shape
        if ce.reduction == "none" and shape != ():     # one loss per example: ∂L/∂ℓ.reshape(N, 1) ⊙ δ
            from ..frontend.tensor import reshape
            zshape = graph.producer[ce.z].out.shape
            upstream = reshape(upstream, tuple(1 if a == ce.axis else s for a, s in enumerate(zshape)))
        e = upstream * e
    per = {"mean": ", divided by N for the mean over the batch", "sum": ", summed over the batch",
           "none": ", times the gradient of its own loss", "example": ""}[ce.reduction]
    if ce.reduction == "example":
        return column_note(ce, graph, disp, given), e
    return RULE.format(per=per), e


def scale_apart(ces: dict, graph, disp, given):
    """A function of an expression ``e``: ``e`` with a float scale of a mean cross-entropy's δ over
    a batch of a literal size kept apart from the mean's 1/N, as with a symbol N:
    0.5·(softmax(z) − one_hot(y, 3))/4, not SymPy's 0.125·(…) (the scale and the batch multiplied
    into one float no slide writes). The δs are worked out once, for every expression it is given."""
    from ..frontend.tensor_expr import Ewise
    pats = []
    for ce in ces.values():
        if ce.reduction != "mean":
            continue
        zshape = graph.producer[ce.z].out.shape
        n = sp.Mul(*[s for a, s in enumerate(zshape) if a != ce.axis])
        d = delta(ce, graph, disp, given) if n.is_Integer and n > 1 else None
        if d is not None:
            num = d * n
            pats.append((num.expr if isinstance(num, Ewise) else num, n))

    def apart(m):
        c, rest = m.as_coeff_Mul()
        n = next((n for X, n in pats if rest == X), None) if c.is_Float else None
        return None if n is None else sp.Mul(sp.Float(c * n, 15), rest, sp.Pow(n, -1, evaluate=False),
                                            evaluate=False)

    def fix(e):
        if not pats or not isinstance(e, sp.Basic):
            return e
        return e.replace(lambda m: isinstance(m, sp.Mul) and apart(m) is not None, apart)
    return fix
