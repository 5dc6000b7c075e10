"""torch layers and functional ops a port needs, written as torch code writes them and compiled to
the NumPy target, against torch.autograd in float64 (the loss and every gradient) and central
finite differences: a GRU cell in torch's gate order (r, z, n), conv_transpose1d/2d, padding='same', adaptive pooling, nearest upsampling,
F.pad in its four modes, cumsum, torch's gather, norms, F.normalize, cosine similarity,
F.batch_norm, binary_cross_entropy_with_logits with pos_weight, nll_loss, class weights of
cross_entropy and nll_loss, dropout in eval mode."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from tests.frontend.torch_port import Cases, compare_with_torch
from tests.frontend.torch_port import normal as _r

torch = pytest.importorskip("torch")
F = torch.nn.functional
N = sp.Symbol("N", integer=True, positive=True)
B = 3


def _cases():
    """name -> builder(rng) giving (sg loss, params, inputs, values, data, torch loss of (t, d))."""
    cases = case = Cases()

    @case
    def gru_cell_three_steps(rng):
        # torch.nn.GRUCell's gate order r, z, n: n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
        D, H, C = 3, 4, 2
        x, y = sg.tensor("x", (N, 3, D)), sg.tensor("y", (N,), integer=True)
        W_ih, W_hh = sg.tensor("W_ih", (3 * H, D)), sg.tensor("W_hh", (3 * H, H))
        b_ih, b_hh, Wc = sg.tensor("b_ih", (3 * H,)), sg.tensor("b_hh", (3 * H,)), sg.tensor("Wc", (C, H))
        h = sg.zeros((N, H))
        for x_t in x.unbind(1):
            i_r, i_z, i_n = sg.linear(x_t, W_ih, b_ih).chunk(3, dim=1)
            h_r, h_z, h_n = sg.linear(h, W_hh, b_hh).chunk(3, dim=1)
            r, z = (i_r + h_r).sigmoid(), (i_z + h_z).sigmoid()
            h = (1 - z) * (i_n + r * h_n).tanh() + z * h
        vals = {"W_ih": _r(rng, 3 * H, D), "W_hh": _r(rng, 3 * H, H), "b_ih": _r(rng, 3 * H),
                "b_hh": _r(rng, 3 * H), "Wc": _r(rng, C, H)}

        def twin(t, d):
            cell = torch.nn.GRUCell(D, H).double()
            ps = {"weight_ih": t["W_ih"], "weight_hh": t["W_hh"], "bias_ih": t["b_ih"], "bias_hh": t["b_hh"]}
            hh = torch.zeros(B, H, dtype=torch.float64)
            for k in range(3):
                hh = torch.func.functional_call(cell, ps, (d["x"][:, k], hh))
            return F.cross_entropy(hh @ t["Wc"].T, d["y"])
        return (sg.cross_entropy(sg.linear(h, Wc), y), [W_ih, W_hh, b_ih, b_hh, Wc], [x, y], vals,
                {"x": _r(rng, B, 3, D), "y": rng.integers(0, C, B)}, twin)

    @case
    def conv_transpose2d_stride_padding(rng):
        x, w, b = sg.tensor("x", (N, 3, 4, 5)), sg.tensor("w", (3, 2, 3, 3)), sg.tensor("b", (2,))
        out = sg.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1)
        c = sg.tensor("c", tuple(out.shape[1:]))
        assert out.shape == (N, 2, 8, 10)
        return (sg.sum(sg.tanh(out) * c), [w, b], [x, c], {"w": _r(rng, 3, 2, 3, 3), "b": _r(rng, 2)},
                {"x": _r(rng, B, 3, 4, 5), "c": _r(rng, 2, 8, 10)},
                lambda t, d: (torch.tanh(F.conv_transpose2d(d["x"], t["w"], t["b"], stride=2, padding=1,
                                                            output_padding=1)) * d["c"]).sum())

    @case
    def conv_transpose2d_groups_dilation(rng):
        x, w = sg.tensor("x", (N, 4, 3, 3)), sg.tensor("w", (4, 3, 2, 3))
        out = sg.conv_transpose2d(x, w, stride=(1, 2), padding=(0, 2), groups=2, dilation=(2, 1))
        c = sg.tensor("c", tuple(out.shape[1:]))
        return (sg.sum(out ** 2 * c), [w], [x, c], {"w": _r(rng, 4, 3, 2, 3)},
                {"x": _r(rng, B, 4, 3, 3), "c": _r(rng, *out.shape[1:])},
                lambda t, d: (F.conv_transpose2d(d["x"], t["w"], stride=(1, 2), padding=(0, 2), groups=2,
                                                 dilation=(2, 1)) ** 2 * d["c"]).sum())

    @case
    def conv_transpose1d(rng):
        x, w = sg.tensor("x", (N, 2, 5)), sg.tensor("w", (2, 3, 4))
        out = sg.conv_transpose1d(x, w, stride=3, padding=2)
        return (sg.sum(out ** 2), [w], [x], {"w": _r(rng, 2, 3, 4)}, {"x": _r(rng, B, 2, 5)},
                lambda t, d: (F.conv_transpose1d(d["x"], t["w"], stride=3, padding=2) ** 2).sum())

    @case
    def conv_padding_same(rng):
        # an even kernel and a dilation: torch's asymmetric split, the smaller half before
        x, w, v = sg.tensor("x", (N, 2, 6, 7)), sg.tensor("w", (3, 2, 4, 3)), sg.tensor("v", (3, 2, 3))
        out = sg.conv2d(x, w, padding="same", dilation=(1, 2))
        assert out.shape == (N, 3, 6, 7)
        c = sg.tensor("c", (3, 6, 7))
        loss = sg.sum(out * c) + sg.sum(sg.conv1d(x[:, :, 0], v, padding="same") ** 2) + \
            sg.sum(sg.conv2d(x, w, padding="valid") ** 2)
        return (loss, [w, v], [x, c], {"w": _r(rng, 3, 2, 4, 3), "v": _r(rng, 3, 2, 3)},
                {"x": _r(rng, B, 2, 6, 7), "c": _r(rng, 3, 6, 7)},
                lambda t, d: (F.conv2d(d["x"], t["w"], padding="same", dilation=(1, 2)) * d["c"]).sum()
                + (F.conv1d(d["x"][:, :, 0], t["v"], padding="same") ** 2).sum()
                + (F.conv2d(d["x"], t["w"], padding="valid") ** 2).sum())

    @case
    def adaptive_pools(rng):
        # global (1, 1), dividing (6 -> 3) and torch's overlapping windows (5 -> 3, 7 -> 4)
        x, w = sg.tensor("x", (N, 2, 6, 5)), sg.tensor("w", (2, 1, 1))
        h = x * w
        loss = (sg.sum(sg.adaptive_avg_pool2d(h, (1, 1)) ** 2) + sg.sum(sg.adaptive_avg_pool2d(h, 3) ** 3)
                + sg.sum(sg.adaptive_max_pool2d(h, (4, 2)) ** 2) + sg.sum(sg.adaptive_avg_pool1d(h[:, :, 0], 4) ** 2)
                + sg.sum(sg.adaptive_max_pool2d(h, 1) * 2) + sg.sum(sg.adaptive_avg_pool2d(h, (None, 2)) ** 2))

        def twin(t, d):
            h = d["x"] * t["w"]
            return ((F.adaptive_avg_pool2d(h, (1, 1)) ** 2).sum() + (F.adaptive_avg_pool2d(h, 3) ** 3).sum()
                    + (F.adaptive_max_pool2d(h, (4, 2)) ** 2).sum()
                    + (F.adaptive_avg_pool1d(h[:, :, 0], 4) ** 2).sum()
                    + (F.adaptive_max_pool2d(h, 1) * 2).sum() + (F.adaptive_avg_pool2d(h, (None, 2)) ** 2).sum())
        return loss, [w], [x], {"w": _r(rng, 2, 1, 1)}, {"x": _r(rng, B, 2, 6, 5)}, twin

    @case
    def interpolate_nearest(rng):
        x, w = sg.tensor("x", (N, 2, 3, 4)), sg.tensor("w", (2, 1, 1))
        c = sg.tensor("c", (2, 6, 12))
        loss = sg.sum(sg.interpolate(x * w, scale_factor=(2, 3)) * c) + \
            sg.sum(sg.interpolate((x * w)[:, :, 0], size=8) ** 2)
        return (loss, [w], [x, c], {"w": _r(rng, 2, 1, 1)}, {"x": _r(rng, B, 2, 3, 4), "c": _r(rng, 2, 6, 12)},
                lambda t, d: (F.interpolate(d["x"] * t["w"], scale_factor=(2, 3), mode="nearest") * d["c"]).sum()
                + (F.interpolate((d["x"] * t["w"])[:, :, 0], size=8) ** 2).sum())

    @case
    def pad_modes(rng):
        x, w = sg.tensor("x", (N, 2, 4, 5)), sg.tensor("w", (2, 4, 5))
        h = x * w
        parts = [sg.pad(h, (1, 2)), sg.pad(h, (2, 1, 1, 0), mode="reflect"),
                 sg.pad(h, (2, 3, 1, 1), mode="replicate"), sg.pad(h, (1, 2, 3, 0), mode="circular"),
                 sg.pad(h, (-1, 2, 1, -2)), sg.pad(h, (1, 1), value=0.5)]
        loss = sum(sg.sum(p ** 2 * (k + 1)) for k, p in enumerate(parts))

        def twin(t, d):
            h = d["x"] * t["w"]
            parts = [F.pad(h, (1, 2)), F.pad(h, (2, 1, 1, 0), mode="reflect"),
                     F.pad(h, (2, 3, 1, 1), mode="replicate"), F.pad(h, (1, 2, 3, 0), mode="circular"),
                     F.pad(h, (-1, 2, 1, -2)), F.pad(h, (1, 1), value=0.5)]
            return sum((p ** 2 * (k + 1)).sum() for k, p in enumerate(parts))
        return loss, [w], [x], {"w": _r(rng, 2, 4, 5)}, {"x": _r(rng, B, 2, 4, 5)}, twin

    @case
    def cumsum_axes(rng):
        x, W = sg.tensor("x", (N, 3, 4)), sg.tensor("W", (4, 4))
        h = x @ W
        c = sg.tensor("c", (3, 4))
        loss = sg.sum(sg.cumsum(h, axis=-1) * c) + sg.sum(h.cumsum(1) ** 2) + sg.sum(sg.cumsum(W) ** 2)
        return (loss, [W], [x, c], {"W": _r(rng, 4, 4)}, {"x": _r(rng, B, 3, 4), "c": _r(rng, 3, 4)},
                lambda t, d: (torch.cumsum(d["x"] @ t["W"], -1) * d["c"]).sum()
                + ((d["x"] @ t["W"]).cumsum(1) ** 2).sum() + (torch.cumsum(t["W"].reshape(-1), 0) ** 2).sum())

    @case
    def torch_gather(rng):
        s, W = sg.tensor("s", (N, 5)), sg.tensor("W", (5,))
        idx, short = sg.tensor("idx", (N, 7), integer=True), sg.tensor("short", (2, 3), integer=True)
        h = s * W
        loss = sg.sum(h.gather(1, idx) ** 2) + sg.sum(sg.gather(h, 1, idx) * 3) + \
            sg.sum(h.take_along_dim(idx, 1)) + sg.sum(W.reshape(1, 5).gather(0, short[:1]) ** 2)
        data = {"s": _r(rng, B, 5), "idx": rng.integers(0, 5, (B, 7)), "short": rng.integers(0, 1, (2, 3))}
        data["idx"][0, :3] = 2                                  # repeated indices add their gradients
        return (loss, [W], [s, idx, short], {"W": _r(rng, 5)}, data,
                lambda t, d: ((d["s"] * t["W"]).gather(1, d["idx"]) ** 2).sum()
                + (torch.gather(d["s"] * t["W"], 1, d["idx"]) * 3).sum()
                + torch.take_along_dim(d["s"] * t["W"], d["idx"], 1).sum()
                + (t["W"].reshape(1, 5).gather(0, d["short"][:1]) ** 2).sum())

    @case
    def norms_normalize_cosine(rng):
        x, W, z = sg.tensor("x", (N, 4)), sg.tensor("W", (4, 4)), sg.tensor("z", (N, 4))
        h = x @ W
        loss = (sg.sum(h.norm(dim=1)) + sg.sum(sg.norm(h, p=1, axis=1) ** 2) + sg.sum(sg.norm(h, 3, axis=0))
                + sg.norm(h, float("inf")) + sg.sum(sg.normalize(h) * z)
                + sg.sum(sg.cosine_similarity(h, z)) + sg.sum(sg.cosine_similarity(h, W[0], axis=-1)))
        data = {"x": _r(rng, B, 4), "z": _r(rng, B, 4)}
        data["x"][0] = 0            # a zero vector (a padding position): torch's gradient there is finite
        return (loss, [W], [x, z], {"W": _r(rng, 4, 4)}, data,
                lambda t, d: ((d["x"] @ t["W"]).norm(dim=1).sum() + ((d["x"] @ t["W"]).norm(p=1, dim=1) ** 2).sum()
                              + torch.linalg.vector_norm(d["x"] @ t["W"], 3, dim=0).sum()
                              + torch.linalg.vector_norm(d["x"] @ t["W"], float("inf"))
                              + (F.normalize(d["x"] @ t["W"]) * d["z"]).sum()
                              + F.cosine_similarity(d["x"] @ t["W"], d["z"]).sum()
                              + F.cosine_similarity(d["x"] @ t["W"], t["W"][0], dim=-1).sum()))

    @case
    def batch_norm_train_and_eval(rng):
        x, g, b = sg.tensor("x", (N, 3, 2, 2)), sg.tensor("g", (3,)), sg.tensor("b", (3,))
        rm, rv = sg.tensor("rm", (3,)), sg.tensor("rv", (3,))
        c = sg.tensor("c", (3, 2, 2))
        loss = sg.sum(sg.tanh(sg.batch_norm(x, None, None, g, b, training=True)) * c) + \
            sg.sum(sg.batch_norm(x, rm, rv, g, b, eps=1e-3) ** 2)
        return (loss, [g, b], [x, rm, rv, c], {"g": _r(rng, 3), "b": _r(rng, 3)},
                {"x": _r(rng, B, 3, 2, 2), "rm": _r(rng, 3), "rv": rng.random(3) + 0.5, "c": _r(rng, 3, 2, 2)},
                lambda t, d: (torch.tanh(F.batch_norm(d["x"], None, None, t["g"], t["b"], training=True)) * d["c"]).sum()
                + (F.batch_norm(d["x"], d["rm"], d["rv"], t["g"], t["b"], eps=1e-3) ** 2).sum())

    @case
    def bce_with_logits_pos_weight(rng):
        x, W = sg.tensor("x", (N, 3)), sg.tensor("W", (3, 2))
        y, pw, wt = sg.tensor("y", (N, 2)), sg.tensor("pw", (2,)), sg.tensor("wt", (N, 1))
        s = x @ W
        loss = sg.binary_cross_entropy_with_logits(s, y, pos_weight=pw) + \
            sg.bce_with_logits(s, y, wt, reduction="sum") + sg.bce_with_logits(s * 30, y, pos_weight=3)
        data = {"x": _r(rng, B, 3), "y": rng.integers(0, 2, (B, 2)).astype(float), "pw": np.array([2.0, 0.5]),
                "wt": rng.random((B, 1))}
        return (loss, [W], [x, y, pw, wt], {"W": _r(rng, 3, 2)}, data,
                lambda t, d: F.binary_cross_entropy_with_logits(d["x"] @ t["W"], d["y"], pos_weight=d["pw"])
                + F.binary_cross_entropy_with_logits(d["x"] @ t["W"], d["y"], d["wt"], reduction="sum")
                + F.binary_cross_entropy_with_logits(d["x"] @ t["W"] * 30, d["y"], pos_weight=torch.tensor(3.0)))

    @case
    def nll_loss_and_dropout_eval(rng):
        x, W, y = sg.tensor("x", (N, 3, 5)), sg.tensor("W", (4, 3)), sg.tensor("y", (N, 5), integer=True)
        lp = sg.log_softmax(sg.einsum("ck,nkt->nct", W, sg.dropout(x, 0.3, training=False)), axis=1)
        loss = sg.nll_loss(lp, y) + sg.nll_loss(lp[:, :, 0], y[:, 0], reduction="sum")
        return (loss, [W], [x, y], {"W": _r(rng, 4, 3)}, {"x": _r(rng, B, 3, 5), "y": rng.integers(0, 4, (B, 5))},
                lambda t, d: F.nll_loss(F.log_softmax(torch.einsum("ck,nkt->nct", t["W"],
                                                                   F.dropout(d["x"], 0.3, training=False)), 1), d["y"])
                + F.nll_loss(F.log_softmax(torch.einsum("ck,nkt->nct", t["W"], d["x"]), 1)[:, :, 0], d["y"][:, 0],
                             reduction="sum"))

    @case
    def class_weights(rng):
        x, W, y = sg.tensor("x", (N, 3)), sg.tensor("W", (3, 4)), sg.tensor("y", (N,), integer=True)
        wt, yt = sg.tensor("wt", (4,)), sg.tensor("yt", (N, 2), integer=True)
        s = x @ W
        s3 = sg.stack([s, s ** 2], axis=2)                                  # (N, C, T), classes on axis 1
        loss = (sg.cross_entropy(s, y, weight=wt) + sg.cross_entropy(s, y, weight=[0.5, 2.0, 1.0, 3.0], reduction="sum")
                + sg.nll_loss(sg.log_softmax(s3, axis=1), yt, weight=wt)
                + sg.cross_entropy(s3, yt, axis=1, weight=wt, reduction="none").sum() * 0.1)
        data = {"x": _r(rng, B + 2, 3), "y": rng.integers(0, 4, B + 2), "yt": rng.integers(0, 4, (B + 2, 2)),
                "wt": rng.random(4) + 0.2}
        data["y"][:2] = 3                                                   # a class twice

        def twin(t, d):
            s = d["x"] @ t["W"]
            s3 = torch.stack([s, s ** 2], 2)
            return (F.cross_entropy(s, d["y"], weight=d["wt"])
                    + F.cross_entropy(s, d["y"], weight=torch.tensor([0.5, 2.0, 1.0, 3.0], dtype=torch.float64), reduction="sum")
                    + F.nll_loss(F.log_softmax(s3, 1), d["yt"], weight=d["wt"])
                    + F.cross_entropy(s3, d["yt"], weight=d["wt"], reduction="none").sum() * 0.1)
        return loss, [W], [x, y, yt, wt], {"W": _r(rng, 3, 4)}, data, twin

    return cases


CASES = _cases()


@pytest.mark.parametrize("name", list(CASES))
def test_equals_torch_autograd_and_finite_differences(name):
    rng = np.random.default_rng(sum(map(ord, name)))
    compare_with_torch(torch, CASES[name](rng), rng)
