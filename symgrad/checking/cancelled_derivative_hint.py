"""Name an activation derivative multiplied in where it cancels: logistic regression's
∂L/∂w = Xᵀ((σ(Xw) − y) ⊙ σ′(Xw))/N for Xᵀ(σ(Xw) − y)/N — the squared error's δ = (σ(z) − y) ⊙ σ′(z)
carried over to a cross-entropy, where log σ's derivative 1 − σ cancels σ′ and δ = σ(z) − y; and
a softmax's z whose δ is multiplied by p ⊙ (1 − p), the diagonal of softmax's Jacobian taken as its
derivative.

For each σ(z) and softmax(z) of f (σ of a matrix entry by entry too, and the softplus(±z) of a
logistic loss written without log: −log σ(z) = softplus(−z)), the claim is compared with the gradient whose δ at z (∂f/∂z, z
replaced by a fresh tensor at its value) is multiplied once more by σ′(z) = σ(z)(1 − σ(z)), or by
p ⊙ (1 − p) with p = softmax(z): f is derived again as Σ D ⊙ z with D held at that value, which
carries D back from z to w as the chain rule does.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from ..core.evaluate import evaluate, numeric
from ..frontend.functions import sigmoid
from .hint_case import Case, _claim_is_gradient_of, _fitted, differs, gradient_graph, short_text, value_at
from .hint_kind import Hint

MAX_NODES = 4


def _arguments(f, scalar=False) -> list:
    """[(z, its activation's value from z's, "σ" or "softmax")] for f's σ(z) and softmax/log_softmax
    of z over an axis, once each, in f's order."""
    from ..frontend import tensor as T
    from ..frontend.matrix_functions import LogSoftmax, Softmax
    from ..frontend.tensor_softmax import LogSoftmaxT, SoftmaxT
    out, seen = [], set()
    for n in sp.preorder_traversal(f):
        if isinstance(n, sigmoid) and (isinstance(n.args[0], T.TensorExpr)
                                       or scalar and not n.args[0].has(sp.Dummy)):
            z, fn, name = n.args[0], (lambda zv: 1 / (1 + np.exp(-zv))), "σ"
        elif isinstance(n, (SoftmaxT, LogSoftmaxT)):
            z, name = n.x, "softmax"
            fn = (lambda zv, a=n.axis: np.exp(zv - zv.max(axis=a, keepdims=True))
                  / np.exp(zv - zv.max(axis=a, keepdims=True)).sum(axis=a, keepdims=True))
        elif isinstance(n, (Softmax, LogSoftmax)) and isinstance(n.args[0], sp.MatrixExpr):
            z, name = n.args[0], "softmax"        # a column vector's softmax (lecture notation)
            fn = lambda zv: np.exp(zv - zv.max()) / np.exp(zv - zv.max()).sum()  # noqa: E731
        elif _sigma_map(n):                  # σ of a matrix entry by entry (or log σ, softplus: σ's own z)
            z, fn, name = n.args[1], (lambda zv: 1 / (1 + np.exp(-zv))), "σ"
            z = -z if z.could_extract_minus_sign() else z     # softplus(−Xw) and softplus(Xw): one z
        else:
            continue
        if (z, name) not in seen:
            seen.add((z, name))
            out.append((z, fn, name))
    return out


def _sigma_map(n) -> bool:
    """A matrix's entry-by-entry function (`Map`) whose body holds σ(d) or softplus(d) of its entry d."""
    from ..frontend.elementwise_map import Map
    from ..frontend.functions import softplus
    if not isinstance(n, Map) or not isinstance(n.args[0], sp.Lambda) or not isinstance(n.args[1], sp.MatrixExpr):
        return False
    d, body = n.args[0].variables[0], n.args[0].expr
    return any(isinstance(e, (sigmoid, softplus)) and e.args[0] == d for e in sp.preorder_traversal(body))


def _has_softplus(f) -> bool:
    """f holds a softplus (−log σ(z) = softplus(−z): the cross-entropy of σ written without a log)."""
    from ..frontend.functions import softplus
    return f.has(softplus)


