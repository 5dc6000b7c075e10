"""torch's channel dropout — ``F.dropout1d``, ``F.dropout2d`` (spatial dropout, ``nn.Dropout2d``),
``F.dropout3d`` — as sg.dropout1d / dropout2d / dropout3d (2026-11-30, ninth session; before, only
sg.dropout of single entries existed). The compiled program draws one mask entry per example and
channel; torch's forward with that same mask is compared by torch.autograd in float64."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symgrad as sg

torch = pytest.importorskip("torch")
F = torch.nn.functional
N = sp.Symbol("N", integer=True, positive=True)


def test_dropout2d_drops_whole_feature_maps_as_torch():
    rng = np.random.default_rng(0)
    B, C, H, W, p = 6, 4, 5, 5, 0.5
    x, w, c = sg.tensor("x", (N, 2, H, W)), sg.tensor("w", (C, 2, 3, 3)), sg.tensor("c", (N, C, H, W))
    h = sg.dropout2d(sg.relu(sg.conv2d(x, w, padding=1)), p)
    loss = sg.sum(h * c)
    prog = sg.compile(loss, [w], [x, c], dtype="float64")
    vals = {"w": rng.normal(size=(C, 2, 3, 3))}
    data = {"x": rng.normal(size=(B, 2, H, W)), "c": rng.normal(size=(B, C, H, W))}
    # the mask the program drew: the loss is Σ relu(conv) ⊙ M ⊙ c, read back per (example, channel)
    hval = F.relu(F.conv2d(torch.tensor(data["x"]), torch.tensor(vals["w"]), padding=1)).numpy()
    per_channel = (hval * data["c"]).sum(axis=(2, 3))
    seen = set()
    for seed in range(4):
        got = prog.loss(vals, data, dropout_seed=seed)
        # each channel's mask is 0 or 1/(1 − p): find it channel by channel from losses of one channel
        masks = np.zeros((B, C))
        for n in range(B):
            for k in range(C):
                only = {**data, "c": np.zeros_like(data["c"])}
                only["c"][n, k] = data["c"][n, k]
                masks[n, k] = prog.loss(vals, only, dropout_seed=seed) / per_channel[n, k]
        assert np.allclose(masks, np.round(masks * (1 - p)) / (1 - p)), masks       # 0 or 2, per channel
        seen |= set(np.round(masks * (1 - p)).ravel().tolist())
        assert np.isclose(got, (per_channel * masks).sum())
        # torch's dropout2d with the same mask: F.dropout2d(h) = h * mask[:, :, None, None]
        t = {"w": torch.tensor(vals["w"], requires_grad=True)}
        ht = F.relu(F.conv2d(torch.tensor(data["x"]), t["w"], padding=1)) * torch.tensor(masks)[:, :, None, None]
        (ht * torch.tensor(data["c"])).sum().backward()
        np.testing.assert_allclose(prog.grad(vals, data, dropout_seed=seed)["w"], t["w"].grad.numpy(),
                                   rtol=1e-10, atol=1e-12)
    assert seen == {0.0, 1.0}
    assert np.isclose(prog.loss(vals, data), per_channel.sum())       # no dropout in .loss


def test_torch_dropout2d_masks_have_the_same_form():
    """The form the test above reads is torch's: one draw per (example, channel), 0 or 1/(1 − p)."""
    torch.manual_seed(0)
    m = F.dropout2d(torch.ones(8, 6, 3, 3, dtype=torch.float64), 0.5)
    assert torch.all(m == m[:, :, :1, :1]) and set(m.unique().tolist()) == {0.0, 2.0}


def test_shapes_eval_mode_and_refusals():
    x4, x3 = sg.tensor("x", (N, 3, 4, 4)), sg.tensor("y", (N, 3, 7))
    assert sg.dropout2d(x4, 0.3, training=False) is x4
    masks = lambda e: sorted(tuple(m.shape) for m in e.free_symbols if m.name.startswith("dropout"))  # noqa: E731
    assert masks(sg.dropout2d(x4, 0.3)) == [(N, 3, 1, 1)]
    assert masks(sg.dropout1d(x3, 0.3)) == [(N, 3, 1)]
    assert masks(sg.dropout1d(sg.tensor("z", (3, 7)), 0.3)) == [(3, 1)]             # one example (C, L)
    assert masks(sg.dropout3d(sg.tensor("v", (N, 2, 3, 3, 3)), 0.3)) == [(N, 2, 1, 1, 1)]
    with pytest.raises(sg.ArgumentError, match=r"sg\.dropout1d\(y, p\)"):            # torch's reading is changing
        sg.dropout2d(x3, 0.5)
    with pytest.raises(sg.ArgumentError, match=r"\(N, C, H, W\)"):
        sg.dropout2d(sg.tensor("q", (N, 3)), 0.5)
    with pytest.raises(sg.ArgumentError, match=r"\[0, 1\)"):
        sg.dropout2d(x4, 1.0)


def test_alpha_dropout_is_refused_by_name():
    with pytest.raises(AttributeError, match=r"alpha_dropout.*not supported.*dropout2d"):
        sg.alpha_dropout
