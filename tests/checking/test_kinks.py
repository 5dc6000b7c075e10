"""Verdicts that cannot be fooled by where the points fall: every kink of f is tested on both
sides, a claim wrong on one side is "not equal" with a counterexample there, and "equal except at
points where f is not differentiable" only when the claim agrees on both sides of the kink.

The oracle is independent of symgrad: central differences of f in float64 (NumPy, via lambdify),
at the counterexample the check reports."""
import functools

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.checking import sampling, verdict
from symgrad.errors import SymgradError

w, x, b = sp.symbols("w x b", real=True)
u = w * x + b
H = lambda e: sp.Heaviside(e, 1)        # noqa: E731 - relu'(0) = 1, the default convention
ALPHA = sp.Rational(1, 100)             # leaky_relu's default slope
EQUAL, NOT_EQUAL = "equal", "not equal"

# One neuron, ∂/∂w. Per activation: f, its kink argument, and the claims
#   right      the chain rule, activation′(u)·x
#   no act′    the activation's derivative left out: x
#   inner      the inner derivative wrong: activation′(u)·w (x replaced by w)
#   both       both wrong: w
NEURONS = {
    "relu": (sg.relu(u), u, H(u) * x),
    "leaky_relu": (sg.leaky_relu(u), u, (H(u) + ALPHA * sp.Heaviside(-u, 0)) * x),
    "Abs": (sp.Abs(u), u, sp.sign(u) * x),
    # max routes the gradient to its first argument that attains it; SymPy orders the arguments
    # Max(0, u) and Max(b, w·x), so at the kink the gradient goes to 0 and b: H(·, 0).
    "Max(wx+b, 0)": (sp.Max(u, 0), u, sp.Heaviside(u, 0) * x),
    "Max(wx, b)": (sp.Max(w * x, b), w * x - b, sp.Heaviside(w * x - b, 0) * x),
}


def claims(name):
    f, k, right = NEURONS[name]
    act = right / x                                  # the activation's derivative at u
    return {"right": right, "no act'": x, "inner": act * w, "inner factor missing": act, "both": w}


@functools.lru_cache(maxsize=None)
def numeric(expr):
    """``expr`` as a NumPy function of (w, x, b) (built once: the loops below reuse it 200 times)."""
    return sp.lambdify((w, x, b), expr, modules="numpy")


def at(expr, point):
    return float(numeric(expr)(point["w"], point["x"], point["b"]))


def fd_oracle(f, point, kink):
    """∂f/∂w at ``point`` by central differences in float64, with a step well inside the kink's
    side (|u| is at least 100 steps); and u there."""
    ku = at(kink, point)
    slope = abs(at(sp.diff(kink, w), point)) + 1e-12
    h = min(1e-6, abs(ku) / slope / 100)
    return (at(f, {**point, "w": point["w"] + h}) - at(f, {**point, "w": point["w"] - h})) / (2 * h), ku


def assert_counterexample_is_real(f, kink, claim, r):
    """The reported point is off the kink, the truth there is f's slope (finite differences) and
    the claim, evaluated there by hand, differs from it."""
    cx = r.counterexample
    assert cx is not None and cx.param == "w"
    true, ku = fd_oracle(f, cx.point, kink)
    assert ku != 0.0, "the counterexample must lie on one side of the kink, not on it"
    assert float(cx.true) == pytest.approx(true, rel=1e-5, abs=1e-7)
    by_hand = at(claim, cx.point)
    assert float(cx.claimed) == pytest.approx(by_hand, rel=1e-12, abs=1e-12)
    assert abs(by_hand - true) > 1e-6 * max(abs(true), 1.0)


SEEDS = range(200)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(NEURONS))
@pytest.mark.parametrize("slip", ["no act'", "inner", "both"])
def test_wrong_neuron_claims_are_not_equal_for_every_seed(name, slip):
    f, kink, _ = NEURONS[name]
    claim = claims(name)[slip]
    for seed in SEEDS:
        r = sg.check(f, w, claim, seed=seed)
        assert r.verdict == NOT_EQUAL, (seed, str(r))
        assert_counterexample_is_real(f, kink, claim, r)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(NEURONS))
