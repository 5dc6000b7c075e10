"""The Triton backend: a `Spec` → one Python module of Triton kernels and the host code that runs them.

The module reads like Triton's tutorials: each kernel has the math in its docstring, one comment per
argument, ``*_ptr`` / ``stride_*`` / ``offs_*`` / ``mask`` names, UPPER_CASE ``tl.constexpr``
meta-parameters, fp32 accumulation, a body in sections, and a host wrapper that allocates,
computes the grid and launches (the functions that call it check their arguments once, at entry).
Autotuning candidates come from functions (one small configuration under ``TRITON_INTERPRET=1``,
the CPU interpreter). The kernels, as `codegen.schedule` partitions
the IR (see its "Kernels" section):

    rows kernels     a block of whole examples per program: an optional product with a parameter
                     (tl.dot, fp32 accumulator), then the elementwise equations (forward and backward
                     bodies together, ``sympy.cse`` across them) and row reductions (Σ over an
                     example, log-sum-exp, max and its first arg-max) that follow it — bias, activation, loss, δ of the output
                     layer, δ ⊙ f'(z) of the backward pass. When every width is ≤ FUSE_ROWS (64), ONE rows
                     kernel runs the whole forward and backward pass in stages, a product's operand
                     staying in registers
    weight_grad      Σ_b δ_b y_bᵀ over the batch (tl.dot over the batch axis) with Σ_b δ_b (the bias)
                     fused, stage 1 of a two-stage reduction: partial sums per slice of the batch;
                     after the one rows kernel, every layer's in one launch
    batch_sum        Σ_b v_b for any other gradient, also stage 1
    scatter_rows     an embedding's Σ_b e(k_b) δ_bᵀ: δ_b added to row k_b (tl.atomic_add), one slice
    update           ONE launch for all parameters: stage 2 (add the partial sums) and the optimizer's
                     scalar update rules, entry by entry (factors of the step t alone computed there too,
                     from a step count on the device that the kernel advances)
    finish           the same stage 2 without an update, for ``grad``

The module's functions match the NumPy backend's, on torch tensors (CUDA, or the CPU under
``TRITON_INTERPRET=1``):

    loss(params, batch) -> 0-d tensor        grad(params, batch, rng=None) -> (loss, [g0, ...])
    step(params, slots, t, batch, rng=None) -> loss (params and slots updated in place)
    forward(params, batch) -> [o0, ...]

A program with class labels (``sg.cross_entropy(z, k)``, ``sg.gather``) checks them on the device:
each function also takes ``bad_labels=None``, the record its kernels note a label out of range in
(`label_slots`, LABELS below), and ``step`` skips its update while that record holds one.

Importing this module imports neither torch nor triton (the generated module does); it registers
the backend for ``target="triton"``.
"""
from __future__ import annotations

import hashlib
import math
import os
import re

import sympy as sp

from symgrad.core import rules as R
from symgrad.compiling.compiler import Compiled, Lowered, Spec, register_backend, row_index_inputs, safe_text
from symgrad.errors import UnsupportedError

from . import runtime
from .numpy_backend import _legend as _numpy_legend
from .numpy_backend import _slots, argument_names, unpack_arguments
from .printers.triton_printer import TritonPrinter
from .schedule import Kernel, KernelScheduler, Plan

_I = "    "
# All rows kernels become the stages of one when every width is at most this (0: never); see pass 8
# of `codegen.schedule`. SYMGRAD_TRITON_FUSE_ROWS overrides it, e.g. =0 or =128 to compare. 64: compiled
# for sm_90 (codegen/triton_aot.py), the fused kernel of the benchmark's width-128 MLP spills registers
# in every candidate configuration (176 to 2928 bytes a thread), the kernels per product at width 128
# and the fused kernels up to width 64 do not (docs/triton.md, "Compiled for the GPU without one").
FUSE_ROWS = int(os.environ.get("SYMGRAD_TRITON_FUSE_ROWS", "64"))
# tl.dot's input_precision for float32: "ieee" (as PyTorch's default, no TF32), or "tf32" (faster on
# tensor cores, 10-bit mantissas). SYMGRAD_TRITON_DOT_PRECISION overrides it.
DOT_PRECISION = os.environ.get("SYMGRAD_TRITON_DOT_PRECISION", "ieee")
SPLIT_ROWS = 512          # examples per slice of the batch in stage 1 of a reduction over the batch
MAX_SPLITS = 128          # at most this many slices (about an H100/H200's SMs): partial sums stay small
MAX_SEGMENTS = 3          # weight gradients per launch of the merged kernel, when more than 4 (shared memory)
MANY_STAGES = 16          # a rows kernel of more stages (a convolution's positions) takes the smallest blocks
# in such a kernel, a value read more than this many stages after its previous read is stored and
# loaded again (`_far_reads`; 0: kept in registers). SYMGRAD_TRITON_RELOAD_GAP overrides it.
RELOAD_GAP = int(os.environ.get("SYMGRAD_TRITON_RELOAD_GAP", "1"))
# a rows kernel with a second convolution's selections and more stages than this is predicted slow to
# compile for a GPU: sg.compile warns (`heavy_kernel_note`)
HEAVY_STAGES = 200
UPDATE_BLOCK = 1024       # entries per program of the update / finish kernels


def _pow2(n: int) -> int:
    """The block that holds ``n`` entries: a power of two, at least 16 (tl.dot's smallest)."""
    return max(16, 1 << (max(int(n), 1) - 1).bit_length())


# =================================================================================================
# The module


