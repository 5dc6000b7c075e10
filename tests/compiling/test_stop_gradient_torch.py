"""Compiled NumPy programs with stop_gradient / .detach(), against torch.autograd with .detach() in
float64: the loss, Program.grad, and training steps of torch's optimizers. The models are the ones
that need a stop-gradient: a straight-through estimator, VQ-VAE's two losses, a DQN TD loss with a
target network, nn.Embedding(padding_idx=)."""
from __future__ import annotations


import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from tests.stop_gradient_models import dqn, vq_vae

torch = pytest.importorskip("torch")
F = torch.nn.functional
N = sp.Symbol("N", integer=True, positive=True)
B = 6


def _t(a, grad=False):
    return torch.tensor(np.asarray(a, dtype=float), dtype=torch.float64, requires_grad=grad)


def _compare(prog, vals, data, torch_loss, steps=0, torch_opt=None, rtol=1e-10):
    """The loss and gradients of ``prog`` at ``vals`` against ``torch_loss(params, data)``, then
    ``steps`` steps of the compiled optimizer against ``torch_opt(list of params)``."""
    tp = {k: _t(v, True) for k, v in vals.items()}
    loss = torch_loss(tp, data)
    loss.backward()
    assert prog.loss(vals, data) == pytest.approx(loss.item(), rel=1e-12)
    got = prog.grad(vals, data)
    for k, p in tp.items():
        want = np.zeros(p.shape) if p.grad is None else p.grad.numpy()
        np.testing.assert_allclose(got[k], want, rtol=rtol, atol=1e-12, err_msg=k)
    if not steps:
        return
    tp = {k: _t(v, True) for k, v in vals.items()}
    opt = torch_opt(list(tp.values()))
    state = prog.init_state(vals)
    for _ in range(steps):
        vals, state = prog.step(vals, state, data)
        opt.zero_grad()
        torch_loss(tp, data).backward()
        opt.step()
    for k in vals:
        np.testing.assert_allclose(vals[k], tp[k].detach().numpy(), rtol=rtol, atol=1e-12, err_msg=k)


def test_straight_through_estimator_per_example_scalars():
    w, b, x, y = sp.symbols("w b x y", real=True)
    z = w * x + b
    hard = z + sg.stop_gradient(sp.sign(z) - z)          # forward: sign(z); backward: identity
    prog = sg.compile((hard - y) ** 2, [w, b], [x, y], dtype="float64",
                      optimizer=sg.optim.SGD(lr=0.1, momentum=0.9))
    code = [ln.split("#")[0] for ln in prog.source.splitlines()]    # (the comments quote the declaration)
    assert not any("stop_gradient" in ln for ln in code) and "numpy.sign" in prog.source
    rng = np.random.default_rng(0)
    data = {"x": rng.normal(size=B), "y": rng.normal(size=B)}

    def tl(p, d):
        zz = p["w"] * _t(d["x"]) + p["b"]
        return ((zz + (torch.sign(zz) - zz).detach() - _t(d["y"])) ** 2).mean()
    _compare(prog, {"w": np.array(0.7), "b": np.array(-0.2)}, data, tl, steps=3,
             torch_opt=lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9))


def test_straight_through_binarized_layer_over_the_batch():
    D, K = 4, 3
    x, y = sg.tensor("x", (N, D)), sg.tensor("y", (N, 1))
    W, b, V = sg.tensor("W", (D, K)), sg.tensor("b", (K,)), sg.tensor("V", (K, 1))
    soft = sg.sigmoid(x @ W + b)
    hard = sg.where(soft > 0.5, 1, 0)
    q = (hard - soft).detach() + soft                     # torch's spelling
    prog = sg.compile(((q @ V - y) ** 2).mean(), [W, b, V], [x, y], dtype="float64",
                      optimizer=sg.optim.Adam(lr=0.05))
    rng = np.random.default_rng(1)
    vals = {"W": rng.normal(size=(D, K)), "b": rng.normal(size=K), "V": rng.normal(size=(K, 1))}
    data = {"x": rng.normal(size=(B, D)), "y": rng.normal(size=(B, 1))}

    def tl(p, d):
        s = torch.sigmoid(_t(d["x"]) @ p["W"] + p["b"])
        qq = ((s > 0.5).double() - s).detach() + s
        return ((qq @ p["V"] - _t(d["y"])) ** 2).mean()
    _compare(prog, vals, data, tl, steps=3, torch_opt=lambda ps: torch.optim.Adam(ps, lr=0.05))


