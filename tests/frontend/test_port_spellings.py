"""torch's and jax's spellings a port of today's models meets first (thirteenth session): each was a
TypeError, an AttributeError or a wrong kind of tensor. Values and gradients against torch / jax."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
import torch

import symgrad as sg

N = sp.Symbol("N", integer=True, positive=True)
E = sp.Symbol("E", integer=True, positive=True)
RNG = np.random.default_rng(7)


def test_rsqrt_of_tensors_and_scalars_as_torch():
    x = sg.tensor("x", (4,))
    X = RNG.uniform(0.5, 2.0, 4)
    tx = torch.tensor(X, requires_grad=True)
    torch.rsqrt(tx).sum().backward()
    np.testing.assert_allclose(sg.numeric(sg.rsqrt(x), {"x": X}), torch.rsqrt(torch.tensor(X)).numpy(), rtol=1e-14)
    np.testing.assert_allclose(sg.numeric(sg.grad(sg.rsqrt(x).sum(), x), {"x": X}), tx.grad.numpy(), rtol=1e-13)
    v = sp.Symbol("v", positive=True)
    assert sg.rsqrt(v) == 1 / sp.sqrt(v) and sg.rsqrt(x) == x.rsqrt()


@pytest.mark.parametrize("fn", ["tril", "triu"])
def test_tri_takes_torchs_diagonal_keyword(fn):
    s = sg.tensor("s", (4, 4))
    S = RNG.normal(size=(4, 4))
    got = sg.numeric(getattr(sg, fn)(s, diagonal=1), {"s": S})
    np.testing.assert_array_equal(got, getattr(torch, fn)(torch.tensor(S), diagonal=1).numpy())
    assert getattr(sg, fn)(s, diagonal=-1) == getattr(sg, fn)(s, -1)
    with pytest.raises(sg.ArgumentError, match="give the offset once"):
        getattr(sg, fn)(s, 1, diagonal=1)


def test_full_takes_torchs_fill_value_and_a_float_dtype():
    assert sg.full((2, 3), fill_value=-1.5, dtype=torch.float32) == sg.full((2, 3), -1.5)
    np.testing.assert_array_equal(sg.numeric(sg.full((2, 3), fill_value=2.0), {}), np.full((2, 3), 2.0))
    with pytest.raises(sg.ArgumentError, match="give the value once"):
        sg.full((2, 3))
    with pytest.raises(sg.ArgumentError, match="constants are real"):
        sg.full((2, 3), 1, dtype=torch.long)


def test_arange_takes_torchs_keywords():
    half = sg.arange(start=0, end=3, dtype=torch.float32)
    assert not half.is_integer_tensor and sg.arange(end=3, device="cpu").is_integer_tensor
    np.testing.assert_array_equal(sg.numeric(half, {}), [0.0, 1.0, 2.0])
    with pytest.raises(sg.ArgumentError, match="give the end once"):
        sg.arange(0, 3, end=4)
    with pytest.raises(sg.ArgumentError, match="dtype=torch.bool"):
        sg.arange(3, dtype=torch.bool)


def test_to_a_float_dtype_makes_an_integer_tensor_real():
    # t.to(torch.float32) of timesteps (a diffusion model): it stayed an integer tensor
    t = sg.tensor("t", (N,), integer=True)
    for dtype in (torch.float32, torch.float64, np.float64, "float32", float):
        assert not t.to(dtype).is_integer_tensor, dtype
    assert t.to("cpu").is_integer_tensor and t.to(torch.long).is_integer_tensor
    points = sg.tensor("points", (3,))             # a name holding "int" is no integer dtype
    assert sg.tensor("x", (3,)).to(points) == sg.tensor("x", (3,))


def test_numpy_and_torch_progressions_in_a_declaration_are_aranges():
    x = sg.tensor("x", (3,))
    assert x * torch.arange(0, 6, 2) == x * sg.arange(0, 6, 2)
    assert np.arange(5, 2, -1) + x == sg.arange(5, 2, -1) + x
    with pytest.raises(sg.UnsupportedError, match="shape \\(3,\\)"):
        x * np.array([3, 1, 4])                     # not a progression: still refused


def test_segment_sum_as_jax():
    jax = pytest.importorskip("jax")
    m, ids = sg.tensor("m", (E, 3)), sg.tensor("ids", (E,), integer=True)
    M, I = RNG.normal(size=(6, 3)), np.array([0, 2, 0, 1, 2, 2])
    s = sg.segment_sum(m, ids, num_segments=N, indices_are_sorted=False)
    np.testing.assert_allclose(sg.numeric(s, {"m": M, "ids": I, N: 4}),
                               np.asarray(jax.ops.segment_sum(M, I, 4)), rtol=1e-6)
    w = sg.tensor("w", (3,))
    g = sg.grad((sg.segment_sum(m * w, ids, 4) ** 2).sum(), w)
    tw, tm = torch.tensor(np.ones(3), requires_grad=True), torch.tensor(M)
    (torch.zeros(4, 3, dtype=torch.float64).index_add(0, torch.tensor(I), tm * tw) ** 2).sum().backward()
    np.testing.assert_allclose(sg.numeric(g, {"m": M, "ids": I, "w": np.ones(3)}), tw.grad.numpy(), rtol=1e-12)
    with pytest.raises(sg.ArgumentError, match="num_segments"):
        sg.segment_sum(m, ids)


@pytest.mark.parametrize("name", ["add_", "mul_", "masked_fill_", "clamp_", "relu_", "sigmoid_", "exp_", "transpose_"])
def test_in_place_methods_are_refused_naming_the_one_to_write(name):
    # scores.masked_fill_(mask, -inf), h.relu_(): "no attribute 'masked_fill_'" before
    x = sg.tensor("x", (3, 4))
    with pytest.raises(sg.ArgumentError, match=rf"x\.{name}\(\.\.\.\) changes x in place.*x\.{name[:-1]}\(\.\.\.\)"):
        getattr(x, name)(x > 0, 0.0) if name == "masked_fill_" else getattr(x, name)(1)


def test_torchs_chunk_and_split_as_functions():
    x = sg.tensor("x", (2, 7))
    X = RNG.normal(size=(2, 7))
    for got, want in [(sg.chunk(x, 3, dim=1), torch.chunk(torch.tensor(X), 3, dim=1)),
                      (sg.split(x, 3, dim=1), torch.split(torch.tensor(X), 3, dim=1))]:
        assert len(got) == len(want)
        for g, w in zip(got, want):
            np.testing.assert_array_equal(sg.numeric(g, {"x": X}), w.numpy())
    assert [p.shape for p in sg.split(x, [2, 5], axis=1)] == [(2, 2), (2, 3), (2, 2)]   # NumPy's, unchanged
