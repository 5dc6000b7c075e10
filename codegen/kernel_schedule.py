"""The kernel plan of the Triton backend: the per-example IR partitioned into launches over blocks
of examples (passes 5–8 below), on top of `codegen.schedule` (passes 1–4: layouts, grouping, batch
sums, buffers), whose `Scheduler` `KernelScheduler` extends. The Triton writers (`codegen/triton_*.py`)
print the `Plan` it makes."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import sympy as sp

from symgrad.core import rules as R
from symgrad.core.ir import Var, format_shape

from .schedule import Scheduler


# =================================================================================================
# Kernels: the same IR, partitioned into launches over blocks of examples (the Triton backend)
#
# A backend that launches kernels needs one more decision than the NumPy one: which equations run
# in the same launch. `KernelScheduler.plan` makes it in one pass over the equations in graph order:
#
# 5. **rows kernels** — every kernel of the forward and backward pass gives each program a block of
#    whole examples (rows), so a row reduction (the sum of an example's squared errors, a
#    log-sum-exp, a max) can sit in the same kernel as the elementwise work around it; a row of a
#    parameter read at an example's index (an embedding) and a slice of an input's row are loads.
#    A matrix product with a parameter (W·y, Wᵀ·δ) starts a new kernel; its result is the accumulator, and the
#    elementwise equations that follow it join it as the epilogue (bias, activation, the loss and
#    δ = ∂L/∂z of the output layer, δ ⊙ f'(z) of the backward pass).
# 6. **placement** — an elementwise equation or a row reduction joins the latest kernel among those
#    computing its operands when that kernel's tile has its width (a per-example value fits any
#    tile); with operands only in memory it joins the last kernel whose tile fits. Everything it
#    reads from an earlier kernel is stored there. A kernel never waits on a later one, so the
#    launches run in the order they were made.
# 7. **batch reductions** — a gradient that is a per-example outer product δ·yᵀ becomes a
#    "weight_grad" kernel (Σ_b δ_b y_bᵀ, a product over the batch axis); the batch sum of δ itself
#    (the bias gradient) is fused into it; an embedding's e(k)·δᵀ is a "scatter_rows" kernel; any
#    other gradient is a "batch_sum" kernel. A term that reaches a parameter through a value of
#    the parameters alone (W[:4], W ⊙ M) is summed first, and the host applies the rest (a pad,
#    ⊙ M). All are two-stage: partial sums per slice of the batch, added up by the optimizer's update. Each runs
#    right after the kernel that makes the last of its operands.


@dataclass
class Kernel:
    """One launch (see the section's comment). ``width`` is the number of entries per example in
    the tile (None: one value per example); ``matmul`` is (eqn, a, M, M transposed) for a rows
    kernel that starts with acc[b, i] = Σ_j a[b, j]·M[i, j], M a parameter or its transpose;
    ``grad`` / ``bias`` are the indices of the gradients a reduction over the batch finishes, with
    ``operands`` the var ids it reads."""
    kind: str                                   # "rows" | "weight_grad" | "batch_sum" | "scatter_rows" | "host"
    width: int | None = None
    matmul: tuple | None = None
    eqns: list = field(default_factory=list)
    grad: int | None = None
    bias: int | None = None
    operands: tuple = ()
    cols: tuple = ()                            # scatter_rows of a bag: (first, step, count) of the ids' entries
    stages: list | None = None                  # a rows kernel made of several (pass 8)
    part: str = ""                              # host name of its partial sums (of `grad`)
    bias_part: str = ""                         # and of the bias gradient riding along
    bias_on_k: bool = False                     # that bias sums the product's second operand (x·δᵀ)
    post: tuple = ()                            # equations the host applies to the sums (`_grad_terms`)
    # a weight gradient whose terms are one product over stacks (`KernelScheduler._stacked`): the
    # Stack each operand reads whole (None: a var of its own), the rows per example (a stack of rows:
    # its B·count rows), and (P, F, n) when the sums' rows are a flattened map's, position-major, that
    # the host puts back in the parameter's order f·P + p
    stacks: tuple = (None, None)
    rows: int = 1
    unstack: tuple = ()


@dataclass
class Stack:
    """Vars the rows kernel stores side by side in one buffer (B, count, width), member j at [:, j]
    (a convolution's δ or windows at every output position, the rows of a flattened map): read
    whole by one weight gradient, as B·count rows of ``width`` entries (``rows``), or as B rows of
    count·width entries. ``name``: the buffer's, on the host."""
    name: str
    members: tuple
    width: int


@dataclass
class Plan:
    kernels: list
    stored: set                  # var ids written to memory by the kernel that computes them
    unbatched: set               # elementwise equations of parameters only: recomputed where used
    host: set = field(default_factory=set)     # other values of parameters only: torch, on the host
    stacks: list = field(default_factory=list)     # Stack: stored vars sharing one buffer

    def stack_of(self, v: int):
        """(Stack, j) when var ``v`` is member j of a stack, else None."""
        for s in self.stacks:
            if v in s.members:
                return s, s.members.index(v)
        return None


class KernelScheduler(Scheduler):
    """Partition the IR into kernels (passes 5–8 in the comments); the backend prints them."""

    NAME_READ_TWICE = False     # a kernel's compiler computes a repeated subexpression once itself

    def width_of(self, v: int) -> int | None:
        """Entries per example of var ``v``: None for a scalar (and a 1×1), m for a column or a row."""
        shape = self.value[v].shape
        if shape == () or tuple(shape) == (1, 1):
            return None
        m, n = shape
        if n == 1 or m == 1:
            return m if n == 1 else n
        from symgrad.errors import UnsupportedError
        raise UnsupportedError(f"{self.describe(v)} is a {format_shape(shape)} matrix per example; the kernel "
                               f"backends handle per-example scalars, columns and rows (networks of dense "
                               f"layers): write it with vectors (a bilinear xᵀ·W·y as sg.sum(x ⊙ (W·y))), "
                               f"or compile for target='numpy'")

    def describe(self, v: int) -> str:
        """Var ``v`` in the user's terms, for an error: the subexpression it was lowered from, or the
        adjoint of one (never an IR name like v22)."""
        import re
        e = self.g.producer[v]
        if e.prim is R.const_p and isinstance(e.params[0], sp.MatrixBase):
            val = e.params[0]
            if sorted(val) == [0] * (len(val) - 1) + [1]:
                return ("an entry M[i, j] of a matrix expression (SymPy writes it with a constant one-hot "
                        "matrix; for the entry of a 1×1 result, write sg.sum(M) instead of M[0, 0])")
            return f"the constant matrix {str(val.tolist())[:60]}"
        note = (self.notes or {}).get(v, "")
        if note.startswith("= "):
            return f"`{note[2:]}`"
        m = re.search(r"∂L/∂v(\d+)", note)
        if m and int(m.group(1)) != v:
            return f"a term of ∂L/∂{self.describe(int(m.group(1)))}"
        m = re.search(r"\(p\d+ is the parameter (.*)\)$", note)
        if m:
            return f"∂L/∂{m.group(1)} per example"
        m = re.search(r"the (parameter|input) '.*'$", note)
        return m.group(0) if m else "a value derived from the loss"

    def param_name(self, i: int) -> str:
        """The parameter ``i`` as the user named it (the backend sets ``param_names``)."""
        names = getattr(self, "param_names", None)
        return f"the parameter {names[i]!r}" if names else f"parameter {i}"

    def base(self, v: int) -> int:
        """The var whose memory ``v`` reads: transposes of vectors, broadcasts and sums over a single
        row or column are the same entries."""
        e = self.g.producer[v]
        if e.prim is R.transpose_p and (self.value[v].batched or 1 in e.out.shape):
            return self.base(e.inputs[0].id)
        if e.prim is R.broadcast_p:
            return self.base(e.inputs[0].id)
        if e.prim is R.sum_p and self._identity_sum(e):
            return self.base(e.inputs[0].id)
        return v

    def _identity_sum(self, e) -> bool:
        shape, axis = e.inputs[0].shape, e.params[0]
        return axis is not None and shape[axis] == 1

    def sources(self, v: int) -> set:
        """The computed vars (not leaves, not recomputed) that var ``v`` reads."""
        b = self.base(v)
        e = self.g.producer[b]
        if e.prim.leaf or b in getattr(self, "host", ()):
            return set()
        if b in self.unbatched:
            return set().union(*[self.sources(u.id) for u in e.inputs])
        return {b}

    def plan(self, roots: Sequence[Var], grads: Sequence, fuse_rows: int = 0) -> Plan:
        """Kernels computing ``roots`` (stored) and the batch sums ``grads`` [(index, var | None)].
        ``fuse_rows``: when every width is at most this, all rows kernels become the stages of one
        (pass 8 below); 0 turns that off. When that one kernel stores terms of a gradient that stack
        (a convolution's, `_stackable`), it is planned again with each such gradient one product."""
        plan = self._plan(roots, grads, fuse_rows, False)
        if self.stackable and sum(k.kind == "rows" for k in plan.kernels) == 1:
            stacked = self._plan(roots, grads, fuse_rows, True)
            # (a stack is one buffer the one rows kernel allocates: its members in one kernel)
            plan = stacked if sum(k.kind == "rows" for k in stacked.kernels) == 1 else \
                self._plan(roots, grads, fuse_rows, False)
        self.stacks = plan.stacks
        return plan

    def _plan(self, roots: Sequence[Var], grads: Sequence, fuse_rows: int, stack: bool) -> Plan:
        from symgrad.errors import UnsupportedError
        self._analyse(list(roots) + [g for _, g in grads if g is not None])
        fused = self._fusable_grad_matmuls([(None, g, None) for _, g in grads])
        # a gradient that is a sum of terms (a tied weight: Σ of outer products) is summed over
        # the batch term by term, each in its own reduction, and the terms' partial sums together
        terms = self._host_terms(grads)
        sums = set()
        for i, ts in terms.items():
            if len(ts) > 1:
                sums |= self._term_sums(dict(grads)[i])
                for c in {c.out.id: c for _, _, chain in ts for c in chain}.values():   # (a sum beneath the
                    sums |= self._term_sums(self._linear_operand(c))                   # host's adjoints)
            fused |= {t.id for how, t, _ in ts if how != "value"}
            fused |= {c.out.id for _, _, chain in ts for c in chain}     # on the host, after the sums
            # an embedding's e_k·δᵀ: δ added to row k (scatter_rows), the one-hot e_k never made
            fused |= {self.g.producer[t.id].inputs[0].id for how, t, _ in ts if how == "rows_at"}
        self.stackable = self._stackable(terms, dict(grads))
        self._stacks = []
        stacked = self._stacked(terms, fused, sums) if stack else []
        kernels: list[Kernel] = []
        home: dict[int, int] = {}        # var id -> index of the kernel that computes it
        reads: list[tuple] = []          # (var, index of the kernel that reads it)
        self.unbatched = set()
        self.host = set()                # reductions / products of parameters alone: on the host

        def need(v: int, at: int):
            """Var ``v`` is read by kernel ``at``."""
            for s in self.sources(v):
                reads.append((s, at))

        for e in self.eqns:
            v, p = e.out.id, e.prim
            if p.leaf or v in fused or v in sums or self.base(v) != v or p is R.transpose_p:
                continue                # leaves; views (read through by `base`, or a matmul operand)
            if not self.value[v].batched:
                if p is R.ewise_p:
                    self.unbatched.add(v)
                else:       # a penalty's Σ W², ...: the same for every example, computed once by torch
                    self.host.add(v)
                continue
            if p is R.matmul_p and not self.scalar_times_vector(e):
                k = Kernel("rows", self.width_of(v), matmul=self._matmul_operands(e))
                kernels.append(k)
                home[v] = len(kernels) - 1
                need(k.matmul[1], home[v])
                continue
            if p is R.ewise_p or p is R.take_row_p or p is R.matmul_p or p.name in ("slice", "patch"):
                # (a row of a parameter at an index; s·wᵀ, elementwise; x[a:b:c] of an input, loaded;
                # a convolution's window of an input image, loaded by its index table: kernel_conv)
                if p.name == "slice" and not self.g.producer[e.inputs[0].id].prim.leaf:
                    raise UnsupportedError(f"{self.describe(v)}: the kernel backends (target='triton') take "
                                           f"slicing of an input's rows only (x[:, :4], x[:, ::2]), not of a value "
                                           f"computed per example; make the sliced part a layer of its own (a "
                                           f"slice of a parameter, W[:4], is fine), or compile for target='numpy'")
                tile = self.width_of(v)
            elif p in (R.sum_p, R.logsumexp_p, R.gather_p, R.argmax_entry_p):     # row reductions
                if p is R.sum_p and e.params[0] is not None and self.width_of(v) is not None:
                    raise UnsupportedError(f"{self.describe(v)}: a partial sum of a matrix per example is not "
                                           f"supported by the kernel backends; compile for target='numpy'")
                tile = self.width_of(e.inputs[0].id)
            elif p.name == "pad":       # the adjoint of a slice of an input: ∂L/∂x asked for (as_torch)
                raise UnsupportedError("the gradient of an input read in slices (x[:, :4], a bag's ids, the rows of "
                                       "an input (L, D) per example): the kernel backends do not compute ∂L/∂x "
                                       "through a slice yet; detach that input (no requires_grad), or compile "
                                       "for target='numpy'")
            else:
                raise UnsupportedError(f"{self.describe(v)}: the kernel backends have no rule for {p.name!r} "
                                       f"(they take dense layers, elementwise functions, sums, maxima, log-sum-exp "
                                       f"and class labels); compile for target='numpy'")
            deps = set().union(*[self.sources(u.id) for u in e.inputs]) if e.inputs else set()
            lo = max((home[s] for s in deps), default=-1)
            order = ([lo] if lo >= 0 else []) + list(range(len(kernels) - 1, lo, -1))
            if p.name == "patch":
                # a convolution's window is loaded right before its product (the latest kernel, or a new
                # one): loaded all in the first stage, the 16–64 windows would stay live in registers
                # until their products, and the fused kernel spills (measured for sm_90)
                order = order[:1] if lo < 0 else [lo]
            at = None
            for j in order:
                k = kernels[j]
                if k.kind == "rows" and (tile is None or k.width == tile or (k.width is None and k.matmul is None)):
                    at = j
                    break
            if at is None:
                kernels.append(Kernel("rows", tile))
                at = len(kernels) - 1
            if tile is not None:
                kernels[at].width = tile
            kernels[at].eqns.append(e)
            home[v] = at
            for u in e.inputs:
                need(u.id, at)

        # 8. **one kernel for the rows** — every rows kernel reads and writes the rows of its own
        #    block of examples only, so consecutive ones can run one after the other in the same
        #    program (the tiny-cuda-nn idea: a product's operand made by an earlier stage stays in
        #    registers). Only when the whole rows fit in registers: every width ≤ ``fuse_rows``.
        if fuse_rows and len(kernels) > 1 and all(
                (k.width or 1) <= fuse_rows and (k.matmul is None or (self.width_of(k.matmul[1]) or 1) <= fuse_rows)
                for k in kernels):
            one = Kernel("rows", None, stages=kernels)
            home = {v: 0 for v in home}
            reads = [(v, 0) for v, _ in reads]
            kernels = [one]
        n_rows = len(kernels)
        stored: set[int] = {v for v, at in reads if home[v] != at}
        for r in roots:
            for s in self.sources(r.id):
                stored.add(s)
        for k in stacked:
            for st in k.stacks:
                if st is not None:
                    stored |= set(st.members)
        for i, g0 in grads:
            if g0 is None:
                continue
            made = [k for k in stacked if k.grad == i]
            for how, g, chain in terms[i]:
                k = self._term_kernel(i, g, how, fused)
                k.post = chain
                made.append(k)
            for n, k in enumerate(self._merge_bags(made)):
                k.part = f"part{i}" + (f"_{n}" if n else "")
                if k.bias is not None:      # (a convolution's bias, riding along with its stacked terms)
                    k.bias_part = f"part{k.bias}"
                for u in k.operands:
                    for s in self.sources(u):
                        stored.add(s)
                kernels.append(k)
        # the batch sum of δ (a bias gradient) rides along with the weight gradient δ·yᵀ, or with
        # y·δᵀ (a layer written x @ W + b: δ is the product's second operand) — also when the weight
        # is a value of the parameters (W.T, W1[:4]): the host's adjoint of it (w.post) applies to
        # the weight's partial sums only, the bias's are Σ_b δ_b as they are
        for j in range(n_rows, len(kernels)):
            k = kernels[j]
            if k.kind != "batch_sum":
                continue
            for w in kernels[n_rows:]:
                if w.kind == "weight_grad" and w.bias is None and k.operands[0] in w.operands[:2] \
                        and not k.post:
                    w.bias, w.bias_part = k.grad, k.part
                    w.bias_on_k = w.operands[0] != k.operands[0]
                    k.kind = "fused"
                    break
        return self._placed(kernels, n_rows, home, stored)

    def _host_terms(self, grads: Sequence) -> dict:
        """`_grad_terms` of every gradient, with no var of a host chain read by a kernel: a chain may
        go through a var the forward pass reads too (s·Σ_j h_j in the loss, its Σ_j h_j in ∂L/∂s —
        a reader linear in it, like the slices of a concat's adjoint, but not part of a gradient),
        and then that var stays the kernels' work: its term is its batch sum, and only the rest of
        the chain is the host's. (The chains' own equations and the plain sums that join a
        gradient's terms are the host's: they may read it.) Repeated until no such var is left."""
        self._kept_terms = set()
        joins = {i: self._term_sums(g) for i, g in grads if g is not None}     # (the same each round)
        while True:
            terms = {i: self._grad_terms(g) for i, g in grads if g is not None}
            chained = {c.out.id for ts in terms.values() for _, _, chain in ts for c in chain}
            host = chained.union(*[joins[i] for i in terms if len(terms[i]) > 1])
            clash = {u.id for e in self.eqns if not e.prim.leaf and e.out.id not in host
                     for u in e.inputs if u.id in chained}
            if not clash - self._kept_terms:
                return terms
            self._kept_terms |= clash

    def _grad_terms(self, g: Var, shared: bool = False) -> list:
        """[(how, var, chain)]: ∂L/∂p per example as a sum of terms, each summed over the batch on its
        own: "outer" (δ·yᵀ), "outer_t" ((δ·yᵀ)ᵀ = y·δᵀ), "value" (anything else). One term unless
        ``g`` is a plain sum (coefficients 1) with an outer product among its terms. ``chain``: the
        equations, linear in the term, that make ∂L/∂p of it with values of the parameters alone —
        the adjoint of ``W1[:4]`` (a pad), of ``W * M`` (⊙ M), of ``sg.concat`` (a slice) —
        applied by the host to the batch's (partial) sums, Σ_b L(t_b) = L(Σ_b t_b). ``shared``: ``g``
        is read by such equations only (the adjoint of a concat: a slice per operand), so an outer
        product there may be read more than once (it is summed over the batch once per reader)."""
        e = self.g.producer[g.id]
        if g.id in getattr(self, "_kept_terms", ()):      # read by a kernel besides (`_host_terms`)
            return [("value", g, ())]
        if e.prim is R.ewise_p and self.uses.get(g.id) == 1 and self._plain_sum(e):
            ts = [t for u in e.inputs for t in self._grad_terms(u)]
            if any(how != "value" or chain for how, _, chain in ts):
                return ts
        if self._rows_at(g, shared) is not None:
            return [("rows_at", g, ())]
        if self._is_outer(g, shared):
            return [("outer", g, ())]
        if e.prim is R.transpose_p and (shared or self.uses.get(g.id) == 1) and self._is_outer(e.inputs[0], shared):
            return [("outer_t", e.inputs[0], ())]
        u = self._linear_operand(e)
        if u is not None and (shared or self.uses.get(g.id) == 1):
            readers = [c for c in self.eqns if any(w.id == u.id for w in c.inputs)]
            inner = self._grad_terms(u, all(self._linear_operand(c) is not None for c in readers))
            # an elementwise factor or a product of a per-example value is the kernels' own work;
            # on an outer product (a matrix per example) or through a movement, the host's
            # (a product that makes a matrix per example, x·cᵀ with c the same for every example — the
            # gradient of sg.sum(x @ W) — is the host's too: (Σ_b x_b)·cᵀ)
            if (e.prim is not R.ewise_p and e.prim is not R.matmul_p) or any(
                    how != "value" or chain for how, _, chain in inner) or (
                    e.prim is R.matmul_p and len(e.out.shape) == 2 and min(int(d) for d in e.out.shape) > 1):
                return [(how, t, chain + (e,)) for how, t, chain in inner]
        return [("value", g, ())]

    # the movements (and sums) whose adjoints a gradient may go through on the host (kernel_form's
    # values of the parameters alone): each linear in its one operand
    _MOVES = ("slice", "pad", "reshape", "permute", "expand", "rsum", "transpose", "broadcast", "sum")

    def _linear_operand(self, e) -> Var | None:
        """The one per-example operand of equation ``e`` when ``e`` is linear in it and its other
        operands are of the parameters alone (c·u, u ⊙ M, u @ W, a pad or slice of u); else None."""
        if e.prim.leaf:
            return None
        batched = [j for j, u in enumerate(e.inputs) if self.value[u.id].batched]
        if len(batched) != 1:
            return None
        (j,) = batched
        u = e.inputs[j]
        if e.prim is R.ewise_p:
            a, body = R.ph(j), e.params[0]
            if tuple(u.shape) != tuple(e.out.shape) or body.subs(a, 0) != 0 or a in sp.diff(body, a).free_symbols:
                return None
            return u
        if e.prim is R.matmul_p or (e.prim.name in self._MOVES and len(e.inputs) == 1):
            return u
        return None

    def _term_sums(self, g: Var) -> set:
        """The plain sums that join a gradient's terms: computed by no kernel (see `_grad_terms`)."""
        e = self.g.producer[g.id]
        if e.prim is R.ewise_p and self.uses.get(g.id) == 1 and self._plain_sum(e):
            return {g.id}.union(*[self._term_sums(u) for u in e.inputs])
        return set()

    # -- stacks: a convolution's terms as one product ---------------------------------------------
    def _outer_pair(self, how: str, t: Var):
        """(d, y): the operands of the weight gradient of term ``t`` ("outer" δ·yᵀ or "outer_t"), or
        None when one is a value broadcast to a vector (`_term_kernel` refuses those)."""
        a, b = self.g.producer[t.id].inputs
        if any(self.width_of(self.base(u.id)) != self.width_of(u.id) for u in (a, b)):
            return None
        d, y = self.base(a.id), self.base(b.id)
        return (y, d) if how == "outer_t" else (d, y)

    def _computed(self, v: int) -> bool:
        """Var ``v`` is computed by a rows kernel (not an input, a parameter, or a value of them); a
        number per example too (a one-filter convolution's δ_p: a stack of width 1)."""
        return self.value[v].batched and not self.g.producer[v].prim.leaf and self.base(v) == v

    def _sum_leaves(self, v: int) -> list | None:
        """The operands of a plain sum u_1 + … + u_n (nested sums used once flattened), or None."""
        e = self.g.producer[v]
        if e.prim is not R.ewise_p or not self._plain_sum(e):
            return None
        out = []
        for u in e.inputs:
            inner = self._sum_leaves(u.id) if self.uses.get(u.id) == 1 else None
            out += inner if inner is not None else [u.id]
        return out

    def _stackable(self, terms: dict, grads: dict) -> list:
        """The gradients whose terms one product over stacked operands computes (`Stack`):

        - ("rows", i, ds, ys, (bias, chain)): a convolution's weight, Σ_p δ_p·patch_pᵀ (one outer
          product per output position, `kernel_conv`): the δ_p side by side and the windows side by
          side, read as B·P rows, make Σ_b Σ_p δ_bp·patch_bpᵀ one product; ``bias``: (i_b, its plain
          sums) when gradient i_b is Σ_p δ_p (the convolution's bias: the same product's column
          sums); ``chain``: the host adjoints every term goes through (a transposed convolution's
          kernel matrix, `kernel_conv.transposed_kernel`), applied once to the product's sums;
        - ("cols", i, ds, y, (P, F, n)): a dense layer of a flattened map, Σ_p pad_p(h_p·δᵀ) (the
          rows p::P of V per position, `kernel_conv._matmul`): the h_p side by side are one row of
          P·F entries per example, whose product with δ gives V's rows position-major (p·F + f),
          which the host puts back in V's order (f·P + p).

        Only vars computed by the rows kernel, each in one stack, two terms or more."""
        out, taken = [], set()
        for i, ts in terms.items():
            groups, cols = {}, {}
            for how, t, chain in ts:
                pair = self._outer_pair(how, t) if how in ("outer", "outer_t") else None
                if pair is None or not all(self._computed(u) for u in pair):
                    continue
                d, y = pair
                at = self._pad_rows(chain, t)
                if at is not None:
                    cols.setdefault((y, at[1:]), []).append((at[0], d))
                elif self._window(y):
                    # terms behind the same chain of host adjoints (a transposed convolution's kernel
                    # matrix, a value of its parameter): Σ_p L(δ_p·patch_pᵀ) = L(Σ_p δ_p·patch_pᵀ),
                    # the chain applied once to the stack's sums
                    groups.setdefault(tuple(c.out.id for c in chain), (chain, []))[1].append(pair)
            for chain, rows in groups.values():
                self._stack_rows(out, taken, i, rows, chain, terms, grads)
            for (y, (P, F, n)), at in cols.items():
                if len(at) < 2 or sorted(p for p, _ in at) != list(range(P)):
                    continue
                ds = tuple(d for _, d in sorted(at))
                if len(set(ds)) != P or any((self.width_of(d) or 1) != F for d in ds) or taken & set(ds):
                    continue
                taken |= set(ds)
                out.append(("cols", i, ds, y, (P, F, n)))
        return out

    def _stack_rows(self, out: list, taken: set, i: int, rows: list, chain: tuple, terms: dict, grads: dict):
        """Append ("rows", i, ds, ys, (bias, chain)) to ``out`` when the (δ, window) pairs ``rows`` of
        gradient i, all behind the host adjoints ``chain``, stack (`_stackable`)."""
        rows.sort(key=lambda pair: pair[1])          # the windows in the order they are made
        ds, ys = [d for d, _ in rows], [y for _, y in rows]
        if len(rows) < 2 or len(set(ds)) != len(ds) or len(set(ys)) != len(ys) or \
                not len({self.width_of(d) for d in ds}) == len({self.width_of(y) for y in ys}) == 1 or \
                taken & (set(ds) | set(ys)):
            return
        taken |= set(ds) | set(ys)
        bias = None
        for j, bts in terms.items():
            if j == i:
                continue
            if len(bts) == 1 and bts[0][0] == "value" and not bts[0][2]:
                g = bts[0][1]
                leaves = self._sum_leaves(g.id)
                if leaves is not None and (sorted(self.base(u) for u in leaves) == sorted(ds) or
                                           self._same_numbers(leaves, ds)):
                    bias = (j, self._sum_ids(g.id))
                    break
            elif self._scalar_bias(bts, ds):     # one filter: Σ_p of δ_p's one entry each
                g = grads[j]
                bias = (j, self._sum_ids(g.id) | {c.out.id for _, _, chain in bts for c in chain})
                break
        out.append(("rows", i, tuple(ds), tuple(ys), (bias, chain)))

    def _scalar_bias(self, bts: list, ds: list) -> bool:
        """Terms ``bts`` are a one-filter convolution's bias gradient Σ_p δ_p: one "value" term per
        δ_p of ``ds`` (a number per example), each through the host's sum of its one entry."""
        if len(bts) != len(ds) or any(how != "value" or len(chain) != 1 for how, _, chain in bts):
            return False
        if any(self.width_of(d) is not None for d in ds):
            return False
        ok = all(c.prim is R.sum_p and c.inputs[0].id == t.id and all(int(n) == 1 for n in t.shape)
                 for _, t, (c,) in bts)
        return ok and sorted(self.base(t.id) for _, t, _ in bts) == sorted(ds)

    def _window(self, y: int) -> bool:
        """Var ``y`` is a convolution's window (`kernel_conv`): of the input image (a patch, loaded by its
        index table), or of a map kept as rows (Σ_k E_k·row_k, selections by constant 0/1 matrices)."""
        e = self.g.producer[y]
        if e.prim.name == "patch":
            return True
        parts = [u.id for u in e.inputs] if e.prim is R.ewise_p and self._plain_sum(e) else [y]
        for u in parts:
            m = self.g.producer[u]
            if self._placed_number(m):
                continue
            if m.prim is not R.matmul_p:
                return False
            c = self.g.producer[m.inputs[0].id]
            if c.prim is not R.const_p or not isinstance(c.params[0], sp.MatrixBase) or \
                    not set(c.params[0]) <= {0, 1}:
                return False
        return True

    def _entry(self, v: int, depth: int = 4):
        """The one number per example of var ``v`` as a SymPy expression of the vars it reads (a
        symbol per var), through elementwise equations and sums of one entry, ``depth`` deep."""
        e = self.g.producer[v]
        if depth and all(int(n) == 1 for n in e.out.shape):
            if e.prim is R.ewise_p:
                return e.params[0].subs({R.ph(i): self._entry(u.id, depth - 1) for i, u in enumerate(e.inputs)},
                                        simultaneous=True)
            if e.prim is R.sum_p and all(int(n) == 1 for n in e.inputs[0].shape):
                return self._entry(e.inputs[0].id, depth - 1)
        return sp.Symbol(f"v{self.base(v)}")

    def _same_numbers(self, leaves: list, ds: list) -> bool:
        """The terms ``leaves`` of a gradient (one number per example each) are the numbers ``ds`` (a
        one-filter convolution's δs), reverse mode having factored them otherwise (g_p·Σ relu′(z_p)
        for relu′(z_p)·g_p, when the map is convolved again): its bias rides along with the stack."""
        if len(leaves) != len(ds) or any(self.width_of(d) is not None for d in ds):
            return False
        left = [sp.expand(self._entry(u)) for u in leaves]
        for d in ds:
            want = sp.expand(self._entry(d))
            hit = next((i for i, x in enumerate(left) if x == want), None)
            if hit is None:
                return False
            left.pop(hit)
        return True

    def _placed_number(self, e) -> bool:
        """Equation ``e`` puts a number per example at entries of a column picked by a constant index
        column (where(k == 3, r, 0): a one-filter map's row r in a second convolution's window,
        `kernel_conv._grid_patch`): each entry is r or 0, a selection as E_k·r is."""
        if e.prim is not R.ewise_p or len(e.inputs) != 2:
            return False
        for i, j in ((0, 1), (1, 0)):
            c, r = self.g.producer[e.inputs[i].id], e.inputs[j]
            if c.prim is R.const_p and isinstance(c.params[0], sp.MatrixBase) and self.value[r.id].batched \
                    and self.width_of(r.id) is None:
                body, a, x = e.params[0], R.ph(i), R.ph(j)
                return all(body.subs(a, k) in (0, x) for k in set(c.params[0]))
        return False

    def _sum_ids(self, v: int) -> set:
        """The plain sums a `_sum_leaves` tree is made of (computed by no kernel once stacked)."""
        e = self.g.producer[v]
        out = {v}
        for u in e.inputs:
            if self.uses.get(u.id) == 1 and self._sum_leaves(u.id) is not None:
                out |= self._sum_ids(u.id)
        return out

    def _pad_rows(self, chain: tuple, t: Var):
        """(p, P, F, n) when ``chain`` puts term ``t`` (F, n) in the rows p, p + P, … of an (F·P, n)
        gradient (a pad: the adjoint of V[p::P]), else None."""
        if len(chain) != 1 or chain[0].prim.name != "pad" or len(t.shape) != 2:
            return None
        shape, items = chain[0].params
        F, n = (int(d) for d in t.shape)
        if len(shape) != 2 or len(items) != 2:
            return None
        (a, b, c), cols = [tuple(int(x) for x in it) for it in items]
        P = c
        if cols != (0, n, 1) or tuple(int(d) for d in shape) != (F * P, n) or b != F * P or not 0 <= a < P or P < 2:
            return None
        return a, P, F, n

    def _stacked(self, terms: dict, fused: set, sums: set) -> list:
        """The weight-gradient kernels of `_stackable`'s gradients (their terms taken out of ``terms``,
        a convolution's bias sums out of the rows kernel: ``fused``, ``sums``); sets ``_stacks``."""
        kernels = []
        for kind, i, ds, other, extra in self.stackable:
            sd = Stack(f"stack{ds[0]}", ds, self.width_of(ds[0]) or 1)
            self._stacks.append(sd)
            members = set(ds)
            if kind == "rows":
                sy = Stack(f"stack{other[0]}", other, self.width_of(other[0]) or 1)
                self._stacks.append(sy)
                members |= set(other)
                extra, chain = extra
                k = Kernel("weight_grad", grad=i, operands=(ds[0], other[0]), stacks=(sd, sy), rows=len(ds),
                           post=chain)
                if extra is not None:
                    k.bias = extra[0]
                    terms[extra[0]] = []
                    fused |= extra[1]
                    sums |= extra[1]
            else:
                k = Kernel("weight_grad", grad=i, operands=(ds[0], other), stacks=(sd, None), unstack=extra)
            terms[i] = [(how, t, chain) for how, t, chain in terms[i]
                        if how not in ("outer", "outer_t") or not members & set(self._outer_pair(how, t) or ())]
            kernels.append(k)
        return kernels

    @staticmethod
    def _plain_sum(e) -> bool:
        from symgrad.core.placeholders import placeholders
        return e.params[0] == sp.Add(*placeholders(len(e.inputs)))

    def scalar_times_vector(self, e) -> bool:
        """``e`` is a product s·wᵀ (or w·s) of a per-example scalar s (1, 1) and a vector w of the
        parameters: elementwise, s times each entry of w (the VJP of a head h @ w that gives one
        number per example: ∂L/∂h = ḡ·wᵀ)."""
        if e.prim is not R.matmul_p:
            return False
        a, b = e.inputs
        va, vb = self.value[a.id], self.value[b.id]
        return (va.batched and tuple(a.shape) == (1, 1) and not vb.batched and int(b.shape[0]) == 1) or \
            (vb.batched and tuple(b.shape) == (1, 1) and not va.batched and int(a.shape[1]) == 1)

    def _rows_at(self, v: Var, shared: bool = False):
        """(k, δ) when ``v`` is e_k·δᵀ, e_k the one-hot column [i = k] of an example's index k (an
        embedding's gradient, `rules.take_row`'s VJP): δ is added to row k of the gradient."""
        e = self.g.producer[v.id]
        if e.prim is not R.matmul_p or (self.uses.get(v.id) != 1 and not shared):
            return None
        a, b = e.inputs
        oe = self.g.producer[a.id]
        if oe.prim is not R.ewise_p or oe.params[0] != sp.KroneckerDelta(R.ph(0), R.ph(1)) or b.shape[0] != 1 \
                or not self.value[b.id].batched:
            return None
        k, iota = oe.inputs
        if k.shape != () or not self.value[k.id].batched or self.g.producer[iota.id].prim is not R.const_p \
                or self.uses.get(a.id) != 1:
            return None
        return k.id, b.id

    def _is_outer(self, v: Var, shared: bool = False) -> bool:
        """A per-example outer product column · row, used once (or ``shared``, see `_grad_terms`)."""
        e = self.g.producer[v.id]
        if e.prim is not R.matmul_p or (self.uses.get(v.id) != 1 and not shared):
            return False
        a, b = e.inputs
        return self.value[a.id].batched and self.value[b.id].batched and a.shape[1] == 1 and b.shape[0] == 1

    def _term_kernel(self, i: int, g: Var, how: str, fused: set) -> Kernel:
        """The reduction over the batch of one term of the gradient of parameter ``i``."""
        from symgrad.errors import UnsupportedError
        if how == "rows_at":
            k, d = self._rows_at(g, True)
            if self.width_of(self.base(d)) != self.width_of(d):
                raise UnsupportedError(f"the gradient of {self.param_name(i)} adds a per-example value broadcast to "
                                       f"a row into the rows of an embedding; the kernel backends do not support "
                                       f"that yet (target='numpy' does)")
            return Kernel("scatter_rows", width=int(g.shape[0]), grad=i, operands=(k, self.base(d)))
        if how != "value" or g.id in fused:
            a, y = self.g.producer[g.id].inputs
            if any(self.width_of(self.base(u.id)) != self.width_of(u.id) for u in (a, y)):
                # δ = s·𝟙, a per-example scalar broadcast to a column: its base has one entry per
                # example, and Σ_b δ_b y_bᵀ over it would fill one row of the gradient only
                raise UnsupportedError(f"the gradient of {self.param_name(i)} is an outer product of a "
                                       f"per-example value broadcast to a column or row; the kernel "
                                       f"backends do not support that yet (target='numpy' does)")
            d, y = self.base(a.id), self.base(y.id)
            return Kernel("weight_grad", grad=i, operands=(y, d) if how == "outer_t" else (d, y))
        if self.value[g.id].batched:
            if self.width_of(self.base(g.id)) != self.width_of(g.id):
                raise UnsupportedError(f"the gradient of {self.param_name(i)} is a per-example value "
                                       f"broadcast to {format_shape(g.shape)}; the kernel backends do "
                                       f"not support that yet")
            return Kernel("batch_sum", width=self.width_of(g.id), grad=i, operands=(self.base(g.id),))
        # the same for every example (a penalty's 2λW): computed once on the host, times B
        return Kernel("host", grad=i, operands=(g.id,))

    def entry_of(self, v: int) -> tuple | None:
        """(x, i) when var ``v`` is entry i of each example's row of the input x (Σ of a 1×1 slice of
        it: `kernel_form.AsColumns._entry`, an index of a bag E[ids]); else None."""
        e = self.g.producer[v]
        if e.prim is not R.sum_p or e.params[0] is not None or tuple(e.inputs[0].shape) != (1, 1):
            return None
        s = self.g.producer[e.inputs[0].id]
        if s.prim.name != "slice" or not self.g.producer[s.inputs[0].id].prim.leaf:
            return None
        (a, _, _), _ = s.params[0]
        return s.inputs[0].id, int(a)

    def _merge_bags(self, made: list) -> list:
        """The scatter-adds of a bag E[ids] (one per index, the same δ added to the rows at entries
        i, i + c, … of an input's row, `entry_of`) as one launch that loops over the entries:
        ``operands`` (x, δ), ``cols`` (first, step, count). The others as they are."""
        groups: dict = {}
        for k in made:
            at = self.entry_of(k.operands[0]) if k.kind == "scatter_rows" and not k.post else None
            if at is not None:
                groups.setdefault((at[0], k.operands[1]), []).append((at[1], k))
        out = []
        for k in made:
            at = self.entry_of(k.operands[0]) if k.kind == "scatter_rows" and not k.post else None
            group = groups.get((at[0], k.operands[1])) if at is not None else None
            if group is None or len(group) < 2:
                out.append(k)
                continue
            if group[0][1] is not k:
                continue
            cols = sorted(c for c, _ in group)
            step = cols[1] - cols[0]
            if step <= 0 or cols != list(range(cols[0], cols[0] + step * len(cols), step)):
                out += [q for _, q in group]          # not evenly spaced: one launch per entry
                continue
            out.append(Kernel("scatter_rows", width=k.width, grad=k.grad, operands=(at[0], k.operands[1]),
                              cols=(cols[0], step, len(cols))))
        return out

    def _placed(self, kernels, n_rows, home, stored) -> "Plan":
        """Each reduction over the batch placed right after the kernel that makes its operands."""
        # each reduction over the batch runs as soon as its operands exist, so that δ of a layer can
        # be freed before the next layer's is made (peak memory: that of plain backprop)
        order = kernels[:n_rows]
        for k in kernels[n_rows:]:
            if k.kind == "fused":
                continue
            after = max((home[s] for u in k.operands for s in self.sources(u)), default=-1)
            pos = order.index(kernels[after]) + 1 if after >= 0 else 0
            while pos < len(order) and order[pos].kind != "rows":
                pos += 1                 # after the reductions already placed there
            order.insert(pos, k)
        return Plan(order, stored, self.unbatched, self.host, self._stacks)

    def _matmul_operands(self, e) -> tuple:
        """(eqn, a, P, transposed): the product as acc[b, i] = Σ_j a[b, j]·M[i, j], M = P or Pᵀ."""
        from symgrad.errors import UnsupportedError
        x, y = e.inputs
        vx, vy = self.value[x.id], self.value[y.id]
        if not vx.batched and vy.batched and vy.layout == "col":        # M·a
            a, m, flip = y, x, False
        elif vx.batched and vx.layout == "row" and not vy.batched:      # aᵀ·M' = (M'ᵀ·a)ᵀ
            a, m, flip = x, y, True
        else:
            raise UnsupportedError(f"{self.describe(e.out.id)}: the kernel backends multiply a batch of vectors "
                                   f"by a parameter matrix (W·y, Wᵀ·δ, yᵀ·W); this product is not of that form "
                                   f"(a product of two per-example vectors: write it as sg.sum(a ⊙ b); else "
                                   f"compile for target='numpy')")
        me = self.g.producer[m.id]
        if me.prim is R.transpose_p:
            m, flip = me.inputs[0], not flip
            me = self.g.producer[m.id]
        if not me.prim.leaf or me.prim is R.const_p:
            # a matrix of the parameters alone (W1[:4], W ⊙ M, sg.concat([W, V])): computed by torch
            # on the host before the launches, then read like a parameter
            self.unbatched.discard(m.id)
            self.host.add(m.id)
        return (e, self.base(a.id), m.id, flip)
