"""The Triton rows kernels: a block of whole examples per program, an optional product with a
parameter (tl.dot), then the elementwise equations and row reductions that follow it; when every
width is small, ONE such kernel runs the whole forward and backward pass in stages."""
from __future__ import annotations

import sympy as sp

from symgrad.core import rules as R
from symgrad.compiling.compiler import Lowered, safe_text
from symgrad.errors import UnsupportedError

from .printers.triton_printer import TritonPrinter
from .kernel_schedule import Kernel, KernelScheduler, Plan
from . import triton_settings as settings
from .triton_text import _I, _clip, _label
from .triton_launch import _CHECKED, _known_stride, _launch_line
from .triton_matmul import _dot
from .triton_conv import _index_input, _index_of, _patch_load, _zero_one


def _pow2(n: int) -> int:
    """The block that holds ``n`` entries: a power of two, at least 16 (tl.dot's smallest)."""
    return max(16, 1 << (max(int(n), 1) - 1).bit_length())


# -------------------------------------------------------------------------------------------------
# Rows kernels


class _RowsBody:
    """The SymPy expressions of one rows kernel (one or several stages) over code names, and what
    it loads."""

    def __init__(self, stages: list, plan: Plan, sch: KernelScheduler, names: dict):
        self.plan, self.sch, self.names = plan, sch, names
        self.loads: dict[int, str] = {}          # var id -> "tile" | "row" | "vector" | "scalar" | "arg" | "rows_at"
        self.rows_at: dict[int, tuple] = {}      # var id -> (M, k): row k of the parameter M (an embedding)
        self.slices: dict[int, tuple] = {}       # var id -> (x, start, step): x[start::step] of an input's rows
        self.patches: dict[int, tuple] = {}      # var id -> (x, params): a convolution's window of an image input
        self.taps: dict[tuple, str] = {}         # (image, window, dilation) -> name of its index table
        here = {e.out.id for st in stages for e in st.eqns}
        self.inline = set()
        for st in stages:
            for e in st.eqns:
                v = e.out.id
                c = sch.consumer.get(v)
                if (e.prim is R.ewise_p and sch.uses.get(v) == 1 and v not in plan.stored and c is not None
                        and c.out.id in here and c.prim in (R.ewise_p, R.sum_p, R.logsumexp_p, R.argmax_entry_p)
                        and not _read_twice(c, v)):
                    self.inline.add(v)
        self.drop: dict[int, tuple] = {}         # var id of a dropout mask -> (its number k, p): drawn
        self.acc: dict[int, str] = {}            # var id of a stage's product -> "acc", "acc2", ...
        self.local: set[int] = set()             # computed by the stages so far
        self.width = None                        # of the stage being built
        self.sfx = ""                            # and its suffix (several stages: its number)
        self.stage = 0                           # and its index
        self.made: dict[int, int] = {}           # var id -> the stage that computed it (`_far_reads`)
        self.reads: dict[int, set] = {}          # var id -> the later stages that read it from registers
        self.reload: dict[int, int] = {}         # var id -> the stage from which it is loaded again

    def name(self, v: int) -> str:
        return self.names.get(v, f"v{v}")

    def expr(self, v: int, tile: bool):
        """Var ``v`` as a SymPy expression; ``tile``: in a (BLOCK_M, BLOCK_N) context, so per-example
        values read as columns ``[:, None]`` and parameter vectors as rows ``[None, :]``."""
        sch = self.sch
        e = sch.g.producer[v]
        far = v in self.reload and self.stage >= self.reload[v]     # stored, loaded again (_far_reads)
        if (v in self.acc or v in self.local) and not far and self.made.get(v, self.stage) != self.stage:
            self.reads.setdefault(v, set()).add(self.stage)
        if v in self.acc and not far:
            return self._sym(self.acc[v], sch.width_of(v) is None and tile)
        if v in self.inline or v in self.plan.unbatched:
            return e.params[0].xreplace({R.ph(i): self.expr(u.id, tile) for i, u in enumerate(e.inputs)})
        if v in self.local and not far:
            return self._sym(self.name(v), sch.width_of(v) is None and tile)
        if e.prim is R.const_p:
            u = R.uniform_value(sch.g, e.out)
            if u is None and _is_iota(e) and tile:
                return self.column_index()      # [0, 1, …, n−1]: the entry's index in the row
            if u is None:
                raise UnsupportedError(f"{sch.describe(v)}: a constant matrix inside an elementwise body is not "
                                       f"supported by the Triton backend; make it an input (or a parameter)")
            return u
        if e.prim in (R.transpose_p, R.broadcast_p) or (e.prim is R.sum_p and sch._identity_sum(e)):
            return self.expr(e.inputs[0].id, tile)
        # in memory: a leaf, or a value an earlier kernel stored
        val = sch.value[v]
        if self.name(v) == "scale":
            self.loads[v] = "arg"
            return sp.Symbol("scale")
        if val.batched:
            w = sch.width_of(v)
            if v in self.drop:              # a dropout mask: drawn, not loaded (DROPOUT)
                if w is not None and w != self.width:
                    raise UnsupportedError(f"{sch.describe(v)} has {w} entries per example but is read in a kernel "
                                           f"over {self.width}; compile for target='numpy'")
                self.loads.setdefault(v, "drop")
                return self._sym(self.name(v), tile) if w is None else sp.Symbol(self.name(v))
            if w is None:
                self.loads.setdefault(v, "row")
                return self._sym(self.name(v), tile)
            if w != self.width:
                raise UnsupportedError(f"{sch.describe(v)} has {w} entries per example but is read in a kernel "
                                       f"over {self.width}; compile for target='numpy'")
            self.loads.setdefault(v, "tile")
            return sp.Symbol(self.name(v))
        if val.shape == ():
            self.loads.setdefault(v, "scalar")
            return sp.Symbol(self.name(v))
        if 1 in val.shape and max(val.shape) == self.width:
            self.loads.setdefault(v, "vector")
            return sp.Symbol(f"{self.name(v)}[None, :]")
        raise UnsupportedError(f"{sch.describe(v)}: a value of the parameters of shape {val.shape} cannot be read in a kernel "
                               f"over {self.width} entries per example")

    def column_index(self):
        """The index of each entry of the tile's rows, as a SymPy symbol the printer prints as is."""
        return sp.Symbol(f"offs_n{self.sfx}[None, :]", integer=True)

    @staticmethod
    def _sym(name: str, as_column: bool):
        return sp.Symbol(f"{name}[:, None]" if as_column else name)


