"""A lecturer's trial of the seeds' examples (F23-F30): the slide's broadcast s·𝟙 in a softmax, the
Gradient section's closed forms, the summary of str(d), a factored gradient kept factored, powers
in the steps, and sg.grad's batch norm without NumPy's implicit broadcasts. Numbers come from
sympy.diff on the entries written out, or from cs231n's batch norm backward in NumPy."""
import sys
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.frontend.tensor import Ewise, Tensor
from symgrad.teaching.notation import BatchSum, MatPartial, Partial, TensorPartial

z = sp.MatrixSymbol("z", 3, 1)
t = sp.MatrixSymbol("t", 3, 1)
zs = sp.symbols("z0:3")
ts = sp.symbols("t0:3")
Z_AT = np.array([[0.3], [-1.2], [0.8]])
T_AT = np.array([[0.0], [1.0], [0.0]])      # one-hot


def _entries(point):
    return {**{zs[i]: point[z][i, 0] for i in range(3)}, **{ts[i]: point.get(t, T_AT)[i, 0] for i in range(3)}}


def _diff(f_scalar, point):
    """∂f/∂z by sympy.diff on the entries, at the point."""
    sub = _entries(point)
    return np.array([[float(sp.diff(f_scalar, zi).subs(sub))] for zi in zs])


def _broadcast_repro():
    return sg.derive(sg.sum(sp.HadamardProduct(z, 1 / sg.sum(sg.exp(z)) * sp.OneMatrix(3, 1))), [z])


# ---------------------------------------------------------------------------------------------------
# F23: s·𝟙 is a broadcast: its picture label, its definition, its rule (the adjoint is a sum)

def test_a_scalar_times_ones_is_a_broadcast_in_the_steps():
    d = _broadcast_repro()
    text = d.render("unicode")
    assert "u₄ = u₃·𝟙" in text
    line = next(l for l in text.splitlines() if l.strip().startswith("∂L/∂u₃ ="))
    assert "sum(∂L/∂u₄)" in line and "broadcast: the gradients of the copies are summed" in line
    assert "identity" not in text
    # the number: f = Σᵢ zᵢ / Σⱼ exp(zⱼ), by sympy.diff
    f = sum(zs) / sum(sp.exp(zi) for zi in zs)
    (_, _, got), = d.explain(at={z: Z_AT}).gradients
    np.testing.assert_allclose(np.asarray(got, float), _diff(f, {z: Z_AT}), rtol=1e-10)


def test_a_scalar_times_ones_is_drawn_as_a_broadcast():
    pytest.importorskip("graphviz")
    src = _broadcast_repro().graph().source
    assert "<b>broadcast</b>" in src
    assert "−0" not in src and "-0<" not in src


# ---------------------------------------------------------------------------------------------------
# F24: the broadcast spelling of softmax is recognised; the Gradient section is a closed form

def _slide_softmax():
    e = sg.exp(z)
    return sp.HadamardProduct(e, 1 / sg.sum(e) * sp.OneMatrix(3, 1))


def _cross_entropy_scalar():
    s = sum(sp.exp(zi) for zi in zs)
    return -sum(ti * sp.log(sp.exp(zi) / s) for ti, zi in zip(ts, zs))


def test_the_broadcast_spelling_of_softmax_is_recognised():
    f = -sg.sum(sp.HadamardProduct(t, sg.log(_slide_softmax())))
    d = sg.derive(f, [z], given={sg.sum(t): 1})
    grad = d.render("unicode").split("Gradient:")[1]
    assert grad.strip() == "∂L/∂z = softmax(z) − t"
    at = {z: Z_AT, t: T_AT}
    (_, _, got), = d.explain(at=at).gradients
    np.testing.assert_allclose(np.asarray(got, float), _diff(_cross_entropy_scalar(), at), rtol=1e-10)


def _adjoints(e):
    return [a for a in sp.preorder_traversal(e) if isinstance(a, (Partial, MatPartial, TensorPartial))]


def _in_user_symbols(expr, definitions):
    """The closed form with the forward pass's names written out by their definitions."""
    defs = {sym: ex for sym, ex, _ in definitions}
    for _ in range(len(defs) + 1):
        new = expr.xreplace(defs)
        if new == expr:
            return new
        expr = new
    return expr


