"""Declarations over the batch, unbatched: the inverse of `symgrad.compiling.batching`'s vmap.

People write a network over the whole batch (``x = sg.tensor("x", (N, 8))``, ``sg.relu(x @ W + b)``,
``sg.cross_entropy(s, y)`` — the mean over N). The kernel backends (target "triton") compile one
example's program and batch it themselves, a block of examples per program. When every operation
of such a declaration acts row by row — N only as the leading axis of the inputs, each equation
reading the same row of its batched operands, and the only reduction over N the loss's final mean
(or sum) of per-row terms — the declaration IS a per-example one written over the batch, and
`Unbatch` recovers it, on the forward IR (before differentiation):

1. the loss's head is read as Σ_i c_i · Σ_N u_i + (terms that read no input): each u_i is a
   per-row value (its sum over N and its own axes), each c_i either k_i / N (the mean: reduction
   "mean", the per-example loss Σ_i k_i · Σ u_i) or a number (reduction "sum"); a term of the
   parameters alone (a penalty λ‖W‖²) rides along with the mean, once per example;
2. the equations below it are rewritten one by one, each tracked with the position of its batch
   axis (``env``: (value, axis) or (value, None) when the same for every example): an input (N, *s)
   is one example's (s); ``x @ W`` of rows is one row times W, ``W @ x.T`` one column; a reduction,
   a log-sum-exp or a one-hot along another axis moves its axis; a broadcast along N (a bias added
   to every row) is the value itself.

Anything else mixes rows and is refused in the declaration's words: a reduction over N below the
loss (batch norm's ``sg.mean(z, axis=0)``, "batch statistics"), a product summed over N (``x.T @ y``),
a reshape that merges N with another axis, the batch size N inside a per-row formula.

>>> import sympy as sp, symgrad as sg
>>> from symgrad.compiling.compiler import specify
>>> N = sp.Symbol("N", integer=True, positive=True)
>>> x, y, w = sg.tensor("x", (N, 3)), sg.tensor("y", (N,)), sg.tensor("w", (3,))
>>> spec = specify(sg.mean((x @ w - y) ** 2), [w], [x, y], target="triton")
>>> spec.reduction, [s.shape for s in spec.inputs]
('mean', [(3,), ()])
"""
from __future__ import annotations

import dataclasses

import sympy as sp

from ..core import array_rules as A
from ..core import conv_rules as CR
from ..core import rules as R
from ..core.ir import Graph, Var, format_shape
from ..core.placeholders import placeholders
from ..errors import UnsupportedError
from ..frontend.masks import DropoutMaskTensor
from ..frontend.tensor import Tensor, tensor
from .batch_kind import USER_TERMS
from .kernel_form import refusal, user_words

NUMPY = "use target='numpy'"
MERGED = "N·L"          # the batch axis of a (N, L, D) array merged with the next one: (N·L, D)
OVER = "over the batch"


def _has(d, N) -> bool:
    return N in sp.sympify(d).free_symbols


