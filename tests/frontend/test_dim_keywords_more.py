"""torch's ``dim=`` (and ``keepdim=``) on the functions that took only NumPy's ``axis=`` (eleventh
session): ``sg.glu(x, dim=-1)`` and ``sg.cumsum(x, dim=1)`` were Python's bare TypeError,
``sg.norm(x, dim=1)`` an error asking for ``axis=`` though the method ``x.norm(dim=1)`` took it."""
import numpy as np
import pytest
import torch

import symgrad as sg

X = np.random.default_rng(0).normal(size=(3, 4))


@pytest.mark.parametrize("ours, theirs", [
    (lambda x: sg.glu(x, dim=-1), lambda t: torch.nn.functional.glu(t, dim=-1)),
    (lambda x: sg.glu(x), lambda t: torch.nn.functional.glu(t)),
    (lambda x: sg.cumsum(x, dim=1), lambda t: torch.cumsum(t, dim=1)),
    (lambda x: sg.norm(x, dim=1, keepdim=True), lambda t: torch.norm(t, dim=1, keepdim=True)),
    (lambda x: sg.norm(x, p=1, dim=0), lambda t: torch.norm(t, p=1, dim=0)),
])
def test_torchs_dim_means_the_axis(ours, theirs):
    x, w = sg.tensor("x", X.shape), sg.tensor("w", X.shape)
    t = torch.tensor(X, requires_grad=True)
    want = theirs(t)
    want.sum().backward()
    e = ours(x)
    np.testing.assert_allclose(np.asarray(sg.numeric(e, {x: X}), dtype=float), want.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(sg.numeric(sg.grad(e.sum(), x), {x: X}), dtype=float), t.grad.numpy(),
                               rtol=1e-10)


@pytest.mark.parametrize("call", [lambda x: sg.glu(x, 1, dim=1), lambda x: sg.cumsum(x, 1, dim=1),
                                  lambda x: sg.norm(x, 2, 1, dim=1)])
def test_axis_and_dim_both_is_an_error(call):
    with pytest.raises(sg.ArgumentError, match="not both"):
        call(sg.tensor("x", X.shape))


@pytest.mark.parametrize("call", [lambda x: sg.cumsum(x, 1, dim=0), lambda x: x.sum(axis=1, dim=0),
                                  lambda x: sg.norm(x, 2, 1, dim=0)])
def test_axis_and_dim_both_names_the_two_values(call):
    """One check for cumsum, sum and norm (torch_reduce_names): the message shows what was given."""
    with pytest.raises(sg.ArgumentError, match=r"not both \(got axis=1 and dim=0\)"):
        call(sg.tensor("x", X.shape))
