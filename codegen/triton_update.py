"""The update (and finish) kernel of the Triton backend: ONE launch over every parameter, stage 2 of
the sums over the batch, then the optimizer's scalar rules entry by entry (``finish``: the sums only,
for ``grad``)."""
from __future__ import annotations

import math

import sympy as sp

from symgrad.compiling.compiler import Spec, param_optimizer, safe_text
from symgrad.compiling.optim_skip import skip_comment, without_gradient

from .numpy_backend import _group_text, _slots
from .printers.triton_printer import TritonPrinter
from . import triton_settings as settings
from .triton_text import _I, _clip, _numel
from .triton_module_head import _Out


# -------------------------------------------------------------------------------------------------
# The update (and finish) kernel: one launch over every parameter


def _hoist(exprs, t, found: dict | None = None):
    """Replace the largest subexpressions that depend on the step t alone by symbols h0, h1, ...:
    the update kernel computes them once per program from the device's step count, in float64
    (bias corrections 1/(1 − β₁ᵗ), schedules), and hands them to the blocks in fp32. ``found``:
    the factors hoisted so far (the rules of several parameter groups share one numbering)."""
    found = {} if found is None else found

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


def _rule_block(name: str, rule, group: str, slots: list, hoisted: dict, printer: TritonPrinter,
                value: str | None, norm: bool, n_labels: int) -> tuple:
    """The update block of one rule (the optimizer's own, or a parameter group's: its hyperparameters
    are numbers in its expressions): (its source, the program slots it keeps, the hoisted factors
    it reads). ``value``: clip_grad_value's bound as code (each g clipped first), ``norm``: the block
    multiplies g by clip_grad_norm's coefficient ``coef`` (computed by update_kernel)."""
    p, g, state, t = rule.symbols()
    p_new, slot_new = rule.rules(p, g, state, t)
    keeps = tuple(getattr(rule, "slots", ()))
    own = [k for k, s in enumerate(slots) if s in keeps]       # a group's rule may keep fewer slots
    exprs = [sp.sympify(slot_new.get(slots[k], state[slots[k]])) for k in own] + [sp.sympify(p_new)]
    exprs, _ = _hoist(exprs, t, hoisted)
    rename = {p: sp.Symbol("p"), g: sp.Symbol("g")}
    rename.update({state[slots[k]]: sp.Symbol(f"s{k}") for k in own})
    exprs = [e.xreplace(rename) for e in exprs]
    repl, reduced = sp.cse(exprs, symbols=sp.numbered_symbols("u"), optimizations=None)
    used = set().union(*(e.free_symbols for e in exprs))
    hnames = [str(h) for h in hoisted.values() if h in used]
    S = [f"s{k}" for k in own]
    ok = ", ok" if n_labels else ""     # the update's stores are predicated on the labels being in range
    L = ["", "", "@triton.jit",
         f"def {name}(p_ptr, part_ptr, {''.join(s + '_ptr, ' for s in S)}n_parts, "
         f"{''.join(h + ', ' for h in hnames)}{'coef, ' if norm else ''}numel, block{ok}, BLOCK: tl.constexpr):"]
    L.append(f'{_I}"""One block of one parameter: g = Σ_s partial[s], then {type(rule).__name__}{group}, entry by entry:')
    L.append("")
    for k, e in zip(own, [slot_new.get(slots[k]) for k in own]):
        L.append(f"{_I}    {slots[k]} ← {safe_text(sp.sstr(e))}")
    L.append(f"{_I}    p ← {safe_text(sp.sstr(p_new))}")
    if own:
        L.append("")
        L.append(f"{_I}slots: " + ", ".join(f"s{k} = {safe_text(repr(slots[k]))}" for k in own))
    if value is not None and not norm:
        L.append(f"{_I}g first clipped to [-{value}, {value}] entry by entry (torch.nn.utils.clip_grad_value_)")
    if norm:
        L.append(f"{_I}g first times coef, clip_grad_norm_'s min(max_norm / (norm + 1e-6), 1) (update_kernel)")
    used_h = [(e, h) for e, h in hoisted.items() if str(h) in hnames]
    if used_h:
        L.append(f"{_I}factors of the step t alone (update_kernel, float64, then fp32): "
                 + ", ".join(f"{h} = {safe_text(sp.sstr(e))}" for e, h in used_h))
    if n_labels:
        L.append(f"{_I}ok: every class label in range (else nothing is stored: the step is skipped)")
    L.append(f'{_I}"""')
    L += _stage2_lines()
    if value is not None and not norm:
        L += _value_clip_lines(value)
    if norm:
        L.append(f"{_I}# -- torch.nn.utils.clip_grad_norm_: every gradient times the step's coefficient")
        L.append(f"{_I}g = g * coef")
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
    return "\n".join(L), own, hnames


