"""An experiment, not a pass of symgrad: the transformer step's Q, K, V projections as one product with
the weights side by side, their backward's X.T @ [dQ dK dV] and [dQ dK dV] @ [Wq Wk Wv].T as one product
each (the sum of the three input gradients for free), against the step as generated — timed in one
process (2026-12-01, eleventh session, speed2; it did not pay: docs/benchmarks.md).

    PYTHONPATH=. python bench/qkv_side_by_side.py [--rounds 31] [--checkout .] [--profile]

The generated module (bench/transformer_step.py's network, of the symgrad in ``--checkout``) is edited
as text: per layer the three products ``v = numpy.matmul(X.reshape((64 * d0, 128)), p, out=…)`` become

    wqkv0 = numpy.concatenate((p4, p3, p2), axis=1)
    qkv0 = numpy.matmul(X.reshape((64*d0, 128)), wqkv0, out=scratch(ws, 'qkv0', (64*d0, 384)))
    v39 = qkv0[:, 0:128] …

the backward's three batched products that make dQ, dK, dV write into ``gqkv0[:, :, j]`` of one
(N, T, 3, H, Dh) buffer, and the six products and two sums after them become
``dX = gqkv0.reshape((64*d0, 384)) @ wqkv0.T`` (the weights as they were before the update) and
``gw0 = X.T @ gqkv0.reshape((64*d0, 384))``, each weight updated from its columns. Variants: "fwd"
(the forward product alone), "bwd" (the backward ones alone), "both". Printed: each variant's
parameters after one step against the module's (their largest difference relative to the largest
update), the medians of a step (CPU time) and the median per-round ratios variant / module.
``--profile`` prints instead the statement times of the module and of "both" for the statements the
edit touches or that read its buffers.
"""
from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse      # noqa: E402
import re            # noqa: E402
import statistics    # noqa: E402
import sys           # noqa: E402
import time          # noqa: E402

import numpy as np   # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import transformer_step as ts  # noqa: E402
from statement_timer import interleaved_rounds, median_ratio, time_statements  # noqa: E402

FWD = re.compile(r"^    (v\d+) = numpy\.matmul\((v\d+)\.reshape\(\(64 \* d0, 128\)\), (p\d+), out=.*\n", re.M)


def _one(pat, rep, s, flags=0):
    s2, n = re.subn(pat, rep, s, count=1, flags=flags)
    assert n == 1, pat
    return s2


