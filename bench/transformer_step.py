"""The compiled NumPy step of a GPT-style transformer against torch eager, in one process, on the same
weights and data.

    PYTHONPATH=. python bench/transformer_step.py [--rounds 21] [--T 64] [--D 128] [--heads 4]
        [--layers 2] [--vocab 64] [--batch 32] [--baseline DIR] [--cpu-time] [--profile]

The network is examples/train_transformer_chars.py's `gpt` (token and positional embeddings; per
layer a pre-norm causal multi-head self-attention and a GELU MLP with residuals; a final layer norm;
the next-token cross-entropy over (N, T, V) logits). The torch twin below writes the same network
with the same weights (F.layer_norm, masked_fill(-inf), F.gelu, F.cross_entropy). One training step
= forward, loss, backward, SGD update (lr 0.01), float32, both on one thread (BLAS included).
Before timing, the two agree on the first step's loss. Printed: the median time of a step of each,
and the median of the per-round ratios compiled / torch eager (the methods run in turns, so a busy
machine slows them alike; a ratio below 1 means the compiled step is faster).
``--unshared-erf`` adds the step compiled without `codegen.numpy_shared_erf` (GELU's erf evaluated in
its forward and again in its backward), timed in the same rounds: that pass's effect.
``--baseline DIR`` adds the step that the symgrad of another checkout (DIR) generates for the same
network, compiled there in a subprocess, timed in the same rounds (both called as the generated
module's own ``step``): the before/after ratio of a change, in one process.
``--cpu-time`` times each step by this thread's CPU time (time.thread_time) instead of the wall
clock: on a machine shared with other processes a step of 100 ms is taken off the CPU several times
and its wall time grows with the load (2.5× at a load of 5 on 2 cores), a 1.5 ms call hardly ever;
the CPU time leaves that out (not the other processes' use of the caches and memory). Both steps
run on this thread (torch with one thread, BLAS too).
``--profile`` prints instead where the compiled step's time goes: each top-level statement of the
generated ``step`` timed on its own, totals by kind and the slowest statements.
"""
from __future__ import annotations

import os
import sys

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse      # noqa: E402
import datetime      # noqa: E402
import importlib.util  # noqa: E402
import platform      # noqa: E402
import statistics    # noqa: E402
import time          # noqa: E402

import numpy as np   # noqa: E402

import symgrad as sg  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from other_checkout import first_and_next_step, generated_source  # noqa: E402
from statement_timer import interleaved_rounds, median_ratio, print_profile  # noqa: E402

LR = 0.01


def _example():
    path = os.path.join(HERE, "..", "examples", "train_transformer_chars.py")
    spec = importlib.util.spec_from_file_location("train_transformer_chars", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def torch_step_fn(P: dict, V: int, T: int, D: int, H: int, layers: int):
    """torch eager's step ``step(ids, targets) -> loss`` on its own copy of the weights ``P``."""
    import torch
    torch.set_num_threads(1)
    F = torch.nn.functional
    W = {k: torch.tensor(v, requires_grad=True) for k, v in P.items()}
    causal = torch.tril(torch.ones(T, T))
    Dh = D // H

    def loss_fn(ids, targets):
        n = ids.shape[0]
        x = W["E"][ids] + W["P"]
        for i in range(layers):
            h = F.layer_norm(x, (D,), W[f"ln1_g{i}"], W[f"ln1_b{i}"], 1e-5)
            q, k, v = ((h @ W[f"{m}{i}"]).view(n, T, H, Dh).transpose(1, 2) for m in ("Wq", "Wk", "Wv"))
            s = (q @ k.transpose(-2, -1) / Dh ** 0.5).masked_fill(causal == 0, float("-inf"))
            att = (s.softmax(-1) @ v).transpose(1, 2).reshape(n, T, D)
            x = x + att @ W[f"Wo{i}"]
            h = F.layer_norm(x, (D,), W[f"ln2_g{i}"], W[f"ln2_b{i}"], 1e-5)
            x = x + F.gelu(h @ W[f"W1_{i}"] + W[f"c1_{i}"]) @ W[f"W2_{i}"] + W[f"c2_{i}"]
        logits = F.layer_norm(x, (D,), W["lnf_g"], W["lnf_b"], 1e-5) @ W["Wout"]
        return F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1))

    def step(ids, targets):
        loss = loss_fn(ids, targets)
        for t in W.values():
            t.grad = None
        loss.backward()
        with torch.no_grad():
            for t in W.values():
                t -= LR * t.grad
        return loss.item()
    return step


