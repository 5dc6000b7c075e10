"""The compiled NumPy step of an MLP with batch norm declared over the batch, against a hand-written
NumPy step, torch eager, torch.compile and jax.jit, in one process, on the same data (issue 11).

    PYTHONPATH=. python bench/tensor_step.py [--rounds 31] [--layers 10] [--width 512] [--batch 256] [--unfactored]
        [--plain-printer] [--profile] [--no-torch-compile] [--baseline DIR] [--cpu-time]

The network: x (N, width) → ``layers`` times [z = h @ W; batch norm with the batch's statistics, γ ⊙
(z − mean_N z)/√(var_N z + ε) + β; relu] → logits = h @ W_out + b_out (N, 10) → the mean
cross-entropy with integer labels. (No bias before a batch norm: the norm removes it.) One training
step = forward, loss, backward, SGD update (lr 0.01), float32, every library on one thread (BLAS
included; XLA's thread pool started with one thread — see bench/jax_peer.py). Printed: the median
time of a step per method and the ratios compiled / hand-written, compiled / torch and compiled /
jax (medians of the per-round ratios: the methods run in turns, so a busy machine slows them alike).
The jax.jit step is ``jax.value_and_grad`` of the same loss (batch statistics, biased variance, as
torch's training-mode batch norm) and the same SGD update, jitted as one function, the parameters
donated; before timing, its loss at the starting point is checked against ours, and its gradients
there against our program's compiled in float64 (`Program.grad`; why float64:
jax_peer.float64_check). Without jax installed its column says "not installed".
The torch.compile step (bench/torch_compile_peer.py): torch eager's network and loss, the whole step
compiled the ways a user would write it, the fastest variant kept (printed: which, and every
variant's time and first call); "torch.compile: failed: <reason>" where none compiles, skipped with
``--no-torch-compile``.
``--unfactored`` adds another method: the same declaration compiled without the rewrite that takes
per-column factors out of the batch sums (`symgrad.compiling.pull_factors`), the gradient graph as
reverse mode derives it — the rewrite's effect, measured in the same process. ``--plain-printer``
adds the step printed without the whole-batch printer's temporaries-saving forms (a sum of a product
as one ``numpy.einsum``, ``t = c*u; t += a`` for ``a + c*u``) — their effect, in the same process.
``--baseline DIR`` adds the step that the symgrad of another checkout (DIR) generates for the same
network, compiled there in a subprocess, and this checkout's, both called as the generated module's
own ``step`` and timed in the same rounds: the before/after ratio of a change, in one process.
``--profile-torch-compile`` prints instead torch.profiler's operators of the torch.compile step
(bench/torch_compile_peer.py: profile). ``--cpu-time`` times each method by this thread's CPU time
(time.thread_time), not the wall clock (a loaded machine's other processes not counted); jax.jit is
left out then (XLA may run the step on a thread of its own). ``--profile`` prints instead where the compiled step's time goes: each top-level statement of the
generated ``step`` timed on its own (matrix products, elementwise statements, sums with the products
they take, the optimizer's update), and the slowest statements.
"""
from __future__ import annotations

import os
import sys

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse      # noqa: E402
import datetime      # noqa: E402
import platform      # noqa: E402
import statistics    # noqa: E402
import time          # noqa: E402

import numpy as np   # noqa: E402
import sympy as sp   # noqa: E402

import symgrad as sg  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))   # also when loaded from its path
from statement_timer import interleaved_rounds, median_ratio, print_profile  # noqa: E402
import jax_peer  # noqa: E402
import torch_compile_peer  # noqa: E402
from other_checkout import first_and_next_step, generated_source  # noqa: E402

LR, EPS, CLASSES = 0.01, 1e-5, 10
N = sp.Symbol("N", integer=True, positive=True)