def test_right_neuron_claims_are_equal_for_every_seed(name):
    f, _, right = NEURONS[name]
    for seed in SEEDS:
        r = sg.check(f, w, right, seed=seed)
        assert r.verdict == EQUAL, (seed, str(r))
        assert "every kink argument seen on both sides" in r.method


@pytest.mark.parametrize("name", list(NEURONS))
def test_inner_factor_missing_few_seeds(name):
    f, kink, _ = NEURONS[name]
    claim = claims(name)["inner factor missing"]
    for seed in range(10):
        r = sg.check(f, w, claim, seed=seed)
        assert r.verdict == NOT_EQUAL, (seed, str(r))
        assert_counterexample_is_real(f, kink, claim, r)


def test_relu_derivative_left_out_few_seeds():
    """The issue's example, fast: seeds at which three random points used to fall on u > 0 only
    (so x looked right) are among these."""
    f, kink, right = NEURONS["relu"]
    for seed in range(20):
        r = sg.check(f, w, x, seed=seed)
        assert r.verdict == NOT_EQUAL and r.counterexample is not None
        assert_counterexample_is_real(f, kink, x, r)
        assert sg.check(f, w, right, seed=seed).verdict == EQUAL


def test_points_cover_both_sides_of_a_one_sided_draw():
    """Values given for x and b leave only w to move; u = w·x + b must still be seen both ways."""
    r = sg.check(sg.relu(u), w, x, at={"x": 0.7, "b": 3.0})
    assert r.verdict == NOT_EQUAL
    assert r.counterexample.point["w"] * 0.7 + 3.0 < 0      # x is wrong only where relu is off
    assert sg.check(sg.relu(u), w, H(u) * x, at={"x": 0.7, "b": 3.0}).verdict == EQUAL


# --- kinks inside kinks, matrices, unreachable sides -------------------------------------------------

def test_nested_kinks():
    # relu(1 − relu(u)): the outer kink at relu(u) = 1, the inner one at u = 0.
    f = sg.relu(1 - sg.relu(u))
    right = -H(1 - sg.relu(u)) * H(u) * x
    no_inner = -H(1 - sg.relu(u)) * x                # wrong where u < 0 only
    for seed in range(15):
        assert sg.check(f, w, right, seed=seed).verdict == EQUAL
        r = sg.check(f, w, no_inner, seed=seed)
        assert r.verdict == NOT_EQUAL
        assert float(u.subs({s: r.counterexample.point[s.name] for s in (w, x, b)})) < 0


def test_relu_of_relu_flat_side_is_sampled():
    """relu(relu(u)): where u < 0 the outer argument is exactly 0 — a flat piece, not a point to
    avoid — so the inner kink's negative side is still tested; the outer one's cannot occur (its
    argument is a relu) and is neither searched for nor reported as a side not reached."""
    f = sg.relu(sg.relu(u))
    r = sg.check(f, w, H(sg.relu(u)) * x)            # the inner relu′ left out: wrong for u < 0
    assert r.verdict == NOT_EQUAL
    assert float(u.subs({s: r.counterexample.point[s.name] for s in (w, x, b)})) < 0
    ok = sg.check(f, w, H(u) * x)
    assert ok.verdict == EQUAL and "NOT reached" not in ok.method and "relu(b + w*x) < 0" not in ok.method
    assert "every kink argument seen on both sides (1 entry" in ok.method


def test_unreachable_side_is_said():
    r = sg.check(sg.relu(x ** 2 + x + 1), x, 2 * x + 1)     # x² + x + 1 ≥ 3/4
    assert r.verdict == EQUAL
    assert "NOT reached" in r.method and "x**2 + x + 1 < 0" in r.method