class Unbatch:
    """The unbatching of one declaration over the batch size ``N`` (see the module docstring):
    ``inputs`` are one example's stand-ins of the declared inputs (same names, N dropped);
    ``unbatch(lowered)`` is the per-example `backends.Lowered`, and ``reduction`` the loss's."""

    def __init__(self, inputs, sizes):
        if len(sizes) != 1:
            raise UnsupportedError(f"the declaration has {len(sizes)} symbolic sizes "
                                   f"({', '.join(sorted(str(s) for s in sizes))}); the Triton backend takes one, the "
                                   f"batch size N, as the first axis of the inputs; {NUMPY}")
        self.N = N = next(iter(sizes))
        self.inputs = []
        for x in inputs:
            shape = tuple(x.shape) if isinstance(x, Tensor) else ()
            rest = shape[1:]
            if not shape or not _has(shape[0], N) or sp.sympify(shape[0]) != N or any(_has(d, N) for d in rest) \
                    or any(not sp.sympify(d).is_Integer for d in rest):
                shared = "" if any(_has(d, N) for d in shape) else (
                    f" An input the same for every example (the running statistics of sg.batch_norm(..., "
                    f"training=False), a fixed mask) is a parameter the step does not train: declare it among the "
                    f"parameters, read it through sg.stop_gradient({x.name}) (a parameter without a gradient is "
                    f"left unchanged, as torch's optimizers skip one whose .grad is None), and pass its values "
                    f"with the parameters.")
                raise UnsupportedError(
                    f"the input {x.name!r} is declared {format_shape(shape)}; a declaration over the batch compiles "
                    f"for target='triton' when every input has the batch size {N} as its first axis and numbers "
                    f"after it (one example per row: ({N}, 8), ({N},)); {NUMPY}.{shared}")
            self.inputs.append(tensor(x.name, rest, integer=x.is_integer_tensor))
        self.reduction = None

    # -- the pass ---------------------------------------------------------------------------------
    def __call__(self, lw):
        masks = {}              # a dropout mask (N, *s): one example's (s), drawn per example in the kernels
        for vid, shape, p in lw.masks:
            m = lw.graph.producer[vid].params[0]
            rest = tuple(shape)[1:]
            if not shape or sp.sympify(shape[0]) != self.N or any(not sp.sympify(d).is_Integer for d in rest):
                raise UnsupportedError(f"the dropout mask of shape {format_shape(shape)} is not one of a value with the "
                                       f"batch size {self.N} first and numbers after it; {NUMPY}")
            masks[vid] = DropoutMaskTensor(m.name, tuple(int(d) for d in rest))
        self.src, self.notes = lw.graph, lw.notes
        self.g = Graph(self.src.policy)
        self.env: dict[int, tuple[Var, int | None]] = {}
        self.leaves = {vid: t for vid, t in zip(lw.inputs, self.inputs) if vid is not None}
        self.leaves.update(masks)
        self.batched = self._batched_vars()
        terms = []
        self._terms(lw.loss, sp.S.One, terms)
        roots = [v for _, _, v in terms if v is not None] + list(lw.outputs)
        roots += [self.src.producer[i].out for i in list(lw.params) + list(lw.inputs) if i is not None]
        for e in self.src.ancestors(roots):             # what mixes rows is named before the loss's form
            self.env[e.out.id] = self._eqn(e)
        self.reduction, scaled = self._reduction(terms)
        loss = self._loss(scaled)
        outputs = [self._output(o) for o in lw.outputs]
        notes = {}
        for vid, text in lw.notes.items():
            v = self.env.get(vid)
            if v is not None and not self.g.producer[v[0].id].prim.leaf:
                notes.setdefault(v[0].id, text)
        ids = lambda vs: [self.env[i][0].id if i is not None else None for i in vs]   # noqa: E731
        return dataclasses.replace(lw, graph=self.g, loss=loss, outputs=outputs, notes=notes,
                                   params=ids(lw.params), inputs=ids(lw.inputs),
                                   masks=[(self.env[vid][0].id, tuple(masks[vid].shape), p)
                                          for vid, _, p in lw.masks if vid in self.env])

    def _batched_vars(self) -> set:
        out = set()
        for e in self.src.eqns:
            if e.out.id in self.leaves or any(u.id in out for u in e.inputs):
                out.add(e.out.id)
        return out

    def what(self, e) -> str:
        """The subexpression equation ``e`` (or a reader) was lowered from, in the declaration's words."""
        return user_words(self.src, self.notes, e) or USER_TERMS.get(e.prim.name, f"a {e.prim.name}") + \
            f" of shape {format_shape(e.out.shape)}"

    # -- 1. the loss's head -----------------------------------------------------------------------
    def _terms(self, v: Var, c, out: list) -> None:
        """``out`` += (kind, coefficient, var): "rows" for c·Σ_N v, "const" for c·v (no input read)."""
        e = self.src.producer[v.id]
        if v.id not in self.batched:
            out.append(("const", c, v))
        elif e.prim is R.sum_p and e.params[0] is None:
            out.append(("rows", c, e.inputs[0]))
        elif e.prim is R.ewise_p and e.out.shape == ():
            body, args = e.params[0], placeholders(len(e.inputs))
            known = {a: self._batch_size_number(u) for a, u in zip(args, e.inputs)}
            known = {a: n for a, n in known.items() if n is not None}
            if known:          # the 1/N of `.sum() / N`: a number of the batch size, put in the body
                body = body.subs(known, simultaneous=True)
                kept = [(a, u) for a, u in zip(args, e.inputs) if a not in known]
                args, inputs = [a for a, _ in kept], [u for _, u in kept]
            else:
                inputs = e.inputs
            rest = body.subs({a: 0 for a in args})
            if rest != 0:
                out.append(("const", c * rest, None))
            for a, u in zip(args, inputs):
                d = sp.diff(body, a)
                if d.free_symbols & set(args):
                    raise self._not_separable(e)
                self._terms(u, c * d, out)
        else:
            raise self._not_separable(e)

    def _batch_size_number(self, v: Var):
        """A number that reads no example and no parameter, as a SymPy expression of the batch size N
        (the 1/N of ``l.sum() / N``, written by hand where sg.mean would be), or None."""
        e = self.src.producer[v.id]
        if v.id in self.batched or e.out.shape != ():
            return None
        if e.prim.name == "input" and e.params and e.params[0] == self.N:
            return self.N
        if e.prim is R.ewise_p:
            args = [self._batch_size_number(u) for u in e.inputs]
            if all(a is not None for a in args):
                return e.params[0].subs(dict(zip(placeholders(len(e.inputs)), args)), simultaneous=True)
        return None

    def _not_separable(self, e) -> UnsupportedError:
        return UnsupportedError(
            f"the loss {self.what(e)} is not a mean (or sum) over {self.N} of per-example terms{self._ratio(e)}; the "
            f"Triton backend compiles layers that act on each example alone, with the loss the mean over the batch "
            f"of a per-example loss (sg.mean, sg.cross_entropy, sg.mse of per-row values); {NUMPY}")

    def _ratio(self, e) -> str:
        """For a loss that divides by a sum over the batch (Σ w·l / Σ w, a weighted mean): that, in words."""
        def divisors(q, depth=2):            # the values q's body divides by (through 1/v, v**-1 …)
            if q.prim is not R.ewise_p or depth == 0:
                return
            _, den = sp.fraction(sp.together(q.params[0]))
            for a, u in zip(placeholders(len(q.inputs)), q.inputs):
                if a in den.free_symbols:
                    yield self.src.producer[u.id]
                else:
                    yield from divisors(self.src.producer[u.id], depth - 1)
        for p in divisors(e):
            if p.out.id in self.batched and p.prim is R.sum_p and p.params[0] is None:
                return (f" (it divides by {self.what(p)}, a sum over the batch: a weighted mean Σ w·l / Σ w "
                        f"weighs each example by w / Σ w, which depends on the whole batch)")
        return ""

    def _reduction(self, terms):
        """("mean" | "sum", [(kind, per-example coefficient, var)])."""
        N = self.N
        rows = [c for kind, c, _ in terms if kind == "rows"]
        if not rows:
            raise UnsupportedError(f"the loss reads no input; the Triton backend needs a batch; {NUMPY}")
        mean = all(not _has(c * N, N) and _has(c, N) for c in rows)
        if not mean and not all(not _has(c, N) for c in rows):
            raise UnsupportedError(
                f"the loss is not a mean (c/{N}) or a sum over {N} of per-example terms (it weighs them by "
                f"{', '.join(str(c) for c in rows)}); the Triton backend takes one of the two for the whole "
                f"loss; {NUMPY}")
        scaled = []
        for kind, c, v in terms:
            if kind == "rows":
                scaled.append((kind, sp.simplify(c * N) if mean else c, v))
            elif _has(c, N):
                raise UnsupportedError(f"the loss has a term {c} that depends on the batch size {N} but reads no "
                                       f"example; {NUMPY}")
            elif not mean:
                raise UnsupportedError(
                    f"the loss is a sum over {N} plus a term that reads no example ({c}·…, a penalty); summed "
                    f"per example it would count B times: write the loss as a mean (sg.mean), or {NUMPY}")
            else:
                scaled.append((kind, c, v))
        return ("mean" if mean else "sum"), scaled

    def _loss(self, scaled) -> Var:
        """One example's loss: Σ_i k_i · (the sum of u_i's entries) + the constant terms."""
        g, vals, body = self.g, [], sp.S.Zero
        for kind, c, v in scaled:
            if v is None:
                body += c
                continue
            pv, _ = self.env[v.id]
            if kind == "rows" and pv.shape != ():
                pv = R.reduce_sum(g, pv, None)
            body += c * R.ph(len(vals))
            vals.append(pv)
        return R.ewise(g, body, *vals, shape=())

    def _output(self, o: Var) -> Var:
        pv, ax = self.env[o.id]
        if ax != 0:
            where = (f"has the batch axis {self.N} at position {ax}" if ax is not None
                     else "reads no input (the same for every example)")
            raise UnsupportedError(f"the output {self.what(self.src.producer[o.id])} {where}; the Triton backend "
                                   f"returns outputs one row per example ({self.N} first); {NUMPY}")
        return pv

    # -- 2. the equations -------------------------------------------------------------------------
    def _eqn(self, e):
        g, N = self.g, self.N
        if e.out.id in self.leaves:
            t = self.leaves[e.out.id]
            return g.bind(R.input_p, (), (t, tuple(t.shape))), 0
        if e.prim.leaf:
            if any(_has(d, N) for d in e.out.shape):
                raise refusal(e.prim.name, f" of shape {format_shape(e.out.shape)} (a constant over {N})", OVER)
            return g.bind(e.prim, (), e.params), None
        if e.prim is R.ewise_p and N in e.params[0].free_symbols:
            raise UnsupportedError(f"{self.what(e)} uses the batch size {N} in a per-example formula; the Triton "
                                   f"backend compiles layers that act on each example alone; {NUMPY}")
        ins = [self.env[u.id] for u in e.inputs]
        if all(ax is None for _, ax in ins) and not any(_has(d, N) for d in e.out.shape):
            return g.bind(e.prim, [v for v, _ in ins], e.params), None      # of the parameters alone
        rule = _RULES.get(e.prim.name)
        if rule is None:
            raise refusal(e.prim.name, f" (in {self.what(e)})", OVER)
        if any(ax == MERGED for _, ax in ins) and e.prim.name not in ("matmul", "reshape"):
            raise self.mixing(e, f"an operation on the rows of a (N, L, D) array merged to (N·L, D)")
        return rule(self, e, ins)

    def statistic(self, e) -> UnsupportedError:
        """Batch norm's mean over N, a softmax over the examples: a reduction along the batch axis."""
        kind = _OVER_N.get(e.prim.name, "a reduction")
        x = self.src.producer[e.inputs[0].id]
        return UnsupportedError(
            f"batch statistics: {kind} over {self.N} of {self.what(x)} (in {self.what(e)}) reduces over the "
            f"batch axis, as batch norm's sg.mean(z, axis=0) does; the Triton backend compiles layers that act "
            f"on each example alone; {NUMPY}, or normalise with fixed statistics: "
            f"sg.batch_norm(z, sg.stop_gradient(rm), sg.stop_gradient(rv), gamma, beta, training=False) with rm "
            f"and rv parameters (evaluation mode), or per example with sg.layer_norm")

    def mixing(self, e, how: str) -> UnsupportedError:
        return UnsupportedError(f"{self.what(e)}: {how}, which mixes the examples; the Triton backend compiles "
                                f"layers that act on each example alone; {NUMPY}")

    def _ewise(self, e, ins):
        S = tuple(e.params[1])
        axes = {ax for _, ax in ins if ax is not None}
        if len(axes) != 1 or any(ax is None and v.shape != () for v, ax in ins):
            raise self.mixing(e, "an elementwise operation of values laid out differently over the batch")
        (ax,) = axes
        rest = S[:ax] + S[ax + 1:]
        return R.ewise(self.g, e.params[0], *[v for v, _ in ins], shape=rest), ax

    def _matmul(self, e, ins):
        (a, ax), (b, bx) = ins
        g = self.g
        if ax == MERGED and bx is None:             # each example's rows (L, D) times W
            return R.matmul(g, a, b), MERGED
        if MERGED in (ax, bx):
            raise self.mixing(e, "a matrix product of the rows of a (N, L, D) array merged to (N·L, D)")
        if ax == 0 and bx is None:                  # rows x_n times W: (k,) as (1, k) @ W → (n,)
            k, n = b.shape
            return A.reshape(g, R.matmul(g, A.reshape(g, a, (1, k)), b), (n,)), 0
        if ax is None and bx == 1:                  # W times columns x_n: W @ (k, 1) → (m,)
            m, k = a.shape
            return A.reshape(g, R.matmul(g, a, A.reshape(g, b, (k, 1))), (m,)), 1
        if ax == 1 or bx == 0:
            raise self.mixing(e, f"a matrix product summed over {self.N} (as x.T @ y)")
        raise self.mixing(e, "a product of two matrices that both depend on the examples")

    def _transpose(self, e, ins):
        (v, ax), = ins
        return v, 1 - ax

    def _permute(self, e, ins):
        (v, ax), perm = ins[0], tuple(e.params[0])
        new_ax = perm.index(ax)
        rest = tuple(p - (p > ax) for p in perm if p != ax)
        return A.permute(self.g, v, rest), new_ax

    def _reshape(self, e, ins):
        (v, ax), s, t = ins[0], tuple(e.inputs[0].shape), tuple(e.params[0])
        N = self.N
        if ax == 0 and len(s) == 3 and len(t) == 2 and s[1] != 1 and sp.simplify(sp.sympify(t[0]) - N * s[1]) == 0 \
                and t[1] == s[2]:
            return v, MERGED        # (N, L, D) @ W is lowered as (N·L, D) @ W: each example's (L, D) @ W
        if ax == 0 and len(s) > 3 and len(t) == 2 and t[1] == s[-1] \
                and sp.simplify(sp.sympify(t[0]) - N * sp.Mul(*s[1:-1])) == 0:
            # (N, C, H, W) @ B as (N·C·H, W) @ B (a resize along W, sg.interpolate): each example's lines
            return A.reshape(self.g, v, (int(sp.Mul(*s[1:-1])), int(s[-1]))), MERGED
        if ax == 0 and len(s) == 2 and len(t) == 2 and sp.sympify(s[1]).is_Integer and sp.sympify(t[1]).is_Integer \
                and 1 < int(t[1]) < int(s[1]) and int(s[1]) % int(t[1]) == 0 \
                and sp.simplify(sp.sympify(t[0]) - N * (int(s[1]) // int(t[1]))) == 0:
            # a layer's vector (K,) as a signal (C, L) and resized (h.reshape(N, C, L) @ A_Lᵀ, which the
            # lowering merges to (N·C, L) @ A_Lᵀ): each example's (C, L), its C rows
            return A.reshape(self.g, v, (int(s[1]) // int(t[1]), int(t[1]))), MERGED
        if ax == MERGED:
            if len(t) == 3 and sp.sympify(t[0]) == N and sp.simplify(sp.sympify(s[0]) - N * t[1]) == 0 \
                    and t[2] == s[1]:
                return v, 0         # and back to (N, L, H)
            if len(t) == 2 and sp.sympify(t[0]) == N and sp.simplify(sp.sympify(s[0]) - N * t[1]) == 0 and s[1] == 1:
                return A.reshape(self.g, v, (t[1],)), 0     # (N·L, 1) back to (N, L): a number per row
            if len(t) >= 2 and sp.sympify(t[0]) == N and all(sp.sympify(d).is_Integer for d in t[1:]) \
                    and sp.simplify(sp.sympify(s[0]) * s[1] - N * sp.Mul(*t[1:])) == 0:
                return A.reshape(self.g, v, tuple(t[1:])), 0   # each example's (L, D) as (C, H, W), or flat
            raise self.mixing(e, f"a reshape of {format_shape(s)} to {format_shape(t)} of the rows of a (N, L, D) "
                                 f"array merged to (N·L, D)")
        if ax != 0 or not t or sp.sympify(t[0]) != self.N or any(_has(d, self.N) for d in t[1:]):
            raise self.mixing(e, f"a reshape of {format_shape(s)} to {format_shape(t)} that moves or merges "
                                 f"the batch axis {self.N}")
        return A.reshape(self.g, v, t[1:]), 0

    def _expand(self, e, ins):
        (v, ax), s, t = ins[0], tuple(e.inputs[0].shape), tuple(e.out.shape)
        at = [i for i, d in enumerate(t) if _has(d, self.N)]
        if len(at) != 1 or ax is not None and ax != at[0]:
            raise self.mixing(e, f"a broadcast of {format_shape(s)} to {format_shape(t)}")
        a = at[0]
        if ax is None and s:                    # a parameter repeated over the rows: itself, per row
            v = A.reshape(self.g, v, s[:a] + s[a + 1:])
        return A.expand(self.g, v, t[:a] + t[a + 1:]), a

    def _sum_over(self, e, ins, axes, make):
        (v, ax) = ins[0]
        if ax in axes:
            raise self.statistic(e)
        return make(tuple(a - (a > ax) for a in axes)), ax

    def _one_hot(self, e, ins):
        (v, ax), (n, axis) = ins[0], e.params
        out_ax = ax if ax < axis else ax + 1
        return A.one_hot(self.g, v, n, axis - (1 if out_ax < axis else 0)), out_ax


def _slice(self, e, ins):
    """x[:, a:b:c] of rows x: each example's x[a:b:c] (the batch axis taken whole)."""
    (v, ax), items = ins[0], tuple(e.params[0])
    start, stop, step = items[ax]
    if ax is None or start != 0 or step != 1 or sp.sympify(stop) != self.N:
        raise self.mixing(e, "a slice of the batch axis (some examples, not all)")
    return A.slice_(self.g, v, items[:ax] + items[ax + 1:]), ax


def _take(self, e, ins):
    """E[ids] (an embedding): rows of a parameter at each example's indices, the batch axis first."""
    (E, ex), (idx, ix) = ins
    if ex is not None or ix != 0 or e.params[0] != 0:
        raise self.mixing(e, "a take whose indices are not one row of indices per example into a parameter")
    return A.take(self.g, E, idx, 0), 0


def _concat(self, e, ins):
    """sg.concat([h1, h2], axis=1) of rows: each example's concatenation (the batch axis kept)."""
    axis, axes = e.params[0], {ax for _, ax in ins}
    if len(axes) != 1 or None in axes:
        raise self.mixing(e, "a concatenation of values laid out differently over the batch")
    (ax,) = axes
    if axis == ax:
        raise self.mixing(e, f"a concatenation along the batch axis {self.N} (of examples)")
    return A.concat(self.g, [v for v, _ in ins], axis - (axis > ax)), ax


def _conv(self, e, ins):
    """conv2d(x, w) of images x (N, C, H, W): each example's (1, C, H, W) convolved, the batch axis first
    (`kernel_conv` takes it from there: the first layer, a convolution of the input image)."""
    (x, ax), (w, wx) = ins
    if ax != 0 or wx is not None:
        raise self.mixing(e, "a convolution whose kernel depends on the examples, or of an array without "
                             f"the batch axis {self.N} first")
    out = CR.conv(self.g, A.reshape(self.g, x, (1,) + tuple(x.shape)), w, *e.params)
    return A.reshape(self.g, out, tuple(out.shape[1:])), 0


def _windows(self, e, ins):
    """The pooling windows of maps (N, C, *S): each example's, the batch axis first."""
    (x, ax), = ins
    if ax != 0:
        raise self.mixing(e, f"a pooling of an array without the batch axis {self.N} first")
    out = CR.windows(self.g, A.reshape(self.g, x, (1,) + tuple(x.shape)), *e.params)
    return A.reshape(self.g, out, tuple(out.shape[1:])), 0


def _bmatmul(self, e, ins):
    """A @ B over leading axes, both with the batch axis first (a constant broadcast over N, as
    sg.interpolate's resize along H is): each example's product over its own leading axes."""
    (a, ax), (b, bx) = ins
    if ax != 0 or bx != 0:
        raise self.mixing(e, f"a batched matrix product of arrays without the batch axis {self.N} first")
    return A.bmatmul(self.g, a, b), 0


_OVER_N = {"sum": "a sum (or mean)", "rsum": "a sum (or mean)", "rmax": "a max", "argmax": "an argmax",
           "lse": "a log-sum-exp (softmax)"}

_RULES = {
    "ewise": Unbatch._ewise,
    "matmul": Unbatch._matmul,
    "transpose": Unbatch._transpose,
    "permute": Unbatch._permute,
    "reshape": Unbatch._reshape,
    "expand": Unbatch._expand,
    "broadcast": Unbatch._expand,
    "sum": lambda self, e, ins: (_ for _ in ()).throw(self.statistic(e)),
    "rsum": lambda self, e, ins: self._sum_over(e, ins, tuple(e.params[0]),
                                                lambda axes: A.rsum(self.g, ins[0][0], axes)),
    "rmax": lambda self, e, ins: self._sum_over(e, ins, (e.params[0],),
                                                lambda axes: A.rmax(self.g, ins[0][0], axes[0])),
    "argmax": lambda self, e, ins: self._sum_over(e, ins, (e.params[0],),
                                                  lambda axes: A.argmax(self.g, ins[0][0], axes[0])),
    "lse": lambda self, e, ins: self._sum_over(e, ins, (e.params[0],),
                                               lambda axes: A.lse(self.g, ins[0][0], axes[0])),
    "one_hot": Unbatch._one_hot,
    "take": _take,
    "slice": _slice,
    "concat": _concat,
    "conv": _conv,
    "windows": _windows,
    "bmatmul": _bmatmul,
}
