"""torch's keywords and names that a model copied from PyTorch uses, taken where they mean what
symgrad's do (2026-11-30, ninth session; each was an error, some Python's or SymPy's raw one):
``torch.cat(xs, dim=)`` / ``torch.stack(xs, dim=)``, ``F.normalize(x, dim=)``,
``F.cosine_similarity(a, b, dim=)``, ``x.argmax(dim=, keepdim=)`` (a raw TypeError),
``F.leaky_relu(x, negative_slope=)`` (SymPy's "Unknown options"), ``F.max_pool2d(x, kernel_size=2)``
(a raw TypeError), ``torch.flatten(x, 1)``."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symgrad as sg

torch = pytest.importorskip("torch")
F = torch.nn.functional
N = sp.Symbol("N", integer=True, positive=True)


def test_dim_of_cat_stack_normalize_cosine():
    a, b = sg.tensor("a", (N, 3)), sg.tensor("b", (N, 3))
    assert sg.concat([a, b], dim=1) == sg.concat([a, b], axis=1)
    assert sg.stack([a, b], dim=1) == sg.stack([a, b], axis=1)
    assert sg.normalize(a, dim=0) == sg.normalize(a, axis=0)
    assert sg.cosine_similarity(a, b, dim=-1) == sg.cosine_similarity(a, b, axis=-1)
    with pytest.raises(sg.ArgumentError, match="not both"):
        sg.stack([a, b], axis=1, dim=1)


def test_argmax_dim_keepdim_as_torch():
    rng = np.random.default_rng(0)
    z = sg.tensor("z", (4, 5))
    zv = rng.normal(size=(4, 5))
    i = z.argmax(dim=-1, keepdim=True)
    assert i.shape == (4, 1) and i.is_integer_tensor
    np.testing.assert_array_equal(sg.numeric(i, {"z": zv}), torch.tensor(zv).argmax(dim=-1, keepdim=True).numpy())
    np.testing.assert_array_equal(sg.numeric(z.argmax(dim=0), {"z": zv}), zv.argmax(axis=0))


def test_leaky_relu_negative_slope_and_pool_kernel_size_against_torch():
    rng = np.random.default_rng(1)
    x = sg.tensor("x", (2, 3, 4, 4))
    xv = rng.normal(size=(2, 3, 4, 4))
    out = sg.max_pool2d(sg.leaky_relu(x, negative_slope=0.2), kernel_size=2) \
        + sg.avg_pool2d(x, kernel_size=2, stride=2)
    xt = torch.tensor(xv, requires_grad=True)
    want = F.max_pool2d(F.leaky_relu(xt, negative_slope=0.2), kernel_size=2) + F.avg_pool2d(xt, kernel_size=2, stride=2)
    (want ** 2).sum().backward()
    np.testing.assert_allclose(sg.numeric(out, {"x": xv}), want.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(sg.numeric(sg.grad(sg.sum(out ** 2), x), {"x": xv}), xt.grad.numpy(), rtol=1e-10)
    assert sg.leaky_relu(x, 0.2) == sg.leaky_relu(x, negative_slope=0.2)
    with pytest.raises(sg.ArgumentError, match="not both"):
        sg.leaky_relu(x, 0.1, negative_slope=0.2)
    with pytest.raises(sg.ArgumentError, match="kernel size once"):
        sg.max_pool1d(sg.tensor("s", (2, 3, 8)), 2, kernel_size=2)
    assert sg.max_pool1d(sg.tensor("s", (2, 3, 8)), kernel_size=2).shape == (2, 3, 4)


def test_torch_flatten_and_the_names_told():
    x = sg.tensor("x", (N, 3, 2, 2))
    assert sg.flatten(x, 1) == x.reshape(N, 12)
    with pytest.raises(AttributeError, match="a @ b"):
        sg.bmm  # noqa: B018
    # sg.amax is jnp.amax (2026-12-01, twelfth session), torch's dim= too: a tie split evenly as torch's
    assert sg.amax(x, dim=1) == x.amax(dim=1)
