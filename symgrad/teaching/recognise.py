"""Parts of f that a slide writes out and symgrad has a node for: the slide's softmax
exp(z)/Σ exp(z) is ``softmax(z)``, and log of a softmax is ``log_softmax(z)``. The teaching views
derive f with these recognised, so the cross-entropy written as the seeds write it,
−Σ t ⊙ log(exp(z)/Σ exp(z)), has the steps of −Σ t ⊙ log_softmax(z): ∂L/∂z = softmax(z)·Σt − t,
which is softmax(z) − t given a one-hot t (``given={sg.sum(t): 1}``). The value of f is unchanged.

The convolution the notes write as a sum of shifted slices times kernel entries,
Σᵢ Σⱼ w[i, j]·x[i:i+H', j:j+W'], is the `conv2d` that `symgrad.frontend.conv_sum.as_conv` states
(its steps are the convolution's: ∂L/∂w the correlation of x with δ, ∂L/∂x the full convolution of
δ with the flipped kernel). A sum that is no convolution is left as it is: recognition is a view,
never an error (`sg.grad` differentiates the sum as written either way, to the same numbers).

A power of `sg.norm` whose exponent undoes the root, ‖v‖² = (sg.norm(v))**2, is the sum it is the
root of, (v²).sum(), printed ‖v‖² for a vector: `sg.norm` writes the root safe at a zero vector,
where(s > 0, s, 1)^½ − where(s > 0, 0, 1) (gradient 0 there, as torch's), and its steps would
read u₄ = (u₃ if u₃ > 0; else 1), u₅ = √u₄, u₆ = ..., where the slide writes f = ‖W x + b‖²,
∂f/∂u = 2·u. The two are equal everywhere, with their gradients (at s = 0 too: (1 − 1)² = 0). Any other
power of it, ‖v‖ itself or ‖v‖³, is s^½, s^(3/2), printed ‖v‖, ‖v‖³, with the slide's steps
∂‖v‖/∂s = 1/(2·‖v‖); its gradient there differs only at a zero vector, 0 for `sg.norm` (torch's)
and 0·∞ for the root: given a point ``at`` where the vector is 0, the root safe at 0 is kept.

>>> import sympy as sp, symgrad as sg
>>> z = sp.MatrixSymbol('z', 3, 1)
>>> e = sg.elementwise(sp.exp, z)
>>> recognise(sg.elementwise(sp.log, e / sg.sum(e)))
log_softmax(z)
"""
from __future__ import annotations

import sympy as sp

from ..frontend import tensor as T
from ..frontend.conv_sum import NotAConvolution, as_conv
from ..frontend.functions import LogSoftmax, Map, Softmax, Total


def _map_of(node, fn):
    """The argument of ``fn`` mapped over a matrix (``exp(z)`` -> z), else None."""
    if isinstance(node, Map):
        lam = node.function
        if lam.expr == fn(lam.variables[0]):
            return node.expr
    return None


def _softmax_arg(node):
    """z when ``node`` is exp(z)·(Σ exp(z))⁻¹ in any order, or the slide's broadcast spelling
    exp(z) ⊙ (1/Σ exp(z))·𝟙, else None."""
    if isinstance(node, sp.HadamardProduct) and len(node.args) == 2:
        ones = [a for a in node.args if _broadcast_scalar(a) is not None]
        if len(ones) != 1:
            return None
        other = node.args[1] if ones[0] is node.args[0] else node.args[0]
        return _softmax_arg(sp.MatMul(_broadcast_scalar(ones[0]), other))
    if not isinstance(node, sp.MatMul):
        return None
    scalars = [a for a in node.args if not isinstance(a, sp.MatrixExpr)]
    mats = [a for a in node.args if isinstance(a, sp.MatrixExpr)]
    if len(mats) != 1 or len(scalars) != 1:
        return None
    z = _map_of(mats[0], sp.exp)
    s = scalars[0]
    if z is None or not (s.is_Pow and s.exp == -1 and isinstance(s.base, Total)):
        return None
    return z if s.base.arg == mats[0] else None


def _broadcast_scalar(node):
    """s when ``node`` is s·𝟙 (a scalar times a matrix of ones), else None."""
    if not isinstance(node, sp.MatMul):
        return None
    mats = [a for a in node.args if isinstance(a, sp.MatrixExpr)]
    if len(mats) != 1 or not isinstance(mats[0], sp.OneMatrix):
        return None
    return sp.Mul(*[a for a in node.args if not isinstance(a, sp.MatrixExpr)])


def _conv_of(node):
    """The `conv2d` that a tensor sum of shifted products spells (``as_conv``), else None."""
    if not (isinstance(node, sp.Add) and len(node.args) > 1 and T.is_tensor_expr(node)
            and all(a.has(T.Index) for a in node.args)):           # every term reads slices
        return None
    try:
        return as_conv(node)
    except NotAConvolution:          # a sum of slices that is not a convolution: derived as written
        return None