HEADER = '''"""Generated by symgrad (target "triton"): Triton kernels for the loss, its gradients and a training step.

Conventions: parameters p0, p1, ... in their declared shapes; batch inputs x0, x1, ... with the batch
axis first; var names v<id> are the IR's (see the comments). Tensors are float32 torch tensors on one
device (CUDA, or the CPU under TRITON_INTERPRET=1).
"""
import math
import os

import torch
import triton
import triton.language as tl

INTERPRET = os.environ.get("TRITON_INTERPRET") == "1"
AUTOTUNE = os.environ.get("SYMGRAD_TRITON_AUTOTUNE", "1") != "0"     # 0: one configuration each, untimed
SPLIT_ROWS = {split}        # examples per slice of the batch in stage 1 of a reduction over the batch
MAX_SPLITS = {max_splits}        # at most this many slices: the partial sums stay small at large batches
UPDATE_BLOCK = {ublock}    # entries per program of the update and finish kernels
PRECISION = "{precision}"    # of the matrix products (sg.compile(..., precision=...))
# bf16: products of bfloat16 operands with a float32 accumulator, activations stored in bfloat16,
# float32 master weights. The interpreter's tl.dot cannot take bfloat16 operands: there they are
# rounded to bfloat16 and multiplied as float32 (the same products; exact in float32).
DOT_OPERAND = tl.constexpr(tl.float32 if INTERPRET else tl.bfloat16)
STORE = torch.bfloat16 if PRECISION == "bf16" else torch.float32     # dtype of stored (B, N) activations


# -- autotuning candidates ----------------------------------------------------------------------


def rows_configs(with_matmul, width, stages=1):
    """Candidates for the kernels over whole rows: examples per program (BLOCK_M) and warps, for
    tiles of ``width`` entries per example (the widest of the kernel). A (BLOCK_M, width) fp32 tile
    spread over the program's threads should be 4 to 8 values per thread: more, and the fused
    kernels spill registers (measured for sm_90 with codegen/triton_aot.py, see docs/triton.md);
    fewer, and threads idle. A product read from memory steps through K by 32. Few candidates: each
    is compiled (seconds, a minute for the widest fused kernels) before it is timed. A kernel of
    more than {many} ``stages`` (a convolution's positions, each a product) holds many tiles at
    once: the smallest blocks only (BLOCK_M = 128 spilled 7–11 KiB a thread on sm_90)."""
    if INTERPRET:   # the CPU interpreter: one small configuration, nothing to time
        return [triton.Config(dict(BLOCK_M=16, **({{"BLOCK_K": 16}} if with_matmul else {{}})), num_warps=1)]
    if stages > {many}:
        fits = [(16, 8)] if not AUTOTUNE else [(16, 8), (16, 4), (32, 8)]
        return [triton.Config(dict(BLOCK_M=m, **({{"BLOCK_K": 32}} if with_matmul else {{}})), num_warps=w,
                              num_stages=3) for m, w in fits]
    fits = [(m, w) for m in (16, 32, 64, 128) for w in (4, 8, 16) if 4 <= m * width // (32 * w) <= 8
            and (w < 16 or width >= 128)]          # 16 warps only where 8 cannot hold 16 rows
    fits = fits or [(16, 16)]       # wider than 256: the smallest tile, the most threads
    if not AUTOTUNE:                # the largest block that fits with at most 8 warps
        fits = [max((f for f in fits if f[1] <= 8), default=fits[0])]
    return [triton.Config(dict(BLOCK_M=m, **({{"BLOCK_K": 32}} if with_matmul else {{}})), num_warps=w, num_stages=3)
            for m, w in fits]


def weight_grad_configs():
    """Candidates for Σ_b δ_b y_bᵀ: the output tile and the examples per step of the loop (at most
    128 KiB of shared memory, two programs per SM)."""
    if INTERPRET:
        return [triton.Config({{"BLOCK_M": 16, "BLOCK_K": 16, "BLOCK_B": 16}}, num_warps=1)]
    if not AUTOTUNE:
        return [triton.Config({{"BLOCK_M": 64, "BLOCK_K": 64, "BLOCK_B": 32}}, num_warps=4)]
    return [triton.Config({{"BLOCK_M": m, "BLOCK_K": k, "BLOCK_B": 32}}, num_warps=w, num_stages=3)
            for m in (32, 64) for k in (32, 64) for w in (4, 8)]


def batch_sum_configs():
    """Candidates for column sums over a slice of the batch: examples per step of the loop."""
    if INTERPRET:
        return [triton.Config({{"BLOCK_B": 16}}, num_warps=1)]
    if not AUTOTUNE:
        return [triton.Config({{"BLOCK_B": 64}}, num_warps=4)]
    return [triton.Config({{"BLOCK_B": b}}, num_warps=w) for b in (32, 64, 128) for w in (2, 4)]


def batch_splits(B):
    """How many slices stage 1 of a reduction over the batch cuts B examples into: one per SPLIT_ROWS
    examples, at most MAX_SPLITS (at batch 2^18 and width 128, 512 slices would write and read back
    80 MB of partial sums a step; 128 write 20 MB, and still give every SM a program)."""
    return min(MAX_SPLITS, max(1, cdiv(B, SPLIT_ROWS)))


def bucket(B):
    """The batch size the autotuners are keyed on: B rounded up to a power of two, so that a new
    batch size benchmarks the candidates again only when it crosses one (a last, smaller batch of an
    epoch reuses the choice)."""
    return 1 << max(0, B - 1).bit_length()


# -- buffers -------------------------------------------------------------------------------------

# The functions' temporaries never leave them, so their buffers are kept from one call to the next:
# WORKSPACE holds one Workspace per (function, device), the buffers by name for one batch size. A
# buffer's shape is a function of its name (the kernel and the value it holds), B and the slices of
# the batch (batch_splits(B)) alone, so a call looks up its Workspace once, by those sizes, and each
# buffer by name; new sizes make a new Workspace (the old one's buffers are freed). A step allocates
# nothing after the first; grad only the gradients and the loss it returns. What a function returns
# is never a Workspace buffer (forward's outputs and the input gradients are allocated afresh), so
# it stays the caller's. Not for two calls of one function at once on one device (threads).
WORKSPACE = {{}}


class Workspace(dict):
    """The buffers of one function's launches, by name, for batches of ``sizes`` = (B, slices)."""

    def __init__(self, sizes):
        super().__init__()
        self.sizes = sizes


def workspace(tag, B, device):
    """The Workspace of the function ``tag`` on ``device`` for batches of B examples."""
    sizes = (B, batch_splits(B))
    ws = WORKSPACE.get((tag, device))
    if ws is None or ws.sizes != sizes:
        ws = WORKSPACE[(tag, device)] = Workspace(sizes)
    return ws


def empty(ws, name, shape, device, dtype=torch.float32):
    """A tensor of ``shape``: a fresh one (``ws`` None), else the buffer ``name`` of the Workspace
    ``ws``, made at the first call (in one Workspace a name has one shape and dtype, see above)."""
    if ws is None:
        return torch.empty(shape, device=device, dtype=dtype)
    buf = ws.get(name)
    if buf is None:
        buf = ws[name] = torch.empty(shape, device=device, dtype=dtype)
    return buf


def cdiv(a, b):
    """⌈a / b⌉ of two ints on the host (triton.cdiv computes the same in microseconds a call)."""
    return -(-a // b)


def pow2(n):
    """The smallest power of two ≥ n (n ≥ 1), on the host."""
    return 1 << (n - 1).bit_length()


CONSTANTS = {{}}


def constant(name, values, shape, device):
    """The constant array ``name`` (a mask, a 0/1 selection) on ``device``, copied there once and
    kept: no copy from the host in a step (a CUDA graph of the step captures no host-to-device copy).
    ``values``: its nested list, or a function that makes it (called the first time only)."""
    key = (name, device)
    c = CONSTANTS.get(key)
    if c is None:
        values = values() if callable(values) else values
        c = CONSTANTS[key] = torch.tensor(values, dtype=torch.float32, device=device).reshape(shape)
    return c
'''


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


