"""Compile a program's Triton kernels for a GPU that is not here: ahead of time, down to the cubin.

The interpreter (``TRITON_INTERPRET=1``) runs the kernels' Python on NumPy and forgives what the GPU
compiler does not (block shapes, ``tl.dot`` operand sizes and types, shared memory, registers). This
module compiles every kernel a training step launches for a real target — by default the H200's,
``cuda`` compute capability 9.0 — with Triton's own compiler and the ``ptxas`` bundled in its wheel,
and reads each cubin's resource use (registers, spilled bytes, shared memory) with the bundled
``cuobjdump``. No GPU and no CUDA driver are needed.

How: the host code of the step runs on CPU tensors with the kernel launches intercepted — each
launch is compiled (for every autotuning candidate, or the first) with the arguments it would have
had, through the same binder and option parsing as a real launch, instead of running. The outputs
are left unwritten; only the launches matter.

    python -m codegen.triton_aot                      # the benchmark networks, one config each
    python -m codegen.triton_aot --all-configs        # every autotuning candidate (slow)

Triton must not be in interpreter mode in this process: the kernels must be real ``@triton.jit``
functions. The command line clears ``TRITON_INTERPRET`` before triton is imported; a program that
imports this module itself must do so too (tests run it in a subprocess).
"""
from __future__ import annotations

import os
import re
import subprocess
import tempfile
import time
from dataclasses import dataclass

if __name__ == "__main__":      # before triton is imported, so that kernels are compiled, not interpreted
    os.environ.pop("TRITON_INTERPRET", None)


@dataclass
class KernelReport:
    """One kernel compiled for one configuration."""
    kernel: str
    config: str          # the meta-parameters and num_warps / num_stages
    registers: int       # per thread
    spill_bytes: int     # local memory the compiler spilled registers to (0 is what we want)
    shared_bytes: int    # static shared memory per program
    seconds: float       # compile time

    def row(self) -> str:
        return (f"| {self.kernel} | {self.config} | {self.registers} | {self.spill_bytes} | "
                f"{self.shared_bytes} | {self.seconds:.1f} |")


HEADER = "| kernel | configuration | registers | spilled bytes (stack) | shared bytes | compile s |\n|---|---|---|---|---|---|"


def _tools():
    import triton
    base = os.path.join(os.path.dirname(triton.__file__), "backends", "nvidia", "bin")
    return os.path.join(base, "cuobjdump")


def _resources(cubin: bytes) -> tuple:
    """(registers, spilled bytes, shared bytes) of the one function in ``cubin``."""
    with tempfile.NamedTemporaryFile(suffix=".cubin") as f:
        f.write(cubin)
        f.flush()
        out = subprocess.run([_tools(), "--dump-resource-usage", f.name], capture_output=True, text=True,
                             check=True).stdout
    line = next((ln for ln in out.splitlines() if "REG:" in ln), "")

    def field(name):
        m = re.search(rf"\b{name}:(\d+)", line)
        return int(m.group(1)) if m else 0
    # registers that did not fit are spilled to the thread's stack frame (STACK); LOCAL would be local
    # arrays, which these kernels do not have, so both count as spilled
    return field("REG"), field("STACK") + field("LOCAL"), field("SHARED")


class Launches:
    """While active, launching a Triton kernel records it (``.calls``: kernel, arguments, keyword
    arguments, the autotuning candidate) instead of running it: the host code runs, allocations and
    all, and no kernel does (``bench/step_memory.py`` measures a step's memory this way)."""

    def __init__(self, all_configs: bool):
        self.all_configs = all_configs
        self.calls: list = []

    def __enter__(self):
        from triton.runtime.autotuner import Autotuner
        from triton.runtime.jit import JITFunction
        self._saved = (JITFunction.run, Autotuner.run)
        calls, every = self.calls, self.all_configs

        tuned: list = [None]            # the autotuning candidate being launched, if any

        def jit_run(fn, *args, grid, warmup, **kwargs):
            calls.append((fn, args, dict(kwargs), tuned[0]))

        def autotuner_run(tuner, *args, **kwargs):
            for cfg in (tuner.configs if every else tuner.configs[:1]):
                tuned[0] = dict(cfg.kwargs)
                try:
                    tuner.fn.run(*args, **{**kwargs, **cfg.all_kwargs()})
                finally:
                    tuned[0] = None

        JITFunction.run, Autotuner.run = jit_run, autotuner_run
        return self

    def __exit__(self, *exc):
        from triton.runtime.autotuner import Autotuner
        from triton.runtime.jit import JITFunction
        JITFunction.run, Autotuner.run = self._saved


