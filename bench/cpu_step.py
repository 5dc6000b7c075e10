"""CPU training step: the generated NumPy step against hand-written NumPy backprop, PyTorch eager,
torch.compile and jax.jit, in one process, on the same data (issue 3).

    PYTHONPATH=. python bench/cpu_step.py [--quick] [--no-torch-compile] [--baseline DIR]

For each MLP (relu hidden layers; softmax cross-entropy, or ½‖ŷ − y‖² for one output) and batch,
one training step = forward, loss, backward, SGD update (lr 0.01), float32. Every library runs on
one thread (BLAS included), so the ratios compare code, not thread counts: XLA's thread pool is
started with one thread (`jax_peer.one_xla_thread`: XLA sizes it by the CPUs the process may use;
its ``--xla_cpu_multi_thread_eigen=false`` flag alone does not keep it on one thread). Printed: the median time
of a step, the ratios generated / hand-written, generated / torch and generated / jax (medians of
the per-round ratios: the methods run in turns, so a busy machine slows them alike), and the peak
memory the step allocates (tracemalloc; NumPy reports its buffers to it — torch's and XLA's
allocators do not, so no column for them).

The jax.jit step is ``jax.value_and_grad`` of the same loss and the same SGD update, jitted as one
function, the parameters donated (updated in their buffers, as ours are); before timing, its loss
and gradients at the starting point are checked against ours (`Program.loss`, `Program.grad`).
Without jax installed its column says "not installed".

The torch.compile step (bench/torch_compile_peer.py): the same network and loss, the whole step
compiled the ways a user would write it (the whole train step; the loss function with an eager or a
compiled ``torch.optim.SGD`` step), each checked against the eager step's first losses, the fastest
kept and timed in turns with the others; one line per row after the table says which variant it is,
its compile time and the others' times. Where every variant fails the column says "failed:
<reason>"; ``--no-torch-compile`` skips it (compiling takes tens of seconds per row on a busy machine).
``--baseline DIR`` adds, per row, the step that the symgrad of another checkout (DIR) generates for
the same MLP (compiled there in a subprocess) and this checkout's, both the generated module's own
``step`` called directly, timed in the same rounds: a line after the row gives this / baseline, the
before/after ratio of a change.
``--profile-torch-compile`` prints instead, per row, torch.profiler's operators of that step.
``--cpu-time`` times each method by this thread's CPU time (time.thread_time) instead of the wall clock:
on a machine shared with other processes a step is taken off the CPU now and then, for far longer
than it runs (a 3 ms step of the 64-128-10 × 1024 MLP read 1 to 176 ms in a row at a load of 7,
2026-12-01), which the wall clock counts; the CPU time leaves that out. Every method but jax.jit runs
on this thread (torch and BLAS with one thread); XLA runs its step on a thread of its own pool, so
its column is left out then ("skipped (--cpu-time)").
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
import tracemalloc   # noqa: E402

import numpy as np   # noqa: E402
import sympy as sp   # noqa: E402

import symgrad as sg  # noqa: E402
from symgrad.compiling.optim import SGD  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))   # bench/, also when loaded from its path
import jax_peer  # noqa: E402
import torch_compile_peer  # noqa: E402
from other_checkout import generated_source  # noqa: E402

LR = 0.01
CLOCK = time.perf_counter      # time.thread_time with --cpu-time
JAX_SKIPPED = "skipped (--cpu-time)"
CASES = [((2, 16, 16, 1), 64), ((2, 16, 16, 2), 64), ((64, 128, 10), 128), ((64, 128, 10), 1024), ((784, 256, 128, 10), 256)]


# -------------------------------------------------------------------------------------------------
# The hand-written step: the seeds' algorithm (forward keeping the layer values, the loss, then the
# derivatives traversed in reverse, then θ ← θ − α ∂loss/∂θ), written as an expert writes NumPy.


def hand_step(Ws, bs, X, T, lr=LR):
    """One SGD step, in place; returns the loss. Ws[k]: (n_out, n_in), bs[k]: (n_out, 1)."""
    B = X.shape[0]
    hs, zs = [X], []
    h = X
    for k, (W, b) in enumerate(zip(Ws, bs)):
        z = h @ W.T
        z += b.T
        zs.append(z)
        h = np.maximum(z, 0) if k < len(Ws) - 1 else z
        hs.append(h)
    if z.shape[1] == 1:                                  # ½‖ŷ − y‖²
        d = z - T
        loss = 0.5 * float(np.einsum("ij,ij->", d, d)) / B
        d *= 1.0 / B
    else:                                                # softmax cross-entropy, max-shifted
        m = z.max(1, keepdims=True)
        e = np.exp(z - m)
        s = e.sum(1, keepdims=True)
        loss = float((np.log(s[:, 0]) + m[:, 0] - np.einsum("ij,ij->i", T, z)).mean())
        d = e / s
        d -= T
        d *= 1.0 / B                                     # δ = (softmax − t) / B
    for k in range(len(Ws) - 1, -1, -1):
        gW = d.T @ hs[k]
        gb = d.sum(0)[:, None]
        if k > 0:
            d = d @ Ws[k]
            d *= zs[k - 1] >= 0                          # relu'(z), relu'(0) = 1 as in the seeds
        Ws[k] -= lr * gW
        bs[k] -= lr * gb
    return loss


# -------------------------------------------------------------------------------------------------


def make_program(widths):
    net = sg.mlp(list(widths), act=sg.relu)
    t = sp.MatrixSymbol("t", widths[-1], 1)
    loss = sg.mse(net.output, t) if widths[-1] == 1 else sg.cross_entropy(net.output, t)
    return net, sg.compile(loss, net.params, [net.input, t], optimizer=SGD(lr=LR), dtype="float32")


def data(widths, B, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(B, widths[0])).astype(np.float32)
    if widths[-1] == 1:
        T = rng.normal(size=(B, 1)).astype(np.float32)
        labels = None
    else:
        labels = rng.integers(0, widths[-1], B)
        T = np.eye(widths[-1], dtype=np.float32)[labels]
    params = {}
    for k in range(1, len(widths)):
        params[f"W{k}"] = (rng.normal(size=(widths[k], widths[k - 1])) / np.sqrt(widths[k - 1])).astype(np.float32)
        params[f"b{k}"] = np.zeros((widths[k], 1), np.float32)
    return X, T, labels, params


def torch_step_fn(widths, params, X, T, labels):
    import torch
    torch.set_num_threads(1)
    ps = [torch.tensor(v.copy(), requires_grad=True) for v in params.values()]
    Xt, Tt = torch.from_numpy(X), torch.from_numpy(T)
    Lt = torch.from_numpy(labels) if labels is not None else None
    F = torch.nn.functional

    def step():
        h = Xt
        n = len(ps) // 2
        for k in range(n):
            h = F.linear(h, ps[2 * k], ps[2 * k + 1][:, 0])
            if k < n - 1:
                h = torch.relu(h)
        loss = 0.5 * ((h - Tt) ** 2).sum() / h.shape[0] if Lt is None else F.cross_entropy(h, Lt)
        loss.backward()
        with torch.no_grad():
            for p in ps:
                p -= LR * p.grad
                p.grad = None
        return loss.item()
    return step


def torch_compile_peer_for(widths, params, X, T, labels):
    """The torch.compile peer (`torch_compile_peer.Peer`) of this MLP: torch_step_fn's loss."""
    import torch
    torch.set_num_threads(1)
    F = torch.nn.functional
    n = len(widths) - 1
    names = list(params)

    def loss_fn(ps, X, target):
        h = X
        for k in range(n):
            h = F.linear(h, ps[names[2 * k]], ps[names[2 * k + 1]][:, 0])
            if k < n - 1:
                h = torch.relu(h)
        if labels is None:
            return 0.5 * ((h - target) ** 2).sum() / h.shape[0]
        return F.cross_entropy(h, target)
    target = torch.from_numpy(labels) if labels is not None else torch.from_numpy(T)
    return torch_compile_peer.peer(loss_fn, params, LR, (torch.from_numpy(X), target))