def start_values(ex, params) -> dict:
    """The example's GPT-2 initialization in float32, with weights 10× larger than GPT-2's 0.02, so
    that attention is not uniform, and every layer norm's gain 1 (the example's ``init`` tells gains
    by a name ending in "_g", which the per-layer "ln1_g0" ... do not: their gains came out 0 before
    2026-11-30's seventh session, so every block's layer norm gave 0, the GELUs' inputs were 0 and the
    attention uniform, and the step timed was that degenerate network's)."""
    start = {k: v.astype(np.float32) for k, v in ex.init(params, seed=0).items()}
    for k in start:
        if start[k].ndim == 2:
            start[k] *= 10
        elif k.startswith(("ln1_g", "ln2_g", "lnf_g")):
            start[k] = np.ones_like(start[k])
    return start


def module_source(checkout: str, V: int, T: int, D: int, H: int, L: int) -> str:
    """The NumPy module that the symgrad of another checkout generates for this network (SGD,
    float32), compiled in a subprocess there."""
    code = ("import sys, importlib.util, symgrad as sg; "
            "spec = importlib.util.spec_from_file_location('ex', 'examples/train_transformer_chars.py'); "
            "ex = importlib.util.module_from_spec(spec); spec.loader.exec_module(ex); "
            f"loss, _, params, inputs = ex.gpt({V}, {T}, {D}, {H}, {L}); "
            f"sys.stdout.write(sg.compile(loss, params, inputs, optimizer=sg.optim.SGD(lr={LR}), "
            "dtype='float32').source)")
    return generated_source(checkout, code)


def module_step(source: str, start: dict, params, batch):
    """A step of a generated module called directly (`other_checkout.first_and_next_step`)."""
    return first_and_next_step(source, start, params, [batch["ids"], batch["targets"]])


def _kind(code: str) -> str:
    if "@" in code or "matmul(" in code:
        return "matrix products"
    if ".sum(" in code or "numpy.sum(" in code or "einsum(" in code:
        return "sums (with their products)"
    if "add.at(" in code or "numpy.take(" in code:
        return "embedding (take, scatter_add)"
    if "erf(" in code or "gelu_phi(" in code or "exp(" in code or "log(" in code:
        return "exp, log, erf (softmax, GELU)"
    if code.startswith("g") and "*=" in code or code.startswith("p") and "-=" in code:
        return "update"
    if code.startswith(("del ", "[", "assert ", "if ", "raise ", "d0 = ", "scale = ", "return ")):
        return "bookkeeping"
    return "elementwise"