def compile_launch(fn, args, kwargs, arch: int = 90, tuned=None) -> tuple:
    """Compile one recorded launch for ``cuda`` compute capability ``arch``: (compiled kernel, config
    text: the autotuned meta-parameters ``tuned``, else the launch's block sizes, and warps/stages)."""
    import triton
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource, make_backend
    from triton.runtime.jit import create_function_from_signature
    target = GPUTarget("cuda", arch, 32)
    backend = make_backend(target)
    from triton import knobs
    kwargs = dict(kwargs)
    # the options a real launch adds (JITFunction.run), so the compiled kernel lands in Triton's cache
    # under the key a launch on the GPU looks up: compiling here warms the cache for the run there
    kwargs["debug"] = kwargs.get("debug", fn.debug) or knobs.runtime.debug
    for knob in ("instrumentation_mode", "fpsan_homomorphic_casts"):     # as the installed Triton has them
        if hasattr(knobs.compilation, knob):
            kwargs[knob] = getattr(knobs.compilation, knob)
    binder = create_function_from_signature(fn.signature, fn.params, backend)
    bound, specialization, options = binder(*args, **kwargs)
    options, signature, constexprs, attrs = fn._pack_args(backend, kwargs, bound, specialization, options)
    kernel = triton.compile(ASTSource(fn, signature, constexprs, attrs), target=target, options=options.__dict__)
    meta = tuned if tuned is not None else {k: v for k, v in kwargs.items() if k.startswith("BLOCK")}
    config = ", ".join(f"{k}={v}" for k, v in sorted(meta.items()))
    config += f"; warps={options.num_warps}, stages={options.num_stages}"
    return kernel, config


def compile_step(spec, batch_size: int = 1024, arch: int = 90, all_configs: bool = False,
                 progress=None, jobs: int = 1, entry_points: bool = False) -> list:
    """Build the Triton program of ``spec`` (from `symgrad.compiling.compiler.specify`), run one ``step`` with
    its launches intercepted (and ``grad`` and ``loss`` too with ``entry_points``), and compile each
    launch for ``arch`` (in ``jobs`` processes). Returns a `KernelReport` each, in launch order.
    Raises what Triton's compiler raises when a kernel does not compile for the target."""
    if os.environ.get("TRITON_INTERPRET") == "1":
        raise RuntimeError("codegen.triton_aot needs real Triton kernels: run it in a process without "
                           "TRITON_INTERPRET=1 (python -m codegen.triton_aot clears it)")
    import torch

    from symgrad.compiling.compiler import _batched_shape

    from .torch_program import TorchProgram
    from .triton_backend import build
    compiled = build(spec)
    prog = TorchProgram(spec, compiled, device="cpu")
    gen = torch.Generator().manual_seed(0)
    values = {p.name: torch.randn(tuple(s), generator=gen) * 0.1 for p, s in zip(prog.params, prog.param_shapes)}
    batch = {x.name: torch.randn((batch_size,) + tuple(int(d) for d in _batched_shape(s)), generator=gen)
             for x, s in zip(prog.inputs, prog.input_shapes)}
    with Launches(all_configs) as launches:
        prog.step(values, prog.init_state(values), batch)
        if entry_points:          # the kernels of loss and grad too (the eval rows, finish_kernel)
            prog.grad(values, batch)
            prog.loss(values, batch)
    todo, seen = [], set()
    for fn, args, kwargs, tuned in launches.calls:
        # one compile per kernel, configuration and specialization (the scalar arguments' values and the
        # tensors' dtypes decide it; the same kernel for two layers of one shape is compiled once)
        key = (fn.__name__, tuple(sorted((k, v) for k, v in kwargs.items() if k.isupper() or k.startswith("num_"))),
               tuple(a if isinstance(a, (bool, int, float)) else str(getattr(a, "dtype", type(a))) for a in args))
        if key not in seen:
            seen.add(key)
            todo.append((fn, args, kwargs, tuned))
    global _TODO
    _TODO = (todo, arch)
    if jobs <= 1:
        results = map(_compile_one, range(len(todo)))
    else:   # forked workers inherit the launches (kernels and tensors do not pickle); results come back
        import multiprocessing
        pool = multiprocessing.get_context("fork").Pool(jobs)
        results = pool.imap(_compile_one, range(len(todo)))
    reports = []
    try:
        for r in results:
            reports.append(r)
            if progress is not None:
                progress(r)
    finally:
        if jobs > 1:
            pool.terminate()
    return reports


