"""GRU and RNN cells in torch's and d2l's layout (batch-first rows, h @ W.T or H @ W_hh), the way a
d2l.ai "from scratch" student writes their backward: each right one is compared with torch.autograd
first and reads "equal"; each slip gets a hint that names it in that layout. The placement hint knew
11-785's Wnh @ h only (torch's and d2l's slips had no hint), a GRU's dh without d * z got the
generic fan-out text, and a transposed dW was told the slides' column rule δ·yᵀ."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import symgrad as sg

from check_corpus import rnn_cell
from verdicts import N, assert_torch_agrees, check_slip, wrong

D, H = 2, 3                                  # check_corpus.rnn_cell's sizes too
TORCH_W = ["W_ir", "W_iz", "W_in", "W_hr", "W_hz", "W_hn"]
TORCH_B = ["b_ir", "b_iz", "b_in", "b_hr", "b_hz", "b_hn"]
D2L_W = ["W_xz", "W_hz", "W_xr", "W_hr", "W_xh", "W_hh"]
D2L_B = ["b_z", "b_r", "b_h"]


def sig(a):
    return 1 / (1 + np.exp(-a))


def torch_gru():
    """torch.nn.GRUCell's equations on rows: n = tanh(x @ W_in.T + b_in + r * (h @ W_hn.T + b_hn))."""
    x, h = sg.tensor("x", (N, D)), sg.tensor("h", (N, H))
    W = {k: sg.tensor(k, (H, D if k[2] == "i" else H)) for k in TORCH_W}
    b = {k: sg.tensor(k, (H,)) for k in TORCH_B}
    r = sg.sigmoid(x @ W["W_ir"].T + b["b_ir"] + h @ W["W_hr"].T + b["b_hr"])
    z = sg.sigmoid(x @ W["W_iz"].T + b["b_iz"] + h @ W["W_hz"].T + b["b_hz"])
    n = sg.tanh(x @ W["W_in"].T + b["b_in"] + r * (h @ W["W_hn"].T + b["b_hn"]))
    return (1 - z) * n + z * h, [x, h] + list(W.values()) + list(b.values())


def torch_gru_backward(dout, x, h, W_ir, W_iz, W_in, W_hr, W_hz, W_hn, b_ir, b_iz, b_in, b_hr, b_hz, b_hn,
                       slip=None):
    r = sig(x @ W_ir.T + b_ir + h @ W_hr.T + b_hr)
    z = sig(x @ W_iz.T + b_iz + h @ W_hz.T + b_hz)
    hn = h @ W_hn.T + b_hn
    n = np.tanh(x @ W_in.T + b_in + r * hn)
    dn = dout * (z if slip == "z for 1 - z" else 1 - z) * (1 - n ** 2)
    dz = dout * (h - n) * z * (1 - z)
    dhn = dn * r                                   # r multiplies the product's sum
    dr = dn * hn * r * (1 - r)
    dW_hn = {"dW_hn = dn.T @ (r * h)": dn.T @ (r * h), "dW_hn = h.T @ dhn": h.T @ dhn}.get(slip, dhn.T @ h)
    dh_n = r * (dn @ W_hn) if slip == "dh = r * (dn @ W_hn)" else dhn @ W_hn
    g = dict(x=dn @ W_in + dz @ W_iz + dr @ W_ir,
             h=(0 if slip == "dh without dout * z" else dout * z) + dh_n + dz @ W_hz + dr @ W_hr,
             W_ir=dr.T @ x, W_iz=dz.T @ x, W_in=dn.T @ x, W_hr=dr.T @ h, W_hz=dz.T @ h, W_hn=dW_hn,
             b_ir=dr.sum(0), b_iz=dz.sum(0), b_in=dn.sum(1) if slip == "db_in over axis 1" else dn.sum(0),
             b_hr=dr.sum(0), b_hz=dz.sum(0), b_hn=dhn.sum(0))
    return tuple(g.values())


def d2l_gru():
    """d2l's gru (chapter "GRU from scratch"): H̃ = tanh(X @ W_xh + (R * H) @ W_hh + b_h), R on H first."""
    X, Hs = sg.tensor("X", (N, D)), sg.tensor("H", (N, H))
    W = {k: sg.tensor(k, (D if k[2] == "x" else H, H)) for k in D2L_W}
    b = {k: sg.tensor(k, (H,)) for k in D2L_B}
    Z = sg.sigmoid(X @ W["W_xz"] + Hs @ W["W_hz"] + b["b_z"])
    R = sg.sigmoid(X @ W["W_xr"] + Hs @ W["W_hr"] + b["b_r"])
    Ht = sg.tanh(X @ W["W_xh"] + (R * Hs) @ W["W_hh"] + b["b_h"])
    return Z * Hs + (1 - Z) * Ht, [X, Hs] + list(W.values()) + list(b.values())


