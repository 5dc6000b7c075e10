"""An embedding lookup W[ids] as a student reads its step: the rule says where each row of δ goes
(row k of ∇W sums the rows of δ whose id is k; a row looked up twice adds up, one never looked up
gets 0), not only "take (gather at integer indices)"; the numbers are torch.autograd's."""
import numpy as np
import pytest

import symgrad as sg

torch = pytest.importorskip("torch")


def _lookup():
    W, ids, g = sg.tensor("W", (5, 3)), sg.tensor("ids", (4,), integer=True), sg.tensor("g", (4, 3))
    rng = np.random.default_rng(0)
    at = {W: rng.normal(size=(5, 3)), ids: np.array([1, 3, 1, 0]), g: rng.normal(size=(4, 3))}
    return sg.derive(sg.sum(sg.tanh(sg.embedding(W, ids)) * g), [W], output_name="L", at=at), at, (W, ids, g)


def test_lookup_rule_says_rows_add_up():
    d, _, _ = _lookup()
    step = next(line for line in d.render("unicode").splitlines() if line.lstrip().startswith("∂L/∂W = δ"))
    assert "row k of ∇W is the sum of the rows of δ whose id is k" in step
    assert "looked up twice adds up" in step and "never looked up gets 0" in step
    assert "row k of grad W" in d.render("text")


def test_lookup_gradient_is_torchs():
    d, at, (W, ids, g) = _lookup()
    Wt = torch.tensor(at[W], requires_grad=True)
    y = torch.tanh(torch.nn.functional.embedding(torch.tensor(at[ids]), Wt)) * torch.tensor(at[g])
    y.sum().backward()
    np.testing.assert_allclose(np.asarray(d.values(at)["gradients"][0], dtype=float), Wt.grad.numpy(), rtol=1e-12, atol=1e-12)
    assert not Wt.grad.numpy()[[2, 4]].any()          # rows 2 and 4 are never looked up
