"""The update (and finish) kernel of the Triton backend: ONE launch over every parameter, stage 2 of
the sums over the batch, then the optimizer's scalar rules entry by entry (``finish``: the sums only,
for ``grad``)."""
from __future__ import annotations

import math

import sympy as sp

from symgrad.compiling.compiler import Spec, safe_text

from .numpy_backend import _slots
from .printers.triton_printer import TritonPrinter
from . import triton_settings as settings
from .triton_text import _I, _clip, _numel
from .triton_module_head import _Out


# -------------------------------------------------------------------------------------------------
# The update (and finish) kernel: one launch over every parameter


def _hoist(exprs, t):
    """Replace the largest subexpressions that depend on the step t alone by symbols h0, h1, ...:
    the update kernel computes them once per program from the device's step count, in float64
    (bias corrections 1/(1 − β₁ᵗ), schedules), and hands them to the blocks in fp32."""
    found: dict = {}

    def visit(e):
        if e.free_symbols and e.free_symbols <= {t}:
            if e not in found:
                found[e] = sp.Symbol(f"h{len(found)}")
            return found[e]
        if not e.args:
            return e
        return e.func(*[visit(a) for a in e.args])
    return [visit(sp.sympify(e)) for e in exprs], found


class _StepCountPrinter(TritonPrinter):
    """The Triton printer for the factors of the step t alone, computed in the update kernel from a
    float64 t: also floor and ceiling (a step-decay schedule, `optim.LinearAnnealing`). A float literal
    next to a float64 value is a float64 constant in Triton (a "weak" literal takes the tensor's
    type; bᵗ prints as tl.exp(t·log b) with log b to 17 digits), so nothing is rounded to fp32 before
    the factor is."""
    FUNCTIONS = {**TritonPrinter.FUNCTIONS,
                 "floor": lambda p, x: f"tl.floor({p._print(x)})",
                 "ceiling": lambda p, x: f"tl.ceil({p._print(x)})"}
    TARGET = "Triton (a factor of the optimizer's step t)"


def _step_factor(e, printer) -> str:
    """The kernel's code of the hoisted factor ``e`` of t (a float64 scalar named ``t`` there): fp32
    for the blocks, a condition (t = 1: SGD's dampening starts on step 2) left as it is."""
    code = printer.doprint(e)
    if isinstance(e, sp.logic.boolalg.Boolean):
        return f"({code})"
    return f"({code}).to(tl.float32)"