def _safe_root(node):
    """(s, e) where ``node`` is `sg.norm`'s root of s safe at 0, where(s > 0, s, 1)^e −
    where(s > 0, 0, 1) (`symgrad.frontend.tensor_norms`), else None."""
    if not isinstance(node, sp.Add) or len(node.args) != 2:
        return None
    found = _roots_in_sum(node)
    return found[0][:2] if found else None


def _roots_in_sum(node) -> list:
    """[(s, e, the two terms)] for each `sg.norm` root safe at 0 among the terms of the sum
    ``node``: SymPy flattens ‖W @ x + b‖² + ‖b‖ into one sum of three terms."""
    from ..frontend.tensor_index import Where
    out = []
    for power in node.args:
        if not (isinstance(power, sp.Pow) and isinstance(power.base, Where)):
            continue
        cond, s, one = power.base.args
        if not (isinstance(cond, sp.StrictGreaterThan) and cond.rhs == 0 and cond.lhs == s and one == 1):
            continue
        minus = sp.Mul(sp.S.NegativeOne, Where(cond, sp.S.Zero, sp.S.One))
        other = next((a for a in node.args if a == minus), None)
        if other is not None:
            out.append((s, power.exp, (power, other)))
    return out


def _roots_taken_out(node, roots: bool):
    """The sum ``node`` with each `sg.norm` root among its terms written s^e (‖b‖ of
    ‖W @ x + b‖² + ‖b‖), when ``roots``; None where there is none."""
    if not roots or not isinstance(node, sp.Add) or len(node.args) < 3:
        return None
    found = _roots_in_sum(node)
    if not found:
        return None
    used = {t for _, _, pair in found for t in pair}
    return sp.Add(*[a for a in node.args if a not in used], *[s ** e for s, e, _ in found])


def _norm_power(node, roots: bool):
    """s**n where ``node`` is a power of `sg.norm`'s safe root of s whose exponent undoes the root,
    ‖v‖² = (v²).sum() (n = 1), ‖v‖⁴ = ((v²).sum())²; with ``roots``, any power of it, the root
    itself too, s**e (‖v‖ = s^½, ‖v‖³ = s^(3/2)); else None."""
    from ..frontend.tensor_expr import Ewise
    if isinstance(node, Ewise):
        inner = _norm_power(node.expr, roots)
        return inner if inner is not None and isinstance(inner, T.TensorExpr) else None
    root, k = (_safe_root(node.base), node.exp) if isinstance(node, sp.Pow) else (_safe_root(node), sp.S.One)
    if root is None:
        return None
    s, e = root
    n = e * k
    if not (n.is_Integer and n > 0) and not roots:
        return None
    return s if n == 1 else s ** n


def _zero_somewhere(f, at) -> bool:
    """Whether a sum of squares under one of f's `sg.norm` roots is 0 at the point ``at`` (or
    cannot be evaluated there)."""
    from ..core.evaluate import numeric
    import numpy as np
    for node in sp.preorder_traversal(f):
        for s, _, _ in (_roots_in_sum(node) if isinstance(node, sp.Add) else ()):
            try:
                if not np.all(np.asarray(numeric(s, at), dtype=float) > 0):
                    return True
            except Exception:  # noqa: BLE001 - a point that does not evaluate it: keep the safe form
                return True
    return False


def recognise(f, at=None):
    """``f`` with softmax, log_softmax, the convolution and `sg.norm` written as such where the
    slide spells them out; ``f`` itself (the same object) when there is none. ``at``: the point
    the views will show, where a norm of a zero vector keeps its root safe at 0.

    >>> import symgrad as sg
    >>> x, g = sg.tensor("x", (5, 5)), sg.tensor("g", (2, 2))
    >>> recognise(sum(g[k, l] * x[k:k + 4, l:l + 4] for k in range(2) for l in range(2)))
    conv2d(x.reshape(1, 1, 5, 5), g.reshape(1, 1, 2, 2)).reshape(4, 4)
    """
    slices = isinstance(f, sp.Basic) and f.has(T.Index)      # else no Add needs as_conv's look
    roots = not (at is not None and isinstance(f, sp.Basic) and f.has(T.Where) and _zero_somewhere(f, at))

    def rewrite(node):
        s = _norm_power(node, roots)
        if s is not None:
            return s
        opened = _roots_taken_out(node, roots)
        if opened is not None:           # ‖b‖ in a sum of three terms: its two terms, then the rest
            return walk(opened) or opened
        conv = _conv_of(node) if slices else None
        if conv is not None:
            return conv
        z = _softmax_arg(node)
        if z is not None:
            return Softmax(z)
        inner = _map_of(node, sp.log)
        if inner is not None:
            inner = rewrite(inner) if not isinstance(inner, Softmax) else inner
            if isinstance(inner, Softmax):
                return LogSoftmax(inner.arg)
        return None

    def walk(node):
        new = rewrite(node)
        if new is not None:
            return new
        if not isinstance(node, sp.Basic) or not node.args or isinstance(node, (sp.Symbol, sp.MatrixSymbol)):
            return None
        args = [walk(a) for a in node.args]
        if all(a is None for a in args):
            return None
        return node.func(*[b if b is not None else a for a, b in zip(node.args, args)])

    out = walk(f)
    return f if out is None else out