def d2l_gru_backward(dout, X, H, W_xz, W_hz, W_xr, W_hr, W_xh, W_hh, b_z, b_r, b_h, slip=None):
    Z = sig(X @ W_xz + H @ W_hz + b_z)
    R = sig(X @ W_xr + H @ W_hr + b_r)
    Ht = np.tanh(X @ W_xh + (R * H) @ W_hh + b_h)
    dHt = dout * (Z if slip == "z for 1 - z" else 1 - Z) * (1 - Ht ** 2)
    dZ = dout * (H - Ht) * Z * (1 - Z)
    dRH = dHt @ W_hh.T
    dR = dRH * H * R * (1 - R)
    dW_hh = {"dW_hh = H.T @ (dHt * R)": H.T @ (dHt * R), "dW_hh = dHt.T @ (R * H)": dHt.T @ (R * H)}.get(
        slip, (R * H).T @ dHt)
    via_hh = (dHt * R) @ W_hh.T if slip == "dH through (dHt * R) @ W_hh.T" else dRH * R
    dH = (0 if slip == "dH without dout * Z" else dout * Z) + via_hh + dZ @ W_hz.T + dR @ W_hr.T
    g = dict(X=dHt @ W_xh.T + dZ @ W_xz.T + dR @ W_xr.T, H=dH,
             W_xz=X.T @ dZ, W_hz=H.T @ dZ, W_xr=X.T @ dR, W_hr=H.T @ dR, W_xh=X.T @ dHt, W_hh=dW_hh,
             b_z=dZ.sum(0), b_r=dR.sum(0), b_h=dHt.sum(1) if slip == "db_h over axis 1" else dHt.sum(0))
    return tuple(g.values())


def _arrays(rng, names_shapes):
    return {k: rng.normal(size=s) for k, s in names_shapes}


def test_the_right_torch_layout_gru_backward_is_torchs_own_cell_and_equal():
    rng = np.random.default_rng(0)
    arrays = _arrays(rng, [("x", (4, D)), ("h", (4, H))] + [(k, (H, D if k[2] == "i" else H)) for k in TORCH_W]
                     + [(k, (H,)) for k in TORCH_B])

    def cell(x, h, W_ir, W_iz, W_in, W_hr, W_hz, W_hn, b_ir, b_iz, b_in, b_hr, b_hz, b_hn):
        c = torch.nn.GRUCell(D, H, dtype=torch.float64)       # torch's cell: its weights' rows are r, z, n
        p = {"weight_ih": torch.cat([W_ir, W_iz, W_in]), "weight_hh": torch.cat([W_hr, W_hz, W_hn]),
             "bias_ih": torch.cat([b_ir, b_iz, b_in]), "bias_hh": torch.cat([b_hr, b_hz, b_hn])}
        return torch.func.functional_call(c, p, (x, h))
    dout = rng.normal(size=(4, H))
    assert_torch_agrees(cell, torch_gru_backward, arrays, dout)
    out, wrt = torch_gru()
    assert sg.check_backward(out, wrt, torch_gru_backward).verdict == "equal"


def test_the_right_d2l_gru_backward_is_torch_autograds_and_equal():
    rng = np.random.default_rng(1)
    arrays = _arrays(rng, [("X", (4, D)), ("H", (4, H))] + [(k, (D if k[2] == "x" else H, H)) for k in D2L_W]
                     + [(k, (H,)) for k in D2L_B])

    def cell(X, H, W_xz, W_hz, W_xr, W_hr, W_xh, W_hh, b_z, b_r, b_h):
        Z = torch.sigmoid(X @ W_xz + H @ W_hz + b_z)
        R = torch.sigmoid(X @ W_xr + H @ W_hr + b_r)
        return Z * H + (1 - Z) * torch.tanh(X @ W_xh + (R * H) @ W_hh + b_h)
    dout = rng.normal(size=(4, H))
    assert_torch_agrees(cell, d2l_gru_backward, arrays, dout)
    out, wrt = d2l_gru()
    assert sg.check_backward(out, wrt, d2l_gru_backward).verdict == "equal"


TORCH_SLIPS = [
    ("dW_hn = dn.T @ (r * h)", "gate on the wrong side of the product: the claim for W_hn",
     "dW_hn with d.T @ (r * h) where (d * r).T @ h belongs"),
    ("dh = r * (dn @ W_hn)", "gate on the wrong side of the product: the claim for h",
     "dh with r * (d @ W_hn) where (d * r) @ W_hn belongs"),
    ("dh without dout * z", "fan-out: the claim for h leaves out h's direct path to the new state through the "
     "update gate z", "dh = d * z + …"),
    ("z for 1 - z", "gate factor", "(z and 1 − z swapped)"),
    ("dW_hn = h.T @ dhn", "transpose: the claim is the transpose of the gradient",
     "for z = x @ W_hn.T (torch's layout, rows of x), dW_hn = dz.T @ x, not x.T @ dz"),
    ("db_in over axis 1", "summed over the wrong axes: the claim for b_in", "db_in = da.sum(axis=0)"),
]


