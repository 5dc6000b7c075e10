"""The subgradient policy: what the derivative of a kink is, in one place.

At a point where a function is not differentiable, backprop still needs a number. The lecture notes
(``shared/seeds``) use relu'(0) = 1; that is the default here. ``max`` routes its gradient to the
first argument that attains the maximum in SymPy's canonical argument order (``sp.Max(z, w).args``
is ``(w, z)``: the tie goes to w, whatever order was written; torch's ``maximum`` splits it, ½ each;
``w + relu(z - w)`` routes it to z; ``max_ties="split"`` divides it equally among the tied
arguments, as torch's ``maximum``/``minimum`` do — elementwise Max/Min only: a max over an axis,
``x.max(axis)`` and max pooling, keeps the first arg-max; torch's ``x.amax(dim)`` splits, whatever
the policy, as torch's), and |x|'(0) = 0
(SymPy's ``sign(0) = 0``). Derivatives of step functions (Heaviside, sign) are taken as 0 almost
everywhere (SymPy would say DiracDelta).

Pass ``policy=Subgradients(relu_at_zero=0)`` to `grad`, `derive`, ... to change it per call.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import ArgumentError


@dataclass(frozen=True)
class Subgradients:
    relu_at_zero: int = 1   # relu'(0); leaky_relu'(0) follows it (1 -> slope 1, 0 -> slope alpha)
    abs_at_zero: int = 0    # |x|'(0)
    max_ties: str = "first"  # "first": the first arg-max takes the whole gradient; "split": shared

    def __post_init__(self):
        if self.relu_at_zero not in (0, 1) or isinstance(self.relu_at_zero, bool):
            raise ArgumentError(f"relu_at_zero must be 0 or 1, got {self.relu_at_zero!r}")
        if self.abs_at_zero not in (-1, 0, 1) or isinstance(self.abs_at_zero, bool):
            raise ArgumentError(f"abs_at_zero must be -1, 0 or 1 (a subgradient of |x| at 0), got "
                                f"{self.abs_at_zero!r}")
        if self.max_ties not in ("first", "split"):
            raise ArgumentError(f"max_ties must be 'first' (the first arg-max in SymPy's order takes a "
                                f"tie's gradient) or 'split' (divided equally among the tied "
                                f"arguments, torch.maximum's rule), got {self.max_ties!r}")


DEFAULT = Subgradients()


def check_policy(policy) -> Subgradients:
    """``policy`` if it is a `Subgradients`, else an `ArgumentError` saying what ``policy=`` takes
    (a string such as ``"first"`` is the value of one field, not a policy)."""
    if not isinstance(policy, Subgradients):
        raise ArgumentError(f"policy must be a symgrad.Subgradients, e.g. Subgradients(relu_at_zero=0); "
                            f"got {policy!r}")
    return policy
