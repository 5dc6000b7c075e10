"""CPU training step of the digits CNN (issue 12): the generated NumPy step against PyTorch eager,
torch.compile, jax.jit and a hand-written im2col NumPy step, in one process, on the same data.

    PYTHONPATH=. python bench/cnn_step.py [--rounds 15] [--baseline DIR] [--profile] [--no-torch-compile] [--cpu-time]

The network is `examples/train_cnn_digits.py`'s: conv 3×3 (1 → 16, padding 1) → relu → max pool 2 →
conv 3×3 (16 → 32, padding 1) → relu → max pool 2 → dense 128 → 10, softmax cross-entropy with
integer labels, batch 64, float32. One training step = forward, loss, backward, SGD update (lr 0.01).
Every library runs on one thread (BLAS included; XLA's thread pool started with one thread, see
bench/jax_peer.py). The jax.jit step is ``jax.value_and_grad`` of the same network
(``jax.lax.conv_general_dilated``, ``jax.lax.reduce_window`` max pooling) and loss with the same SGD
update, jitted as one function, the parameters donated; before timing, its loss and gradients at the
starting point are checked against ours (`Program.loss`, `Program.grad`). Without jax installed its
row says "not installed". The torch.compile step (bench/torch_compile_peer.py): the eager step's
network and loss, the whole step compiled the ways a user would write it, the fastest variant kept (a
line after the table says which, and every variant's time and first call); "failed: <reason>" in
its row where none compiles, skipped with ``--no-torch-compile``. Printed: the median time of a step and the
ratios generated / other (medians of the per-round ratios: the methods take turns, so a busy
machine slows them alike). Also timed: `sg.grad` of a ResNet-18-shaped network declared at the
tensor level (the convolutions, batch norms and identity paths of its 8 basic blocks).

``--baseline DIR`` adds two methods: the generated module's own ``step`` called directly (no
`Program.step` around it), and the same for the module another checkout of symgrad (DIR, e.g. the
main branch) generates for this network — compiled there in a subprocess, run here on the same data,
in turns with the others; the ratio of the two is printed. ``--profile`` prints instead where the
generated step's time goes, per primitive and per statement; ``--profile-torch-compile`` where the
torch.compile step's goes, per operator (torch.profiler). ``--cpu-time`` times each method by this
thread's CPU time (time.thread_time), not the wall clock, so that the time a loaded machine's other
processes take is not counted; jax.jit is left out then (XLA may run the step on a thread of its own,
whose time this thread's clock does not see).
"""
from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse      # noqa: E402
import ast           # noqa: E402
import collections   # noqa: E402
import datetime      # noqa: E402
import re            # noqa: E402
import platform      # noqa: E402
import statistics    # noqa: E402
import sys           # noqa: E402
import time          # noqa: E402

import numpy as np   # noqa: E402
import sympy as sp   # noqa: E402
from numpy.lib.stride_tricks import sliding_window_view  # noqa: E402

import symgrad as sg  # noqa: E402
from symgrad.compiling.optim import SGD  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))   # bench/, also when loaded from its path
from train_cnn_digits import lenet  # noqa: E402
from statement_timer import time_statements  # noqa: E402
import jax_peer  # noqa: E402
import torch_compile_peer  # noqa: E402
from other_checkout import generated_source  # noqa: E402

LR, B = 0.01, 64
CLOCK = time.perf_counter       # time.thread_time with --cpu-time
N = sp.Symbol("N", integer=True, positive=True)


# -------------------------------------------------------------------------------------------------
# The hand-written step: im2col + one GEMM per convolution (cs231n's fast layers), the pooling by a
# reshape (2×2 windows that tile the image), col2im by one slice-add per kernel offset.


def conv_forward(x, w, b):
    n, c, h, wd = x.shape
    f, _, k, _ = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    cols = sliding_window_view(xp, (k, k), axis=(2, 3)).transpose(0, 2, 3, 1, 4, 5).reshape(n * h * wd, c * k * k)
    out = cols @ w.reshape(f, -1).T
    out += b
    return out.reshape(n, h, wd, f).transpose(0, 3, 1, 2), cols