D2L_SLIPS = [
    ("dW_hh = H.T @ (dHt * R)", "gate on the wrong side of the product: the claim for W_hh",
     "dW_hh with H.T @ (d * r) where (r * H).T @ d belongs"),
    ("dH through (dHt * R) @ W_hh.T", "gate on the wrong side of the product: the claim for H",
     "dH with (d * r) @ W_hh.T where r * (d @ W_hh.T) belongs"),
    ("dH without dout * Z", "fan-out: the claim for H leaves out H's direct path to the new state", "dH = d * z + …"),
    ("z for 1 - z", "gate factor", "(z and 1 − z swapped)"),
    ("dW_hh = dHt.T @ (R * H)", "transpose: the claim is the transpose of the gradient",
     "for z = x @ W_hh, dW_hh = x.T @ dz, not dz.T @ x"),
    ("db_h over axis 1", "summed over the wrong axes: the claim for b_h", "db_h = da.sum(axis=0)"),
]

GRU_SLIPS = ([(torch_gru, torch_gru_backward, *s) for s in TORCH_SLIPS]
             + [(d2l_gru, d2l_gru_backward, *s) for s in D2L_SLIPS])


@pytest.mark.parametrize("model, backward, slip, starts, names", GRU_SLIPS,
                         ids=[f"{m.__name__}: {s}" for m, _, s, *_ in GRU_SLIPS])
def test_a_gru_slip_is_named_in_its_layout(model, backward, slip, starts, names):
    r = wrong(check_slip(model, backward, slip), starts)
    assert names in r.hint, r.hint


def test_the_11785_placement_hint_keeps_its_column_words():
    from check_corpus import gru_cell, gru_cell_backward
    r = wrong(check_slip(gru_cell, gru_cell_backward, "r * (Wnh.T @ dn)"),
              "gate on the wrong side of the product: the claim for h")
    assert "dh with r * (Wnh.T @ d) where Wnh.T @ (r * d) belongs" in r.hint, r.hint
    r = wrong(check_slip(gru_cell, gru_cell_backward, "dh without delta * z"),
              "fan-out: the claim for h leaves out h's direct path")
    assert "11-785's dh = delta * z" in r.hint


def rnn_cell_backward(dout, x, h, W_ih, W_hh, b_ih, b_hh, slip=None):
    d = dout * (1 - np.tanh(x @ W_ih.T + b_ih + h @ W_hh.T + b_hh) ** 2)
    return (d @ W_ih, d @ (W_hh.T if slip == "dh = d @ W_hh.T" else W_hh),
            x.T @ d if slip == "dW_ih = x.T @ d" else d.T @ x, h.T @ d if slip == "dW_hh = h.T @ d" else d.T @ h,
            d.sum(0), d.sum(0))


def test_the_right_torch_layout_rnn_cell_backward_is_torchs_and_equal():
    rng = np.random.default_rng(2)
    arrays = _arrays(rng, [("x", (4, D)), ("h", (4, H)), ("W_ih", (H, D)), ("W_hh", (H, H)), ("b_ih", (H,)),
                           ("b_hh", (H,))])

    def cell(x, h, W_ih, W_hh, b_ih, b_hh):
        c = torch.nn.RNNCell(D, H, dtype=torch.float64)
        return torch.func.functional_call(c, {"weight_ih": W_ih, "weight_hh": W_hh, "bias_ih": b_ih,
                                              "bias_hh": b_hh}, (x, h))
    dout = rng.normal(size=(4, H))
    assert_torch_agrees(cell, rnn_cell_backward, arrays, dout)
    out, wrt = rnn_cell()
    assert sg.check_backward(out, wrt, rnn_cell_backward).verdict == "equal"


@pytest.mark.parametrize("slip, named", [
    ("dW_ih = x.T @ d", "for z = x @ W_ih.T (torch's layout, rows of x), dW_ih = dz.T @ x, not x.T @ dz"),
    ("dW_hh = h.T @ d", "for z = x @ W_hh.T (torch's layout, rows of x), dW_hh = dz.T @ x, not x.T @ dz"),
])
def test_a_transposed_weight_gradient_is_told_torchs_rule(slip, named):
    r = wrong(check_slip(rnn_cell, rnn_cell_backward, slip), "transpose")
    assert named in r.hint and "δ·yᵀ" not in r.hint, r.hint


def test_a_square_weight_used_untransposed_is_named_in_torchs_layout():
    wrong(check_slip(rnn_cell, rnn_cell_backward, "dh = d @ W_hh.T"),
          "transposed factor: dh multiplies by W_hh.T where W_hh belongs — h @ W_hh.T in the forward")


@pytest.mark.parametrize("model, backward", [(torch_gru, torch_gru_backward), (d2l_gru, d2l_gru_backward)],
                         ids=["torch", "d2l"])
def test_a_gru_gate_factor_hint_speaks_of_a_gru_only(model, backward):
    r = wrong(check_slip(model, backward, "z for 1 - z"), "gate factor")
    assert "in torch's and d2l's rows dH_tilde = dout * (1 - Z)" in r.hint and "LSTM" not in r.hint, r.hint
