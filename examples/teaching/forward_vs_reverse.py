"""Forward vs reverse accumulation on f(x, y, z) = (x + y)·z: reverse mode gets the whole gradient
in one sweep from the output; forward mode pushes one input's tangent per sweep, so it needs one
sweep per input (3 here; a million for a million inputs) — and one per output is what reverse needs.

    PYTHONPATH=. python examples/teaching/forward_vs_reverse.py
"""
import sys

import sympy as sp

import symgrad as sg

try:
    from _common import arguments, publish
except ImportError:  # imported as a module of the package examples.teaching
    from ._common import arguments, publish

from symgrad.core.forward import sweeps

x, y, z, q = sp.symbols("x y z q")
AT = {x: -2, y: 5, z: -4}


def build(mode="reverse"):
    return sg.derive((x + y) * z, [x, y, z], mode=mode, names={q: x + y}, at=AT)


def main(argv=None):
    args = arguments(argv, __doc__)
    publish("forward_vs_reverse", build("reverse"), args)
    print()
    fwd = build("forward")
    print(fwd.render(args.format))
    print()
    for n, m in [(3, 1), (1_000_000, 1), (1, 3)]:
        s = sweeps(n, m)
        print(f"f: R^{n} -> R^{m}: forward mode {s['forward']} sweep(s), reverse mode {s['reverse']} sweep(s)")


if __name__ == "__main__":
    main(sys.argv[1:])