BATCH_SUM = '''

@triton.autotune(configs=batch_sum_configs(), key=["B_BUCKET", "N"])
@triton.jit
def batch_sum_kernel(
    v_ptr,            # (B, N) the per-example gradients, one row per example
    part_ptr,         # (SPLITS, N) out: partial sums, one per slice of the batch
    B,                # examples in the batch
    rows_per_split,   # examples per slice
    stride_v,         # row stride of v
    B_BUCKET,         # B rounded up to a power of two: the autotuning key
    N: tl.constexpr,  # entries per example
    BLOCK_N: tl.constexpr,  # ≥ N, a power of two: a program holds whole rows
    BLOCK_B: tl.constexpr,  # examples per step of the loop
):
    """Stage 1 of a gradient's sum over the batch, ∂L/∂p = Σ_b v_b: program s sums slice s."""
    pid_s = tl.program_id(0)
    offs_n = tl.arange(0, BLOCK_N)
    start = pid_s * rows_per_split
    end = tl.minimum(start + rows_per_split, B)
    acc = tl.zeros((BLOCK_N,), dtype=tl.float32)
    for b0 in range(start, end, BLOCK_B):
        offs_b = b0 + tl.arange(0, BLOCK_B)
        mask = (offs_b[:, None] < end) & (offs_n[None, :] < N)
        acc += tl.sum(tl.load(v_ptr + offs_b[:, None] * stride_v + offs_n[None, :], mask=mask, other=0.0).to(tl.float32), axis=0)
    tl.store(part_ptr + pid_s * N + offs_n, acc, mask=offs_n < N)


def batch_sum(v, ws=None, name="part"):
    """Stage 1 of Σ_b v_b: partial sums, one row per slice of the batch (in the buffer ``name`` of the
    Workspace ``ws`` if given)."""
    v = v[:, None] if v.dim() == 1 else v
    assert v.stride(1) == 1
    B, N = v.shape
    splits = batch_splits(B)
    part = empty(ws, name, (splits, N), v.device)
    batch_sum_kernel[(splits,)](v, part, B, cdiv(B, splits), v.stride(0), bucket(B), N=N, BLOCK_N=max(16, pow2(N)))
    return part
'''


SCATTER_ROWS = '''

@triton.jit
def scatter_rows_kernel(
    k_ptr,            # (B, ...) the examples' indices (int64, int32, or integers as float32): COUNT per example
    d_ptr,            # (B, D) the rows added, one per example
    part_ptr,         # (1, V * D) in/out: the gradient, zero before the launch
    B,                # examples in the batch
    stride_k,         # row stride of k
    stride_d,         # row stride of d
    V,                # rows of the gradient (the embedding's entries)
    FIRST: tl.constexpr,    # an example's indices: entries FIRST, FIRST + STEP, … of its row of k
    STEP: tl.constexpr,
    COUNT: tl.constexpr,    # (1: one index per example; more: a bag E[ids])
    D: tl.constexpr,  # entries per row
    BLOCK_D: tl.constexpr,  # ≥ D, a power of two
    BLOCK_B: tl.constexpr,  # examples per program
):
    """An embedding's weight gradient, ∂L/∂E = Σ_b Σ_i e(k_bi) d_bᵀ: row k_bi gets d_b added for each
    of an example's indices (atomic adds, so indices that repeat, in an example or across examples,
    add up); an index out of range adds nothing."""
    pid = tl.program_id(0)
    offs_b = pid * BLOCK_B + tl.arange(0, BLOCK_B)
    offs_d = tl.arange(0, BLOCK_D)
    d = tl.load(d_ptr + offs_b[:, None] * stride_d + offs_d[None, :],
                mask=(offs_b < B)[:, None] & (offs_d[None, :] < D), other=0.0).to(tl.float32)
    for i in tl.static_range(COUNT):
        # (int64, int32 or float32 indices: read as float32, the check below the same for all)
        k = tl.load(k_ptr + offs_b * stride_k + FIRST + i * STEP, mask=offs_b < B, other=-1).to(tl.float32)
        ok = (offs_b < B) & (k >= 0) & (k < V) & (k == tl.floor(k))
        row = tl.where(ok, k, 0.0).to(tl.int64)
        mask = ok[:, None] & (offs_d[None, :] < D)
        tl.atomic_add(part_ptr + row[:, None] * D + offs_d[None, :], d, mask=mask)


def scatter_rows(k, d, V, ws=None, name="part", cols=(0, 1, 1)):
    """∂L/∂E = Σ_b Σ_i e(k_bi) d_bᵀ, as one slice of partial sums (1, V·D) (in the buffer ``name`` of
    the Workspace ``ws`` if given); ``cols``: (first, step, count) of each example's indices in its
    row of k (a bag), or (0, 1, 1) for k of shape (B,)."""
    d = d[:, None] if d.dim() == 1 else d
    assert d.stride(1) == 1 and k.shape[0] == d.shape[0] and (k.dim() == 1 or k.stride(1) == 1)
    B, D = d.shape
    part = empty(ws, name, (1, V * D), d.device)
    part.zero_()
    BLOCK_B = 16
    first, step, count = cols
    scatter_rows_kernel[(cdiv(B, BLOCK_B),)](k, d, part, B, k.stride(0), d.stride(0), V, FIRST=first,
                                            STEP=step, COUNT=count, D=D, BLOCK_D=max(16, pow2(D)),
                                            BLOCK_B=BLOCK_B)
    return part
'''


