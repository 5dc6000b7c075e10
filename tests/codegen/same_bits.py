"""Run one function of a generated module's source, and compare two runs' results bit for bit (a
module against the same module with a statement written back as before: the same numbers)."""
from __future__ import annotations

import warnings

import numpy as np


def run_function(source: str, fn: str, params: list, batch: list, quiet: bool = False):
    """``fn(params, batch)`` of the module ``source`` (the parameters copied first); ``quiet``: its
    RuntimeWarnings (NaN, inf and log 0 of odd rows) not shown."""
    ns: dict = {}
    exec(compile(source, "<generated>", "exec"), ns)
    with warnings.catch_warnings():
        if quiet:
            warnings.simplefilter("ignore", RuntimeWarning)
        return ns[fn]([p.copy() for p in params], batch)


def flat(result) -> list:
    """The arrays and numbers of a generated function's result (nested lists and tuples), in order."""
    if isinstance(result, (list, tuple)):
        return [a for r in result for a in flat(r)]
    return [np.asarray(result)]


def assert_same_bits(got, old, what) -> None:
    """The two results hold as many arrays, each of the same dtype, shape and bytes."""
    got, old = flat(got), flat(old)
    assert len(got) == len(old), what
    for k, (a, b) in enumerate(zip(got, old)):
        assert a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes(), f"{what}, result {k}"
