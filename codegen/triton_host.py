"""The host functions of a generated Triton module (loss, grad, step, forward, grad_inputs): the
checks at entry, the values of the parameters alone (torch, once), and the launches in order."""
from __future__ import annotations

import hashlib
import re

import sympy as sp

from symgrad.core import rules as R
from symgrad.compiling.compiler import Lowered, Spec, row_index_inputs, safe_text
from symgrad.errors import UnsupportedError

from .numpy_backend import _slots, argument_names, unpack_arguments
from .printers.triton_printer import TritonPrinter
from .kernel_schedule import Kernel, KernelScheduler
from . import triton_settings as settings
from .triton_text import _I, _clip, _numel, _ref
from .triton_launch import _in_workspace, _strided_view
from .triton_matmul import _operand_2d, _sum_text, _weight_grads_kernel
from .triton_module_head import _Out, label_slots
from .triton_rows import _rows_kernel
from .triton_update import _segments_kernel


# =================================================================================================
# One function of the module (loss, grad, step, forward) and its kernels


def _function(kind: str, lw: Lowered, spec: Spec, printer: TritonPrinter, out: _Out,
              input_grads: list | None = None) -> list:
    """The host function ``kind`` ("loss", "grad", "step", "forward", or "grad_inputs": grad that
    also returns the per-example ``input_grads`` [var | None per input], `build_grad_inputs`)."""
    from symgrad.compiling.compiler import _batched_shape, _shape
    names = argument_names(lw)
    if lw.scale is not None:
        names[lw.scale] = "scale"
    for k, (vid, _, _) in enumerate(lw.masks):      # drawn in the rows kernels that read them (DROPOUT)
        names[vid] = f"m{k}"
    train = kind in ("grad", "step", "grad_inputs")
    xgrads = [(i, g) for i, g in enumerate(input_grads or []) if g is not None]
    notes = dict(lw.notes)      # what each argument is, for the kernels' argument comments
    for i, vid in enumerate(lw.params):
        notes[vid] = f"the parameter {safe_text(repr(spec.params[i].name))}"
    for i, vid in enumerate(lw.inputs):
        notes[vid] = f"the input {safe_text(repr(spec.inputs[i].name))}"
    for k, (vid, _, p) in enumerate(lw.masks):
        notes[vid] = f"dropout mask {k} (p = {p:g}), drawn in the kernel"
    sch = KernelScheduler(lw.graph, names, set(lw.inputs) | {vid for vid, _, _ in lw.masks}, notes, None, None)
    sch.param_names = [p.name for p in spec.params]
    roots = list(lw.outputs) if kind == "forward" else [lw.loss] + [g for _, g in xgrads]
    grads = [(i, g) for i, g in enumerate(lw.grads)] if train else []
    plan = sch.plan(roots, grads, fuse_rows=settings.FUSE_ROWS)
    used = sch.value
    if kind != "forward" and not used[lw.loss.id].batched:
        raise UnsupportedError("the loss does not depend on the inputs; the Triton backend needs a batch")

    params = [f"p{i}" for i in range(len(spec.params))]
    xs = [f"x{i}" if vid in used else "_" for i, vid in enumerate(lw.inputs)]
    body = unpack_arguments(spec, kind, params, xs)
    batch_inputs = [(i, x) for i, x in enumerate(spec.inputs) if lw.inputs[i] in used]
    if kind == "forward":
        for n, o in enumerate(lw.outputs):
            if not used[o.id].batched:
                raise UnsupportedError(
                    f"output {n} of outputs=[...], {sch.describe(o.id)}, reads no input (it is the same for every "
                    f"example); the Triton backend returns outputs one row per example, computed from the batch "
                    f"(activations, logits, per-example losses): compute a value of the parameters alone from "
                    f"the parameters' values with NumPy or torch, or use target='numpy'")
    if not batch_inputs:
        raise UnsupportedError(f"the {'outputs read' if kind == 'forward' else 'loss reads'} no input; the Triton "
                               f"backend runs its kernels over a batch of examples; use target='numpy'")
    body.append(f"B = x{batch_inputs[0][0]}.shape[0]")
    body.append("# shapes at entry")
    for i, p in enumerate(spec.params):
        s = _shape(p)
        body.append(f"assert p{i}.shape == {s!r} and p{i}.is_contiguous(), "
                    f"'parameter p{i} must be a contiguous {s!r} tensor'")
    for i, p in enumerate(spec.params):
        # a tensor declaration's vector (n,) is the kernels' column (n, 1) (symgrad.compiling.kernel_form):
        # the same entries, viewed with the strides of the IR's shape (updates in place still reach it)
        vid = lw.params[i]
        ir = tuple(int(d) for d in lw.graph.producer[vid].out.shape) if vid is not None else ()
        if len(ir) == 2 and ir != _shape(p):
            body.append(f"p{i} = p{i}.view{ir!r}  # declared {_shape(p)!r}: read as the kernels' {ir!r}")
    index_inputs = {i: "row indices" if name in row_index_inputs(spec) else "class labels"
                    for i, name, _ in label_slots(spec)}
    for i, x in batch_inputs:
        # checked here once for every launch that reads it: a row per example, its entries contiguous
        # (the kernels step from row to row by the input's stride, read at each call)
        want = tuple(_batched_shape(_shape(x)))
        words = (f"(B, {', '.join(map(str, want))}), one contiguous row per example" if want
                 else "(B,), its entries contiguous")      # a label or an id per example
        body.append(f"assert x{i}.shape[1:] == {want!r} and x{i}.shape[0] == B and x{i}.stride(-1) == 1, "
                    f"'input x{i} must have shape {words}'")
        if i in index_inputs:       # read by the kernels as loaded, then as float32: no conversion here
            body.append(f"assert x{i}.dtype in (torch.int64, torch.int32, torch.float32), "
                        f"'input x{i} holds {index_inputs[i]}: an int64, int32 or float32 tensor'")
    if kind != "forward":
        body.append("scale = 1.0 / B  # the loss is the mean over the batch" if spec.reduction == "mean"
                    else "scale = 1.0  # the loss is the sum over the batch")
    body.append(f"ws = workspace(\"{kind}\", B, x{batch_inputs[0][0]}.device)  # the buffers for B examples, "
                f"kept from call to call")
    drops = [(k, vid, p) for k, (vid, _, p) in enumerate(lw.masks) if vid in used]
    if drops and kind == "step":
        body += ["# dropout: the masks are drawn in the rows kernels from (drop_seed, the steps done, the entry's",
                 "# index), each kernel that reads one drawing the same; the device's count of steps makes each step's",
                 "# masks new (nothing read back, no launch argument that changes)",
                 f"drop_count = t if isinstance(t, torch.Tensor) else step_count(int(t) - 1, x{batch_inputs[0][0]}.device)",
                 "t = drop_count"]
    elif drops:
        body += ["# dropout: the masks are drawn in the rows kernels from (drop_seed, 0, the entry's index): a",
                 "# seed from the generator rng at each call (rng=None: 0), so the same rng state draws the same masks",
                 "drop_seed = int(rng.integers(2 ** 31)) if rng is not None else 0",
                 f"drop_count = torch.zeros((1,), dtype=torch.float64, device=x{batch_inputs[0][0]}.device)"]
    slots_of = label_slots(spec)
    labels = {lw.inputs[i]: (slot, len(slots_of)) for slot, (i, _, _) in enumerate(slots_of)
              if lw.inputs[i] is not None}
    record_at = len(body)            # where `labels = label_record(...)` goes when a kernel checks labels
    body.append("")

    parts: dict[int, list] = {}          # gradient index -> its partial sums' names, one per term
    host = [v for v in sorted(plan.host) if v in used]
    for v in host:
        names[v] = f"h{v}"
    if host:
        body.append("# values of the parameters alone (a penalty, W[:4], W ⊙ M), the same for every example: "
                    "torch, once")
    for v in host:
        code = _host_code(sch, v, names, top=True)
        if sch.g.producer[v].out.shape != () and _strided_view(sch, v) is None:   # read by the kernels with
            code = f"({code}).contiguous()"                                        # the IR's strides
        body.append(f"{names[v]} = {code}  # {_clip(sch.notes.get(v, '') or sch.describe(v), 60)}")
    for i, g in xgrads:
        if not used[g.id].batched or sch.width_of(sch.base(g.id)) != sch.width_of(g.id):
            raise UnsupportedError(f"the gradient with respect to the input {spec.inputs[i].name!r} is the same "
                                   f"for every example or a broadcast value; the Triton backend returns "
                                   f"per-example input gradients only when they vary by example")
    prefix = {"loss": "eval", "grad": "train", "step": "train", "forward": "forward",
              "grad_inputs": "xgrad"}[kind]
    # what the function returns out of its rows kernels' buffers (the outputs, the input gradients):
    # allocated afresh at each call, so that it stays the caller's; the rest is kept (a Workspace)
    fresh = frozenset(sch.base(o.id) for o in lw.outputs) if kind == "forward" else \
        frozenset(sch.base(g.id) for _, g in xgrads) if kind == "grad_inputs" else frozenset()
    # after ONE rows kernel every δ exists at once: all weight gradients in one launch too
    wgs = [k for k in plan.kernels if k.kind == "weight_grad"]
    merged = wgs if len(wgs) > 1 and sum(k.kind == "rows" for k in plan.kernels) == 1 else []
    for j, k in enumerate(plan.kernels):
        kname = f"{prefix}_kernel{j + 1}"
        if k.kind == "rows":
            src, call, comments = _rows_kernel(kname, k, j, plan, sch, lw, names, printer, settings.precision_of(spec),
                                               labels, fresh)
            if kname not in out.made:        # grad and step share the training kernels
                out.made.add(kname)
                out.pieces.append(src)
            body += [f"# {c}" for c in comments] + [_in_workspace(call, kind)]
        elif k.kind == "weight_grad" and k in merged:
            out.uses_weight_grad = True
            at = merged.index(k)
            # at most MAX_SEGMENTS gradients a launch when there are more (a convolution's positions):
            # each segment holds its own shared memory (the 18 of a small CNN's step took 288 KiB on
            # sm_90, over the H200's 227 KiB a block); up to 4 (an MLP's layers) stay one launch
            per = len(merged) if len(merged) <= 4 else settings.MAX_SEGMENTS
            if at % per:
                continue
            group, n = merged[at:at + per], at // per
            kn = f"{prefix}_weight_grads_kernel" + (str(n + 1) if n else "")
            src, lines = _weight_grads_kernel(kn, group, sch, names)
            if kn not in out.made:
                out.made.add(kn)
                out.pieces.append(src)
            body += lines[:-1] + [_in_workspace(lines[-1], kind)]
            for w in group:
                body += _post_lines(sch, w, names)
                parts.setdefault(w.grad, []).append(w.part)
                if w.bias is not None:
                    parts.setdefault(w.bias, []).append(w.bias_part)
        elif k.kind == "weight_grad":
            out.uses_weight_grad = True
            d, y = (_operand_2d(k, i, sch, names) for i in (0, 1))
            bias = k.bias is not None
            body.append(f"# {_sum_text(k, sch, names)} (stage 1: partial sums per slice of the batch)")
            on_k = ", bias_on_k=True" if k.bias_on_k else ""
            body.append(_in_workspace(f"{k.part}, {k.bias_part if bias else '_'} = weight_grad({d}, {y}, {bias}{on_k})",
                                      kind, k.part))
            body += _post_lines(sch, k, names)
            parts.setdefault(k.grad, []).append(k.part)
            if bias:
                parts.setdefault(k.bias, []).append(k.bias_part)
        elif k.kind == "scatter_rows":
            out.uses_scatter = True
            idx, d = (_ref(names, v) for v in k.operands)
            if k.cols:          # a bag: the entries first, first + step, … of each example's row of ids
                first, step, count = k.cols
                cols = f"{first}" + (f" + {step}·i" if step != 1 else " + i") if first else ("i" if step == 1 else f"{step}·i")
                body.append(f"# ∂L/∂p{k.grad} = Σ_b Σ_i e(k_bi) {d}_bᵀ, k_bi = {idx}[b, {cols}], i < {count}: each "
                            f"example's {d}_b added to the rows of its {count} indices (atomic adds, one slice)")
                body.append(_in_workspace(f"{k.part} = scatter_rows({idx}, {d}, {k.width}, cols=({first}, {step}, "
                                          f"{count}))", kind, k.part))
            else:
                body.append(f"# ∂L/∂p{k.grad} = Σ_b e(k_b) {d}_bᵀ: each example's {d}_b added to row k_b = {idx}_b "
                            f"(atomic adds, one slice)")
                body.append(_in_workspace(f"{k.part} = scatter_rows({idx}, {d}, {k.width})", kind, k.part))
            body += _post_lines(sch, k, names)
            parts.setdefault(k.grad, []).append(k.part)
        elif k.kind == "host":
            (v,) = k.operands
            body.append(f"# ∂L/∂p{k.grad} ∋ the same term for every example: B times it, as one slice")
            body.append(f"{k.part} = ({_host_code(sch, v, names)} * B).reshape(1, -1)")
            parts.setdefault(k.grad, []).append(k.part)
        else:
            out.uses_batch_sum = True
            (v,) = k.operands
            body.append(f"# ∂L/∂p{k.grad} = Σ_b {_ref(names, v)}_b (stage 1: partial sums per slice)")
            body.append(_in_workspace(f"{k.part} = batch_sum({_ref(names, v)})", kind, k.part))
            body += _post_lines(sch, k, names)
            parts.setdefault(k.grad, []).append(k.part)
    for k, vid, p in drops:         # a mask is drawn in the rows kernels only: nothing else may read it
        if any(re.search(rf"\bm{k}\b", line) for line in body if not line.startswith("#")):
            raise UnsupportedError(f"dropout mask {k} (p = {p:g}) is read outside the rows kernels (a product of "
                                   f"the batch with the mask itself); the Triton backend draws masks inside the "
                                   f"kernels that read them; compile for target='numpy'")
    checks = any(re.search(r"launch_\w+\(.*\blabels\b", line) for line in body)
    if checks:
        out.uses_labels = True
        body.insert(record_at, f"labels = label_record(bad_labels, {len(slots_of)}, x{batch_inputs[0][0]}.device)"
                               f"  # bad class labels: {', '.join(repr(n) for _, n, _ in slots_of)}, steps skipped")
    if kind == "forward":
        f32 = ".float()" if settings.precision_of(spec) == "bf16" else ""     # stored in bfloat16: handed back as float32
        body.append("return [" + ", ".join(_ref(names, sch.base(o.id)) + f32 for o in lw.outputs) + "]")
    else:
        L = _ref(names, sch.base(lw.loss.id))
        if not train:
            body.append(f"loss = {L}.sum() * scale")
        else:
            for i, p in enumerate(spec.params):
                if i not in parts:      # the loss does not depend on p_i
                    body.append(f"part{i} = torch.zeros((1, {_numel(p)}), device={L}.device, dtype=torch.float32)")
            # a gradient of several terms (a tied weight): their slices' partial sums, one after the other
            partlist = ", ".join(f"part{i}" if i not in parts or len(parts[i]) == 1
                                 else f"torch.cat([x.reshape(x.shape[0], -1) for x in ({', '.join(parts[i])})])"
                                 for i in range(len(spec.params)))
        if kind == "loss":
            body.append("return loss")
        elif kind == "grad":
            out.pieces.append(_segments_kernel("finish", spec, printer, out))
            body.append(f"# stage 2 of every sum over the batch, and the loss Σ_b {L}_b · scale: one launch")
            body.append(f"return finish([{', '.join(params)}], [{partlist}], {L}, scale)")
        elif kind == "grad_inputs":
            out.pieces.append(_segments_kernel("finish", spec, printer, out))
            body.append(f"# stage 2 of every sum over the batch, and the loss Σ_b {L}_b · scale: one launch")
            body.append(f"loss, grads = finish([{', '.join(params)}], [{partlist}], {L}, scale)")
            f32 = ".float()" if settings.precision_of(spec) == "bf16" else ""
            refs = dict((i, _ref(names, sch.base(g.id)) + f32) for i, g in xgrads)
            body.append("# ∂L/∂x_b per example, stored by the rows kernel (None: the loss does not depend on it)")
            body.append("return loss, grads, [" + ", ".join(refs.get(i, "None") for i in range(len(spec.inputs))) + "]")
        elif kind == "step":
            out.pieces.append(_segments_kernel("update", spec, printer, out, len(slots_of) if checks else 0))
            norm = getattr(spec.optimizer, "clip_grad_norm", None) is not None
            if norm:        # the global norm of every gradient, before any update: a launch of its own
                body.append("# torch.nn.utils.clip_grad_norm_ needs every gradient before any update: stage 2 of every "
                            "sum over the batch")
                body.append("# and each program's part of their norm, one launch (clip_norm_kernel)")
                body.append(_in_workspace(f"clipped, norms = clip_norm([{partlist}])", kind))
                partlist = "clipped"
            body.append(f"# {'the clipping coefficient' if norm else 'stage 2 of every sum over the batch'}, the "
                        f"update, and the loss Σ_b {L}_b · scale: one launch"
                        + (" (none while a class label is out of range)" if checks else ""))
            sl = "slots" if _slots(spec) else "[]"      # (no slots: unpack_arguments has deleted the name)
            parts_arg = "clipped" if norm else f"[{partlist}]"
            body.append(f"return update([{', '.join(params)}], {parts_arg}, {sl}, t, {L}, scale"
                        + (", norms" if norm else "") + (", labels" if checks else "") + ", loss=loss)")

    sig = {"loss": "params, batch", "grad": "params, batch, rng=None", "grad_inputs": "params, batch, rng=None",
           "step": "params, slots, t, batch, rng=None", "forward": "params, batch"}[kind]
    if checks:
        sig += ", bad_labels=None"
    if kind == "step":      # t: an int or the device's count (step_count); loss: a buffer to write it in
        sig += ", loss=None"
    if kind == "step" and drops:
        sig += ", drop_seed=0"
    if kind == "forward" and drops:     # (the outputs with dropout on: as_torch()'s in training mode)
        sig += ", rng=None"
    doc = {"loss": "The loss of the batch (a 0-d tensor).",
           "grad": "(loss, [∂loss/∂p0, ...]) for the batch, each gradient shaped like its parameter.",
           "step": "One training step: parameters and optimizer slots are updated in place; returns the "
                   f"loss before the update.\n\n{_I}``t``: this step's number (an int), or the device's count of "
                   f"the steps done\n{_I}(`step_count`), which the update kernel advances; ``loss``: a 0-d "
                   f"buffer for the loss\n{_I}(a fresh one when None).",
           "forward": "The requested outputs for the batch, batch axis first.",
           "grad_inputs": "(loss, [∂loss/∂p0, ...], [∂loss/∂x0 per example or None, ...]) for the batch."}[kind]
    if checks:
        doc += (f"\n\n{_I}``bad_labels``: the record the kernels note class labels out of range in (label_record;\n"
                f"{_I}a fresh one when None)" + (f"; while it holds one, the update changes nothing, the\n{_I}device's "
                                               f"count of t does not advance, and the returned loss is NaN.\n{_I}"
                                               if kind == "step" else f".\n{_I}"))
    return [f"def {kind}({sig}):", f'{_I}"""{doc}"""'] + [_I + b if b else "" for b in body]