def jax_step_fn(widths, params, X, T):
    """The jax.jit step on its own copy of ``params``, and JAX's (loss, {name: gradient}) at
    ``params``; ``None`` when jax is not installed."""
    got = jax_peer.load()
    if got is None:
        return None
    jax, jnp = got
    names = list(params)

    def loss_fn(ps, X, T):
        h = X
        n = len(ps) // 2
        for k in range(n):
            h = h @ ps[2 * k].T + ps[2 * k + 1][:, 0]
            if k < n - 1:
                h = jax.nn.relu(h)
        if T.shape[1] == 1:
            return 0.5 * jnp.sum((h - T) ** 2) / X.shape[0]
        return jnp.mean(jax.nn.logsumexp(h, axis=1) - jnp.sum(T * h, axis=1))

    def update(ps, X, T):
        loss, gs = jax.value_and_grad(loss_fn)(ps, X, T)
        return [p - LR * g for p, g in zip(ps, gs)], loss
    update = jax.jit(update, donate_argnums=0)

    Xj, Tj = jnp.asarray(X), jnp.asarray(T)
    loss, gs = jax.jit(jax.value_and_grad(loss_fn))([jnp.asarray(params[k]) for k in names], Xj, Tj)
    first = (float(loss), {k: np.asarray(g) for k, g in zip(names, gs)})
    state = {"ps": [jnp.array(params[k]) for k in names]}

    def step():
        state["ps"], loss = update(state["ps"], Xj, Tj)
        return float(loss)
    return step, first


