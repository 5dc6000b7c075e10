"""Tensor declarations for the kernel backends: one example's tensor program in the matrix language.

The Triton backend (``codegen/kernel_schedule.py``, ``KernelScheduler``) schedules the per-example IR of
the matrix language: vectors are columns (n, 1), a layer is ``matmul(W, x)`` or ``matmul(xᵀ, W)``
with a parameter W, a class label is ``gather(z, k)``, a softmax's normaliser ``logsumexp(z)``; it
batches that IR itself, a block of examples per program. A tensor declaration (``sg.tensor``,
NumPy semantics: ``x @ W + b``, ``sg.cross_entropy(s, y)`` with an integer label) lowers to the
array primitives instead (1-D vectors, ``reshape``, ``rsum``, ``lse[axis]``, ``one_hot``). `AsColumns`
rewrites one example's forward graph of tensors, before differentiation, into that form:

    a vector (n,)                 the column (n, 1); (1,) and () are one number per example
    x.reshape(1, n), .reshape(n)  a transpose of the column (a view), or nothing
    x @ W  (row (1, k) @ (k, n))  matmul(xᵀ, W): the scheduler's "yᵀ·W" form (its accumulator reads Wᵀ)
    W @ x  ((m, k) @ (k, 1))      matmul(W, x) as it is
    Σ / rsum over a vector        sum[None]; lse over a vector: logsumexp
    Σ_c z_c · one_hot(y)_c        gather(z, y): the label checked on the device, as for MatrixSymbols
    one_hot(y) elsewhere          [c = y] for c = 0 … n − 1 (an elementwise KroneckerDelta)

Teaching the scheduler the 1-D forms instead would mean a second set of layouts in every one of its
passes (and in the kernel printer) for the same kernels; a rewrite of the forward graph keeps one
scheduler, and reverse mode then runs on the rewritten graph, so the gradients come out in the
matrix form the scheduler already sums over the batch (δ·yᵀ). The parameters keep their declared
shapes at the API: a (16,) bias is a (16, 1) column here, the same 16 numbers in memory.

    max over a vector             gather(z, argmax_entry(z)): z at its first arg-max (the subgradient policy)
    E[k], sg.embedding(E, k)      take_row(E, k): row k of the parameter E at an example's integer index
    E[ids].sum(axis=0), ids (L,)  Σ_i take_row(E, ids[i]): a bag, its rows one per entry of the ids' row
    h[a:b:c], sg.concat([h, g])   S·h, Σ P_i·h_i with constant 0/1 matrices (of a value computed per example;
                                  a slice of an input is loaded from its row); h[a] gather(h, a)
    W1[:4], sg.concat([W, V]) ... of the parameters alone: kept as declared (slice, concat, reshape ...),
                                  computed by torch on the host (the scheduler's ``host`` values)

What has no such form (a matrix per example, take at a computed index, convolution)
is an `UnsupportedError` naming the construct in the declaration's words. A declaration over the batch
(a symbolic N) is first unbatched into one example's program (`symgrad.compiling.unbatch`).

>>> import sympy as sp, symgrad as sg
>>> from symgrad.compiling.compiler import specify
>>> x, y = sg.tensor("x", (3,)), sg.tensor("y", (), integer=True)
>>> W, b = sg.tensor("W", (3, 2)), sg.tensor("b", (2,))
>>> spec = specify(sg.cross_entropy(x @ W + b, y), [W, b], [x, y], target="triton")
>>> sorted({e.prim.name for e in spec.train.graph.ancestors([spec.train.loss])})
['ewise', 'gather', 'input', 'logsumexp', 'matmul', 'param', 'transpose']
"""
from __future__ import annotations

import dataclasses

import sympy as sp

from ..core import array_rules as A
from ..core import rules as R
from ..core.ir import Graph, Var, format_shape
from ..errors import UnsupportedError
from . import kernel_conv, kernel_pixels, kernel_resize
from .batch_kind import USER_TERMS

ph = R.ph
MAX_BAG = 64            # indices per example of a bag E[ids] (each a row load and a scatter-add)
TARGET = "the kernel backends (target='triton')"


def column_shape(shape, what: str = "") -> tuple:
    """The matrix language's shape of a per-example tensor's: () and (1,) a scalar, (n,) a column."""
    dims = tuple(int(d) for d in shape)
    if all(d == 1 for d in dims):       # (), (1,), and (1, 1, 1): a map's mean with keepdims, one number
        return () if len(dims) != 2 else dims
    if len(dims) == 0 or dims == (1,):
        return ()
    if len(dims) == 1:
        return (dims[0], 1)
    if len(dims) == 2:
        return dims
    raise UnsupportedError(f"{what or 'a value'} has {len(dims)} axes {format_shape(dims)} per example; {TARGET} "
                           f"take per-example vectors and parameter matrices (dense layers); compile it with "
                           f"target='numpy'")


_TERMS = {"ewise": "an elementwise operation", "matmul": "a matrix product (@)", "transpose": "a transpose (.T)",
          "sum": "a sum (sg.sum)", "const": "a constant array",
          # sg.index_add, x.scatter_add and zeros_like(x).index_add(...) lower to it, as does E[ids]'s gradient
          "scatter_add": "sg.index_add / x.scatter_add (rows added at integer indices, a graph layer's messages "
                         "summed into its nodes; or the gradient of take / embedding)"}


def refusal(name: str, where: str = "", kind: str = "per example") -> UnsupportedError:
    """The error for a construct with no kernel form, in the declaration's words (``kind``: of the
    declaration, "per example" or "over the batch")."""
    what = _TERMS.get(name) or USER_TERMS.get(name, f"the operation {name!r}")
    decl = "in this per-example declaration" if kind == "per example" else \
        "in this declaration over the batch (a symbolic size)"
    return UnsupportedError(f"{TARGET} cannot run {what}{where} {decl}; they take dense layers (x @ W + b, W @ x + b), "
                            f"elementwise functions, sums, means and maxima over a vector, softmax / cross_entropy "
                            f"over a vector, integer class labels, embeddings (E[ids], a bag E[ids].sum(axis=0)), "
                            f"slices and concatenations of an example's vectors (h[:4], sg.concat([h1, h2])), and "
                            f"slices, transposes and concatenations of the parameters alone (W[:4], "
                            f"sg.concat([W, V])); compile it with "
                            f"target='numpy'")


