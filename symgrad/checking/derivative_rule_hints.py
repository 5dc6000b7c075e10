"""σ'(z), tanh'(z), softplus'(z) or relu'(z) written wrong, and the softmax Jacobian cut to its diagonal: derive f
again with the slip built in, and compare the claim with that."""
from __future__ import annotations

import numpy as np
import sympy as sp

from ..frontend.functions import LogSoftmax, Map, Softmax, relu, sigmoid, softplus
from .hint_kind import Hint
from .hint_case import Case, _claim_is_gradient_of, _fitted, all_same, right_through


def _sig_variant(label, dfun):
    from .activation_hints import _variant
    return _variant(sigmoid, label, dfun)


_SIGMOID_SLIPS = [
    _sig_variant("1 (the σ' factor left out)", lambda s, z: sp.S.One),
    _sig_variant("σ(z)", lambda s, z: s),
    _sig_variant("1 − σ(z)", lambda s, z: 1 - s),
    _sig_variant("z(1 − z)", lambda s, z: z * (1 - z)),
    _sig_variant("σ(z)²", lambda s, z: s ** 2),
    _sig_variant("σ(z)(1 + σ(z))", lambda s, z: s * (1 + s)),
    _sig_variant("σ(h)(1 − σ(h)), σ′ taken at the output h = σ(z) where its input z belongs "
                 "(σ′(z) = h(1 − h))",
                 lambda s, z: sigmoid(s) * (1 - sigmoid(s))),
]


def sigmoid_hint(case: Case):
    if not case.f.has(sigmoid) or right_through(case, sigmoid):
        return None
    for label, cls in _SIGMOID_SLIPS:
        if _claim_is_gradient_of(case, case.f.replace(sigmoid, cls)):
            return Hint("σ'(z) written wrong",
                        f"the claim is what the chain rule gives with σ'(z) = {label}; "
                        f"the derivative of the sigmoid is σ'(z) = σ(z)(1 − σ(z)).")
    return None


def _softplus_variant(label, dfun):
    from .activation_hints import _variant
    return _variant(softplus, label, dfun)


_SOFTPLUS_SLIPS = [
    _softplus_variant("σ(−z) = 1/(1 + eᶻ): the exponent's sign slipped, or the inner derivative eᶻ of "
                      "log(1 + eᶻ) left out (d log(1 + eᶻ)/dz = eᶻ/(1 + eᶻ))", lambda sp_, z: sigmoid(-z)),
    _softplus_variant("softplus(z) = log(1 + eᶻ) itself, the function where its derivative belongs",
                      lambda sp_, z: sp_),
    _softplus_variant("σ(z)(1 − σ(z)) = σ′(z), the derivative taken twice", lambda sp_, z: sigmoid(z) * (1 - sigmoid(z))),
    _softplus_variant("eᶻ: the log's 1/(1 + eᶻ) left out", lambda sp_, z: sp.exp(z)),
    _softplus_variant("1 (the softplus′ factor left out)", lambda sp_, z: sp.S.One),
]


def softplus_hint(case: Case):
    """softplus′(z) written wrong — σ(−z) for σ(z) (a sign slip, or log's inner derivative left out),
    softplus itself, σ′: derive f again with each and compare, as `sigmoid_hint` does."""
    if not case.f.has(softplus) or right_through(case, softplus):
        return None
    Cs, Ts = _fitted(case)
    if all_same(Cs, Ts):
        return None
    for label, cls in _SOFTPLUS_SLIPS:
        if _claim_is_gradient_of(case, case.f.replace(softplus, cls)):
            return Hint("softplus'(z) written wrong",
                        f"the claim is what the chain rule gives with softplus′(z) = {label}; the derivative "
                        f"of softplus(z) = log(1 + eᶻ) is softplus′(z) = eᶻ/(1 + eᶻ) = σ(z).")
    return None


def _tanh_variant(label, dfun):
    """(They were named by their label, "tanh_1 − tanh(z)": inside an elementwise body that name is
    lambdify's code, which did not run, so a 3-step RNN's tanh′ slip got no hint.)"""
    from .activation_hints import _variant
    return _variant(sp.tanh, label, dfun)


