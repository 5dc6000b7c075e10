"""sg.check_backward (and sg.check) of a layer with sg.dropout: the mask M of y ⊙ M is drawn as a
program draws it — entries 0, or 1/(1 − p) with probability 1 − p (inverted dropout), of the
tensor's shape — and handed to the student's backward as ``mask`` (several: mask, mask1, ... in the
order of the sg.dropout calls). cs231n's dropout_backward is dx = dout * mask."""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.frontend.masks import masks_in

N = sp.Symbol("N", integer=True, positive=True)


def dropout_backward(dout, cache):
    """cs231n's dropout_backward (train mode): the mask saved by the forward holds the scale."""
    dropout_param, mask = cache
    if dropout_param["mode"] == "train":
        return dout * mask
    return dout


def affine_relu_dropout_backward(dout, x, w, b, mask, p, slip=None):
    """affine → relu → dropout, backward: the student's three backward functions chained."""
    if slip == "0/1 mask":              # the mask's pattern, without inverted dropout's 1/(1 − p)
        mask = (mask != 0).astype(float)
    if slip == "scale twice":           # divided by 1 − p again, on top of the mask's own scale
        mask = mask / (1 - p)
    da = dropout_backward(dout, ({"p": p, "mode": "train"}, mask))
    dz = da * (x @ w + b > 0)
    return dz @ w.T, x.T @ dz, dz.sum(axis=0)


def _layer(p):
    x, w, b = sg.tensor("x", (N, 4)), sg.tensor("w", (4, 3)), sg.tensor("b", (3,))
    return sg.dropout(sg.relu(x @ w + b), p), [x, w, b]


def test_the_mask_is_drawn_as_dropout_draws_it_and_passed_as_mask():
    p = 0.4
    out, wrt = _layer(p)
    seen = []

    def backward(dout, x, w, b, mask):
        seen.append((x.shape[0], mask))
        return affine_relu_dropout_backward(dout, x, w, b, mask, p)

    r = sg.check_backward(out, wrt, backward)
    assert r and r.verdict == "equal", str(r)
    assert seen
    for n, m in seen:
        assert m.shape == (n, 3)                                 # the tensor's shape, N as drawn for x
        assert set(np.unique(m)) == {0.0, 1 / (1 - p)}           # dropped and kept, kept scaled
    assert "mask drawn as a dropout mask" in r.method
    # many draws: kept with probability 1 − p
    kept = np.mean([np.mean(m != 0) for _, m in seen])
    assert 0.2 < kept < 0.95


@pytest.mark.parametrize("p", [0.5, 0.3])
def test_a_backward_without_the_scale_is_wrong_and_the_hint_names_it(p):
    out, wrt = _layer(p)
    r = sg.check_backward(out, wrt, lambda dout, x, w, b, mask:
                          affine_relu_dropout_backward(dout, x, w, b, mask, p, slip="0/1 mask"))
    assert r.verdict == "not equal"
    assert r.hint.startswith("constant factor")
    assert "1 − p" in r.hint and "1/(1 − p) is missing" in r.hint, r.hint
    assert "mask = " in str(r.counterexample)                    # the point names the mask as backward does
    assert "dropout_mask" not in str(r)


def test_a_backward_that_scales_twice_is_wrong_and_the_hint_names_it():
    p = 0.5
    out, wrt = _layer(p)
    r = sg.check_backward(out, wrt, lambda dout, x, w, b, mask:
                          affine_relu_dropout_backward(dout, x, w, b, mask, p, slip="scale twice"))
    assert r.verdict == "not equal"
    assert "counted twice" in r.hint and "differentiating a square" not in r.hint, r.hint


def test_two_dropouts_are_mask_and_mask1_in_the_order_of_the_calls():
    x, w = sg.tensor("x", (N, 3)), sg.tensor("w", (3, 3))
    h = sg.dropout(sg.tanh(x @ w), 0.2)                          # first call: mask
    out = sg.dropout(h @ w, 0.6)                                 # second call: mask1
    seen = {}

    def backward(dout, x, w, mask, mask1):
        seen.update(mask=mask, mask1=mask1)
        da = dout * mask1
        dh = da @ w.T * mask
        t = np.tanh(x @ w)
        dz = dh * (1 - t ** 2)
        return x.T @ dz + (t * mask).T @ da

    assert sg.check_backward(out, [w], backward)
    assert set(np.unique(seen["mask"])) <= {0.0, 1 / 0.8}
    assert set(np.unique(seen["mask1"])) <= {0.0, 1 / 0.4}
    # a layer symbol called mask keeps its name; the dropout's mask is mask1
    mask = sg.tensor("mask", (N, 3))
    got = {}

    def with_own_mask(dout, x, mask, mask1):
        got.update(mask=mask, mask1=mask1)
        return dout * mask1 * mask

    assert sg.check_backward(sg.dropout(x * mask, 0.5), [x], with_own_mask)
    assert set(np.unique(got["mask1"])) <= {0.0, 2.0} and len(np.unique(got["mask"])) > 2