_TODO: tuple = ((), 90)


def _compile_one(i: int) -> KernelReport:
    todo, arch = _TODO
    fn, args, kwargs, tuned = todo[i]
    t0 = time.perf_counter()
    kernel, config = compile_launch(fn, args, kwargs, arch, tuned)
    regs, spills, shared = _resources(kernel.asm["cubin"])
    shared = max(shared, int(getattr(kernel.metadata, "shared", 0) or 0))
    return KernelReport(fn.__name__, config, regs, spills, shared, time.perf_counter() - t0)


# The GPU benchmark's network (bench/gpu_step.py, bench/step_memory.py and the specs below): input 32,
# three relu layers of one width, output 16, ½‖ŷ − y‖² per example, Adam. One declaration, so the
# generated module — and Triton's cache of its kernels — is the same wherever it is built.
N_IN, N_OUT, HIDDEN_LAYERS = 32, 16, 3
LR, BETAS, EPS = 1e-3, (0.9, 0.999), 1e-8


def benchmark_mlp(width: int) -> tuple:
    """(loss, params, inputs, optimizer) of the benchmark's MLP at ``width``."""
    import sympy as sp

    import symgrad as sg
    net = sg.mlp([N_IN] + [width] * HIDDEN_LAYERS + [N_OUT], act=sg.relu)
    y = sp.MatrixSymbol("y", N_OUT, 1)
    return sg.mse(net.output, y), net.params, [net.input, y], sg.optim.Adam(lr=LR, betas=BETAS, eps=EPS)


def benchmark_specs():
    """The networks of bench/gpu_step.py at widths 32, 64, 128, the 64-64-10 cross-entropy MLP
    kept in docs/, two digits CNNs (`digits_cnn`: --only cnn), a LeNet (`digits_lenet`: --only
    lenet), the upsampling networks (`digits_upsampling`) and a segmentation head (`digits_segmentation`:
    --only segmentation)."""
    import sympy as sp

    import symgrad as sg
    from symgrad.compiling.compiler import specify
    out = []
    for w in (32, 64, 128):
        loss, params, inputs, adam = benchmark_mlp(w)
        out.append((f"{N_IN}-{w}-{w}-{w}-{N_OUT} mse", specify(loss, params, inputs, optimizer=adam)))
    net = sg.mlp([64, 64, 10], act=sg.relu)
    t = sp.MatrixSymbol("t", 10, 1)
    out.append(("64-64-10 cross-entropy", specify(sg.cross_entropy(net.output, t), net.params, [net.input, t],
                                                  optimizer=sg.optim.Adam(lr=1e-3))))
    for name, how in (("cnn 8x8 conv3x3-8 same, maxpool 2, dense 10", dict(padding=1, pool=True)),
                      ("cnn 8x8 conv3x3-8 stride 2, dense 10", dict(stride=2, padding=1))):
        loss, params, inputs = digits_cnn(**how)
        out.append((name, specify(loss, params, inputs, optimizer=sg.optim.Adam(lr=1e-3), target="triton")))
    loss, params, inputs = digits_lenet()
    out.append(("lenet 8x8 conv3x3-4 same, pool 2, conv3x3-8 same, pool 2, dense 10",
                specify(loss, params, inputs, optimizer=sg.optim.Adam(lr=1e-3), target="triton")))
    for name, how in (("upsampling 8x8 conv3x3-4 stride 2, pool 2, bilinear x2, conv3x3-4 same, dense 10", {}),
                      ("upsampling 8x8 conv3x3-4 stride 2, pool 2, nearest x2, conv3x3-4 same, dense 10",
                       dict(mode="nearest")),
                      ("upsampling small 4x4 conv3x3-4 stride 2, bilinear to 3x3, conv3x3-4 same, dense 10",
                       dict(small=True))):
        loss, params, inputs = digits_upsampling(**how)
        out.append((name, specify(loss, params, inputs, optimizer=sg.optim.Adam(lr=1e-3), target="triton")))
    loss, params, inputs = digits_segmentation()
    out.append(("segmentation 8x8 conv3x3-4 same, conv1x1-3, per-pixel cross-entropy",
                specify(loss, params, inputs, optimizer=sg.optim.Adam(lr=1e-3), target="triton")))
    for k, pad, opad in ((2, 0, 0), (4, 1, 0)):
        loss, params, inputs = digits_up_conv(k, pad, opad)
        out.append((f"up-conv 8x8 conv3x3-4 stride 2, conv_transpose{k}x{k}-4 stride 2 padding {pad}, dense 10",
                    specify(loss, params, inputs, optimizer=sg.optim.Adam(lr=1e-3), target="triton")))
    for name, how in (("signal dense 16-32 as (4, 8), linear x2, dense 10", "resize"),
                      ("signal 4x16 scaled per channel exp(g)*x + s, tanh, dense 10", "scale"),
                      ("cnn 8x8 conv3x3-8 stride 2, batch norm (eval), dense 10", "batch norm"),
                      ("cnn 8x8 conv3x3-8 stride 2, layer norm of the map, dense 10", "map layer norm"),
                      ("residual mlp 32-64 layer norm, dense 10", "layer norm")):
        loss, params, inputs = signal_and_norm(how)
        out.append((name, specify(loss, params, inputs, optimizer=sg.optim.Adam(lr=1e-3), target="triton")))
    for kind in ("gaussian", "student-t", "poisson", "probit"):
        loss, params, inputs = likelihood_mlp(kind)
        out.append((f"likelihood {kind} mlp 32-64-1",
                    specify(loss, params, inputs, optimizer=sg.optim.Adam(lr=1e-3), target="triton")))
    return out


