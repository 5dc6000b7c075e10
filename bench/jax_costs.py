"""Where jax.jit's CPU step time goes, beside ours: the two costs behind bench/cpu_step.py's jax
column, measured in one process, in turns, one thread each (XLA's pool started with one thread, see
bench/jax_peer.py).

    PYTHONPATH=. python bench/jax_costs.py [--rounds 31]

Printed:
- the cost of calling a jitted function at all: a jitted update that only copies the parameters of
  the 2-16-16-2 MLP (6 arrays; donated, as in cpu_step's jax step; the result waited for), beside
  cpu_step's whole jax.jit step and our whole step (`Program.step`) of that MLP at batch 64;
- one float32 matrix product, (256, 784) @ (784, 256) — the largest of cpu_step's 784-256-128-10
  row —, by NumPy (its BLAS) and by jax.jit, ratio NumPy / jax.
Without jax: says so and stops.
"""
from __future__ import annotations

import os
import sys

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse      # noqa: E402
import datetime      # noqa: E402
import statistics    # noqa: E402
import time          # noqa: E402

import numpy as np   # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))   # bench/, also when loaded from its path
import jax_peer  # noqa: E402


def interleaved(fns: dict, rounds: int, per_round: int) -> tuple[dict, list]:
    """Median seconds per call of each function, and the per-round samples; the functions take
    turns, round by round."""
    samples = {k: [] for k in fns}
    for f in fns.values():
        for _ in range(5):
            f()
    for _ in range(rounds):
        for k, f in fns.items():
            t0 = time.perf_counter()
            for _ in range(per_round):
                f()
            samples[k].append((time.perf_counter() - t0) / per_round)
    return {k: statistics.median(v) for k, v in samples.items()}, samples


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=31)
    args = ap.parse_args(argv)
    xla = jax_peer.one_xla_thread()
    print(f"# {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, {jax_peer.cpu_model()}, "
          f"NumPy {np.__version__}, {jax_peer.version()}; {xla}")
    got = jax_peer.load()
    if got is None:
        print(f"jax {jax_peer.NOT_INSTALLED}: nothing to measure")
        return
    jax, jnp = got
    import cpu_step

    widths, B = (2, 16, 16, 2), 64
    _, prog = cpu_step.make_program(widths)
    X, T, _, params = cpu_step.data(widths, B)
    batch = {"x": X, "t": T}
    ours = {"values": {k: v.copy() for k, v in params.items()}, "state": None}

    def our_step():
        ours["values"], ours["state"] = prog.step(ours["values"], ours["state"], batch)
    jax_step, _ = cpu_step.jax_step_fn(widths, params, X, T)
    copy = jax.jit(lambda ps: [p * 1.0 for p in ps], donate_argnums=0)
    held = {"ps": [jnp.array(v) for v in params.values()]}

    def call_only():
        held["ps"] = copy(held["ps"])
        held["ps"][-1].block_until_ready()
    med, _ = interleaved({"ours": our_step, "jax step": jax_step, "jitted copy": call_only}, args.rounds, 100)
    print(f"2-16-16-2 x 64: our step {med['ours'] * 1e6:.1f} µs; jax.jit step {med['jax step'] * 1e6:.1f} µs, "
          f"of which calling a jitted function that only copies the 6 parameters {med['jitted copy'] * 1e6:.1f} µs")

    rng = np.random.default_rng(0)
    a = rng.standard_normal((256, 784)).astype(np.float32)
    b = rng.standard_normal((784, 256)).astype(np.float32)
    aj, bj = jnp.asarray(a), jnp.asarray(b)
    mm = jax.jit(lambda x, y: x @ y)
    np.testing.assert_allclose(np.asarray(mm(aj, bj)), a @ b, rtol=1e-3, atol=1e-3)
    med, samples = interleaved({"numpy": lambda: a @ b, "jax": lambda: mm(aj, bj).block_until_ready()},
                               args.rounds, 20)
    r = statistics.median(x / y for x, y in zip(samples["numpy"], samples["jax"]))
    print(f"(256, 784) @ (784, 256), float32: NumPy {med['numpy'] * 1e6:.0f} µs, jax.jit {med['jax'] * 1e6:.0f} µs; "
          f"NumPy / jax = {r:.2f} (median of the per-round ratios)")


if __name__ == "__main__":
    main()