def _rows_kernel(kname: str, k: Kernel, j: int, plan: Plan, sch: KernelScheduler, lw: Lowered,
                 names: dict, printer: TritonPrinter, precision: str = "ieee", labels: dict | None = None,
                 fresh: frozenset = frozenset()):
    """A rows kernel (`_rows_kernel_of`); in a kernel of many stages, the values a stage reads more than
    `RELOAD_GAP` stages after the last one that read them (or made them) are stored where they are
    made and loaded again there (`_far_reads`), so that they do not hold registers in between."""
    out = _rows_kernel_of(kname, k, j, plan, sch, lw, names, printer, precision, labels, fresh, {})
    note = heavy_kernel_note(k.stages or [k], sch)
    if note and not settings._interpreted():
        import warnings
        warnings.warn(f"{kname}: {note}", stacklevel=2)
    reload = _far_reads(out[3], k.stages or [k], plan, sch, precision)
    if not reload:
        return out[:3]
    return _rows_kernel_of(kname, k, j, plan, sch, lw, names, printer, precision, labels, fresh, reload)[:3]


def heavy_kernel_note(stages: list, sch: KernelScheduler) -> str | None:
    """What to tell the user before a GPU compiles a rows kernel predicted to be slow to compile: one
    with a second convolution (products with constant 0/1 selections) and more than HEAVY_STAGES
    stages. Measured for sm_90 on a 2-core machine (docs/triton.md, "Sixth session"): the small LeNet's
    104 stages compile in 90 s without spills; the 8×8 LeNet's 368 took 30 minutes (before values
    were loaded again, spilling 10 KB a thread). None when not predicted heavy."""
    selections = sum(st.matmul is not None and _zero_one(sch, st.matmul[2]) for st in stages)
    if len(stages) <= settings.HEAVY_STAGES or not selections:
        return None
    return (f"a rows kernel of {len(stages)} stages ({selections} of them products selecting a second "
            f"convolution's windows) may take many minutes to compile for the GPU on its first call (an 8×8 "
            f"LeNet's 368 stages took 30 minutes for sm_90 on 2 cores; docs/triton.md). To avoid the wait: "
            f"fewer positions in the second convolution (a stride, or pooling before it), or target='numpy'")


def _far_reads(rb: "_RowsBody", stages: list, plan: Plan, sch: KernelScheduler, precision: str) -> dict:
    """{var id: the stage that loads it again} for the values of a kernel of more than MANY_STAGES
    stages read at a stage more than RELOAD_GAP after the previous read (or the stage that made it):
    a LeNet's forward values of its first map (relu′'s pre-activations, the pooling's maxima)
    stayed live in registers across the whole second convolution, forward and back, and its rows
    kernel spilled (docs/triton.md, "Sixth session"). Only in a kernel with a second convolution (a
    product with a constant 0/1 matrix: its windows' selections), where it was measured to help; the
    one-convolution CNNs keep theirs (the stride-2 one does not spill; the pooled 8×8 one, its values
    loaded again so, spilled 80 bytes instead of 40). Not in bf16 (stored rounded, a max's comparison read
    back could differ from the forward's), not a stack's member, not what is loaded anyway."""
    if len(stages) <= settings.MANY_STAGES or not settings.RELOAD_GAP or precision == "bf16" or \
            not any(st.matmul is not None and _zero_one(sch, st.matmul[2]) for st in stages):
        return {}
    out = {}
    for v, made in rb.made.items():
        if v in rb.loads or v in rb.inline or v in plan.unbatched or plan.stack_of(v) is not None:
            continue
        prev = made
        for u in sorted(rb.reads.get(v, ())):
            if u - prev > settings.RELOAD_GAP:
                if sch.width_of(v) is None or sch.width_of(v) == stages[u].width:
                    out[v] = u
                break
            prev = u
    return out