def digits_up_conv(kernel: int = 2, padding: int = 0, output_padding: int = 0, filters: int = 4) -> tuple:
    """(loss, params, inputs) of a decoder's upsampling by a transposed convolution, as the Triton
    target takes it (`kernel_conv.transposed_kernel`): an 8×8 image, conv 3×3 stride 2 (4×4 map),
    relu, sg.conv_transpose2d(kernel, stride 2) back to 8×8 (64 positions), relu, a dense layer of 10."""
    import sympy as sp

    import symgrad as sg
    N = sp.Symbol("N", integer=True, positive=True)
    x, y = sg.tensor("x", (N, 1, 8, 8)), sg.tensor("y", (N,), integer=True)
    w1, b1 = sg.tensor("w1", (filters, 1, 3, 3)), sg.tensor("b1", (filters,))
    wt, bt = sg.tensor("wt", (filters, filters, kernel, kernel)), sg.tensor("bt", (filters,))
    h = sg.relu(sg.conv2d(x, w1, b1, stride=2, padding=1))
    u = sg.relu(sg.conv_transpose2d(h, wt, bt, stride=2, padding=padding, output_padding=output_padding))
    D = filters * int(u.shape[2]) * int(u.shape[3])
    V, c = sg.tensor("V", (D, 10)), sg.tensor("c", (10,))
    return sg.cross_entropy(u.reshape(N, -1) @ V + c, y), [w1, b1, wt, bt, V, c], [x, y]