def conv_backward(dout, cols, w, xshape, need_dx=True):
    n, c, h, wd = xshape
    f, _, k, _ = w.shape
    d2 = dout.transpose(0, 2, 3, 1).reshape(-1, f)
    dw = (d2.T @ cols).reshape(w.shape)
    db = d2.sum(0)
    if not need_dx:
        return None, dw, db
    dcols = (d2 @ w.reshape(f, -1)).reshape(n, h, wd, c, k, k)
    dxp = np.zeros((n, c, h + 2, wd + 2), dtype=dout.dtype)
    for i in range(k):
        for j in range(k):
            dxp[:, :, i:i + h, j:j + wd] += dcols[:, :, :, :, i, j].transpose(0, 3, 1, 2)
    return dxp[:, :, 1:-1, 1:-1], dw, db


def pool_forward(x):
    n, c, h, w = x.shape
    win = x.reshape(n, c, h // 2, 2, w // 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(n, c, h // 2, w // 2, 4)
    idx = win.argmax(-1)
    return np.take_along_axis(win, idx[..., None], -1)[..., 0], idx


def pool_backward(dout, idx, xshape):
    n, c, h, w = xshape
    d = (np.arange(4) == idx[..., None]) * dout[..., None]             # δ to the first arg-max
    return d.reshape(n, c, h // 2, w // 2, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(xshape)


def hand_step(p, x, y):
    z1, cols1 = conv_forward(x, p["w1"], p["b1"])
    r1 = np.maximum(z1, 0)
    h1, i1 = pool_forward(r1)
    z2, cols2 = conv_forward(h1, p["w2"], p["b2"])
    r2 = np.maximum(z2, 0)
    h2, i2 = pool_forward(r2)
    flat = h2.reshape(x.shape[0], -1)
    s = flat @ p["W3"] + p["b3"]
    m = s.max(1, keepdims=True)
    e = np.exp(s - m)
    tot = e.sum(1, keepdims=True)
    n = x.shape[0]
    loss = float(np.mean(np.log(tot[:, 0]) + m[:, 0] - s[np.arange(n), y]))
    ds = e / tot
    ds[np.arange(n), y] -= 1
    ds /= n
    g = {"W3": flat.T @ ds, "b3": ds.sum(0)}
    dh2 = (ds @ p["W3"].T).reshape(h2.shape)
    dz2 = pool_backward(dh2, i2, r2.shape) * (z2 >= 0)
    dh1, g["w2"], g["b2"] = conv_backward(dz2, cols2, p["w2"], h1.shape)
    dz1 = pool_backward(dh1, i1, r1.shape) * (z1 >= 0)
    _, g["w1"], g["b1"] = conv_backward(dz1, cols1, p["w1"], x.shape, need_dx=False)
    for k, v in g.items():
        p[k] -= LR * v.astype(p[k].dtype)
    return loss


# -------------------------------------------------------------------------------------------------


def init(params, seed=0):
    rng = np.random.default_rng(seed)
    out = {}
    for p in params:
        shape = tuple(int(d) for d in p.shape)
        fan = int(np.prod(shape[1:])) if len(shape) == 4 else shape[0]
        out[p.name] = (rng.uniform(-1, 1, size=shape) * np.sqrt(6.0 / fan) if len(shape) > 1
                       else np.zeros(shape)).astype(np.float32)
    return out


def torch_step_fn(values, x, y):
    import torch
    torch.set_num_threads(1)
    F = torch.nn.functional
    ps = {k: torch.tensor(v.copy(), requires_grad=True) for k, v in values.items()}
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)

    def step():
        h = F.max_pool2d(F.relu(F.conv2d(xt, ps["w1"], ps["b1"], padding=1)), 2)
        h = F.max_pool2d(F.relu(F.conv2d(h, ps["w2"], ps["b2"], padding=1)), 2)
        loss = F.cross_entropy(h.reshape(xt.shape[0], -1) @ ps["W3"] + ps["b3"], yt)
        loss.backward()
        with torch.no_grad():
            for p in ps.values():
                p -= LR * p.grad
                p.grad = None
        return loss.item()
    return step


def torch_loss(ps, xt, yt):
    """The network and loss of torch_step_fn, as a function of the parameters (for torch.compile)."""
    import torch
    F = torch.nn.functional
    h = F.max_pool2d(F.relu(F.conv2d(xt, ps["w1"], ps["b1"], padding=1)), 2)
    h = F.max_pool2d(F.relu(F.conv2d(h, ps["w2"], ps["b2"], padding=1)), 2)
    return F.cross_entropy(h.reshape(xt.shape[0], -1) @ ps["W3"] + ps["b3"], yt)


def torch_compile_peer_for(values, x, y):
    """The torch.compile peer (`torch_compile_peer.Peer`) of the CNN's step."""
    import torch
    torch.set_num_threads(1)
    return torch_compile_peer.peer(torch_loss, values, LR, (torch.from_numpy(x), torch.from_numpy(y)))


def jax_step_fn(values, x, y):
    """The jax.jit step on its own copy of ``values``, and JAX's (loss, {name: gradient}) at
    ``values``; ``None`` when jax is not installed."""
    got = jax_peer.load()
    if got is None:
        return None
    jax, jnp = got
    lax = jax.lax

    def conv_relu_pool(h, w, b):
        h = lax.conv_general_dilated(h, w, (1, 1), ((1, 1), (1, 1)), dimension_numbers=("NCHW", "OIHW", "NCHW"))
        h = jax.nn.relu(h + b[None, :, None, None])
        return lax.reduce_window(h, -jnp.inf, lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID")

    def loss_fn(ps, x, y):
        h = conv_relu_pool(conv_relu_pool(x, ps["w1"], ps["b1"]), ps["w2"], ps["b2"])
        logits = h.reshape(x.shape[0], -1) @ ps["W3"] + ps["b3"]
        return jnp.mean(jax.nn.logsumexp(logits, axis=1) - jnp.take_along_axis(logits, y[:, None], 1)[:, 0])

    def update(ps, x, y):
        loss, gs = jax.value_and_grad(loss_fn)(ps, x, y)
        return {k: p - LR * gs[k] for k, p in ps.items()}, loss
    update = jax.jit(update, donate_argnums=0)
    xj, yj = jnp.asarray(x), jnp.asarray(y)
    loss, gs = jax.jit(jax.value_and_grad(loss_fn))({k: jnp.asarray(v) for k, v in values.items()}, xj, yj)
    first = (float(loss), {k: np.asarray(g) for k, g in gs.items()})
    state = {"ps": {k: jnp.array(v) for k, v in values.items()}}

    def step():
        state["ps"], loss = update(state["ps"], xj, yj)
        return float(loss)
    return step, first


def time_steps(fns: dict, rounds: int, per_round: int):
    samples = {k: [] for k in fns}
    for f in fns.values():
        for _ in range(3):
            f()
    order = list(fns)
    for r in range(rounds):
        for k in order[r % len(order):] + order[:r % len(order)]:
            t0 = CLOCK()
            for _ in range(per_round):
                fns[k]()
            samples[k].append((CLOCK() - t0) / per_round)
    med = {k: statistics.median(v) for k, v in samples.items()}
    ratio = {k: statistics.median(g / o for g, o in zip(samples["generated"], v)) for k, v in samples.items()}
    mod = [k for k in samples if k.startswith("baseline")]
    if mod:
        ratio["module / baseline"] = statistics.median(
            a / b for a, b in zip(samples["generated, module step"], samples[mod[0]]))
        ratio["baseline / torch"] = statistics.median(
            a / b for a, b in zip(samples[mod[0]], samples["torch eager"]))
    return med, ratio


# -------------------------------------------------------------------------------------------------
# sg.grad of a ResNet-18-shaped network at the tensor level


def resnet18_loss(width=64, hw=8):
    """A stem conv, four stages of two basic blocks (widths w, 2w, 4w, 8w; the first block of a
    stage strided, with a 1×1 projection), global average pooling, a dense layer, cross-entropy."""
    x, y = sg.tensor("x", (N, 3, hw, hw)), sg.tensor("y", (N,), integer=True)
    params = []

    def p(name, shape):
        t = sg.tensor(name, shape)
        params.append(t)
        return t

    def bn(h, name):
        c = h.shape[1]
        g, b = p(f"{name}_g", (c,)), p(f"{name}_b", (c,))
        mu = sg.mean(h, axis=(0, 2, 3), keepdims=True)
        var = sg.var(h, axis=(0, 2, 3), keepdims=True)
        return g.reshape(1, c, 1, 1) * (h - mu) / sg.as_tensor(sp.sqrt(var + sp.Rational(1, 10 ** 5))) \
            + b.reshape(1, c, 1, 1)

    h = sg.relu(bn(sg.conv2d(x, p("stem", (width, 3, 3, 3)), padding=1), "bn0"))
    c = width
    for stage in range(4):
        out_c = width * 2 ** stage
        for blk in range(2):
            s = 2 if stage > 0 and blk == 0 else 1
            name = f"s{stage}b{blk}"
            o = sg.relu(bn(sg.conv2d(h, p(f"{name}_w1", (out_c, c, 3, 3)), stride=s, padding=1), f"{name}_bn1"))
            o = bn(sg.conv2d(o, p(f"{name}_w2", (out_c, out_c, 3, 3)), padding=1), f"{name}_bn2")
            short = h if s == 1 and c == out_c else bn(sg.conv2d(h, p(f"{name}_proj", (out_c, c, 1, 1)),
                                                                 stride=s), f"{name}_bnp")
            h = sg.as_tensor(sg.relu(o + short))
            c = out_c
    pooled = sg.mean(h, axis=(2, 3))
    logits = pooled @ p("fc", (c, 10))
    return sg.cross_entropy(logits, y), params


def profile(prog, values: dict, batch: dict, steps: int = 50) -> None:
    """Time each top-level statement of the generated ``step`` (its source recompiled with a clock
    around every statement) over ``steps`` steps, each statement's fastest (the least disturbed by
    other processes); print the time per primitive (the statement's ``# vN = op[...]`` header
    comment in the source: a convolution, a window copy, a fold, ...) and the slowest statements."""
    lines = prog.source.splitlines()
    fn = next(n for n in ast.parse(prog.source).body if isinstance(n, ast.FunctionDef) and n.name == "step")
    heads, head = [], "entry"
    for i, st in enumerate(fn.body):
        for ln in lines[(fn.body[i - 1].end_lineno if i else fn.lineno):st.lineno - 1]:
            m = re.match(r"\s*# (v\d+) = (\w+)", ln)
            if m:
                head = f"{m.group(2)} ({m.group(1)})"
        heads.append(head)
    texts, spent = time_statements(prog.source, [values[p].copy() for p in values],
                                   [batch["x"], batch["y"]], steps)
    spent = {i: min(ts) for i, ts in spent.items()}
    by_head = collections.defaultdict(float)
    for i, t in spent.items():
        by_head[heads[i]] += t * 1e3
    total = sum(by_head.values())
    print(f"generated step, statement by statement: {total:.2f} ms")
    for h, t in sorted(by_head.items(), key=lambda kv: -kv[1]):
        print(f"  {t:6.3f} ms  {h}")
    print("slowest statements:")
    for i, t in sorted(spent.items(), key=lambda kv: -kv[1])[:12]:
        print(f"  {t * 1e3:6.3f} ms  {texts[i][:120]!r}")


def module_source(checkout: str) -> str:
    """The NumPy module the symgrad of another checkout generates for this network (SGD, float32),
    compiled in a subprocess there."""
    code = ("import sys; sys.path.insert(0, 'examples'); import symgrad as sg; "
            "from symgrad.compiling.optim import SGD; from train_cnn_digits import lenet; "
            "_, loss, params, inputs = lenet(); "
            f"sys.stdout.write(sg.compile(loss, params=params, inputs=inputs, optimizer=SGD(lr={LR}), "
            "dtype='float32').source)")
    return generated_source(checkout, code)


def module_step(source: str, values: dict, params, x, y):
    """A step of a generated module called directly, on its own copy of the parameters."""
    ns: dict = {}
    exec(compile(source, "<generated module>", "exec"), ns)
    args = [values[p.name].copy() for p in params]
    xs = [x, y.astype(np.float32)]
    return lambda: ns["step"](args, [], 1, xs)


def run(rounds: int, want_profile: bool = False, baseline: str | None = None, torch_compile: bool = True):
    logits, loss, params, inputs = lenet()
    prog = sg.compile(loss, params=params, inputs=inputs, optimizer=SGD(lr=LR), dtype="float32")
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (B, 1, 8, 8)).astype(np.float32)
    y = rng.integers(0, 10, B)
    values = init(params)
    gv = {k: v.copy() for k, v in values.items()}
    gstate = {"state": prog.init_state(gv)}
    batch = {"x": x, "y": y}
    if want_profile:
        profile(prog, {p.name: values[p.name] for p in params}, batch)
        return None

    def generated():
        prog.step(gv, gstate["state"], batch)

    hv = {k: v.copy() for k, v in values.items()}
    fns = {"generated": generated, "im2col (hand)": lambda: hand_step(hv, x, y),
           "torch eager": torch_step_fn(values, x, y.astype(np.int64))}
    compiled = torch_compile_peer_for(values, x, y.astype(np.int64)) if torch_compile else None
    if compiled is not None:
        ours = prog.loss(values, batch)                    # the peer's eager step starts where ours does
        assert abs(compiled.want[0] - ours) <= 1e-3 * abs(ours), (compiled.want, ours)
        if compiled.step is not None:
            fns["torch.compile"] = compiled.step
    j = jax_step_fn(values, x, y.astype(np.int32)) if CLOCK is time.perf_counter else None
    if j is not None:
        fns["jax.jit"], first = j
        jax_peer.assert_same("digits CNN", prog.loss(values, batch), prog.grad(values, batch), *first)
    if baseline:
        fns["generated, module step"] = module_step(prog.source, values, params, x, y)
        fns[f"baseline {baseline}, module step"] = module_step(module_source(baseline), values, params, x, y)
    med, ratio = time_steps(fns, rounds, 5)
    t0, c0 = time.perf_counter(), time.process_time()
    rloss, rparams = resnet18_loss()
    sg.grad(rloss, rparams)
    t_grad = (time.perf_counter() - t0, time.process_time() - c0)     # wall, and CPU of this process
    return med, ratio, t_grad, len(rparams), compiled


def torch_compile_lines(compiled) -> str:
    """After the table: torch.compile's row when it did not run (skipped, or why it failed), else
    the line that says which variant ran."""
    if compiled is None:
        return f"| torch.compile | {torch_compile_peer.SKIPPED} | {torch_compile_peer.SKIPPED} |"
    if compiled.step is None:
        return f"| torch.compile | {compiled.failure} | {compiled.failure} |"
    return "\n" + compiled.note()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--baseline", metavar="DIR", help="also time the step another checkout of symgrad generates")
    ap.add_argument("--profile", action="store_true",
                    help="instead: time the generated step statement by statement, per primitive")
    ap.add_argument("--no-torch-compile", action="store_true",
                    help="skip torch.compile (its compilation takes tens of seconds on a busy machine)")
    ap.add_argument("--profile-torch-compile", action="store_true",
                    help="instead: torch.profiler's operators of the torch.compile step")
    ap.add_argument("--cpu-time", action="store_true",
                    help="time by this thread's CPU time, not the wall clock (jax.jit left out)")
    args = ap.parse_args(argv)
    global CLOCK
    CLOCK = time.thread_time if args.cpu_time else time.perf_counter
    xla = jax_peer.one_xla_thread()
    import torch
    if args.profile:
        run(args.rounds, want_profile=True)
        return
    if args.profile_torch_compile:
        torch._inductor.config.cpp.enable_kernel_profile = True   # its C++ kernels by name in the profile
        _, _, params, _ = lenet()
        rng = np.random.default_rng(0)
        x = rng.uniform(0, 1, (B, 1, 8, 8)).astype(np.float32)
        compiled = torch_compile_peer_for(init(params), x, rng.integers(0, 10, B))
        print(compiled.note())
        torch_compile_peer.profile(compiled)
        return
    med, ratio, t_grad, n_params, compiled = run(args.rounds, baseline=args.baseline,
                                                 torch_compile=not args.no_torch_compile)
    print(f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, {platform.machine()}, "
          f"{jax_peer.cpu_model()}, numpy {np.__version__}, "
          f"torch {torch.__version__}, {jax_peer.version()}, one thread each ({xla}); digits CNN, batch {B}, "
          f"float32, SGD step, {'CPU time of this thread' if args.cpu_time else 'wall clock'}; load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print("| method | ms / step | generated / method |")
    print("|---|---|---|")
    for k in med:
        print(f"| {k} | {med[k] * 1e3:.2f} | {ratio[k]:.2f} |")
    if "jax.jit" not in med:
        why = "skipped (--cpu-time)" if args.cpu_time else jax_peer.NOT_INSTALLED
        print(f"| jax.jit | {why} | {why} |")
    print(torch_compile_lines(compiled))
    if "module / baseline" in ratio:
        print(f"module step of this checkout / of the baseline's: {ratio['module / baseline']:.2f}; "
              f"the baseline's / torch eager: {ratio['baseline / torch']:.2f}")
    print(f"sg.grad of a ResNet-18-shaped network ({n_params} parameter tensors): {t_grad[0]:.2f} s wall, "
          f"{t_grad[1]:.2f} s CPU")


if __name__ == "__main__":
    main()
