"""The products of the Triton backend: ``tl.dot`` in the program's precision, and the weight
gradients Σ_b δ_b y_bᵀ (stage 1 of a two-stage sum over the batch), several layers in one launch."""
from __future__ import annotations

from symgrad.core import rules as R
from symgrad.compiling.compiler import Spec

from .kernel_schedule import Kernel, KernelScheduler
from . import triton_settings as settings
from .triton_text import _I, _ref
from .triton_launch import _CHECKED, _known_stride


WEIGHT_GRAD = '''

@triton.jit
def weight_grad_block(
    d_ptr,            # (B, M) δ: the adjoint of a layer's pre-activation, one row per example
    y_ptr,            # (B, K) y: the layer's input, one row per example
    part_w_ptr,       # (SPLITS, M, K) out: partial sums of δ_b y_bᵀ, one per slice of the batch
    part_b_ptr,       # (SPLITS, M) out: partial sums of δ_b (the bias gradient), when HAS_BIAS;
                      # (SPLITS, K) of y_b when BIAS_ON_K
    B,                # examples in the batch
    rows_per_split,   # examples per slice
    stride_d,         # row stride of δ
    stride_y,         # row stride of y
    tile,             # which (block of W, slice of the batch) this program sums
    splits,           # slices of the batch
    M: tl.constexpr,  # entries of δ per example
    K: tl.constexpr,  # entries of y per example
    HAS_BIAS: tl.constexpr,  # also sum δ over the slice
    BIAS_ON_K: tl.constexpr,  # ... or y: the bias's δ is the product's second operand (x·δᵀ of x @ W)
    BLOCK_M: tl.constexpr, BLOCK_K: tl.constexpr, BLOCK_B: tl.constexpr,
):
    """Stage 1 of a weight gradient: the sum over the batch of per-example outer products,

        ∂L/∂W = Σ_b δ_b y_bᵀ = δᵀ·Y          ∂L/∂b = Σ_b δ_b   (Σ_b y_b with BIAS_ON_K)

    One program sums the examples of one slice for one (BLOCK_M, BLOCK_K) block of W; the update
    kernel adds the slices (stage 2).
    """
    # -- map the tile number to a block of W and a slice of the batch
    pid_s = tile % splits
    pid_k = (tile // splits) % tl.cdiv(K, BLOCK_K)
    pid_m = (tile // splits) // tl.cdiv(K, BLOCK_K)
    offs_m = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_k = pid_k * BLOCK_K + tl.arange(0, BLOCK_K)
    start = pid_s * rows_per_split
    end = tl.minimum(start + rows_per_split, B)
    # -- iterate over the slice, accumulating in fp32
    acc = tl.zeros((BLOCK_M, BLOCK_K), dtype=tl.float32)
    if BIAS_ON_K:       # a layer written x @ W + b: W's gradient is Σ_b x_b δ_bᵀ, b's is Σ_b δ_b
        acc_b = tl.zeros((BLOCK_K,), dtype=tl.float32)
    else:
        acc_b = tl.zeros((BLOCK_M,), dtype=tl.float32)
    for b0 in range(start, end, BLOCK_B):
        offs_b = b0 + tl.arange(0, BLOCK_B)
        mask_b = offs_b < end
        d = tl.load(d_ptr + offs_b[:, None] * stride_d + offs_m[None, :],
                    mask=mask_b[:, None] & (offs_m[None, :] < M), other=0.0)
        y = tl.load(y_ptr + offs_b[:, None] * stride_y + offs_k[None, :],
                    mask=mask_b[:, None] & (offs_k[None, :] < K), other=0.0)
        acc = tl.dot(tl.trans(d), y, acc, input_precision="ieee")
        if HAS_BIAS:
            if BIAS_ON_K:
                acc_b += tl.sum(y, axis=0)
            else:
                acc_b += tl.sum(d, axis=0)
    # -- write back this slice's partial sums
    mask = (offs_m[:, None] < M) & (offs_k[None, :] < K)
    tl.store(part_w_ptr + pid_s * M * K + offs_m[:, None] * K + offs_k[None, :], acc, mask=mask)
    if HAS_BIAS:
        if BIAS_ON_K:
            if pid_m == 0:
                tl.store(part_b_ptr + pid_s * K + offs_k, acc_b, mask=offs_k < K)
        else:
            if pid_k == 0:
                tl.store(part_b_ptr + pid_s * M + offs_m, acc_b, mask=offs_m < M)


@triton.autotune(configs=weight_grad_configs(), key=["B_BUCKET", "M", "K"])
@triton.jit
def weight_grad_kernel(d_ptr, y_ptr, part_w_ptr, part_b_ptr, B, rows_per_split, stride_d, stride_y, splits, B_BUCKET,
                       M: tl.constexpr, K: tl.constexpr, HAS_BIAS: tl.constexpr, BIAS_ON_K: tl.constexpr,
                       BLOCK_M: tl.constexpr, BLOCK_K: tl.constexpr, BLOCK_B: tl.constexpr):
    """One weight gradient (see weight_grad_block): program id = tile number."""
    weight_grad_block(d_ptr, y_ptr, part_w_ptr, part_b_ptr, B, rows_per_split, stride_d, stride_y,
                      tl.program_id(0), splits, M, K, HAS_BIAS, BIAS_ON_K, BLOCK_M, BLOCK_K, BLOCK_B)


def weight_grad(d, y, with_bias, ws=None, bias_on_k=False, name="part"):
    """Stage 1 of Σ_b δ_b y_bᵀ (and Σ_b δ_b, or Σ_b y_b with ``bias_on_k``): partial sums, one (M, K)
    block per slice of the batch (in the buffers ``name``.w and .b of ``ws``, a training step's
    Workspace, when given)."""
    d = d[:, None] if d.dim() == 1 else d
    y = y[:, None] if y.dim() == 1 else y
    assert d.shape[0] == y.shape[0] and d.stride(1) == 1 and y.stride(1) == 1
    B, M = d.shape
    K = y.shape[1]
    splits = batch_splits(B)
    part_w = empty(ws, name + ".w", (splits, M, K), d.device)
    part_b = empty(ws, name + ".b", (splits, K if bias_on_k else M), d.device) if with_bias else part_w
    grid = lambda META: (cdiv(M, META["BLOCK_M"]) * cdiv(K, META["BLOCK_K"]) * splits,)
    weight_grad_kernel[grid](d, y, part_w, part_b, B, cdiv(B, splits), d.stride(0), y.stride(0), splits,
                             bucket(B), M=M, K=K, HAS_BIAS=with_bias, BIAS_ON_K=bias_on_k)
    return part_w, part_b
'''


