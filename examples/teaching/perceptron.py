"""The world's smallest perceptron ŷ = w·x with L = ½(y − ŷ)², and its update rule w ← w + η(y − ŷ)x.

    PYTHONPATH=. python examples/teaching/perceptron.py
"""
import sys

import sympy as sp

import symgrad as sg

try:
    from _common import arguments, publish
except ImportError:  # imported as a module of the package examples.teaching
    from ._common import arguments, publish

w, x, y, yhat, eta = sp.symbols("w x y yhat eta")
AT = {w: 0.5, x: 10, y: 10.1}          # the first training pair of the slide, w = 0.5
DATA = [(10, 10.1), (2, 1.9), (3.5, 3.4), (1, 1.1)]    # the slide's training data (x, y)


def build():
    """dL/dw for L = ½(y − ŷ)², ŷ = w·x (y − ŷ kept unexpanded, so ŷ stays a node of its own)."""
    error = sp.Add(y, sp.Mul(-1, w * x, evaluate=False), evaluate=False)
    return sg.derive(error ** 2 / 2, w, names={yhat: w * x}, output_name="L", at=AT)


def update_rule(d):
    """w − η·∇w written in the slide's names, and checked equal to w + η(y − ŷ)x."""
    grad = d.steps.find("w").result                 # ∇w = −(y − ŷ)·x, in the names of the nodes
    rule = sp.expand(w - eta * grad)
    assert sp.expand(rule - (w + eta * (y - yhat) * x)) == 0, rule
    return grad, w + eta * (y - yhat) * x


def train(d, eta=0.005, epochs=20, w0=0.5):
    """The slide's loop: for each sample, w ← w − η·∇w with the derived ∇w (compiled by lambdify)."""
    grad = sp.lambdify((w, x, y), d.gradients, "math")
    wv = w0
    for _ in range(epochs):
        for xv, yv in DATA:
            wv -= eta * grad(wv, xv, yv)
    return wv


def main(argv=None):
    args = arguments(argv, __doc__)
    d = build()
    publish("perceptron", d, args)
    from symgrad.teaching.render import show
    grad, rule = update_rule(d)
    fmt = "text" if args.format == "text" else "unicode"
    print(f"gradient descent: w ← w − η·∇w with ∇w = {show(grad, fmt)}")
    print(f"update rule: w ← {show(rule, fmt)}")
    print(f"training on the slide's data (η = 0.005, 20 epochs) from w = 0.5: w = {train(d):.3f}")


if __name__ == "__main__":
    main(sys.argv[1:])
