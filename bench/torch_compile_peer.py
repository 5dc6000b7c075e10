"""torch.compile as a peer of the CPU bench scripts: the whole training step compiled the ways a
user would write it, the fastest of them kept.

The scripts give a loss function ``loss_fn(ps, *inputs) -> loss tensor`` (``ps``: name → parameter
tensor) and the starting values; `peer` builds, on its own copy of the parameters for each, the
training step (forward, loss, backward, SGD update with ``torch.optim.SGD``, gradients cleared) as

    whole step       ``torch.compile`` of the function that does all of it. Dynamo breaks the graph
                     at ``loss.backward()`` (and at ``opt.zero_grad()``): the forward and loss become
                     one graph whose backward AOTAutograd compiles with it, the update after the
                     break another.
    loss compiled    ``torch.compile(loss_fn)`` (as ``torch.compile(model)``), backward and
                     ``opt.step()`` eager.
    loss + SGD compiled   the same, with ``torch.compile(opt.step)`` (PyTorch's compiled optimizer
                     recipe).

(Not among them: ``torch._dynamo.config.trace_autograd_ops = True``, which the graph break's
message suggests and which traces the backward into the graph too — in torch 2.13.0 on a 4-8-3 MLP
its third step's loss was not eager's, 1.266 against 1.295 at lr 0.5. Nor compiled autograd
(``torch._dynamo.config.compiled_autograd = True``), whose step took 4.1 ms against eager's 0.27 ms
on the 64-128-10 MLP, batch 128.)

Each variant's first call (the compilation) is timed; its first three losses are checked against
the same step run eagerly (a compiled step that computes something else is a failure, not a
contestant); then they run in turns with the eager step (a few short rounds) and the fastest
variant by its median round is the peer. A variant that raises is reported as ``failed: <reason>``;
when every one fails the peer's step is ``None`` and the scripts print its reason in the column. Each `peer` call starts from
``torch._dynamo.reset()`` (so the step of an earlier call recompiles if called again): the scripts
compile the same code for several shapes, and a recompile would otherwise mark the shapes dynamic
(slower generic kernels) and, past Dynamo's cache limit, fall back to eager without saying so. The
compile time is each variant's first call's wall time: the first variant's is a cold compile where
inductor's on-disk cache (/tmp/torchinductor_$USER) is empty, later ones reuse the graphs it holds
(the loss's graph is the same in all three).
"""
from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

SKIPPED = "skipped (--no-torch-compile)"
VARIANTS = ("whole step", "loss compiled", "loss + SGD compiled")


@dataclass
class Peer:
    step: Callable[[], float] | None         # the fastest variant's step; None when all failed
    variant: str = ""
    compile_s: float = 0.0                    # its first call, compilation included
    tried: dict = field(default_factory=dict)  # variant -> "123.4 µs, 1.10x eager (first call 5.1 s)" or "failed: ..."
    want: list = field(default_factory=list)   # the eager step's first three losses (the scripts check them)

    @property
    def failure(self) -> str:
        """What the column says when there is no step."""
        reasons = sorted({v for v in self.tried.values() if v.startswith("failed")})
        return "; ".join(reasons) if reasons else "failed: no variant tried"

    def note(self) -> str:
        """One line: the variant kept; every variant's median time, its ratio to the eager step and
        its first call (compilation), or its failure."""
        tried = ", ".join(f"{k} {v}" for k, v in self.tried.items())
        if self.step is None:
            return f"torch.compile failed ({tried})"
        return f"torch.compile: kept '{self.variant}' (fastest of {tried})"