def _segments_kernel(which: str, spec: Spec, printer: TritonPrinter, out: _Out, n_labels: int = 0) -> str:
    """``update``: for every parameter, g = Σ_s partial[s] (stage 2), then the optimizer's rules;
    ``finish``: g = Σ_s partial[s] only. One launch: program ids are dealt out to the parameters in
    segments of UPDATE_BLOCK entries. ``n_labels``: the class-label inputs the step checks on the
    device; the update then stores nothing while the record of bad labels holds one."""
    opt = spec.optimizer
    slots = list(_slots(spec)) if which == "update" else []
    sizes = [_numel(p) for p in spec.params]
    if which == "update":
        p, g, state, t = opt.symbols()
        p_new, slot_new = opt.rules(p, g, state, t)
        exprs = [sp.sympify(slot_new.get(s, state[s])) for s in slots] + [sp.sympify(p_new)]
        exprs, hoisted = _hoist(exprs, t)
        rename = {p: sp.Symbol("p"), g: sp.Symbol("g")}
        rename.update({state[s]: sp.Symbol(f"s{k}") for k, s in enumerate(slots)})
        exprs = [e.xreplace(rename) for e in exprs]
        repl, reduced = sp.cse(exprs, symbols=sp.numbered_symbols("u"), optimizations=None)
        hnames = [str(h) for h in hoisted.values()]
    else:
        hoisted, hnames = {}, []
    S = [f"s{k}" for k in range(len(slots))]

    if not out.loss_sum:
        out.loss_sum = True
        out.pieces.append(LOSS_SUM)
    ok = ", ok" if n_labels else ""     # the update's stores are predicated on the labels being in range
    L = ["", "", "@triton.jit",
         f"def {which}_block(p_ptr, part_ptr, {''.join(s + '_ptr, ' for s in S)}n_parts, "
         f"{''.join(h + ', ' for h in hnames)}numel, block{ok}, BLOCK: tl.constexpr):"]
    if which == "update":
        L.append(f'{_I}"""One block of one parameter: g = Σ_s partial[s], then {type(opt).__name__}, entry by entry:')
        L.append("")
        for s, e in zip(slots, [slot_new.get(s) for s in slots]):
            L.append(f"{_I}    {s} ← {safe_text(sp.sstr(e))}")
        L.append(f"{_I}    p ← {safe_text(sp.sstr(p_new))}")
        if slots:
            L.append("")
            L.append(f"{_I}slots: " + ", ".join(f"s{k} = {safe_text(repr(x))}" for k, x in enumerate(slots)))
        if hoisted:
            L.append(f"{_I}factors of the step t alone (update_kernel, float64, then fp32): "
                     + ", ".join(f"{h} = {safe_text(sp.sstr(e))}" for e, h in hoisted.items()))
        if n_labels:
            L.append(f"{_I}ok: every class label in range (else nothing is stored: the step is skipped)")
        L.append(f'{_I}"""')
    else:
        L.append(f'{_I}"""One block of one gradient: stage 2 of its sum over the batch, g = Σ_s partial[s]."""')
    L += [f"{_I}offs = block * BLOCK + tl.arange(0, BLOCK)",
          f"{_I}mask = offs < numel",
          f"{_I}# -- stage 2 of the sum over the batch: add the slices' partial sums (fp32)",
          f"{_I}g = tl.zeros((BLOCK,), dtype=tl.float32)",
          f"{_I}for s in range(0, n_parts):",
          f"{_I}    g += tl.load(part_ptr + s * numel + offs, mask=mask, other=0.0)"]
    if which == "finish":
        L.append(f"{_I}tl.store(p_ptr + offs, g, mask=mask)")
    else:
        L.append(f"{_I}# -- load the entries and their state")
        L.append(f"{_I}p = tl.load(p_ptr + offs, mask=mask, other=0.0)")
        for s in S:
            L.append(f"{_I}{s} = tl.load({s}_ptr + offs, mask=mask, other=0.0)")
        L.append(f"{_I}# -- the update rules (new values from the old ones)")
        for sym, e in repl:
            L.append(f"{_I}{sym} = {printer.doprint(e)}")
        for s, e in zip(S, reduced[:-1]):
            L.append(f"{_I}{s}_new = {printer.doprint(e)}")
        L.append(f"{_I}p_new = {printer.doprint(reduced[-1])}")
        m = "tl.where(ok, mask, False)" if n_labels else "mask"
        L.append(f"{_I}# -- write back" + (" (nothing when a class label is out of range)" if n_labels else ""))
        for s in S:
            L.append(f"{_I}tl.store({s}_ptr + offs, {s}_new, mask={m})")
        L.append(f"{_I}tl.store(p_ptr + offs, p_new, mask={m})")

    # the launch over all parameters
    nps = len(spec.params)
    args = []
    for i in range(nps):
        args += [f"p{i}_ptr", f"part{i}_ptr"] + [f"s{i}_{k}_ptr" for k in range(len(slots))] + [f"n_parts{i}"]
    L += ["", "", "@triton.jit", f"def {which}_kernel("]
    for i, prm in enumerate(spec.params):
        what = "out: ∂L/∂" if which == "finish" else "in/out: "
        L.append(f"{_I}p{i}_ptr,  # {what}p{i} ({sizes[i]} entries)")
        L.append(f"{_I}part{i}_ptr,  # (n_parts{i}, {sizes[i]}) partial sums of ∂L/∂p{i} over slices of the batch")
        for k, s in enumerate(slots):
            L.append(f"{_I}s{i}_{k}_ptr,  # in/out: the optimizer slot {s!r} of p{i}")
        L.append(f"{_I}n_parts{i},  # slices of the batch")
    total = sum(math.ceil(n / settings.UPDATE_BLOCK) for n in sizes) + 1      # programs: the blocks, then the loss sum
    if which == "update":
        L.append(f"{_I}t_ptr,  # ({total},) float64 in/out: the steps done before this one, a copy per program")
    if n_labels:
        L.append(f"{_I}labels_ptr,  # ({n_labels + 1},) int64 in/out: the record of bad class labels, then steps skipped")
    L.append(f"{_I}l_ptr,  # (B,) the per-example losses")
    L.append(f"{_I}loss_ptr,  # () out: the batch's loss, Σ_b L_b · scale")
    L.append(f"{_I}B,  # examples in the batch")
    L.append(f"{_I}scale,  # 1/B for the mean over the batch, 1 for the sum")
    L.append(f"{_I}BLOCK: tl.constexpr,  # entries per program")
    L.append("):")
    L.append(f'{_I}"""{"The optimizer update of every parameter" if which == "update" else "Every gradient"}, '
             f'in one launch: program ids are dealt out to the parameters in segments."""')
    L.append(f"{_I}pid = tl.program_id(0)")
    if which == "update":
        # Why a copy of the count per program: the programs of one launch run in any order, many at
        # once. With one shared count, the program that stores t + 1 may run before another has read
        # t, which would then compute its factors from t + 1 and leave t + 2 behind it; ordering them
        # would need a grid-wide barrier or atomics (an arrival counter: the last program to arrive
        # stores). Instead each program reads and writes only its own entry, so no program reads an
        # entry another writes, in any order; every copy advances at every step (none does in a
        # skipped one: every program reads the same record of labels), so they stay equal.
        L.append(f"{_I}# -- the step: t_ptr[pid] is this program's own copy of the steps done (see the")
        L.append(f"{_I}#    comment in codegen/triton_backend.py: no program reads a copy another writes)")
        L.append(f"{_I}t_done = tl.load(t_ptr + pid)")
        L.append(f"{_I}t = t_done + 1.0  # this step's number, float64")
        cp = _StepCountPrinter()
        for e, h in hoisted.items():
            L.append(f"{_I}{h} = {_step_factor(e, cp)}  # {_clip(sp.sstr(e), 50)}")
    if n_labels:
        MAX = "9223372036854775807"         # NO_BAD_LABEL: the entry of a label input with none bad
        L.append(f"{_I}# -- a class label out of range, in this step's batch or an earlier one's the host has")
        L.append(f"{_I}#    not read yet: no parameter, slot or step count changes (the step is skipped)")
        first = "tl.load(labels_ptr)"
        for j in range(1, n_labels):
            first = f"tl.minimum({first}, tl.load(labels_ptr + {j}))"
        L.append(f"{_I}first_bad = {first}")
        L.append(f"{_I}ok = first_bad == {MAX}")
        L.append(f"{_I}skip = first_bad < {MAX}")
    start = 0
    for i in range(nps):
        nb = math.ceil(sizes[i] / settings.UPDATE_BLOCK)
        kw = "if" if i == 0 else "elif"
        L.append(f"{_I}{kw} pid < {start + nb}:")
        sl = "".join(f"s{i}_{k}_ptr, " for k in range(len(slots)))
        L.append(f"{_I}    {which}_block(p{i}_ptr, part{i}_ptr, {sl}n_parts{i}, {''.join(h + ', ' for h in hnames)}"
                 f"{sizes[i]}, pid - {start}{ok}, BLOCK)")
        start += nb
    L.append(f"{_I}else:")
    if n_labels:
        L.append(f"{_I}    loss_sum(l_ptr, loss_ptr, B, tl.where(ok, scale, float(\"nan\")), BLOCK)  # skipped: NaN")
        L.append(f"{_I}    tl.store(labels_ptr + {n_labels}, tl.load(labels_ptr + {n_labels}) + 1, mask=skip)")
    else:
        L.append(f"{_I}    loss_sum(l_ptr, loss_ptr, B, scale, BLOCK)")
    if which == "update":
        L.append(f"{_I}# -- this program's copy of the count: one more step done"
                 + (" (not when it is skipped)" if n_labels else ""))
        L.append(f"{_I}tl.store(t_ptr + pid, t" + (", mask=ok)" if n_labels else ")"))
    assert total == start + 1           # the last program sums the loss
    # host wrapper
    if which == "finish":
        L += ["", "", "def finish(params, parts, l, scale):",
              f'{_I}"""(loss, gradients shaped like the parameters): stage 2 of every sum over the batch, one launch."""',
              f"{_I}grads = [torch.empty_like(p) for p in params]",
              f"{_I}loss = torch.empty((), device=l.device, dtype=torch.float32)",
              f"{_I}args = []",
              f"{_I}for g, part in zip(grads, parts):",
              f"{_I}    args += [g, part, part.shape[0]]",
              f"{_I}finish_kernel[({total},)](*args, l, loss, l.shape[0], scale, BLOCK=UPDATE_BLOCK)",
              f"{_I}return loss, grads"]
    else:
        lab = ", labels" if n_labels else ""
        L += ["", "", f"def update(params, parts, slots, t, l, scale{lab}, loss=None):",
              f'{_I}"""One optimizer step for every parameter, in place, in one launch ({type(opt).__name__}); '
              f'returns the loss (a 0-d tensor, left on the device).',
              "",
              f"{_I}``t``: the step count: an int, this step's number (1 on the first), or the device's count",
              f"{_I}(`step_count`): {total} float64 copies of the steps done before this one, which the kernel",
              f"{_I}advances by one. With the device's count no launch argument changes from one step to the",
              f"{_I}next and nothing is read back to the host: the step can be captured in a CUDA graph and",
              f"{_I}replayed with t counting on, and the host launches the kernel and nothing else.",
              f"{_I}``loss``: a 0-d float32 tensor on the device to write the loss into (a fresh one when None)."
              + (f"\n{_I}``labels``: the record of bad class labels; while it holds one, the step is skipped (the"
                 f"\n{_I}device's count stays as it was)." if n_labels else "") + '"""',
              f"{_I}if not isinstance(t, torch.Tensor):",
              f"{_I}    t = step_count(int(t) - 1, l.device)  # this step's number: the steps done before it",
              # a raise, not an assert (python -O drops asserts): the kernel reads and writes t[pid]
              f"{_I}if t.shape != ({total},) or t.dtype != torch.float64:",
              f"{_I}    raise ValueError(f't: an int, or the count step_count(done, device) makes ({total} float64 "
              f"copies), not a {{t.dtype}} tensor of shape {{tuple(t.shape)}}')",
              f"{_I}if loss is None:",
              f"{_I}    loss = torch.empty((), device=l.device, dtype=torch.float32)",
              f"{_I}# per parameter: itself, its partial sums, its slots (slot-major: slot k of p_i at k·{nps} + i), "
              f"the slices",
              f"{_I}update_kernel[({total},)]("]
        for i in range(nps):
            sl = "".join(f"slots[{k * nps + i}], " for k in range(len(slots)))
            L.append(f"{_I}    params[{i}], parts[{i}], {sl}parts[{i}].shape[0],")
        L += [f"{_I}    t, {'labels, ' if n_labels else ''}l, loss, l.shape[0], scale, BLOCK=UPDATE_BLOCK)",
              f"{_I}return loss",
              "",
              "",
              "def step_count(done, device):",
              f'{_I}"""The device\'s step count that ``step`` and ``update`` take and advance: ``done`` steps done, as',
              f"{_I}{total} float64 copies, one per program of update_kernel (each program reads and advances its own:",
              f'{_I}no program reads an entry another writes, in whatever order they run)."""',
              f"{_I}return torch.full(({total},), float(done), dtype=torch.float64, device=device)"]
    return "\n".join(L)


LOSS_SUM = '''

@triton.jit
def loss_sum(l_ptr, loss_ptr, B, scale, BLOCK: tl.constexpr):
    """The batch's loss, Σ_b L_b · scale, by one program looping over the batch (fp32)."""
    acc = tl.zeros((BLOCK,), dtype=tl.float32)
    for b0 in range(0, B, BLOCK):
        offs = b0 + tl.arange(0, BLOCK)
        acc += tl.load(l_ptr + offs, mask=offs < B, other=0.0)
    tl.store(loss_ptr, tl.sum(acc, axis=0) * scale)'''