def time_steps(fns: dict, rounds: int, per_round: int, pairs=()) -> tuple:
    """Median seconds per step, and the median over rounds of each method's time relative to the
    generated step's in the same round. The methods take turns, round by round, so load from other
    processes on a shared machine hits them alike; the per-round ratios are what the targets use.
    ``pairs`` [(a, b)]: also the median of a's time / b's, under the key "a/b"."""
    samples = {k: [] for k in fns}
    for f in fns.values():
        for _ in range(3):
            f()                                         # warm up (caches, JIT)
    order = list(fns)
    for r in range(rounds):
        for k in order[r % len(order):] + order[:r % len(order)]:   # rotate: no method always follows torch
            f = fns[k]
            t0 = CLOCK()
            for _ in range(per_round):
                f()
            samples[k].append((CLOCK() - t0) / per_round)
    med = {k: statistics.median(v) for k, v in samples.items()}
    ratio = {k: statistics.median(g / o for g, o in zip(samples["generated"], v)) for k, v in samples.items()}
    for a, b in pairs:
        ratio[f"{a}/{b}"] = statistics.median(x / y for x, y in zip(samples[a], samples[b]))
    return med, ratio


def module_step(source: str, prog, params: dict, batch: dict):
    """A step of a generated module (``source``) called directly, on its own copy of the weights,
    with the arguments ``prog.step`` would pass it."""
    ns: dict = {}
    exec(compile(source, "<generated module>", "exec"), ns)
    values = {k: v.copy() for k, v in params.items()}
    ps, slots, xs, t = prog._fast_arguments(values, prog.init_state(values), batch)
    return lambda: ns["step"](ps, slots, t, xs)


def baseline_source(checkout: str, widths) -> str:
    """The NumPy module that the symgrad of another checkout generates for this MLP (this file's
    `make_program`, run there in a subprocess)."""
    code = (f"import sys; sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r}); "
            f"import cpu_step; sys.stdout.write(cpu_step.make_program({tuple(widths)!r})[1].source)")
    return generated_source(checkout, code)


def peak_bytes(f) -> int:
    f()
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    f()
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    return peak


