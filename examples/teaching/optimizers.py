"""The optimizers' update rules as the notes write them (momentum v ← μ·v − η·g, p ← p + v; AdaGrad
and RMSProp p ← p − η·g/(√s + ε); Adam's G, M and their corrections, written m, v, m̂, v̂), each
followed by two steps with numbers on the world's smallest perceptron ŷ = w·x, L = ½(y − ŷ)²: from
w = 0.5, the slide's first two samples (10, 10.1) and (2, 1.9), g = ∂L/∂w = x·(ŷ − y) at the current w.

    PYTHONPATH=. python examples/teaching/optimizers.py [--format latex] [--out DIR]

writes out/teaching/optimizers.tex (and .pdf where pdflatex is installed), and the picture of the
optimizers' paths on a 2-D loss surface, out/teaching/optimizer_paths.png (optimizer_paths.py; needs
matplotlib: pip install matplotlib).
"""
import shutil
import subprocess
import sys

import sympy as sp

from symgrad.compiling import optim
from symgrad.compiling.optim import lettered
from symgrad.teaching.equations import Equations
from symgrad.teaching.render import latex_document

try:
    import optimizer_paths
    from _common import arguments
except ImportError:  # imported as a module of the package examples.teaching
    from . import optimizer_paths
    from ._common import arguments

SAMPLES = [(10, 10.1), (2, 1.9)]        # the perceptron slide's first two training pairs (x, y)
W0 = 0.5
OPTIMIZERS = [optim.SGD(lr=0.005, momentum=0.9), optim.Adagrad(lr=0.1), optim.RMSprop(lr=0.01, alpha=0.9),
              optim.Adam(lr=0.1)]


def gradient(w, x, y):
    """The perceptron's ∂L/∂w = x·(w·x − y), as its derivation ends (examples/teaching/perceptron.py)."""
    return x * (w * x - y)


def _hyperparameters(opt) -> dict:
    # the Greek letters view(form="notes") writes, with their numbers
    return lettered(opt, lambda n: sp.Symbol(n) if n.startswith("beta_") else sp.Symbol(n, positive=True))[1]


def steps(opt, samples=SAMPLES, w0=W0):
    """The notes' update rule of ``opt`` (an `Equations`), then one `Equations` per step with each
    line's number, and the last p: the state starts at 0, p at w0; t counts the steps from 1."""
    rule = opt.view(form="notes")
    letters = _hyperparameters(opt)
    p, g, t = sp.symbols("p g t", real=True)
    w, x, y = sp.symbols("w x y")
    env = {p: w0}
    for lhs, *_ in rule.lines:
        env.setdefault(lhs, 0.0)
    shown = []
    for k, (xv, yv) in enumerate(samples, start=1):
        env[g], env[t] = gradient(env[p], xv, yv), k
        lines = [(g, x * (w * x - y), "=", env[g])]
        title = f"step t = {k}, the sample (x, y) = ({xv}, {yv}) at w = p = {env[p]:.4g}"
        for lhs, rhs, rel, *_ in rule.lines:
            env[lhs] = float(rhs.xreplace(letters).xreplace(env))
            lines.append((lhs, rhs, rel, env[lhs]))
        shown.append(Equations(title, lines))
    return rule, shown, env[p]


def build():
    """Every optimizer's rule and its two steps, as `Equations` (text, Unicode, LaTeX, Jupyter)."""
    out = []
    for opt in OPTIMIZERS:
        rule, shown, _ = steps(opt)
        out += [rule, *shown]
    return tuple(out)


def hyperparameter_line(opt, fmt: str = "unicode") -> str:
    """η = 0.1, ε = 1e−10: the hyperparameters' letters and numbers, as the view writes them."""
    from symgrad.teaching.render import show
    pairs = [f"{show(s, fmt)} = {show(sp.Float(v), fmt)}" for s, v in _hyperparameters(opt).items()]
    return ", ".join(pairs) if fmt != "latex" else "$" + ",\\ ".join(pairs) + "$"


def main(argv=None):
    args = arguments(argv, __doc__)
    fmt = args.format if args.format != "markdown" else "unicode"
    tex = []
    for opt in OPTIMIZERS:
        rule, shown, w = steps(opt)
        print(rule.render(fmt))
        print(f"  ({hyperparameter_line(opt, 'text' if fmt == 'text' else 'unicode')})")
        for s in shown:
            print(s.render(fmt))
        print(f"after two steps: w = {w:.4g}\n")
        tex += [rule.latex(), r"\noindent(%s)" % hyperparameter_line(opt, "latex")]
        tex += [s.latex() for s in shown]
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "optimizers.tex"
    path.write_text(latex_document("\n\n".join(tex)))
    if shutil.which("pdflatex"):
        subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", path.name],
                       cwd=args.out, check=True, capture_output=True)
        print(f"LaTeX: {path.with_suffix('.pdf')}")
    optimizer_paths.write_picture(args.out)


if __name__ == "__main__":
    main(sys.argv[1:])