def _host_code(sch: KernelScheduler, v: int, names: dict, top: bool = False) -> str:
    """Torch code of a value of the parameters alone (``h3 = (p0*p0).sum()``): the host computes
    it once per call. Its elementwise bodies go through SymPy's torch printer."""
    from sympy.printing.pytorch import TorchPrinter
    e = sch.g.producer[v]
    if v in names and not top:
        return names[v]
    args = [_host_code(sch, u.id, names) for u in e.inputs]
    if e.prim is R.ewise_p:
        body = e.params[0].xreplace({R.ph(i): sp.Symbol(f"({a})") for i, a in enumerate(args)})
        try:
            return TorchPrinter({"strict": True}).doprint(body)
        except Exception:
            raise UnsupportedError(f"{sch.describe(v)}: the Triton backend computes a term of the parameters "
                                   f"alone with torch, which has no function for it") from None
    if e.prim is R.const_p:
        u = R.uniform_value(sch.g, e.out)
        if u is not None and not (top and e.out.shape != ()):   # (a matrix of ones the kernels read: an array)
            return repr(float(u))
        value = R._const_impl((), e.params)         # a constant array (a mask): made on the parameters' device
        text, shape = _float_list(value), tuple(int(d) for d in e.out.shape)
        key = hashlib.sha256(f"{text} {shape}".encode()).hexdigest()[:16]   # one per content (the
        return f"constant(\"{key}\", lambda: {text}, {shape}, {_device_of(names)})"  # module's graphs differ)
    if e.prim.name in ("expand", "broadcast") and e.inputs[0].shape == ():
        # a number repeated (the δ of a mean over an example's vector: (1/3)*scale, a float): a tensor first
        args[0] = f"torch.as_tensor({args[0]}, dtype=torch.float32, device={_device_of(names)})"
    moved = _host_move(e, args[0] if args else None, 0)
    if moved is not None:
        return moved
    if e.prim.name == "concat":
        return f"torch.cat([{', '.join(args)}], {e.params[0]})"
    elif e.prim.name == "pad" and all(int(c) == 1 for _, _, c in e.params[1]):
        # zeros around it (sg.pad of a parameter): torch's pad amounts, the last axis first
        shape, items = e.params
        amounts = [n for (a, b, _), d in reversed(list(zip(items, shape))) for n in (int(a), int(d) - int(b))]
        x = args[0]
        if e.inputs[0].shape != () and sch.g.producer[e.inputs[0].id].prim is R.const_p \
                and R.uniform_value(sch.g, e.inputs[0]) is not None:     # (printed as a number: ones(2))
            x = f"torch.full({tuple(int(d) for d in e.inputs[0].shape)!r}, {x}, device={_device_of(names)})"
        return f"torch.nn.functional.pad({x}, {tuple(amounts)!r})"
    elif e.prim is R.sum_p:
        axis = e.params[0]
        if all(int(d) == 1 for d in e.inputs[0].shape):
            # one entry, which may print as a float (a per-pixel loss's δ: -(1/9)*scale): a tensor first
            args[0] = f"torch.as_tensor({args[0]}, dtype=torch.float32, device={_device_of(names)})"
        return f"({args[0]}).sum()" if axis is None else f"({args[0]}).sum({axis}, keepdim=True)"
    elif e.prim is R.transpose_p:
        return f"({args[0]}).T"
    elif e.prim is R.matmul_p:      # (an operand made of numbers alone prints as a float: an array first)
        a, b = (x if re.fullmatch(r"[a-z]+\d+", x) else
                f"torch.as_tensor({x}, dtype=torch.float32, device={_device_of(names)})"
                f".expand{tuple(int(d) for d in u.shape)}" for x, u in zip(args, e.inputs))
        return f"({a} @ {b})"
    elif e.prim is R.broadcast_p:
        return f"({args[0]}).expand{tuple(e.params[0])}"
    raise UnsupportedError(f"{sch.describe(v)}: a term of the parameters alone that the Triton backend cannot "
                           f"compute; compile for target='numpy'")