def run(quick: bool = False, rounds: int = 31, torch_compile: bool = True, baseline: str | None = None):
    rows, notes = [], []
    for widths, B in CASES:
        net, prog = make_program(widths)
        X, T, labels, params = data(widths, B)
        # the generated step (through Program.step, as users call it)
        gv = {k: v.copy() for k, v in params.items()}
        gstate = {"values": gv, "state": prog.init_state(gv)}
        batch = {"x": X, "t": T}

        def gen():
            gstate["values"], gstate["state"] = prog.step(gstate["values"], gstate["state"], batch)
        hv = {k: v.copy() for k, v in params.items()}
        n = len(widths) - 1
        Ws, bs = [hv[f"W{k}"] for k in range(1, n + 1)], [hv[f"b{k}"] for k in range(1, n + 1)]

        def hand():
            hand_step(Ws, bs, X, T)
        # sanity: one step from the same point gives the same parameters
        a = {k: v.copy() for k, v in params.items()}
        prog.step(a, prog.init_state(a), batch)
        b = {k: v.copy() for k, v in params.items()}
        hand_step([b[f"W{k}"] for k in range(1, n + 1)], [b[f"b{k}"] for k in range(1, n + 1)], X, T)
        for k in a:
            np.testing.assert_allclose(a[k], b[k], rtol=1e-4, atol=1e-6)
        fns = {"generated": gen, "hand": hand, "torch": torch_step_fn(widths, params, X, T, labels)}
        compiled = torch_compile_peer_for(widths, params, X, T, labels) if torch_compile else None
        if compiled is not None:
            ours = prog.loss(params, batch)                # the peer's eager step starts where ours does
            assert abs(compiled.want[0] - ours) <= 1e-3 * abs(ours), (widths, B, compiled.want, ours)
            notes.append(f"{'-'.join(map(str, widths))} x {B}: {compiled.note()}")
            if compiled.step is not None:
                fns["torch.compile"] = compiled.step
        j = jax_step_fn(widths, params, X, T) if CLOCK is time.perf_counter else None
        if j is not None:
            fns["jax"], (jloss, jgrads) = j
            jax_peer.assert_same(f"{widths} x {B}", prog.loss(params, batch), prog.grad(params, batch),
                                 jloss, jgrads)
        if baseline:
            fns["module"] = module_step(prog.source, prog, params, batch)
            fns["baseline"] = module_step(baseline_source(baseline, widths), prog, params, batch)
        work = 2 * B * sum(widths[i] * widths[i + 1] for i in range(n)) * 3
        per_round = max(1, int(2e8 / work)) if not quick else 1
        rounds = rounds if not quick else 5
        t, ratio = time_steps(fns, rounds, min(per_round, 200), [("module", "baseline")] if baseline else ())
        mem_g, mem_h = peak_bytes(gen), peak_bytes(hand)
        rows.append((widths, B, t, ratio, mem_g, mem_h))
        tc = (torch_compile_peer.SKIPPED if compiled is None
              else compiled.failure if compiled.step is None else None)
        print(_row(widths, B, t, ratio, mem_g, mem_h, tc), flush=True)
        if baseline:
            notes.append(f"{'-'.join(map(str, widths))} x {B}: module step of this checkout / of {baseline}'s = "
                         f"{ratio['module/baseline']:.3f}")
    for line in notes:
        print(line)
    return rows


HEADER = ("| MLP | batch | generated µs | hand-written µs | torch eager µs | torch.compile µs | jax.jit µs | "
          "gen/hand | gen/torch | gen/torch.compile | gen/jax | peak mem gen KiB | peak mem hand KiB | "
          "mem gen/hand |")


def _row(widths, B, t, ratio, mg, mh, torch_compile_says: str | None = None):
    """A row of the table; ``torch_compile_says``: the torch.compile cells' text when it did not
    run (skipped, or its failure), else its time from ``t``."""
    j, rj = ((f"{t['jax'] * 1e6:.1f}", f"{ratio['jax']:.2f}") if "jax" in t
             else (JAX_SKIPPED,) * 2 if CLOCK is not time.perf_counter
             else (jax_peer.NOT_INSTALLED, jax_peer.NOT_INSTALLED))
    c, rc = ((f"{t['torch.compile'] * 1e6:.1f}", f"{ratio['torch.compile']:.2f}") if "torch.compile" in t
             else (torch_compile_says or torch_compile_peer.SKIPPED,) * 2)
    return (f"| {'-'.join(map(str, widths))} | {B} | {t['generated'] * 1e6:.1f} | {t['hand'] * 1e6:.1f} | "
            f"{t['torch'] * 1e6:.1f} | {c} | {j} | {ratio['hand']:.2f} | "
            f"{ratio['torch']:.2f} | {rc} | {rj} | {mg / 1024:.1f} | {mh / 1024:.1f} | {mg / mh:.2f} |")


