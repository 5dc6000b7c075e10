"""A claim that differentiates through a stop_gradient is named as such — not "constant factor: 3
times the gradient" (what the factor hint said for w·sg(w²) claimed 3w²). The truth here is
torch's: the gradient with .detach() in place of stop_gradient."""
from __future__ import annotations

import numpy as np
import sympy as sp
import torch

import symgrad as sg
from symgrad import cli

N = sp.Symbol("N", integer=True, positive=True)


def test_a_scalar_claim_through_the_stop_gradient_is_named():
    w = sp.Symbol("w", real=True)
    r = sg.check(w * sg.stop_gradient(w ** 2), w, 3 * w ** 2)
    assert r.verdict == "not equal"
    assert r.hint.startswith("through stop_gradient: the claim is the gradient of f with its "
                             "stop_gradient taken out (stop_gradient(w**2))"), r.hint
    # torch agrees on the truth: d/dw (w · (w²).detach()) = w²
    tw = torch.tensor(0.7, dtype=torch.float64, requires_grad=True)
    (tw * (tw ** 2).detach()).backward()
    assert sg.check(w * sg.stop_gradient(w ** 2), w, w ** 2, at={w: 0.7}).verdict == "equal"
    assert abs(tw.grad.item() - 0.7 ** 2) < 1e-15


def test_another_factor_is_still_a_factor():
    w = sp.Symbol("w", real=True)
    r = sg.check(w * sg.stop_gradient(w ** 2), w, 6 * w ** 2)
    assert r.hint.startswith("constant factor"), r.hint


def test_a_layer_backward_through_detach_is_named():
    x = sg.tensor("x", (N, 3))
    out = x * x.detach()
    r = sg.check_backward(out, [x], lambda dout, x: 2 * dout * x)
    assert r.verdict == "not equal" and r.hint.startswith("through stop_gradient"), r.hint
    # the right backward, as torch computes it
    xv = np.random.default_rng(0).normal(size=(4, 3))
    t = torch.tensor(xv, requires_grad=True)
    d = torch.ones(4, 3, dtype=torch.float64)
    (t * t.detach()).backward(d)
    np.testing.assert_allclose(t.grad.numpy(), xv)
    assert sg.check_backward(out, [x], lambda dout, x: dout * x).verdict == "equal"


def test_the_command_line_names_it(capsys):
    code = cli.main(["check", "w*stop_gradient(w**2)", "--wrt", "w", "--claimed", "3*w**2"])
    out = capsys.readouterr().out
    assert code == 1 and "through stop_gradient" in out
