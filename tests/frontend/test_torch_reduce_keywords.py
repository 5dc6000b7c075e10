"""torch's dim= / keepdim= of sum and mean (2026-11-30, eighth session): RMSNorm as every Llama port
writes it, x.pow(2).mean(-1, keepdim=True), was an ArgumentError asking for NumPy's names, though
they mean the same there. var / std (torch's default correction differs) and max / min (torch's
x.max(dim=1) is a pair) still refuse dim=, each saying why and what to write."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symgrad as sg

N = sp.Symbol("N", integer=True, positive=True)
x = sg.tensor("x", (N, 3, 4))


@pytest.mark.parametrize("torch_form, numpy_form", [
    (lambda: x.pow(2).mean(-1, keepdim=True), lambda: (x ** 2).mean(axis=-1, keepdims=True)),
    (lambda: x.sum(dim=1), lambda: x.sum(axis=1)),
    (lambda: x.mean(dim=(1, 2), keepdim=True), lambda: x.mean(axis=(1, 2), keepdims=True)),
    (lambda: sg.sum(x, dim=0), lambda: sg.sum(x, axis=0)),
    (lambda: sg.mean(x, dim=-1, keepdim=False), lambda: sg.mean(x, axis=-1)),
])
def test_sum_and_mean_take_torchs_names(torch_form, numpy_form):
    assert torch_form() == numpy_form()


def test_their_values_are_torchs():
    torch = pytest.importorskip("torch")
    X = np.random.default_rng(0).normal(size=(2, 3, 4))
    T = torch.tensor(X)
    np.testing.assert_allclose(sg.numeric(x * (x.pow(2).mean(-1, keepdim=True) + 1e-6).rsqrt(), {"x": X}),
                               (T * torch.rsqrt(T.pow(2).mean(-1, keepdim=True) + 1e-6)).numpy(), rtol=1e-14)


@pytest.mark.parametrize("call, words", [
    (lambda: x.sum(axis=1, dim=1), "give axis= or torch's dim=, not both"),
    (lambda: x.mean(keepdims=True, keepdim=True), "give keepdims= or torch's keepdim=, not both"),
    (lambda: x.max(dim=1), "returns a pair (values, indices)"),
    (lambda: x.min(dim=1, keepdim=True), "x.amin(dim=1, keepdim=True)"),
    (lambda: x.var(dim=1), "correction=1"),
    (lambda: x.sum(dims=1), "did you mean 'dim'"),
])
def test_what_is_still_refused_says_why(call, words):
    with pytest.raises(sg.ArgumentError) as e:
        call()
    assert words in str(e.value)
