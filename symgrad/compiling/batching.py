"""Per-example tensor declarations, batched: JAX's ``vmap`` as a pass over the forward IR.

People write a layer for ONE example, as cs231n's notes do (``x = sg.tensor("x", (3, 8, 8))``,
``W @ x + b``, a label ``y = sg.tensor("y", (), integer=True)``); arrays come with a leading batch
axis and the loss is the mean (``reduction="sum"``: the sum) of the per-example loss over it
(``shared/DESIGN.md``). This module turns such a declaration into a whole-batch one, which the
whole-batch path (`symgrad.compiling.whole_batch`, ``codegen.numpy_whole_batch``) compiles as it
compiles a network declared over a symbolic N:

1. the per-example loss is lowered to the IR as usual (`symgrad.compiling.compiler._lower`);
2. `Batched` walks that forward graph once, in order, and writes a new graph in which every input
   has a leading batch axis of the symbolic size ``B`` and every equation that reads a batched
   value has its batch rule (the table ``RULES``, one row per primitive): the value it makes is
   batched too, with the batch axis first. An equation that reads no input (a parameter's own
   transform) is copied as it is, unbatched. A dropout mask of shape s is an input too, (B, *s):
   each example draws its own;
3. the loss becomes Σ_b loss_b / B (or Σ_b loss_b), and reverse mode runs on the batched graph
   (so the gradients are the batch's, summed inside the products: no per-example gradients).

The rules, with x batched (B, *s) for x of per-example shape s:

    ewise           unbatched operands broadcast over the batch (an unbatched scalar stays one)
    matmul          (B, m, k) @ (k, n): one product of the B·m rows; (m, k) @ (B, k, n): the
                    transposed product (B·n, k) @ (k, m); both batched: bmatmul
    sum / rsum / rmax / argmax / lse / one_hot / flip / permute   the axes shifted by one
    broadcast / expand / reshape / slice / pad / fold   the batch axis prepended to the shape
    concat          unbatched operands broadcast, the axis shifted
    take            a parameter at batched indices (an embedding): take, the batch axis moved to
                    the front; both batched (an example's values at its own indices): a one-hot
                    product (indices are 0 … n − 1 everywhere, checked before each call, as
                    torch takes them)
    conv            the batch axis folded into the convolution's own batch axis (B·N, C, *S) when
                    the kernel is unbatched; windows work on trailing axes and need no change
    bmatmul         unbatched operands broadcast over the batch

The matrix language's own rows (``gather``, ``logsumexp`` of every entry) have none: a declaration
of tensors never makes them (a MatrixSymbol among tensors is refused before). A primitive without a
rule (a convolution whose kernel depends on the example, a scatter-add at batched indices) is an `UnsupportedError` in the declaration's words, naming the whole-batch
declaration as the way to write it. Lifting the SymPy tensor expression itself (x ↦ x of shape
(B, *s)) was the other way: it fails on exactly the things people write per example (``W @ x`` is
``x @ Wᵀ`` once x has a batch axis, ``x[None]`` is no longer a batch of one, ``axis=0`` moves), so
the pass works on the IR, where every primitive says what its axes are.

>>> import numpy as np, symgrad as sg
>>> x, w = sg.tensor("x", (3,)), sg.tensor("w", (2, 3))
>>> prog = sg.compile(sg.sum(sg.relu(w @ x)), [w], [x], dtype="float64")   # one example's x
>>> prog.loss({"w": np.ones((2, 3))}, {"x": np.array([[1.0, 2, 3], [-1, -1, -1]])})   # B = 2
6.0
"""
from __future__ import annotations

import dataclasses

import sympy as sp

from ..core import array_rules as A
from ..core import conv_rules as CR
from ..core import rules as R
from ..core import tri_rules as TR
from ..core.ir import Graph, Var, dims_equal
from ..errors import UnsupportedError
from ..frontend.masks import DropoutMaskTensor
from ..frontend.tensor import Tensor, tensor
from .batch_kind import USER_TERMS

ph = R.ph


class BatchSize(sp.Dummy):
    """The symbolic batch size B: a Dummy, so that no symbol of the user's (a scalar input called B)
    is ever taken for it, which prints as ``B`` (a Dummy prints as ``_B``) in the shapes and
    formulas of the generated code's comments. Code printers never read this: the code names it."""

    def _sympystr(self, printer):
        return "B"


def batch_size() -> sp.Symbol:
    """The symbolic batch size B of a batched declaration (a `BatchSize`); the generated code binds
    it from the arrays.

    >>> B = batch_size()
    >>> str((B, 3)), B == sp.Symbol("B", integer=True, positive=True)
    ('(B, 3)', False)
    """
    return BatchSize("B", integer=True, positive=True)


