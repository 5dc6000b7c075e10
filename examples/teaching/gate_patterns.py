"""Patterns in the backward flow of the gradient: the add gate distributes it, the max gate routes it,
the mul gate switches it — on f = 2·(x·y + max(z, w)) at x = 3, y = −4, z = 2, w = −1.

    + (distributor): each input receives the gradient unchanged: 2 and 2
    max (router):    the larger input (z = 2) receives all of it, 2; the other (w = −1) 0
    × (switcher):    each input receives the other input times the gradient: ∂f/∂x = y·2 = −8,
                     ∂f/∂y = x·2 = 6

Built gate by gate (evaluate=False keeps x·y + max(z, w) and the ×2 as the slide draws them;
SymPy writes max's arguments in its own order, max(w, z)).

    PYTHONPATH=. python examples/teaching/gate_patterns.py
"""
import sys

import sympy as sp

import symgrad as sg

try:
    from _common import arguments, publish
except ImportError:  # imported as a module of the package examples.teaching
    from ._common import arguments, publish

x, y, z, w = sp.symbols("x y z w")
AT = {x: 3, y: -4, z: 2, w: -1}


def build():
    f = sp.Mul(2, sp.Add(x * y, sp.Max(z, w, evaluate=False), evaluate=False), evaluate=False)
    return sg.derive(f, [x, y, z, w], at=AT)


def patterns(d, fmt="unicode") -> list:
    """One line per gate: its pattern, and the numbers of the steps that show it."""
    v = {str(s.node): s.value for s in d.steps.steps}
    g = {str(k): val for k, _, val in d.steps.gradients}
    num = lambda a: f"{a:g}".replace("-", "−" if fmt != "text" else "-")        # noqa: E731
    return [
        f"+ is a gradient distributor: u₁ and u₂ each receive its gradient {num(v['u3'])} unchanged "
        f"({num(v['u1'])}, {num(v['u2'])})",
        f"max is a gradient router: z = {num(AT[z])}, the larger, receives all of it ({num(g['z'])}); "
        f"w = {num(AT[w])} receives {num(g['w'])}",
        f"× is a gradient switcher: each input receives the other times the gradient {num(v['u1'])}: "
        f"∂f/∂x = y·{num(v['u1'])} = {num(g['x'])}, ∂f/∂y = x·{num(v['u1'])} = {num(g['y'])}",
    ]


def main(argv=None):
    args = arguments(argv, __doc__)
    d = build()
    publish("gate_patterns", d, args)
    print()
    if args.format in ("latex", "markdown"):       # the patterns as prose with math, a paragraph each
        from symgrad.teaching.rule_prose import words
        print("\n\n".join(r"\noindent $" + words(line, "latex") + "$" for line in patterns(d, "unicode")))
    else:
        print("\n".join(patterns(d, args.format)))


if __name__ == "__main__":
    main(sys.argv[1:])
