"""A parameter whose derivative is zero is not a parameter without a gradient. torch's autograd
gives ``torch.sign(u)`` a zero ``.grad`` (the optimizer decays u) but gives None to a parameter read
only in a comparison — ``(u > 0)`` as a step, the condition of ``torch.where`` — or through
``.detach()`` (the optimizer skips u). The compiled step decides by the same paths, not by the value
of the derivative (reverse mode's is None for sign(u): identically zero). Compared with
torch.optim in float64; the warning names only the skipped ones."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symgrad as sg

torch = pytest.importorskip("torch")
w, a, h, c, s, u, x = sp.symbols("w a h c s u x", real=True)
# a: only through sign (zero derivative, decayed); h: only in a Heaviside step; c: only in a Piecewise
# condition; s: only through stop_gradient; u: not used (h, c, s, u: no .grad in torch, skipped)
LOSS = (w * x + sp.sign(a) * x + sp.Heaviside(h) * x + sp.Piecewise((w * x, c > 0), (2 * w * x, True))
        + sg.stop_gradient(s) * x)
PARAMS = [w, a, h, c, s, u]
START = {"w": 0.5, "a": 2.0, "h": 1.5, "c": -0.7, "s": -1.5, "u": 3.0}


def _torch_loss(t, X):
    return (t["w"] * X + torch.sign(t["a"]) * X + (t["h"] > 0).to(X.dtype) * X
            + torch.where(t["c"] > 0, t["w"] * X, 2 * t["w"] * X) + t["s"].detach() * X).mean()


@pytest.mark.parametrize("make, torch_make", [
    (lambda: sg.optim.AdamW(lr=0.1, weight_decay=0.5),
     lambda ps: torch.optim.AdamW(ps, lr=0.1, weight_decay=0.5)),
    (lambda: sg.optim.SGD(lr=0.1, momentum=0.9, weight_decay=0.2),
     lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.2)),
])
def test_a_zero_derivative_is_a_gradient_and_a_comparison_is_none_as_in_torch(make, torch_make):
    with pytest.warns(sg.optim.NoGradientWarning) as rec:
        prog = sg.compile(LOSS, PARAMS, [x], dtype="float64", optimizer=make())
    words = " ".join(str(r.message) for r in rec)
    assert "parameters 'h', 'c', 's', 'u' get no gradient" in words, words
    assert "'a'" not in words and "'w'" not in words
    assert "p1 (the parameter 'a') gets no gradient" not in prog.source
    data = {"x": np.random.default_rng(0).normal(size=8)}
    vals = {k: np.array(v) for k, v in START.items()}
    state = prog.init_state(vals)
    t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in START.items()}
    opt = torch_make([t[p.name] for p in PARAMS])
    for _ in range(3):
        vals, state = prog.step(vals, state, data)
        opt.zero_grad()
        _torch_loss(t, torch.tensor(data["x"])).backward()
        assert t["a"].grad.item() == 0.0
        assert all(t[k].grad is None for k in "hcsu")
        opt.step()
    for k in START:
        np.testing.assert_allclose(vals[k], t[k].detach().numpy(), rtol=1e-12, atol=1e-14, err_msg=k)
    assert abs(vals["a"]) < START["a"]                          # zero gradient: decayed
    assert all(vals[k] == START[k] for k in "hcsu")             # no gradient: not even decayed
    np.testing.assert_array_equal(prog.grad(vals, data)["a"], 0.0)      # the gradient itself: zero


def test_a_tensor_reached_only_through_sign_is_decayed_as_in_torch():
    N = sp.Symbol("N", integer=True, positive=True)
    X, W, V = sg.tensor("x", (N, 3)), sg.tensor("W", (3, 2)), sg.tensor("V", (3, 2))
    loss = sg.mean(((X @ W) * sp.sign(X @ V)).sum(axis=1))
    prog = sg.compile(loss, [W, V], [X], dtype="float64", optimizer=sg.optim.AdamW(lr=0.1, weight_decay=0.5))
    rng = np.random.default_rng(2)
    start = {"W": rng.normal(size=(3, 2)), "V": rng.normal(size=(3, 2))}
    data = {"x": rng.normal(size=(5, 3))}
    vals = {k: v.copy() for k, v in start.items()}         # the step updates them in place
    state = prog.init_state(vals)
    vals, state = prog.step(vals, state, data)
    t = {k: torch.tensor(v, requires_grad=True) for k, v in start.items()}
    opt = torch.optim.AdamW([t["W"], t["V"]], lr=0.1, weight_decay=0.5)
    xx = torch.tensor(data["x"])
    ((xx @ t["W"]) * torch.sign(xx @ t["V"])).sum(dim=1).mean().backward()
    assert t["V"].grad is not None and not t["V"].grad.any()
    opt.step()
    for k in start:
        np.testing.assert_allclose(vals[k], t[k].detach().numpy(), rtol=1e-12, atol=1e-14, err_msg=k)
    assert not np.allclose(vals["V"], start["V"])