def batched_input(s, B) -> Tensor:
    """The whole-batch tensor of a per-example input: the same name, the batch axis first."""
    if isinstance(s, Tensor):
        return tensor(s.name, (B,) + tuple(s.shape), integer=s.is_integer_tensor)
    return tensor(s.name, (B,), integer=bool(s.is_integer))      # a scalar Symbol: one number each


def batched_mask(m, B) -> DropoutMaskTensor:
    """The mask of one example's ``sg.dropout`` (a tensor of shape s, or a scalar), over the batch: a
    mask tensor of shape (B, *s) with the same name, hence the same drop probability."""
    return DropoutMaskTensor(m.name, (B,) + tuple(getattr(m, "shape", ())))


class Lift:
    """The batching of one declaration's lowered graphs (train and eval), for `compiler._lower`:
    ``lift(lowered)`` is the same roles on the batched graph, the loss reduced over the batch."""

    def __init__(self, inputs, reduction: str):
        self.B = batch_size()
        self.inputs = [batched_input(s, self.B) for s in inputs]
        self.reduction = reduction

    def __call__(self, lw):
        src = lw.graph
        leaves = {vid: t for vid, t in zip(lw.inputs, self.inputs) if vid is not None}
        # a dropout mask is drawn per example: of shape (B, *s) for an expression of shape s, so
        # every entry of every example has its own draw (one draw of shape s would be shared)
        leaves.update({vid: batched_mask(src.producer[vid].params[0], self.B) for vid, _, _ in lw.masks})
        b = Batched(src, self.B, leaves)
        roots = [src.producer[i].out for i in list(lw.params) + list(lw.inputs) if i is not None]
        roots += [src.producer[vid].out for vid, _, _ in lw.masks]
        b.run([lw.loss] + list(lw.outputs) + roots)
        g, B = b.g, self.B
        loss, batched = b.env[lw.loss.id]
        if batched:
            loss = R.reduce_sum(g, loss, None)                  # Σ_b loss_b
            if self.reduction == "mean":
                loss = R.ewise(g, ph(0) / B, loss, shape=())    # the mean over the batch
        elif self.reduction == "sum":       # B × a loss that reads no input: B is bound from none
            raise UnsupportedError("the loss reads none of the inputs, so reduction='sum' (the batch size "
                                   "times it) has no batch size to read; use reduction='mean' (the loss "
                                   "itself)")
        # an output that reads no input stays one value (the program repeats it over the batch:
        # per_example.PerExampleProgram.forward), so that forward binds B from no array
        outputs = [b.env[o.id][0] for o in lw.outputs]
        notes = {}
        for vid, text in lw.notes.items():
            v = b.env.get(vid)
            if v is not None and not g.producer[v[0].id].prim.leaf:
                notes.setdefault(v[0].id, text + (" (per example)" if v[1] else ""))
        return dataclasses.replace(
            lw, graph=g, loss=loss, outputs=outputs, notes=notes,
            params=[b.env[i][0].id if i is not None else None for i in lw.params],
            inputs=[b.env[i][0].id if i is not None else None for i in lw.inputs],
            masks=[(b.env[vid][0].id, (B,) + tuple(shape), p) for vid, shape, p in lw.masks])


class Batched:
    """The batching pass over one graph: ``env`` maps each variable of ``src`` to (its value in the
    new graph ``g``, whether that value has the batch axis in front)."""

    def __init__(self, src: Graph, B, leaves: dict):
        self.src, self.B, self.leaves = src, B, leaves
        self.g = Graph(src.policy)
        self.env: dict[int, tuple[Var, bool]] = {}

    def run(self, roots) -> None:
        for e in self.src.ancestors(roots):
            self.env[e.out.id] = self._eqn(e)

    def _eqn(self, e):
        g = self.g
        if e.prim.leaf:
            t = self.leaves.get(e.out.id) if e.prim is R.input_p else None
            if t is not None:
                return g.bind(R.input_p, (), (t, tuple(t.shape))), True
            return g.bind(e.prim, (), e.params), False
        ins = [self.env[u.id] for u in e.inputs]
        if not any(b for _, b in ins):
            return g.bind(e.prim, [v for v, _ in ins], e.params), False
        rule = RULES.get(e.prim.name)
        if rule is None:
            raise refusal(e.prim.name, e)
        return rule(self, e, ins), True

    # -- helpers ----------------------------------------------------------------------------------
    def lifted(self, v: Var, batched: bool) -> Var:
        """``v`` with the batch axis: an unbatched value repeated over it (a view in NumPy)."""
        return v if batched else A.expand(self.g, v, (self.B,) + tuple(v.shape))

    def swap_last(self, v: Var) -> Var:
        """The last two axes swapped: a reshape when one of them has size 1 (no copy), else a permute."""
        s = tuple(v.shape)
        if dims_equal(s[-1], 1) or dims_equal(s[-2], 1):
            return A.reshape(self.g, v, s[:-2] + (s[-1], s[-2]))
        return A.swap_last(self.g, v)


