"""The lift `compiler.specify` gives `compiler._lower` for a kernel target's tensor declaration.

The kernel backends (target "triton") take one example's program in the matrix language's form
and batch it themselves. For a declaration of tensors that is `kernel_form.as_columns` of the
per-example program; for one over the batch, `unbatch.Unbatch` first (which also reads whether the
loss is the batch's mean or sum). Either runs on the forward graph, before reverse mode.

>>> import sympy as sp, symgrad as sg
>>> N = sp.Symbol("N", integer=True, positive=True)
>>> lift = KernelLift([sg.tensor("x", (N, 3))], {N}, "mean")
>>> [x.shape for x in lift.inputs]                  # one example's stand-in of the declared x
[(3,)]
"""
from __future__ import annotations

from .kernel_form import as_columns


class KernelLift:
    """``lift(lowered)``: the per-example `backends.Lowered` in the kernels' form. ``inputs``: one
    example's inputs (the declared ones, or their stand-ins over the batch); ``reduction``: the
    loss's over the batch ("mean" or "sum": the declared one, or the one read from a declaration
    over the batch once a graph has been lifted)."""

    def __init__(self, inputs, sizes, reduction: str):
        self.unbatch = None
        self.inputs, self.reduction = list(inputs), reduction
        if sizes:
            from .unbatch import Unbatch
            self.unbatch = Unbatch(inputs, sizes)
            self.inputs = self.unbatch.inputs

    def __call__(self, lw):
        if self.unbatch is None:
            return as_columns(lw)
        lw = self.unbatch(lw)
        self.reduction = self.unbatch.reduction
        return as_columns(lw, "over the batch")