_TANH_SLIPS = [
    _tanh_variant("1 − tanh(z)", lambda t, z: 1 - t),
    _tanh_variant("tanh(z)", lambda t, z: t),
    _tanh_variant("1 − z² (z, the input, squared where tanh's output belongs)", lambda t, z: 1 - z ** 2),
    _tanh_variant("tanh(z)²", lambda t, z: t ** 2),
    _tanh_variant("1 + tanh(z)²", lambda t, z: 1 + t ** 2),
    _tanh_variant("(1 − tanh(z))²", lambda t, z: (1 - t) ** 2),       # (1 - h)**2 for 1 - h**2
    _tanh_variant("1 (the tanh' factor left out)", lambda t, z: sp.S.One),
    _tanh_variant("1/cosh(z) = sech(z), where sech²(z) belongs", lambda t, z: sp.sqrt(1 - t ** 2)),
    _tanh_variant("1 − tanh(h)², tanh′ taken at the output h = tanh(z) where its input z belongs "
                  "(tanh′(z) = 1 − h²)",
                  lambda t, z: 1 - sp.tanh(t) ** 2),
]


def tanh_hint(case: Case):
    """tanh'(z) written wrong — an RNN step's backward with dtanh = 1 − next_h for 1 − next_h²: derive
    f again with each usual wrong tanh′ and compare the claim with that, as `sigmoid_hint` does."""
    if not case.f.has(sp.tanh) or right_through(case, sp.tanh):
        return None
    Cs, Ts = _fitted(case)
    if all_same(Cs, Ts):
        return None
    for label, cls in _TANH_SLIPS:
        if _claim_is_gradient_of(case, case.f.replace(sp.tanh, cls)):
            return Hint("tanh'(z) written wrong",
                        f"the claim is what the chain rule gives with tanh'(z) = "
                        f"{label}; the derivative of tanh is tanh'(z) = 1 − tanh(z)², so with h = tanh(z) "
                        f"from the forward, dz = dout * (1 − h**2).")
    return None


class _relu_passed_through(relu):
    """relu with relu′ taken as 1: the backward that forgot relu's mask."""

    def fdiff(self, argindex=1):
        return sp.S.One


def relu_hint(case: Case):
    """relu′ left out: dz = dout where dz = dout ⊙ (z > 0) — derive f again with every relu (and
    max(0, z)) passing its gradient through unmasked, and compare the claim with that."""

    def is_relu_max(e):
        return isinstance(e, sp.Max) and len(e.args) == 2 and sp.S.Zero in e.args
    if not (case.f.has(relu) or any(is_relu_max(e) for e in sp.preorder_traversal(case.f))):
        return None
    Cs, Ts = _fitted(case)
    if all_same(Cs, Ts):
        return None
    for cls, kind, said in ((_relu_passed_through, "relu′ left out", "the claim is what the chain rule gives "
                             "with relu′(z) = 1, the gradient passed back through relu unchanged"),
                            (_relu_by_its_value, "relu′ written as relu(z)", "the claim is what the chain rule "
                             "gives with relu′(z) = relu(z) = max(0, z), the gradient multiplied by relu's "
                             "output (dz = dout * h for h = relu(z))"),
                            (_relu_by_its_input, "relu′ written as z", "the claim is what the chain rule gives "
                             "with relu′(z) = z, the gradient multiplied by relu's input (dz = dout * z)")):
        slipped = case.f.replace(relu, cls).replace(
            is_relu_max, lambda e, c=cls: c(next(a for a in e.args if a != 0)))
        if _claim_is_gradient_of(case, slipped):
            return Hint(kind, f"{said}; relu′(z) is the step H(z) (1 where z > 0, else 0), so the gradient "
                        f"is masked: dz = dout ⊙ (z > 0).")
    return None


class _relu_by_its_value(relu):
    """relu with relu′ taken as relu itself: the backward that multiplies by the activation."""

    def fdiff(self, argindex=1):
        return relu(self.args[0])


