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

from ..errors import UnsupportedError
from .batch_kind import ignored_value
from .kernel_form import as_columns


def refuse_ignore_index(lw) -> None:
    """torch's ignore_index (cross_entropy / nll_loss): the kernels check labels on the device as
    0 … C − 1 and have no masked mean; said in the declaration's words before any other refusal."""
    for e in lw.graph.eqns:
        v = ignored_value(e)
        if v is not None:
            raise UnsupportedError(f"ignore_index={v} of sg.cross_entropy / sg.nll_loss is not supported by the "
                                   f"kernel backends (target='triton'); compile it with target='numpy'")


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
        refuse_ignore_index(lw)
        if self.unbatch is None:
            return as_columns(lw)
        lw = self.unbatch(lw)
        self.reduction = self.unbatch.reduction
        return as_columns(lw, "over the batch")