def _stage2_lines(comment: bool = True) -> list:
    """A block's g = Σ_s partial[s] of its entries (stage 2 of a sum over the batch): the update's,
    finish's and clip_norm's blocks."""
    return [f"{_I}offs = block * BLOCK + tl.arange(0, BLOCK)",
            f"{_I}mask = offs < numel"] \
        + ([f"{_I}# -- stage 2 of the sum over the batch: add the slices' partial sums (fp32)"] if comment else []) \
        + [f"{_I}g = tl.zeros((BLOCK,), dtype=tl.float32)",
           f"{_I}for s in range(0, n_parts):",
           f"{_I}    g += tl.load(part_ptr + s * numel + offs, mask=mask, other=0.0)"]


def _value_clip_lines(value: str) -> list:
    # a comparison with NaN is false: a NaN entry stays NaN, as torch's clamp_ and numpy.clip keep it
    return [f"{_I}# -- torch.nn.utils.clip_grad_value_: each entry clipped to [-{value}, {value}] (a NaN stays NaN)",
            f"{_I}g = tl.where(g > {value}, {value}, tl.where(g < -{value}, -{value}, g))"]


def _clip_options(spec: Spec) -> tuple:
    """(clip_grad_value as code or None, clip_grad_norm as code or None, its norm type: 2 or inf)."""
    opt = spec.optimizer
    value, norm = getattr(opt, "clip_grad_value", None), getattr(opt, "clip_grad_norm", None)
    code = lambda v: None if v is None else repr(float(v))      # noqa: E731
    return code(value), code(norm), getattr(opt, "clip_norm_type", 2.0)