def refusal(name: str, e=None, why: str = "") -> UnsupportedError:
    """The error for a primitive the batching pass has no rule for, in the declaration's words."""
    what = USER_TERMS.get(name, f"the operation {name!r}")
    where = why or (f" (the equation {e})" if e is not None else "")
    return UnsupportedError(
        f"a per-example declaration is batched operation by operation, and {what} has no batch rule"
        f"{where}; declare the network over the batch instead: N = sp.Symbol('N', integer=True, "
        f"positive=True), the inputs sg.tensor('x', (N, ...)), and the loss's mean over N written out "
        f"(sg.mean)")


def _shift(axes):
    return tuple(int(a) + 1 for a in axes)


# ===================================================================================================
# The rules: (batching, eqn, [(value, batched)] per input) -> the batched value


def _ewise(b: Batched, e, ins):
    S = tuple(e.params[1])
    out = (b.B,) + S
    args = []
    for (v, batched), u in zip(ins, e.inputs):
        if not batched and u.shape == ():
            args.append(v)                                  # a scalar broadcasts inside ewise
        elif batched and len(u.shape) == len(S):
            args.append(v)
        elif batched:                                       # one number per example, spread over S
            args.append(A.expand(b.g, A.reshape(b.g, v, (b.B,) + (1,) * len(S)), out))
        else:
            args.append(A.expand(b.g, v, out))
    return R.ewise(b.g, e.params[0], *args, shape=out)


def _matmul(b: Batched, e, ins):
    g, B = b.g, b.B
    (x, bx), (y, by) = ins
    (m, k), (_, n) = e.inputs[0].shape, e.inputs[1].shape
    if bx and by:
        return A.bmatmul(g, x, y)
    if bx:                                  # (B, m, k) @ (k, n): the B·m rows times one matrix
        return A.reshape(g, R.matmul(g, A.reshape(g, x, (B * m, k)), y), (B, m, n))
    # (m, k) @ (B, k, n) = ((B, n, k) @ (k, m)) with the last two axes swapped: W @ x of a column x
    # is the product of the rows xᵀ with Wᵀ, one GEMM for the batch
    rows = A.reshape(g, b.swap_last(y), (B * n, k))
    return b.swap_last(A.reshape(g, R.matmul(g, rows, R.transpose(g, x)), (B, n, m)))


def _sum(b: Batched, e, ins):
    (x, _), s, axis = ins[0], e.inputs[0].shape, e.params[0]
    if axis is None:
        return x if s == () else A.sum_axes(b.g, x, tuple(range(1, len(s) + 1)), False)
    return A.rsum(b.g, x, (axis + 1,))


def _broadcast(b: Batched, e, ins):
    (x, _), shape = ins[0], tuple(e.params[0])
    if e.inputs[0].shape == ():
        x = A.reshape(b.g, x, (b.B,) + (1,) * len(shape))
    return A.expand(b.g, x, (b.B,) + shape)


def _concat(b: Batched, e, ins):
    return A.concat(b.g, [b.lifted(v, bt) for v, bt in ins], e.params[0] + 1)