def profile(prog, P: dict, params, batch, steps: int = 10, clock=time.perf_counter) -> None:
    print_profile(prog.source, [P[p.name].copy() for p in params], [batch["ids"], batch["targets"]], _kind,
                  steps, top=12, width=120, clock=clock)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=21)
    ap.add_argument("--T", type=int, default=64)
    ap.add_argument("--D", type=int, default=128)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--vocab", type=int, default=64)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--cpu-time", action="store_true", help="time by this thread's CPU time, not the wall clock")
    ap.add_argument("--profile", action="store_true", help="time the generated step statement by statement")
    ap.add_argument("--baseline", metavar="DIR", help="also time the step another checkout of symgrad generates")
    ap.add_argument("--unshared-erf", action="store_true",
                    help="also time the step compiled without sharing GELU's erf between forward and backward")
    args = ap.parse_args(argv)
    import torch

    ex = _example()
    V, T, D, H, L = args.vocab, args.T, args.D, args.heads, args.layers
    loss, _, params, inputs = ex.gpt(V, T, D, H, L)
    t0 = time.perf_counter()
    prog = sg.compile(loss, params, inputs, optimizer=sg.optim.SGD(lr=LR), dtype="float32")
    compile_s = time.perf_counter() - t0
    start = start_values(ex, params)
    rng = np.random.default_rng(0)
    ids = rng.integers(0, V, (args.batch, T))
    targets = rng.integers(0, V, (args.batch, T))
    batch = {"ids": ids, "targets": targets}
    if args.profile:
        profile(prog, start, params, batch, clock=time.thread_time if args.cpu_time else time.perf_counter)
        return

    ours = {k: v.copy() for k, v in start.items()}
    torch_step = torch_step_fn({k: v.copy() for k, v in start.items()}, V, T, D, H, L)
    ids_t, targets_t = torch.tensor(ids), torch.tensor(targets)
    ours, state = prog.step(ours, None, batch)
    first = (prog.last_loss, torch_step(ids_t, targets_t))
    assert abs(first[0] - first[1]) < 1e-4 * first[1], first

    runs = {"compiled": lambda: prog.step(ours, state, batch), "torch eager": lambda: torch_step(ids_t, targets_t)}
    if args.unshared_erf:
        import codegen.numpy_whole_batch as wb
        shared, wb.share_erf = wb.share_erf, lambda lw: lw
        try:
            plain = sg.compile(loss, params, inputs, optimizer=sg.optim.SGD(lr=LR), dtype="float32")
        finally:
            wb.share_erf = shared
        assert plain.source != prog.source
        plain_values, plain_state = plain.step({k: v.copy() for k, v in start.items()}, None, batch)
        assert abs(plain.last_loss - first[0]) < 1e-4 * first[0]
        runs["compiled, erf unshared"] = lambda: plain.step(plain_values, plain_state, batch)
    if args.baseline:
        runs["module step"], _ = module_step(prog.source, start, params, batch)
        runs["baseline module step"], base_first = module_step(
            module_source(args.baseline, V, T, D, H, L), start, params, batch)
        assert abs(base_first - first[0]) < 1e-4 * first[0], (base_first, first[0])
    times = interleaved_rounds(runs, args.rounds, time.thread_time if args.cpu_time else time.perf_counter)
    med = {k: statistics.median(v) * 1e3 for k, v in times.items()}
    ratio = median_ratio(times, "compiled", "torch eager")
    print(f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, {platform.machine()}, "
          f"{platform.processor() or platform.platform()}, numpy {np.__version__}, torch {torch.__version__}")
    print(f"transformer: {L} layers, T = {T}, D = {D}, {H} heads, V = {V}, N = {args.batch}, float32, one "
          f"thread, SGD; compile {compile_s:.1f} s; {args.rounds} rounds"
          + ("; CPU time of this thread" if args.cpu_time else "; wall clock"))
    print(" | ".join(f"{k} {v:.2f} ms" for k, v in med.items()))
    print(f"compiled / torch eager = {ratio:.2f} (time ratio: below 1 is faster)")
    if args.baseline:
        print(f"module step of this checkout / of {args.baseline}'s = "
              f"{median_ratio(times, 'module step', 'baseline module step'):.2f}; the baseline's / torch eager = "
              f"{median_ratio(times, 'baseline module step', 'torch eager'):.2f}")
    if args.unshared_erf:
        gain = median_ratio(times, "compiled", "compiled, erf unshared")
        print(f"compiled / compiled with erf unshared = {gain:.2f}")


if __name__ == "__main__":
    main()