def test_matrix_kink_every_entry_on_both_sides():
    W, xv, bv = sp.MatrixSymbol("W", 4, 3), sp.MatrixSymbol("x", 3, 1), sp.MatrixSymbol("b", 4, 1)
    z = W * xv + bv
    f = sg.sum(sg.relu(z))
    right = z.applyfunc(H) * xv.T
    no_act = sp.OneMatrix(4, 1) * xv.T
    for seed in range(10):
        r = sg.check(f, W, right, seed=seed)
        assert r.verdict == EQUAL and "every kink argument seen on both sides (4 entries" in r.method
        bad = sg.check(f, W, no_act, seed=seed)
        assert bad.verdict == NOT_EQUAL
        i = bad.counterexample.index[0]
        p = bad.counterexample.point
        zi = (np.asarray(p["W"]) @ np.asarray(p["x"]).reshape(3, 1) + np.asarray(p["b"]).reshape(4, 1))[i, 0]
        assert zi < 0                                    # the worst entry is one whose relu is off


def test_sides_seen_per_entry():
    """The sampler's own tally: after cover(), every entry of W·x + b was seen on both sides."""
    W, xv, bv = sp.MatrixSymbol("W", 5, 2), sp.MatrixSymbol("x", 2, 1), sp.MatrixSymbol("b", 5, 1)
    f = sg.sum(sg.relu(W * xv + bv))
    from symgrad.checking.sides import cover
    from symgrad.core.differentiate import differentiate
    D = differentiate(f, [W])
    s = sampling.Sampler(f, D, [W], [bv, xv], {}, None, np.random.default_rng(4), None)
    pts, cov = cover(s, s.points(3))
    seen = set().union(*(s.sides(p) for p in pts))
    assert cov.entries == 5 and not cov.unreached
    for e in range(5):
        for side in (1, -1):
            assert (0, e, side) in seen
            # and by hand: some point has that entry of W·x + b on that side, away from 0
            assert any(side * (p.params["W"] @ np.reshape(p.examples[0]["x"], (2, 1))
                               + np.reshape(p.examples[0]["b"], (5, 1)))[e, 0] >= sampling.KINK_MARGIN
                       for p in pts)


def test_callable_claim_covers_both_sides():
    W1, b1, xv = sp.MatrixSymbol("W", 3, 2), sp.MatrixSymbol("b", 3, 1), sp.MatrixSymbol("x", 2, 1)
    f = sg.sum(sg.relu(W1 * xv + b1))

    def backprop(v, act=True):
        Z = v["x"] @ v["W"].T + v["b"].T                 # (B, 3)
        d = ((Z >= 0) if act else np.ones_like(Z)) / len(Z)
        return {"W": d.T @ v["x"], "b": d.sum(0)}
    for seed in range(5):
        assert sg.check(f, [W1, b1], backprop, seed=seed, batch=2).verdict == EQUAL
        assert sg.check(f, [W1, b1], lambda v: backprop(v, False), seed=seed, batch=2).verdict == NOT_EQUAL


# --- "equal except at kinks" means equal beside them, on both sides ---------------------------------

def test_kink_verdict_needs_agreement_beside_the_kink():
    """The kink probe compares the claim at the kink and just beside it; a claim that differs
    beside it (on a side the points missed) is a wrong claim, not a convention."""
    from symgrad.core.differentiate import differentiate
    f = sg.relu(u)
    D = differentiate(f, [w])
    base = {"w": 1.0, "x": 1.0, "b": 0.5}              # u = 1.5 > 0
    pt = sampling._Point({"w": 1.0}, [{"x": 1.0, "b": 0.5}], None)
    # x·H(u, 0): relu′(0) = 0, equal off the kink: a convention.
    assert isinstance(verdict._probe_kinks(f, D, [w], [x * sp.Heaviside(u, 0)], pt, sg.Subgradients()), str)
    # Right where u > 0 (the point), 0 at the kink, 2x where u < 0: wrong beside the kink.
    claim = x * sp.Heaviside(u, 0) + 2 * x * sp.Heaviside(-u, 0)
    near = verdict._probe_kinks(f, D, [w], [claim], pt, sg.Subgradients())
    assert isinstance(near, sampling._Point)
    pw = near.params["w"]
    assert pw * base["x"] + base["b"] < 0


