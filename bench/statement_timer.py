"""Time each top-level statement of a generated module's ``step``: its source recompiled with a clock
around every statement, run ``steps`` times. Shared by the benchmarks' ``--profile`` options."""
from __future__ import annotations

import ast
import collections
import random
import statistics
import time


def time_statements(source: str, args: list, xs: list, steps: int, clock=time.perf_counter,
                    between=None) -> tuple[list, dict]:
    """(the statements' texts, {statement index: [seconds of each of the ``steps`` runs]}) of
    ``step(args, [], 1, xs)`` (an SGD step: no optimizer slots, step count 1), after 3 untimed runs,
    each statement timed by ``clock`` (time.thread_time: this thread's CPU time). ``between``: a
    function called before each run (a peer's step, so that the caches and the allocator are as
    they are when the two take turns)."""
    tree = ast.parse(source)
    fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "step")
    body, texts = [], []
    for i, st in enumerate(fn.body):
        texts.append(ast.unparse(st))
        body += ast.parse("_t0 = _clock()").body + [st] + ast.parse(f"_spent[{i}].append(_clock() - _t0)").body
    fn.body = body
    spent = collections.defaultdict(list)
    ns = {"_clock": clock, "_spent": spent}
    exec(compile(ast.fix_missing_locations(tree), "<generated step, timed>", "exec"), ns)
    between = between or (lambda: None)
    for _ in range(3):
        between()
        ns["step"](args, [], 1, xs)
    spent.clear()
    for _ in range(steps):
        between()
        ns["step"](args, [], 1, xs)
    return texts, dict(spent)


def print_profile(source: str, args: list, xs: list, kind, steps: int = 10, top: int = 10,
                  width: int = 110, clock=time.perf_counter, between=None) -> None:
    """Time each statement of the generated ``step`` (`time_statements`) and print the totals by
    ``kind(statement text)`` ("matmul", "elementwise", ...) and the ``top`` slowest statements."""
    texts, runs = time_statements(source, args, xs, steps, clock, between)
    spent = {i: sum(ts) for i, ts in runs.items()}
    kinds = collections.defaultdict(float)
    for i, t in spent.items():
        kinds[kind(texts[i])] += t * 1e3 / steps
    total = sum(kinds.values())
    print(f"generated step, statement by statement: {total:.1f} ms; " + ", ".join(
        f"{k} {v:.1f} ms ({100 * v / total:.0f} %)" for k, v in sorted(kinds.items(), key=lambda kv: -kv[1])))
    for i, t in sorted(spent.items(), key=lambda kv: -kv[1])[:top]:
        one_line = " ".join(texts[i].split())        # (a loop's body on its line)
        print(f"  {t * 1e3 / steps:6.2f} ms  {one_line[:width]}")


def interleaved_rounds(runs: dict, rounds: int, clock=time.perf_counter) -> dict:
    """{name: [seconds of each round]} of the callables ``runs``: each round calls every one once, so
    that the machine's drifts in speed fall on all of them alike, in an order shuffled afresh each
    round (seeded), so that none always runs right after the same one: a NumPy step run right after
    torch's took 1.1-1.2 times the same step run after another NumPy step (bench/port_step.py
    --baseline with this checkout as its own baseline, 2026-11-30); with a fixed order, a method
    after torch paid that in every round. ``clock``: time.thread_time counts only this thread's time
    on a CPU, not the time it waits while other processes run (``--cpu-time`` of the step benches)."""
    times = {k: [] for k in runs}
    order, shuffle = list(runs), random.Random(0).shuffle
    for _ in range(rounds):
        shuffle(order)
        for k in order:
            f = runs[k]
            t = clock()
            f()
            times[k].append(clock() - t)
    return times


def median_ratio(times: dict, a: str, b: str) -> float:
    """The median over rounds of a's time / b's time (ratios hold on a noisy machine; times do not)."""
    return statistics.median(x / y for x, y in zip(times[a], times[b]))


def rounds_and_clock(doc: str, argv=None):
    """(args, clock) of a two-forms benchmark's command line, ``--rounds`` (101) and ``--wall`` (the
    wall clock; else this thread's CPU time, time.thread_time, as the machine is shared), after
    printing the time, machine, NumPy version and those settings in one line."""
    import argparse
    import datetime
    import platform

    import numpy as np
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=101)
    ap.add_argument("--wall", action="store_true", help="time by the wall clock, not this thread's CPU time")
    args = ap.parse_args(argv)
    print(f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, {platform.machine()}, "
          f"numpy {np.__version__}, {args.rounds} rounds, " + ("wall clock" if args.wall else "CPU time"))
    return args, time.perf_counter if args.wall else time.thread_time