def _rows_kernel_of(kname: str, k: Kernel, j: int, plan: Plan, sch: KernelScheduler, lw: Lowered,
                    names: dict, printer: TritonPrinter, precision: str, labels: dict | None,
                    fresh: frozenset, reload: dict):
    """A rows kernel (see `codegen.schedule`): its source, the host line that runs it, and comments.
    A kernel of several stages (pass 8) names each stage's offsets and sizes with its number.
    ``labels``: var id of a class-label input -> (its entry in the record of bad labels, entries):
    a kernel that gathers at one checks it (`record_bad_labels`). ``fresh``: var ids the caller
    returns (allocated afresh, never a Workspace buffer)."""
    stages = k.stages or [k]
    many = len(stages) > 1
    bf16 = precision == "bf16"       # (B, N) activations stored and read back in bfloat16
    rb = _RowsBody(stages, plan, sch, names)
    rb.drop = {vid: (k, p) for k, (vid, _, p) in enumerate(lw.masks)}
    rb.reload = reload
    args, comments, calls = [], [], []

    def arg(a, comment, call):
        if a not in args:
            args.append(a)
            comments.append(comment)
            calls.append(call)

    const: list = []                 # (name, value, what)
    doc: list = []
    body: list = []                  # the kernel body after the program-id section
    stored_all: list = []
    uses_block_k = False
    emitted: set = set()
    defined = {"scale"}
    checked: set = set()             # class-label inputs this kernel checks
    raw: dict = {}                   # var id of a label loaded as given (int64, int32, float32) -> its name
    T = _I
    for si, st in enumerate(stages):
        sfx = str(si + 1) if many else ""
        rb.width, rb.sfx, rb.stage = st.width, sfx, si
        N = st.width or 1
        const.append((f"N{sfx}", N, "entries per example in the tile" + (f" of stage {sfx}" if many else "")))
        if st.matmul is not None:
            const.append((f"K{sfx}", sch.width_of(st.matmul[1]) or 1, "entries per example of the vectors multiplied"))
        const.append((f"BLOCK_N{sfx}", _pow2(N), f"≥ N{sfx}, a power of two: a program holds whole rows"))
        if many:
            body.append(f"{T}# -- stage {sfx}")
        defined.add(f"offs_n{sfx}")
        body += [f"{T}offs_n{sfx} = tl.arange(0, BLOCK_N{sfx})",
                 f"{T}mask_n{sfx} = offs_n{sfx} < N{sfx}",
                 f"{T}mask{sfx} = mask_m[:, None] & mask_n{sfx}[None, :]"]
        mm = st.matmul
        if mm is not None:
            eqn, a, P, flip = mm
            acc = f"acc{sfx}"
            an, wn = rb.name(a), rb.name(P)
            # a slice or concatenation of an example's values (kernel_form's S·h, S of 0s and 1s) is
            # exact in "ieee"; tf32 would round what it moves (bf16 rounds it as it stores activations)
            prec = "ieee" if precision in ("tf32", "tf32x3") and _zero_one(sch, P) else precision
            if a not in rb.local:
                arg(f"{an}_ptr", f"(B, K) the vectors multiplied: {_label(an, sch.notes.get(a))}", an)
            arg(f"{wn}_ptr", ("(K, N) " if flip else "(N, K) ") + f"{wn}, {_clip(sch.notes.get(P, ''))}"
                + (" (read transposed)" if flip else ""), wn)
            # (each stage passes its weight's strides, even when an earlier stage read the same weight:
            # shared names made the bag-of-4 kernel of test_triton_matrix_rows spill 48 bytes on sm_90)
            swn, swk = f"stride_w{sfx}n", f"stride_w{sfx}k"
            arg(swn, f"stride of {wn} along an output entry", f"{wn}.stride({1 if flip else 0})")
            arg(swk, f"stride of {wn} along the sum", f"{wn}.stride({0 if flip else 1})")
            Mt = f"{wn}ᵀ" if not flip else wn
            doc.append(f"{acc} = {an} @ {Mt}  (the batch of {_math_eqn(eqn)})")
            # a per-example scalar (a width-1 output's δ) is the tile's first column; an earlier stage's
            # product read as it is (x @ W1 @ W2: no epilogue between them) is that stage's accumulator
            an_reg = rb.acc.get(a, an)
            an_tile = f"{an_reg}[:, None]" if sch.width_of(a) is None else an_reg
            # a wide operand of a kernel of many stages that an earlier stage stored anyway (a second
            # convolution's window, stacked for its weight's gradient) is read back in K-steps: held in
            # registers whole, a K of 64 takes 64 + 64 registers a thread for the FMA product's operands,
            # and the kernel spilled on sm_90 (settings.REGISTER_K; docs/triton.md). (Storing the wide
            # operands nothing stores, W2ᵀ·δ_p of the backward's selections, to read them so too spilled
            # more: 400 bytes where these alone leave 176, measured.)
            stepped = a in rb.local and len(stages) > settings.MANY_STAGES and settings.REGISTER_K and \
                (sch.width_of(a) or 1) > settings.REGISTER_K and rb.made.get(a, si) < si and \
                (a in plan.stored or plan.stack_of(a) is not None) and a not in rb.acc
            if stepped:
                body.append(f"{T}tl.debug_barrier()  # {an}, stored by an earlier stage, is read back in K-steps")
            picks = _picks(sch, P, flip) if a in rb.local and not stepped and settings.SELECTION_PICKS \
                and sch.width_of(a) is not None else None
            if picks is not None:       # a 0/1 selection of columns of a tile in registers: picked, no tl.dot
                ka = f"offs_k{sfx}"
                body += [f"{T}# -- {acc} = {an} @ {Mt}: {an}'s columns picked (a 0/1 selection; no tl.dot, whose "
                         f"FMA operands would hold whole K-long rows a thread)",
                         f"{T}{ka} = tl.arange(0, BLOCK_N{_stage_of(stages, a, many)})",
                         f"{T}{acc} = tl.zeros((BLOCK_M, BLOCK_N{sfx}), dtype=tl.float32)"]
                body += [f"{T}{acc} += tl.where(offs_n{sfx}[None, :] == {n}, tl.sum(tl.where({ka}[None, :] == {k}, "
                         f"{an_tile}, 0.0), axis=1)[:, None], 0.0)" for k, n in picks]
            elif a in rb.local and not stepped:      # made by an earlier stage: still in registers, whole rows
                body += [f"{T}# -- {acc} = {an} @ {Mt}: {an} is in registers (whole rows, zero beyond K{sfx})",
                         f"{T}offs_k{sfx} = tl.arange(0, BLOCK_N{_stage_of(stages, a, many)})",
                         f"{T}w{sfx} = tl.load({wn}_ptr + offs_k{sfx}[:, None] * {swk} + offs_n{sfx}[None, :] * {swn},",
                         f"{T}             mask=(offs_k{sfx}[:, None] < K{sfx}) & mask_n{sfx}[None, :], other=0.0)",
                         f"{T}{acc} = " + _dot(f"tl.where((offs_k{sfx} < K{sfx})[None, :], {an_tile}, 0.0)",
                                               f"w{sfx}", None, prec)]
            else:
                uses_block_k = True
                arg(f"stride_{an}", f"row stride of {an}", f"{an}.stride(0)")
                body += [f"{T}# -- iterate over K: {acc} = {an} @ {Mt}, accumulated in fp32",
                         f"{T}{acc} = tl.zeros((BLOCK_M, BLOCK_N{sfx}), dtype=tl.float32)",
                         f"{T}for k0 in range(0, K{sfx}, BLOCK_K):",
                         f"{T}    offs_k = k0 + tl.arange(0, BLOCK_K)",
                         f"{T}    a = tl.load({an}_ptr + offs_m[:, None] * stride_{an} + offs_k[None, :],",
                         f"{T}                mask=mask_m[:, None] & (offs_k[None, :] < K{sfx}), other=0.0)",
                         f"{T}    w = tl.load({wn}_ptr + offs_k[:, None] * {swk} + offs_n{sfx}[None, :] * {swn},",
                         f"{T}                mask=(offs_k[:, None] < K{sfx}) & mask_n{sfx}[None, :], other=0.0)",
                         f"{T}    {acc} = " + _dot("a", "w", acc, prec)]
            if sch.width_of(eqn.out.id) is None:
                # one output entry (a convolution with one filter: W_mat (1, K) · patch): the tile's
                # first column, the others 0 (the weight is loaded masked beyond N); read as the
                # per-example number it is, as every other per-example value
                body.append(f"{T}{acc} = tl.sum({acc}, axis=1)  # the one output entry per example")
            rb.acc[eqn.out.id] = acc
            rb.local.add(eqn.out.id)
            rb.made[eqn.out.id] = si
            defined.add(acc)
        # -- the statements: named equations, in graph order; inline ones are substituted
        stmts = []
        label_checks = []            # (class-label input, number of classes) gathered at here
        for e in st.eqns:
            v = e.out.id
            if v in rb.inline:
                continue
            nm = rb.name(v)
            if e.prim.name == "slice":      # x[a:b:c] of an input's rows: loaded with an offset and a step
                (x,) = e.inputs
                (a, _, c), _ = e.params[0]
                rb.loads[v], rb.slices[v] = "slice", (x.id, int(a), int(c))
                doc.append(f"{nm} = {rb.name(x.id)}[{int(a)}::{int(c)}]  (entries of each example's row)")
                rb.local.add(v)
                continue
            if e.prim.name == "patch":      # a convolution's window of an input image: loaded by its index table
                (x,) = e.inputs
                rb.loads[v], rb.patches[v] = "patch", (x.id, e.params)
                (C, H, W), (KH, KW), (r0, c0), _ = e.params
                doc.append(f"{nm} = the {KH}×{KW} window of {rb.name(x.id)} ({C}, {H}, {W}) at ({r0}, {c0})  "
                           f"(a convolution's patch, zeros outside the image)")
                rb.local.add(v)
                continue
            if e.prim is R.take_row_p:      # an embedding: row k of a parameter, loaded (not computed)
                M, k = e.inputs
                k, x = _index_of(sch, k.id), _index_input(sch, k.id)
                if k is None:
                    raise UnsupportedError(f"{sch.describe(v)}: the Triton backend reads the rows of an embedding at "
                                           f"an integer input (E[ids]), not at a computed index; compile for "
                                           f"target='numpy'")
                rb.expr(k, False)            # the index first (its load comes before the row's)
                rb.loads[v], rb.rows_at[v] = "rows_at", (M.id, k)
                if labels and x in labels:          # an index out of range: noted, as a class label's
                    label_checks.append((k, int(M.shape[0]), x))
                doc.append(f"{nm} = {rb.name(M.id)}[{rb.name(k)}, :]  (the row at each example's index)")
                rb.local.add(v)
                continue
            if e.prim is R.ewise_p:
                tile = sch.width_of(v) is not None
                stmts.append((nm, "let", e.params[0].xreplace({R.ph(i): rb.expr(u.id, tile)
                                                               for i, u in enumerate(e.inputs)})))
            elif e.prim is R.matmul_p:      # s·wᵀ: a per-example scalar times a parameter vector
                tile = sch.width_of(v) is not None
                stmts.append((nm, "let", rb.expr(e.inputs[0].id, tile) * rb.expr(e.inputs[1].id, tile)))
            elif e.prim is R.sum_p and sch.width_of(e.inputs[0].id) is None:
                # Σ of one number per example: itself (a sum over the tile would count it once per
                # column); a width-1 product's accumulator is such a number too (summed over its tile)
                stmts.append((nm, "let", rb.expr(e.inputs[0].id, False)))
            elif e.prim is R.sum_p:
                stmts.append((nm, "sum", rb.expr(e.inputs[0].id, True)))
            elif e.prim is R.gather_p:      # z[k] = Σ_n z_n·[n = k], k the example's class label
                z, k = (rb.expr(u.id, True) for u in e.inputs)
                # (a select, not z·[n = k]: an entry −inf elsewhere in the row, a masked logit, would
                # make −inf·0 = NaN)
                stmts.append((nm, "sum", sp.Piecewise((z, sp.Eq(rb.column_index(), k)), (0, True))))
                x = _index_input(sch, e.inputs[1].id)      # the labels' input (a pixel's: an entry of its row)
                if labels and x in labels:
                    label_checks.append((_index_of(sch, e.inputs[1].id), int(e.inputs[0].shape[0]), x))
            elif e.prim is R.argmax_entry_p:
                stmts.append((nm, "argmax", rb.expr(e.inputs[0].id, True)))
            else:
                stmts.append((nm, "lse", rb.expr(e.inputs[0].id, True)))
            doc.append(f"{nm} = {_math(stmts[-1])}")
            rb.local.add(v)
        for e in st.eqns:
            rb.local.add(e.out.id)
            rb.made[e.out.id] = si
        new_loads = [(v, how) for v, how in rb.loads.items() if v not in emitted and how != "arg"]
        if new_loads:
            body.append(f"{T}# -- load")
        if any(v in reload for v, _ in new_loads):
            # what an earlier stage of this program stored, maybe from other threads: stores first
            body += [f"{T}# -- " + ", ".join(rb.name(v) for v, _ in new_loads if v in reload) +
                     ": stored by an earlier stage, loaded again here (not held in registers in between)",
                     f"{T}tl.debug_barrier()"]
        for v, how in new_loads:
            emitted.add(v)
            nm = rb.name(v)
            note = sch.notes.get(v)
            if how == "slice":
                x, a, c = rb.slices[v]
                xn = rb.name(x)
                arg(f"{xn}_ptr", f"(B, K) {_label(xn, sch.notes.get(x))}", xn)
                arg(f"stride_{xn}", f"row stride of {xn}", f"{xn}.stride(0)")
                at = f"{xn}_ptr + offs_m{'[:, None]' if sch.width_of(v) else ''} * stride_{xn} + {a}"
                if labels and x in labels and sch.width_of(v) is None:     # a bag's index: integer or float
                    body += [f"{T}{nm}_in = tl.load({at}, mask=mask_m, other=0)  # int64, int32 or float32",
                             f"{T}{nm} = {nm}_in.to(tl.float32)"]
                    raw[v] = f"{nm}_in"
                    defined.add(nm)
                    continue
                body.append(f"{T}{nm} = tl.load({at}, mask=mask_m, other=0.0)" if sch.width_of(v) is None else
                            f"{T}{nm} = tl.load({at} + offs_n{sfx}[None, :]{f' * {c}' if c != 1 else ''}, "
                            f"mask=mask{sfx}, other=0.0)")
                defined.add(nm)
                continue
            if how == "patch":
                body += _patch_load(rb, v, nm, sfx, arg, defined)
                continue
            if how == "drop":
                mk, mp = rb.drop[v]
                w = sch.width_of(v)
                arg("drop_count_ptr", "float64: the steps done (entry 0), a part of the masks' seed", "drop_count")
                arg("drop_seed", "int: the masks' seed (the program's, or a dropout_seed's)", "drop_seed")
                if "drop_base" not in defined:
                    defined.add("drop_base")
                    body += [f"{T}# -- dropout: mask k's seed is drop_base + k; an entry's offset is its index b·N + n",
                             f"{T}drop_base = drop_seed.to(tl.int64) * 4294967296 + "
                             f"tl.load(drop_count_ptr).to(tl.int64) * 64"]
                at = "offs_m" if w is None else f"offs_m[:, None] * {w} + offs_n{sfx}[None, :]"
                body.append(f"{T}{nm} = tl.where(tl.rand(drop_base + {mk}, {at}) >= {mp!r}, {1.0 / (1.0 - mp)!r}, 0.0)"
                            f"  # dropout mask {mk}: kept with probability {1 - mp:g}, scaled by 1/{1 - mp:g}")
                defined.add(nm)
                continue
            if how == "rows_at":
                M, k = rb.rows_at[v]
                mn, kn, n = rb.name(M), rb.name(k), int(sch.g.producer[M].out.shape[0])
                arg(f"{mn}_ptr", f"({n}, N) {mn}, {_clip(sch.notes.get(M, ''))}: rows read at {kn}", mn)
                arg(f"stride_{mn}", f"row stride of {mn}", f"{mn}.stride(0)")
                body += [f"{T}# {nm} = {mn}[{kn}]: an index out of range (not 0 … {n - 1}) reads nothing (the host "
                         f"checks them)",
                         f"{T}{nm}_ok = mask_m & ({kn} >= 0) & ({kn} < {n}) & ({kn} == tl.floor({kn}))",
                         f"{T}{nm}_row = tl.where({nm}_ok, {kn}, 0.0).to(tl.int64)",
                         f"{T}{nm} = tl.load({mn}_ptr + {nm}_row[:, None] * stride_{mn} + offs_n{sfx}[None, :], "
                         f"mask={nm}_ok[:, None] & mask_n{sfx}[None, :], other=0.0)"]
                defined.add(nm)
                continue
            shape = {"tile": "(B, N)", "row": "(B,)", "vector": "(N,)", "scalar": "()"}[how]
            arg(f"{nm}_ptr", f"{shape} {_label(nm, note)}", nm)
            if how == "tile":
                arg(f"stride_{nm}", f"row stride of {nm}", f"{nm}.stride(0)")
                body.append(f"{T}{nm} = tl.load({nm}_ptr + offs_m[:, None] * stride_{nm} + offs_n{sfx}[None, :], "
                            f"mask=mask{sfx}, other=0.0)" + (".to(tl.float32)" if bf16 else ""))
            elif how == "row" and labels and v in labels:     # class labels, row indices: integer or float
                body += [f"{T}{nm}_in = tl.load({nm}_ptr + offs_m, mask=mask_m, other=0)  # int64, int32 or float32",
                         f"{T}{nm} = {nm}_in.to(tl.float32)"]
                raw[v] = f"{nm}_in"
            elif how == "row":
                body.append(f"{T}{nm} = tl.load({nm}_ptr + offs_m, mask=mask_m, other=0.0)")
            elif how == "vector":
                body.append(f"{T}{nm} = tl.load({nm}_ptr + offs_n{sfx}, mask=mask_n{sfx}, other=0.0)")
            else:
                body.append(f"{T}{nm} = tl.load({nm}_ptr)")
            defined.add(nm)
        # -- class labels: the gather below reads nothing out of bounds whatever the label (it compares
        #    k with the column index); a label out of range is noted for the host and the update, right after
        #    the loads, so that the raw labels (int64) are not held through the stage's compute
        if label_checks:
            body.append(f"{T}# -- class labels in range? (the first bad one is noted; step's update then skips)")
        for v, n, x in label_checks:
            if (v, n) in checked:
                continue
            checked.add((v, n))
            arg("labels_ptr", "(n + 1,) int64 in/out: the record of bad class labels (record_bad_labels)", "labels")
            slot, n_slots = labels[x]
            body.append(f"{T}record_bad_labels(labels_ptr, {slot}, {n_slots}, {raw.get(v, rb.name(v))}, offs_m, "
                        f"mask_m, {n})")
        # -- one CSE over every body of the stage (forward and backward together)
        exprs = [x[2] for x in stmts]
        tsym = sp.numbered_symbols(f"t{sfx}_" if many else "t")
        repl, reduced = sp.cse(exprs, symbols=tsym, optimizations=None) if exprs else ([], [])
        items = [(str(x), "let", e) for x, e in repl] + [(n, kd, e) for (n, kd, _), e in zip(stmts, reduced)]
        if items:
            body.append(f"{T}# -- compute (one CSE over the {'stage' if many else 'kernel'}'s bodies)")
        pending = list(items)
        while pending:
            for idx, (nm, kd, x) in enumerate(pending):
                reads = {q.name.split("[")[0] for q in x.free_symbols} if isinstance(x, sp.Basic) else set()
                if reads <= defined:
                    break
            else:   # pragma: no cover - the graph is acyclic
                raise AssertionError("kernel statements have a cycle")
            pending.pop(idx)
            body += [T + c for c in _statement(nm, kd, x, printer, sfx)]
            defined.add(nm)
        # -- write back what later launches read
        here = [e.out.id for e in st.eqns] + ([mm[0].out.id] if mm else [])
        stored = [v for v in here if v in plan.stored or v in reload]
        if stored:
            body.append(f"{T}# -- write back")
        for v in stored:
            nm = rb.name(v)
            src = rb.acc.get(v, nm)
            shape = "(B,)" if sch.width_of(v) is None else "(B, N)"
            arg(f"{nm}_ptr", f"{shape} out: {_label(nm, sch.notes.get(v))}", nm)
            if sch.width_of(v) is None and plan.stack_of(v) is not None:     # a number per example, in a stack
                arg(f"stride_{nm}", f"row stride of {nm} (a stack's member)", f"{nm}.stride(0)")
                body.append(f"{T}tl.store({nm}_ptr + offs_m * stride_{nm}, {src}, mask=mask_m)")
            elif sch.width_of(v) is None:
                body.append(f"{T}tl.store({nm}_ptr + offs_m, {src}, mask=mask_m)")
            else:
                arg(f"stride_{nm}", f"row stride of {nm}", f"{nm}.stride(0)")
                body.append(f"{T}tl.store({nm}_ptr + offs_m[:, None] * stride_{nm} + offs_n{sfx}[None, :], "
                            f"{src}{'.to(tl.bfloat16)' if bf16 else ''}, mask=mask{sfx})")
        stored_all += stored
    if "arg" in rb.loads.values():
        arg("scale", "the seed of reverse mode: 1/B for the mean over the batch", "scale")
    arg("B", "examples in the batch (rows)", "B")
    arg("B_BUCKET", "B rounded up to a power of two: the autotuning key", "bucket(B)")
    # pointers first, then scalars, then strides (the tutorials' order)
    order = sorted(range(len(args)), key=lambda i: (0 if args[i].endswith("_ptr") else
                                                    2 if args[i].startswith("stride_") else 1, i))
    args, comments, calls = ([xs[i] for i in order] for xs in (args, comments, calls))

    # -- the kernel source
    tile = max(val for c, val, _ in const if c.startswith("BLOCK_N"))
    jit = "@triton.jit(do_not_specialize=[\"drop_seed\"])" if "drop_seed" in args else "@triton.jit"
    many_arg = f", stages={len(stages)}" if len(stages) > settings.MANY_STAGES else ""
    L = ["", "", f"@triton.autotune(configs=rows_configs({uses_block_k}, {tile}{many_arg}), key=[\"B_BUCKET\"])", jit,
         f"def {kname}("]
    width = max(len(a) for a in args + [c for c, _, _ in const]) + 2
    # strides symgrad decides are constexprs in a kernel of many stages (a convolution's positions) and
    # for a stack's members (count·width: one row offset then serves every member): the pooled 8×8 CNN's
    # rows kernel spilled 112 bytes a thread on sm_90 with its 300 strides runtime arguments, 56 with
    # the stacks' constexpr, 40 with all (codegen.triton_aot; docs/triton.md)
    fixed = {f"stride_{rb.name(v)}" for st in plan.stacks for v in st.members}
    if len(stages) > settings.MANY_STAGES:
        fixed |= {a for a, c in zip(args, calls) if a.startswith("stride_") and _known_stride(c, sch, names).isdigit()}
    for a, c in zip(args, comments):
        L.append(f"{_I}{(a + (': tl.constexpr,' if a in fixed else ',')).ljust(width + (14 if a in fixed else 0))}# {c}")
    for c, val, what in const:
        L.append(f"{_I}{(c + ': tl.constexpr,').ljust(width + 14)}# {what} ({val})")
    L.append(f"{_I}BLOCK_M: tl.constexpr,{' ' * 4}# examples per program")
    if uses_block_k:
        L.append(f"{_I}BLOCK_K: tl.constexpr,{' ' * 4}# step of the sum over K")
    L.append("):")
    if stored_all:
        doc.append("stores " + ", ".join(rb.name(v) for v in stored_all))
    if many:
        doc.insert(0, f"{len(stages)} stages, one after the other on the same block of examples:")
    L.append(f'{_I}"""' + (doc[0] if doc else kname))
    if len(doc) > 1:
        L.append("")
        L += [f"{_I}    {d}" for d in doc[1:]]
        L.append(f'{_I}"""')
    else:
        L[-1] += '"""'
    L.append(f"{T}# -- map the program id to a block of rows (examples)")
    L.append(f"{T}pid = tl.program_id(0)")
    L.append(f"{T}offs_m = pid * BLOCK_M + tl.arange(0, BLOCK_M)")
    L.append(f"{T}mask_m = offs_m < B")
    L += body

    # -- the host wrapper: check, allocate, grid, launch
    outs = [rb.name(v) for v in stored_all]
    ins = list(dict.fromkeys(c for c, a in zip(calls, args) if a.endswith("_ptr") and c not in outs))
    outs += [s.name for s in plan.stacks if set(s.members) <= set(stored_all)]
    wrapper_args = ins + (["scale"] if "scale" in calls else []) + (["drop_seed"] if "drop_seed" in calls else []) + ["B"]
    W = ["", "", f"def launch_{kname}({', '.join(wrapper_args)}, ws=None):",
         f'{_I}"""Run {kname}: {", ".join(outs)} from {", ".join(ins) or "the arguments"}' + _CHECKED]
    dev = f"{ins[0]}.device" if ins else "'cuda'"
    stacks = [s for s in plan.stacks if set(s.members) <= set(stored_all)]
    in_stack = {v for s in stacks for v in s.members}
    for s in stacks:        # members side by side (B, count, width): one product reads them all (schedule.Stack)
        dt = ", STORE" if bf16 else ""
        W.append(f"{_I}{s.name} = empty(ws, \"{kname}.{s.name}\", (B, {len(s.members)}, {s.width}), {dev}{dt})"
                 f"  # {len(s.members)} rows of {s.width} per example, side by side")
        W.append(f"{_I}{', '.join(rb.name(v) for v in s.members)} = {s.name}.unbind(1)")
    for v in stored_all:
        if v in in_stack:
            continue
        shape = "(B,)" if sch.width_of(v) is None else f"(B, {sch.width_of(v)})"
        dt = ", STORE" if sch.width_of(v) is not None and bf16 else ""
        W.append(f"{_I}{rb.name(v)} = empty(ws, \"{kname}.{rb.name(v)}\", {shape}, {dev}{dt})" if v not in fresh else
                 f"{_I}{rb.name(v)} = empty(None, \"{kname}.{rb.name(v)}\", {shape}, {dev}{dt})  # returned: its own")
    W.append(f"{_I}grid = lambda META: (cdiv(B, META[\"BLOCK_M\"]),)")
    W.append(_launch_line(kname, args, calls, const, sch, names))
    W.append(f"{_I}return {', '.join(outs)}" + ("," if len(outs) == 1 else ""))
    src = "\n".join(L + W)
    lhs = ", ".join(outs) + ("," if len(outs) == 1 else "")
    call = f"{lhs} = launch_{kname}({', '.join(wrapper_args)})"
    lines = [d for d in doc if not d.startswith(("stores", f"{len(stages)} stages"))]
    host = [f"{kname}: " + "; ".join(lines[:3]) + (" ..." if len(lines) > 3 else "")]
    return src, call, [safe_text(c) for c in host], rb