LABELS = '''

# -- class labels ----------------------------------------------------------------------------------

# A class label k picks z[k] = Σ_n z_n·[n = k]: a comparison with the tile's column index, so a label
# out of range (−1, n, 1.5, NaN) reads nothing out of bounds, it picks no entry. The kernels that
# gather note the first bad label in a record, one int64 per class-label input and then the count of
# steps skipped, which the host reads only when it reads the device anyway (the loss); step's update
# kernel changes nothing while the record holds a bad label.
NO_BAD_LABEL = 2 ** 63 - 1   # a record entry while every label seen was in range


def label_record(record, n, device):
    """The record of bad class labels the kernels write to (``n`` class-label inputs): ``record``
    when the caller keeps one (a TorchProgram does, and reads it with the loss), else a fresh one."""
    if record is None:
        record = torch.full((n + 1,), NO_BAD_LABEL, dtype=torch.int64, device=device)
        record[n:].zero_()
    return record


@triton.jit
def record_bad_labels(labels_ptr, SLOT: tl.constexpr, N_SLOTS: tl.constexpr, k, offs_m, mask_m, N: tl.constexpr):
    """Are the labels k of a block of examples integers 0 ... N − 1? (k as loaded: float32, int32 or
    int64.) The first bad one is noted in slot SLOT of the record as the key m·2³² + bits(k_m) (the
    example m, then the float32 bits of its label; for an integer label 2⁶² + m·2³² + its value as an
    int32, saturated, so that the host reads it back as an integer), by an atomic min over the
    programs: the smallest example's wins. Only while no step has been skipped (the record's last
    entry is 0), so that the host hears of the first bad batch."""
    if k.dtype.is_int():
        bad = mask_m & ((k < 0) | (k >= N))
        v = tl.minimum(tl.maximum(k.to(tl.int64), -2147483648), 2147483647)
        bits = (v & 0xFFFFFFFF) + 4611686018427387904
    else:
        bad = mask_m & ((k < 0) | (k >= N) | (k != tl.floor(k)))       # NaN ≠ NaN: bad too
        bits = k.to(tl.int32, bitcast=True).to(tl.int64) & 0xFFFFFFFF
    key = tl.min(tl.where(bad, offs_m.to(tl.int64) * 4294967296 + bits, 9223372036854775807), axis=0)
    key = tl.where(tl.load(labels_ptr + N_SLOTS) == 0, key, 9223372036854775807)
    tl.atomic_min(labels_ptr + SLOT, key, mask=key < 9223372036854775807)'''


def label_slots(spec: Spec) -> list:
    """The class-label inputs in the order of their entries in the record of bad labels: (input
    index, name, number of classes), in the order of the inputs."""
    from symgrad.compiling.compiler import label_inputs
    labels = label_inputs(spec)
    return [(i, x.name, labels[x.name]) for i, x in enumerate(spec.inputs) if x.name in labels]


def _check_spec(spec: Spec) -> None:
    if spec.dtype != "float32":
        raise UnsupportedError(f"the Triton backend computes in float32 (fp32 accumulation); got "
                               f"dtype={spec.dtype!r}")
    for lw in (spec.train, spec.eval):
        for _, shape, _ in lw.masks:        # drawn per entry b·N + n of a kernel's (B, N) tile
            if len(shape) == 2 and 1 not in shape:
                raise UnsupportedError(f"the Triton backend draws dropout masks of an example's vector or number; "
                                       f"this one is a matrix per example {tuple(shape)} (sg.dropout of a matrix): "
                                       f"drop out a vector of it, or compile it with target='numpy'")


def emit_module(spec: Spec) -> str:
    _check_spec(spec)
    printer = TritonPrinter()
    out = _Out()
    funcs = [_function("loss", spec.eval, spec, printer, out),
             _function("grad", spec.train, spec, printer, out),
             _function("step", spec.train, spec, printer, out)]
    if spec.eval.outputs:
        funcs.append(_function("forward", spec.eval, spec, printer, out))
    src = _module_head(spec, out)
    src += ["\n\n# -- the program ----------------------------------------------------------------------------"]
    src += ["\n\n" + "\n".join(f) for f in funcs]
    return "\n".join(src).rstrip() + "\n"


