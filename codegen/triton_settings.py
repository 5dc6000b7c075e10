"""The Triton backend's settings: block sizes, the fusion threshold, the products' precision.

Read at compile time by the writers of the kernels (`codegen.triton_rows`, `codegen.triton_host`, ...)
as ``settings.NAME``, so that setting one here (or on `codegen.triton_backend`, which forwards its
settings here: the benchmarks and tests set ``triton_backend.FUSE_ROWS``) changes the next compile.
"""
from __future__ import annotations

import os

from symgrad.compiling.compiler import Spec
from symgrad.errors import ArgumentError

PRECISIONS = ("ieee", "tf32", "tf32x3", "bf16")


def _whole_number(name: str, default: int) -> int:
    """SYMGRAD_TRITON_<name> as a whole number, else `default`; any other text is refused by name."""
    text = os.environ.get(f"SYMGRAD_TRITON_{name}")
    if text is None:
        return default
    try:
        return int(text.strip())
    except ValueError:
        raise ArgumentError(f"SYMGRAD_TRITON_{name}={text!r}: the Triton target's {name} setting is a whole "
                            f"number (the default is {default}); unset it or give e.g. "
                            f"SYMGRAD_TRITON_{name}={default}") from None


def _precision(value: str, where: str) -> str:
    """A products' precision checked against `PRECISIONS`: the value is written into the generated
    module's text, which is then run, so nothing else may pass (the twelfth session's trust review ran
    a shell command through SYMGRAD_TRITON_DOT_PRECISION)."""
    if value not in PRECISIONS:
        raise ArgumentError(f"{where}={value!r}: the matrix products' precision is 'ieee', 'tf32', 'tf32x3' "
                            f"or 'bf16'")
    return value


# All rows kernels become the stages of one when every width is at most this (0: never); see pass 8
# of `codegen.schedule`. SYMGRAD_TRITON_FUSE_ROWS overrides it, e.g. =0 or =128 to compare. 64: compiled
# for sm_90 (codegen/triton_aot.py), the fused kernel of the benchmark's width-128 MLP spills registers
# in every candidate configuration (176 to 2928 bytes a thread), the kernels per product at width 128
# and the fused kernels up to width 64 do not (docs/triton.md, "Compiled for the GPU without one").
FUSE_ROWS = _whole_number("FUSE_ROWS", 64)
# tl.dot's input_precision for float32: "ieee" (as PyTorch's default, no TF32), or "tf32" (faster on
# tensor cores, 10-bit mantissas). SYMGRAD_TRITON_DOT_PRECISION overrides it.
DOT_PRECISION = _precision(os.environ.get("SYMGRAD_TRITON_DOT_PRECISION", "ieee"), "SYMGRAD_TRITON_DOT_PRECISION")
SPLIT_ROWS = 512          # examples per slice of the batch in stage 1 of a reduction over the batch
MAX_SPLITS = 128          # at most this many slices (about an H100/H200's SMs): partial sums stay small
MAX_SEGMENTS = 3          # weight gradients per launch of the merged kernel, when more than 4 (shared memory)
MANY_STAGES = 16          # a rows kernel of more stages (a convolution's positions) takes the smallest blocks
# in such a kernel, a value read more than this many stages after its previous read is stored and
# loaded again (`_far_reads`; 0: kept in registers). SYMGRAD_TRITON_RELOAD_GAP overrides it.
RELOAD_GAP = _whole_number("RELOAD_GAP", 1)
# a rows kernel with a second convolution's selections and more stages than this is predicted slow to
# compile for a GPU: sg.compile warns (`heavy_kernel_note`)
HEAVY_STAGES = 200
# in a rows kernel of more than MANY_STAGES stages, a product's operand wider than this that an earlier
# stage stored is read back from memory in BLOCK_K steps rather than from registers whole (0: never).
# SYMGRAD_TRITON_REGISTER_K overrides it.
REGISTER_K = _whole_number("REGISTER_K", 32)
# 1: a second convolution's backward reads slices of its weight, W[:, k::KH·KW]ᵀ·δ, rather than selecting
# from its window's gradient Wᵀ·δ (`codegen.triton_selections`; 0: as reverse mode wrote it). Off: for
# sm_90 it spilled more, not less (the upsampling CNN's rows kernel 752 → 960 bytes a thread, its small
# twin 176 → 408; docs/triton.md). SYMGRAD_TRITON_SELECTION_SLICES overrides it.
SELECTION_SLICES = _whole_number("SELECTION_SLICES", 0)
# 1: a product with a constant 0/1 matrix (a second convolution's window selections, slices and
# concatenations of an example's values) of an operand in registers picks its columns (tl.where and
# tl.sum per 1 of the matrix, at most 16) instead of a tl.dot (`codegen.triton_rows._picks`). On: for
# sm_90 the upsampling CNN's rows kernel spilled 752 bytes a thread with the dots, 16 with the picks (its
# small twin 176 → 0; docs/triton.md). SYMGRAD_TRITON_SELECTION_PICKS=0 turns it off.
SELECTION_PICKS = _whole_number("SELECTION_PICKS", 1)
UPDATE_BLOCK = 1024       # entries per program of the update / finish kernels


def precision_of(spec: Spec) -> str:
    """The products' precision: ``compile(..., precision=)``, else DOT_PRECISION (the environment's),
    checked again here as a setter may have changed DOT_PRECISION after the environment was read."""
    chosen = getattr(spec, "precision", None)
    return _precision(chosen, "precision") if chosen else _precision(DOT_PRECISION, "triton_settings.DOT_PRECISION")


def _interpreted() -> bool:
    """The kernels run under Triton's interpreter (nothing is compiled for a GPU)."""
    return os.environ.get("TRITON_INTERPRET") == "1"