def signal_and_norm(kind: str) -> tuple:
    """(loss, params, inputs) of the thirteenth session's networks (2026-12-01): "resize", a dense
    layer 16 → 32 whose output is read as a signal of 4 channels of 8 (`AsColumns._vector_as_rows`),
    linearly resized by 2 (sg.interpolate(mode='linear')), flattened, dense → 10; "scale", a signal
    (4, 16) scaled and shifted per channel, exp(g) ⊙ x + s with g, s (4, 1) (`_numbers_per_row`), tanh,
    dense → 10; "batch norm", the stride-2 digits CNN with batch norm in evaluation mode after the
    convolution (`kernel_conv._channel_column` of the running statistics); "map layer norm", that CNN
    with a layer norm of the map (C, H, W) and per-channel weights instead; "layer norm", a residual
    block x + W2·relu(W1·layer_norm(x)) of width 32 (hidden 64), dense → 10."""
    import sympy as sp

    import symgrad as sg
    N = sp.Symbol("N", integer=True, positive=True)
    y = sg.tensor("y", (N,), integer=True)
    if kind == "resize":
        x, W, b = sg.tensor("x", (N, 16)), sg.tensor("W", (16, 32)), sg.tensor("b", (32,))
        u = sg.interpolate(sg.relu(x @ W + b).reshape(N, 4, 8), scale_factor=2, mode="linear")
        V, c = sg.tensor("V", (64, 10)), sg.tensor("c", (10,))
        return sg.cross_entropy(u.reshape(N, -1) @ V + c, y), [W, b, V, c], [x, y]
    if kind == "scale":
        x, g, s = sg.tensor("x", (N, 4, 16)), sg.tensor("g", (4, 1)), sg.tensor("s", (4, 1))
        V, c = sg.tensor("V", (64, 10)), sg.tensor("c", (10,))
        return sg.cross_entropy(sg.tanh(x * sp.exp(g) + s).reshape(N, -1) @ V + c, y), [g, s, V, c], [x, y]
    if kind in ("batch norm", "map layer norm"):
        x, w, b = sg.tensor("x", (N, 1, 8, 8)), sg.tensor("w", (8, 1, 3, 3)), sg.tensor("b", (8,))
        gam, bet, rm, rv = (sg.tensor(k, (8,)) for k in ("gamma", "beta", "rm", "rv"))
        z = sg.conv2d(x, w, b, stride=2, padding=1)
        if kind == "batch norm":
            z, params = sg.batch_norm(z, sg.stop_gradient(rm), sg.stop_gradient(rv), gam, bet), [w, b, gam, bet, rm, rv]
        else:
            z, params = sg.layer_norm(z, (8, 4, 4)) * gam.reshape(8, 1, 1) + bet.reshape(8, 1, 1), [w, b, gam, bet]
        V, c = sg.tensor("V", (128, 10)), sg.tensor("c", (10,))
        return sg.cross_entropy(sg.relu(z).reshape(N, -1) @ V + c, y), params + [V, c], [x, y]
    if kind == "layer norm":
        x, g, be = sg.tensor("x", (N, 32)), sg.tensor("g", (32,)), sg.tensor("be", (32,))
        W1, b1, W2, b2 = sg.tensor("W1", (32, 64)), sg.tensor("b1", (64,)), sg.tensor("W2", (64, 32)), sg.tensor("b2", (32,))
        V, c = sg.tensor("V", (32, 10)), sg.tensor("c", (10,))
        h = x + sg.relu(sg.layer_norm(x, (32,), g, be) @ W1 + b1) @ W2 + b2
        return sg.cross_entropy(h @ V + c, y), [g, be, W1, b1, W2, b2, V, c], [x, y]
    raise ValueError(f"signal_and_norm: kind {kind!r} is not resize, scale, batch norm or layer norm")


def likelihood_mlp(kind: str = "student-t", width: int = 64) -> tuple:
    """(loss, params, inputs) of a regression MLP 32-width-1 (tanh) under a likelihood with special
    functions (`codegen/triton_special.py`): "student-t" (a Student-t NLL with a learned log of the
    degrees of freedom: loggamma, and digamma in the gradient), "poisson" (a Poisson NLL of counts
    with its exact log y! = loggamma(y + 1)), "probit" (−log Φ(s) = −log(erfc(−s/√2)/2): erfc, whose
    gradient is exp(−s²/2) over it), and "gaussian" (the mean squared error: none, to compare with)."""
    import sympy as sp

    import symgrad as sg
    N = sp.Symbol("N", integer=True, positive=True)
    x, y = sg.tensor("x", (N, 32)), sg.tensor("y", (N,))
    W1, b1, w2, c = sg.tensor("W1", (32, width)), sg.tensor("b1", (width,)), sg.tensor("w2", (width,)), sg.tensor("c", ())
    s = sg.tanh(x @ W1 + b1) @ w2 + c
    params = [W1, b1, w2, c]
    if kind == "student-t":
        a = sg.tensor("a", ())
        nu, z = sp.exp(a), y - s
        loss = (-sp.loggamma((nu + 1) / 2) + sp.loggamma(nu / 2) + sp.log(nu * sp.pi) / 2
                + (nu + 1) / 2 * sp.log(1 + z ** 2 / nu)).sum() / N
        params.append(a)
    elif kind == "poisson":
        loss = (sp.exp(s) - y * s + sp.loggamma(y + 1)).sum() / N
    elif kind == "gaussian":
        loss = sg.mean((y - s) ** 2)
    elif kind == "probit":
        loss = sg.mean(-sp.log(sp.erfc(-(2 * y - 1) * s / sp.sqrt(2)) / 2))
    else:
        raise ValueError(f"likelihood_mlp: kind {kind!r} is not gaussian, student-t, poisson or probit")
    return loss, params, [x, y]


