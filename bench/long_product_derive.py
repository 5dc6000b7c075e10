"""sg.derive of a long product, with and without the per-graph memo of the SymPy forms of equations
(`symgrad.core.to_sympy.eqn_to_sympy`), in turns in one process.

    python3 bench/long_product_derive.py [--factors 150] [--rounds 3]

f = sin(x₀)·sin(x₁)·…·sin(xₙ₋₁), differentiated with respect to every xᵢ, and its derivation printed
(``str``: the steps), as a grading server gets it. Without the memo, every builder of the graph
(``gradients``, the straight-line program, the steps, their local rules) rebuilt each partial's Mul
of n factors, and SymPy gathered and sorted them each time. SymPy's cache is cleared before each
derivation, so neither reads what the other built. The two texts are compared: they must be equal.
"""
from __future__ import annotations

import argparse
import platform
import time

import sympy as sp

import symgrad as sg
from symgrad.core import to_sympy
from symgrad.teaching import local_rules     # imports eqn_to_sympy by name


def _without_memo(graph, eqn, args):
    return to_sympy._eqn_to_sympy(graph, eqn, args)       # the conversion as it was: no memo


def derive_once(n: int, memo: bool):
    sp.core.cache.clear_cache()
    xs = sp.symbols(f"x0:{n}", real=True)
    f = sp.Mul(*[sp.sin(x) for x in xs])
    kept, convert = to_sympy.eqn_to_sympy, to_sympy._eqn_to_sympy
    calls = [0]

    def counted(graph, eqn, args):                      # the conversions themselves
        calls[0] += 1
        return convert(graph, eqn, args)
    to_sympy._eqn_to_sympy = counted
    if not memo:
        to_sympy.eqn_to_sympy = local_rules.eqn_to_sympy = _without_memo
    try:
        t0 = time.process_time()
        d = sg.derive(f, list(xs))
        text = str(d)
        took = time.process_time() - t0
    finally:
        to_sympy.eqn_to_sympy = local_rules.eqn_to_sympy = kept
        to_sympy._eqn_to_sympy = convert
    return took, text, calls[0]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--factors", type=int, default=150)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)
    print(f"# long product derive — {time.strftime('%Y-%m-%d')} — {platform.machine()}, "
          f"Python {platform.python_version()}, SymPy {sp.__version__}; CPU seconds")
    derive_once(8, True)                                # warm: imports, SymPy's and lambdify's caches
    print("| round | with memo s | without s | with / without | conversions with / without |")
    print("|---|---|---|---|---|")
    ratios = []
    for r in range(args.rounds):
        a, ta, ca = derive_once(args.factors, True)
        b, tb, cb = derive_once(args.factors, False)
        assert ta == tb, "the derivation's text differs with the memo"
        ratios.append(a / b)
        print(f"| {r} | {a:.2f} | {b:.2f} | {a / b:.2f} | {ca} / {cb} |")
    print(f"median ratio {sorted(ratios)[len(ratios) // 2]:.2f}")


if __name__ == "__main__":
    main()
