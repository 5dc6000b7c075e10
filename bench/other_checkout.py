"""A/B against another checkout in one process (`--baseline DIR` of the step benches): the NumPy module
that checkout's symgrad generates, compiled there in a subprocess, and a step of a module called
directly. Ratios of two modules timed in the same rounds say what a change did; times taken in two
runs on a shared machine do not."""
from __future__ import annotations

import os
import subprocess
import sys


def generated_source(checkout: str, code: str) -> str:
    """What ``code`` writes to stdout when run by the symgrad of ``checkout`` (its directory the
    working directory and the whole of PYTHONPATH): the benches' code ends with
    ``sys.stdout.write(sg.compile(...).source)``."""
    env = dict(os.environ, PYTHONPATH=os.path.abspath(checkout))
    return subprocess.run([sys.executable, "-c", code], cwd=checkout, env=env, check=True,
                          capture_output=True, text=True).stdout


def first_and_next_step(source: str, start: dict, params, inputs: list):
    """A step of a generated module (no optimizer slots) called directly, on its own copy of the
    weights: (a function taking the next step, the first step's loss — run here, before any
    timing, so the two modules can be seen to agree)."""
    ns: dict = {}
    exec(compile(source, "<generated module>", "exec"), ns)
    args = [start[p.name].copy() for p in params]
    first = ns["step"](args, [], 1, inputs)
    return (lambda: ns["step"](args, [], 2, inputs)), first