def _picks(sch: KernelScheduler, P: int, flip: bool, most: int = 16):
    """The (k, n) pairs of a product's constant 0/1 matrix M (``a @ M``: Pᵀ, or P when ``flip``) with
    M[k, n] = 1 — acc[:, n] is the sum of a[:, k] over them — when there are at most ``most``; else None.
    (`settings.SELECTION_PICKS`.)"""
    if not _zero_one(sch, P):
        return None
    M = sch.g.producer[P].params[0]
    M = M if flip else M.T
    pairs = [(k, n) for k in range(M.shape[0]) for n in range(M.shape[1]) if M[k, n] == 1]
    return pairs if 0 < len(pairs) <= most else None


def _read_twice(c, v: int) -> bool:
    """Elementwise equation ``c`` names var ``v`` more than once in its body (a running max
    where(r > m, r, m)): ``v`` is then kept as a named temporary, not substituted, or a chain of
    such equations (the max over a pooling window, a bag's max) would double at every link."""
    if c.prim is not R.ewise_p:
        return False
    body = c.params[0]
    return sum(body.count(R.ph(i)) for i, u in enumerate(c.inputs) if u.id == v) > 1


def _is_iota(e) -> bool:
    """A constant column or row [0, 1, …, n−1] (the entry indices gather's VJP compares labels with)."""
    val = e.params[0]
    if not isinstance(val, sp.MatrixBase) or 1 not in val.shape:
        return False
    return all(x == i for i, x in enumerate(val))


