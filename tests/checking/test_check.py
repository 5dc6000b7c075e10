"""sg.check: the result's parts, kinks, domains, callable claims, errors."""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.checking import sampling
from symgrad.errors import SymgradError, WrtError

w, x, y, z = sp.symbols("w x y z", real=True)
SQ = (y - w * x) ** 2 / 2


# --- the result --------------------------------------------------------------------------------------

def test_right_claim_result():
    r = sg.check(SQ, w, -(y - w * x) * x)
    assert r and r.verdict == "equal"
    assert r.counterexample is None and r.hint is None
    assert "symbolic: proved equal" in r.method and "numeric" in r.method and "central differences" in r.method
    assert "shape of its variable" in r.layout
    assert str(r).startswith("equal.")


def test_wrong_claim_counterexample_values():
    r = sg.check(SQ, w, (y - w * x) * x)
    assert not r and r.verdict == "not equal"
    cx = r.counterexample
    pw, px, py = cx.point["w"], cx.point["x"], cx.point["y"]
    assert cx.param == "w" and cx.index is None
    assert cx.true == pytest.approx(-(py - pw * px) * px, rel=1e-12)      # by hand
    assert cx.claimed == pytest.approx((py - pw * px) * px, rel=1e-12)
    assert cx.rel_error == pytest.approx(2.0)
    s = str(r)
    for part in ("not equal", "Counterexample", "Hint: flipped sign", "Layout", "Method"):
        assert part in s


def test_matrix_counterexample_names_worst_entry():
    W, v = sp.MatrixSymbol("W", 3, 2), sp.MatrixSymbol("v", 2, 1)
    f = sg.sum(sp.HadamardPower(W * v, 2))
    # Wrong only in the (2, 1) entry: add a one-hot bump there.
    bump = sp.ImmutableMatrix(3, 2, lambda i, j: 1 if (i, j) == (2, 1) else 0)
    r = sg.check(f, W, 2 * W * v * v.T + bump)
    cx = r.counterexample
    assert cx.index == (2, 1)
    Wv, vv = np.asarray(cx.point["W"]), np.asarray(cx.point["v"]).reshape(2, 1)
    true = 2 * Wv @ vv @ vv.T
    np.testing.assert_allclose(cx.true, true, rtol=1e-12)
    assert "W[2, 1]" in str(r)


def test_dict_and_list_claims():
    W, b, v, t = (sp.MatrixSymbol("W", 2, 3), sp.MatrixSymbol("b", 2, 1), sp.MatrixSymbol("v", 3, 1),
                  sp.MatrixSymbol("t", 2, 1))
    f = sg.mse(W * v + b, t)
    assert sg.check(f, [W, b], {"W": (W * v + b - t) * v.T, b: W * v + b - t})
    assert sg.check(f, [W, b], [(W * v + b - t) * v.T, W * v + b - t])
    r = sg.check(f, [W, b], [(W * v + b - t) * v.T, t - W * v - b])
    assert r.counterexample.param == "b" and r.hint.startswith("flipped sign")
    with pytest.raises(SymgradError, match="missing"):
        sg.check(f, [W, b], {"W": (W * v + b - t) * v.T})


def test_shape_hint_says_both_shapes():
    W, v = sp.MatrixSymbol("W", 3, 2), sp.MatrixSymbol("v", 2, 1)
    r = sg.check(sg.sum(sp.HadamardPower(W * v, 2)), W, 2 * W * v)
    assert not r and "(3, 1)" in r.hint and "(3, 2)" in r.hint


def test_transpose_combined_with_sign_or_factor():
    W, v = sp.MatrixSymbol("W", 3, 2), sp.MatrixSymbol("v", 2, 1)
    f = sg.sum(sp.HadamardPower(W * v, 2))
    assert sg.check(f, W, -2 * v * v.T * W.T).hint.startswith("transpose and flipped sign")
    assert sg.check(f, W, v * v.T * W.T).hint.startswith("transpose and a factor 1/2")
    # A square variable: ∂/∂S aᵀSc = a·cᵀ (not symmetric), so c·aᵀ is its transpose.
    S, a, c = sp.MatrixSymbol("S", 3, 3), sp.MatrixSymbol("a", 3, 1), sp.MatrixSymbol("c", 3, 1)
    h = (a.T * S * c)[0, 0]
    assert sg.check(h, S, a * c.T)
    assert sg.check(h, S, c * a.T).hint.startswith("transpose:")
    assert sg.check(h, S, -c * a.T).hint.startswith("transpose and flipped sign")
    # A symmetric gradient is its own transpose: ∂/∂S uᵀSu = u·uᵀ.
    u = sp.MatrixSymbol("u", 3, 1)
    assert sg.check((u.T * S * u)[0, 0], S, u * u.T)


