"""An LSTM step's backward (cs231n's lstm_step_backward) with one of its five activation derivatives
written wrong, or the forget gate's value swapped for another gate's: each is named, with the gate
found by its slice of the one product a = x @ Wx + prev_h @ Wh + b. The right backward is torch's."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import symgrad as sg

from verdicts import N, wrong

H = 2


def _lstm_step():
    x, prev_h, prev_c = sg.tensor("x", (N, 3)), sg.tensor("prev_h", (N, H)), sg.tensor("prev_c", (N, H))
    Wx, Wh, b = sg.tensor("Wx", (3, 4 * H)), sg.tensor("Wh", (H, 4 * H)), sg.tensor("b", (4 * H,))
    a = x @ Wx + prev_h @ Wh + b
    i, f, o = sg.sigmoid(a[:, :H]), sg.sigmoid(a[:, H:2 * H]), sg.sigmoid(a[:, 2 * H:3 * H])
    g = sg.tanh(a[:, 3 * H:])
    next_c = f * prev_c + i * g
    return (o * sg.tanh(next_c), next_c), [x, prev_h, prev_c, Wx, Wh, b]


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def lstm_step_backward(dnext_h, dnext_c, x, prev_h, prev_c, Wx, Wh, b, slip=None):
    a = x @ Wx + prev_h @ Wh + b
    i, f, o = _sigmoid(a[:, :H]), _sigmoid(a[:, H:2 * H]), _sigmoid(a[:, 2 * H:3 * H])
    g = np.tanh(a[:, 3 * H:])
    tc = np.tanh(f * prev_c + i * g)
    if slip == "tanh' of prev_c":
        tc_prime = 1 - np.tanh(prev_c) ** 2
    dc = dnext_c + dnext_h * o * ((1 - tc) if slip == "tanh(c)' as 1 - tc" else (1 - tc ** 2))
    if slip == "dnext_h's path left out":
        dc = dnext_c
    if slip == "tanh' of prev_c":
        dc = dnext_c + dnext_h * o * tc_prime
    if slip == "dc without o":
        dc = dnext_c + dnext_h * (1 - tc ** 2)
    dai = dc * g if slip == "i's σ' left out" else dc * g * i * (1 - i)
    nc = f * prev_c + i * g
    do = dnext_h * (nc if slip == "do from next_c" else np.tanh(prev_c) if slip == "do from prev_c"
                    else o if slip == "do from o" else tc)
    dao = do * ((1 - o ** 2) if slip == "o's σ' as tanh's" else 1 if slip == "o's σ' left out" else o * (1 - o))
    dag = dc * i * (g * (1 - g) if slip == "g's tanh' as σ's" else (1 - g ** 2))
    daf = dc * (prev_h if slip == "df from prev_h" else prev_c) * f * (1 - f)
    da = np.hstack([daf, dai, dao, dag] if slip == "i, f swapped" else [dai, daf, dao, dag])
    dprev_c = dc * i if slip == "dprev_c from i" else dc * f
    return da @ Wx.T, da @ Wh.T, dprev_c, x.T @ da, prev_h.T @ da, da.sum(axis=0)


def test_the_right_step_backward_is_torchs():
    rng = np.random.default_rng(6)
    arrays = [rng.normal(size=s) for s in ((5, 3), (5, H), (5, H), (3, 4 * H), (H, 4 * H), (4 * H,))]
    dh, dc = rng.normal(size=(5, H)), rng.normal(size=(5, H))
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    x, h, c, Wx, Wh, b = ts
    gates = x @ Wx + h @ Wh + b
    i, f, o, g = (torch.sigmoid(gates[:, :H]), torch.sigmoid(gates[:, H:2 * H]),
                  torch.sigmoid(gates[:, 2 * H:3 * H]), torch.tanh(gates[:, 3 * H:]))
    nc = f * c + i * g
    ((o * torch.tanh(nc) * torch.tensor(dh)).sum() + (nc * torch.tensor(dc)).sum()).backward()
    for got, t in zip(lstm_step_backward(dh, dc, *arrays), ts):
        np.testing.assert_allclose(got, t.grad.numpy(), rtol=1e-10, atol=1e-12)
    out, wrt = _lstm_step()
    assert sg.check_backward(out, wrt, lstm_step_backward).verdict == "equal"


@pytest.mark.parametrize("slip, named", [
    ("tanh(c)' as 1 - tc", "tanh'(z) written wrong in one place: for tanh(z) of a z made from other "
                           "activations (an LSTM's tanh(next_c)), the claim's chain rule has tanh'(z) = 1 − tanh(z) "),
    ("g's tanh' as σ's", "tanh'(z) written wrong in one place: for tanh(a[:, 6:]), a = b + prev_h @ Wh + x @ Wx, "
                         "the claim's chain rule has tanh'(z) = tanh(z)(1 − tanh(z)), the sigmoid's form"),
    ("o's σ' as tanh's", "σ'(z) written wrong in one place: for σ(a[:, 4:6]), a = b + prev_h @ Wh + x @ Wx, "
                         "the claim's chain rule has σ'(z) = 1 − σ(z)², tanh's form"),
    ("i's σ' left out", "σ'(z) written wrong in one place: for σ(a[:, :2]), a = b + prev_h @ Wh + x @ Wx, "
                        "the claim's chain rule has σ'(z) = 1 (the σ' factor left out)"),
    ("o's σ' left out", "σ'(z) written wrong in one place: for σ(a[:, 4:6]), a = b + prev_h @ Wh + x @ Wx, "
                        "the claim's chain rule has σ'(z) = 1 (the σ' factor left out)")])
def test_one_activation_derivative_written_wrong_is_named_with_its_gate(slip, named):
    out, wrt = _lstm_step()
    wrong(sg.check_backward(out, wrt, lambda *a, **k: lstm_step_backward(*a, **k, slip=slip)), named)


def test_the_cell_gradient_through_the_wrong_gate_is_named():
    out, wrt = _lstm_step()
    r = wrong(sg.check_backward(out, wrt, lambda *a, **k: lstm_step_backward(*a, **k, slip="dprev_c from i")),
              "wrong operand: dprev_c is built from σ(a[:, :2]) where σ(a[:, 2:4]), a = b + prev_h @ Wh + x @ Wx belongs")
    assert r.counterexample.param == "prev_c"


def test_the_gates_gradients_stacked_in_another_order_are_named():
    out, wrt = _lstm_step()
    r = wrong(sg.check_backward(out, wrt, lambda *a, **k: lstm_step_backward(*a, **k, slip="i, f swapped")),
              "slices' gradients in another order: the claim is the gradient with the gradients of a[:, :2] and "
              "a[:, 2:4] swapped (a = b + prev_h @ Wh + x @ Wx)")
    assert "np.hstack" in r.hint


def test_dc_without_dnext_hs_path_is_named_by_the_outputs():
    """dc = dnext_c where dnext_c + dnext_h * o * (1 - tanh(next_c)**2) belongs: next_c is also used by
    next_h. The fan-out hint named it by the cell's whole SymPy text; now by the outputs."""
    out, wrt = _lstm_step()
    r = wrong(sg.check_backward(out, wrt, lambda *a, **k: lstm_step_backward(*a, **k, slip="dnext_h's path left out")),
              "an output's path through another output left out: the second output of the layer is also used "
              "inside the first one")
    assert "dnext_c + dnext_h * o * (1 - np.tanh(next_c)**2)" in r.hint and "sigmoid(" not in r.hint
    flipped = wrong(sg.check_backward(out[::-1], wrt, lambda dc, dh, *a, **k: lstm_step_backward(
        dh, dc, *a, **k, slip="dnext_h's path left out")), "an output's path through another output left out")
    assert "the first output of the layer is also used inside the second one" in flipped.hint


