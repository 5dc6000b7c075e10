"""A model with weight decay on some parameters only, and gradient clipping, as a torch user writes
them. torch's spellings name symgrad's (the optimizer's ``groups=`` and ``clip_grad_norm=``, tested
against torch in test_optim_groups_clipping.py), and the two other ways still work, checked here
against an all-torch model in float64 over 3 steps: (1) the L2 penalty of the decayed parameters in
the loss (torch's Adam weight_decay on those alone), (2) the program's ``as_torch()`` module trained
with torch.optim.AdamW's parameter groups and ``clip_grad_norm_``."""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg

torch = pytest.importorskip("torch")
F = torch.nn.functional
N = sp.Symbol("N", integer=True, positive=True)
D, H, C, B = 5, 8, 3, 7
x, y = sg.tensor("x", (N, D)), sg.tensor("y", (N,), integer=True)
W1, b1, W2, b2 = sg.tensor("W1", (H, D)), sg.tensor("b1", (H,)), sg.tensor("W2", (C, H)), sg.tensor("b2", (C,))
PARAMS = [W1, b1, W2, b2]
LOGITS = sg.tanh(x @ W1.T + b1) @ W2.T + b2


def _start():
    rng = np.random.default_rng(0)
    vals = {p.name: rng.normal(0, 0.7, tuple(p.shape)) for p in PARAMS}
    return vals, {"x": rng.normal(size=(B, D)), "y": rng.integers(0, C, B)}


def _torch_loss(t, data):
    h = torch.tanh(F.linear(torch.tensor(data["x"]), t["W1"], t["b1"]))
    return F.cross_entropy(F.linear(h, t["W2"], t["b2"]), torch.tensor(data["y"]))


def test_torch_spellings_of_groups_and_clipping_name_what_works():
    loss = sg.cross_entropy(LOGITS, y)
    for make in (lambda: sg.optim.AdamW([W1, W2], lr=1e-3),
                 lambda: sg.optim.Adam([{"params": [W1], "weight_decay": 0.1}, {"params": [b1]}], lr=1e-3),
                 lambda: sg.optim.SGD(params=[W1], lr=0.1)):
        with pytest.raises(sg.ArgumentError, match=r"hyperparameters only.*sg\.compile's params=.*groups=\[\{'params'"):
            make()
    assert sg.optim.AdamW(1e-3).lr == 1e-3                      # a positional learning rate still works
    with pytest.raises(sg.ArgumentError, match=r"torch\.optim\.AdamW, a torch optimizer.*sg\.optim\.AdamW"):
        sg.compile(loss, PARAMS, [x, y], optimizer=torch.optim.AdamW([torch.zeros(1, requires_grad=True)]))
    for kw in ("clip_grad_norm", "max_norm", "clipnorm"):       # on sg.compile: the optimizer's option
        with pytest.raises(sg.ArgumentError, match=r"an option of the optimizer.*clip_grad_norm=1\.0"):
            sg.compile(loss, PARAMS, [x, y], **{kw: 1.0})
    with pytest.raises(sg.ArgumentError, match="did you mean 'clip_grad_norm'"):
        sg.optim.Adam(lr=1e-3, max_norm=1.0)
    with pytest.raises(sg.ArgumentError, match="did you mean 'lr'"):   # other typos: the closest name
        sg.optim.Adam(lrr=1e-3)


def test_decay_on_the_weights_only_as_an_l2_penalty_equals_torch_adam_groups():
    wd = 0.3
    loss = sg.cross_entropy(LOGITS, y) + wd / 2 * ((W1 ** 2).sum() + (W2 ** 2).sum())
    prog = sg.compile(loss, PARAMS, [x, y], dtype="float64", optimizer=sg.optim.Adam(lr=0.05))
    vals, data = _start()
    t = {k: torch.tensor(v, requires_grad=True) for k, v in vals.items()}
    opt = torch.optim.Adam([{"params": [t["W1"], t["W2"]], "weight_decay": wd},
                            {"params": [t["b1"], t["b2"]], "weight_decay": 0.0}], lr=0.05)
    state = prog.init_state(vals)
    for _ in range(3):
        vals, state = prog.step(vals, state, data)
        opt.zero_grad()
        _torch_loss(t, data).backward()
        opt.step()
    for k in vals:
        np.testing.assert_allclose(vals[k], t[k].detach().numpy(), rtol=1e-10, atol=1e-12)


def test_as_torch_module_with_adamw_groups_and_clip_grad_norm_equals_torch():
    prog = sg.compile(sg.cross_entropy(LOGITS, y), PARAMS, [x, y], dtype="float64", outputs=[LOGITS])
    vals, data = _start()
    module = prog.as_torch(vals)
    t = {k: torch.tensor(v, requires_grad=True) for k, v in vals.items()}

    def groups(get):
        return [{"params": [get("W1"), get("W2")], "weight_decay": 0.1},
                {"params": [get("b1"), get("b2")], "weight_decay": 0.0}]
    ours = torch.optim.AdamW(groups(module.parameter), lr=0.05)
    theirs = torch.optim.AdamW(groups(t.__getitem__), lr=0.05)
    X, Y = torch.tensor(data["x"]), torch.tensor(data["y"])
    for _ in range(3):
        ours.zero_grad()
        module.loss(X, Y).backward()
        n_ours = torch.nn.utils.clip_grad_norm_(module.parameters(), 0.5)
        ours.step()
        theirs.zero_grad()
        _torch_loss(t, data).backward()
        n_theirs = torch.nn.utils.clip_grad_norm_(t.values(), 0.5)
        theirs.step()
        assert float(n_ours) == pytest.approx(float(n_theirs), rel=1e-12) and float(n_theirs) > 0.5
    for k in vals:
        np.testing.assert_allclose(module.parameter(k).detach().numpy(), t[k].detach().numpy(),
                                   rtol=1e-10, atol=1e-12)


def test_a_torch_optimizer_class_is_told_to_use_symgrads():
    """Before: optimizer=torch.optim.Adam (the class) was told "write Adam() or Adam(lr=...)", which
    read as torch's Adam; and torch.optim.LBFGS was told to write sg.optim.LBFGS, which does not exist."""
    loss = sg.cross_entropy(LOGITS, y)
    with pytest.raises(sg.ArgumentError, match=r"torch\.optim\.Adam, a torch optimizer.*write sg\.optim\.Adam\(lr="):
        sg.compile(loss, PARAMS, [x, y], optimizer=torch.optim.Adam)
    with pytest.raises(sg.ArgumentError, match=r"torch\.optim\.LBFGS, .*symgrad has no LBFGS; its optimizers are sgd"):
        sg.compile(loss, PARAMS, [x, y], optimizer=torch.optim.LBFGS)
    with pytest.raises(sg.ArgumentError, match=r"not the class Adam: write Adam\(\)"):     # symgrad's own class
        sg.compile(loss, PARAMS, [x, y], optimizer=sg.optim.Adam)