def digits_segmentation(size: int = 8, classes: int = 3) -> tuple:
    """(loss, params, inputs) of a segmentation head as the Triton target takes it (`kernel_pixels`): a
    ``size``² image, conv 3×3-4 same, relu, a 1×1 convolution to ``classes`` maps, and the per-pixel
    cross-entropy at integer labels (N, size, size), torch's F.cross_entropy of a map."""
    import sympy as sp

    import symgrad as sg
    N = sp.Symbol("N", integer=True, positive=True)
    x, y = sg.tensor("x", (N, 1, size, size)), sg.tensor("y", (N, size, size), integer=True)
    w1, b1 = sg.tensor("w1", (4, 1, 3, 3)), sg.tensor("b1", (4,))
    w2, b2 = sg.tensor("w2", (classes, 4, 1, 1)), sg.tensor("b2", (classes,))
    z = sg.conv2d(sg.relu(sg.conv2d(x, w1, b1, padding=1)), w2, b2)
    return sg.cross_entropy(z, y, axis=1), [w1, b1, w2, b2], [x, y]


def digits_upsampling(mode: str = "bilinear", small: bool = False) -> tuple:
    """(loss, params, inputs) of a U-Net's way up as the Triton target takes it: an 8×8 image, conv
    3×3-4 stride 2 (padding 1), relu, 2×2 max pooling, ``mode`` upsampling by 2 (`sg.interpolate`),
    conv 3×3-4 same, relu, flatten, dense → 10, cross-entropy; ``small``: a 4×4 image, no pooling,
    a bilinear resize to 3×3 (the same second convolution over 9 positions: quicker to compile)."""
    import sympy as sp

    import symgrad as sg
    N = sp.Symbol("N", integer=True, positive=True)
    size = 4 if small else 8
    x, y = sg.tensor("x", (N, 1, size, size)), sg.tensor("y", (N,), integer=True)
    w1, b1 = sg.tensor("w1", (4, 1, 3, 3)), sg.tensor("b1", (4,))
    w2, b2 = sg.tensor("w2", (4, 4, 3, 3)), sg.tensor("b2", (4,))
    h = sg.relu(sg.conv2d(x, w1, b1, stride=2, padding=1))
    if small:
        h = sg.interpolate(h, size=(3, 3), mode=mode)
    else:
        h = sg.interpolate(sg.max_pool2d(h, 2), scale_factor=2, mode=mode)
    h = sg.relu(sg.conv2d(h, w2, b2, padding=1))
    V, c = sg.tensor("V", (int(sp.Mul(*h.shape[1:])), 10)), sg.tensor("c", (10,))
    return sg.cross_entropy(h.reshape(N, -1) @ V + c, y), [w1, b1, w2, b2, V, c], [x, y]


def digits_cnn(filters: int = 8, stride: int = 1, padding: int = 0, pool: bool = False, size: int = 8) -> tuple:
    """(loss, params, inputs) of a CNN on sklearn's 8×8 digits as the Triton target takes it: one
    3×3 convolution of the image with a bias, relu, [2×2 max pooling], flatten, dense → 10 classes,
    cross-entropy at integer labels (`symgrad.compiling.kernel_conv`); ``size``: of the (square) image."""
    import sympy as sp

    import symgrad as sg
    N = sp.Symbol("N", integer=True, positive=True)
    x, y = sg.tensor("x", (N, 1, size, size)), sg.tensor("y", (N,), integer=True)
    w, b = sg.tensor("w", (filters, 1, 3, 3)), sg.tensor("b", (filters,))
    h = sg.relu(sg.conv2d(x, w, b, stride=stride, padding=padding))
    if pool:
        h = sg.max_pool2d(h, 2)
    V, c = sg.tensor("V", (int(sp.Mul(*h.shape[1:])), 10)), sg.tensor("c", (10,))
    return sg.cross_entropy(h.reshape(N, -1) @ V + c, y), [w, b, V, c], [x, y]