def declare(layers: int, width: int):
    """The network over the batch, in symgrad: (loss, params, inputs)."""
    x, y = sg.tensor("x", (N, width)), sg.tensor("y", (N,), integer=True)
    h, params = x, []
    for i in range(layers):
        W, g, b = sg.tensor(f"W{i}", (width, width)), sg.tensor(f"g{i}", (width,)), sg.tensor(f"b{i}", (width,))
        params += [W, g, b]
        z = h @ W
        h = sg.relu(g * (z - sg.mean(z, axis=0)) / sp.sqrt(sg.var(z, axis=0) + EPS) + b)
    Wo, bo = sg.tensor("Wo", (width, CLASSES)), sg.tensor("bo", (CLASSES,))
    return sg.cross_entropy(h @ Wo + bo, y), params + [Wo, bo], [x, y]


# -------------------------------------------------------------------------------------------------
# The hand-written step, as cs231n's batchnorm_backward_alt writes it:
#   dx̂ = dout ⊙ γ;  dz = (N·dx̂ − Σₙ dx̂ − x̂ ⊙ Σₙ(dx̂ ⊙ x̂)) / (N·σ)


def hand_step(P: dict, X, Y, layers: int):
    n = X.shape[0]
    cache, h = [], X
    for i in range(layers):
        z = h @ P[f"W{i}"]
        mu = z.mean(0)
        z -= mu
        inv = 1.0 / np.sqrt(np.einsum("ij,ij->j", z, z) / n + EPS)
        z *= inv                                     # x̂, in z's buffer
        a = z * P[f"g{i}"]
        a += P[f"b{i}"]
        np.maximum(a, 0, out=a)
        cache.append((h, z, inv, a))
        h = a
    s = h @ P["Wo"]
    s += P["bo"]
    s -= s.max(1, keepdims=True)
    np.exp(s, out=s)
    s /= s.sum(1, keepdims=True)                     # softmax
    rows = np.arange(n)
    loss = -float(np.mean(np.log(s[rows, Y])))
    s[rows, Y] -= 1.0
    s /= n                                           # ∂L/∂logits = (softmax − one_hot) / N
    grads = {"Wo": h.T @ s, "bo": s.sum(0)}
    d = s @ P["Wo"].T
    for i in reversed(range(layers)):
        hin, xhat, inv, a = cache[i]
        d *= a > 0                                   # relu
        grads[f"b{i}"] = d.sum(0)
        grads[f"g{i}"] = np.einsum("ij,ij->j", d, xhat)
        d *= P[f"g{i}"]                              # dx̂
        dz = d * n
        dz -= d.sum(0)
        dz -= xhat * np.einsum("ij,ij->j", d, xhat)
        dz *= inv / n
        grads[f"W{i}"] = hin.T @ dz
        if i:
            d = dz @ P[f"W{i}"].T
    for k, g in grads.items():
        P[k] -= LR * g
    return loss


def torch_step_fn(P: dict, layers: int):
    import torch
    torch.set_num_threads(1)
    T = {k: torch.tensor(v, requires_grad=True) for k, v in P.items()}
    F = torch.nn.functional

    def step(X, Y):
        h = X
        for i in range(layers):
            h = F.relu(F.batch_norm(h @ T[f"W{i}"], None, None, T[f"g{i}"], T[f"b{i}"], training=True, eps=EPS))
        loss = F.cross_entropy(h @ T["Wo"] + T["bo"], Y)
        for t in T.values():
            t.grad = None
        loss.backward()
        with torch.no_grad():
            for t in T.values():
                t -= LR * t.grad
        return loss.item()
    return step, T


def torch_loss(layers: int):
    """torch_step_fn's network and loss as ``loss(T, X, Y)`` of the parameters (for torch.compile)."""
    import torch
    F = torch.nn.functional

    def loss(T, X, Y):
        h = X
        for i in range(layers):
            h = F.relu(F.batch_norm(h @ T[f"W{i}"], None, None, T[f"g{i}"], T[f"b{i}"], training=True, eps=EPS))
        return F.cross_entropy(h @ T["Wo"] + T["bo"], Y)
    return loss