def test_free_target_hint():
    zz, t = sp.MatrixSymbol("z", 4, 1), sp.MatrixSymbol("t", 4, 1)
    r = sg.check(sg.cross_entropy(zz, t), zz, sg.softmax(zz) - t, targets="free")   # Σt ≠ 1
    assert not r and r.hint.startswith("targets: the claim is right when t is a distribution")
    # The general gradient needs no distribution target: softmax(z)·Σt − t.
    assert sg.check(sg.cross_entropy(zz, t), zz, sg.softmax(zz) * sg.sum(t) - t, targets="free")


def test_a_class_label_is_drawn_as_a_class():
    # cross_entropy(z, k) with a scalar label k: ∂/∂z = softmax(z) − e_k (the textbook gradient),
    # so leaving out e_k is wrong. k is drawn in 0 … 3; drawn as a real number it was no class, and
    # softmax(z) passed as 'equal' with symgrad's gradient disagreeing with finite differences.
    z, k = sp.MatrixSymbol("z", 4, 1), sp.Symbol("k", integer=True)
    f = sg.cross_entropy(z, k)
    e_k = sp.Matrix([sp.KroneckerDelta(i, k) for i in range(4)])
    for seed in range(3):
        right = sg.check(f, z, sg.softmax(z) - e_k, seed=seed)
        assert right and "DISAGREEMENT" not in right.method, right
        wrong = sg.check(f, z, sg.softmax(z), seed=seed)
        assert not wrong and wrong.counterexample.point["k"] in (0, 1, 2, 3)
    assert sampling.gather_labels(f) == {"k": ("integers", 4)}


def test_zero_claim_is_named():
    W, v = sp.MatrixSymbol("W", 3, 2), sp.MatrixSymbol("v", 2, 1)
    r = sg.check(sg.sum(sp.HadamardPower(W * v, 2)), W, sp.ZeroMatrix(3, 2))
    assert not r and "claim is 0" in r.hint


def test_mpmath_rescues_cancellation():
    # Equal to w² exactly, but float64 loses it to cancellation around 1e16.
    r = sg.check(w ** 3 / 3, w, (w + 10 ** 8) ** 2 - 2 * 10 ** 8 * w - 10 ** 16)
    assert r.verdict == "equal" and "mpmath" in r.method


def test_errors():
    with pytest.raises(SymgradError, match="'k'"):
        sg.check(SQ, w, sp.Symbol("k") * x)
    with pytest.raises(WrtError):
        sg.check(SQ, w * x, x)
    with pytest.raises(SymgradError, match="one claimed expression"):
        sg.check(SQ, [w, x], -x)


# --- kinks -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("claim", [sp.Heaviside(z, 0), sp.Piecewise((1, z > 0), (0, True))])
def test_relu_derivative_differs_only_at_zero(claim):
    r = sg.check(sg.relu(z), z, claim)
    assert r and r.verdict == "equal except at points where f is not differentiable"
    assert "z = 0" in r.kink and "relu'(0) = 1" in r.kink
    assert "claim gives 0" in r.kink


def test_relu_convention_follows_the_policy():
    p0 = sg.Subgradients(relu_at_zero=0)
    assert sg.check(sg.relu(z), z, sp.Heaviside(z, 0), policy=p0).verdict == "equal"
    r = sg.check(sg.relu(z), z, sp.Heaviside(z, 1), policy=p0)
    assert r.verdict.startswith("equal except") and "relu'(0) = 0" in r.kink


def test_kink_inside_a_layer_is_found_and_avoided():
    # relu(w·x − 1): the kink is at w = 1/x; random points avoid it, the probe hits it.
    r = sg.check(sg.relu(w * x - 1), w, x * sp.Heaviside(w * x - 1, 0))
    assert r.verdict.startswith("equal except") and "w*x - 1 = 0" in r.kink


def test_kink_distance_rejects_points_near_a_kink():
    from symgrad.core.lower import lower
    g, _, out = lower(sg.relu(z) + sp.Abs(w - 2))
    assert sampling.kink_distance(g, [out], {"z": 0.01, "w": 0.5}) == pytest.approx(0.01)
    assert sampling.kink_distance(g, [out], {"z": 1.0, "w": 2.25}) == pytest.approx(0.25)


