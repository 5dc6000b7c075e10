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
from ..core.ir import format_shape
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


# how the lowering's notes print the weights of a linear resize (`frontend.resize_linear.resize_matrix`):
# a constant matrix relu(1 − |c_i − s|) of the indices, made with tril(ones(...)).sum(axis=1)
_RESIZE_WEIGHTS = ("= relu(1 - Abs(", "tril(ones((")


def refuse_resize_modes(lw) -> None:
    """sg.interpolate with mode='trilinear' (a volume (N, C, D, H, W)): named as the user wrote it,
    with what the kernels take instead, before the refusal of the resize's inner product (whose
    words are its weights' formula). (mode='linear' of a signal (N, C, L) over the batch was refused
    here too until 2026-12-01, twelfth session: its rows times the weights, `AsColumns._rows_times_constant`.)"""
    g, notes = lw.graph, lw.notes
    weights = {e.out.id for e in g.eqns
               if notes.get(e.out.id, "").startswith(_RESIZE_WEIGHTS[0]) and _RESIZE_WEIGHTS[1] in notes[e.out.id]}
    for e in g.eqns:
        if not weights & {u.id for u in e.inputs}:
            continue
        for a in g.ancestors(list(e.inputs)):
            if a.prim is not R.input_p:
                continue
            shape, name = tuple(a.out.shape), a.params[0].name
            if len(shape) == 5:
                raise UnsupportedError(
                    f"sg.interpolate(..., mode='trilinear') of {name!r} {format_shape(shape)}, "
                    f"a volume (N, C, D, H, W): "
                    f"the kernel backends (target='triton') keep 2-D maps (N, C, H, W) as rows and take no 3-D "
                    f"resize, convolution or pooling; they take mode='bilinear' and mode='nearest' of 2-D maps. "
                    f"Compile it with target='numpy'")


def refuse_signal_convolutions(lw) -> None:
    """sg.conv1d of a signal (N, C, L), named as the user wrote it before the refusal of the reshapes
    it lowers through (whose words are a bag's). A signal runs as an image of height 1: conv2d
    with a kernel (F, C, 1, K) gives conv1d's numbers, and dropout2d, max_pool2d((1, k)) of that
    map dropout1d's and max_pool1d's."""
    for e in lw.graph.eqns:
        if e.prim.name != "conv" or len(e.params[0]) != 1:
            continue
        x, w = e.inputs[:2]
        F, C, K = (int(d) for d in w.shape)
        raise UnsupportedError(
            f"sg.conv1d of a signal {format_shape(tuple(x.shape))} (N, C, L): the kernel backends "
            f"(target='triton') keep 2-D maps (N, C, H, W) as rows and take no 1-D convolution. The same "
            f"numbers: declare the signal as an image of height 1, "
            f"sg.tensor('x', (N, {C}, 1, {x.shape[-1]})) (pass "
            f"x[:, :, None, :]), the kernel as ({F}, {C}, 1, {K}) (pass w[:, :, None, :]), and write "
            f"sg.conv2d(x, w, b, stride=(1, s), padding=(0, p)); sg.dropout2d and sg.max_pool2d(h, (1, k)) "
            f"of that map stand for sg.dropout1d and max_pool1d. Or compile it with target='numpy'")


def refuse_signal_pooling(lw) -> None:
    """sg.max_pool1d / sg.avg_pool1d of a signal (N, C, L) — windows along one axis — named as the user
    wrote it (it was "pooling of the input image", of a layer's output too), with the way that
    runs the same numbers: the signal as a map of height 1 and max_pool2d / avg_pool2d with (1, k)."""
    from .kernel_form import user_words
    for e in lw.graph.eqns:
        if e.prim.name != "windows" or len(e.params[0]) != 1:
            continue
        shape = tuple(e.inputs[0].shape)
        words = user_words(lw.graph, lw.notes, e)
        k = int(e.params[0][0])
        raise UnsupportedError(
            f"a pooling of a signal {format_shape(shape)} (N, C, L){f' (in {words})' if words else ''}: the kernel "
            f"backends (target='triton') pool 2-D maps (N, C, H, W) only. The same numbers: a map of height 1 — "
            f"declare an input signal as sg.tensor('x', (N, C, 1, L)) (pass x[:, :, None, :]), or reshape a "
            f"layer's output to h.reshape(N, C, 1, L) — and sg.max_pool2d(h, (1, {k})) or sg.avg_pool2d(h, (1, {k})) "
            f"for sg.max_pool1d(h, {k}) / avg_pool1d; or compile it with target='numpy'")


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
        refuse_resize_modes(lw)
        refuse_signal_convolutions(lw)
        refuse_signal_pooling(lw)
        if self.unbatch is None:
            return as_columns(lw)
        lw = self.unbatch(lw)
        self.reduction = self.unbatch.reduction
        return as_columns(lw, "over the batch")