def _stage_of(stages: list, v: int, many: bool) -> str:
    """The suffix of the stage that computes var ``v``."""
    for si, st in enumerate(stages):
        if any(e.out.id == v for e in st.eqns) or (st.matmul and st.matmul[0].out.id == v):
            return str(si + 1) if many else ""
    raise AssertionError(f"v{v} is not computed by any stage")   # pragma: no cover


def _math(stmt) -> str:
    nm, kd, x = stmt
    s = sp.sstr(x).replace("[:, None]", "").replace("[None, :]", "")
    return {"let": s, "sum": f"Σ_n {s}", "lse": f"log Σ_n exp({s})", "argmax": f"first argmax_n {s}"}[kd]


def _math_eqn(e) -> str:
    return str(e).split(" : ")[0]


def _statement(nm: str, kd: str, x, printer: TritonPrinter, sfx: str = "") -> list:
    code = printer.doprint(x)
    if kd == "let":
        return [f"{nm} = {code}"]
    if kd == "sum":
        return [f"{nm} = tl.sum(tl.where(mask_n{sfx}[None, :], {code}, 0.0), axis=1)"]
    if kd == "argmax":
        # the first n with z_n = max z (NumPy's argmax: the first NaN if there is one), so that
        # z[k] routes the gradient to the first arg-max, ties included (the subgradient policy)
        return [f"{nm}_z = tl.where(mask_n{sfx}[None, :], {code}, -float(\"inf\"))",
                f"{nm}_max = tl.max({nm}_z, axis=1)",
                f"{nm}_at = tl.where({nm}_z != {nm}_z, offs_n{sfx}[None, :], tl.where({nm}_z == {nm}_max[:, None], "
                f"offs_n{sfx}[None, :] + BLOCK_N{sfx}, 2 * BLOCK_N{sfx}))",
                f"{nm} = (tl.min({nm}_at, axis=1) % BLOCK_N{sfx}).to(tl.float32)"]
    # log Σ exp(z) = m + log Σ exp(z − m), m = max z: no exp of a large number
    return [f"{nm}_z = tl.where(mask_n{sfx}[None, :], {code}, -float(\"inf\"))",
            f"{nm}_max = tl.max({nm}_z, axis=1)",
            # a row of -inf only (masked throughout): shift by 0, so that it is -inf as torch's, not NaN
            f"{nm}_max = tl.where(tl.abs({nm}_max) < float(\"inf\"), {nm}_max, 0.0)",
            f"{nm} = {nm}_max + tl.log(tl.sum(tl.exp({nm}_z - {nm}_max[:, None]), axis=1))"]
