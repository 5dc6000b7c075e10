"""The batch-norm layer's header reads as the slide writes out = γ ⊙ x̂ + β with x̂ = (x − μ)/√(σ² + ε):
L = (((x − x.mean(axis=0))/√(x.var(axis=0) + 1e−5) ⊙ γ + β) ⊙ dout).sum() — a product inside a
product opened, the reciprocal root a division. Until 2026-11-30, ninth session, it read
(((1/√(x.var(axis=0) + 1e−5) ⊙ (x − x.mean(axis=0))) ⊙ γ + β) ⊙ dout).sum(). The header read back
(NumPy, from its ASCII form) is the layer's value at a point."""
import numpy as np
import sympy as sp

import symgrad as sg

N, D = sp.Symbol("N", integer=True, positive=True), 3


def _derive():
    x, gamma, beta = sg.tensor("x", (N, D)), sg.tensor("gamma", (D,)), sg.tensor("beta", (D,))
    dout = sg.tensor("dout", (N, D))
    xhat = (x - x.mean(axis=0)) / sp.sqrt(x.var(axis=0) + sp.Rational(1, 100000))
    return sg.derive(sg.sum((gamma * xhat + beta) * dout), [x, gamma, beta], output_name="L")


def test_the_header_reads_as_the_slide():
    d = _derive()
    assert d.render("unicode").splitlines()[0] == \
        "L = (((x − x.mean(axis=0))/√(x.var(axis=0) + 1e−5) ⊙ γ + β) ⊙ dout).sum()"
    assert r"\frac{x - \operatorname{mean}_{\text{axis}=0} x}{\sqrt{\operatorname{var}_{\text{axis}=0} x + 10^{-5}}} \odot \gamma" \
        in d.latex()


def test_the_header_is_the_layers_value():
    d = _derive()
    text = d.render("text").splitlines()[0].split(" = ", 1)[1]
    rng = np.random.default_rng(3)
    v = dict(x=rng.normal(size=(4, D)), gamma=rng.normal(size=D), beta=rng.normal(size=D),
             dout=rng.normal(size=(4, D)))
    env = {**{k: np.asarray(a) for k, a in v.items()}, "sqrt": np.sqrt}
    got = eval(text, env)   # noqa: S307 - symgrad's own header, NumPy's notation
    xhat = (v["x"] - v["x"].mean(0)) / np.sqrt(v["x"].var(0) + 1e-5)
    assert np.isclose(got, ((v["gamma"] * xhat + v["beta"]) * v["dout"]).sum())


def test_the_summary_writes_gamma_as_the_header_does():
    # str(d)'s ∂L/∂γ in the header's terms: x.var(axis=0), not its lowering
    # ((x − x.mean(axis=0))²).mean(axis=0), and x̂ a division (until 2026-11-30, ninth session,
    # ((x − x.mean(axis=0)) ⊙ 1/√(((x − x.mean(axis=0))²).mean(axis=0) + 1e−5) ⊙ dout).sum(axis=0))
    lines = str(_derive()).splitlines()
    assert "∂L/∂γ = ((x − x.mean(axis=0))/√(x.var(axis=0) + 1e−5) ⊙ dout).sum(axis=0)" in lines, lines[:4]