def test_vq_vae_losses_with_both_stop_gradients():
    # z_q = z_e + (e − z_e).detach(), ‖z_e.detach() − e‖² and 0.25·‖z_e − e.detach()‖² (the fixture's)
    loss, params, inputs, vals, data, tl = vq_vae(True, B)
    prog = sg.compile(loss, params, inputs, dtype="float64", optimizer=sg.optim.Adam(lr=0.02))
    _compare(prog, vals, data, tl, steps=3, torch_opt=lambda ps: torch.optim.Adam(ps, lr=0.02))


def _dqn(target_network: bool):
    loss, params, _, vals, data, tl = dqn(target_network, B)
    return loss, params, vals, data, tl


def test_dqn_td_loss_semi_gradient():
    loss, params, vals, data, tl = _dqn(False)
    prog = sg.compile(loss, params, [sg.tensor("s", (N, 3)), sg.tensor("a", (N,), integer=True),
                                     sg.tensor("r", (N,)), sg.tensor("s2", (N, 3))],
                      dtype="float64", optimizer=sg.optim.SGD(lr=0.05, momentum=0.9, weight_decay=0.01))
    _compare(prog, vals, data, tl, steps=3,
             torch_opt=lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9, weight_decay=0.01))


def test_dqn_target_network_is_not_decayed_by_adamw():
    """The target network's parameters reach the loss only through .detach(): torch leaves their
    .grad None and AdamW skips them (no decay); so does the compiled step, with a warning."""
    loss, params, vals, data, tl = _dqn(True)
    inputs = [sg.tensor("s", (N, 3)), sg.tensor("a", (N,), integer=True), sg.tensor("r", (N,)),
              sg.tensor("s2", (N, 3))]
    with pytest.warns(sg.optim.NoGradientWarning, match=r"parameters 'T1', 'T2' get no gradient"):
        prog = sg.compile(loss, params, inputs, dtype="float64",
                          optimizer=sg.optim.AdamW(lr=0.05, weight_decay=0.5))
    assert "p2 (the parameter 'T1') gets no gradient" in prog.source
    before = {k: v.copy() for k, v in vals.items()}
    _compare(prog, vals, data, tl, steps=3,
             torch_opt=lambda ps: torch.optim.AdamW(ps, lr=0.05, weight_decay=0.5))
    state = prog.init_state(vals)
    after, state = prog.step(vals, state, data)
    np.testing.assert_array_equal(after["T1"], before["T1"])
    np.testing.assert_array_equal(after["T2"], before["T2"])
    assert not np.allclose(after["W1"], before["W1"])


@pytest.mark.parametrize("padding_idx", [0, -1])
def test_embedding_padding_idx_row_gets_no_gradient_as_torch(padding_idx):
    V, Dm, T, C = 6, 3, 4, 2
    E, Wo = sg.tensor("E", (V, Dm)), sg.tensor("Wo", (Dm, C))
    ids, y = sg.tensor("ids", (N, T), integer=True), sg.tensor("y", (N,), integer=True)
    h = sg.embedding(E, ids, padding_idx=padding_idx).mean(axis=1)
    prog = sg.compile(sg.cross_entropy(h @ Wo, y), [E, Wo], [ids, y], dtype="float64",
                      optimizer=sg.optim.Adam(lr=0.1))
    rng = np.random.default_rng(4)
    vals = {"E": rng.normal(size=(V, Dm)), "Wo": rng.normal(size=(Dm, C))}   # the padding row is NOT zero
    pad = padding_idx % V
    I = rng.integers(0, V, (B, T))
    I[:, -1] = pad                                        # every sequence is padded
    data = {"ids": I, "y": rng.integers(0, C, B)}

    def tl(p, d):
        hh = F.embedding(torch.tensor(d["ids"]), p["E"], padding_idx=padding_idx).mean(dim=1)
        return F.cross_entropy(hh @ p["Wo"], torch.tensor(d["y"]))
    g = prog.grad(vals, data)["E"]
    assert np.all(g[pad] == 0) and np.any(g[(pad + 1) % V] != 0)
    _compare(prog, vals, data, tl, steps=3, torch_opt=lambda ps: torch.optim.Adam(ps, lr=0.1))