def _dot(a: str, b: str, acc: str | None, precision: str) -> str:
    """``tl.dot`` in the program's precision: float32 operands with ``input_precision`` ("ieee",
    "tf32", "tf32x3"), or ("bf16") bfloat16 operands and a float32 accumulator."""
    tail = f", {acc}" if acc else ""
    if precision == "bf16":
        return f"tl.dot({a}.to(tl.bfloat16).to(DOT_OPERAND), {b}.to(tl.bfloat16).to(DOT_OPERAND){tail})"
    return f'tl.dot({a}, {b}{tail}, input_precision="{precision}")'


def _weight_grad_source(spec: Spec) -> str:
    """The weight-gradient kernels in the program's precision (bf16: δ and y are read as stored)."""
    p = settings.precision_of(spec)
    src = WEIGHT_GRAD.replace('acc = tl.dot(tl.trans(d), y, acc, input_precision="ieee")',
                              f"acc = {_dot('tl.trans(d)', 'y', 'acc', p)}")
    if p == "bf16":
        for a in ("m", "k"):
            old = f"mask=mask_b[:, None] & (offs_{a}[None, :] < {a.upper()}), other=0.0)"
            assert old in src
            src = src.replace(old, old + ".to(tl.float32)")
    return src


def _operand(k: Kernel, i: int, sch: KernelScheduler, names: dict) -> tuple:
    """(host name, entries per row, row stride as code or None, text) of operand ``i`` of the weight
    gradient ``k``: a var's buffer, or a stack read whole (`schedule.Stack`): B·count rows of its
    width (k.rows > 1), or B rows of count·width entries."""
    v, st = k.operands[i], k.stacks[i]
    if st is None:
        known = _known_stride(f"{_ref(names, v)}.stride(0)", sch, names)
        return _ref(names, v), sch.width_of(v) or 1, known if known.isdigit() else None, _ref(names, v) + "_b"
    if k.rows > 1:
        return st.name, st.width, str(st.width), f"{st.name}_bp"
    return st.name, len(st.members) * st.width, str(len(st.members) * st.width), f"{st.name}_b"


def _operand_2d(k: Kernel, i: int, sch: KernelScheduler, names: dict) -> str:
    """Operand ``i`` of ``k`` as the 2-D tensor `weight_grad` takes: a stack's (B·count, width) or
    (B, count·width) view."""
    name = _operand(k, i, sch, names)[0]
    if k.stacks[i] is None:
        return name
    return f"{name}.flatten(0, 1)" if k.rows > 1 else f"{name}.flatten(1)"


def _sum_text(k: Kernel, sch: KernelScheduler, names: dict) -> str:
    """∂L/∂p = Σ_b d_b y_bᵀ (Σ_b Σ_p over a stack of rows), with the bias riding along."""
    d, y = (_operand(k, i, sch, names)[3] for i in (0, 1))
    over = "Σ_b Σ_p" if k.rows > 1 else "Σ_b"
    text = f"∂L/∂p{k.grad} = {over} {d} {y}ᵀ"
    if k.bias is not None:
        text += f", ∂L/∂p{k.bias} = {over} {y if k.bias_on_k else d}"
    return text