def _float_list(value) -> str:
    import numpy as np
    return repr(np.asarray(value, dtype=float).tolist())


def _device_of(names: dict) -> str:
    """The device of the program's tensors, as code: the first parameter's."""
    return next((f"{n}.device" for n in names.values() if re.fullmatch(r"p\d+", n)), "'cuda'")


def _host_move(e, x: str | None, lead: int) -> str | None:
    """Torch code of a movement of the array language (a slice, a reshape, ...) of ``x``, a tensor
    with ``lead`` leading axes before the IR's (1: the slices of the batch's partial sums); None for
    another primitive. A pad is made by `_post_lines` (an assignment, not an expression)."""
    name = e.prim.name
    if name == "slice":
        idx = ", ".join([":"] * lead + [_slice_text(it, d) for it, d in zip(e.params[0], e.inputs[0].shape)])
        return f"{x}[{idx}]"
    if name == "reshape":
        dims = ["-1"] * lead + [str(int(d)) for d in e.params[0]]
        return f"{x}.reshape({', '.join(dims)})" if len(dims) > 1 else f"{x}.reshape(({dims[0]},))" if dims else \
            f"{x}.reshape(())"
    if name == "permute":
        return f"{x}.permute({', '.join([str(i) for i in range(lead)] + [str(int(a) + lead) for a in e.params[0]])})"
    if name == "expand":
        return f"{x}.expand({', '.join(['-1'] * lead + [str(int(d)) for d in e.params[0]])})"
    if name == "rsum":
        return f"{x}.sum(dim={tuple(int(a) + lead for a in e.params[0])!r}, keepdim=True)"
    return None


