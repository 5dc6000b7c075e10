"""torch's Tensor methods that are other spellings of symgrad's (2026-11-30, eighth session; before,
AttributeErrors): each applied as torch code applies it, its value and its gradient (of Σ f(x) ⊙ c)
against torch's in float64."""
from __future__ import annotations

import numpy as np
import pytest

import symgrad as sg

torch = pytest.importorskip("torch")
S = (2, 3, 4)
x, y = sg.tensor("x", S), sg.tensor("y", S)
i = sg.tensor("i", (2,), integer=True)
IDX = np.array([2, 0])

CASES = {
    "clone": (lambda x, y: x.clone(), lambda x, y: x.clone()),
    "to": (lambda x, y: x.to("cpu").to(dtype="torch.float64"), lambda x, y: x.to("cpu").to(torch.float64)),
    "add_alpha": (lambda x, y: x.add(y, alpha=2), lambda x, y: x.add(y, alpha=2)),
    "sub_mul_div": (lambda x, y: x.sub(y).mul(y).div(y.exp()), lambda x, y: x.sub(y).mul(y).div(y.exp())),
    "neg_reciprocal": (lambda x, y: x.neg() + (x.exp() + 1).reciprocal(), lambda x, y: x.neg() + (x.exp() + 1).reciprocal()),
    "matmul_bmm": (lambda x, y: x.matmul(y.mT).bmm(x), lambda x, y: x.matmul(y.mT).bmm(x)),
    "maximum_minimum": (lambda x, y: x.maximum(y) + x.minimum(y * 2), lambda x, y: x.maximum(y) + x.minimum(y * 2)),
    "log1p_expm1": (lambda x, y: x.exp().log1p() + x.expm1(), lambda x, y: x.exp().log1p() + x.expm1()),
    "sin_cos_erf": (lambda x, y: x.sin() * x.cos() + x.erf(), lambda x, y: x.sin() * x.cos() + x.erf()),
    "view_as": (lambda x, y: x.reshape(6, 4).view_as(y) * y.reshape_as(x), lambda x, y: x.reshape(6, 4).view_as(y) * y.reshape_as(x)),
    "unflatten": (lambda x, y: x.unflatten(2, (2, 2)).sum(3), lambda x, y: x.unflatten(2, (2, 2)).sum(3)),
    "movedim": (lambda x, y: x.movedim(0, -1) * 2 + x.movedim((0, 2), (2, 0)).reshape(3, 4, 2),
                lambda x, y: x.movedim(0, -1) * 2 + x.movedim((0, 2), (2, 0)).reshape(3, 4, 2)),
    "narrow": (lambda x, y: x.narrow(2, 1, 2) ** 2, lambda x, y: x.narrow(2, 1, 2) ** 2),
    "flip": (lambda x, y: x.flip(1) * x.flip((0, 2)), lambda x, y: x.flip(1) * x.flip((0, 2))),
    "tril_triu": (lambda x, y: x.tril() + 2 * x.triu(1), lambda x, y: x.tril() + 2 * x.triu(1)),
    "index_select": (lambda x, y: x.index_select(2, i) ** 2, lambda x, y: x.index_select(2, torch.tensor(IDX)) ** 2),
    "outer": (lambda x, y: x[0, 0].outer(y[1, 1]), lambda x, y: x[0, 0].outer(y[1, 1])),
    "type_as": (lambda x, y: x.type_as(y) * 3, lambda x, y: x.type_as(y) * 3),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_value_and_gradient_are_torchs(name):
    ours, theirs = CASES[name]
    rng = np.random.default_rng(len(name))
    X, Y = rng.normal(size=S), rng.normal(size=S)
    out = ours(x, y)
    c = sg.tensor("c", out.shape)
    C = rng.normal(size=tuple(out.shape))
    vals = {"x": X, "y": Y, "c": C, "i": IDX}
    tx = torch.tensor(X, requires_grad=True)
    tout = theirs(tx, torch.tensor(Y))
    (tout * torch.tensor(C)).sum().backward()
    np.testing.assert_allclose(sg.numeric(out, vals), tout.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(sg.numeric(sg.grad(sg.sum(out * c), x), vals), tx.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_counts_and_refusals():
    assert x.dim() == 3 and x.numel() == 24 and x.argmin(1).shape == (2, 4)
    X = np.random.default_rng(0).normal(size=S)
    np.testing.assert_array_equal(sg.numeric(x.argmin(1), {"x": X}), torch.tensor(X).argmin(1).numpy())
    with pytest.raises(sg.ShapeError, match="torch's mm takes two matrices"):
        x.mm(y)
    with pytest.raises(sg.ArgumentError, match="rounding has no gradient"):
        x.div(y, rounding_mode="floor")
    with pytest.raises(sg.IntegerTensorError, match="rounding to integers has no gradient"):
        x.to("torch.int64")
    assert i.type_as(i) == i and x.type_as(i.float()) == x