def _segments_kernel(which: str, spec: Spec, printer: TritonPrinter, out: _Out, n_labels: int = 0) -> str:
    """``update``: for every parameter, g = Σ_s partial[s] (stage 2), then its optimizer's rules (its
    parameter group's, where it has one: a block function per rule); ``finish``: g = Σ_s partial[s]
    only. One launch: program ids are dealt out to the parameters in segments of UPDATE_BLOCK
    entries. ``n_labels``: the class-label inputs the step checks on the device; the update then
    stores nothing while the record of bad labels holds one. The optimizer's gradient clipping:
    clip_grad_value in the blocks (no launch); clip_grad_norm reads `_clip_norm_kernel`'s partial
    norms, a launch before this one that did stage 2 (its parts are then one slice)."""
    opt = spec.optimizer
    slots = list(_slots(spec)) if which == "update" else []
    sizes = [_numel(p) for p in spec.params]
    value, norm, norm_type = _clip_options(spec) if which == "update" else (None, None, 2.0)
    hoisted: dict = {}
    blocks: list = []           # per parameter: (block name, the program slots it keeps, its factors)
    if which == "update":
        made: dict = {}         # a block's source (named "{name}") -> its name: one per distinct rule
        pieces = []
        idle = set(without_gradient(spec.params, spec.train))
        for i, prm in enumerate(spec.params):
            if i in idle:       # no gradient (torch: .grad is None): torch's step skips it entirely
                blocks.append((None, [], []))
                continue
            rule = param_optimizer(opt, prm.name)
            group = _group_text(opt, prm.name) if getattr(opt, "groups", ()) else ""     # "; groups[1]: lr=0.1"
            group = f" ({group[2:]})" if group else ""
            src, own, hn = _rule_block("{name}", rule, group, slots, hoisted, printer, value, norm is not None,
                                       n_labels)
            if src not in made:
                made[src] = "update_block" + (str(len(made) + 1) if made else "")
                pieces.append(src.replace("def {name}(", f"def {made[src]}(", 1))
            blocks.append((made[src], own, hn))

    if not out.loss_sum:
        out.loss_sum = True
        out.pieces.append(LOSS_SUM)
    ok = ", ok" if n_labels else ""
    if which == "update":
        L = "\n".join(pieces).split("\n")
    else:
        L = ["", "", "@triton.jit",
             f"def {which}_block(p_ptr, part_ptr, n_parts, numel, block, BLOCK: tl.constexpr):",
             f'{_I}"""One block of one gradient: stage 2 of its sum over the batch, g = Σ_s partial[s]."""',
             *_stage2_lines(),
             f"{_I}tl.store(p_ptr + offs, g, mask=mask)"]

    # the launch over all parameters
    nps = len(spec.params)
    total = sum(math.ceil(n / settings.UPDATE_BLOCK) for n in sizes) + 1      # programs: the blocks, then the loss sum
    n_norm = min(total - 1, NORM_PROGRAMS)
    L += ["", "", "@triton.jit", f"def {which}_kernel("]
    for i, prm in enumerate(spec.params):
        what = "out: ∂L/∂" if which == "finish" else "in/out: "
        L.append(f"{_I}p{i}_ptr,  # {what}p{i} ({sizes[i]} entries)")
        L.append(f"{_I}part{i}_ptr,  # (n_parts{i}, {sizes[i]}) partial sums of ∂L/∂p{i} over slices of the batch"
                 + (" (clip_norm's: one, their sum)" if norm is not None else ""))
        for k, s in enumerate(slots):
            L.append(f"{_I}s{i}_{k}_ptr,  # in/out: the optimizer slot {s!r} of p{i}"
                     + ("" if k in blocks[i][1] else " (its rule keeps none: untouched)"))
        L.append(f"{_I}n_parts{i},  # slices of the batch")
    if which == "update":
        L.append(f"{_I}t_ptr,  # ({total},) float64 in/out: the steps done before this one, a copy per program")
    if norm is not None:
        L.append(f"{_I}norm_ptr,  # ({n_norm},) clip_norm_kernel's parts of the gradients' norm, one per program")
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
        L.append(f"{_I}#    comment in codegen/triton_update.py: no program reads a copy another writes)")
        L.append(f"{_I}t_done = tl.load(t_ptr + pid)")
        L.append(f"{_I}t = t_done + 1.0  # this step's number, float64")
        cp = _StepCountPrinter()
        for e, h in hoisted.items():
            L.append(f"{_I}{h} = {_step_factor(e, cp)}  # {_clip(sp.sstr(e), 50)}")
    if norm is not None:
        L += _norm_lines(norm, norm_type, n_norm)
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
        if which == "update" and blocks[i][0] is None:
            rule = type(param_optimizer(opt, spec.params[i].name)).__name__
            L += [f"{_I}    # {c}" for c in skip_comment(i, safe_text(repr(spec.params[i].name)), safe_text(rule))]
            L.append(f"{_I}    pass")
        elif which == "update":
            name, own, hn = blocks[i]
            sl = "".join(f"s{i}_{k}_ptr, " for k in own)
            L.append(f"{_I}    {name}(p{i}_ptr, part{i}_ptr, {sl}n_parts{i}, {''.join(h + ', ' for h in hn)}"
                     f"{'coef, ' if norm is not None else ''}{sizes[i]}, pid - {start}{ok}, BLOCK)")
        else:
            L.append(f"{_I}    {which}_block(p{i}_ptr, part{i}_ptr, n_parts{i}, {sizes[i]}, pid - {start}, BLOCK)")
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
        nrm = ", norms" if norm is not None else ""
        L += ["", "", f"def update(params, parts, slots, t, l, scale{nrm}{lab}, loss=None):",
              f'{_I}"""One optimizer step for every parameter, in place, in one launch ({type(opt).__name__}); '
              f'returns the loss (a 0-d tensor, left on the device).',
              "",
              f"{_I}``t``: the step count: an int, this step's number (1 on the first), or the device's count",
              f"{_I}(`step_count`): {total} float64 copies of the steps done before this one, which the kernel",
              f"{_I}advances by one. With the device's count no launch argument changes from one step to the",
              f"{_I}next and nothing is read back to the host: the step can be captured in a CUDA graph and",
              f"{_I}replayed with t counting on, and the host launches the kernel and nothing else.",
              f"{_I}``loss``: a 0-d float32 tensor on the device to write the loss into (a fresh one when None)."
              + (f"\n{_I}``parts``, ``norms``: clip_norm's gradients (one slice each) and parts of their norm."
                 if norm is not None else "")
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
        L += [f"{_I}    t, {'norms, ' if norm is not None else ''}{'labels, ' if n_labels else ''}l, loss, "
              f"l.shape[0], scale, BLOCK=UPDATE_BLOCK)",
              f"{_I}return loss",
              "",
              "",
              "def step_count(done, device):",
              f'{_I}"""The device\'s step count that ``step`` and ``update`` take and advance: ``done`` steps done, as',
              f"{_I}{total} float64 copies, one per program of update_kernel (each program reads and advances its own:",
              f'{_I}no program reads an entry another writes, in whatever order they run)."""',
              f"{_I}return torch.full(({total},), float(done), dtype=torch.float64, device=device)"]
        if norm is not None:
            L += _clip_norm_kernel(spec, value, norm_type, n_norm)
    return "\n".join(L)


# clip_norm_kernel's programs (at most): each sums the blocks pid, pid + P, ... of every gradient, so
# that update_kernel's programs each read at most this many partial norms (a 128-entry load)
NORM_PROGRAMS = 128


def _norm_lines(norm: str, norm_type, n_norm: int) -> list:
    """update_kernel's lines that make clip_grad_norm_'s coefficient from clip_norm_kernel's parts of
    the norm (each program reads them all: at most NORM_PROGRAMS numbers)."""
    width = max(16, 1 << (n_norm - 1).bit_length())
    L = [f"{_I}# -- torch.nn.utils.clip_grad_norm_: the global norm of every gradient, from clip_norm_kernel's",
         f"{_I}#    parts (each program adds them up: {n_norm} numbers), then coef = min(max_norm / (norm + 1e-6), 1)",
         f"{_I}offs_norm = tl.arange(0, {width})",
         f"{_I}norm_parts = tl.load(norm_ptr + offs_norm, mask=offs_norm < {n_norm}, other=0.0)"]
    if norm_type == 2:
        L.append(f"{_I}grad_norm = tl.sqrt(tl.sum(norm_parts, axis=0))  # ‖(g0, g1, …)‖₂ from the parts' Σ g²")
    else:
        L += [f"{_I}grad_norm = tl.max(norm_parts, axis=0)  # the largest |entry| of every gradient",
              f"{_I}grad_norm = tl.where(tl.sum((norm_parts != norm_parts).to(tl.int32), axis=0) > 0, "
              f"float(\"nan\"), grad_norm)  # a NaN: NaN"]
    L += [f"{_I}clip_coef = {norm} / (grad_norm + 1e-06)",
          f"{_I}# min(clip_coef, 1) that keeps a NaN (torch's clamp): a NaN norm makes every parameter NaN, as torch's",
          f"{_I}coef = tl.where(clip_coef > 1.0, 1.0, clip_coef)"]
    return L


def _clip_norm_kernel(spec: Spec, value: str | None, norm_type, n_norm: int) -> list:
    """clip_norm_kernel, its block and its host wrapper: stage 2 of every gradient's sum over the
    batch (clip_grad_value first, where the optimizer has both, as torch's calls in that order),
    stored, and each program's part of their norm (Σ g², or the largest |g|, NaN once one is)."""
    sizes = [_numel(p) for p in spec.params]
    nb = [math.ceil(n / settings.UPDATE_BLOCK) for n in sizes]
    what = "Σ g²" if norm_type == 2 else "the largest |g| (NaN when one is NaN)"
    L = ["", "", "@triton.jit",
         "def clip_norm_block(g_ptr, part_ptr, n_parts, numel, block, acc, BLOCK: tl.constexpr):",
         f'{_I}"""One block of one gradient: g = Σ_s partial[s] (stage 2 of its sum over the batch)'
         + (", clipped to\n" + f"{_I}[-{value}, {value}] (clip_grad_value_)" if value is not None else "")
         + f", stored; returns ``acc`` with {what} of the block."
         + '"""', *_stage2_lines(comment=False)]
    if value is not None:
        L += _value_clip_lines(value)
    L.append(f"{_I}tl.store(g_ptr + offs, g, mask=mask)")
    if norm_type == 2:
        L.append(f"{_I}return acc + tl.sum(g * g, axis=0)  # (entries past numel are 0)")
    else:
        L += [f"{_I}m = tl.max(tl.abs(g), axis=0)",
              f"{_I}m = tl.where(tl.sum((g != g).to(tl.int32), axis=0) > 0, float(\"nan\"), m)",
              f"{_I}return tl.where((m > acc) | (m != m), m, acc)  # the larger, NaN once either is"]
    L += ["", "", "@triton.jit", "def clip_norm_kernel("]
    for i, n in enumerate(sizes):
        L.append(f"{_I}g{i}_ptr,  # (1, {n}) out: ∂L/∂p{i}" + (", clipped entry by entry" if value is not None else ""))
        L.append(f"{_I}part{i}_ptr,  # (n_parts{i}, {n}) partial sums of ∂L/∂p{i} over slices of the batch")
        L.append(f"{_I}n_parts{i},  # slices of the batch")
    L += [f"{_I}norm_ptr,  # ({n_norm},) out: each program's part of the norm, {what} of its blocks",
          f"{_I}BLOCK: tl.constexpr,  # entries per block",
          "):",
          f'{_I}"""Every gradient (stage 2 of its sum over the batch) and the parts of their global norm, for',
          f"{_I}torch.nn.utils.clip_grad_norm_, which needs them all before any update: {n_norm} programs, program pid",
          f'{_I}taking the blocks pid, pid + {n_norm}, ... of the gradients one after the other."""',
          f"{_I}pid = tl.program_id(0)",
          f"{_I}acc = tl.sum(tl.zeros((BLOCK,), dtype=tl.float32), axis=0)  # a float32 0",
          f"{_I}for b in range(pid, {sum(nb)}, {n_norm}):"]
    start = 0
    for i in range(len(sizes)):
        kw = "if" if i == 0 else "elif"
        L.append(f"{_I}    {kw} b < {start + nb[i]}:")
        L.append(f"{_I}        acc = clip_norm_block(g{i}_ptr, part{i}_ptr, n_parts{i}, {sizes[i]}, b - {start}, acc, BLOCK)")
        start += nb[i]
    L.append(f"{_I}tl.store(norm_ptr + pid, acc)")
    L += ["", "", "def clip_norm(parts, ws=None):",
          f'{_I}"""(the gradients, each one slice (1, n), and the parts of their norm): clip_norm_kernel, one launch;',
          f'{_I}``update`` then reads them (its stage 2 adds one slice) and makes the coefficient."""',
          f"{_I}device = parts[0].device",
          f"{_I}grads = [empty(ws, f\"clip_norm_g{{i}}\", (1, n), device) for i, n in enumerate({sizes!r})]",
          f"{_I}norms = empty(ws, \"clip_norm_parts\", ({n_norm},), device)",
          f"{_I}args = []",
          f"{_I}for g, part in zip(grads, parts):",
          f"{_I}    args += [g, part, part.shape[0]]",
          f"{_I}clip_norm_kernel[({n_norm},)](*args, norms, BLOCK=UPDATE_BLOCK)",
          f"{_I}return grads, norms"]
    return L


LOSS_SUM = '''

@triton.jit
def loss_sum(l_ptr, loss_ptr, B, scale, BLOCK: tl.constexpr):
    """The batch's loss, Σ_b L_b · scale, by one program looping over the batch (fp32)."""
    acc = tl.zeros((BLOCK,), dtype=tl.float32)
    for b0 in range(0, B, BLOCK):
        offs = b0 + tl.arange(0, BLOCK)
        acc += tl.load(l_ptr + offs, mask=offs < B, other=0.0)
    tl.store(loss_ptr, tl.sum(acc, axis=0) * scale)'''