def _module_head(spec: Spec, out: "_Out") -> list:
    """What a generated module holds before its functions: the header, the legend, the shared
    kernels its functions' launches use (``out`` says which) and the kernels printed for them."""
    src = [_header(spec)] + _legend(spec)
    if out.uses_weight_grad:
        src.append(_weight_grad_source(spec))
    if out.uses_batch_sum:
        src.append(BATCH_SUM)
    if out.uses_labels:
        src.append(LABELS)
    if out.uses_scatter:
        src.append(SCATTER_ROWS)
    return src + out.pieces


def precision_of(spec: Spec) -> str:
    """The products' precision: ``compile(..., precision=)``, else DOT_PRECISION (the environment's)."""
    return getattr(spec, "precision", None) or DOT_PRECISION


def _header(spec: Spec) -> str:
    return HEADER.format(split=SPLIT_ROWS, max_splits=MAX_SPLITS, ublock=UPDATE_BLOCK, precision=precision_of(spec),
                         many=MANY_STAGES)


def _dot(a: str, b: str, acc: str | None, precision: str) -> str:
    """``tl.dot`` in the program's precision: float32 operands with ``input_precision`` ("ieee",
    "tf32", "tf32x3"), or ("bf16") bfloat16 operands and a float32 accumulator."""
    tail = f", {acc}" if acc else ""
    if precision == "bf16":
        return f"tl.dot({a}.to(tl.bfloat16).to(DOT_OPERAND), {b}.to(tl.bfloat16).to(DOT_OPERAND){tail})"
    return f'tl.dot({a}, {b}{tail}, input_precision="{precision}")'


def _weight_grad_source(spec: Spec) -> str:
    """The weight-gradient kernels in the program's precision (bf16: δ and y are read as stored)."""
    p = precision_of(spec)
    src = WEIGHT_GRAD.replace('acc = tl.dot(tl.trans(d), y, acc, input_precision="ieee")',
                              f"acc = {_dot('tl.trans(d)', 'y', 'acc', p)}")
    if p == "bf16":
        for a in ("m", "k"):
            old = f"mask=mask_b[:, None] & (offs_{a}[None, :] < {a.upper()}), other=0.0)"
            assert old in src
            src = src.replace(old, old + ".to(tl.float32)")
    return src


class _Out:
    def __init__(self):
        self.pieces: list[str] = []
        self.uses_weight_grad = False
        self.uses_batch_sum = False
        self.uses_labels = False
        self.uses_scatter = False
        self.made: set = set()
        self.loss_sum = False


