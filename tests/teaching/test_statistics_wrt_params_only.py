"""A batch norm derived for γ and β alone (fourth-session trial): sg.derive raised KeyError from the
statistics' rewrite, which looked for ∂L/∂x where no gradient flows to x."""
import numpy as np
import sympy as sp

import symgrad as sg

N = sp.Symbol("N", integer=True, positive=True)


def test_batch_norm_wrt_gamma_and_beta_only():
    x, gamma, beta, dout = (sg.tensor("x", (N, 3)), sg.tensor("gamma", (3,)), sg.tensor("beta", (3,)),
                            sg.tensor("dout", (N, 3)))
    xhat = (x - x.mean(axis=0)) / sp.sqrt(x.var(axis=0) + 1e-5)
    rng = np.random.default_rng(1)
    at = {x: rng.normal(size=(4, 3)), gamma: rng.normal(size=3), beta: rng.normal(size=3),
          dout: rng.normal(size=(4, 3))}
    d = sg.derive(sg.sum((gamma * xhat + beta) * dout), [gamma, beta], output_name="L", at=at)
    text = d.render("unicode")
    assert "∂L/∂σ²" not in text and "∂L/∂x =" not in text        # no steps below x̂
    # cs231n's dgamma, dbeta, computed here by hand
    xv = at[x]
    xh = (xv - xv.mean(0)) / np.sqrt(xv.var(0) + 1e-5)
    gamma_line = next(l for l in text.split("Gradient:")[1].splitlines() if l.strip().startswith("∂L/∂γ"))
    beta_line = next(l for l in text.split("Gradient:")[1].splitlines() if l.strip().startswith("∂L/∂β"))
    for line, want in ((gamma_line, (at[dout] * xh).sum(0)), (beta_line, at[dout].sum(0))):
        got = [float(v.replace("−", "-")) for v in line.rsplit("= [", 1)[1].rstrip("]").split(", ")]
        assert np.allclose(got, want, rtol=1e-3), (line, want)
    assert d.latex(document=True)                 # the other views build too
    assert d.graph(at=at).source