def test_matrix_kink_is_probed():
    v = sp.MatrixSymbol("v", 3, 1)
    r = sg.check(sg.sum(sg.relu(v)), v, v.applyfunc(lambda u: sp.Heaviside(u, 0)))
    assert r.verdict.startswith("equal except") and "of v is 0" in r.kink and "relu'(0) = 1" in r.kink
    assert sg.check(sg.sum(sg.relu(v)), v, v.applyfunc(lambda u: sp.Heaviside(u, 1))).verdict == "equal"


def test_matrix_kink_point_is_exact():
    W, xx, b = sp.MatrixSymbol("W", 3, 2), sp.MatrixSymbol("x", 2, 1), sp.MatrixSymbol("b", 3, 1)
    rng = np.random.default_rng(5)
    base = {"W": rng.standard_normal((3, 2)), "x": rng.standard_normal((2, 1)), "b": rng.standard_normal((3, 1))}
    [(pt, u, what, (i, j))] = sampling.kink_points(sg.sum(sg.relu(W * xx + b)), {W}, base)
    assert what == "relu" and (pt["W"] @ pt["x"] + pt["b"])[i, j] == 0.0


def test_a_claim_wrong_away_from_the_kink_is_wrong():
    assert not sg.check(sg.relu(z), z, sp.Heaviside(-z, 0))


# --- domains -----------------------------------------------------------------------------------------

def test_points_are_inside_the_domain():
    p = sp.Symbol("p", real=True)
    f = sg.bce(p, y)                       # needs 0 < p < 1
    assert sg.check(f, p, (p - y) / (p * (1 - p)))
    r = sg.check(f, p, (y - p) / (p * (1 - p)))
    assert 0 < r.counterexample.point["p"] < 1


def test_assumptions_give_the_interval():
    r = sg.check(sp.log(w), w, 2 / w, assumptions={"w": (2.0, 3.0)})
    assert 2.0 <= r.counterexample.point["w"] <= 3.0
    assert r.hint.startswith("constant factor: the claim is 2 times")


def test_at_fixes_values():
    r = sg.check(SQ, w, x, at={"x": 2.0, y: 1.0})
    assert r.counterexample.point["x"] == 2.0 and r.counterexample.point["y"] == 1.0


# --- callable claims: a hand-written NumPy backprop --------------------------------------------------

N_IN, N_H, N_OUT = 3, 5, 2
W1, b1 = sp.MatrixSymbol("W1", N_H, N_IN), sp.MatrixSymbol("b1", N_H, 1)
W2, b2 = sp.MatrixSymbol("W2", N_OUT, N_H), sp.MatrixSymbol("b2", N_OUT, 1)
X, Y = sp.MatrixSymbol("x", N_IN, 1), sp.MatrixSymbol("y", N_OUT, 1)
MLP_LOSS = sg.mse(W2 * sg.sigmoid(W1 * X + b1) + b2, Y)


def mlp_backprop(v, slip=None):
    """The gradient of the batch mean of ½‖W2 σ(W1 x + b1) + b2 − y‖², by hand. x: (B, 3), y: (B, 2)."""
    Xb, Yb = v["x"], v["y"]
    B = Xb.shape[0]
    Z1 = Xb @ v["W1"].T + v["b1"].T
    A1 = 1 / (1 + np.exp(-Z1))
    out = A1 @ v["W2"].T + v["b2"].T
    d2 = (out - Yb) / (1 if slip == "sum" else B)
    d1 = (d2 @ v["W2"]) * A1 * (1 - A1)
    return {"W1": d1.T @ Xb, "b1": d1 if slip == "bias" else d1.sum(0), "W2": d2.T @ A1, "b2": d2.sum(0)}


def test_callable_right_mlp():
    r = sg.check(MLP_LOSS, [W1, b1, W2, b2], mlp_backprop)
    assert r.verdict == "equal", str(r)
    assert "not attempted (a callable claim)" in r.method


def test_callable_bias_not_summed_over_batch():
    r = sg.check(MLP_LOSS, [W1, b1, W2, b2], lambda v: mlp_backprop(v, "bias"))
    assert not r
    assert r.counterexample.param == "b1"
    assert r.hint.startswith("missing sum over the batch")
    assert "b1" in str(r)


def test_callable_summed_instead_of_averaged():
    r = sg.check(MLP_LOSS, [W1, b1, W2, b2], lambda v: mlp_backprop(v, "sum"), batch=6)
    assert not r and "batch size B = 6" in r.hint