def user_words(src: Graph, notes: dict, e, depth: int = 4) -> str | None:
    """The subexpression of the declaration that equation ``e`` of ``src`` was lowered from, as
    `` `x @ W` ``: its own note, else that of the nearest equation reading it (a reshape or a sum
    that the lowering made on the way has none), at most ``depth`` readers away; None if none."""
    frontier = [e]
    for _ in range(depth):
        for u in frontier:
            note = notes.get(u.out.id, "")
            if note.startswith("= "):
                return f"`{note[2:]}`"
        ids = {u.out.id for u in frontier}
        frontier = [u for u in src.eqns[min(ids) + 1:] if any(i.id in ids for i in u.inputs)][:4]
        if not frontier:
            break
    return None


def as_columns(lw, kind: str = "per example"):
    """The `backends.Lowered` ``lw`` (one example's tensor program, before differentiation) with its
    graph in the matrix language's form (`compiler._lower`'s ``lift``); ``kind``: of the declaration
    (named in errors), "per example" or "over the batch" (unbatched first)."""
    return AsColumns(lw.graph, lw.notes, kind)(lw)


class AsColumns:
    """The rewrite of one example's forward graph ``src`` (see the module docstring): ``env`` maps
    each variable of ``src`` to its value in the new graph ``g``."""

    def __init__(self, src: Graph, notes: dict, kind: str = "per example"):
        self.src, self.notes, self.kind = src, notes, kind
        self.g = Graph(src.policy)
        self.env: dict[int, Var] = {}
        self.batched: set = set()       # the variables that depend on an input (differ by example)
        self.bags: dict[int, list] = {}  # a matrix per example (E[ids], an input (L, D)): its rows, columns
        self.grids: dict = {}            # an image input and what a convolution makes of it (`kernel_conv`)
        self.new_notes: dict = {}        # notes of values the rewrite makes ("= V[3::9]"), by their id in g
        self.selections: dict = {}       # (C, KH, KW, i, j) -> a map's windows' 0/1 matrix E_ij (`kernel_conv`)
        self.deferred: set = set()       # values of the parameters alone of 3 or more axes (a conv's bias
        #                                  b.reshape(F, 1, 1)): no column form; `kernel_conv` reads them
        self.constant: set = set()       # values of constants alone (sg.interpolate's resize weights)
        self.channel_masks: set = set()  # dropout2d/3d masks (F, 1, 1): a column per example (`kernel_conv`)
        self.kernel_views: dict = {}     # a transposed convolution's flip and permute of its kernel -> their
        #                                  value (None, and the kernel's matrix: `kernel_conv.transposed_kernel`)

    # what `kernel_conv` (which this module imports) reads of this one, so that it imports nothing back
    @staticmethod
    def column_shape(shape) -> tuple:
        return column_shape(shape)

    @staticmethod
    def term(name: str) -> str:
        """The user's words for the primitive ``name`` ("a transpose (.T)", "sg.tril (a causal mask)")."""
        return _TERMS.get(name) or USER_TERMS.get(name, f"the operation {name!r}")

    def user_words(self, e) -> str | None:
        return user_words(self.src, self.notes, e)

    def __call__(self, lw):
        """The `backends.Lowered` ``lw`` with its graph rewritten (`compiler._lower`'s ``lift``)."""
        for vid, shape, _ in lw.masks:   # a dropout mask: a leaf of one example's shape, drawn in the kernels
            if self.broadcast_mask(vid, shape) and not self.channel_mask_of_maps(vid, shape):
                raise UnsupportedError(f"{TARGET} cannot draw a channel dropout mask (sg.dropout1d / dropout2d / "
                                       f"dropout3d: one draw per example and channel, shared by the channel's "
                                       f"positions, {format_shape(shape)} per example) here: they draw one for "
                                       f"a convolution's output (dropout2d / dropout3d of conv2d's maps) only; "
                                       f"else drop out entries with sg.dropout "
                                       f"(after the flatten: sg.dropout(h.reshape(N, -1), p)); for sg.dropout1d "
                                       f"of a conv1d's signal, declare the signal as an image of height 1 "
                                       f"(N, C, 1, L), convolve it with sg.conv2d and drop its channels with "
                                       f"sg.dropout2d; or compile it with target='numpy'")
            if vid not in self.channel_masks and (len(shape) >= 3 or len(shape) == 2 and 1 not in shape):
                raise UnsupportedError(f"{TARGET} draw dropout masks of an example's vector or number; this one is "
                                       f"a matrix per example {tuple(shape)} (sg.dropout of a MatrixSymbol, or of a "
                                       f"convolution's output): drop out a vector of it (after the flatten and a "
                                       f"dense layer), or compile it with target='numpy'")
        roots = [lw.loss] + list(lw.outputs)
        roots += [self.src.producer[i].out for i in list(lw.params) + list(lw.inputs) if i is not None]
        self.run(roots)
        for o in lw.outputs:        # a flattened map returned (a decoder's image): gathered into one column
            flat = self.grids.get(o.id)
            if isinstance(flat, kernel_conv.Flat) and all(r is not None for r in flat.grid.rows.values()) and \
                    [d for d in (int(x) for x in o.shape) if d != 1] == [flat.grid.F * len(flat.grid.keys())]:
                self.env[o.id] = self.as_shape(kernel_resize.gathered(self, flat, self.src.producer[o.id]),
                                               self.column_shape(o.shape), self.src.producer[o.id])
                del self.grids[o.id]
        if any(o.id in self.grids for o in lw.outputs):
            raise UnsupportedError(f"{TARGET} cannot return the input image or a convolution's output (kept as its "
                                   f"rows, one per output position) as an output; return a vector of it: its "
                                   f"flattened form h.reshape(N, -1) (NumPy's order, channel by channel), or a dense "
                                   f"layer of that, or compile it with target='numpy'")
        if any(o.id in self.bags for o in lw.outputs):
            raise UnsupportedError(f"{TARGET} cannot return a matrix per example (a bag E[ids] of several indices "
                                   f"per example, an input (L, D), or a value of their rows) as an output; return a "
                                   f"vector of it (its sum or max over an axis, E[ids].sum(axis=0), or "
                                   f".reshape(L * D)), or compile it with target='numpy'")
        notes = dict(self.new_notes)
        for vid, text in lw.notes.items():
            v = self.env.get(vid)
            if v is not None and not self.g.producer[v.id].prim.leaf:
                notes.setdefault(v.id, text)
        ids = lambda vs: [self.env[i].id if i is not None else None for i in vs]   # noqa: E731
        return dataclasses.replace(lw, graph=self.g, loss=self.env[lw.loss.id], notes=notes,
                                   outputs=[self.env[o.id] for o in lw.outputs],
                                   params=ids(lw.params), inputs=ids(lw.inputs),
                                   masks=[(self.env[vid].id, tuple(self.env[vid].shape) if vid in self.channel_masks
                                           else shape, p) for vid, shape, p in lw.masks if vid in self.env])

    def run(self, roots) -> None:
        for e in self.src.ancestors(roots):
            if e.prim is R.input_p or any(u.id in self.batched for u in e.inputs):
                self.batched.add(e.out.id)
            if e.prim is R.const_p or not e.prim.leaf and e.inputs and all(u.id in self.constant for u in e.inputs):
                self.constant.add(e.out.id)
            self.env[e.out.id] = self._eqn(e)

    def channel_mask_of_maps(self, vid: int, shape) -> bool:
        """Whether ``vid`` is a channel mask (F, 1, …, 1) of 3 or more axes (dropout2d / dropout3d),
        which the convolution's rows (one column (F, 1) per position) read as a column per filter
        (`kernel_conv._channel_column`); noted in ``channel_masks``."""
        dims = tuple(int(d) for d in shape)
        if len(dims) < 3 or any(d != 1 for d in dims[1:]):
            return False
        spread = {u.out.id for u in self.src.eqns if any(i.id == vid for i in u.inputs)} | {vid}
        for u in self.src.eqns:     # the product y ⊙ M: y is not the input image itself
            if any(i.id in spread for i in u.inputs) and u.prim.name == "ewise" and \
                    any(self.src.producer[i.id].prim.leaf for i in u.inputs if i.id not in spread):
                return False
        self.channel_masks.add(vid)
        return True

    def broadcast_mask(self, vid: int, shape) -> bool:
        """Whether the dropout mask ``vid`` is read broadcast to a larger shape (channel dropout's
        (C, 1, 1) over an example's (C, H, W)); sg.dropout's masks have their value's shape."""
        return any(u.out.shape != tuple(shape) and u.prim.name == "expand" for u in self.src.eqns
                   if any(i.id == vid for i in u.inputs))

    def where(self, e) -> str:
        """`` (in `x @ W`)``: the subexpression equation ``e`` (or a reader) was lowered from."""
        text = user_words(self.src, self.notes, e)
        return f" (in {text})" if text else ""

    # -- the rules --------------------------------------------------------------------------------
    def _eqn(self, e) -> Var:
        g, p = self.g, e.prim
        if e.out.id in self.kernel_views:
            return self.kernel_views[e.out.id]
        if e.out.id in self.channel_masks:
            # dropout2d/3d of a convolution's maps: its mask (F, 1, 1) drawn as one example's column (F, 1)
            sym, shape = e.params
            return g.bind(p, (), (sym, (int(shape[0]), 1)))
        if p.name in ("expand", "broadcast") and e.inputs[0].id in self.channel_masks:
            return self.env[e.inputs[0].id]     # (a stand-in: the maps' product reads the mask's column)
        if p is R.input_p and len(e.out.shape) >= 3:
            # an image (C, H, W) per example: its entries in a column, read by a convolution (`kernel_conv`)
            sym, shape = e.params
            x = g.bind(p, (), (sym, (int(sp.Mul(*shape)), 1)))
            self.grids[e.out.id] = kernel_conv.Image(x)
            return x
        if p is R.param_p and len(e.out.shape) >= 3:
            # a convolution's kernel (F, C, KH, KW): the matrix W_mat (F, C·KH·KW), the same numbers in memory
            sym, shape = e.params
            other = self._not_as_kernel(e)
            if other is not None and other.prim.name == "flip":
                m = kernel_conv.transposed_kernel(self, e)      # sg.conv_transpose2d's kernel, or None
                if m is not None:
                    return m
            if other is not None:
                grouped = " (a grouped convolution reads slices of it)" if other.prim.name == "slice" else \
                    (" (sg.conv_transpose2d reads its kernel flipped: they take a transposed convolution of a "
                     "convolution's map, groups=1, whose kernel nothing else reads — not a grouped one, nor one "
                     "whose kernel is tied to another convolution's or read by another term; give it a kernel "
                     "of its own, or for a learned upsampling write sg.conv2d(sg.interpolate(h, scale_factor=2), "
                     "w, padding=1))") if other.prim.name == "flip" else ""
                raise UnsupportedError(
                    f"{TARGET} take a parameter of {len(shape)} axes, such as {sym.name!r} {format_shape(shape)}, as "
                    f"the kernel of a convolution only (conv2d(x, w) of the input image or of an earlier "
                    f"convolution's map, groups=1); here it is also read{self.where(other)}{grouped}; compile it "
                    f"with target='numpy'")
            return g.bind(p, (), (sym, (int(shape[0]), int(sp.Mul(*shape[1:])))))
        if any(u.id in self.grids for u in e.inputs) or p.name == "one_hot" and e.inputs[0].id in self.bags \
                or kernel_pixels.labels_reshaped(self, e):
            return kernel_pixels.of_map(self, e)    # (a per-pixel loss's, a resize's, else `kernel_conv`'s)
        if p.name == "reshape" and e.inputs[0].id in self.batched and e.inputs[0].id not in self.bags \
                and len(e.out.shape) >= 3:
            return kernel_resize.vector_as_map(self, e)     # a vector as a map (C, H, W): its rows
        if p.name == "reshape" and e.inputs[0].id in self.batched and e.inputs[0].id not in self.bags \
                and e.inputs[0].id not in self.grids and len(e.out.shape) == 2 \
                and 1 not in (int(d) for d in e.out.shape) and int(e.out.shape[0]) <= MAX_BAG \
                and sum(int(d) != 1 for d in e.inputs[0].shape) == 1:
            return self._vector_as_rows(e)      # a vector (C·L,) as a matrix (C, L): its C rows
        if p.name in ("expand", "broadcast") and len(e.out.shape) > 2 and e.inputs[0].id in self.batched \
                and all(int(d) == 1 for d in e.inputs[0].shape):
            self.deferred.add(e.out.id)     # a number per example spread over a map (a layer norm's mean):
            return None                     # a map's elementwise reads the number (`kernel_conv`), else refused
        if e.out.id not in self.batched and not p.leaf and len(e.out.shape) > 2:
            self.deferred.add(e.out.id)         # (read by `kernel_conv`, or refused by its reader)
            return None
        if e.out.id in self.constant and not p.leaf and (p.name not in _RULES and p.name not in _OF_PARAMETERS
                                                         or any(u.id in self.deferred for u in e.inputs)):
            self.deferred.add(e.out.id)         # a constant the kernels have no form of (tril): a resize's weights,
            return None                         # which `kernel_resize` evaluates, or refused by its reader
        if p.name == "matmul" and e.inputs[0].id in self.bags and e.inputs[1].id in self.deferred:
            rows = self._rows_times_constant(e)         # a signal's linear resize: each channel's row
            if rows is not None:
                self.bags[e.out.id] = rows
                return rows[0]              # (a stand-in: readers go through `_of_bag`)
        if any(u.id in self.deferred for u in e.inputs):
            raise refusal(p.name, self.where(e), self.kind)
        if p is R.input_p and len(e.out.shape) == 2 and 1 not in (int(d) for d in e.out.shape) \
                and int(e.out.shape[0]) <= MAX_BAG:
            # a matrix (L, D) per example: its row in memory is the L·D entries, kept as a column;
            # read as L rows (slices loaded with an offset), like a bag's
            sym, (m, n) = e.params[0], (int(d) for d in e.out.shape)
            x = g.bind(p, (), (sym, (m * n, 1)))
            self.bags[e.out.id] = [A.slice_(g, x, ((sp.Integer(i * n), sp.Integer((i + 1) * n), sp.S.One),
                                                   (sp.S.Zero, sp.S.One, sp.S.One))) for i in range(m)]
            return x
        if p is R.param_p or p is R.input_p:
            sym, shape = e.params
            return g.bind(p, (), (sym, column_shape(shape, f"the {p.name} {getattr(sym, 'name', sym)!r}")))
        if p is R.const_p:
            return self._const(e)
        if any(u.id in self.bags for u in e.inputs):
            return self._of_bag(e)
        ins = [self.env[u.id] for u in e.inputs]
        if e.out.id not in self.batched and p.name in _OF_PARAMETERS:
            try:                        # a value of the parameters alone: the column form if it has one,
                out = _RULES[p.name](self, e, ins) if p.name in _RULES else None
            except UnsupportedError:
                out = None
            return out if out is not None else self._of_parameters(e, ins)   # else as declared (the host's)
        rule = _RULES.get(p.name)
        if rule is not None and p.name != "reshape":
            # the scheduler keeps one row per example: a value that is a matrix for each example
            # (an input (3, 4), or x @ x.T) has no layout there; a reshape of one to a vector is fine
            for u in e.inputs:
                if u.id in self.batched and len(u.shape) == 2 and 1 not in (int(d) for d in u.shape):
                    rule = None
        if rule is None:
            raise refusal(p.name, self._where_matrix(e) or self.where(e), self.kind)
        out = rule(self, e, ins)
        if out is None:
            raise refusal(p.name, self.where(e), self.kind)
        return out

    def _rows_times_constant(self, e):
        """The rows of a matrix per example (a bag: a signal's C channels of L entries) times a
        constant matrix the kernels have no form of (sg.interpolate(mode='linear')'s weights (L,
        L_out), made with tril): its value, evaluated once, as a constant operand of each row's
        product; None when it is not one constant matrix."""
        from .kernel_resize import _constant
        value = _constant(self, e.inputs[1])
        if value is None or value.ndim < 2:
            return None
        value = value.reshape((-1,) + value.shape[-2:])
        if (value != value[:1]).any():
            return None
        M = value[0]
        W = R.const(self.g, sp.ImmutableMatrix(M.shape[0], M.shape[1], lambda i, j: sp.Float(M[i, j])), M.shape)
        return [R.transpose(self.g, R.matmul(self.g, R.transpose(self.g, r), W)) for r in self.bags[e.inputs[0].id]]

    def _vector_as_rows(self, e) -> Var:
        """An example's vector (m·n,) reshaped to a matrix (m, n) (a layer's output as a signal of m
        channels, h.reshape(N, C, L), before a linear resize or a max over each channel), kept as
        its m rows: row i the entries i·n … (i + 1)·n − 1, a slice (`_slice`: loaded from an input's
        row, else S_i·h with a constant 0/1 matrix, whose adjoint S_iᵀ puts the row's gradient back)."""
        m, n = (int(d) for d in e.out.shape)
        v = self.as_shape(self.env[e.inputs[0].id], (m * n, 1), e)
        if self.src.producer[e.inputs[0].id].prim is R.input_p:
            rows = [A.slice_(self.g, v, ((sp.Integer(i * n), sp.Integer((i + 1) * n), sp.S.One),
                                         (sp.S.Zero, sp.S.One, sp.S.One))) for i in range(m)]
        else:
            rows = [self._place(v, {i * n + j: j for j in range(n)}, n) for i in range(m)]
        self.bags[e.out.id] = rows
        return v                    # (a stand-in: readers go through `_of_bag`)

    def _not_as_kernel(self, e):
        """The first reader of the parameter ``e`` that is not a convolution reading it as its kernel
        (None when there is none)."""
        readers = [u for u in self.src.eqns if any(i.id == e.out.id for i in u.inputs)]
        return next((u for u in readers if u.prim.name != "conv" or u.inputs[1].id != e.out.id
                     or u.inputs[0].id == e.out.id), None)

    def _of_parameters(self, e, ins) -> Var:
        """Equation ``e`` of the parameters alone (``W1[:4]``, ``sg.concat([W, V])``, ``W.reshape``),
        kept as declared: its operands read back in their declared shapes, its result in the column
        form. The Triton backend computes it with torch on the host before the launches (the
        scheduler's ``host`` values), and its adjoint (a pad, a slice) after the batch's sums."""
        g = self.g
        args = [v if tuple(v.shape) == tuple(u.shape) else A.reshape(g, v, tuple(u.shape))
                for u, v in zip(e.inputs, ins)]
        out = g.bind(e.prim, args, e.params)
        want = column_shape(e.out.shape, "a value of the parameters")
        return out if tuple(out.shape) == want else A.reshape(g, out, want)

    def _where_matrix(self, e) -> str:
        """`` of the (3, 4) matrix x per example``, when ``e`` reads one; else ""."""
        for u in e.inputs:
            shape = tuple(int(d) for d in u.shape)
            if u.id in self.batched and len(shape) == 2 and 1 not in shape:
                text = user_words(self.src, self.notes, self.src.producer[u.id])
                leaf = self.src.producer[u.id]
                name = f" {leaf.params[0].name!r}" if leaf.prim.leaf else (f" {text}" if text else "")
                return (f"{self.where(e)} of the {format_shape(shape)} matrix{name}, a matrix per example (the "
                        f"kernels keep one vector per example: a row of the batch)")
        return ""

    def as_shape(self, v: Var, shape, e) -> Var:
        """``v`` read in the column form ``shape`` (the same entries in the same order)."""
        g, s, t = self.g, tuple(int(d) for d in v.shape), tuple(int(d) for d in shape)
        if s == t:
            return v
        if len(s) == 2 and len(t) == 2 and s == (t[1], t[0]) and 1 in s:
            return R.transpose(g, v)                # a column read as a row: the same entries
        if s == () and t == (1, 1):
            return R.broadcast(g, v, t)
        if s == (1, 1) and t == ():
            return R.reduce_sum(g, v, None)
        raise refusal("reshape", f" of {format_shape(e.inputs[0].shape)} to {format_shape(e.out.shape)}"
                                 f"{self.where(e)}", self.kind)

    def _const(self, e) -> Var:
        value, shape = e.params
        if len(shape) >= 3:     # sg.affine_grid's pixel positions (grid_sample's) are the usual one
            raise UnsupportedError(f"{TARGET} cannot run a constant array of shape {format_shape(shape)} per "
                                   f"example (sg.grid_sample / sg.affine_grid make one: the "
                                   f"output pixels' positions); they take per-example vectors and parameter "
                                   f"matrices (dense layers); compile it with target='numpy'")
        want = column_shape(shape, "a constant")
        if not isinstance(value, (sp.MatrixBase, sp.NDimArray)) and not hasattr(value, "shape"):
            return R.const(self.g, value, want)
        try:
            flat = sp.ImmutableMatrix(sp.Array(value).reshape(*((want[0], want[1]) if want else (1, 1))).tolist())
        except (TypeError, ValueError):
            raise refusal("const", f" (the constant {str(value)[:40]})", self.kind) from None
        return R.const(self.g, flat if want else flat[0, 0], want)

    def _ewise(self, e, ins):
        S = tuple(e.params[1])
        for u in e.inputs:
            if u.shape != () and tuple(u.shape) != S:
                return None
        return R.ewise(self.g, e.params[0], *ins, shape=column_shape(S))

    def _reshape(self, e, ins):
        return self.as_shape(ins[0], column_shape(e.out.shape), e)

    def _total(self, e, ins):
        """Σ over every (non-1) axis: sum[None], or gather(z, y) for Σ_c z_c · one_hot(y)_c."""
        picked = self._gather(e)
        total = picked if picked is not None else R.reduce_sum(self.g, ins[0], None)
        return self.as_shape(total, column_shape(e.out.shape), e)

    def _gather(self, e):
        """gather(z, y) when ``e`` sums z ⊙ one_hot(y) of a vector z at a scalar label y."""
        x = e.inputs[0]
        pe = self.src.producer[x.id]
        if len(x.shape) != 1 or pe.prim is not R.ewise_p or len(pe.inputs) != 2 or pe.params[0] != ph(0) * ph(1):
            return None
        for z, oh in (pe.inputs, pe.inputs[::-1]):
            oe = self.src.producer[oh.id]
            if oe.prim is A.one_hot_p and oe.inputs[0].shape == () and oe.params[1] == 0 and len(z.shape) == 1 \
                    and int(z.shape[0]) > 1:
                return R.gather(self.g, self.env[z.id], self.env[oe.inputs[0].id])
        return None

    def _rsum(self, e, ins):
        s, axes = tuple(e.inputs[0].shape), set(e.params[0])
        if all(i in axes or int(d) == 1 for i, d in enumerate(s)):
            return self._total(e, ins)
        if len(s) == 2:
            (axis,) = axes
            return R.reduce_sum(self.g, ins[0], axis)
        return None

    def _sum(self, e, ins):
        if e.params[0] is None:
            return self._total(e, ins)
        return R.reduce_sum(self.g, ins[0], e.params[0])

    def _lse(self, e, ins):
        s, axis = tuple(e.inputs[0].shape), e.params[0]
        if any(i != axis and int(d) != 1 for i, d in enumerate(s)):
            return None             # log-sum-exp of the rows or columns of a matrix per example
        return self.as_shape(R.logsumexp(self.g, ins[0]), column_shape(e.out.shape), e)

    def _one_hot(self, e, ins):
        n, axis = int(e.params[0]), e.params[1]
        if e.inputs[0].shape != ():
            raise UnsupportedError(f"{TARGET} take one class label per example (() per example, (N,) over the "
                                   f"batch); the labels{self.where(e)} are {tuple(int(d) for d in e.inputs[0].shape)} "
                                   f"per example, a label for each row of a matrix per example (per-token or "
                                   f"per-step labels, labels broadcast over a sequence: y.expand(T)); compile it "
                                   f"with target='numpy'")
        if axis != 0:
            return None
        iota = R.const(self.g, sp.ImmutableMatrix(n, 1, lambda i, j: i), (n, 1))
        return R.ewise(self.g, sp.KroneckerDelta(ph(0), ph(1)), ins[0], iota, shape=(n, 1))

    def _vector(self, e, ins):
        """The column (n, 1) of the operand of a reduction over ``e.params[0]``: ``e`` reads a
        vector (n,), or a (n, 1) / (1, n) with the axis along n; None for a matrix or another axis."""
        s, axis = tuple(int(d) for d in e.inputs[0].shape), e.params[0]
        if any(d != 1 for i, d in enumerate(s) if i != axis):
            return None
        v = ins[0]
        if v.shape == ():
            return v
        return v if int(v.shape[1]) == 1 else R.transpose(self.g, v)

    def _rmax(self, e, ins):
        """max over a vector = z[argmax z]: gather's VJP ḡ·e_k is the first arg-max's (the policy)."""
        z = self._vector(e, ins)
        if z is None:
            return None
        top = z if z.shape == () or int(z.shape[0]) == 1 else R.gather(self.g, z, R.argmax_entry(self.g, z))
        return self.as_shape(top if top.shape == () else R.reduce_sum(self.g, top, None),
                             column_shape(e.out.shape), e)

    def _argmax(self, e, ins):
        z = self._vector(e, ins)
        if z is None or z.shape == () or int(z.shape[0]) == 1:
            return None if z is None else R.const(self.g, 0, column_shape(e.out.shape))
        return self.as_shape(R.argmax_entry(self.g, z), column_shape(e.out.shape), e)

    def _take(self, e, ins):
        """E[k] of a parameter matrix E at an example's integer index k: take_row, a row read at k
        (its VJP e_k·ḡᵀ is the kernels' scatter-add of ḡ into row k)."""
        E, k = e.inputs
        if e.params[0] == 0 and len(E.shape) == 2 and E.id not in self.batched and k.id in self.batched \
                and len(k.shape) == 1 and int(k.shape[0]) <= MAX_BAG:
            # a bag: the rows E[k_0], …, E[k_{L−1}], each a take_row at one entry of the example's
            # ids; only a sum (or mean) over them, or an elementwise function of them, reads it
            self.bags[e.out.id] = [R.take_row(self.g, ins[0], self._entry(ins[1], i)) for i in range(int(k.shape[0]))]
            return ins[1]               # (a stand-in: `_of_bag` reads the rows)
        if e.params[0] == 0 and len(E.shape) == 2 and E.id not in self.batched and k.id in self.batched \
                and k.shape != ():
            raise UnsupportedError(
                f"{TARGET} cannot run an embedding of several indices per example{self.where(e)} (the indices "
                f"{tuple(int(d) for d in k.shape)} of each example make a {format_shape(e.out.shape)} matrix per example); "
                f"they take one index per example, or a bag of at most {MAX_BAG} indices summed or averaged over "
                f"(E[ids].sum(axis=0) with ids of shape (L,) per example, (N, L) over the batch); compile it "
                f"with target='numpy'")
        if e.params[0] != 0 or k.shape != () or len(E.shape) != 2 or E.id in self.batched:
            return None
        return R.take_row(self.g, ins[0], ins[1])

    def _entry(self, v: Var, i: int) -> Var:
        """Entry ``i`` of the column ``v`` (an example's ids), one number per example: the kernels
        load it from the input's row at offset i."""
        one = A.slice_(self.g, v, ((sp.Integer(i), sp.Integer(i + 1), sp.S.One), (sp.S.Zero, sp.S.One, sp.S.One)))
        return R.reduce_sum(self.g, one, None)

    def _of_bag(self, e) -> Var:
        """Equation ``e`` reading a matrix per example kept as its rows (a bag E[ids], `_take`; an
        input (L, D), `_eqn`), each a column (D, 1):

            Σ / mean / max over axis 0     the rows' sum (one column); their max entry by entry, the
                                           first row that attains it taking the gradient (the policy)
            Σ / max / lse over axis 1      one number per row, placed in a column (L, 1)
            f(rows, …) elementwise         f of each row (with per-example numbers, constants, a
                                           vector of the parameters broadcast over the rows: a bias,
                                           and the rows of an (L, D) parameter or slice P[:L]: positions)
            rows @ W                       each row times W (a layer applied to every row)
            .reshape(L·D)                  the rows one after the other (a concatenation)

        Anything else is refused, naming the subexpression."""
        p, g = e.prim, self.g
        bag = next(self.bags[u.id] for u in e.inputs if u.id in self.bags)
        src_shape = next(tuple(int(d) for d in u.shape) for u in e.inputs if u.id in self.bags)
        rows = None
        if p.name == "ewise":
            args = [self._bag_operand(u, len(bag)) for u in e.inputs]
            if all(a is not None for a in args):
                rows = [R.ewise(g, e.params[0], *[a[i] for a in args], shape=tuple(bag[i].shape))
                        for i in range(len(bag))]
        elif p.name == "matmul" and e.inputs[0].id in self.bags and e.inputs[1].id not in self.batched \
                and len(e.inputs[1].shape) == 2:
            W = self.env[e.inputs[1].id]
            rows = [R.transpose(g, R.matmul(g, R.transpose(g, r), W)) for r in bag]
        if rows is not None:
            self.bags[e.out.id] = rows
            return rows[0]              # (a stand-in: readers go through `_of_bag`)
        axes = set(e.params[0]) if p.name == "rsum" else {e.params[0]} if p.name in ("rmax", "lse") else None
        if p.name == "sum" and e.params[0] is None or p.name == "rsum" and axes == {0, 1}:    # Σ of every entry
            out = R.ewise(g, sp.Add(*[ph(i) for i in range(len(bag))]), *bag, shape=tuple(bag[0].shape))
            return self.as_shape(R.reduce_sum(g, out, None), column_shape(e.out.shape), e)
        if axes == {0} and p.name in ("rsum", "rmax"):
            if p.name == "rsum":
                out = R.ewise(g, sp.Add(*[ph(i) for i in range(len(bag))]), *bag, shape=tuple(bag[0].shape))
            else:   # strictly greater replaces: ties keep the earlier row (the first arg-max)
                out = bag[0]
                for r in bag[1:]:
                    out = R.ewise(g, sp.Piecewise((ph(1), ph(1) > ph(0)), (ph(0), True)), out, r,
                                  shape=tuple(r.shape))
            return self.as_shape(out, column_shape(e.out.shape), e)
        if axes == {1} and p.name in ("rsum", "rmax", "lse"):
            per_row = []
            for r in bag:
                if p.name == "rsum":
                    per_row.append(R.reduce_sum(g, r, None))
                elif p.name == "lse":
                    per_row.append(R.logsumexp(g, r))
                else:
                    per_row.append(R.gather(g, r, R.argmax_entry(g, r)))
            out = self._concat_rows(per_row, [1] * len(per_row))
            return self.as_shape(out, column_shape(e.out.shape), e)
        if p.name == "reshape" and sum(int(d) != 1 for d in e.out.shape) == 1:
            src = self.src.producer[e.inputs[0].id]
            # (an input's row is the rows already; rows of one entry, rows @ w of a vector w, are numbers)
            flat = self.env[src.out.id] if src.prim is R.input_p else self._concat_rows(
                [self.as_shape(r, (), e) if tuple(int(d) for d in r.shape) == (1, 1) else r for r in bag],
                [src_shape[1]] * len(bag))
            return self.as_shape(flat, column_shape(e.out.shape), e)
        where = self.where(e)
        raise UnsupportedError(
            f"{TARGET} cannot run {_TERMS.get(p.name) or USER_TERMS.get(p.name, repr(p.name))}{where} on a "
            f"matrix per example (a bag E[ids] of several indices per example, or an input (L, D)), which they "
            f"keep as its L rows; they take its sum, mean or max over either axis (E[ids].sum(axis=0), "
            f".mean(axis=0), .max(axis=0); axis=1 of (N, L) over the batch), elementwise functions of it (with "
            f"a bias, or with a parameter of its shape: positions P[sg.arange(L)]), a layer applied to every "
            f"row (E[ids] @ W), and .reshape to a vector; compile it with target='numpy'")

    def _bag_operand(self, u, n: int):
        """Operand ``u`` of an elementwise equation on a matrix kept as rows: its n rows (a bag, a
        number repeated, a parameter vector broadcast over the rows), or None."""
        if u.id in self.bags:
            return self.bags[u.id]
        if u.shape == ():
            return [self.env[u.id]] * n
        rows = None if u.id in self.batched else self._parameter_rows(u, n)
        if rows is not None:
            return rows
        v = u
        while self.src.producer[v.id].prim.name in ("expand", "broadcast", "reshape") \
                and sum(int(d) != 1 for d in v.shape) > 1:
            v = self.src.producer[v.id].inputs[0]
        if n > 1 and len(v.shape) == 2 and int(v.shape[0]) == n and int(v.shape[1]) == 1 and v.id not in self.bags:
            # a column (L, 1) broadcast over the rows (L, D): a number per row (a per-channel scale or
            # bias g (C, 1) of a signal (C, L), a row's mean z.mean(axis=1, keepdims=True))
            return self._numbers_per_row(v, n)
        if u.id in self.batched:
            return None
        if sum(int(d) != 1 for d in v.shape) > 1 or len(v.shape) == 2 and int(v.shape[0]) != 1:
            return None
        w = self.env[v.id]
        if w.shape != () and int(w.shape[1]) != 1:
            w = R.transpose(self.g, w)
        return [w] * n

    def _numbers_per_row(self, v, n: int) -> list:
        """The n entries of the column ``v`` (n, 1), one number per row of a matrix kept as rows: of a
        value computed per example, a gather at the constant i (its VJP ḡ·e_i); of the parameters
        alone, `_entries`."""
        if v.id in self.batched:
            g, col = self.g, self.as_shape(self.env[v.id], (n, 1), self.src.producer[v.id])
            return [R.gather(g, col, R.const(g, i, ())) for i in range(n)]
        out = self._entries(v, n)
        if out is None:
            raise UnsupportedError(
                f"{TARGET} cannot read {self.user_words(self.src.producer[v.id]) or 'a column of the parameters'} "
                f"{format_shape(v.shape)} as one number per row of a matrix per example: they take a parameter "
                f"column (C, 1), a column of a parameter matrix (M[:, j:j + 1]) and elementwise functions of "
                f"those (sg.exp(g)); compile it with target='numpy'")
        return out

    def _entries(self, v, n: int):
        """Entry i of ``v``, a value of the parameters alone with n entries, for each i, as numbers the
        kernels read: the slice P[i] of a parameter (or of a column of one, M[:, j:j + 1]), whose
        adjoint is a pad into ∂L/∂P; an elementwise function of such values, the same function of their
        entries i; None for anything else."""
        g, e = self.g, self.src.producer[v.id]
        if sum(int(d) != 1 for d in v.shape) > 1:
            return None
        if e.prim is R.param_p or e.prim.name == "slice" and self.src.producer[e.inputs[0].id].prim is R.param_p \
                and len(e.inputs[0].shape) == 2 and all(c == 1 for _, _, c in e.params[0]):
            first, at, P = 0, 0, self.env[v.id]
            if e.prim.name == "slice":          # a column of a parameter matrix: read from the matrix itself
                (first, _, _), (at, _, _) = e.params[0]
                P = self.env[e.inputs[0].id]
            elif int(P.shape[0]) != n:          # (a row (1, n) of the parameter: its entries along axis 1)
                return [A.reshape(g, A.slice_(g, P, ((sp.S.Zero, sp.S.One, sp.S.One),
                                                     (sp.Integer(i), sp.Integer(i + 1), sp.S.One))), ())
                        for i in range(n)]
            return [A.reshape(g, A.slice_(g, P, ((sp.Integer(first + i), sp.Integer(first + i + 1), sp.S.One),
                                                 (sp.Integer(at), sp.Integer(at + 1), sp.S.One))), ())
                    for i in range(n)]
        if e.prim.name in ("reshape", "expand", "broadcast") and \
                sum(int(d) != 1 for d in e.inputs[0].shape) == 1 and int(sp.Mul(*e.inputs[0].shape)) == n:
            return self._entries(e.inputs[0], n)        # (g.reshape(C, 1) of a (C,) parameter)
        if e.prim is R.ewise_p:
            args = []
            for u in e.inputs:
                if u.shape == () or all(int(d) == 1 for d in u.shape):
                    args.append([self.as_shape(self.env[u.id], (), e)] * n)
                else:
                    args.append(self._entries(u, n))
                    if args[-1] is None:
                        return None
            return [R.ewise(g, e.params[0], *[a[i] for a in args], shape=()) for i in range(n)]
        return None

    def _parameter_rows(self, u, n: int):
        """The n rows of ``u``, an (n, D) parameter or a slice of a parameter's rows (P[:n], which
        P[sg.arange(n)] is: position embeddings added to the tokens' E[ids]), as columns (D, 1):
        row i is the slice P[a + i], read as ``x + P[2]`` reads one (its adjoint a pad into ∂L/∂P);
        None for anything else."""
        dims = tuple(int(d) for d in u.shape)
        if len(dims) != 2 or dims[0] != n or 1 in dims:
            return None
        e, first = self.src.producer[u.id], 0
        if e.prim.name == "slice":
            (a, b, c), (a1, b1, c1) = e.params[0]
            whole = self.src.producer[e.inputs[0].id]
            if not (c == 1 and a1 == 0 and c1 == 1 and int(b1) == dims[1] and whole.prim is R.param_p):
                return None
            e, first = whole, int(a)
        if e.prim is not R.param_p:
            return None
        P, g = self.env[e.out.id], self.g
        return [R.transpose(g, A.slice_(g, P, ((sp.Integer(first + i), sp.Integer(first + i + 1), sp.S.One),
                                                (sp.S.Zero, sp.Integer(dims[1]), sp.S.One)))) for i in range(n)]

    def _concat_rows(self, parts, sizes) -> Var:
        """The column of ``parts`` (columns, or numbers) one after the other (`_place`)."""
        n, at, out = sum(sizes), 0, []
        for v, m in zip(parts, sizes):
            out.append(self._place(v, {j: at + j for j in range(m)}, n))
            at += m
        return R.ewise(self.g, sp.Add(*[ph(i) for i in range(len(out))]), *out, shape=(n, 1))

    def _slice(self, e, ins):
        """x[a:b:c] of an example's vector: the column's entries a, a + c, …. Of an input, the
        kernels load them from the input's row (`KernelScheduler`); of a value computed per example,
        it is S·h with the constant 0/1 matrix S_ij = [j = a + c·i] (`_place`), one entry h[a] a
        gather at the constant a."""
        items, v = tuple(e.params[0]), ins[0]
        if len(items) != 1 or v.shape == () or int(v.shape[1]) != 1:
            return None
        (a, b, c), = items
        if self.src.producer[e.inputs[0].id].prim is not R.input_p and e.inputs[0].id in self.batched:
            picks = list(range(int(a), int(b), int(c)))
            if len(picks) == 1:
                out = R.gather(self.g, v, R.const(self.g, picks[0], ()))
            else:
                out = self._place(v, {j: i for i, j in enumerate(picks)}, len(picks))
            return self.as_shape(out, column_shape(e.out.shape), e)
        return self.as_shape(A.slice_(self.g, v, ((a, b, c), (sp.S.Zero, sp.S.One, sp.S.One))),
                             column_shape(e.out.shape), e)

    def _place(self, v: Var, rows: dict, n: int) -> Var:
        """The column (n, 1) whose row rows[j] is v's entry j (other rows 0): S·v, S the constant 0/1
        matrix S_ij = [rows[j] = i], a product the kernels run as a layer's (in "ieee" precision
        whatever the program's: exact, each entry is one v_j times 1). A slice v[a::c]: rows
        {a + c·i: i}; a concatenation's operand: {j: its offset + j}."""
        if v.shape == ():           # one number per example: placed at its row by an elementwise select
            iota = R.const(self.g, sp.ImmutableMatrix(n, 1, lambda i, j: i), (n, 1))
            return R.ewise(self.g, sp.Piecewise((ph(0), sp.Eq(ph(1), rows[0])), (0, True)), v, iota, shape=(n, 1))
        S = sp.ImmutableMatrix(n, int(v.shape[0]), lambda i, j: 1 if rows.get(int(j)) == i else 0)
        return R.matmul(self.g, R.const(self.g, S, tuple(S.shape)), v)

    def _concat(self, e, ins):
        """sg.concat([h1, h2, …]) of an example's vectors (or numbers): Σ_i P_i·h_i, P_i the 0/1
        matrix that puts h_i at its offset in the whole (`_place`)."""
        if e.params[0] != 0 or len(e.out.shape) != 1:
            return None
        if any(v.shape != () and int(v.shape[1]) != 1 for v in ins):
            return None
        return self._concat_rows(ins, [int(u.shape[0]) if u.shape else 1 for u in e.inputs])

    def _expand(self, e, ins):
        want = column_shape(e.out.shape)
        if ins[0].shape == () or len(want) == 2 and len(ins[0].shape) == 2:
            return R.broadcast(self.g, ins[0], want)
        return None