def test_at_fixes_the_mask_by_its_backward_name():
    out, wrt = _layer(0.5)
    m = np.full((3, 3), 2.0)
    m[:, 1] = 0.0
    seen = []

    def backward(dout, x, w, b, mask):
        seen.append(mask)
        return affine_relu_dropout_backward(dout, x, w, b, mask, 0.5)

    assert sg.check_backward(out, wrt, backward, at={"mask": m, N: 3})
    assert all(np.array_equal(s, m) for s in seen)


def test_check_of_a_scalar_dropout_draws_the_mask_as_dropout_does():
    """sg.check (a callable claim) of a per-example dropout of a scalar: the mask arrives keyed by its
    own name, one number per example, 0 or 1/(1 − p)."""
    w, x = sp.symbols("w x")
    f = sg.dropout(w * x, 0.25) ** 2
    name = masks_in(f)[0].name
    seen = []

    def claim(v):
        seen.append(v[name])
        return np.mean(2 * v["w"] * v["x"] ** 2 * v[name] ** 2)

    assert sg.check(f, w, claim)
    drawn = np.concatenate(seen)
    assert set(np.unique(drawn)) <= {0.0, 1 / 0.75} and np.any(drawn == 0) and np.any(drawn != 0)
    # the claim that treats the mask as 1 where kept (no 1/(1 − p)²) is wrong
    r = sg.check(f, w, lambda v: np.mean(2 * v["w"] * v["x"] ** 2 * (v[name] != 0)))
    assert r.verdict == "not equal"


def test_check_of_a_matrix_dropout_draws_the_mask_as_dropout_does():
    """A per-example matrix layer (MatrixSymbols): the mask of sg.dropout(W x, p) is (3, 1) per
    example, 0 or 1/(1 − p); the claim that leaves the mask out is wrong, its scale 1 − p named."""
    W, x = sp.MatrixSymbol("W", 3, 2), sp.MatrixSymbol("x", 2, 1)
    f = sg.sum(sg.dropout(W * x, 0.2))
    name = masks_in(f)[0].name
    seen = []

    def claim(v):                               # ∂/∂W Σ (Wx ⊙ M) = mean over the batch of M xᵀ
        seen.append(v[name])
        return np.mean(v[name][:, :, None] * v["x"][:, None, :], axis=0)

    assert sg.check(f, W, claim)
    drawn = np.concatenate(seen)
    assert drawn.shape[1:] == (3,) and set(np.unique(drawn)) == {0.0, 1.25}
    r = sg.check(f, W, lambda v: np.mean((v[name] != 0)[:, :, None] * v["x"][:, None, :], axis=0))
    assert r.verdict == "not equal" and "1/(1 − p) is missing" in r.hint, r.hint


def test_a_dropout_backward_returning_the_forwards_output_is_named_with_the_mask_as_passed():
    """dx = x * mask (the forward's out) was 'wrong operand: dx is built from the layer's output
    where dropout_mask_0*dout belongs', naming the mask by symgrad's internal name."""
    x = sg.tensor("x", (N, 6))
    r = sg.check_backward(sg.dropout(x, 0.4), [x], lambda dout, x, mask: x * mask)
    assert not r and r.hint.startswith("the layer's output where its gradient belongs: dx is the forward's "
                                       "value where mask*dout belongs"), r.hint
    assert "dropout_mask" not in r.hint


@pytest.mark.parametrize("remade, said", [
    (lambda dout, x, mask, p: (x != 0) / (1 - p), "the claim keeps every entry, each scaled by 1/(1 − p) = 2.5"),
    (lambda dout, x, mask, p: (dout != 0) / (1 - p), "its mask is nonzero everywhere"),
    (lambda dout, x, mask, p: (x > 0) / (1 - p), "the claim masks with (x > 0) / (1 - p), the sign of x"),
])
def test_a_mask_made_again_from_another_tensor_is_named(remade, said):
    """cs231n's dropout_backward with the mask made again in the backward from x or dout, not the
    forward's: it had no hint."""
    p = 0.6
    x = sg.tensor("x", (N, 5))
    r = sg.check_backward(sg.dropout(x, p), [x], lambda dout, x, mask: dout * remade(dout, x, mask, p))
    assert r.verdict == "not equal" and r.hint.startswith("another mask than the dropout's"), r.hint
    assert said in r.hint and "dx = dout * mask" in r.hint
