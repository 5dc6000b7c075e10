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

from ..core import array_rules as A
from ..core import rules as R
from ..errors import UnsupportedError
from .batch_kind import ignored_value
from .kernel_form import as_columns


def refuse_ignore_index(lw) -> None:
    """torch's ignore_index (cross_entropy / nll_loss): the kernels check labels on the device as
    0 … C − 1 and have no masked mean; said in the declaration's words before any other refusal."""
    for e in lw.graph.eqns:
        v = ignored_value(e)
        if v is not None:
            raise UnsupportedError(
                f"ignore_index={v} of sg.cross_entropy / sg.nll_loss is not supported by the kernel backends "
                f"(target='triton'); compile it with target='numpy', or (one label per example) drop the "
                f"examples labelled {v} from each batch and leave ignore_index out — the same mean and "
                f"gradients: keep = y != {v}; x, y = x[keep], y[keep]")


def refuse_class_weights(lw) -> None:
    """torch's class weights (cross_entropy / nll_loss ``weight=``): each example's loss times w[y], a
    vector of numbers indexed by the labels; the mean divides by Σ w[y] over the batch, not by its
    size. The kernels take neither (no gather from a constant vector, no mean by a sum of the
    batch); said in the declaration's words before the refusal of the gather or of the loss's form."""
    g = lw.graph
    for e in g.eqns:
        if e.prim is not A.take_p or len(e.inputs[0].shape) != 1:
            continue
        leaves = [a for a in g.ancestors([e.inputs[0]]) if a.prim.leaf]
        if any(a.prim is not R.const_p for a in leaves):
            continue                # a parameter or an input indexed by labels: refused as a gather
        raise UnsupportedError(
            "sg.cross_entropy / sg.nll_loss with weight= (class weights w[y]) is not supported by the kernel "
            "backends (target='triton'): each example's loss is weighed by a number looked up by its label, and "
            "the mean divides by the sum of the batch's weights Σ w[y], not by its size N, so it is not a mean "
            "of per-example terms; compile it with target='numpy'")


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
        refuse_class_weights(lw)
        if self.unbatch is None:
            return as_columns(lw)
        lw = self.unbatch(lw)
        self.reduction = self.unbatch.reduction
        return as_columns(lw, "over the batch")