def _slice_text(item, size) -> str:
    """``a:b:c`` as NumPy spells it: ``:`` for the whole axis, ``:4``, ``2:``, ``::2``."""
    a, b, c = (int(v) for v in item)
    text = (str(a) if a else "") + ":" + (str(b) if b != int(size) else "")
    return text + (f":{c}" if c != 1 else "")


def _constants_named(sch: KernelScheduler, post: list) -> list:
    """The notes of the constant matrices the equations ``post`` read (through transposes), each once,
    in order: ``Q: the rows (c, f) of the kernel's 2×3 windows in the order (f, c)`` — the host lines
    print a constant's entries, not what it is."""
    out = []
    for e in post:
        for u in e.inputs:
            v = u.id
            while v in sch.g.producer and sch.g.producer[v].prim is R.transpose_p:
                v = sch.g.producer[v].inputs[0].id
            p = sch.g.producer.get(v)
            note = (sch.notes or {}).get(v, "") if p is not None and p.prim is R.const_p else ""
            note = note[2:] if note.startswith("= ") else note
            if note and safe_text(note) not in out:
                out.append(safe_text(note))
    return out


def _post_lines(sch: KernelScheduler, k: Kernel, names: dict) -> list:
    """Host lines that turn the partial sums ``k.part`` of a gradient's term into those of the
    parameter's gradient: the term's ``post`` equations (`KernelScheduler._grad_terms`), each
    linear in it, applied slice by slice (a pad for W1[:4], ⊙ M for W ⊙ M, a slice for sg.concat)."""
    if k.unstack:
        P, F, n = k.unstack
        part = k.part
        return [f"# ∂L/∂p{k.grad} from these sums, on the host: their rows p·{F} + f (position-major, as stacked) "
                f"to the parameter's f·{P} + p",
                f"{part} = {part}.reshape({part}.shape[0], {P}, {F}, {n}).transpose(1, 2).reshape({part}.shape[0], -1)"]
    if not k.post:
        return []
    from sympy.printing.pytorch import TorchPrinter
    part = k.part
    first = k.post[0]
    start = next(u for u in first.inputs if sch.value[u.id].batched)
    shape = ", ".join(str(int(d)) for d in start.shape)
    lines = [f"# ∂L/∂p{k.grad} from these sums, on the host: "
             + ", then ".join(e.prim.name for e in k.post)]
    lines += [f"# ({note})" for note in _constants_named(sch, k.post)]
    lines.append(f"{part} = {part}.reshape({part}.shape[0]{', ' + shape if shape else ''})")
    for e in k.post:
        j = next(i for i, u in enumerate(e.inputs) if sch.value[u.id].batched)
        others = [_host_code(sch, u.id, names) if i != j else part for i, u in enumerate(e.inputs)]
        out_shape = tuple(int(d) for d in e.out.shape)
        name = e.prim.name
        scalar = _scalar_under(sch, e.inputs[1 - j].id) if e.prim is R.matmul_p else None
        if e.prim is R.ewise_p:
            body = e.params[0].xreplace({R.ph(i): sp.Symbol(f"({a})") for i, a in enumerate(others)})
            code = TorchPrinter({"strict": True}).doprint(body)
        elif e.prim is R.matmul_p and int(e.inputs[j].shape[1 - j]) == 1 and scalar is not None:
            # an outer product with s·1 (the gradient of sg.sum(x @ W)): the sums times s, repeated
            s_code = _host_code(sch, scalar, names)
            code = f"({part} * {s_code}).expand(-1, {', '.join(map(str, out_shape))})"
        elif e.prim is R.matmul_p:
            if scalar is not None and e.inputs[1 - j].shape != ():
                # its host code is a number (`_host_code` prints c·𝟙 as c): no operand of a product
                raise UnsupportedError(f"{sch.describe(e.out.id)}: the kernel backends' host part of a gradient "
                                       f"has no rule for this product of a batch sum with a constant matrix "
                                       f"c·1 (here, {e.inputs[1 - j].shape}); compile for target='numpy'")
            code = f"{others[0]} @ {others[1]}"
        elif e.prim is R.transpose_p:
            code = f"{part}.transpose(-1, -2)"
        elif e.prim is R.sum_p:
            axis = e.params[0]
            code = (f"{part}.reshape({part}.shape[0], -1).sum(1)" if axis is None
                    else f"{part}.sum({int(axis) + 1}, keepdim=True)")
        elif e.prim is R.broadcast_p:
            code = f"{part}.reshape({part}.shape[0], {', '.join('1' * len(out_shape))}).expand(-1, " \
                   f"{', '.join(map(str, out_shape))})" if e.inputs[j].shape == () else \
                   f"{part}.expand(-1, {', '.join(map(str, out_shape))})"
        elif name == "pad":
            shape, items = e.params
            idx = ", ".join([":"] + [_slice_text(it, d) for it, d in zip(items, shape)])
            lines += [f"{part}_padded = {part}.new_zeros(({part}.shape[0], {', '.join(str(int(d)) for d in shape)}))",
                      f"{part}_padded[{idx}] = {part}",
                      f"{part} = {part}_padded"]
            continue
        else:
            code = _host_move(e, part, 1)
            if code is None:        # pragma: no cover - `_linear_operand` lists what comes here
                raise AssertionError(f"no host rule for {name!r}")
        lines.append(f"{part} = {code}")
    lines.append(f"{part} = {part}.reshape({part}.shape[0], -1).contiguous()")
    return lines


def _scalar_under(sch: KernelScheduler, v: int) -> int | None:
    """The var of shape () that ``v`` repeats (through broadcasts and transposes), or None."""
    e = sch.g.producer[v]
    while e.prim in (R.broadcast_p, R.transpose_p):
        e = sch.g.producer[e.inputs[0].id]
    if e.prim is R.ewise_p and e.inputs and all(u.shape == () or _scalar_under(sch, u.id) is not None
                                                for u in e.inputs):
        # c·𝟙 made by an elementwise body of scalars (s²/n·𝟙), or of scalars and such c·𝟙 themselves
        # (s·(𝟙/n) in a sum of layers): `_host_code` prints the scalar
        return e.out.id
    return e.out.id if e.out.shape == () else None