def test_relu_prime_at_zero_only_is_a_kink_verdict():
    """relu′(0) = 0 instead of 1: right off the kink, so "equal except …" at every seed (the kink
    point must make w·x + b exactly 0 in float64, or the probe misses it)."""
    for seed in range(30):
        r = sg.check(sg.relu(u), w, x * sp.Heaviside(u, 0), seed=seed)
        assert r.verdict == verdict.EQUAL_EXCEPT_KINKS, seed


def test_kink_points_hit_exact_zeros():
    rng = np.random.default_rng(1)
    f = sg.relu(1 - sg.relu(u)) + sp.Abs(w - sp.Rational(1, 3))
    hits = 0
    for _ in range(20):
        base = {"w": rng.standard_normal(), "x": rng.standard_normal(), "b": rng.standard_normal()}
        for pt, arg, what, _ in sampling.kink_points(f, {w}, base):
            fn = sp.lambdify((w, x, b), arg, modules="numpy")
            assert fn(pt["w"], pt["x"], pt["b"]) == 0.0, (arg, pt)
            hits += 1
    assert hits >= 3 * 20                  # all three kinks (u, 1 − relu(u), w − 1/3) at every base


# --- softmax targets are distributions -------------------------------------------------------------

Z, T = sp.MatrixSymbol("z", 4, 1), sp.MatrixSymbol("t", 4, 1)


@pytest.mark.parametrize("seed", range(5))
def test_cross_entropy_delta_is_equal_without_at(seed):
    r = sg.check(sg.cross_entropy(Z, T), Z, sg.softmax(Z) - T, seed=seed)
    assert r.verdict == EQUAL and "t drawn as a distribution" in r.method


def test_cross_entropy_written_out_has_a_distribution_target():
    f = -sg.sum(T.T * sg.log_softmax(Z))
    assert sg.check(f, Z, sg.softmax(Z) - T).verdict == EQUAL
    f2 = -sg.sum(sp.HadamardProduct(T, sg.softmax(Z).applyfunc(sp.log)))
    assert sg.check(f2, Z, sg.softmax(Z) - T).verdict == EQUAL


def test_free_targets_report_not_equal_with_a_hint():
    r = sg.check(sg.cross_entropy(Z, T), Z, sg.softmax(Z) - T, targets="free")
    assert r.verdict == NOT_EQUAL and r.hint.startswith("targets: the claim is right when t is a distribution")
    t = np.asarray(r.counterexample.point["t"], float)
    assert abs(t.sum() - 1) > 1e-3                      # the counterexample's t is not a distribution
    # The gradient for any t, softmax(z)·Σt − t, is right under every mode.
    for mode in ("free", "distribution", "one-hot"):
        assert sg.check(sg.cross_entropy(Z, T), Z, sg.softmax(Z) * sg.sum(T) - T, targets=mode)


def test_target_draws_are_distributions():
    rng = np.random.default_rng(0)
    for kind in ("distribution", "one-hot"):
        for _ in range(20):
            t = sampling.draw_target((4, 1), rng, kind)
            assert t.shape == (4, 1) and np.all(t >= 0) and t.sum() == pytest.approx(1.0)
    assert set(np.unique(sampling.draw_target((5, 1), rng, "one-hot"))) == {0.0, 1.0}


def test_targets_not_a_mode():
    with pytest.raises(SymgradError, match="targets='soft'.*'distribution', 'one-hot', 'free'"):
        sg.check(sg.cross_entropy(Z, T), Z, sg.softmax(Z) - T, targets="soft")


def test_mse_after_softmax_keeps_free_targets():
    """Only a target multiplying a log-softmax is a distribution; mse(softmax(z), t) draws t freely."""
    assert sampling.target_symbols(sg.mse(sg.softmax(Z), T), [Z]) == []