def digits_lenet(filters=(4, 8), padding: int = 1, size: int = 8, kernels=(3, 3), classes: int = 10) -> tuple:
    """(loss, params, inputs) of a LeNet-style CNN as the Triton target takes it: two convolutions
    (``kernels``: their sizes), each with a bias, relu and 2×2 max pooling (the second's windows
    selections of the first's pooled map's rows, `kernel_conv._grid_patch`), flatten, dense →
    ``classes``, cross-entropy at integer labels; ``padding`` of both convolutions."""
    import sympy as sp

    import symgrad as sg
    N = sp.Symbol("N", integer=True, positive=True)
    x, y = sg.tensor("x", (N, 1, size, size)), sg.tensor("y", (N,), integer=True)
    (k1, k2) = kernels
    w1, b1 = sg.tensor("w1", (filters[0], 1, k1, k1)), sg.tensor("b1", (filters[0],))
    w2, b2 = sg.tensor("w2", (filters[1], filters[0], k2, k2)), sg.tensor("b2", (filters[1],))
    h = sg.max_pool2d(sg.relu(sg.conv2d(x, w1, b1, padding=padding)), 2)
    h = sg.max_pool2d(sg.relu(sg.conv2d(h, w2, b2, padding=padding)), 2)
    V, c = sg.tensor("V", (int(sp.Mul(*h.shape[1:])), classes)), sg.tensor("c", (classes,))
    return sg.cross_entropy(h.reshape(N, -1) @ V + c, y), [w1, b1, w2, b2, V, c], [x, y]


# the backend's settings a command line may change: flag, `codegen.triton_backend`'s name, what 0 does
SETTINGS = [
    ("fuse-rows", "FUSE_ROWS", "0: a rows kernel per product"),
    ("reload-gap", "RELOAD_GAP", "0: a LeNet's rows kernel keeps its far values in registers"),
    ("register-k", "REGISTER_K", "0: wide stored operands of a product are read whole from registers, not in "
                                 "K-steps"),
    ("selection-slices", "SELECTION_SLICES", "0: a second convolution's backward selects from its window's "
                                             "gradient"),
    ("selection-picks", "SELECTION_PICKS", "0: products with a constant 0/1 matrix run as tl.dot, not as "
                                           "columns picked"),
]


def main(argv=None):
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--arch", type=int, default=90, help="CUDA compute capability × 10 (90: H100/H200)")
    ap.add_argument("--all-configs", action="store_true", help="compile every autotuning candidate")
    ap.add_argument("--batch", type=int, default=1 << 14, help="batch size of the intercepted step")
    ap.add_argument("--only", default="", help="the networks whose name contains this (e.g. 32-64)")
    ap.add_argument("--jobs", type=int, default=1, help="compile in this many processes")
    ap.add_argument("--all-entry-points", action="store_true",
                    help="also the kernels of Program.grad and Program.loss (not only step's)")
    for flag, setting, meaning in SETTINGS:
        ap.add_argument(f"--{flag}", type=int, default=None, help=f"codegen.triton_backend.{setting} ({meaning})")
    ap.add_argument("--precision", default=None, choices=["ieee", "tf32", "tf32x3", "bf16"],
                    help="the products' precision (sg.compile(..., precision=...))")
    args = ap.parse_args(argv)
    if not args.all_configs:
        os.environ.setdefault("SYMGRAD_TRITON_AUTOTUNE", "0")
    from . import triton_backend
    for flag, setting, _ in SETTINGS:
        value = getattr(args, flag.replace("-", "_"))
        if value is not None:
            setattr(triton_backend, setting, value)
    chosen = "".join(f"{setting}={getattr(triton_backend, setting)}, " for _, setting, _ in SETTINGS)
    print(f"# Triton kernels compiled for cuda sm_{args.arch} without a GPU (batch {args.batch}, "
          f"{chosen}precision={args.precision or triton_backend.DOT_PRECISION})")
    for name, spec in benchmark_specs():
        if args.only not in name:
            continue
        spec.precision = args.precision
        print(f"\n## {name}\n\n{HEADER}", flush=True)
        compile_step(spec, args.batch, args.arch, args.all_configs, progress=lambda r: print(r.row(), flush=True),
                     jobs=args.jobs, entry_points=args.all_entry_points)


if __name__ == "__main__":
    main()