def test_df_from_prev_h_is_named_as_another_value_where_prev_c_belongs():
    """df = dc * prev_h where dc * prev_c belongs (prev_h and prev_c have one shape): it read as a bare
    "not equal"."""
    out, wrt = _lstm_step()
    r = wrong(sg.check_backward(out, wrt, lambda *a, **k: lstm_step_backward(*a, **k, slip="df from prev_h")),
              "gate factor")
    assert "⊙ prev_c with prev_h where prev_c belongs — another value of the same shape" in r.hint


def test_tanh_prime_of_the_previous_cell_is_named():
    """dc = dnext_c + dnext_h * o * (1 - np.tanh(prev_c)**2), the previous cell where next_c belongs."""
    out, wrt = _lstm_step()
    wrong(sg.check_backward(out, wrt, lambda *a, **k: lstm_step_backward(*a, **k, slip="tanh' of prev_c")),
          "tanh'(z) written with prev_c: the claim uses 1 − tanh(prev_c)² where 1 − tanh(next_c)² belongs")


@pytest.mark.parametrize("slip, named", [
    ("do from next_c", "with the layer's second output itself where its tanh belongs (the tanh left out: an "
                       "LSTM's do = dnext_h * np.tanh(next_c), not dnext_h * next_c)"),
    ("dc without o", "without its factor σ("),
    ("do from prev_c", "with tanh(prev_c) where the tanh of the layer's second output belongs"),
    ("do from o", "with the gate σ(… prev_h @ Wh …) itself where the tanh of the layer's second output belongs "
                  "(an LSTM's do = dnext_h * np.tanh(next_c), not dnext_h * o"),
])
def test_a_slip_in_next_hs_product_is_named(slip, named):
    """next_h = o ⊙ tanh(next_c) is multiplied by dnext_h in check_backward's f: a three-factor product,
    which the gate-factor hint now takes apart."""
    out, wrt = _lstm_step()
    r = wrong(sg.check_backward(out, wrt, lambda *a, **k: lstm_step_backward(*a, **k, slip=slip)), "gate factor")
    assert named in r.hint, r.hint
    assert "GRU" not in r.hint, r.hint          # the cell's own backward lines, not a GRU's too