def test_callable_per_example_and_list_result():
    def grad_w(v):
        assert np.ndim(v["x"]) == 0        # batch=None: one example, inputs at their own shape
        return -(v["y"] - v["w"] * v["x"]) * v["x"]
    assert sg.check(SQ, w, grad_w, batch=None)
    # With w and x both parameters only y is batched; ∂f/∂x is −(y − w·x)·w, here written with x.
    r = sg.check(SQ, [w, x], lambda v: [np.mean(-(v["y"] - v["w"] * v["x"]) * v["x"]),
                                        np.mean(-(v["y"] - v["w"] * v["x"]) * v["x"])])
    assert not r and r.counterexample.param == "x"
    r = sg.check(SQ, [w, x], lambda v: [np.mean(-(v["y"] - v["w"] * v["x"]) * v["x"]),
                                        -(v["y"] - v["w"] * v["x"]) * v["w"]])
    assert not r and r.counterexample.param == "x" and r.hint.startswith("missing sum over the batch")


def test_callable_with_given_batch():
    rng = np.random.default_rng(3)
    at = {"x": rng.standard_normal((5, N_IN)), "y": rng.standard_normal((5, N_OUT))}
    seen = []
    r = sg.check(MLP_LOSS, [W1, b1, W2, b2], lambda v: seen.append(v["x"].shape) or mlp_backprop(v), at=at)
    assert r and set(seen) == {(5, N_IN)}


def test_matrix_of_symbols_as_wrt():
    a, c = sp.symbols("a c", real=True)
    f = a ** 2 * c + sp.sin(c)
    assert sg.check(f, sp.Matrix([a, c]), sp.Matrix([2 * a * c, a ** 2 + sp.cos(c)]))
    r = sg.check(f, sp.Matrix([a, c]), sp.Matrix([2 * a * c, a ** 2 - sp.cos(c)]))
    assert not r and r.counterexample.param == "c"


def test_callable_checked_against_torch():
    """The hand-written backprop used above is itself right: torch.autograd agrees (an oracle
    independent of symgrad)."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    v = {"W1": rng.standard_normal((N_H, N_IN)), "b1": rng.standard_normal((N_H, 1)),
         "W2": rng.standard_normal((N_OUT, N_H)), "b2": rng.standard_normal((N_OUT, 1)),
         "x": rng.standard_normal((4, N_IN)), "y": rng.standard_normal((4, N_OUT))}
    t = {k: torch.tensor(a, requires_grad=k[0] in "Wb") for k, a in v.items()}
    out = torch.sigmoid(t["x"] @ t["W1"].T + t["b1"].T) @ t["W2"].T + t["b2"].T
    (0.5 * ((out - t["y"]) ** 2).sum(1)).mean().backward()
    g = mlp_backprop(v)
    for k in ("W1", "b1", "W2", "b2"):
        np.testing.assert_allclose(g[k].reshape(v[k].shape), t[k].grad.numpy(), rtol=1e-10)


def test_whole_network_at_once():
    """Every parameter of sg.mlp's network, claimed at once (here: symgrad's own gradients, one of
    them transposed, one negated)."""
    net = sg.mlp([4, 6, 3], act=sg.sigmoid)
    t = sp.MatrixSymbol("t", 3, 1)
    L = sg.cross_entropy(net.output, t)
    grads = list(sg.grad(L, net.params))
    assert sg.check(L, net.params, grads)
    bad = list(grads)
    bad[0] = bad[0].T
    r = sg.check(L, net.params, bad)
    assert r.counterexample.param == "W1" and r.hint.startswith("transpose")
    bad = list(grads)
    bad[3] = -bad[3]
    r = sg.check(L, net.params, bad)
    assert r.counterexample.param == "b2" and r.hint.startswith("flipped sign")


@pytest.mark.parametrize("claim, shown", [
    (lambda **v: 2 * v["x"], "(**v)"),
    (lambda x, y: 2 * x, "(x, y)"),
])
def test_a_callable_claim_of_the_wrong_signature_is_named(claim, shown):
    """A callable claim is called as claim(values); one written as check_backward's backward (with
    the values as keywords) ended in a TypeError from inside the check."""
    x = sp.Symbol("x", real=True)
    with pytest.raises(sg.ArgumentError, match=r"called with one argument, a dict of the values by name") as e:
        sg.check(x ** 2, x, claim)
    assert shown in str(e.value) and "backward(dout, **values)" in str(e.value)
    assert sg.check(x ** 2, x, lambda v, scale=1: 2 * v["x"] * scale)     # more parameters, with defaults
