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


def sweep_line(n: int, m: int, fmt: str = "unicode") -> str:
    """How many sweeps each mode needs for f: ℝⁿ → ℝᵐ (forward one per input, reverse one per output)."""
    s = sweeps(n, m)
    sup = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
    space = (lambda k: f"R^{k}") if fmt == "text" else (lambda k: "ℝ" + ("" if k == 1 else str(k).translate(sup)))
    count = lambda k: f"{k:,} sweep" + ("" if k == 1 else "s")      # noqa: E731
    return (f"f: {space(n)} {'->' if fmt == 'text' else '→'} {space(m)}: forward mode {count(s['forward'])}, "
            f"reverse mode {count(s['reverse'])}")


def main(argv=None):
    args = arguments(argv, __doc__)
    publish("forward_vs_reverse", build("reverse"), args)
    print()
    # the same graph in forward mode: its picture carries the tangents ∂·/∂x of the first sweep
    publish("forward_vs_reverse_forward", build("forward"), args)
    print()
    for n, m in [(3, 1), (1_000_000, 1), (1, 3)]:
        print(sweep_line(n, m, "text" if args.format == "text" else "unicode"))


if __name__ == "__main__":
    main(sys.argv[1:])