def _take(b: Batched, e, ins):
    g, B = b.g, b.B
    (x, bx), (i, bi) = ins
    ax = e.params[0]
    if not bi:                              # the same indices for every example
        return A.take(g, x, i, ax + 1)
    if not bx:                              # a parameter at each example's indices (an embedding)
        out = A.take(g, x, i, ax)           # x.shape[:ax] + (B, *k) + x.shape[ax+1:]
        nd = len(out.shape)
        return A.permute(g, out, (ax,) + tuple(j for j in range(nd) if j != ax))
    # x_b[…, i_b[k], …]: Σ_c x_b[…, c, …] · [i_b[k] = c], the gradient ḡ · one_hot as for labels
    xs, ks = tuple(e.inputs[0].shape), tuple(e.inputs[1].shape)
    n, pre, post = xs[ax], xs[:ax], xs[ax + 1:]
    nk, rest = len(ks), pre + post
    xm = A.permute(g, x, (0, ax + 1) + tuple(j + 1 for j in range(len(xs)) if j != ax))   # (B, n, *rest)
    full = (B,) + ks + (n,) + rest
    xm = A.expand(g, A.reshape(g, xm, (B,) + (1,) * nk + (n,) + rest), full)
    oh = A.one_hot(g, i, n, nk + 1)                                                     # (B, *k, n)
    oh = A.expand(g, A.reshape(g, oh, (B,) + ks + (n,) + (1,) * len(rest)), full)
    picked = A.rsum(g, R.ewise(g, ph(0) * ph(1), xm, oh, shape=full), (nk + 1,))
    picked = A.reshape(g, picked, (B,) + ks + rest)                                     # (B, *k, *pre, *post)
    # per example the result is pre + k + post
    order = tuple(range(1 + nk, 1 + nk + len(pre))) + tuple(range(1, 1 + nk)) \
        + tuple(range(1 + nk + len(pre), 1 + nk + len(rest)))
    return A.permute(g, picked, (0,) + order)


def _scatter_add(b: Batched, e, ins):
    (ct, _), (i, bi) = ins
    if bi:
        raise refusal("scatter_add", why=" at indices that differ from example to example")
    ax, n = e.params
    return A.scatter_add(b.g, ct, i, ax + 1, n)


def _bmatmul(b: Batched, e, ins):
    (x, bx), (y, by) = ins
    return A.bmatmul(b.g, b.lifted(x, bx), b.lifted(y, by))


def _conv(b: Batched, e, ins):
    g, B = b.g, b.B
    (x, bx), (w, bw) = ins
    if bw:
        raise refusal("conv", why=" when the kernel depends on the example's inputs (a kernel per "
                                  "example)")
    xs = tuple(e.inputs[0].shape)           # (N, C, *S) per example: the batch folds into N
    out = CR.conv(g, A.reshape(g, x, (B * xs[0],) + xs[1:]), w, *e.params)
    return A.reshape(g, out, (B,) + tuple(e.out.shape))


def _axes_rule(make):
    return lambda b, e, ins: make(b.g, ins[0][0], e)


RULES = {
    "ewise": _ewise,
    "matmul": _matmul,
    "transpose": lambda b, e, ins: b.swap_last(ins[0][0]),
    "sum": _sum,
    "broadcast": _broadcast,
    "reshape": _axes_rule(lambda g, x, e: A.reshape(g, x, (x.shape[0],) + tuple(e.params[0]))),
    "permute": _axes_rule(lambda g, x, e: A.permute(g, x, (0,) + _shift(e.params[0]))),
    "expand": _axes_rule(lambda g, x, e: A.expand(g, x, (x.shape[0],) + tuple(e.params[0]))),
    "rsum": _axes_rule(lambda g, x, e: A.rsum(g, x, _shift(e.params[0]))),
    "rmax": _axes_rule(lambda g, x, e: A.rmax(g, x, e.params[0] + 1)),
    "argmax": _axes_rule(lambda g, x, e: A.argmax(g, x, e.params[0] + 1)),
    "lse": _axes_rule(lambda g, x, e: A.lse(g, x, e.params[0] + 1)),
    "one_hot": _axes_rule(lambda g, x, e: A.one_hot(g, x, e.params[0], e.params[1] + 1)),
    "slice": _axes_rule(lambda g, x, e: A.slice_(g, x, ((0, x.shape[0], 1),) + tuple(e.params[0]))),
    "pad": _axes_rule(lambda g, x, e: A.pad(g, x, (x.shape[0],) + tuple(e.params[0]),
                                            ((sp.S.Zero, x.shape[0], sp.S.One),) + tuple(e.params[1]))),
    "concat": _concat,
    "take": _take,
    "scatter_add": _scatter_add,
    "bmatmul": _bmatmul,
    "conv": _conv,
    "flip": _axes_rule(lambda g, x, e: CR.flip(g, x, _shift(e.params[0]))),
    "windows": _axes_rule(lambda g, x, e: CR.windows(g, x, *e.params)),
    # a triangle of the last two axes: the batch axis in front changes nothing
    "tril": _axes_rule(lambda g, x, e: TR.tri(g, x, e.params[0], False)),
    "triu": _axes_rule(lambda g, x, e: TR.tri(g, x, e.params[0], True)),
    "fold": _axes_rule(lambda g, x, e: CR.fold(g, x, (x.shape[0],) + tuple(e.params[0]), *e.params[1:])),
}


__all__ = ["Lift", "Batched", "RULES", "batch_size", "batched_input", "refusal"]