@pytest.mark.parametrize("case", ["unrecognised", "mlp"])
def test_the_gradient_section_ends_in_a_closed_form(case):
    if case == "unrecognised":             # no softmax: (1/Σexp(z))·𝟙 ⊙ (exp(z) + z), logged
        e = sg.exp(z)
        f = sg.sum(sp.HadamardProduct(t, sg.log(sp.HadamardProduct(1 / sg.sum(e) * sp.OneMatrix(3, 1), e + z))))
        wrt, at = [z], {z: Z_AT, t: T_AT}
        s = sum(sp.exp(zi) for zi in zs)
        truth = {"z": _diff(sum(ti * sp.log((sp.exp(zi) + zi) / s) for ti, zi in zip(ts, zs)), at)}
    else:                                  # a two-layer network: δ·xᵀ must be written out
        W1, W2 = sp.MatrixSymbol("W1", 2, 3), sp.MatrixSymbol("W2", 3, 2)
        x = sp.MatrixSymbol("x", 3, 1)
        f = sg.sum(sp.HadamardProduct(t, sg.log_softmax(W2 * sg.sigmoid(W1 * x))))
        rng = np.random.default_rng(3)
        at = {W1: rng.normal(size=(2, 3)), W2: rng.normal(size=(3, 2)), x: rng.normal(size=(3, 1)), t: T_AT}
        wrt = [W1, W2]
        truth = {str(w): sg.numeric(sg.grad(f, w), at) for w in wrt}     # sg.grad: no teaching views
    d = sg.derive(f, wrt)
    steps = d.explain()
    section = steps.render("unicode").split("Gradient:")[1]
    entries = []                           # a long gradient wraps: its continuation lines joined back
    for line in section.strip("\n").splitlines():
        if line.startswith("  ∂") or not entries:
            entries.append(line.strip())
        else:
            entries[-1] += " " + line.strip()
    for line in entries:
        last = line.rsplit(" = ", 1)[1]
        assert "∂L/∂" not in last and "δ" not in last, line
    for w, closed, _ in steps.gradients:
        assert not _adjoints(closed), (w, closed)
        back = sg.numeric(_in_user_symbols(closed, steps.definitions), at)
        np.testing.assert_allclose(np.asarray(back, float), np.asarray(truth[str(w)], float), rtol=1e-9)
    if case == "mlp":                      # the slide's δ·xᵀ is kept before its closed form
        assert "∂L/∂W₁ = δ·xᵀ = " in section


# ---------------------------------------------------------------------------------------------------
# F25: str(d)'s summary speaks as the steps do

def test_str_summary_agrees_with_the_steps():
    d = sg.derive(-sg.sum(sp.HadamardProduct(t, sg.log_softmax(z))), [z], given={sg.sum(t): 1})
    s = str(d)
    assert s.startswith("L = −sum(t ⊙ log_softmax(z))\n∂L/∂z = softmax(z) − t\n\n"), s[:200]
    assert "HadamardProduct" not in s and "sum(t)*" not in s


# ---------------------------------------------------------------------------------------------------
# F26: the perceptron's gradient stays factored, as the slide writes −(y − ŷ)·x

def test_perceptron_gradient_is_not_multiplied_out():
    w, x, y, yhat = sp.symbols("w x y yhat")
    error = sp.Add(y, sp.Mul(-1, w * x, evaluate=False), evaluate=False)
    d = sg.derive(error ** 2 / 2, w, names={yhat: w * x}, output_name="L")
    text = d.render("unicode")
    assert "w·x²" not in text
    assert text.split("Gradient:")[1].strip() == "∂L/∂w = x·(ŷ − y)"
    (_, expr, _), = d.steps.gradients
    assert sp.expand(expr.xreplace({yhat: w * x}) - sp.diff((y - w * x) ** 2 / 2, w)) == 0


def test_a_sum_over_paths_is_still_collected_into_the_inputs():
    f, g = sp.symbols("f g")                  # the influence slide: ∂a/∂f = 2 + 5g + 2fg + 2fg²
    b, c, dd, e = sp.symbols("b c d e")
    D, E = f + 3, f * g
    B, C = sp.Add(D, E, evaluate=False), E + 2
    d = sg.derive(sp.Mul(B, C, evaluate=False), [f, g], names={dd: D, e: E, b: B, c: C})
    assert "2 + 5·g + 2·f·g + 2·f·g²" in d.render("unicode")


# ---------------------------------------------------------------------------------------------------
# F27: powers in the steps are superscripts or ^, never Python's **

