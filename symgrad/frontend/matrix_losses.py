"""The losses of scalars and matrices (`mse`, `l1`, `hinge`, `bce`, `cross_entropy`, `kl_div`), each a
scalar expression, and `gather` (z[k] of a column of scores).

>>> import sympy as sp, symgrad as sg
>>> y, t = sp.symbols("y t")
>>> sg.mse(y, t)
(-t + y)**2/2
"""
from __future__ import annotations

import sympy as sp
from sympy import Expr, Lambda

from .parse import as_expr
from .parse import register as _register_text
from .elementwise_map import Map, _t
from .matrix_functions import (_explicit, _hadamard, _is_matrix, LogSoftmax, LogSumExp, _matrix_arg, _pair,
                               Total)
from .xlogy import XLogY, xlogy


def mse(yhat, y):
    """½‖ŷ − y‖² (half the squared error, as in the lecture notes; not averaged over entries)."""
    yhat, y = _pair("mse", ("yhat", "y"), yhat, y)
    d = yhat - y
    if _is_matrix(yhat, y):
        return Total(sp.HadamardPower(d, 2)) / 2
    return d ** 2 / 2


def l1(yhat, y):
    """‖ŷ − y‖₁ = Σ |ŷᵢ − yᵢ|."""
    yhat, y = _pair("l1", ("yhat", "y"), yhat, y)
    d = yhat - y
    return Total(Map(sp.Abs, d)) if _is_matrix(yhat, y) else sp.Abs(d)


def hinge(score, y):
    """Σ max(0, 1 − yᵢ·scoreᵢ) with labels y ∈ {−1, +1}."""
    score, y = _pair("hinge", ("score", "y"), score, y)
    if _is_matrix(score, y):
        m = sp.OneMatrix(*score.shape) - _hadamard(y, score)
        return Total(Map(Lambda(_t, sp.Max(0, _t)), m))
    return sp.Max(0, 1 - y * score)


def bce(p, y):
    """Binary cross-entropy −Σ [y log p + (1 − y) log(1 − p)] of probabilities p and targets y,
    with 0·log 0 = 0 (`xlogy`): a target of exactly 0 or 1 gives a finite loss even where p is."""
    p, y = _pair("bce", ("p", "y"), p, y)
    if _is_matrix(p, y):
        one = sp.OneMatrix(*p.shape)
        return -Total(XLogY(y, p) + XLogY(one - y, one - p))
    return -(xlogy(y, p) + xlogy(1 - y, 1 - p))


def cross_entropy(logits, t):
    """Softmax cross-entropy −Σ tᵢ log softmax(logits)ᵢ of a column of logits and a one-hot or
    probability column t, computed through log-sum-exp. Its gradient is softmax(logits) − t.
    When t is a scalar (an integer class label k) it is logsumexp(logits) − logits[k]."""
    logits, t = _pair("cross_entropy", ("logits", "t"), _matrix_arg(logits, "cross_entropy"), t) \
        if _is_matrix(as_expr(t, "t")) else (_matrix_arg(logits, "cross_entropy"), as_expr(t, "t"))
    if not _is_matrix(t):
        return LogSumExp(logits) - Gather(logits, t)
    return -Total(_hadamard(t, LogSoftmax(logits)))


class Gather(Expr):
    """gather(z, k) = z[k]: the entry of the column z at the integer class label k (a scalar)."""

    is_commutative = True

    def __new__(cls, z, k):
        return Expr.__new__(cls, _matrix_arg(z, "gather"), as_expr(k, "the index of gather"))

    def doit(self, **hints):
        z, k = self.args
        if k.is_Integer and (isinstance(z, sp.MatrixBase) or _explicit(z)):
            return z.as_explicit()[int(k), 0]
        return self

    def _sympystr(self, printer):
        z = printer._print(self.args[0])
        if not self.args[0].is_Atom and not isinstance(self.args[0], sp.MatrixSymbol):
            z = f"({z})"            # (W*x + b)[k], not W*x + b[k]
        return "%s[%s]" % (z, printer._print(self.args[1]))

    def _latex(self, printer):
        z = printer._print(self.args[0])
        if not self.args[0].is_Atom and not isinstance(self.args[0], sp.MatrixSymbol):
            z = r"\left(%s\right)" % z    # (W x + b)_k, not W x + b_k
        return r"{%s}_{%s}" % (z, printer._print(self.args[1]))   # z₁ at k: no double subscript


def gather(z, k, index=None):
    """The entry z[k] of a column z (n, 1) at an integer label k (a Symbol fed with integers).
    With three arguments, torch's ``torch.gather(x, dim, index)`` on tensors: ``x.gather(dim, index)``,
    that is ``sg.take_along_axis(x, index, axis=dim)``."""
    if index is not None:
        return TENSOR_GATHER[0](z, k, index)
    return Gather(z, k)


TENSOR_GATHER: list = []     # torch's gather of tensors, put here by `symgrad.frontend.tensor` (imports flow that way)


def kl_div(p, q):
    """KL(p ‖ q) = Σ pᵢ log(pᵢ / qᵢ), with 0·log 0 = 0 (`xlogy`): a one-hot p gives a finite loss."""
    p, q = _pair("kl_div", ("p", "q"), p, q)
    if _is_matrix(p, q):
        return Total(XLogY(p, p) - XLogY(p, q))
    return xlogy(p, p) - xlogy(p, q)



# The names user text may call (symgrad/frontend/parse.py): two positional arguments
for _name, _fn in (("mse", mse), ("l1", l1), ("hinge", hinge), ("bce", bce),
                   ("cross_entropy", cross_entropy), ("kl_div", kl_div), ("gather", gather)):
    _register_text(_name, _fn, (2, 2))
del _name, _fn