def side_by_side(source: str, mode: str = "both") -> str:
    """The module ``source`` with its step edited (module docstring); ``mode``: fwd, bwd or both."""
    head, src = source.split("\ndef step(", 1)
    src = "\ndef step(" + src
    groups: dict = {}
    for m in FWD.finditer(src):
        groups.setdefault(m.group(2), []).append((m.group(1), m.group(3)))
    layers = [(x, g) for x, g in groups.items() if len(g) == 3]
    assert layers, "no three products of one operand in the step"
    for i, (x, trio) in enumerate(layers):
        ws = ", ".join(p for _, p in trio)
        cols = [f"{128 * j}:{128 * (j + 1)}" for j in range(3)]
        fwd = (f"    wqkv{i} = numpy.concatenate(({ws}), axis=1)\n"
               f"    qkv{i} = numpy.matmul({x}.reshape((64*d0, 128)), wqkv{i}, out=scratch(ws, 'qkv{i}', (64*d0, 384)))\n"
               + "".join(f"    {v} = qkv{i}[:, {c}]\n" for (v, _), c in zip(trio, cols)) + f"    del qkv{i}\n")
        grad = f"    gqkv{i} = scratch(ws, 'gqkv{i}', (d0, 64, 3, 4, 32))\n"
        first = FWD.search(src, src.index(f"    {trio[0][0]} = numpy.matmul({x}.reshape"))
        if mode == "bwd":
            src = src[:first.start()] + grad + src[first.start():]
        else:
            for v, p in reversed(trio):
                m = re.search(rf"^    {v} = numpy\.matmul\({x}\.reshape\(\(64 \* d0, 128\)\), {p}, out=.*\n", src, re.M)
                src = src[:m.start()] + (fwd + (grad if mode == "both" else f"    del wqkv{i}\n") if v == trio[0][0] else "") \
                    + src[m.end():]
        if mode == "fwd":
            continue
        parts, grads = [], []
        for v, p in trio:
            m = re.search(rf"^    (v\d+) = numpy\.matmul\((v\d+)\.transpose\(\([\d, ]+\)\)\.reshape\(\(64 \* d0, 128\)\), "
                          rf"{p}\.T, out=", src, re.M)
            parts.append(m.group(1))
            grads.append(m.group(2))
        for j, g in enumerate(grads):
            src = _one(rf"^(    {g} = numpy\.matmul\(.*, out=)scratch\(ws, '\w+', \(d0, 64, 4, 32\)\)(\.transpose\(\([\d, ]+\)\)\))\n",
                       rf"\g<1>gqkv{i}[:, :, {j}]\g<2>\n", src, re.M)
        dx = next(d for d in parts if re.search(rf"^    {d} \+= ", src, re.M))
        rest = [d for d in parts if d != dx]
        starts = [re.search(rf"^    # {d} = matmul\(", src, re.M).start() for d in parts]
        end = re.search(rf"^    del ({rest[0]}, {rest[1]}|{rest[1]}, {rest[0]})\n", src, re.M)
        blk = ((f"    wqkv{i} = numpy.concatenate(({ws}), axis=1)\n" if mode == "bwd" else "")
               + f"    {dx} = numpy.matmul(gqkv{i}.reshape((64*d0, 384)), wqkv{i}.T, out=scratch(ws, 'dx{i}', (64*d0, 128)))\n"
               f"    gw{i} = {x}.reshape((64*d0, 128)).T @ gqkv{i}.reshape((64*d0, 384))\n"
               + "".join(f"    {p} -= gw{i}[:, {c}]\n" for (_, p), c in zip(trio, cols))
               + f"    del {', '.join(grads)}, {x}, gw{i}, wqkv{i}, gqkv{i}\n")
        src = src[:min(starts)] + blk + src[end.end():]
    return head + src


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=31)
    ap.add_argument("--checkout", default=".")
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args(argv)
    ex = ts._example()
    loss, _, params, inputs = ex.gpt(64, 64, 128, 4, 2)
    start = ts.start_values(ex, params)
    rng = np.random.default_rng(0)
    batch = [rng.integers(0, 64, (32, 64)), rng.integers(0, 64, (32, 64))]
    module = ts.module_source(args.checkout, 64, 64, 128, 4, 2)
    srcs = {"module": module, **{m: side_by_side(module, m) for m in ("fwd", "bwd", "both")}}
    if args.profile:
        for k in ("module", "both"):
            texts, spent = time_statements(srcs[k], [start[p.name].copy() for p in params], batch, 10, time.thread_time)
            print(k, f"{sum(statistics.median(v) for v in spent.values()) * 1e3:.1f} ms")
            for i, t in enumerate(texts):
                if i in spent and "matmul(" in t or "@" in t or "concatenate" in t:
                    print(f"  {statistics.median(spent[i]) * 1e3:6.3f}  {t[:140]}")
        return
    after = {}
    for k, s in srcs.items():
        ns: dict = {}
        exec(compile(s, k, "exec"), ns)
        a = [start[p.name].copy() for p in params]
        ns["step"](a, [], 1, batch)
        after[k] = a
    for k in ("fwd", "bwd", "both"):
        d = max(float(np.max(np.abs(x - y)) / (np.max(np.abs(y - start[p.name])) or 1))
                for x, y, p in zip(after[k], after["module"], params))
        print(f"{k}: parameters after a step, largest difference from the module's / its largest update: {d:.1e}")
    runs = {k: ts.module_step(s, start, params, {"ids": batch[0], "targets": batch[1]})[0] for k, s in srcs.items()}
    times = interleaved_rounds(runs, args.rounds, time.thread_time)
    print(" | ".join(f"{k} {statistics.median(v) * 1e3:.2f} ms" for k, v in times.items()) + f"; {args.rounds} rounds, CPU time")
    print(", ".join(f"{k} / module = {median_ratio(times, k, 'module'):.3f}" for k in ("fwd", "bwd", "both")))


if __name__ == "__main__":
    main()