def overhead(rounds: int = 31, widths=(2, 16, 16, 2), B: int = 64):
    """Program.step's own cost at the smallest row: its argument handling and bookkeeping timed with
    the generated step replaced by a stand-in that returns at once, against the generated module's
    step called directly, round by round. The values passed are the ones step handed back (a
    `Named`), as in a training loop; the ratio is step's own cost over the bare step's time."""
    net, prog = make_program(widths)
    X, T, _, params = data(widths, B)
    batch = {"x": X, "t": T}
    state = {"v": {k: v.copy() for k, v in params.items()}, "s": None}
    state["v"], state["s"] = prog.step(state["v"], prog.init_state(state["v"]), batch)
    ps, slots, xs, t = prog._fast_arguments(state["v"], state["s"], batch)
    module, loss = prog.compiled, np.float32(0.0)

    def bare():
        module.step(ps, slots, t, xs, prog.rng)

    class Instant:
        def step(self, *args):
            return loss

    def own():
        prog.compiled = Instant()
        try:
            for _ in range(200):
                state["v"], state["s"] = prog.step(state["v"], state["s"], batch)
        finally:
            prog.compiled = module
    own_t, bare_t = [], []
    for _ in range(rounds):
        t0 = time.perf_counter()
        own()
        own_t.append((time.perf_counter() - t0) / 200)
        t0 = time.perf_counter()
        for _ in range(200):
            bare()
        bare_t.append((time.perf_counter() - t0) / 200)
    share = statistics.median(o / b for o, b in zip(own_t, bare_t))
    print(f"{'-'.join(map(str, widths))} x {B}: Program.step's own cost {min(own_t) * 1e6:.2f} µs "
          f"(min of {rounds} rounds), the generated step {min(bare_t) * 1e6:.1f} µs; own/step "
          f"{share:.3f} (median of the per-round ratios)")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="few repetitions (a smoke test)")
    ap.add_argument("--rounds", type=int, default=31, help="rounds of interleaved timing per row")
    ap.add_argument("--overhead", action="store_true",
                    help="only Program.step's own cost at the smallest row, against the bare step")
    ap.add_argument("--no-torch-compile", action="store_true",
                    help="skip the torch.compile column (its compilation takes tens of seconds per row)")
    ap.add_argument("--profile-torch-compile", action="store_true",
                    help="instead: torch.profiler's operators of each row's torch.compile step")
    ap.add_argument("--baseline", metavar="DIR", help="also time the step another checkout of symgrad generates")
    ap.add_argument("--cpu-time", action="store_true",
                    help="time by this thread's CPU time, not the wall clock (no jax.jit column then)")
    args = ap.parse_args()
    if args.cpu_time:
        CLOCK = time.thread_time
    pinned = jax_peer.one_xla_thread()
    import torch
    print(f"# {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, {jax_peer.cpu_model()}, "
          f"{os.cpu_count()} cores; {pinned}, Python {platform.python_version()}, NumPy {np.__version__}, "
          f"torch {torch.__version__}, {jax_peer.version()}; load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}"
          + ("; CPU time of this thread" if args.cpu_time else "; wall clock"))
    if args.profile_torch_compile:
        torch._inductor.config.cpp.enable_kernel_profile = True   # its C++ kernels by name in the profile
        for widths, B in CASES:
            X, T, labels, params = data(widths, B)
            compiled = torch_compile_peer_for(widths, params, X, T, labels)
            print(f"{'-'.join(map(str, widths))} x {B}: {compiled.note()}")
            torch_compile_peer.profile(compiled, steps=20, top=12)
    elif args.overhead:
        overhead(args.rounds)
    else:
        print(HEADER)
        print("|" + "---|" * (HEADER.count("|") - 1))
        run(args.quick, args.rounds, torch_compile=not args.no_torch_compile, baseline=args.baseline)
