"""A kink of values given with at= alone (a mask's where(mask > 0, …)) never moves: the check does not
report its sides as "NOT reached" (it listed 120 entries of an attention's attn_mask), while a kink that
moves with the free values is still covered on both sides."""
import numpy as np
import sympy as sp

import symgrad as sg

N = sp.Symbol("N", integer=True, positive=True)


def test_a_mask_given_with_at_is_no_kink_to_reach():
    x, mask = sg.tensor("x", (N, 3)), sg.tensor("mask", (3, 3))
    out = sg.softmax(sg.where(mask[0] > 0, x, -1e9), axis=-1)          # a row of a causal mask

    def backward(dout, x, mask):
        s = np.where(mask[0] > 0, x, -1e9)
        p = np.exp(s - s.max(axis=-1, keepdims=True))
        p /= p.sum(axis=-1, keepdims=True)
        return p * (dout - (dout * p).sum(axis=-1, keepdims=True))
    r = sg.check_backward(out, x, backward, at={"mask": np.tril(np.ones((3, 3)))})
    assert r.verdict == "equal", str(r)
    assert "NOT reached" not in r.method and "mask" not in r.method, r.method


def test_a_kink_of_free_values_is_still_covered():
    x, mask = sg.tensor("x", (N, 3)), sg.tensor("mask", (3,))
    r = sg.check_backward(sg.relu(x) * mask, x, lambda dout, x, mask: dout * mask * (x > 0), at={"mask": np.ones(3)})
    assert r.verdict == "equal" and "every kink argument seen on both sides" in r.method, r.method