def _reason(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    first = text[0][:120].replace("|", "/") if text else ""   # the reason goes into a table's cell
    return f"failed: {type(e).__name__}: {first}".rstrip(": ")


def _make(variant: str, loss_fn, values: dict, lr: float, inputs: tuple):
    import torch
    ps = {k: torch.tensor(np.array(v, copy=True), requires_grad=True) for k, v in values.items()}
    opt = torch.optim.SGD(list(ps.values()), lr=lr)

    def train_step():
        loss = loss_fn(ps, *inputs)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        return loss.detach()
    if variant == "eager":
        return lambda: train_step().item()
    if variant == "whole step":
        compiled = torch.compile(train_step)
        return lambda: compiled().item()
    closs = torch.compile(loss_fn)
    update = torch.compile(opt.step) if variant == "loss + SGD compiled" else opt.step

    def step():
        loss = closs(ps, *inputs)
        loss.backward()
        update()
        opt.zero_grad(set_to_none=True)
        return loss.item()
    return step


def peer(loss_fn, values: dict, lr: float, inputs: tuple, variants=VARIANTS, repeats: int = 7,
         per_repeat: int = 10, rtol: float = 1e-3) -> Peer:
    """The fastest of ``variants`` that compiles and computes the eager step's first three losses;
    the scripts then time its ``step`` in turns with theirs. The variants are timed in turns with
    each other and with the same step run eagerly (``repeats`` rounds of ``per_repeat`` steps; the
    median round per variant picks, its median ratio to eager's is noted). One thread: the caller
    has set ``torch.set_num_threads(1)``."""
    import torch
    torch._dynamo.reset()
    eager = _make("eager", loss_fn, values, lr, inputs)
    want = [eager() for _ in range(3)]
    out = Peer(None, want=want)
    steps, first = {"eager": eager}, {}
    for v in variants:
        try:
            t0 = time.perf_counter()
            step = _make(v, loss_fn, values, lr, inputs)
            got = [step()]
            first[v] = time.perf_counter() - t0
            got += [step(), step()]
            for i, (g, w) in enumerate(zip(got, want)):
                if not abs(g - w) <= rtol * abs(w):
                    raise AssertionError(f"its loss at step {i + 1} is {g:.6g}, eager's {w:.6g}")
        except Exception as e:                         # noqa: BLE001 - a peer that fails is reported
            out.tried[v] = _reason(e)
            continue
        steps[v] = step
    ts = {k: [] for k in steps}
    try:
        for r in range(repeats):
            order = list(steps)[r % len(steps):] + list(steps)[:r % len(steps)]
            for k in order:
                t0 = time.perf_counter()
                for _ in range(per_repeat):
                    steps[k]()
                ts[k].append((time.perf_counter() - t0) / per_repeat)
    except Exception as e:                             # noqa: BLE001 - e.g. a recompile that fails
        for v in steps:
            if v != "eager":
                out.tried[v] = _reason(e)
        return out
    med = {k: statistics.median(v) for k, v in ts.items()}
    for v in steps:
        if v == "eager":
            continue
        vs_eager = statistics.median(a / b for a, b in zip(ts[v], ts["eager"]))
        out.tried[v] = f"{med[v] * 1e6:.1f} µs, {vs_eager:.2f}x eager (first call {first[v]:.1f} s)"
        if out.step is None or med[v] < med[out.variant]:
            out.step, out.variant, out.compile_s = steps[v], v, first[v]
    out.tried = {v: out.tried[v] for v in variants}
    return out


def profile(peer_: Peer, steps: int = 10, top: int = 15, width: int = 70) -> None:
    """Where the kept variant's step spends its time: torch.profiler's operators over ``steps``
    steps, by their own CPU time: the matrix products and convolutions inductor leaves to ATen as
    ``aten::mm``, ``aten::convolution_backward``, ...; its own fused C++ kernels by name
    (``graph_<n>_cpp_fused_...``) when they were compiled with
    ``torch._inductor.config.cpp.enable_kernel_profile = True`` (the scripts' --profile-torch-compile
    sets it), else inside "Call CompiledFxGraph"."""
    from torch.profiler import ProfilerActivity, profile as torch_profile
    if peer_.step is None:
        print(f"torch.compile: {peer_.failure}")
        return
    for _ in range(3):
        peer_.step()
    with torch_profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            peer_.step()
    rows = sorted(prof.key_averages(), key=lambda e: -e.self_cpu_time_total)
    total = sum(e.self_cpu_time_total for e in rows)
    print(f"torch.compile ('{peer_.variant}'), operator by operator: {total / 1e3 / steps:.2f} ms per step "
          f"(profiled, {steps} steps)")
    for e in rows[:top]:
        print(f"  {e.self_cpu_time_total / 1e3 / steps:7.3f} ms {100 * e.self_cpu_time_total / total:5.1f} %  "
              f"x{e.count // steps:<3d} {e.key[:width]}")
