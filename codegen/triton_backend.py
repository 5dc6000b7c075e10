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
    clip_norm        (an optimizer with clip_grad_norm only) stage 2 of every gradient and the parts of
                     their global norm, a launch before the update, which then reads one slice and
                     forms torch's clip_grad_norm_ coefficient; parameter groups (a block function
                     per rule) and clip_grad_value cost no launch (docs/triton.md)

The module's functions match the NumPy backend's, on torch tensors (CUDA, or the CPU under
``TRITON_INTERPRET=1``):

    loss(params, batch) -> 0-d tensor        grad(params, batch, rng=None) -> (loss, [g0, ...])
    step(params, slots, t, batch, rng=None) -> loss (params and slots updated in place)
    forward(params, batch) -> [o0, ...]

A program with class labels (``sg.cross_entropy(z, k)``, ``sg.gather``) checks them on the device:
each function also takes ``bad_labels=None``, the record its kernels note a label out of range in
(`label_slots`, LABELS below), and ``step`` skips its update while that record holds one.

The writers of those pieces, a module each:

    triton_settings      block sizes, the fusion threshold, the products' precision (set here too)
    triton_module_head   the generated module's header, legend and shared kernels (batch_sum, ...)
    triton_rows          the rows kernels; triton_conv what they load for convolutions and embeddings
    triton_matmul        tl.dot in the program's precision, the weight gradients
    triton_update        the update and finish kernels (the optimizer's rules, one launch)
    triton_host          the generated host functions (loss, grad, step, forward) and their launches
    triton_selections    a rewrite of the gradients first (SELECTION_SLICES, off by default): a
                         selection of Wᵀ·δ (a second convolution's window) as a product with a slice of W
    triton_launch        a launch's line and the strides symgrad knows; triton_text small text helpers

Importing this module imports neither torch nor triton (the generated module does); it registers
the backend for ``target="triton"``.
"""

from __future__ import annotations

import dataclasses
import sys
import types

from symgrad.compiling.compiler import Compiled, Spec, register_backend
from symgrad.errors import UnsupportedError

from . import runtime
from . import triton_settings as settings
from .printers.triton_printer import TritonPrinter
from .triton_host import _function
from .triton_selections import spec_with_slices
from .triton_module_head import _module_head, _Out, label_slots   # noqa: F401 (label_slots: torch_program's)
from .triton_rows import _far_reads, heavy_kernel_note   # noqa: F401 (named by the docs and tests)


class _Settings(types.ModuleType):
    """This module, whose settings (FUSE_ROWS, RELOAD_GAP, ...: `codegen.triton_settings`) read and
    set through it are those of triton_settings, where the kernels' writers read them at compile time:
    ``triton_backend.FUSE_ROWS = 0`` (the benchmarks, codegen/triton_aot.py, the tests' monkeypatch)
    changes the next compile as it did when they lived here."""

    def __getattr__(self, name):
        if not name.startswith("__") and hasattr(settings, name):
            return getattr(settings, name)
        raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")

    def __setattr__(self, name, value):
        if not name.startswith("__") and hasattr(settings, name) and name not in self.__dict__:
            setattr(settings, name, value)
        else:
            super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Settings


def _check_spec(spec: Spec) -> None:
    if spec.dtype != "float32":
        raise UnsupportedError(f"the Triton backend computes in float32 (fp32 accumulation); got "
                               f"dtype={spec.dtype!r}: compile with dtype='float32' (the default) for "
                               f"target='triton', or with target='numpy' for {spec.dtype}")
    for lw in (spec.train, spec.eval):
        for _, shape, _ in lw.masks:        # drawn per entry b·N + n of a kernel's (B, N) tile
            if len(shape) == 2 and 1 not in shape:
                raise UnsupportedError(f"the Triton backend draws dropout masks of an example's vector or number; "
                                       f"this one is a matrix per example {tuple(shape)} (sg.dropout of a matrix): "
                                       f"drop out a vector of it, or compile it with target='numpy'")


def emit_module(spec: Spec) -> str:
    _check_spec(spec)
    spec = spec_with_slices(spec)[0]
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


# =================================================================================================


def _without_stops(spec: Spec, input_grads: list | None = None) -> tuple:
    """(``spec`` with no stop_gradient left, ``input_grads`` rebound likewise): the printer has no
    form for one. `compile` strips them before any backend (`symgrad.compiling.strip_stops`), but
    ``as_torch()``'s own lowerings (`codegen.vjp_specs`, derived from the program's spec, which
    keeps them) and a spec handed to `build` directly (`codegen.triton_aot`) come here with theirs."""
    from symgrad.compiling.strip_stops import without_stop_gradients
    if input_grads is None:
        return without_stop_gradients(spec), None
    n = len(spec.train.outputs)         # the input gradients ride along as outputs, then split off
    spec = without_stop_gradients(dataclasses.replace(
        spec, train=dataclasses.replace(spec.train, outputs=list(spec.train.outputs) + list(input_grads))))
    lw = spec.train
    return dataclasses.replace(spec, train=dataclasses.replace(lw, outputs=lw.outputs[:n])), list(lw.outputs[n:])


def build_grad_inputs(spec: Spec, input_grads: list):
    """``grad_inputs(params, batch)`` → (loss, parameter gradients, per-example input gradients) of
    ``spec``'s training lowering, whose ``input_grads`` (var | None per input) `codegen.vjp_specs`
    derived: the same three launches as ``grad``, the rows kernel storing ∂L/∂x too."""
    spec, input_grads = spec_with_slices(*_without_stops(spec, input_grads))
    printer, out = TritonPrinter(), _Out()
    _check_spec(spec)
    func = _function("grad_inputs", spec.train, spec, printer, out, input_grads)
    src = _module_head(spec, out) + ["\n\n" + "\n".join(func)]
    return runtime.load("\n".join(src).rstrip() + "\n").grad_inputs


def build_forward(spec: Spec, lw):
    """``forward(params, batch, rng)`` of the lowering ``lw`` (`Spec.train_outputs`: the outputs with
    dropout on), its masks drawn as ``grad`` draws them (the seed from ``rng``)."""
    from symgrad.compiling.strip_stops import stripped_lowering
    spec, lw = _without_stops(spec)[0], stripped_lowering(lw)
    printer, out = TritonPrinter(), _Out()
    _check_spec(spec)
    func = _function("forward", lw, spec, printer, out)
    src = _module_head(spec, out) + ["\n\n" + "\n".join(func)]
    return runtime.load("\n".join(src).rstrip() + "\n").forward


def build(spec: Spec) -> Compiled:
    spec = _without_stops(spec)[0]
    source = emit_module(spec)
    mod = runtime.load(source)
    return Compiled(source, mod.loss, mod.grad, mod.step, getattr(mod, "forward", None),
                    program=_program_class())


def _program_class():
    from .torch_program import TorchProgram
    return TorchProgram


register_backend("triton", build)