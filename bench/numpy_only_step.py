"""The generated NumPy step of the digits CNN in a process that has imported only NumPy — as a module
saved with `Program.save` runs in a NumPy training loop — this checkout's against another's (A/B in
turns, CPU time), with the minor page faults a step of each.

    PYTHONPATH=. python bench/numpy_only_step.py --baseline DIR [--rounds 41] [--per-round 20]
    PYTHONPATH=. python bench/numpy_only_step.py --alone DIR      # one checkout's step, alone in the process

Both modules are generated in subprocesses (bench/other_checkout.py), so neither symgrad, SymPy nor
torch is loaded here: what glibc's allocator does with a step's temporaries then depends on the step
alone. (A process that has loaded torch or SymPy first has had large blocks freed already, which
raises glibc's dynamic mmap threshold: the steps' arrays of a few hundred KiB then come from the heap,
and bench/cnn_step.py, which imports both, does not see the page faults this script can.) The network,
data and starting point are bench/cnn_step.py's (batch 64, SGD lr 0.01, float32, one thread); before
timing, the two modules' first three steps are checked to leave the same parameters bit for bit.
"""
from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse      # noqa: E402
import resource      # noqa: E402
import statistics    # noqa: E402
import sys           # noqa: E402
import time          # noqa: E402

import numpy as np   # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from other_checkout import generated_source  # noqa: E402

B = 64
SHAPES = {"w1": (16, 1, 3, 3), "b1": (16,), "w2": (32, 16, 3, 3), "b2": (32,), "W3": (128, 10), "b3": (10,)}
CODE = ("import sys; sys.path.insert(0, 'examples'); import symgrad as sg; "
        "from symgrad.compiling.optim import SGD; from train_cnn_digits import lenet; "
        "_, loss, params, inputs = lenet(); "
        "sys.stdout.write(sg.compile(loss, params=params, inputs=inputs, optimizer=SGD(lr=0.01), "
        "dtype='float32').source)")


def start():
    """bench/cnn_step.py's `init` (He-uniform weights, zero biases), its parameters in declared order."""
    rng = np.random.default_rng(0)
    out = []
    for shape in SHAPES.values():
        fan = int(np.prod(shape[1:])) if len(shape) == 4 else shape[0]
        out.append((rng.uniform(-1, 1, size=shape) * np.sqrt(6.0 / fan) if len(shape) > 1
                    else np.zeros(shape)).astype(np.float32))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline", metavar="DIR", help="the other checkout (e.g. /work/main)")
    ap.add_argument("--alone", metavar="DIR", help="time only the step of the checkout DIR (no A/B)")
    ap.add_argument("--rounds", type=int, default=41)
    ap.add_argument("--per-round", type=int, default=20)
    args = ap.parse_args(argv)
    if (args.baseline is None) == (args.alone is None):
        ap.error("give --baseline DIR or --alone DIR")
    here = os.path.join(HERE, "..")
    steps = {}
    pairs = ((f"{args.alone}, alone", args.alone),) if args.alone else \
        (("this checkout", here), (f"baseline {args.baseline}", args.baseline))
    for what, checkout in pairs:
        ns: dict = {}
        exec(compile(generated_source(checkout, CODE), f"<{what}>", "exec"), ns)
        steps[what] = ns["step"]
    assert "torch" not in sys.modules and "sympy" not in sys.modules
    rng = np.random.default_rng(0)
    batch = [rng.uniform(0, 1, (B, 1, 8, 8)).astype(np.float32), rng.integers(0, 10, B).astype(np.float32)]
    ends = {}
    for what, step in steps.items():
        p = start()
        losses = [step(p, [], t, batch) for t in (1, 2, 3)]
        ends[what] = (losses, p)
    if len(ends) == 2:
        (la, pa), (lb, pb) = ends.values()
        assert la == lb and all(np.array_equal(a, b) for a, b in zip(pa, pb)), "the two steps differ"
    params = {what: start() for what in steps}
    samples = {what: [] for what in steps}
    faults = {what: 0 for what in steps}
    order = list(steps)
    for r in range(args.rounds):
        for what in order[r % len(order):] + order[:r % len(order)]:
            f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            t0 = time.thread_time()
            for _ in range(args.per_round):
                steps[what](params[what], [], 1, batch)
            samples[what].append((time.thread_time() - t0) / args.per_round)
            faults[what] += resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0
    print(f"digits CNN step, batch {B}, float32, NumPy {np.__version__} only in this process; CPU time; "
          f"{args.rounds} rounds of {args.per_round}; load average {os.getloadavg()[0]:.1f}")
    for what in order:
        print(f"  {what}: {statistics.median(samples[what]) * 1e3:.3f} ms a step, "
              f"{faults[what] / (args.rounds * args.per_round):.0f} minor page faults a step")
    if len(order) == 2:
        a, b = order
        print(f"  this / baseline: {statistics.median(x / y for x, y in zip(samples[a], samples[b])):.3f}")


if __name__ == "__main__":
    main()