def jax_step_fn(P: dict, layers: int):
    """The jax.jit step ``step(X, Y) -> loss`` on its own copy of ``P``, and ``first(P, X, Y)``:
    JAX's (loss, {name: gradient}) at ``P`` in ``P``'s dtype; ``None`` when jax is not installed."""
    got = jax_peer.load()
    if got is None:
        return None
    jax, jnp = got

    def loss_fn(ps, X, Y):
        h = X
        for i in range(layers):
            z = h @ ps[f"W{i}"]
            mu = jnp.mean(z, axis=0)
            var = jnp.mean((z - mu) ** 2, axis=0)
            h = jax.nn.relu(ps[f"g{i}"] * (z - mu) / jnp.sqrt(var + EPS) + ps[f"b{i}"])
        logits = h @ ps["Wo"] + ps["bo"]
        return jnp.mean(jax.nn.logsumexp(logits, axis=1) - jnp.take_along_axis(logits, Y[:, None], 1)[:, 0])

    def update(ps, X, Y):
        loss, gs = jax.value_and_grad(loss_fn)(ps, X, Y)
        return {k: p - LR * gs[k] for k, p in ps.items()}, loss
    update = jax.jit(update, donate_argnums=0)
    state = {"ps": {k: jnp.array(v) for k, v in P.items()}}

    def step(X, Y):
        state["ps"], loss = update(state["ps"], X, Y)
        return float(loss)

    def first(P, X, Y):
        loss, gs = jax.jit(jax.value_and_grad(loss_fn))({k: jnp.asarray(v) for k, v in P.items()},
                                                        jnp.asarray(X), jnp.asarray(Y))
        return float(loss), {k: np.asarray(g) for k, g in gs.items()}
    return step, first


def init(params, rng):
    out = {}
    for p in params:
        shape = tuple(p.shape)
        if len(shape) == 2:
            out[p.name] = (rng.uniform(-1, 1, shape) / np.sqrt(shape[0])).astype(np.float32)
        else:
            out[p.name] = (np.ones if p.name.startswith("g") else np.zeros)(shape, np.float32)
    return out


def module_source(checkout: str, layers: int, width: int) -> str:
    """The NumPy module that the symgrad of another checkout generates for this network (SGD,
    float32; ``declare`` of this file), compiled in a subprocess there."""
    code = ("import sys, importlib.util, symgrad as sg; "
            f"spec = importlib.util.spec_from_file_location('ts', {os.path.abspath(__file__)!r}); "
            "ts = importlib.util.module_from_spec(spec); spec.loader.exec_module(ts); "
            f"loss, params, inputs = ts.declare({layers}, {width}); "
            f"sys.stdout.write(sg.compile(loss, params, inputs, optimizer=sg.optim.SGD(lr={LR}), "
            "dtype='float32').source)")
    return generated_source(checkout, code)


def module_step(source: str, start: dict, params, batch):
    """A step of a generated module called directly (`other_checkout.first_and_next_step`)."""
    return first_and_next_step(source, start, params, [batch["x"], batch["y"]])


def _kind(code: str) -> str:
    if "@" in code:
        return "matrix products"
    if ".sum(" in code or "numpy.sum(" in code or "einsum(" in code:
        return "sums (with their products)"
    if code.startswith("g") and "*=" in code or code.startswith("p") and "-=" in code:
        return "update"
    if code.startswith(("del ", "[", "assert ", "if ", "raise ", "d0 = ", "scale = ", "return ")):
        return "bookkeeping"
    return "elementwise"


