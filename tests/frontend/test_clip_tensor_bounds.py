"""sg.clip / x.clip / x.clamp with tensor bounds (np.clip, torch.clamp with tensor min / max):
broadcasting, values and the gradients of x and of each bound against torch.autograd (float64) and
central finite differences, the tie conventions (torch's, and the one place symgrad differs), a
learned bound compiled for NumPy and stepped."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
import torch

import symgrad as sg
from symgrad.core.evaluate import numeric
from tests.oracle import central_differences

N = sp.Symbol("N", integer=True, positive=True)


def _torch_grads(f, values):
    t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in values.items()}
    out = f(**t)
    out.backward()
    return out.item(), {k: v.grad.numpy() for k, v in t.items()}


def _far_from_kinks(values, gap=0.05) -> bool:
    """No entry of x within ``gap`` of a bound it meets (finite differences straddle no kink)."""
    x = values["x"]
    return all(np.abs(x - values[k]).min() >= gap for k in ("lo", "hi") if k in values)


# shapes of x, lo, hi (None: no bound); every pair broadcasts, one grows x
SHAPES = [((4, 3), (3,), (4, 1)), ((4, 3), (4, 3), None), ((4, 3), None, (3,)), ((4, 3), (), (4, 3)),
          ((3,), (2, 3), (2, 1))]


@pytest.mark.parametrize("xs, ls, hs", SHAPES)
def test_values_and_gradients_equal_torch_clamp_and_finite_differences(xs, ls, hs):
    x = sg.tensor("x", xs)
    lo = sg.tensor("lo", ls) if ls is not None else None
    hi = sg.tensor("hi", hs) if hs is not None else None
    out = x.clamp(lo, hi)
    shape = np.broadcast_shapes(*(s for s in (xs, ls, hs) if s is not None))
    assert tuple(out.shape) == shape
    w = sg.tensor("w", shape)
    for seed in range(100):                 # the first draw of a fixed sequence that keeps off the kinks
        rng = np.random.default_rng(seed)
        values = {"x": rng.normal(size=xs) * 2, "w": rng.normal(size=shape)}
        if lo is not None:
            values["lo"] = rng.normal(size=ls) - 0.7
        if hi is not None:
            values["hi"] = rng.normal(size=hs) + 0.7
        if _far_from_kinks(values):
            break
    wrt = [s for s in (x, lo, hi, w) if s is not None]
    loss = sg.sum(out * w)
    ref, grads = _torch_grads(lambda **t: (torch.clamp(t["x"], t.get("lo"), t.get("hi")) * t["w"]).sum(), values)
    assert numeric(loss, values) == pytest.approx(ref, rel=1e-12)
    np.testing.assert_allclose(numeric(sg.clip(x, lo, hi), values),
                               np.clip(values["x"], values.get("lo"), values.get("hi")))    # np.clip too
    fd = central_differences(loss, wrt, {s: values[s.name] for s in wrt})
    for s, g, d in zip(wrt, sg.grad(loss, wrt), fd):
        got = np.asarray(numeric(g, values), dtype=float)
        np.testing.assert_allclose(got, grads[s.name], rtol=1e-12, atol=1e-12, err_msg=f"torch d/d{s.name}")
        np.testing.assert_allclose(got, d, rtol=1e-6, atol=1e-8, err_msg=f"finite differences d/d{s.name}")


def test_ties_and_crossed_bounds_follow_torch():
    """x = lo and x = hi: the gradient goes to x (bounds included, relu'(0) = 1, as torch);
    lo > hi: the value is hi and hi takes the gradient (min(max(x, lo), hi), as torch and NumPy)."""
    x, lo, hi = sg.tensor("x", (7,)), sg.tensor("lo", (7,)), sg.tensor("hi", (7,))
    values = {"x": np.array([-2.0, -1.0, 0.0, 1.0, 2.0, 0.5, -3.0]),
              "lo": np.array([-1.0, -1.0, -1.0, -1.0, -1.0, 1.0, 1.0]),
              "hi": np.array([1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0])}
    loss = sg.sum(sg.clip(x, lo, hi))
    ref, grads = _torch_grads(lambda x, lo, hi: torch.clamp(x, lo, hi).sum(), values)
    assert numeric(loss, values) == ref
    for s, g in zip((x, lo, hi), sg.grad(loss, [x, lo, hi])):
        np.testing.assert_array_equal(numeric(g, values), grads[s.name], err_msg=s.name)
    np.testing.assert_array_equal(grads["x"], [0, 1, 1, 1, 0, 0, 0])        # what torch does, spelled out
    np.testing.assert_array_equal(grads["hi"], [0, 0, 0, 0, 1, 1, 1])


def test_equal_bounds_send_the_gradient_to_lo_where_torch_drops_it():
    """The one difference, documented: lo = hi with x < lo. torch's clamp backward gives nobody the
    gradient there (x < lo but not lo < hi); symgrad gives it to lo, so that the three gradients add
    up to 1 everywhere, as clip(x + t, lo + t, hi + t) = clip(x, lo, hi) + t says."""
    x, lo, hi = sg.tensor("x", (3,)), sg.tensor("lo", (3,)), sg.tensor("hi", (3,))
    values = {"x": np.array([-2.0, 2.0, 0.0]), "lo": np.zeros(3), "hi": np.zeros(3)}
    _, grads = _torch_grads(lambda x, lo, hi: torch.clamp(x, lo, hi).sum(), values)
    np.testing.assert_array_equal(grads["x"] + grads["lo"] + grads["hi"], [0, 1, 1])    # torch: lost
    got = [numeric(g, values) for g in sg.grad(sg.sum(sg.clip(x, lo, hi)), [x, lo, hi])]
    np.testing.assert_array_equal(got[0], [0, 0, 1])
    np.testing.assert_array_equal(got[1], [1, 0, 0])
    np.testing.assert_array_equal(got[2], [0, 1, 0])


def test_gradients_add_up_to_one_everywhere():
    """Translation: d/dt clip(x + t, lo + t, hi + t) = 1, so ∂x + ∂lo + ∂hi = 1 at every point,
    ties and crossed bounds included, under both policies."""
    x, lo, hi = sg.tensor("x", (5, 5, 5)), sg.tensor("lo", (5, 5, 5)), sg.tensor("hi", (5, 5, 5))
    grid = np.array([-1.0, -0.5, 0.0, 0.5, 1.0])
    xv, lv, hv = np.meshgrid(grid, grid, grid, indexing="ij")
    values = {"x": xv, "lo": lv, "hi": hv}
    for policy in (sg.Subgradients(), sg.Subgradients(relu_at_zero=0)):
        gs = sg.grad(sg.sum(sg.clip(x, lo, hi)), [x, lo, hi], policy=policy)
        np.testing.assert_array_equal(sum(numeric(g, values) for g in gs), np.ones((5, 5, 5)))


def test_policy_relu_at_zero_0_gives_the_tie_to_the_bound():
    x, lo = sg.tensor("x", (3,)), sg.tensor("lo", (3,))
    values = {"x": np.array([0.0, 1.0, -1.0]), "lo": np.zeros(3)}
    p0 = sg.Subgradients(relu_at_zero=0)
    gx, glo = (numeric(g, values) for g in sg.grad(sg.sum(sg.clip(x, lo, 5)), [x, lo], policy=p0))
    np.testing.assert_array_equal(gx, [0, 1, 0])
    np.testing.assert_array_equal(glo, [1, 0, 1])


def test_a_scalar_x_between_tensor_bounds_is_a_tensor():
    s, lo = sp.Symbol("s"), sg.tensor("lo", (3,))
    out = sg.clip(s, lo, 2)
    assert out.shape == (3,)
    np.testing.assert_array_equal(numeric(out, {"s": 0.5, "lo": np.array([0.0, 1.0, 3.0])}), [0.5, 1.0, 2.0])


def test_learned_bounds_compile_for_numpy_and_equal_torch():
    """A clipped layer whose bounds are parameters: loss and gradients against torch, one step."""
    rng = np.random.default_rng(3)
    x, y, W = sg.tensor("x", (N, 3)), sg.tensor("y", (N,), integer=True), sg.tensor("W", (3, 4))
    lo, hi = sg.tensor("lo", (4,)), sg.tensor("hi", (4,))
    prog = sg.compile(sg.cross_entropy((x @ W).clip(lo, hi), y), [W, lo, hi], [x, y], dtype="float64",
                      optimizer=sg.optim.SGD(lr=0.5))
    values = {"W": rng.normal(size=(3, 4)), "lo": -np.abs(rng.normal(size=4)) * 0.5,
              "hi": np.abs(rng.normal(size=4)) * 0.5}
    batch = {"x": rng.normal(size=(9, 3)), "y": rng.integers(0, 4, 9)}
    ref, grads = _torch_grads(lambda W, lo, hi: torch.nn.functional.cross_entropy(
        torch.clamp(torch.tensor(batch["x"]) @ W, lo, hi), torch.tensor(batch["y"])), values)
    assert prog.loss(values, batch) == pytest.approx(ref, rel=1e-12)
    got = prog.grad(values, batch)
    for k in values:
        np.testing.assert_allclose(got[k], grads[k], rtol=1e-10, atol=1e-14, err_msg=k)
    assert np.abs(grads["lo"]).sum() > 0 and np.abs(grads["hi"]).sum() > 0      # both bounds active
    new, _ = prog.step({k: v.copy() for k, v in values.items()}, None, batch)
    assert prog.loss(new, batch) < ref


def test_float32_program_keeps_float32_gradients():
    """The masks of the bounds' gradients (1 − (x >= lo)) print as the program's dtype: an int64
    mask would make a float32 gradient float64."""
    x, lo = sg.tensor("x", (N, 4)), sg.tensor("lo", (4,))
    prog = sg.compile(sg.sum(x.clip(lo) ** 2), [lo], [x], dtype="float32")
    xv, lv = np.linspace(-1, 1, 8, dtype=np.float32).reshape(2, 4), np.full(4, 0.25, np.float32)
    g = prog.grad({"lo": lv}, {"x": xv})
    assert g["lo"].dtype == np.float32
    np.testing.assert_allclose(g["lo"], (2 * lv * (xv < lv)).sum(0), rtol=1e-6)   # d/dlo Σ max(x, lo)²
    assert g["lo"].any()


@pytest.mark.parametrize("bound, kind", [(np.zeros(3), r"an array \(ndarray\)"),
                                         ([0.0, 0.0, 0.0], r"an array \(list\)"), (True, "a truth value")])
def test_an_array_or_a_truth_value_as_a_bound_is_refused_by_name(bound, kind):
    """np.clip takes an array of bounds; sg.clip takes a tensor declaration for one (its values come
    with the data): a NumPy array, a list or True was an AttributeError from inside SymPy."""
    x = sg.tensor("x", (N, 3))
    for lo, hi in ((bound, None), (None, bound)):
        which = "lo" if hi is None else "hi"
        want = rf"clip: the bound {which} is {kind}.*a number, a scalar symbol or a tensor.*sg\.tensor\('{which}'"
        with pytest.raises(sg.ArgumentError, match=want):
            sg.clip(x, lo, hi)
