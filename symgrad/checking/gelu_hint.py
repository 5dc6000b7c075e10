"""GELU′ and SiLU′ (swish) written wrong, as 11-785's HW1P1 backward writes them by hand:
GELU′(z) = Φ(z) + z·φ(z) with the product rule's z·φ(z) left out, φ without its 1/√(2π), Φ written
with erf(z) for erf(z/√2); SiLU′(z) = σ(z) + z·σ(z)(1 − σ(z)) with its second term left out. f is
derived again with every such activation slipped, as `derivative_rule_hints.sigmoid_hint` does for σ′."""
from __future__ import annotations

import math

import numpy as np
import sympy as sp

from ..frontend.functions import gelu, sigmoid, silu
from .hint_kind import Hint
from .hint_case import Case, _claim_is_gradient_of, _fitted, differs

_erf = np.vectorize(math.erf, otypes=[float])
_VALUE = {"gelu": lambda z: z * (1 + _erf(z / math.sqrt(2))) / 2,
          "silu": lambda z: z / (1 + np.exp(-z))}


def _slip(base, label, dfun):
    def fdiff(self, argindex=1):
        return dfun(self.args[0])
    _slip.count += 1
    return label, type(f"{base.__name__}_slip{_slip.count}", (base,),
                       {"fdiff": fdiff, "_imp_": staticmethod(_VALUE[base.__name__])})


_slip.count = 0
_Phi = lambda z: (1 + sp.erf(z / sp.sqrt(2))) / 2                     # noqa: E731
_phi = lambda z: sp.exp(-z ** 2 / 2) / sp.sqrt(2 * sp.pi)             # noqa: E731

_SLIPS = {
    gelu: ("GELU'", "Φ(z) + z·φ(z), φ(z) = e^(−z²/2)/√(2π)", [
        _slip(gelu, "Φ(z) alone (the product rule's z·φ(z) left out: GELU(z) = z·Φ(z))", _Phi),
        _slip(gelu, "Φ(z) + z·e^(−z²/2) (φ without its 1/√(2π))", lambda z: _Phi(z) + z * sp.exp(-z ** 2 / 2)),
        _slip(gelu, "(1 + erf(z))/2 + z·φ(z) (erf(z) where Φ has erf(z/√2))",
              lambda z: (1 + sp.erf(z)) / 2 + z * _phi(z)),
        _slip(gelu, "z·φ(z) alone (Φ(z) left out)", lambda z: z * _phi(z)),
    ]),
    silu: ("SiLU'", "σ(z) + z·σ(z)(1 − σ(z))", [
        _slip(silu, "σ(z) alone (the product rule's z·σ′(z) left out: SiLU(z) = z·σ(z))", sigmoid),
        _slip(silu, "σ(z)(1 − σ(z)), the sigmoid's own", lambda z: sigmoid(z) * (1 - sigmoid(z))),
        _slip(silu, "σ(z) + z·σ(z) (σ′ written σ)", lambda z: sigmoid(z) * (1 + z)),
    ]),
}


def gelu_hint(case: Case):
    Cs, Ts = _fitted(case)
    if not differs(Cs, Ts):
        return None
    for base, (name, right, slips) in _SLIPS.items():
        if not case.f.has(base):
            continue
        for label, cls in slips:
            if _claim_is_gradient_of(case, case.f.replace(base, cls)):
                return Hint(f"{name}(z) written wrong",
                            f"the claim is what the chain rule gives with "
                            f"{name}(z) = {label}; the derivative is {name}(z) = {right}.")
    return None
