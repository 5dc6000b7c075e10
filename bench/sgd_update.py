"""The SGD update of the generated NumPy step, one pass against the two-pass form it replaced, in one
process, on bench/tensor_step.py's network (an MLP with batch norm over the batch, float32).

    PYTHONPATH=. python bench/sgd_update.py [--rounds 31] [--layers 10] [--width 512] [--batch 256]

For plain SGD the step now seeds reverse mode with the learning rate, so each update is ``p -= g``
(before: ``g *= lr; p -= g``); with momentum the rule is staged in place, ``b *= μ; b += g;
numpy.multiply(b, lr, out=g); p -= g`` (before: the new buffer and parameter computed into
temporaries, then copied in). The old forms are compiled by switching those two rewrites off
(`codegen.numpy_backend.folded_lr`, `symgrad.compiling.optim.lettered`). Printed per optimizer: the
median step time of each form and the median of the per-round ratios new / old (the forms run in
turns, so a busy machine slows them alike); after a first step from the same values the two
forms' parameters agree (float32 rounding).
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

import symgrad as sg  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tensor_step import CLASSES, declare, init  # noqa: E402


def old_form(loss, params, inputs, opt):
    """The step compiled with the update as it was: no learning rate in the seed, no staging of the
    momentum rule with symbolic hyperparameters."""
    from codegen import numpy_backend as nb
    from symgrad.compiling import optim as O
    saved = nb.folded_lr, O.lettered
    nb.folded_lr, O.lettered = (lambda opt: None), (lambda opt: (opt, {}))
    try:
        return sg.compile(loss, params, inputs, optimizer=opt, dtype="float32")
    finally:
        nb.folded_lr, O.lettered = saved


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name, default in (("rounds", 31), ("layers", 10), ("width", 512), ("batch", 256)):
        ap.add_argument(f"--{name}", type=int, default=default)
    args = ap.parse_args(argv)
    loss, params, inputs = declare(args.layers, args.width)
    rng = np.random.default_rng(0)
    start = init(params, rng)
    X = rng.standard_normal((args.batch, args.width)).astype(np.float32)
    batch = {"x": X, "y": rng.integers(0, CLASSES, args.batch).astype(np.float32)}
    print(f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, {platform.machine()}, "
          f"numpy {np.__version__}; MLP {args.layers} x {args.width}, N = {args.batch}, float32, one thread, "
          f"{args.rounds} rounds")
    for name, opt in [("SGD(lr=0.01)", sg.optim.SGD(lr=0.01)),
                      ("SGD(lr=0.01, momentum=0.9)", sg.optim.SGD(lr=0.01, momentum=0.9))]:
        new = sg.compile(loss, params, inputs, optimizer=opt, dtype="float32")
        old = old_form(loss, params, inputs, opt)
        assert new.source != old.source
        runs = {}
        for label, prog in (("one pass", new), ("two passes", old)):
            values = {k: v.copy() for k, v in start.items()}
            state = prog.init_state(values)
            prog.step(values, state, batch)
            runs[label] = (prog, values, state)
        (_, a, _), (_, b, _) = runs.values()
        for k in a:           # one step from the same start: the same parameters, up to float32 rounding
            np.testing.assert_allclose(a[k], b[k], rtol=1e-4, atol=1e-6, err_msg=k)
        times = {k: [] for k in runs}
        for _ in range(args.rounds):
            for k, (prog, values, state) in runs.items():
                t = time.perf_counter()
                prog.step(values, state, batch)
                times[k].append(time.perf_counter() - t)
        med = {k: statistics.median(v) * 1e3 for k, v in times.items()}
        ratio = statistics.median(x / y for x, y in zip(times["one pass"], times["two passes"]))
        print(f"{name}: one pass {med['one pass']:.2f} ms, two passes {med['two passes']:.2f} ms; "
              f"one pass / two passes = {ratio:.3f}")


if __name__ == "__main__":
    main()
