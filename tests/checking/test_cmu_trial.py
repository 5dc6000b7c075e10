"""A CMU 11-785 student's trial of `sg.check_backward` (homework P1 layers in NumPy): each test is a
slip or a stumble the trial met, with the verdict and hint it must get. The backward functions are
written as the course writes them; each right one is first compared with torch.autograd."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import sympy as sp
import torch

import symgrad as sg

from check_corpus import GRU_BIASES, GRU_WEIGHTS, gru_cell, rnn_cell
from verdicts import N, assert_torch_agrees, wrong


def _softmax(a):
    e = np.exp(a - a.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


# ---------------------------------------------------------------------------------------------------
# CrossEntropyLoss as 11-785 writes it: one-hot rows Y of A's shape, L = Σ −Y ⊙ log softmax(A) / N.
# Y used to be drawn from N(0, 1), and the right backward (softmax(A) − Y)/N read "not equal".


def _cross_entropy():
    A, Y = sg.tensor("A", (N, 4)), sg.tensor("Y", (N, 4))
    return sg.sum(-Y * sg.log_softmax(A, axis=1)) / N, A


def ce_backward(dout, A, Y):
    return ((_softmax(A) - Y) / A.shape[0],)


def test_the_right_cross_entropy_backward_is_torchs():
    rng = np.random.default_rng(0)
    arrays = {"A": rng.normal(size=(5, 4)), "Y": np.eye(4)[[0, 2, 1, 3, 1]]}
    assert_torch_agrees(lambda A, Y: -(Y * torch.log_softmax(A, 1)).sum() / 5, ce_backward, arrays,
                        np.array(1.0), ["A"])


@pytest.mark.parametrize("written", ["log_softmax", "log of softmax", "sg.cross_entropy"])
def test_a_one_hot_target_tensor_is_drawn_as_a_distribution_so_the_right_backward_is_equal(written):
    A, Y = sg.tensor("A", (N, 4)), sg.tensor("Y", (N, 4))
    loss = {"log_softmax": sg.sum(-Y * sg.log_softmax(A, axis=1)) / N,
            "log of softmax": sg.sum(-Y * sg.log(sg.softmax(A, axis=1))) / N,
            "sg.cross_entropy": sg.cross_entropy(A, Y)}[written]
    r = sg.check_backward(loss, A, lambda dout, A, Y: ce_backward(dout, A, Y)[0])
    assert r.verdict == "equal", str(r)
    assert "Y drawn as a distribution" in r.method
    wrong(sg.check_backward(loss, A, lambda dout, A, Y: _softmax(A) - Y),
          "constant factor: the claim is 5 times the gradient — N = 5")


def test_a_target_tensor_with_classes_on_axis_0_sums_to_1_along_axis_0():
    A, Y = sg.tensor("A", (4, N)), sg.tensor("Y", (4, N))
    e = lambda a: np.exp(a) / np.exp(a).sum(axis=0)          # noqa: E731
    r = sg.check_backward(sg.sum(-Y * sg.log_softmax(A, axis=0)) / N, A,
                          lambda dout, A, Y: (e(A) - Y) / A.shape[1])
    assert r.verdict == "equal", str(r)


def test_soft_targets_as_text_and_the_free_targets_hint():
    loss = "sum(-Y*log_softmax(A, axis=1))/N"
    A, Y = sg.tensor("A", (N, 4)), sg.tensor("Y", (N, 4))
    f = sg.sum(-Y * sg.log_softmax(A, axis=1)) / N
    assert sg.check(f, A, "(softmax(A, axis=1) - Y)/N").verdict == "equal"
    assert sg.check(f, A, "(softmax(A, axis=1) - Y)/N", targets="one-hot").verdict == "equal"
    wrong(sg.check(f, A, "(softmax(A, axis=1) - Y)/N", targets="free"),
          "targets: the claim is right when Y is a distribution")
    out = subprocess.run([sys.executable, "-m", "symgrad", "check", loss, "--tensor", "A:N,4",
                          "--tensor", "Y:N,4", "--wrt", "A", "--claimed", "(softmax(A, axis=1) - Y)/N"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.startswith("equal."), out.stdout + out.stderr


def test_a_target_tensor_given_with_at_is_kept():
    f, A = _cross_entropy()
    Y = np.full((5, 4), 0.5)                                # rows summing to 2: the full gradient
    r = sg.check_backward(f, A, lambda dout, A, Y: ce_backward(dout, A, Y)[0], at={"Y": Y})
    wrong(r)


# ---------------------------------------------------------------------------------------------------
# RNNCell (HW3P1) in torch's layout: h' = tanh(x @ W_ih.T + b_ih + h @ W_hh.T + b_hh). W_hh is square
# and reached through its transpose: the wrong operand and the transposed factor used to go unnamed
# (dW_hh from h_t: no hint) or misnamed (dh @ W_hh.T: "built from W_hh where W_hh.T belongs").

D, H = 2, 3


def rnn_cell_backward(delta, x, h_prev, W_ih, W_hh, b_ih, b_hh, slip=None):
    h_t = np.tanh(x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh)
    dz = delta * (1 - h_t ** 2)
    dW_hh = dz.T @ (h_t if slip == "dW_hh from h_t" else h_prev)
    dh_prev = dz @ (W_hh.T if slip == "dh_prev @ W_hh.T" else W_hh)
    return dz @ W_ih, dh_prev, dz.T @ x, dW_hh, dz.sum(axis=0), dz.sum(axis=0)


def test_the_right_rnn_cell_backward_is_torchs_and_equal():
    rng = np.random.default_rng(1)
    shapes = {"x": (5, D), "h_prev": (5, H), "W_ih": (H, D), "W_hh": (H, H), "b_ih": (H,), "b_hh": (H,)}
    arrays = {k: rng.normal(size=s) for k, s in shapes.items()}
    assert_torch_agrees(lambda x, h_prev, W_ih, W_hh, b_ih, b_hh:
                        torch.tanh(x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh),
                        rnn_cell_backward, arrays, rng.normal(size=(5, H)), list(shapes))
    out, wrt = rnn_cell("h_prev", D, H)
    assert sg.check_backward(out, wrt, rnn_cell_backward).verdict == "equal"


def test_rnn_cell_dW_hh_from_the_new_state_is_the_wrong_operand():
    out, wrt = rnn_cell("h_prev", D, H)
    wrong(sg.check_backward(out, wrt, lambda *a, **k: rnn_cell_backward(*a, **k, slip="dW_hh from h_t")),
              "wrong operand: dW_hh is built from the layer's output where h_prev belongs")


def test_rnn_cell_dh_prev_through_W_hh_T_is_a_transposed_factor():
    out, wrt = rnn_cell("h_prev", D, H)
    r = wrong(sg.check_backward(out, wrt, lambda *a, **k: rnn_cell_backward(*a, **k, slip="dh_prev @ W_hh.T")),
              "transposed factor: dh_prev multiplies by W_hh.T where W_hh belongs")
    assert "dh_prev = d @ W_hh " in r.hint


# ---------------------------------------------------------------------------------------------------
# Linear (HW1P1): W (out, in), b (out, 1), Z = A @ W.T + ones @ b.T. db summed over axis 1 (one number
# per example) used to get only "shape: ... it is dout summed over axis 1, keeping axis 0".


def _linear():
    A, W, b = sg.tensor("A", (N, 3)), sg.tensor("W", (4, 3)), sg.tensor("b", (4, 1))
    return A @ W.T + b.T, [A, W, b]


def linear_backward(dLdZ, A, W, b, slip=None):
    ones = np.ones((A.shape[0], 1))
    dLdb = dLdZ.sum(axis=1) if slip == "db axis 1" else dLdZ.T @ ones
    return dLdZ @ W, dLdZ.T @ A, dLdb


def test_the_right_linear_backward_is_torchs_and_equal():
    rng = np.random.default_rng(2)
    arrays = {"A": rng.normal(size=(5, 3)), "W": rng.normal(size=(4, 3)), "b": rng.normal(size=(4, 1))}
    assert_torch_agrees(lambda A, W, b: A @ W.T + b.T, linear_backward, arrays, rng.normal(size=(5, 4)),
                        ["A", "W", "b"])
    out, wrt = _linear()
    assert sg.check_backward(out, wrt, linear_backward).verdict == "equal"


def test_linear_db_summed_over_axis_1_is_summed_over_the_wrong_axes():
    out, wrt = _linear()
    r = wrong(sg.check_backward(out, wrt, lambda *a, **k: linear_backward(*a, **k, slip="db axis 1")),
              "summed over the wrong axes: the claim for b is dout summed over axis 1, keeping axis 0")
    assert "its gradient is dout summed over axis 0" in r.hint and "reshape(b.shape)" in r.hint


def test_cs231n_affine_db_summed_over_axis_1_is_summed_over_the_wrong_axes():
    x, w, b = sg.tensor("x", (N, 3)), sg.tensor("w", (3, 4)), sg.tensor("b", (4,))
    r = wrong(sg.check_backward(x @ w + b, [x, w, b], lambda dout, x, w, b: (dout @ w.T, x.T @ dout,
                                                                              dout.sum(axis=1))),
              "summed over the wrong axes")
    assert "it is dout summed over axis 1, keeping axis 0; the gradient is dout summed over axis 0" in r.hint


# ---------------------------------------------------------------------------------------------------
# MeanPool2d_stride1 (HW2P1): overlapping 2×2 windows. `=` for `+=` had no hint, and the missing 1/k²
# was called "4, the size of axes 2 and 3 of A" (a 4×4 image).


def mean_pool_backward(dZ, A, slip=None, k=2):
    dA = np.zeros_like(A)
    for i in range(dZ.shape[2]):
        for j in range(dZ.shape[3]):
            share = dZ[:, :, i:i + 1, j:j + 1] / (1 if slip == "no 1/k²" else k * k)
            if slip == "=":
                dA[:, :, i:i + k, j:j + k] = share
            else:
                dA[:, :, i:i + k, j:j + k] += share
    return dA


def _mean_pool():
    A = sg.tensor("A", (N, 2, 4, 4))
    return sg.avg_pool2d(A, 2, stride=1), A


def test_the_right_mean_pool_backward_is_torchs_and_equal():
    rng = np.random.default_rng(3)
    arrays, dout = {"A": rng.normal(size=(5, 2, 4, 4))}, rng.normal(size=(5, 2, 3, 3))
    assert_torch_agrees(lambda A: torch.nn.functional.avg_pool2d(A, 2, 1),
                        lambda d, A: (mean_pool_backward(d, A),), arrays, dout, ["A"])
    out, A = _mean_pool()
    assert sg.check_backward(out, A, mean_pool_backward).verdict == "equal"


def test_mean_pool_assigning_overlapping_windows_is_named():
    out, A = _mean_pool()
    wrong(sg.check_backward(out, A, lambda d, A: mean_pool_backward(d, A, slip="=")),
          "overlapping windows (stride 1 < kernel 2)")


def test_mean_pool_without_1_over_k2_names_the_window_not_the_image():
    out, A = _mean_pool()
    r = wrong(sg.check_backward(out, A, lambda d, A: mean_pool_backward(d, A, slip="no 1/k²")),
              "constant factor: the claim is 4 times the gradient — 4 = 2·2, the entries of the average pool's window")
    assert "axes 2 and 3" not in r.hint


def test_a_conv1d_kernel_not_flipped_is_told_to_reverse_its_one_axis():
    A, W = sg.tensor("A", (N, 2, 7)), sg.tensor("W", (3, 2, 3))
    from numpy.lib.stride_tricks import sliding_window_view as windows

    def conv1d_dA(dLdZ, A, W):         # Conv1d_stride1's dLdA, the kernel left as it is
        k = W.shape[2]
        padded = np.pad(dLdZ, ((0, 0), (0, 0), (k - 1, k - 1)))
        return np.einsum("notk,oik->nit", windows(padded, k, axis=2), W)
    r = wrong(sg.check_backward(sg.conv1d(A, W), A, conv1d_dA), "kernel not flipped")
    assert "w[..., ::-1])" in r.hint and "::-1, ::-1" not in r.hint


# ---------------------------------------------------------------------------------------------------
# GELU and SiLU (HW1P1's activations): their derivatives written by hand had no hint.


def _Phi(z):
    return 0.5 * (1 + np.vectorize(__import__("math").erf)(z / np.sqrt(2)))


def gelu_backward(dLdA, Z, slip=None):
    pdf = np.exp(-Z ** 2 / 2) / (1 if slip == "no 1/sqrt(2 pi)" else np.sqrt(2 * np.pi))
    return dLdA * (_Phi(Z) + (0 if slip == "Phi alone" else Z * pdf))


def test_the_right_gelu_backward_is_torchs_and_its_slips_are_named():
    rng = np.random.default_rng(4)
    arrays, dout = {"Z": rng.normal(size=(5, 4))}, rng.normal(size=(5, 4))
    assert_torch_agrees(lambda Z: torch.nn.functional.gelu(Z), lambda d, Z: (gelu_backward(d, Z),), arrays,
                        dout, ["Z"])
    Z = sg.tensor("Z", (N, 4))
    assert sg.check_backward(sg.gelu(Z), Z, gelu_backward).verdict == "equal"
    wrong(sg.check_backward(sg.gelu(Z), Z, lambda d, Z: gelu_backward(d, Z, "Phi alone")),
          "GELU'(z) written wrong: the claim is what the chain rule gives with GELU'(z) = Φ(z) alone")
    wrong(sg.check_backward(sg.gelu(Z), Z, lambda d, Z: gelu_backward(d, Z, "no 1/sqrt(2 pi)")),
          "GELU'(z) written wrong: the claim is what the chain rule gives with GELU'(z) = Φ(z) + z·e^(−z²/2)")


def test_a_silu_backward_without_the_product_rules_second_term_is_named():
    rng = np.random.default_rng(5)
    sig = lambda z: 1 / (1 + np.exp(-z))                    # noqa: E731
    right = lambda d, Z: d * (sig(Z) + Z * sig(Z) * (1 - sig(Z)))   # noqa: E731
    assert_torch_agrees(lambda Z: torch.nn.functional.silu(Z), lambda d, Z: (right(d, Z),),
                        {"Z": rng.normal(size=(5, 4))}, rng.normal(size=(5, 4)), ["Z"])
    Z = sg.tensor("Z", (N, 4))
    assert sg.check_backward(sg.silu(Z), Z, right).verdict == "equal"
    wrong(sg.check_backward(sg.silu(Z), Z, lambda d, Z: d * sig(Z)),
          "SiLU'(z) written wrong: the claim is what the chain rule gives with SiLU'(z) = σ(z) alone")


# ---------------------------------------------------------------------------------------------------
# GRUCell (HW3P1), one example: r, z, n gates, h' = (1 − z) ⊙ n + z ⊙ h. A gate's factor slipped in
# the long backward (z for 1 − z, r left out, the bias left out of dr) read "not equal" with no hint.

GATES, BIASES = GRU_WEIGHTS, GRU_BIASES          # the check corpus's GRUCell (tests/check_corpus.py)
GRU_ORDER = ["x", "h"] + GATES + BIASES


def gru_backward(delta, x, h, Wrx, Wzx, Wnx, Wrh, Wzh, Wnh, brx, bzx, bnx, brh, bzh, bnh, slip=None):
    sig = lambda a: 1 / (1 + np.exp(-a))                    # noqa: E731
    r = sig(Wrx @ x + brx + Wrh @ h + brh)
    z = sig(Wzx @ x + bzx + Wzh @ h + bzh)
    nh = Wnh @ h + bnh
    n = np.tanh(Wnx @ x + bnx + r * nh)
    dz_pre = delta * (h - n) * z * (1 - z)
    dn_pre = delta * (z if slip == "dn = delta * z" else 1 - z) * (1 - n ** 2)
    dr_pre = dn_pre * (Wnh @ h if slip == "dr without bnh" else nh) * r * (1 - r)
    dnh = dn_pre if slip == "dWnh without r" else dn_pre * r
    g = {"Wnx": np.outer(dn_pre, x), "bnx": dn_pre, "Wnh": np.outer(dnh, h), "bnh": dnh,
         "Wzx": np.outer(dz_pre, x), "bzx": dz_pre, "Wzh": np.outer(dz_pre, h), "bzh": dz_pre,
         "Wrx": np.outer(dr_pre, x), "brx": dr_pre, "Wrh": np.outer(dr_pre, h), "brh": dr_pre,
         "x": Wnx.T @ dn_pre + Wzx.T @ dz_pre + Wrx.T @ dr_pre,
         "h": delta * z + Wnh.T @ (dn_pre * r) + Wzh.T @ dz_pre + Wrh.T @ dr_pre}
    return tuple(g[k] for k in GRU_ORDER)


def test_the_right_gru_backward_is_torchs_and_equal():
    rng = np.random.default_rng(6)
    arrays = {"x": rng.normal(size=D), "h": rng.normal(size=H)}
    arrays.update({k: rng.normal(size=(H, D if k.endswith("x") else H)) for k in GATES})
    arrays.update({k: rng.normal(size=H) for k in BIASES})

    def torch_gru(x, h, Wrx, Wzx, Wnx, Wrh, Wzh, Wnh, brx, bzx, bnx, brh, bzh, bnh):
        cell = torch.nn.GRUCell(D, H, dtype=torch.float64)      # torch's own cell, its (r, z, n) rows
        with torch.no_grad():
            for p in (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh):
                p.zero_()
        w_ih, w_hh = torch.cat([Wrx, Wzx, Wnx]), torch.cat([Wrh, Wzh, Wnh])
        b_ih, b_hh = torch.cat([brx, bzx, bnx]), torch.cat([brh, bzh, bnh])
        return torch.func.functional_call(cell, {"weight_ih": w_ih, "weight_hh": w_hh, "bias_ih": b_ih,
                                                 "bias_hh": b_hh}, (x[None], h[None]))[0]
    assert_torch_agrees(torch_gru, gru_backward, arrays, rng.normal(size=H), GRU_ORDER)
    out, wrt = gru_cell(D, H)
    assert sg.check_backward(out, wrt, gru_backward).verdict == "equal"


@pytest.mark.parametrize("slip, named", [
    ("dn = delta * z", "(z and 1 − z swapped)"),
    ("dWnh without r", "through the product (bnh + Wnh @ h) ⊙ σ(… Wrh @ h …) without its factor σ(… Wrh @ h …)"),
    ("dr without bnh", "with Wnh @ h where bnh + Wnh @ h belongs (bnh left out)")])
def test_a_gru_gate_factor_slipped_is_named(slip, named):
    out, wrt = gru_cell(D, H)
    r = wrong(sg.check_backward(out, wrt, lambda *a, **k: gru_backward(*a, **k, slip=slip)), "gate factor")
    assert named in r.hint


# ---------------------------------------------------------------------------------------------------
# MaxPool2d_stride1 (HW2P1): overlapping windows; δ routed to the arg-max unravelled the wrong way
# round, or to the arg-min, had no hint (the route hint took windows that tile the input only).


def max_pool_backward(dZ, A, slip=None, k=2):
    dA = np.zeros_like(A)
    for i in range(dZ.shape[2]):
        for j in range(dZ.shape[3]):
            win = A[:, :, i:i + k, j:j + k].reshape(A.shape[0], A.shape[1], -1)
            flat = win.argmin(axis=2) if slip == "argmin" else win.argmax(axis=2)
            for n in range(A.shape[0]):
                for c in range(A.shape[1]):
                    a, b = divmod(int(flat[n, c]), k)
                    if slip == "unravel transposed":
                        a, b = b, a
                    dA[n, c, i + a, j + b] += dZ[n, c, i, j]
    return dA


def test_the_right_max_pool_stride1_backward_is_torchs_and_equal():
    rng = np.random.default_rng(7)
    arrays, dout = {"A": rng.normal(size=(5, 2, 4, 4))}, rng.normal(size=(5, 2, 3, 3))
    assert_torch_agrees(lambda A: torch.nn.functional.max_pool2d(A, 2, 1),
                        lambda d, A: (max_pool_backward(d, A),), arrays, dout, ["A"])
    A = sg.tensor("A", (N, 2, 4, 4))
    assert sg.check_backward(sg.max_pool2d(A, 2, stride=1), A, max_pool_backward).verdict == "equal"


@pytest.mark.parametrize("slip, named", [("unravel transposed", "row and column swapped"),
                                         ("argmin", "to the window's arg-min")])
def test_max_pool_stride1_routed_to_another_entry_is_named(slip, named):
    A = sg.tensor("A", (N, 2, 4, 4))
    r = wrong(sg.check_backward(sg.max_pool2d(A, 2, stride=1), A, lambda d, A: max_pool_backward(d, A, slip)),
              "max-pool gradient routed to another entry of the window")
    assert named in r.hint


# ---------------------------------------------------------------------------------------------------
# Conv1d with downsampling (HW2P1): Conv1d_stride1, then Downsample1d. Its backward upsampling dLdZ to
# k·(W_out − 1) + 1 entries, not the stored input width, gave a narrower dLdA and only a shape hint.


def conv1d_stride1_backward(dLdZ, A, W):
    from numpy.lib.stride_tricks import sliding_window_view as windows
    k = W.shape[2]
    dLdW = np.einsum("nikt,not->oik", windows(A, dLdZ.shape[2], axis=2), dLdZ)
    padded = np.pad(dLdZ, ((0, 0), (0, 0), (k - 1, k - 1)))
    return np.einsum("notk,oik->nit", windows(padded, k, axis=2), W[:, :, ::-1]), dLdW


def conv1d_backward(dLdZ, A, W, slip=None, stride=2):
    width = stride * (dLdZ.shape[2] - 1) + 1 if slip == "k(Wout-1)+1" else A.shape[2] - W.shape[2] + 1
    up = np.zeros(dLdZ.shape[:2] + (width,))
    up[:, :, ::stride] = dLdZ                                  # Downsample1d's backward
    return conv1d_stride1_backward(up, A[:, :, :width + W.shape[2] - 1], W)


def test_a_downsampling_backward_cut_short_is_named():
    A, W = sg.tensor("A", (N, 2, 8)), sg.tensor("W", (3, 2, 3))      # 8 − 3 + 1 = 6 is even: 5 ≠ 6
    rng = np.random.default_rng(8)
    arrays, dout = {"A": rng.normal(size=(5, 2, 8)), "W": rng.normal(size=(3, 2, 3))}, rng.normal(size=(5, 3, 3))
    assert_torch_agrees(lambda A, W: torch.nn.functional.conv1d(A, W, stride=2), conv1d_backward, arrays,
                        dout, ["A", "W"])
    out = sg.conv1d(A, W, stride=2)
    assert sg.check_backward(out, [A, W], conv1d_backward).verdict == "equal"
    r = wrong(sg.check_backward(out, [A, W], lambda *a, **k: conv1d_backward(*a, **k, slip="k(Wout-1)+1")),
              "cut short: the claim has shape (4, 2, 7), but ∂f/∂A must have A's shape (4, 2, 8)")
    assert "Downsample1d" in r.hint


# ---------------------------------------------------------------------------------------------------
# Swish with a learnable β (HW1P1): A = Z ⊙ σ(βZ). β left out of dZ's σ′(βZ)·β, and dβ with Z for Z²,
# had no hint.


def swish_backward(dLdA, Z, beta, slip=None):
    s = 1 / (1 + np.exp(-beta * Z))
    dZ = dLdA * (s + (1 if slip == "beta left out of dZ" else beta) * Z * s * (1 - s))
    dbeta = np.sum(dLdA * Z * (1 if slip == "dbeta with Z for Z**2" else Z) * s * (1 - s))
    return dZ, dbeta


@pytest.mark.parametrize("slip, named", [
    ("beta left out of dZ", "inner factor: the claim for Z passes the gradient back through the product Z ⊙ beta without its factor beta"),
    ("dbeta with Z for Z**2", "inner factor: the claim for beta passes the gradient back through the product Z ⊙ beta without its factor Z")])
def test_swish_with_a_learnable_beta_inner_factor_slips_are_named(slip, named):
    rng = np.random.default_rng(9)
    arrays, dout = {"Z": rng.normal(size=(5, 4)), "beta": np.array(0.7)}, rng.normal(size=(5, 4))
    assert_torch_agrees(lambda Z, beta: Z * torch.sigmoid(beta * Z), swish_backward, arrays, dout, ["Z", "beta"])
    Z, beta = sg.tensor("Z", (N, 4)), sg.tensor("beta", ())
    out = Z * sg.sigmoid(beta * Z)
    assert sg.check_backward(out, [Z, beta], swish_backward).verdict == "equal"
    wrong(sg.check_backward(out, [Z, beta], lambda *a, **k: swish_backward(*a, **k, slip=slip)), named)


# ---------------------------------------------------------------------------------------------------
# Softmax as a layer (HW1P1), its backward row by row through the Jacobian J = diag(a) − a aᵀ: the
# off-diagonal sign flipped, and the softmax recomputed over axis 0, had no hint.


def softmax_backward(dLdA, Z, slip=None):
    e = np.exp(Z - Z.max(axis=0 if slip == "axis 0" else 1, keepdims=True))
    A = e / e.sum(axis=0 if slip == "axis 0" else 1, keepdims=True)
    dLdZ = np.zeros_like(Z)
    for i in range(Z.shape[0]):
        J = -np.outer(A[i], A[i]) * (-1 if slip == "off-diagonal sign" else 1)
        J[np.diag_indices(len(J))] = A[i] * (1 - A[i])
        dLdZ[i] = dLdA[i] @ J
    return dLdZ


@pytest.mark.parametrize("slip, named", [("off-diagonal sign", "the off-diagonal entries' sign flipped"),
                                         ("axis 0", "the softmax recomputed over axis 0")])
def test_a_softmax_layers_jacobian_slips_are_named(slip, named):
    rng = np.random.default_rng(10)
    assert_torch_agrees(lambda Z: torch.softmax(Z, 1), lambda d, Z: (softmax_backward(d, Z),),
                        {"Z": rng.normal(size=(5, 4))}, rng.normal(size=(5, 4)), ["Z"])
    Z = sg.tensor("Z", (N, 4))
    assert sg.check_backward(sg.softmax(Z, axis=1), Z, softmax_backward).verdict == "equal"
    r = wrong(sg.check_backward(sg.softmax(Z, axis=1), Z, lambda d, Z: softmax_backward(d, Z, slip)),
              "softmax Jacobian written wrong")
    assert named in r.hint


def test_a_conv2d_kernel_flipped_along_one_axis_only_is_named():
    from numpy.lib.stride_tricks import sliding_window_view as windows
    X, W = sg.tensor("A", (N, 2, 5, 5)), sg.tensor("W", (3, 2, 2, 2))

    def conv2d_dA(dZ, A, W, flip=(2, 3)):               # Conv2d_stride1's dLdA
        k = W.shape[2]
        padded = np.pad(dZ, ((0, 0), (0, 0), (k - 1, k - 1), (k - 1, k - 1)))
        return np.einsum("nohwab,oiab->nihw", windows(padded, (k, k), axis=(2, 3)), np.flip(W, flip))
    rng = np.random.default_rng(11)
    assert_torch_agrees(lambda A, W: torch.nn.functional.conv2d(A, W), lambda d, A, W: (conv2d_dA(d, A, W),),
                        {"A": rng.normal(size=(5, 2, 5, 5)), "W": rng.normal(size=(3, 2, 2, 2))},
                        rng.normal(size=(5, 3, 4, 4)), ["A"])
    assert sg.check_backward(sg.conv2d(X, W), X, conv2d_dA).verdict == "equal"
    r = wrong(sg.check_backward(sg.conv2d(X, W), X, lambda d, A, W: conv2d_dA(d, A, W, flip=(2,))),
              "kernel flipped along one axis only")
    assert "reversed along axis 2 alone (w[..., ::-1, :])" in r.hint


# ---------------------------------------------------------------------------------------------------
# BatchNorm1d, training (HW1P1), with its own ordering of the dx formula: dLdBb, dLdBW, dLdNZ, dLdV,
# dLdM, dLdZ. dLdV with (V + ε)^(−1/2) for (V + ε)^(−3/2) had no hint.

EPS = 1e-8


def batchnorm1d_backward(dLdBZ, Z, BW, Bb, slip=None):
    n = Z.shape[0]
    M, V = Z.mean(axis=0, keepdims=True), Z.var(axis=0, keepdims=True)
    NZ = (Z - M) / np.sqrt(V + EPS)
    dLdBb = dLdBZ.sum(axis=0, keepdims=True)
    dLdBW = (dLdBZ * NZ).sum(axis=0, keepdims=True)
    dLdNZ = dLdBZ * BW
    dLdV = -0.5 * (dLdNZ * (Z - M) * (V + EPS) ** (-0.5 if slip == "dLdV power" else -1.5)).sum(axis=0, keepdims=True)
    dNZdM = -(V + EPS) ** -0.5 - 0.5 * (Z - M) * (V + EPS) ** -1.5 * (-2 / n * (Z - M).sum(axis=0, keepdims=True))
    dLdM = (dLdNZ * dNZdM).sum(axis=0, keepdims=True)
    dLdZ = dLdNZ * (V + EPS) ** -0.5 + dLdV * (2 / n * (Z - M)) + dLdM / n
    return dLdZ, dLdBW, dLdBb


def test_batchnorm1d_right_backward_is_torchs_and_the_dLdV_power_slip_is_named():
    rng = np.random.default_rng(12)
    arrays = {"Z": rng.normal(size=(5, 3)), "BW": rng.normal(size=(1, 3)), "Bb": rng.normal(size=(1, 3))}
    assert_torch_agrees(lambda Z, BW, Bb: BW * (Z - Z.mean(0, keepdim=True)) / torch.sqrt(
        Z.var(0, unbiased=False, keepdim=True) + EPS) + Bb, batchnorm1d_backward, arrays,
        rng.normal(size=(5, 3)), ["Z", "BW", "Bb"])
    Z, BW, Bb = sg.tensor("Z", (N, 3)), sg.tensor("BW", (1, 3)), sg.tensor("Bb", (1, 3))
    out = BW * (Z - Z.mean(axis=0, keepdims=True)) / sg.sqrt(Z.var(axis=0, keepdims=True) + EPS) + Bb
    assert sg.check_backward(out, [Z, BW, Bb], batchnorm1d_backward).verdict == "equal"
    r = wrong(sg.check_backward(out, [Z, BW, Bb], lambda *a, **k: batchnorm1d_backward(*a, **k, slip="dLdV power")),
              "power of var + eps off by one: the claim is the gradient with the variance's path")
    assert "(var + eps) ** -0.5 where (var + eps) ** -1.5 belongs" in r.hint


def test_the_wrong_sum_axis_is_named_for_a_text_claim_on_the_command_line():
    out = subprocess.run([sys.executable, "-m", "symgrad", "check", "sum((A @ W.T + b.T) * D)", "--tensor", "A:N,3",
                          "--tensor", "W:4,3", "--tensor", "b:4,1", "--tensor", "D:N,4", "--wrt", "b",
                          "--claimed", "sum(D, axis=1)"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "Hint: summed over the wrong axes: the claim for b is D summed over axis 1" in out.stdout


# ---------------------------------------------------------------------------------------------------
# A word embedding's gradient summed over time first (each word of a sentence given the sentence's
# total): "not equal" with no hint.


def embedding_backward(dout, x, W, slip=None):
    dW = np.zeros_like(W)
    rows = np.broadcast_to(dout.sum(axis=1, keepdims=True), dout.shape) if slip else dout
    np.add.at(dW, x, rows)
    return dW


def test_an_embedding_gradient_summed_over_time_first_is_named():
    rng = np.random.default_rng(13)
    x_ids, W0, dout = rng.integers(0, 5, size=(4, 3)), rng.normal(size=(5, 2)), rng.normal(size=(4, 3, 2))
    Wt = torch.tensor(W0, requires_grad=True)
    torch.nn.functional.embedding(torch.tensor(x_ids), Wt).backward(torch.tensor(dout))
    np.testing.assert_allclose(embedding_backward(dout, x_ids, W0), Wt.grad.numpy(), rtol=1e-12)
    x, W = sg.tensor("x", (N, 3), integer=True), sg.tensor("W", (5, 2))
    assert sg.check_backward(W[x], W, embedding_backward).verdict == "equal"
    wrong(sg.check_backward(W[x], W, lambda *a, **k: embedding_backward(*a, **k, slip=True)),
          "summed over axis 1 first: the claim for W is the gradient with dout summed over axis 1")


def test_tanh_derivative_written_as_sech_is_named():
    rng = np.random.default_rng(14)
    right = lambda d, Z: d / np.cosh(Z) ** 2                 # noqa: E731
    assert_torch_agrees(lambda Z: torch.tanh(Z), lambda d, Z: (right(d, Z),), {"Z": rng.normal(size=(5, 4))},
                        rng.normal(size=(5, 4)), ["Z"])
    Z = sg.tensor("Z", (N, 4))
    assert sg.check_backward(sg.tanh(Z), Z, right).verdict == "equal"
    wrong(sg.check_backward(sg.tanh(Z), Z, lambda d, Z: d / np.cosh(Z)),
          "tanh'(z) written wrong: the claim is what the chain rule gives with tanh'(z) = 1/cosh(z) = sech(z)")


# ---------------------------------------------------------------------------------------------------
# More slips of the trial with no hint: CrossEntropyLoss's backward with the sigmoid's derivative
# (`s * (1 - s) - Y` for `s - Y`), the logits or log s where s belongs ("not equal", no hint), and
# Conv1d's backward without the stride (Conv1d_stride1's backward of dLdZ itself: a shape hint only).


@pytest.mark.parametrize("written", ["log_softmax", "sg.cross_entropy"])
@pytest.mark.parametrize("slip, named", [
    ("s * (1 - s) - Y", "sigmoid's derivative for softmax + cross-entropy: the claim is the gradient with "
                        "softmax(A) ⊙ (1 − softmax(A)) where softmax(A) belongs"),
    ("A - Y", "softmax left out of the cross-entropy's backward: the claim is the gradient with A itself "
              "where softmax(A) belongs"),
    ("np.log(s) - Y", "log of the softmax in the cross-entropy's backward: the claim is the gradient with "
                      "log_softmax(A) where softmax(A) belongs")], ids=["sigmoid's derivative", "no softmax", "log s"])
def test_a_cross_entropy_backward_with_something_else_for_the_softmax_is_named(written, slip, named):
    f, A = _cross_entropy()         # the right backward (ce_backward) is torch's: the first test above
    if written == "sg.cross_entropy":
        f = sg.cross_entropy(A, sg.tensor("Y", (N, 4)))
    stand_in = {"s * (1 - s) - Y": lambda A: _softmax(A) * (1 - _softmax(A)), "A - Y": lambda A: A,
                "np.log(s) - Y": lambda A: np.log(_softmax(A))}[slip]
    wrong(sg.check_backward(f, A, lambda dout, A, Y: (stand_in(A) - Y) / A.shape[0]), named)


def conv1d_backward_without_the_stride(dLdZ, A, W):
    """Conv1d.backward calling Conv1d_stride1's backward on dLdZ itself (11-785's loops over K)."""
    from numpy.lib.stride_tricks import sliding_window_view as windows
    k, w_out = W.shape[2], dLdZ.shape[2]
    dLdW = np.stack([np.einsum("nit,not->oi", A[:, :, j:j + w_out], dLdZ) for j in range(k)], axis=2)
    padded = np.pad(dLdZ, ((0, 0), (0, 0), (k - 1, k - 1)))
    return np.einsum("notk,oik->nit", windows(padded, k, axis=2), W[:, :, ::-1]), dLdW


def test_a_conv1d_backward_without_the_stride_is_named():
    A, W = sg.tensor("A", (N, 2, 8)), sg.tensor("W", (3, 2, 3))
    out = sg.conv1d(A, W, stride=2)     # the right backward (conv1d_backward) is torch's: test above
    r = wrong(sg.check_backward(out, [A, W], conv1d_backward_without_the_stride),
              "stride missing in the backward: the claim has shape (4, 2, 5), but ∂f/∂A must have A's shape")
    assert "the forward's stride 2 is missing" in r.hint and "zeros between the entries" in r.hint
    wrong(sg.check_backward(out, W, lambda d, A, W: conv1d_backward_without_the_stride(d, A, W)[1]),
          "stride ignored in the backward")


# ---------------------------------------------------------------------------------------------------
# ConvTranspose1d (HW2P1): Upsample1d (zeros between the entries) then Conv1d_stride1. Upsample1d's
# backward reading the odd entries (a shape hint only), or summing each pair as np.repeat's backward
# would ("not equal", no hint). Declared both ways docs/checking.md gives.

WA, KW = 5, 3


def conv_transpose1d_backward(dLdZ, A, W, slip=None):
    up = np.zeros(A.shape[:2] + (2 * A.shape[2] - 1,))
    up[:, :, ::2] = A                                          # Upsample1d.forward, k = 2
    d_up, dLdW = conv1d_backward_without_the_stride(dLdZ, up, W)   # Conv1d_stride1.backward
    if slip == "odd entries":
        return d_up[:, :, 1::2], dLdW
    if slip == "pairs summed":
        return np.pad(d_up, ((0, 0), (0, 0), (0, 1))).reshape(A.shape + (2,)).sum(axis=3), dLdW
    return d_up[:, :, ::2], dLdW


def _conv_transpose1d(written):
    A, W = sg.tensor("A", (N, 2, WA)), sg.tensor("W", (3, 2, KW))
    if written == "upsample then conv1d":
        up = sg.stack([A, 0 * A], axis=3).reshape(N, 2, 2 * WA)[:, :, :2 * WA - 1]
        return sg.conv1d(up, W), [A, W]
    return sg.conv_transpose1d(A, sg.flip(W, axis=2).transpose(1, 0, 2), stride=2, padding=KW - 1), [A, W]


def test_the_right_conv_transpose1d_backward_is_torchs():
    rng = np.random.default_rng(15)
    arrays = {"A": rng.normal(size=(5, 2, WA)), "W": rng.normal(size=(3, 2, KW))}
    assert_torch_agrees(lambda A, W: torch.nn.functional.conv_transpose1d(A, W.flip(2).transpose(0, 1), stride=2,
                                                                          padding=KW - 1),
                        conv_transpose1d_backward, arrays, rng.normal(size=(5, 3, 2 * WA - KW)), ["A", "W"])


@pytest.mark.parametrize("written", ["upsample then conv1d", "sg.conv_transpose1d"])
@pytest.mark.parametrize("slip, named", [
    ("odd entries", "upsample backward reads the wrong entries: the claim has shape (4, 2, 4), but ∂f/∂A must "
                    "have A's shape (4, 2, 5); the claim is dLdZ[:, :, 1::2]"),
    ("pairs summed", "upsample backward sums neighbours: the claim gives each entry of dA the sum of 2 "
                     "neighbouring entries of dLdZ")], ids=["odd entries", "pairs summed"])
def test_a_conv_transpose1d_upsample_backward_slip_is_named(written, slip, named):
    out, wrt = _conv_transpose1d(written)
    assert sg.check_backward(out, wrt, conv_transpose1d_backward).verdict == "equal"
    r = wrong(sg.check_backward(out, wrt, lambda *a, **k: conv_transpose1d_backward(*a, **k, slip=slip)), named)
    assert "dLdA = dLdZ[:, :, ::2]" in r.hint


def test_rnn_cell_weights_averaged_over_the_batch_as_11_785_does_says_what_to_compare():
    """HW3P1's RNNCell backward divides dW_ih, dW_hh, db by batch_size (dx not): against Σ out ⊙ dout
    that is 1/N, and the hint said only "a mean where there is a sum" — the right dx shows it is the
    course's average, and N·dW is what to compare."""
    def averaged(delta, x, h_prev, W_ih, W_hh, b_ih, b_hh):
        dx, dh, dW_ih, dW_hh, db_ih, db_hh = rnn_cell_backward(delta, x, h_prev, W_ih, W_hh, b_ih, b_hh)
        n = x.shape[0]
        return dx, dh, dW_ih / n, dW_hh / n, db_ih / n, db_hh / n
    out, wrt = rnn_cell("h_prev", D, H)
    r = wrong(sg.check_backward(out, wrt, averaged), "constant factor: the claims for W_ih, W_hh, b_ih and b_hh are 1/4 times their gradients — 1/N")
    assert "dx is right and every parameter's gradient is 1/N of its sum, so if your course averages" in r.hint
    assert "compare N·dW_ih instead" in r.hint


def test_one_parameter_gradient_averaged_is_a_slip_not_the_courses_convention():
    """cs231n's batchnorm with dgamma = (dout * xhat).mean(0): dbeta is summed, so this is no course's
    average, and the hint does not say it might be."""
    x, gamma, beta = sg.tensor("x", (N, 3)), sg.tensor("gamma", (3,)), sg.tensor("beta", (3,))
    out = gamma * (x - x.mean(axis=0)) / sp.sqrt(x.var(axis=0) + 1e-5) + beta

    def backward(dout, x, gamma, beta):
        std = np.sqrt(x.var(axis=0) + 1e-5)
        xhat = (x - x.mean(axis=0)) / std
        dxhat, n = dout * gamma, x.shape[0]
        dx = (n * dxhat - dxhat.sum(axis=0) - xhat * (dxhat * xhat).sum(axis=0)) / (n * std)
        return dx, (dout * xhat).mean(axis=0), dout.sum(axis=0)
    r = wrong(sg.check_backward(out, [x, gamma, beta], backward), "constant factor: the claim for gamma is 1/4 times")
    assert "a mean where there is a sum" in r.hint and "your course" not in r.hint