def test_as_torch_input_gradient_still_stops_at_the_detach():
    """Program.as_torch() derives the inputs' gradients later, from the program's own spec: the
    stop_gradient must still be there (only the backends' copies lose it)."""
    D, K = 3, 2
    x = sg.tensor("x", (N, D))
    W = sg.tensor("W", (D, K))
    z = x @ W
    out = z * z.detach()                                  # ∂out/∂x = z_detached·Wᵀ, not 2z·Wᵀ
    prog = sg.compile(out.sum(), [W], [x], dtype="float64", outputs=[out])
    rng = np.random.default_rng(5)
    Wn, X = rng.normal(size=(D, K)), rng.normal(size=(B, D))
    module = prog.as_torch({"W": Wn})
    tx = _t(X, True)
    module(tx).sum().backward()
    rx, rW = _t(X, True), _t(Wn, True)
    zz = rx @ rW
    (zz * zz.detach()).sum().backward()
    np.testing.assert_allclose(tx.grad.numpy(), rx.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(module.parameter("W").grad.numpy(), rW.grad.numpy(), rtol=1e-12)


def test_per_example_tensors_batched_keep_the_stop_gradients():
    """One example's tensors (fixed shapes), batched by symgrad (compiling/batching.py) before the
    gradients are derived: the stop_gradients are batched with the rest."""
    D, K = 4, 3
    x, y = sg.tensor("x", (D,)), sg.tensor("y", (), integer=True)
    W, V = sg.tensor("W", (D, K)), sg.tensor("V", (K, K))
    z = x @ W
    h = z + (sp.sign(z) - z).detach()
    prog = sg.compile(sg.cross_entropy(h @ V + z.detach() * z, y), [W, V], [x, y], dtype="float64")
    rng = np.random.default_rng(6)
    vals = {"W": rng.normal(size=(D, K)), "V": rng.normal(size=(K, K))}
    data = {"x": rng.normal(size=(B, D)), "y": rng.integers(0, K, B)}

    def tl(p, d):
        zz = _t(d["x"]) @ p["W"]
        hh = zz + (torch.sign(zz) - zz).detach()
        return F.cross_entropy(hh @ p["V"] + zz.detach() * zz, torch.tensor(d["y"]))
    _compare(prog, vals, data, tl)


def test_a_straight_through_that_reads_no_input_once_stripped_still_sizes_the_batch():
    """(x + sg(W − x)) ⊙ U is W ⊙ U in value: once the stop-gradient is gone the loss reads no x, yet
    its mean over N is sized by x's first axis (it raised "the size(s) N are not the size of an axis
    of any input" before)."""
    x, W, U = sg.tensor("x", (N, 3)), sg.tensor("W", (3,)), sg.tensor("U", (3,))
    loss = sg.mean(((x + sg.stop_gradient(W - x)) * U).sum(axis=1))
    with pytest.warns(sg.optim.NoGradientWarning):
        prog = sg.compile(loss, [W, U], [x], dtype="float64", optimizer=sg.optim.SGD(lr=0.1))
    rng = np.random.default_rng(5)
    vals = {"W": rng.normal(size=3), "U": rng.normal(size=3)}
    data = {"x": rng.normal(size=(B, 3))}

    def tl(p, d):
        xx = _t(d["x"])
        return ((xx + (p["W"] - xx).detach()) * p["U"]).sum(1).mean()
    _compare(prog, vals, data, tl, steps=2, torch_opt=lambda ps: torch.optim.SGD(ps, lr=0.1))
