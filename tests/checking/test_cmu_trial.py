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

from verdicts import N, wrong


def torch_grads(forward, arrays: dict, dout, names):
    """torch.autograd's gradients of Σ forward(**arrays) ⊙ dout with respect to ``names``."""
    ts = {k: torch.tensor(v, requires_grad=k in names) for k, v in arrays.items()}
    forward(**ts).backward(torch.tensor(dout))
    return [ts[k].grad.numpy() for k in names]


def assert_torch_agrees(forward, backward, arrays, dout, names):
    for got, want in zip(backward(dout, **arrays), torch_grads(forward, arrays, dout, names)):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


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
