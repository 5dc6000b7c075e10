"""Models ported from PyTorch to symgrad (docs/layers.md, "Porting a PyTorch model"): the compiled
NumPy training step of each against torch eager's, in one process, on the same weights and data.

    PYTHONPATH=. python bench/port_step.py [--rounds 21] [--batch 128] [--models prenorm,lstm,...]
        [--baseline DIR] [--cpu-time] [--profile]

The models, each declared over a batch of size N as torch code writes it, and its torch twin:
``prenorm`` (3 pre-norm residual blocks: layer norm, a GELU MLP of width 4·D, residual; a linear
head), ``lstm`` (an LSTM cell unrolled over T = 5 steps, fused gates cut by ``chunk``, a linear head
on the last h), ``attention`` (4-head self-attention with a padding mask and a causal mask, a
mean over the real tokens, cross-entropy with label smoothing), ``bag`` (the mean of embeddings by
integer ids, nn.EmbeddingBag(mode="mean"), and a linear head), ``tied_ae`` (a sigmoid autoencoder whose
decoder is the encoder's W.T, MSE), ``ln_mlp`` and ``bn_mlp`` (one hidden layer of 256 with a layer
norm, or a training-mode batch norm, then relu), ``resblock`` (a ResNet basic block with batch norms
and the identity path on 16 × 8 × 8 maps, average pooling, a linear head), ``gru`` (a GRU cell over
T = 5 steps), ``vae`` (a VAE, ε an input: binary cross-entropy of the logits plus the Gaussian KL).
One training step = forward, loss, backward, Adam update (lr 1e-3), float32, both on one thread (BLAS included); ``--cpu-time`` times by this thread's CPU
time (time.thread_time) rather than the wall clock. Before timing, the two agree on the first
step's loss. Printed per model: the median time of a step of each, and the median of the per-round
ratios compiled / torch eager (the two run in turns, so a busy machine slows them alike; below 1 the
compiled step is faster). ``--baseline DIR`` adds the step that the symgrad of another checkout (DIR)
generates for each model, compiled there in a subprocess, and this checkout's, both called as the
generated module's own ``step`` in the same rounds: the before/after ratio of a change.
``--profile`` prints instead where each model's generated step spends its time, statement by
statement (its SGD step, 20 runs, by the clock chosen), torch eager's step run before each of them as
in the timed rounds (a NumPy step alone in its process meets other caches and another allocator).
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from other_checkout import generated_source  # noqa: E402
from statement_timer import interleaved_rounds, median_ratio  # noqa: E402

N = sp.Symbol("N", integer=True, positive=True)
LR = 1e-3


def prenorm(B, rng, D=64, C=10, L=3):
    x, y = sg.tensor("x", (N, D)), sg.tensor("y", (N,), integer=True)
    h, params = x, []
    for i in range(L):
        g, b = sg.tensor(f"g{i}", (D,)), sg.tensor(f"b{i}", (D,))
        W1, c1, W2, c2 = (sg.tensor(f"W1_{i}", (4 * D, D)), sg.tensor(f"c1_{i}", (4 * D,)),
                          sg.tensor(f"W2_{i}", (D, 4 * D)), sg.tensor(f"c2_{i}", (D,)))
        params += [g, b, W1, c1, W2, c2]
        h = h + sg.linear(sg.gelu(sg.linear(sg.layer_norm(h, D, g, b), W1, c1)), W2, c2)
    Wh = sg.tensor("Wh", (C, D))
    loss = sg.cross_entropy(sg.linear(h, Wh), y)
    data = {"x": rng.normal(size=(B, D)), "y": rng.integers(0, C, B)}

    def twin(t, d, F):
        h = d["x"]
        for i in range(L):
            a = F.layer_norm(h, (D,), t[f"g{i}"], t[f"b{i}"])
            h = h + F.linear(F.gelu(F.linear(a, t[f"W1_{i}"], t[f"c1_{i}"])), t[f"W2_{i}"], t[f"c2_{i}"])
        return F.cross_entropy(F.linear(h, t["Wh"]), d["y"])
    return loss, params + [Wh], [x, y], data, twin


def lstm(B, rng, T=5, D=32, H=64, C=10):
    x, y = sg.tensor("x", (N, T, D)), sg.tensor("y", (N,), integer=True)
    Wi, Wh, bi, bh = (sg.tensor("W_ih", (4 * H, D)), sg.tensor("W_hh", (4 * H, H)),
                      sg.tensor("b_ih", (4 * H,)), sg.tensor("b_hh", (4 * H,)))
    Wc = sg.tensor("Wc", (C, H))
    h = c = sg.zeros((N, H))
    for x_t in x.unbind(1):
        i, f, g, o = (sg.linear(x_t, Wi, bi) + sg.linear(h, Wh, bh)).chunk(4, dim=1)
        c = f.sigmoid() * c + i.sigmoid() * g.tanh()
        h = o.sigmoid() * c.tanh()
    loss = sg.cross_entropy(sg.linear(h, Wc), y)
    data = {"x": rng.normal(size=(B, T, D)), "y": rng.integers(0, C, B)}

    def twin(t, d, F):
        import torch
        h = c = torch.zeros(d["x"].shape[0], H)
        for x_t in d["x"].unbind(1):
            i, f, g, o = (F.linear(x_t, t["W_ih"], t["b_ih"]) + F.linear(h, t["W_hh"], t["b_hh"])).chunk(4, 1)
            c = f.sigmoid() * c + i.sigmoid() * g.tanh()
            h = o.sigmoid() * c.tanh()
        return F.cross_entropy(F.linear(h, t["Wc"]), d["y"])
    return loss, [Wi, Wh, bi, bh, Wc], [x, y], data, twin


def attention(B, rng, T=16, D=64, H=4, C=5):
    Dh = D // H
    x, pad, y = sg.tensor("x", (N, T, D)), sg.tensor("pad", (N, T)), sg.tensor("y", (N,), integer=True)
    Wqkv, Wo, Wc = sg.tensor("Wqkv", (3 * D, D)), sg.tensor("Wo", (D, D)), sg.tensor("Wc", (C, D))
    q, k, v = (z.view(N, T, H, Dh).transpose(0, 2, 1, 3) for z in sg.linear(x, Wqkv).split(D, dim=-1))
    s = q @ k.mT / sp.sqrt(Dh)
    s = s.masked_fill(pad[:, None, None, :] < 0.5, float("-inf"))
    s = s.masked_fill(sg.tril(sg.ones((T, T))) < 0.5, float("-inf"))
    o = sg.linear((s.softmax(-1) @ v).transpose(0, 2, 1, 3).reshape(N, T, D), Wo)
    pooled = (o * pad[:, :, None]).sum(axis=1) / pad.sum(axis=1, keepdims=True)
    loss = sg.cross_entropy(sg.linear(pooled, Wc), y, label_smoothing=0.1)
    lens = rng.integers(1, T + 1, B)
    data = {"x": rng.normal(size=(B, T, D)), "pad": (np.arange(T)[None] < lens[:, None]).astype(float),
            "y": rng.integers(0, C, B)}

    def twin(t, d, F):
        import torch
        n = d["x"].shape[0]
        q, k, v = (z.view(n, T, H, Dh).transpose(1, 2) for z in F.linear(d["x"], t["Wqkv"]).split(D, -1))
        s = q @ k.transpose(-2, -1) / Dh ** 0.5
        s = s.masked_fill(d["pad"][:, None, None, :] == 0, float("-inf"))
        s = s.masked_fill(torch.tril(torch.ones(T, T)) == 0, float("-inf"))
        o = F.linear((s.softmax(-1) @ v).transpose(1, 2).reshape(n, T, D), t["Wo"])
        pooled = (o * d["pad"][..., None]).sum(1) / d["pad"].sum(1, keepdim=True)
        return F.cross_entropy(F.linear(pooled, t["Wc"]), d["y"], label_smoothing=0.1)
    return loss, [Wqkv, Wo, Wc], [x, pad, y], data, twin


def bag(B, rng, V=5000, D=64, L=20, C=10):
    ids, y = sg.tensor("ids", (N, L), integer=True), sg.tensor("y", (N,), integer=True)
    E, W, b = sg.tensor("E", (V, D)), sg.tensor("W", (C, D)), sg.tensor("b", (C,))
    loss = sg.cross_entropy(sg.linear(E[ids].mean(axis=1), W, b), y, label_smoothing=0.1)
    data = {"ids": rng.integers(0, V, (B, L)), "y": rng.integers(0, C, B)}

    def twin(t, d, F):
        return F.cross_entropy(F.linear(F.embedding_bag(d["ids"], t["E"], mode="mean"), t["W"], t["b"]),
                               d["y"], label_smoothing=0.1)
    return loss, [E, W, b], [ids, y], data, twin


def tied_ae(B, rng, D=256, H=64):
    x = sg.tensor("x", (N, D))
    W, be, bd = sg.tensor("W", (H, D)), sg.tensor("b_enc", (H,)), sg.tensor("b_dec", (D,))
    loss = sg.mse(sg.linear(sg.sigmoid(sg.linear(x, W, be)), W.T, bd), x)
    data = {"x": rng.normal(size=(B, D))}

    def twin(t, d, F):
        return F.mse_loss(F.linear(F.linear(d["x"], t["W"], t["b_enc"]).sigmoid(), t["W"].t(), t["b_dec"]), d["x"])
    return loss, [W, be, bd], [x], data, twin


def ln_mlp(B, rng, D=128, Hd=256, C=10):
    x, y = sg.tensor("x", (N, D)), sg.tensor("y", (N,), integer=True)
    W1, c1, g, b = sg.tensor("W1", (Hd, D)), sg.tensor("c1", (Hd,)), sg.tensor("g", (Hd,)), sg.tensor("b", (Hd,))
    W2, c2 = sg.tensor("W2", (C, Hd)), sg.tensor("c2", (C,))
    loss = sg.cross_entropy(sg.linear(sg.relu(sg.layer_norm(sg.linear(x, W1, c1), Hd, g, b)), W2, c2), y)
    data = {"x": rng.normal(size=(B, D)), "y": rng.integers(0, C, B)}

    def twin(t, d, F):
        h = F.relu(F.layer_norm(F.linear(d["x"], t["W1"], t["c1"]), (Hd,), t["g"], t["b"]))
        return F.cross_entropy(F.linear(h, t["W2"], t["c2"]), d["y"])
    return loss, [W1, c1, g, b, W2, c2], [x, y], data, twin


def bn_mlp(B, rng, D=128, Hd=256, C=10):
    x, y = sg.tensor("x", (N, D)), sg.tensor("y", (N,), integer=True)
    W1, g, b = sg.tensor("W1", (Hd, D)), sg.tensor("g", (Hd,)), sg.tensor("b", (Hd,))
    W2, c2 = sg.tensor("W2", (C, Hd)), sg.tensor("c2", (C,))
    h = sg.relu(sg.batch_norm(sg.linear(x, W1), weight=g, bias=b, training=True))
    loss = sg.cross_entropy(sg.linear(h, W2, c2), y)
    data = {"x": rng.normal(size=(B, D)), "y": rng.integers(0, C, B)}

    def twin(t, d, F):
        h = F.relu(F.batch_norm(F.linear(d["x"], t["W1"]), None, None, t["g"], t["b"], training=True))
        return F.cross_entropy(F.linear(h, t["W2"], t["c2"]), d["y"])
    return loss, [W1, g, b, W2, c2], [x, y], data, twin


def resblock(B, rng, C=16, S=8, K=10):
    """A ResNet basic block on 8×8 images: conv 3×3 → batch norm → relu → conv 3×3 → batch norm,
    plus the input, relu; global average pooling and a linear head."""
    x, y = sg.tensor("x", (N, C, S, S)), sg.tensor("y", (N,), integer=True)
    w1, w2 = sg.tensor("w1", (C, C, 3, 3)), sg.tensor("w2", (C, C, 3, 3))
    g1, b1, g2, b2 = (sg.tensor(n, (C,)) for n in ("g1", "b1", "g2", "b2"))
    Wc, bc = sg.tensor("Wc", (K, C)), sg.tensor("bc", (K,))
    o = sg.relu(sg.batch_norm(sg.conv2d(x, w1, padding=1), weight=g1, bias=b1, training=True))
    o = sg.batch_norm(sg.conv2d(o, w2, padding=1), weight=g2, bias=b2, training=True)
    h = sg.relu(o + x)
    loss = sg.cross_entropy(sg.linear(sg.mean(h, axis=(2, 3)), Wc, bc), y)
    data = {"x": rng.normal(size=(B, C, S, S)), "y": rng.integers(0, K, B)}

    def twin(t, d, F):
        o = F.relu(F.batch_norm(F.conv2d(d["x"], t["w1"], padding=1), None, None, t["g1"], t["b1"], training=True))
        o = F.batch_norm(F.conv2d(o, t["w2"], padding=1), None, None, t["g2"], t["b2"], training=True)
        return F.cross_entropy(F.linear(F.relu(o + d["x"]).mean((2, 3)), t["Wc"], t["bc"]), d["y"])
    return loss, [w1, w2, g1, b1, g2, b2, Wc, bc], [x, y], data, twin


def gru(B, rng, T=5, D=32, H=64, C=10):
    x, y = sg.tensor("x", (N, T, D)), sg.tensor("y", (N,), integer=True)
    Wi, Wh, bi, bh = (sg.tensor("W_ih", (3 * H, D)), sg.tensor("W_hh", (3 * H, H)),
                      sg.tensor("b_ih", (3 * H,)), sg.tensor("b_hh", (3 * H,)))
    Wc = sg.tensor("Wc", (C, H))
    h = sg.zeros((N, H))
    for x_t in x.unbind(1):
        ir, iz, inn = sg.linear(x_t, Wi, bi).chunk(3, dim=1)
        hr, hz, hn = sg.linear(h, Wh, bh).chunk(3, dim=1)
        r, z = (ir + hr).sigmoid(), (iz + hz).sigmoid()
        n = (inn + r * hn).tanh()
        h = (1 - z) * n + z * h
    loss = sg.cross_entropy(sg.linear(h, Wc), y)
    data = {"x": rng.normal(size=(B, T, D)), "y": rng.integers(0, C, B)}

    def twin(t, d, F):
        import torch
        h = torch.zeros(d["x"].shape[0], H)
        for x_t in d["x"].unbind(1):
            ir, iz, inn = F.linear(x_t, t["W_ih"], t["b_ih"]).chunk(3, 1)
            hr, hz, hn = F.linear(h, t["W_hh"], t["b_hh"]).chunk(3, 1)
            r, z = (ir + hr).sigmoid(), (iz + hz).sigmoid()
            h = (1 - z) * (inn + r * hn).tanh() + z * h
        return F.cross_entropy(F.linear(h, t["Wc"]), d["y"])
    return loss, [Wi, Wh, bi, bh, Wc], [x, y], data, twin


def vae(B, rng, D=256, Hd=128, Z=16):
    """A VAE: encoder to a mean and a log-variance, z = μ + exp(½·logvar)·ε with ε an input, a
    sigmoid decoder; binary cross-entropy (summed, per example) plus the Gaussian KL term."""
    x, eps = sg.tensor("x", (N, D)), sg.tensor("eps", (N, Z))
    We, be = sg.tensor("We", (Hd, D)), sg.tensor("be", (Hd,))
    Wm, bm, Wv, bv = sg.tensor("Wm", (Z, Hd)), sg.tensor("bm", (Z,)), sg.tensor("Wv", (Z, Hd)), sg.tensor("bv", (Z,))
    Wd, bd, Wo, bo = sg.tensor("Wd", (Hd, Z)), sg.tensor("bd", (Hd,)), sg.tensor("Wo", (D, Hd)), sg.tensor("bo", (D,))
    h = sg.relu(sg.linear(x, We, be))
    mu, logvar = sg.linear(h, Wm, bm), sg.linear(h, Wv, bv)
    z = mu + sg.exp(logvar / 2) * eps
    logits = sg.linear(sg.relu(sg.linear(z, Wd, bd)), Wo, bo)
    rec = sg.bce_with_logits(logits, x, reduction="sum") / N
    kl = -sp.Rational(1, 2) * sg.sum(1 + logvar - mu ** 2 - sg.exp(logvar)) / N
    loss = rec + kl
    data = {"x": (rng.random(size=(B, D)) < 0.3).astype(float), "eps": rng.normal(size=(B, Z))}

    def twin(t, d, F):
        h = F.relu(F.linear(d["x"], t["We"], t["be"]))
        mu, logvar = F.linear(h, t["Wm"], t["bm"]), F.linear(h, t["Wv"], t["bv"])
        z = mu + (logvar / 2).exp() * d["eps"]
        logits = F.linear(F.relu(F.linear(z, t["Wd"], t["bd"])), t["Wo"], t["bo"])
        n = d["x"].shape[0]
        rec = F.binary_cross_entropy_with_logits(logits, d["x"], reduction="sum") / n
        return rec - 0.5 * (1 + logvar - mu ** 2 - logvar.exp()).sum() / n
    return loss, [We, be, Wm, bm, Wv, bv, Wd, bd, Wo, bo], [x, eps], data, twin


MODELS = {"prenorm": prenorm, "lstm": lstm, "attention": attention, "bag": bag, "tied_ae": tied_ae}
# networks people train on a CPU that the ports above lack (2026-12-01, twelfth session; their float64
# check against torch: tests/test_bench_port_step_survey.py)
SURVEY = {"ln_mlp": ln_mlp, "bn_mlp": bn_mlp, "resblock": resblock, "gru": gru, "vae": vae}
ALL = {**MODELS, **SURVEY}


def module_source(checkout: str, name: str, B: int, seed: int) -> str:
    """The NumPy module that the symgrad of another checkout generates for model ``name`` (Adam,
    float32), compiled in a subprocess there (the model as this file declares it)."""
    code = (f"import sys; sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r}); "
            "import numpy as np, symgrad as sg, port_step as ps; "
            f"loss, params, inputs, data, twin = ps.ALL[{name!r}]({B}, np.random.default_rng({seed})); "
            f"sys.stdout.write(sg.compile(loss, params, inputs, optimizer=sg.optim.Adam(lr={LR}), "
            "dtype='float32').source)")
    return generated_source(checkout, code)


def module_step(source: str, prog, vals: dict, data: dict, inputs):
    """A step of a generated module called directly, on its own copy of the weights and of Adam's
    slots (``prog``'s order), as ``Program.step`` calls it."""
    ns: dict = {}
    exec(compile(source, "<generated module>", "exec"), ns)
    params = [vals[p.name].copy() for p in prog.params]
    state = prog.init_state(vals)
    slots = [state[s][p.name].copy() for s in prog.slots for p in prog.params]
    xs = [np.asarray(data[x.name], dtype=np.float32) for x in inputs]
    t = [0]

    def step():
        t[0] += 1
        return ns["step"](params, slots, t[0], xs)
    return step


def bench(name, B, rounds, seed=0, baseline=None, clock=time.perf_counter):
    import torch
    torch.set_num_threads(1)
    rng = np.random.default_rng(seed)
    loss, params, inputs, data, twin = ALL[name](B, rng)
    prog = sg.compile(loss, params, inputs, optimizer=sg.optim.Adam(lr=LR), dtype="float32")
    vals = {p.name: (rng.normal(0, 1 / np.sqrt(p.shape[-1]), tuple(p.shape)) if len(p.shape) > 1
                     else np.ones(p.shape) if p.name.startswith("g") else np.zeros(p.shape)).astype(np.float32)
            for p in params}
    data = {k: v.astype(np.float32) if v.dtype.kind == "f" else v for k, v in data.items()}
    t = {k: torch.tensor(v.copy(), requires_grad=True) for k, v in vals.items()}
    td = {k: torch.tensor(v) for k, v in data.items()}
    opt = torch.optim.Adam(t.values(), lr=LR)
    F = torch.nn.functional

    def torch_step():
        opt.zero_grad()
        lt = twin(t, td, F)
        lt.backward()
        opt.step()
        return lt.item()
    state = prog.init_state(vals)
    holder = {"v": vals, "s": state}

    def ours_step():
        holder["v"], holder["s"] = prog.step(holder["v"], holder["s"], data)
        return prog.last_loss
    a, b = ours_step(), torch_step()
    assert abs(a - b) <= 1e-4 * max(1.0, abs(b)), (name, a, b)
    runs = {"symgrad": ours_step, "torch": torch_step}
    if baseline:
        runs["module"] = module_step(prog.source, prog, vals, data, inputs)
        runs["baseline"] = module_step(module_source(baseline, name, B, seed), prog, vals, data, inputs)
        assert abs(runs["baseline"]() - runs["module"]()) <= 1e-4 * max(1.0, abs(a)), name
    times = interleaved_rounds(runs, rounds, clock)
    return (statistics.median(times["symgrad"]) * 1e3, statistics.median(times["torch"]) * 1e3,
            median_ratio(times, "symgrad", "torch"),
            (median_ratio(times, "module", "baseline"), median_ratio(times, "baseline", "torch")) if baseline else None)


def _kind(text: str) -> str:
    """A statement's kind, for `print_profile`'s totals."""
    if "numpy.matmul(" in text or " @ " in text:
        return "matrix products (im2col included)"
    if ".sum(" in text or "einsum(" in text:
        return "sums"
    return "the rest"


def profile(name, B, seed=0, clock=time.perf_counter):
    """Where the generated step of model ``name`` spends its time (`print_profile`), torch eager's
    step (Adam) run before each of its runs."""
    import torch
    from statement_timer import print_profile
    torch.set_num_threads(1)
    rng = np.random.default_rng(seed)
    loss, params, inputs, data, twin = ALL[name](B, rng)
    prog = sg.compile(loss, params, inputs, optimizer=sg.optim.SGD(lr=LR), dtype="float32")
    vals = [(rng.normal(0, 1 / np.sqrt(p.shape[-1]), tuple(p.shape)) if len(p.shape) > 1
             else np.ones(p.shape)).astype(np.float32) for p in params]
    xs = [np.asarray(data[x.name], dtype=np.float32) for x in inputs]
    t = {p.name: torch.tensor(v.copy(), requires_grad=True) for p, v in zip(params, vals)}
    td = {k: torch.tensor(v.astype(np.float32) if v.dtype.kind == "f" else v) for k, v in data.items()}
    opt = torch.optim.Adam(t.values(), lr=LR)

    def torch_step():
        opt.zero_grad()
        twin(t, td, torch.nn.functional).backward()
        opt.step()
    print(f"## {name}")
    print_profile(prog.source, vals, xs, _kind, steps=20, top=12, clock=clock, between=torch_step)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=21)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--models", default=",".join(ALL))
    ap.add_argument("--baseline", metavar="DIR", help="also time the step another checkout of symgrad generates")
    ap.add_argument("--cpu-time", action="store_true",
                    help="time by this thread's CPU time (time.thread_time), not the wall clock")
    ap.add_argument("--profile", action="store_true", help="where each model's generated step spends its time")
    a = ap.parse_args(argv)
    if a.profile:
        for name in a.models.split(","):
            profile(name, a.batch, clock=time.thread_time if a.cpu_time else time.perf_counter)
        return
    import torch
    print(f"# bench/port_step.py, {datetime.date.today()}, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs, numpy {np.__version__}, torch {torch.__version__}; batch {a.batch}, "
          f"{a.rounds} rounds, Adam, float32, one thread, {'CPU' if a.cpu_time else 'wall'} time")
    print(f"{'model':<10} {'symgrad ms':>11} {'torch ms':>9} {'ratio':>6}"
          + (f" {'this / baseline':>16} {'baseline / torch':>17}" if a.baseline else ""))
    for name in a.models.split(","):
        ours, theirs, ratio, ab = bench(name, a.batch, a.rounds, baseline=a.baseline,
                                        clock=time.thread_time if a.cpu_time else time.perf_counter)
        print(f"{name:<10} {ours:>11.2f} {theirs:>9.2f} {ratio:>6.2f}" + (f" {ab[0]:>16.2f} {ab[1]:>17.2f}" if a.baseline else ""))


if __name__ == "__main__":
    main()