_RULES = {
    "ewise": AsColumns._ewise,
    "matmul": lambda self, e, ins: R.matmul(self.g, *ins),
    "transpose": lambda self, e, ins: R.transpose(self.g, ins[0]),
    "reshape": AsColumns._reshape,
    "sum": AsColumns._sum,
    "rsum": AsColumns._rsum,
    "lse": AsColumns._lse,
    "one_hot": AsColumns._one_hot,
    "rmax": AsColumns._rmax,
    "take": AsColumns._take,
    "slice": AsColumns._slice,
    "concat": AsColumns._concat,
    "argmax": AsColumns._argmax,
    "broadcast": AsColumns._expand,
    "expand": AsColumns._expand,
}


# what a value of the parameters alone may be made of (computed by torch on the host; each has an
# adjoint of the same list, so a gradient through it is a host map of the batch's sums)
_OF_PARAMETERS = {"slice", "pad", "concat", "reshape", "permute", "expand", "broadcast", "rsum"}


def one_hot_labels(spec) -> dict:
    """Input name -> number of classes n, for the inputs read as ``one_hot(y, n)`` other than through
    ``gather`` (`batch_checks.label_inputs` finds those): [c = y] for c = 0 … n − 1 picks nothing for a
    label out of range, so the program checks them (integers 0 … n − 1) before a call."""
    out: dict = {}
    for lw in (spec.train, spec.eval):
        names = {vid: x.name for vid, x in zip(lw.inputs, spec.inputs) if vid is not None}
        for e in lw.graph.eqns:
            if e.prim is not R.ewise_p or len(e.inputs) != 2 or e.params[0] != sp.KroneckerDelta(ph(0), ph(1)):
                continue
            k, iota = e.inputs
            if k.id in names and k.shape == () and lw.graph.producer[iota.id].prim is R.const_p:
                n = int(iota.shape[0])
                out[names[k.id]] = min(n, out.get(names[k.id], n))
    return out