def _lstm_step_dropped_out():
    """The step with dropout on next_h (as a captioning model applies it): next_h = mask ⊙ o ⊙ tanh(next_c)."""
    (next_h, next_c), wrt = _lstm_step()
    return (sg.dropout(next_h, 0.5), next_c), wrt


def dropped_out_step_backward(dnext_h, dnext_c, x, prev_h, prev_c, Wx, Wh, b, mask, slip=None):
    return lstm_step_backward(dnext_h * mask, dnext_c, x, prev_h, prev_c, Wx, Wh, b, slip=slip)


@pytest.mark.parametrize("slip, named", [
    (None, None),
    ("do from next_c", "with the layer's second output itself where its tanh belongs"),
    ("do from o", "with the gate σ(… prev_h @ Wh …) itself where the tanh of the layer's second output belongs"),
])
def test_a_slip_in_a_dropped_out_next_hs_product_is_named(slip, named):
    """check_backward's f holds mask·o·tanh(next_c)·dnext_h, four factors: the gate-factor hint took
    an output's product apart only when it was three (o·tanh(next_c)·dout), and read a bare "not
    equal". It now takes the outputs check_backward made f of (layer_outputs), whatever their factors."""
    out, wrt = _lstm_step_dropped_out()
    r = sg.check_backward(out, wrt, lambda *a, **k: dropped_out_step_backward(*a, **k, slip=slip))
    if slip is None:
        assert r.verdict == "equal", str(r)
        return
    wrong(r, "gate factor")
    assert named in r.hint and "mask ⊙ σ(" in r.hint and "dropout_mask" not in r.hint, r.hint


def test_dprev_c_left_zero_is_named_by_the_forget_gates_direct_path():
    """dprev_c = 0 (no dnext_c * f): prev_c reaches the output only through f ⊙ prev_c, so leaving out
    that direct path leaves nothing. It read only "the claim is 0 but the gradient is not"; now the
    forget gate's slice and the missing dprev_c = dnext_c * f are named, for a backward and a formula."""
    out, wrt = _lstm_step()

    def backward(*a, **k):
        dx, dh, _, dWx, dWh, db = lstm_step_backward(*a, **k)
        return dx, dh, np.zeros_like(k["prev_c"]), dWx, dWh, db

    r = wrong(sg.check_backward(out, wrt, backward), "the claim is 0 but the gradient is not")
    assert "forget gate f = σ(a[:, 2:4])" in r.hint and "dprev_c = dnext_c * f" in r.hint
    next_h, next_c = out
    formula = wrong(sg.check(sg.sum(next_h) + sg.sum(next_c), wrt[2], 0 * wrt[2]),
                    "the claim is 0 but the gradient is not")
    assert "forget gate f = σ(a[:, 2:4])" in formula.hint and "δc' ⊙ f" in formula.hint
    assert "dnext_c" not in formula.hint and "SymPy's diff" not in formula.hint


def test_dprev_c_with_only_next_hs_path_is_named_by_the_cell_outputs_own_term():
    """dprev_c = dnext_h * o * (1 - tanh(next_c)**2) * f, without dnext_c * f: next_c is returned too.
    It read as a fan-out hint over the cell's whole SymPy text (tanh(…)*sigmoid(…) + …)."""
    out, wrt = _lstm_step()

    def backward(dout, dout1, x, prev_h, prev_c, Wx, Wh, b):
        dx, dh, _, dWx, dWh, db = lstm_step_backward(dout, dout1, x, prev_h, prev_c, Wx, Wh, b)
        a = x @ Wx + prev_h @ Wh + b
        f, o = _sigmoid(a[:, H:2 * H]), _sigmoid(a[:, 2 * H:3 * H])
        next_c = f * prev_c + _sigmoid(a[:, :H]) * np.tanh(a[:, 3 * H:])
        return dx, dh, dout * o * (1 - np.tanh(next_c) ** 2) * f, dWx, dWh, db

    r = wrong(sg.check_backward(out, wrt, backward), "an output's own path left out")
    assert "leaves out the term dout1 * f" in r.hint and "σ(a[:, 2:4])" in r.hint
    assert "tanh(…)*sigmoid(…)" not in r.hint
