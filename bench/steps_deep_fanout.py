"""How the teaching steps scale with a deep fan-out, measured in one run (ratios, not seconds).

    PYTHONPATH=. python3 bench/steps_deep_fanout.py [--depth 6]

u ← sin(w·u)·cos(u), k levels: every level uses u twice, so each gradient's expression *tree*
doubles per level while its DAG grows by a constant. The steps decide what is short enough to
print; sympy.count_ops walks the tree, so counting it took ~20 of the 23 s a depth-6 derivation
took (cProfile). `symgrad.teaching.steps._short` now cuts a tree off lazily past the size a short
form can have. Printed per depth: str(sg.derive(...)) against sg.grad of the same f (the peer), and
the ratio to depth 3; a tree walk would double the ratio per level, the DAG grows it by a constant.
"""
from __future__ import annotations

import argparse
import time

import sympy as sp

import symgrad as sg


def chain(x, w, depth):
    u = x
    for _ in range(depth):
        u = sp.sin(w * u) * sp.cos(u)
    return u


def best_of(fn, repeat=3):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--depth", type=int, default=6)
    args = p.parse_args(argv)
    x, w = sp.symbols("x w")
    str(sg.derive(chain(x, w, 2), [x, w], at={x: 0.5, w: 1.5}))       # imports and caches warm
    base = None
    print(f"{'depth':>5} {'steps / sg.grad':>16} {'steps vs depth 3':>17}")
    for depth in range(3, args.depth + 1):
        f = chain(x, w, depth)
        steps = best_of(lambda: str(sg.derive(f, [x, w], at={x: 0.5, w: 1.5})))
        grad = best_of(lambda: sg.grad(f, [x, w]))
        base = base or steps
        print(f"{depth:>5} {steps / grad:>16.1f} {steps / base:>17.2f}")


if __name__ == "__main__":
    main()