def _legend(spec: Spec) -> list:
    """The NumPy module's legend, each symbol's shape as declared: a tensor's (sg.tensor) too, (16,)
    for a bias (the NumPy legend spells the matrix language's shapes only)."""
    from symgrad.compiling.compiler import _batch_text, _batched_shape, _shape
    lines = _numpy_legend(spec)
    n = len(spec.params)
    for i, s in enumerate(spec.params):                     # lines[0] is "# Parameters:"
        lines[1 + i] = f"#   p{i}  {safe_text(repr(s.name))}  {_shape(s) or 'scalar'}"
    declared = spec.tensor_inputs or spec.inputs
    for i, (s, d) in enumerate(zip(spec.inputs, declared)):   # lines[n + 1] is "# Inputs ...:"
        over = f"declared {tuple(d.shape)}, " if _shape(d) != _shape(s) else ""     # over the batch: (N, 8)
        lines[n + 2 + i] = (f"#   x{i}  {safe_text(repr(s.name))}  {over}per example {_shape(s) or 'scalar'} -> "
                            f"{_batch_text(_batched_shape(_shape(s)))}")
    return [""] + lines


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
    plan = sch.plan(roots, grads, fuse_rows=FUSE_ROWS)
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
        if sch.g.producer[v].out.shape != () and _strided_rows(sch, v) is None:   # read by the kernels with
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
            src, call, comments = _rows_kernel(kname, k, j, plan, sch, lw, names, printer, precision_of(spec),
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
            per = len(merged) if len(merged) <= 4 else MAX_SEGMENTS
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
        f32 = ".float()" if precision_of(spec) == "bf16" else ""     # stored in bfloat16: handed back as float32
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
            f32 = ".float()" if precision_of(spec) == "bf16" else ""
            refs = dict((i, _ref(names, sch.base(g.id)) + f32) for i, g in xgrads)
            body.append("# ∂L/∂x_b per example, stored by the rows kernel (None: the loss does not depend on it)")
            body.append("return loss, grads, [" + ", ".join(refs.get(i, "None") for i in range(len(spec.inputs))) + "]")
        elif kind == "step":
            out.pieces.append(_segments_kernel("update", spec, printer, out, len(slots_of) if checks else 0))
            body.append(f"# stage 2 of every sum over the batch, the update, and the loss Σ_b {L}_b · scale: "
                        f"one launch" + (" (none while a class label is out of range)" if checks else ""))
            sl = "slots" if _slots(spec) else "[]"      # (no slots: unpack_arguments has deleted the name)
            body.append(f"return update([{', '.join(params)}], [{partlist}], {sl}, t, {L}, scale"
                        + (", labels" if checks else "") + ", loss=loss)")

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


def _in_workspace(call: str, kind: str, name: str = "") -> str:
    """The launches put their outputs in buffers kept between calls (the function's Workspace,
    ``ws``; ``name``: a helper's buffers there), except what the function returns: step returns the
    loss (a buffer it is given, or a fresh one), grad the loss and the gradients `finish` makes, loss
    a sum; forward's outputs and grad_inputs' input gradients, outputs of rows kernels, are
    allocated afresh (`_rows_kernel`'s ``fresh``). ``kind``: the function (every kind keeps)."""
    return call[:-1] + (", " if call[-2] != "(" else "") + "ws=ws" + (f', name="{name}"' if name else "") + ")"


# A launch wrapper checks nothing its caller has checked at entry: the generated loss, grad, step and
# forward check their parameters (shape, contiguous) and inputs (shape, contiguous rows) once, and the
# launch wrappers read those and the buffers the launches before them made (contiguous (B, N) rows).
_CHECKED = (".\n\n{i}Called by the functions below, which check their parameters and inputs at entry; the other\n"
            "{i}tensors are buffers the launches make (contiguous rows).\"\"\"").format(i=_I)


def _launch_line(kname: str, args: list, calls: list, const: list, sch: KernelScheduler, names: dict) -> str:
    """The line that launches a rows kernel: tensors and scalars in order, then the strides by name —
    a number where symgrad decides the layout (a parameter or a value of the parameters alone, checked
    or made contiguous; a buffer of the launches, (B, N) rows: N), read from the tensor for an input
    (any row stride) — and the constexprs."""
    pos = [c for a, c in zip(args, calls) if not a.startswith("stride_")]
    strides = [f"{a}={_known_stride(c, sch, names)}" for a, c in zip(args, calls) if a.startswith("stride_")]
    kw = [f"{c}={val}" for c, val, _ in const]
    return f"{_I}{kname}[grid]({', '.join(pos + strides + kw)})"


def _known_stride(call: str, sch: KernelScheduler, names: dict) -> str:
    """``p0.stride(0)`` → ``32`` for a tensor whose layout symgrad decides (see `_launch_line`); an
    input's (``x0.stride(0)``) stays a call."""
    m = re.fullmatch(r"([phv])(\d+)\.stride\(([01])\)", call)
    if m is None:
        return call
    kind, num, dim = m.group(1), int(m.group(2)), int(m.group(3))
    by_name = {n: v for v, n in names.items()}
    v = num if kind == "v" and f"v{num}" not in by_name else by_name.get(f"{kind}{num}")
    if v is None or v not in sch.g.producer:
        return call
    if kind == "v":                 # a buffer of the launches: (B, N), or (B,); a stack's member: (B, count·N)
        stack = next((s for s in getattr(sch, "stacks", ()) if v in s.members), None)
        if stack is not None:
            return str(len(stack.members) * stack.width) if dim == 0 else "1"
        return str(sch.width_of(v) or 1) if dim == 0 else "1"
    shape = tuple(int(d) for d in sch.g.producer[v].out.shape)
    if len(shape) != 2:
        return call
    strided = _strided_rows(sch, v)
    if strided is not None:
        return str(strided[dim])
    return str(shape[1]) if dim == 0 else "1"


def _strided_rows(sch: KernelScheduler, v: int) -> tuple | None:
    """(row stride, 1) when var ``v`` is every c-th row of a parameter matrix, c > 1 (V[p::P], the rows
    of a dense layer that one position of a flattened convolution output meets, `kernel_conv`): the
    host passes it as a view of the parameter (no copy) and the kernels read it with that stride."""
    e = sch.g.producer[v]
    if e.prim.name != "slice" or sch.g.producer[e.inputs[0].id].prim is not R.param_p:
        return None
    shape = tuple(int(d) for d in e.inputs[0].shape)
    items = tuple(tuple(int(a) for a in it) for it in e.params[0])
    if len(shape) != 2 or len(items) != 2 or items[0][2] <= 1 or items[1] != (0, shape[1], 1):
        return None
    return shape[1] * items[0][2], 1


def _numel(p) -> int:
    """Number of entries of a parameter."""
    from symgrad.compiling.compiler import _shape
    return int(math.prod(_shape(p)))        # a MatrixSymbol's, a tensor's (sg.tensor), 1 for a Symbol


def _ref(names: dict, v: int) -> str:
    """The host name of the tensor holding var ``v``."""
    return names.get(v, f"v{v}")


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
            return sp.Symbol(self.acc[v])
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
    if note and not _interpreted():
        import warnings
        warnings.warn(f"{kname}: {note}", stacklevel=2)
    reload = _far_reads(out[3], k.stages or [k], plan, sch, precision)
    if not reload:
        return out[:3]
    return _rows_kernel_of(kname, k, j, plan, sch, lw, names, printer, precision, labels, fresh, reload)[:3]


def _interpreted() -> bool:
    """The kernels run under Triton's interpreter (nothing is compiled for a GPU)."""
    return os.environ.get("TRITON_INTERPRET") == "1"


def heavy_kernel_note(stages: list, sch: KernelScheduler) -> str | None:
    """What to tell the user before a GPU compiles a rows kernel predicted to be slow to compile: one
    with a second convolution (products with constant 0/1 selections) and more than HEAVY_STAGES
    stages. Measured for sm_90 on a 2-core machine (docs/triton.md, "Sixth session"): the small LeNet's
    104 stages compile in 90 s without spills; the 8×8 LeNet's 368 took 30 minutes (before values
    were loaded again, spilling 10 KB a thread). None when not predicted heavy."""
    selections = sum(st.matmul is not None and _zero_one(sch, st.matmul[2]) for st in stages)
    if len(stages) <= HEAVY_STAGES or not selections:
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
    if len(stages) <= MANY_STAGES or not RELOAD_GAP or precision == "bf16" or \
            not any(st.matmul is not None and _zero_one(sch, st.matmul[2]) for st in stages):
        return {}
    out = {}
    for v, made in rb.made.items():
        if v in rb.loads or v in rb.inline or v in plan.unbatched or plan.stack_of(v) is not None:
            continue
        prev = made
        for u in sorted(rb.reads.get(v, ())):
            if u - prev > RELOAD_GAP:
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
            if a in rb.local:      # made by an earlier stage: still in registers, whole rows
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
            elif e.prim is R.sum_p and sch.width_of(e.inputs[0].id) is None and not any(
                    str(q).startswith("acc") for q in rb.expr(e.inputs[0].id, True).free_symbols):
                # Σ of one number per example: itself (a sum over the tile would count it once per
                # column); a width-1 product's accumulator is a tile of one column: summed below
                stmts.append((nm, "let", rb.expr(e.inputs[0].id, False)))
            elif e.prim is R.sum_p:
                stmts.append((nm, "sum", rb.expr(e.inputs[0].id, True)))
            elif e.prim is R.gather_p:      # z[k] = Σ_n z_n·[n = k], k the example's class label
                z, k = (rb.expr(u.id, True) for u in e.inputs)
                # (a select, not z·[n = k]: an entry −inf elsewhere in the row, a masked logit, would
                # make −inf·0 = NaN)
                stmts.append((nm, "sum", sp.Piecewise((z, sp.Eq(rb.column_index(), k)), (0, True))))
                if labels and e.inputs[1].id in labels:
                    label_checks.append((e.inputs[1].id, int(e.inputs[0].shape[0]), e.inputs[1].id))
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
        # -- class labels: the gather above read nothing out of bounds whatever the label (it compares
        #    k with the column index); a label out of range is noted for the host and the update
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
            if sch.width_of(v) is None:
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
    many_arg = f", stages={len(stages)}" if len(stages) > MANY_STAGES else ""
    L = ["", "", f"@triton.autotune(configs=rows_configs({uses_block_k}, {tile}{many_arg}), key=[\"B_BUCKET\"])", jit,
         f"def {kname}("]
    width = max(len(a) for a in args + [c for c, _, _ in const]) + 2
    # strides symgrad decides are constexprs in a kernel of many stages (a convolution's positions) and
    # for a stack's members (count·width: one row offset then serves every member): the pooled 8×8 CNN's
    # rows kernel spilled 112 bytes a thread on sm_90 with its 300 strides runtime arguments, 56 with
    # the stacks' constexpr, 40 with all (codegen.triton_aot; docs/triton.md)
    fixed = {f"stride_{rb.name(v)}" for st in plan.stacks for v in st.members}
    if len(stages) > MANY_STAGES:
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


def _read_twice(c, v: int) -> bool:
    """Elementwise equation ``c`` names var ``v`` more than once in its body (a running max
    where(r > m, r, m)): ``v`` is then kept as a named temporary, not substituted, or a chain of
    such equations (the max over a pooling window, a bag's max) would double at every link."""
    if c.prim is not R.ewise_p:
        return False
    body = c.params[0]
    return sum(body.count(R.ph(i)) for i, u in enumerate(c.inputs) if u.id == v) > 1


def _patch_load(rb: _RowsBody, v: int, nm: str, sfx: str, arg, defined: set) -> list:
    """The lines that load var ``v``, a convolution's window of an image input (`kernel_conv.patch`):
    entry n = (c·KH + i)·KW + j of the window at origin (r0, c0) is the image's entry
    c·H·W + (r0 + i·dh)·W + (c0 + j·dw), a zero outside the image. The index table (tap_c, tap_i,
    tap_j and the offset tap_at of the window at (0, 0)) is made once, in the stage of the first
    window, for all (each window's stage has the same width C·KH·KW: the same offsets)."""
    x, ((C, H, W), (KH, KW), (r0, c0), (dh, dw)) = rb.patches[v]
    xn, T = rb.name(x), _I
    arg(f"{xn}_ptr", f"(B, C·H·W) {_label(xn, rb.sch.notes.get(x))}: an image per row", xn)
    arg(f"stride_{xn}", f"row stride of {xn}", f"{xn}.stride(0)")
    key = (C, H, W, KH, KW, dh, dw)     # (the same in every stage of width C·KH·KW: made once, in the first)
    lines = []
    tap = rb.taps.get(key)
    if tap is None:
        tap = f"tap{sfx}" + (f"_{len(rb.taps)}" if rb.taps else "")
        rb.taps[key] = tap
        times = lambda a, k: a if k == 1 else f"{a} * {k}"      # noqa: E731
        lines = [f"{T}# -- the {KH}×{KW} windows of {xn} ({C}, {H}, {W}): entry n of a window is (c, i, j) = "
                 f"(n // {KH * KW}, n // {KW} % {KH}, n % {KW}),",
                 f"{T}#    the image's entry c·{H * W} + (r0 + {times('i', dh)})·{W} + (c0 + {times('j', dw)}) for "
                 f"the window at (r0, c0)",
                 f"{T}{tap}_c = offs_n{sfx} // {KH * KW}",
                 f"{T}{tap}_i = offs_n{sfx} // {KW} % {KH}",
                 f"{T}{tap}_j = offs_n{sfx} % {KW}",
                 f"{T}{tap}_at = {tap}_c * {H * W} + {times(f'{tap}_i', dh * W)} + {times(f'{tap}_j', dw)}"]
        defined |= {f"{tap}_c", f"{tap}_i", f"{tap}_j", f"{tap}_at"}
    shift = r0 * W + c0
    at = f"{tap}_at" + (f" + {shift}" if shift > 0 else f" - {-shift}" if shift < 0 else "")
    inside = []                     # the bounds a window in the padding crosses (none inside the image)
    for a, k, o, n in (("i", dh, r0, H), ("j", dw, c0, W)):
        ax = f"{tap}_{a}" if k == 1 else f"{tap}_{a} * {k}"
        if o < 0:
            inside.append(f"({ax} >= {-o})")
        if o + (KH - 1 if a == "i" else KW - 1) * k >= n:
            inside.append(f"({ax} < {n - o})")
    where = f"the window at ({r0}, {c0})"
    if inside:
        lines.append(f"{T}{nm}_in = mask_n{sfx} & " + " & ".join(inside) + f"  # {where}: its entries inside the image")
        mask = f"mask_m[:, None] & {nm}_in[None, :]"
    else:
        mask = f"mask{sfx}"
    lines.append(f"{T}{nm} = tl.load({xn}_ptr + offs_m[:, None] * stride_{xn} + ({at})[None, :], mask={mask}, "
                 f"other=0.0)  # {where}")
    defined.add(nm)
    return lines


def _zero_one(sch: KernelScheduler, v: int) -> bool:
    """Var ``v`` is a constant matrix of 0s and 1s (kernel_form's selection of a slice or a concat)."""
    e = sch.g.producer[v]
    return e.prim is R.const_p and isinstance(e.params[0], sp.MatrixBase) and set(e.params[0]) <= {0, 1}


def _index_of(sch: KernelScheduler, v: int) -> int | None:
    """The var an embedding's row index ``v`` is loaded as: an integer input itself, or one entry
    ids[i] of an example's ids (a bag, `kernel_form.AsColumns._entry`: Σ of a 1×1 slice of the input,
    loaded with an offset); None for a computed index."""
    e = sch.g.producer[v]
    if e.prim.leaf:
        return v
    if e.prim is R.sum_p and e.params[0] is None and tuple(e.inputs[0].shape) == (1, 1):
        s = sch.g.producer[e.inputs[0].id]
        if s.prim.name == "slice" and sch.g.producer[s.inputs[0].id].prim.leaf:
            return s.out.id
    return None


def _index_input(sch: KernelScheduler, v: int) -> int | None:
    """The input an embedding's row index ``v`` reads (`_index_of`)."""
    k = _index_of(sch, v)
    if k is None or sch.g.producer[k].prim.leaf:
        return k
    return sch.g.producer[k].inputs[0].id


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
        if u is not None:
            return repr(float(u))
        value = R._const_impl((), e.params)         # a constant array (a mask): made on the parameters' device
        text, shape = _float_list(value), tuple(int(d) for d in e.out.shape)
        key = hashlib.sha256(f"{text} {shape}".encode()).hexdigest()[:16]   # one per content (the
        return f"constant(\"{key}\", lambda: {text}, {shape}, {_device_of(names)})"  # module's graphs differ)
    moved = _host_move(e, args[0] if args else None, 0)
    if moved is not None:
        return moved
    if e.prim.name == "concat":
        return f"torch.cat([{', '.join(args)}], {e.params[0]})"
    elif e.prim is R.sum_p:
        axis = e.params[0]
        return f"({args[0]}).sum()" if axis is None else f"({args[0]}).sum({axis}, keepdim=True)"
    elif e.prim is R.transpose_p:
        return f"({args[0]}).T"
    elif e.prim is R.matmul_p:
        return f"({args[0]} @ {args[1]})"
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
             + ", then ".join(e.prim.name for e in k.post),
             f"{part} = {part}.reshape({part}.shape[0]{', ' + shape if shape else ''})"]
    for e in k.post:
        j = next(i for i, u in enumerate(e.inputs) if sch.value[u.id].batched)
        others = [_host_code(sch, u.id, names) if i != j else part for i, u in enumerate(e.inputs)]
        out_shape = tuple(int(d) for d in e.out.shape)
        name = e.prim.name
        if e.prim is R.ewise_p:
            body = e.params[0].xreplace({R.ph(i): sp.Symbol(f"({a})") for i, a in enumerate(others)})
            code = TorchPrinter({"strict": True}).doprint(body)
        elif e.prim is R.matmul_p and int(e.inputs[j].shape[1 - j]) == 1 and \
                _scalar_under(sch, e.inputs[1 - j].id) is not None:
            # an outer product with s·1 (the gradient of sg.sum(x @ W)): the sums times s, repeated
            s_code = _host_code(sch, _scalar_under(sch, e.inputs[1 - j].id), names)
            code = f"({part} * {s_code}).expand(-1, {', '.join(map(str, out_shape))})"
        elif e.prim is R.matmul_p:
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
    return e.out.id if e.out.shape == () else None


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