def test_powers_print_as_the_steps_write_them():
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples" / "teaching"))
    import batch_norm
    d = batch_norm.build()
    text = d.render("unicode")
    assert "**" not in text
    assert "(σ² + ε)^(−3/2)" in text
    tex = d.latex()
    assert "**" not in tex and r"^{\frac{3}{2}}" in tex


# ---------------------------------------------------------------------------------------------------
# F30: sg.grad's batch norm without NumPy's implicit broadcasts made explicit

def test_grad_of_batch_norm_reads_gamma_times_dout():
    N, D = 4, 3
    x, gamma, beta = sg.tensor("x", (N, D)), sg.tensor("gamma", (D,)), sg.tensor("beta", (D,))
    dout = sg.tensor("dout", (N, D))
    mu = x.mean(axis=0)
    eps = sp.Rational(1, 100000)
    xhat = (x - mu) / sp.sqrt(x.var(axis=0) + eps)
    L = sg.sum((gamma * xhat + beta) * dout)
    gx, gg, gb = sg.grad(L, [x, gamma, beta])
    named = sg.grad(L, [x, gamma, beta], named=True)
    for text in (str(gx), str(gg), str(named)):
        assert "broadcast_to(gamma" not in text
    # the values: cs231n's batchnorm_backward in NumPy
    rng = np.random.default_rng(11)
    xv, gv, bv, dv = rng.normal(size=(N, D)), rng.normal(size=D), rng.normal(size=D), rng.normal(size=(N, D))
    at = {x: xv, gamma: gv, beta: bv, dout: dv}
    istd = 1 / np.sqrt(xv.var(axis=0) + 1e-5)
    xh = (xv - xv.mean(axis=0)) * istd
    dxh = dv * gv
    dx = istd / N * (N * dxh - dxh.sum(axis=0) - xh * (dxh * xh).sum(axis=0))
    np.testing.assert_allclose(np.asarray(sg.numeric(gx, at), float), dx, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(np.asarray(sg.numeric(gg, at), float).ravel(), (dv * xh).sum(axis=0), rtol=1e-9)
    np.testing.assert_allclose(np.asarray(sg.numeric(gb, at), float).ravel(), dv.sum(axis=0), rtol=1e-9)


def _cs231n_dx(xv, gv, dv, eps=1e-5):
    """cs231n's batchnorm_backward, simplified: dx = (N·dx̂ − Σdx̂ − x̂·Σ(dx̂·x̂))/(N·√(σ² + ε))."""
    N = xv.shape[0]
    istd = 1 / np.sqrt(xv.var(axis=0) + eps)
    xh = (xv - xv.mean(axis=0)) * istd
    dxh = dv * gv
    return istd / N * (N * dxh - dxh.sum(axis=0) - xh * (dxh * xh).sum(axis=0))


def test_batch_norm_gradient_section_ends_in_a_closed_form():
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples" / "teaching"))
    import batch_norm
    at = batch_norm.point()
    steps = batch_norm.build().steps
    (_, closed, _), = [g for g in steps.gradients if str(g[0]) == "x"]
    assert not _adjoints(closed)
    assert "∂L/∂x = ∂L/∂x̂/√(σ² + ε) + " in steps.render("unicode").split("Gradient:")[1]   # cs231n's form first
    # evaluate the closed form entry by entry: Σₙ over the batch, μ, σ², γ per feature
    xv, gv, dv = at[batch_norm.x], at[batch_norm.gamma], at[batch_norm.dout]
    N, D = xv.shape
    e = closed.replace(lambda a: isinstance(a, Ewise), lambda a: a.expr)
    sym = {str(s): s for s in e.free_symbols | e.atoms(Tensor)}
    got = np.zeros((N, D))
    for j in range(D):
        ej = e.replace(BatchSum, lambda body, n: sp.Add(*[body.xreplace(
            {sym["x_n"]: xv[k, j], sym["dout_n"]: dv[k, j]}) for k in range(N)]))
        common = {sym["gamma"]: gv[j], sym["mu"]: xv[:, j].mean(), sym["sigma^2"]: xv[:, j].var(),
                  sym["epsilon"]: sp.Rational(1, 100000), sym["N"]: N}
        for i in range(N):
            got[i, j] = float(ej.xreplace({**common, sym["x"]: xv[i, j], sym["dout"]: dv[i, j]}))
    np.testing.assert_allclose(got, _cs231n_dx(xv, gv, dv), rtol=1e-9)
