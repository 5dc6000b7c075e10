"""log(eᵃ + eᵇ) entry by entry (`logaddexp`: ``jnp.logaddexp(a, b)``, torch's ``x.logaddexp(y)``), with
torch's values and gradients at ±inf as well as at finite points.

It is written in three pieces, whichever holds where:

    (a + b)/2 + log 2      where a = b       (ties, both +inf or both −inf among them)
    a + softplus(b − a)    where a > b
    b + softplus(a − b)    elsewhere

so the softplus reads a number ≤ 0 (no overflow at 800, the smaller term kept to the last bit) and
the gradient is σ(a − b), σ(b − a): 1 and 0 at (+inf, 1), 0 and 1 at (−inf, 1), ½ and ½ at a
finite tie. Two equal infinities give ±inf, and a NaN gradient as torch's (the pieces not taken
read inf − inf). Written as a logsumexp of the pair (the eleventh session) its softmax read
e^(inf − inf) at (+inf, 1); written a + softplus(b − a) for scalars, −inf + inf at a = −inf.

>>> import sympy as sp, symgrad as sg
>>> a, b = sp.symbols("a b", real=True)
>>> [float(sg.numeric(logaddexp(a, b), {a: u, b: 1.0})) for u in (-float("inf"), float("inf"), 1.0)]
[1.0, inf, 1.6931471805599454]
"""
from __future__ import annotations

import sympy as sp

from . import tensor as T
from .functions import softplus
from .tensor_index import where

# SymPy's log(2), so that a derivation reads "log(2)" (it read 0.69314718055994531); the Triton
# printer prints a function of numbers as one float literal since the twelfth session (a where's
# branch with a Triton log of the integer 2 failed, "numpy data itemsize (64 bits) exceeds ... int32")
LOG_2 = sp.log(2)


def logaddexp(a, b):
    """log(eᵃ + eᵇ) of two SymPy expressions or two tensors of one shape (broadcast them first)."""
    if T.is_tensor_expr(a) or T.is_tensor_expr(b):
        return where(sp.Eq(a, b), (a + b) / 2 + LOG_2,
                     where(a > b, a + softplus(b - a), b + softplus(a - b)))
    return sp.Piecewise(((a + b) / 2 + LOG_2, sp.Eq(a, b)),      # nested: symgrad lowers two pieces
                        (sp.Piecewise((a + softplus(b - a), a > b), (b + softplus(a - b), True)), True))


T.BY_LATER_MODULES["logaddexp"] = logaddexp          # torch's x.logaddexp(y), after its broadcast