def _weight_grads_kernel(kname: str, group: list, sch: KernelScheduler, names: dict):
    """Stage 1 of several weight gradients in one launch: program ids are dealt out to the layers
    in segments of tiles (as the update deals them out to the parameters). Returns the source and
    the host lines that run it."""
    n = len(group)
    dims = []
    for k in group:
        dims.append((_operand(k, 0, sch, names)[1], _operand(k, 1, sch, names)[1], k.bias is not None, k.bias_on_k))
    L = ["", "", "@triton.autotune(configs=weight_grad_configs(), key=[\"B_BUCKET\"])", "@triton.jit", f"def {kname}("]
    for i, k in enumerate(group):
        what = f"∂L/∂p{k.grad}" + (f" and ∂L/∂p{k.bias}" if k.bias is not None else "")
        L += [f"{_I}d{i}_ptr, y{i}_ptr, part_w{i}_ptr, part_b{i}_ptr, stride_d{i}, stride_y{i},  # {what}"]
        if k.rows > 1:
            L += [f"{_I}B_rows{i}, rows_per_split{i},  # B·{k.rows} rows, {k.rows}·rows_per_split a slice"]
    L += [f"{_I}B,  # examples in the batch",
          f"{_I}rows_per_split,  # examples per slice of the batch",
          f"{_I}splits,  # slices of the batch",
          f"{_I}B_BUCKET,  # B rounded up to a power of two: the autotuning key",
          f"{_I}BLOCK_M: tl.constexpr, BLOCK_K: tl.constexpr, BLOCK_B: tl.constexpr,",
          "):",
          f'{_I}"""Stage 1 of {n} weight gradients (see weight_grad_block) in one launch: program ids',
          f'{_I}are dealt out to the layers in segments of (BLOCK_M, BLOCK_K) tiles times slices of the batch."""',
          f"{_I}pid = tl.program_id(0)"]
    for i, (M, K, _, _) in enumerate(dims):
        prev = f"end{i - 1} + " if i else ""
        L.append(f"{_I}end{i} = {prev}tl.cdiv({M}, BLOCK_M) * tl.cdiv({K}, BLOCK_K) * splits")
    for i, (M, K, bias, on_k) in enumerate(dims):
        kw = "if" if i == 0 else "elif"
        start = f" - end{i - 1}" if i else ""
        R = group[i].rows       # a stack of rows: B·R rows, R·rows_per_split a slice
        rows = "B, rows_per_split" if R == 1 else f"B_rows{i}, rows_per_split{i}"
        L += [f"{_I}{kw} pid < end{i}:",
              f"{_I}    weight_grad_block(d{i}_ptr, y{i}_ptr, part_w{i}_ptr, part_b{i}_ptr, {rows}, "
              f"stride_d{i}, stride_y{i},",
              f"{_I}                      pid{start}, splits, {M}, {K}, {bias}, {on_k}, BLOCK_M, BLOCK_K, BLOCK_B)"]
    args = ", ".join(f"d{i}, y{i}" for i in range(n))
    L += ["", "", f"def launch_{kname}({args}, ws=None):",
          f'{_I}"""Stage 1 of {n} weight gradients: their partial sums, (w0, b0, w1, b1, ...)' + _CHECKED,
          f"{_I}B = d0.shape[0]",
          f"{_I}splits = batch_splits(B)"]
    for i, (M, K, bias, on_k) in enumerate(dims):
        L.append(f"{_I}part_w{i} = empty(ws, \"{kname}.part_w{i}\", (splits, {M}, {K}), d0.device)")
        L.append(f"{_I}part_b{i} = empty(ws, \"{kname}.part_b{i}\", (splits, {K if on_k else M}), d0.device)" if bias
                 else f"{_I}part_b{i} = part_w{i}  # (no bias)")
    tiles = " + ".join(f"cdiv({M}, META[\"BLOCK_M\"]) * cdiv({K}, META[\"BLOCK_K\"])" for M, K, _, _ in dims)
    L.append(f"{_I}grid = lambda META: (({tiles}) * splits,)")
    L.append(f"{_I}{kname}[grid](")
    for i, k in enumerate(group):       # each layer's δ, y, partial sums, and the row strides of δ and y
        st = []
        for j, local in enumerate((f"d{i}", f"y{i}")):
            known = _operand(k, j, sch, names)[2]
            st.append(known if known is not None else f"{local}.stride(0)")
        L.append(f"{_I}    d{i}, y{i}, part_w{i}, part_b{i}, {st[0]}, {st[1]},  # ∂L/∂p{k.grad}"
                 + (f" and ∂L/∂p{k.bias}" if k.bias is not None else ""))
        if k.rows > 1:
            L.append(f"{_I}    B * {k.rows}, cdiv(B, splits) * {k.rows},")
    L.append(f"{_I}    B, cdiv(B, splits), splits, bucket(B))")
    L.append(f"{_I}return " + ", ".join(f"part_w{i}, part_b{i}" for i in range(n)))
    host_args = ", ".join(f"{_operand(k, 0, sch, names)[0]}, {_operand(k, 1, sch, names)[0]}" for k in group)
    lhs = ", ".join(f"{k.part}, {k.bias_part if k.bias is not None else '_'}" for k in group)
    lines = ["# " + "; ".join(_sum_text(k, sch, names) for k in group),
             "# (stage 1: partial sums per slice of the batch, every layer in one launch)",
             f"{lhs} = launch_{kname}({host_args})"]
    return "\n".join(L), lines