def _swap_maps(f, z, Z0):
    """f with each `Map` of z (or of −z) applied to Z0 (−Z0) instead: z's one δ for both signs."""
    from ..frontend.elementwise_map import Map
    return f.replace(lambda e: isinstance(e, Map) and e.args[1] in (z, -z),
                     lambda e: Map(e.args[0], Z0 if e.args[1] == z else -Z0))


def extra_activation_derivative_hint(case: Case):
    from ..frontend import tensor as T
    from ..frontend.functions import sum as sum_of
    from .layer_hints import _rebuilt
    Cs, Ts = _fitted(case)
    scalar = isinstance(case.w, sp.Symbol) and not isinstance(case.w, sp.MatrixSymbol)
    if not (scalar or isinstance(case.w, (T.Tensor, sp.MatrixSymbol))) or not differs(Cs, Ts):
        return None
    zs = _arguments(case.f, scalar)
    if not 1 <= len(zs) <= MAX_NODES:
        return None
    policy = case.derivation.ir.policy
    for z, act, name in zs:
        matrix = isinstance(z, sp.MatrixExpr)
        if scalar:
            shape = ()
            Z0, D0 = sp.Symbol("_Z0", real=True), sp.Symbol("_D0", real=True)
            swapped, held = case.f.xreplace({z: Z0}), D0 * z
        elif matrix:
            shape = tuple(int(d) for d in z.shape)
            Z0, D0 = sp.MatrixSymbol("_Z0", *shape), sp.MatrixSymbol("_D0", *shape)
            swapped, held = _swap_maps(case.f.xreplace({z: Z0}), z, Z0), sum_of(sp.HadamardProduct(D0, z))
        else:
            shape = tuple(T.shape_of(z))
            Z0, D0 = T.tensor("_Z0", shape), T.tensor("_D0", shape)
            swapped, held = _rebuilt(case.f, {z: Z0}), (D0 * z).sum()
        graph, g = gradient_graph(swapped, [Z0], 0, policy)
        if g is None:
            continue

        def held_value(vals, z=z, graph=graph, g=g, act=act, matrix=matrix, shape=shape):
            zv = (np.asarray(numeric(z, vals), float).reshape(shape) if matrix or not shape
                  else value_at(z, vals, shape))
            dz = np.asarray(evaluate(graph, [g], {**vals, "_Z0": zv})[0], float)
            s = act(zv)
            return {"_D0": dz * s * (1 - s)}
        if not _claim_is_gradient_of(case, held, held_value):
            continue
        zt = short_text(z, 50)
        if name == "softmax":
            from ..frontend.matrix_functions import LogSoftmax
            from ..frontend.tensor_softmax import LogSoftmaxT
            ce = case.f.has(LogSoftmaxT) or case.f.has(LogSoftmax) or case.f.has(sp.log)
            return Hint("an extra softmax′ factor",
                        f"the claim is the gradient with δ = ∂f/∂z multiplied once more by p ⊙ (1 − p), "
                        f"p = softmax(z), z = {zt} — the diagonal of softmax's Jacobian taken as its "
                        f"derivative" + ("; for softmax + cross-entropy the whole Jacobian is already in "
                                         "δ = p − y (f − f*, the prediction minus the target), with no "
                                         "further factor." if ce else
                                         ", where the whole Jacobian belongs: δ_z = p ⊙ (δ_p − Σ δ_p ⊙ p)."))
        why = ("; for a cross-entropy (a log-likelihood) of σ(z) the σ′ cancels — d/dz of −y·log σ(z) − "
               "(1 − y)·log(1 − σ(z)) is σ(z) − y —, so δ = σ(z) − y with no σ′ (the σ′ belongs to a squared "
               "error's δ = (σ(z) − y) ⊙ σ′(z))" if case.f.has(sp.log) or _has_softplus(case.f) else "")
        return Hint("an extra σ′ factor",
                    f"the claim is the gradient with δ = ∂f/∂z multiplied once more by σ′(z) = σ(z)(1 − σ(z)), "
                    f"z = {zt}{why}.")
    return None


__all__ = ["extra_activation_derivative_hint"]