def _label(name: str, note) -> str:
    """``v6 = relu(W1*x + b1)``, ``x1, the input 't'``: a var's name with what it is."""
    if not note:
        return name
    return f"{name} {_clip(note)}" if note.startswith("= ") else f"{name}, {_clip(note)}"


def _clip(text: str, n: int = 70) -> str:
    text = safe_text(text)
    return text if len(text) <= n else text[:n - 3] + "..."


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
            f"{nm} = {nm}_max + tl.log(tl.sum(tl.exp({nm}_z - {nm}_max[:, None]), axis=1))"]


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
    total = sum(math.ceil(n / UPDATE_BLOCK) for n in sizes) + 1      # programs: the blocks, then the loss sum
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
        nb = math.ceil(sizes[i] / UPDATE_BLOCK)
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


# =================================================================================================


def build_grad_inputs(spec: Spec, input_grads: list):
    """``grad_inputs(params, batch)`` → (loss, parameter gradients, per-example input gradients) of
    ``spec``'s training lowering, whose ``input_grads`` (var | None per input) `codegen.vjp_specs`
    derived: the same three launches as ``grad``, the rows kernel storing ∂L/∂x too."""
    printer, out = TritonPrinter(), _Out()
    _check_spec(spec)
    func = _function("grad_inputs", spec.train, spec, printer, out, input_grads)
    src = _module_head(spec, out) + ["\n\n" + "\n".join(func)]
    return runtime.load("\n".join(src).rstrip() + "\n").grad_inputs


def build_forward(spec: Spec, lw):
    """``forward(params, batch, rng)`` of the lowering ``lw`` (`Spec.train_outputs`: the outputs with
    dropout on), its masks drawn as ``grad`` draws them (the seed from ``rng``)."""
    printer, out = TritonPrinter(), _Out()
    _check_spec(spec)
    func = _function("forward", lw, spec, printer, out)
    src = _module_head(spec, out) + ["\n\n" + "\n".join(func)]
    return runtime.load("\n".join(src).rstrip() + "\n").forward


def build(spec: Spec) -> Compiled:
    source = emit_module(spec)
    mod = runtime.load(source)
    return Compiled(source, mod.loss, mod.grad, mod.step, getattr(mod, "forward", None),
                    program=_program_class())


def _program_class():
    from .torch_program import TorchProgram
    return TorchProgram


register_backend("triton", build)