def profile(prog, P: dict, params, batch, steps: int = 10) -> None:
    """Time each top-level statement of the generated ``step`` (the source, recompiled with a clock
    around every statement) over ``steps`` steps; print the totals by kind and the slowest ten."""
    print_profile(prog.source, [P[p.name].copy() for p in params], [batch["x"], batch["y"]], _kind, steps)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=31)
    ap.add_argument("--layers", type=int, default=10)
    ap.add_argument("--width", type=int, default=512)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--unfactored", action="store_true", help="also time the step compiled without pull_factors")
    ap.add_argument("--plain-printer", action="store_true",
                    help="also time the step printed without the einsum contractions and split sums")
    ap.add_argument("--profile", action="store_true", help="time the generated step statement by statement")
    ap.add_argument("--no-torch-compile", action="store_true",
                    help="skip torch.compile (its compilation takes tens of seconds on a busy machine)")
    ap.add_argument("--baseline", metavar="DIR", help="also time the step another checkout of symgrad generates")
    ap.add_argument("--profile-torch-compile", action="store_true",
                    help="instead: torch.profiler's operators of the torch.compile step")
    ap.add_argument("--cpu-time", action="store_true",
                    help="time by this thread's CPU time, not the wall clock (jax.jit left out)")
    args = ap.parse_args(argv)
    pinned = jax_peer.one_xla_thread()
    import torch

    loss, params, inputs = declare(args.layers, args.width)
    t0 = time.perf_counter()
    prog = sg.compile(loss, params, inputs, optimizer=sg.optim.SGD(lr=LR), dtype="float32")
    compile_s = time.perf_counter() - t0
    rng = np.random.default_rng(0)
    start = init(params, rng)
    X = rng.standard_normal((args.batch, args.width)).astype(np.float32)
    Y = rng.integers(0, CLASSES, args.batch)
    batch = {"x": X, "y": Y.astype(np.float32)}
    if args.profile:
        profile(prog, start, params, batch)
        return
    if args.profile_torch_compile:
        torch._inductor.config.cpp.enable_kernel_profile = True   # its C++ kernels by name in the profile
        torch.set_num_threads(1)
        compiled = torch_compile_peer.peer(torch_loss(args.layers), start, LR, (torch.tensor(X), torch.tensor(Y)))
        print(compiled.note())
        torch_compile_peer.profile(compiled)
        return

    # the three agree on the first step's loss (the same network and data)
    gen_values = {k: v.copy() for k, v in start.items()}
    hand_values = {k: v.copy() for k, v in start.items()}
    torch_step, _ = torch_step_fn({k: v.copy() for k, v in start.items()}, args.layers)
    Xt, Yt = torch.tensor(X), torch.tensor(Y)
    gen_values, state = prog.step(gen_values, None, batch)
    first = (prog.last_loss, hand_step(hand_values, X, Y, args.layers), torch_step(Xt, Yt))
    assert max(first) - min(first) < 1e-3 * max(first), first

    runs = {"compiled": lambda: prog.step(gen_values, state, batch),
            "hand-written": lambda: hand_step(hand_values, X, Y, args.layers),
            "torch eager": lambda: torch_step(Xt, Yt)}
    compiled = None
    if not args.no_torch_compile:
        torch.set_num_threads(1)
        compiled = torch_compile_peer.peer(torch_loss(args.layers), start, LR, (Xt, Yt))
        if compiled.step is not None:
            assert abs(compiled.want[0] - first[0]) < 1e-3 * first[0], (compiled.want, first)
            runs["torch.compile"] = compiled.step
    jax_peer_step = None if args.cpu_time else jax_step_fn({k: v.copy() for k, v in start.items()}, args.layers)
    if jax_peer_step is not None:
        jstep, jfirst = jax_peer_step
        jloss = jfirst(start, X, Y)[0]
        assert abs(jloss - first[0]) < 1e-3 * first[0], (jloss, first)
        # gradients in float64 (see jax_peer.float64_check): our program compiled again for them
        prog64 = sg.compile(loss, params, inputs, optimizer=sg.optim.SGD(lr=LR), dtype="float64")
        s64 = {k: v.astype(np.float64) for k, v in start.items()}
        b64 = {k: v.astype(np.float64) for k, v in batch.items()}
        with jax_peer.float64_check():
            jax_peer.assert_same("batch-norm MLP, float64", prog64.loss(s64, b64), prog64.grad(s64, b64),
                                 *jfirst(s64, X.astype(np.float64), Y))
        import jax.numpy as jnp
        Xj, Yj = jnp.asarray(X), jnp.asarray(Y)
        jstep(Xj, Yj)                                  # compiles
        runs["jax.jit"] = lambda: jstep(Xj, Yj)
    if args.plain_printer:
        from codegen.numpy_whole_batch import WholeBatchScheduler as S
        saved = S._contraction, S._split_sum
        S._contraction, S._split_sum = (lambda self, e, reads: None), (lambda self, st, body, v, *rest: None)
        try:
            plain = sg.compile(loss, params, inputs, optimizer=sg.optim.SGD(lr=LR), dtype="float32")
        finally:
            S._contraction, S._split_sum = saved
        assert plain.source != prog.source
        pp_values, pp_state = plain.step({k: v.copy() for k, v in start.items()}, None, batch)
        assert abs(plain.last_loss - first[0]) < 1e-3 * first[0]
        runs["compiled, plain printer"] = lambda: plain.step(pp_values, pp_state, batch)
    if args.unfactored:
        from symgrad.compiling import compiler
        factored, compiler.pull_factors = compiler.pull_factors, lambda g, outs, notes=None: list(outs)
        try:
            plain = sg.compile(loss, params, inputs, optimizer=sg.optim.SGD(lr=LR), dtype="float32")
        finally:
            compiler.pull_factors = factored
        plain_values, plain_state = plain.step({k: v.copy() for k, v in start.items()}, None, batch)
        assert abs(plain.last_loss - first[0]) < 1e-3 * first[0]
        runs["compiled, unfactored"] = lambda: plain.step(plain_values, plain_state, batch)
    if args.baseline:
        runs["module step"], mine = module_step(prog.source, start, params, batch)
        runs["baseline module step"], theirs = module_step(module_source(args.baseline, args.layers, args.width),
                                                           start, params, batch)
        assert abs(mine - first[0]) < 1e-3 * first[0] and abs(theirs - first[0]) < 1e-3 * first[0], (mine, theirs)
    times = interleaved_rounds(runs, args.rounds, clock=time.thread_time if args.cpu_time else time.perf_counter)
    med = {k: statistics.median(v) * 1e3 for k, v in times.items()}
    r_hand = median_ratio(times, "compiled", "hand-written")
    r_torch = median_ratio(times, "compiled", "torch eager")
    print(f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, {platform.machine()}, "
          f"{jax_peer.cpu_model()}, numpy {np.__version__}, torch {torch.__version__}, {jax_peer.version()}; "
          f"{'CPU time of this thread' if args.cpu_time else 'wall clock'}; "
          f"load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(f"MLP {args.layers} x {args.width} with batch norm over the batch, N = {args.batch}, float32, "
          f"one thread; {pinned}; compile {compile_s:.1f} s; {args.rounds} rounds")
    print(" | ".join(f"{k} {v:.2f} ms" for k, v in med.items()))
    print(f"compiled / hand-written = {r_hand:.2f} (target <= 1.2); compiled / torch eager = {r_torch:.2f} "
          f"(target < 1)")
    if compiled is None:
        print(f"torch.compile: {torch_compile_peer.SKIPPED}")
    elif compiled.step is None:
        print(f"torch.compile: {compiled.failure}")
    else:
        r_tc = median_ratio(times, "compiled", "torch.compile")
        print(f"compiled / torch.compile = {r_tc:.2f}; {compiled.note()}")
    if "jax.jit" in times:
        r_jax = median_ratio(times, "compiled", "jax.jit")
        print(f"compiled / jax.jit = {r_jax:.2f}")
    else:
        print(f"jax.jit: {'skipped (--cpu-time)' if args.cpu_time else jax_peer.NOT_INSTALLED}")
    if args.baseline:
        print(f"module step of this checkout / of {args.baseline}'s = "
              f"{median_ratio(times, 'module step', 'baseline module step'):.2f}; the baseline's / torch eager = "
              f"{median_ratio(times, 'baseline module step', 'torch eager'):.2f}"
              + ("" if "torch.compile" not in times else
                 f"; module step / torch.compile = {median_ratio(times, 'module step', 'torch.compile'):.2f}, "
                 f"the baseline's / torch.compile = {median_ratio(times, 'baseline module step', 'torch.compile'):.2f}"))
    if args.unfactored:
        r_plain = median_ratio(times, "compiled, unfactored", "torch eager")
        r_gain = median_ratio(times, "compiled", "compiled, unfactored")
        print(f"unfactored / torch eager = {r_plain:.2f}; compiled / unfactored = {r_gain:.2f}")
    if args.plain_printer:
        r_pp = median_ratio(times, "compiled, plain printer", "torch eager")
        r_gain = median_ratio(times, "compiled", "compiled, plain printer")
        print(f"plain printer / torch eager = {r_pp:.2f}; compiled / plain printer = {r_gain:.2f}")


if __name__ == "__main__":
    main()