class _relu_by_its_input(relu):
    """relu with relu′ taken as its input z: the backward dx = dout * x."""

    def fdiff(self, argindex=1):
        return self.args[0]


def softmax_hint(case: Case):
    """softmaxᵢ(z) = σ(zᵢ − Kᵢ) with Kᵢ = log Σ_{j≠i} exp zⱼ; holding K fixed keeps only the diagonal
    of the Jacobian, ∂sᵢ/∂zᵢ = sᵢ(1 − sᵢ), and drops −sᵢsⱼ off it."""
    from ..core.evaluate import numeric
    nodes = [n for n in sp.preorder_traversal(case.f) if isinstance(n, (Softmax, LogSoftmax))]
    if not nodes:
        return None
    t = sp.Dummy("t", real=True)
    sub, ks = {}, []
    for j, n in enumerate(dict.fromkeys(nodes)):
        K = sp.MatrixSymbol(f"_K{j}", *n.arg.shape)
        body = sigmoid(t) if isinstance(n, Softmax) else sp.log(sigmoid(t))
        sub[n] = Map(sp.Lambda(t, body), n.arg - K)
        ks.append((K, n.arg))

    def extra(vals):
        out = {}
        for K, z in ks:
            zv = np.asarray(numeric(z, vals), float)
            m = zv.max()
            e = np.exp(zv - m)
            out[K.name] = m + np.log(np.maximum(e.sum() - e, 1e-300))
        return out

    if _claim_is_gradient_of(case, case.f.xreplace(sub), extra):
        return Hint("softmax Jacobian cut to its diagonal",
                    "the claim uses ∂sᵢ/∂zᵢ = sᵢ(1 − sᵢ) only; the "
                    "softmax couples every output to every input, ∂sᵢ/∂zⱼ = sᵢ(δᵢⱼ − sⱼ), so "
                    "∂f/∂z = s ⊙ (ḡ − sᵀḡ), not s ⊙ (1 − s) ⊙ ḡ.")
    return None


def tensor_softmax_hint(case: Case):
    """The same slip for softmax over an axis of a tensor: the Jacobian cut to its diagonal
    (dz = s ⊙ (1 − s) ⊙ ds). Its diagonal term left out (dz = −s ⊙ Σ s ⊙ ds) is the fan-out hint's:
    the path through exp(z) of softmax = exp(z − logsumexp(z))."""
    from ..core.evaluate import numeric
    from ..frontend import tensor as T
    from ..frontend.tensor_softmax import SoftmaxT
    nodes = list(dict.fromkeys(n for n in sp.preorder_traversal(case.f) if isinstance(n, SoftmaxT)))
    if not nodes:
        return None

    def variant(build, value):
        sub, ks = {}, []
        for j, n in enumerate(nodes):
            K = T.tensor(f"_K{j}", n.x.shape)
            sub[n] = build(n, K)
            ks.append((K, n))

        def extra(vals):
            return {K.name: value(np.asarray(numeric(n.x, vals), float), n.axis) for K, n in ks}
        return _claim_is_gradient_of(case, case.f.xreplace(sub), extra)

    def others(z, axis):                  # K = log Σ_{j≠i} exp zⱼ: softmaxᵢ = σ(zᵢ − K) with K held
        m = z.max(axis=axis, keepdims=True)
        e = np.exp(z - m)
        return m + np.log(np.maximum(e.sum(axis=axis, keepdims=True) - e, 1e-300))
    if variant(lambda n, K: T.as_tensor(sigmoid(n.x - K)), others):
        return Hint("softmax Jacobian cut to its diagonal",
                    "the claim uses ∂sᵢ/∂zᵢ = sᵢ(1 − sᵢ) only; the "
                    "softmax over an axis couples every entry of that axis, ∂sᵢ/∂zⱼ = sᵢ(δᵢⱼ − sⱼ), so "
                    "dz = s ⊙ (ds − (s ⊙ ds).sum(axis, keepdims=True)), not s ⊙ (1 − s) ⊙ ds.")
    return None
