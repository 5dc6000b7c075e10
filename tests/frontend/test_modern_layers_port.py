"""Modern layers written as PyTorch code writes them over a batch of N, compiled to the NumPy target
and compared with torch.autograd in float64 (the loss, every gradient) and central differences
(2026-11-30, eighth session's survey): RMSNorm (F.rms_norm, new: sg.rms_norm), SwiGLU and GeGLU,
rotary embeddings in both layouts, grouped-query attention (repeat_interleave, and
F.scaled_dot_product_attention's enable_gqa=True, new), multi-query attention by broadcasting,
depthwise-separable convolution, squeeze-and-excitation, a ResNet basic block with F.batch_norm,
focal losses, masked mean pooling, top-1 routing."""
from __future__ import annotations


import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from tests.frontend.torch_port import Cases, compare_case, compare_with_torch
from tests.frontend.torch_port import normal as _r

torch = pytest.importorskip("torch")
F = torch.nn.functional
N = sp.Symbol("N", integer=True, positive=True)
B = 3


def _cases():
    cases = case = Cases()

    @case
    def rms_norm(rng):
        D = 6
        x, g, c = sg.tensor("x", (N, 4, D)), sg.tensor("g", (D,)), sg.tensor("c", (4, D))
        out = sg.rms_norm(x, (D,), g, eps=1e-6)
        return (sg.sum(out * c), [g], [x, c], {"g": _r(rng, D)}, {"x": _r(rng, B, 4, D), "c": _r(rng, 4, D)},
                lambda t, d: (F.rms_norm(d["x"], (D,), t["g"], 1e-6) * d["c"]).sum())

    @case
    def rms_norm_two_axes_no_weight_as_llama_writes_it(rng):
        D = 3
        x, W = sg.tensor("x", (N, 2, D)), sg.tensor("W", (D, D))
        h = x @ W
        ours = h * (h.pow(2).mean(axis=-1, keepdims=True) + 1e-5).rsqrt()     # Llama's RMSNorm.forward
        assert sg.rms_norm(h, D, eps=1e-5).shape == ours.shape
        loss = sg.sum(sg.tanh(ours)) + sg.sum(sg.rms_norm(h, (2, D), eps=1e-5) ** 3)

        def twin(t, d):
            h = d["x"] @ t["W"]
            return torch.tanh(F.rms_norm(h, (D,), eps=1e-5)).sum() + (F.rms_norm(h, (2, D), eps=1e-5) ** 3).sum()
        return loss, [W], [x], {"W": _r(rng, D, D)}, {"x": _r(rng, B, 2, D)}, twin

    @case
    def swiglu_mlp(rng):
        D, H = 4, 6
        x, c = sg.tensor("x", (N, 3, D)), sg.tensor("c", (3, D))
        W1, W3, W2 = sg.tensor("W1", (H, D)), sg.tensor("W3", (H, D)), sg.tensor("W2", (D, H))
        out = sg.linear(sg.silu(sg.linear(x, W1)) * sg.linear(x, W3), W2)
        return (sg.sum(out * c), [W1, W3, W2], [x, c], {"W1": _r(rng, H, D), "W3": _r(rng, H, D), "W2": _r(rng, D, H)},
                {"x": _r(rng, B, 3, D), "c": _r(rng, 3, D)},
                lambda t, d: (F.linear(F.silu(F.linear(d["x"], t["W1"])) * F.linear(d["x"], t["W3"]), t["W2"])
                              * d["c"]).sum())

    @case
    def geglu_mlp(rng):
        D, H = 4, 5
        x, W, W2 = sg.tensor("x", (N, 3, D)), sg.tensor("W", (2 * H, D)), sg.tensor("W2", (D, H))
        a, gate = sg.linear(x, W).chunk(2, dim=-1)

        def twin(t, d):
            a, g = F.linear(d["x"], t["W"]).chunk(2, dim=-1)
            return (F.linear(a * F.gelu(g), t["W2"]) ** 2).sum()
        return (sg.sum(sg.linear(a * sg.gelu(gate), W2) ** 2), [W, W2], [x], {"W": _r(rng, 2 * H, D), "W2": _r(rng, D, H)},
                {"x": _r(rng, B, 3, D)}, twin)

    @case
    def rotary_embedding_rotate_half(rng):
        T, H, Dh = 5, 2, 4
        q, Wq = sg.tensor("q", (N, H, T, Dh)), sg.tensor("Wq", (Dh, Dh))
        cos, sin = sg.tensor("cos", (T, Dh)), sg.tensor("sin", (T, Dh))

        def rotate_half(x, cat):
            return cat([-x[..., Dh // 2:], x[..., :Dh // 2]])
        out = (q @ Wq) * cos + rotate_half(q @ Wq, lambda p: sg.concat(p, axis=-1)) * sin
        ang = np.arange(T)[:, None] * 10000.0 ** (-np.arange(0, Dh, 2) / Dh)[None]
        ang = np.concatenate([ang, ang], -1)

        def twin(t, d):
            qw = d["q"] @ t["Wq"]
            return ((qw * d["cos"] + rotate_half(qw, lambda p: torch.cat(p, dim=-1)) * d["sin"]) ** 2).sum()
        return (sg.sum(out ** 2), [Wq], [q, cos, sin], {"Wq": _r(rng, Dh, Dh)},
                {"q": _r(rng, B, H, T, Dh), "cos": np.cos(ang), "sin": np.sin(ang)}, twin)

    @case
    def rotary_embedding_interleaved_pairs(rng):
        T, Dh = 5, 4
        x, W = sg.tensor("x", (N, T, Dh)), sg.tensor("W", (Dh, 3))
        cos, sin = sg.tensor("cos", (T, Dh // 2)), sg.tensor("sin", (T, Dh // 2))
        xr = x.reshape(N, T, Dh // 2, 2)
        x0, x1 = xr[..., 0], xr[..., 1]
        o = sg.stack([x0 * cos - x1 * sin, x0 * sin + x1 * cos], axis=-1).flatten(2)

        def twin(t, d):
            xr = d["x"].reshape(B, T, Dh // 2, 2)
            a, b = xr[..., 0], xr[..., 1]
            o = torch.stack([a * d["cos"] - b * d["sin"], a * d["sin"] + b * d["cos"]], -1).flatten(2)
            return torch.tanh(o @ t["W"]).sum()
        return (sg.sum(sg.tanh(o @ W)), [W], [x, cos, sin], {"W": _r(rng, Dh, 3)},
                {"x": _r(rng, B, T, Dh), "cos": _r(rng, T, Dh // 2), "sin": _r(rng, T, Dh // 2)}, twin)

    def _gqa(rng, enable_gqa):
        T, Hq, Hk, Dh, D = 4, 4, 2, 3, 6
        x = sg.tensor("x", (N, T, D))
        Wq, Wk, Wv = sg.tensor("Wq", (Hq * Dh, D)), sg.tensor("Wk", (Hk * Dh, D)), sg.tensor("Wv", (Hk * Dh, D))
        q = sg.linear(x, Wq).view(N, T, Hq, Dh).swapaxes(1, 2)
        k = sg.linear(x, Wk).view(N, T, Hk, Dh).swapaxes(1, 2)
        v = sg.linear(x, Wv).view(N, T, Hk, Dh).swapaxes(1, 2)
        if enable_gqa:
            o = sg.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
        else:
            o = sg.scaled_dot_product_attention(q, k.repeat_interleave(Hq // Hk, dim=1),
                                                v.repeat_interleave(Hq // Hk, dim=1), is_causal=True)

        def twin(t, d):
            q = F.linear(d["x"], t["Wq"]).view(B, T, Hq, Dh).transpose(1, 2)
            k = F.linear(d["x"], t["Wk"]).view(B, T, Hk, Dh).transpose(1, 2)
            v = F.linear(d["x"], t["Wv"]).view(B, T, Hk, Dh).transpose(1, 2)
            return (F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True) ** 2).sum()
        return (sg.sum(o ** 2), [Wq, Wk, Wv], [x],
                {"Wq": _r(rng, Hq * Dh, D), "Wk": _r(rng, Hk * Dh, D), "Wv": _r(rng, Hk * Dh, D)},
                {"x": _r(rng, B, T, D)}, twin)

    @case
    def grouped_query_attention_repeat_interleave(rng):
        return _gqa(rng, enable_gqa=False)

    @case
    def grouped_query_attention_enable_gqa(rng):
        return _gqa(rng, enable_gqa=True)

    @case
    def multi_query_attention_broadcast(rng):
        T, Hq, Dh = 4, 3, 2
        q, k, v = sg.tensor("q", (N, Hq, T, Dh)), sg.tensor("k", (N, 1, T, Dh)), sg.tensor("v", (N, 1, T, Dh))
        W = sg.tensor("W", (Dh, Dh))
        o = ((q @ W) @ k.mT / np.sqrt(Dh)).softmax(-1) @ v
        return (sg.sum(o ** 2), [W], [q, k, v], {"W": _r(rng, Dh, Dh)},
                {"q": _r(rng, B, Hq, T, Dh), "k": _r(rng, B, 1, T, Dh), "v": _r(rng, B, 1, T, Dh)},
                lambda t, d: ((((d["q"] @ t["W"]) @ d["k"].mT / np.sqrt(Dh)).softmax(-1) @ d["v"]) ** 2).sum())

    @case
    def depthwise_separable_conv(rng):
        x, wd, wp = sg.tensor("x", (N, 4, 5, 5)), sg.tensor("wd", (4, 1, 3, 3)), sg.tensor("wp", (5, 4, 1, 1))
        h = sg.conv2d(sg.relu(sg.conv2d(x, wd, padding=1, groups=4)), wp)
        return (sg.sum(sg.tanh(h)), [wd, wp], [x], {"wd": _r(rng, 4, 1, 3, 3), "wp": _r(rng, 5, 4, 1, 1)},
                {"x": _r(rng, B, 4, 5, 5)},
                lambda t, d: torch.tanh(F.conv2d(F.relu(F.conv2d(d["x"], t["wd"], padding=1, groups=4)), t["wp"])).sum())

    @case
    def squeeze_and_excitation(rng):
        C, r = 4, 2
        x, W1, b1 = sg.tensor("x", (N, C, 3, 3)), sg.tensor("W1", (r, C)), sg.tensor("b1", (r,))
        W2, b2 = sg.tensor("W2", (C, r)), sg.tensor("b2", (C,))
        s = sg.sigmoid(sg.linear(sg.relu(sg.linear(x.mean(axis=(2, 3)), W1, b1)), W2, b2))

        def twin(t, d):
            s = torch.sigmoid(F.linear(F.relu(F.linear(d["x"].mean((2, 3)), t["W1"], t["b1"])), t["W2"], t["b2"]))
            return ((d["x"] * s[:, :, None, None]) ** 2).sum()
        return (sg.sum((x * s[:, :, None, None]) ** 2), [W1, b1, W2, b2], [x],
                {"W1": _r(rng, r, C), "b1": _r(rng, r), "W2": _r(rng, C, r), "b2": _r(rng, C)},
                {"x": _r(rng, B, C, 3, 3)}, twin)

    @case
    def resnet_basic_block(rng):
        C = 2
        x, w1, w2 = sg.tensor("x", (N, C, 4, 4)), sg.tensor("w1", (C, C, 3, 3)), sg.tensor("w2", (C, C, 3, 3))
        g1, b1 = sg.tensor("g1", (C,)), sg.tensor("b1", (C,))
        h = sg.relu(sg.batch_norm(sg.conv2d(x, w1, padding=1), None, None, g1, b1, training=True))
        out = sg.relu(sg.batch_norm(sg.conv2d(h, w2, padding=1), None, None, training=True) + x)

        def twin(t, d):
            h = F.relu(F.batch_norm(F.conv2d(d["x"], t["w1"], padding=1), None, None, t["g1"], t["b1"], training=True))
            return (F.relu(F.batch_norm(F.conv2d(h, t["w2"], padding=1), None, None, training=True) + d["x"]) ** 2).sum()
        return (sg.sum(out ** 2), [w1, w2, g1, b1], [x],
                {"w1": _r(rng, C, C, 3, 3), "w2": _r(rng, C, C, 3, 3), "g1": _r(rng, C), "b1": _r(rng, C)},
                {"x": _r(rng, B, C, 4, 4)}, twin)

    @case
    def focal_losses(rng):
        C = 4
        x, y, W = sg.tensor("x", (N, 3)), sg.tensor("y", (N,), integer=True), sg.tensor("W", (3, C))
        yb = sg.tensor("yb", (N, C))
        ce = sg.cross_entropy(x @ W, y, reduction="none")
        p = sg.sigmoid(x @ W)
        p_t = p * yb + (1 - p) * (1 - yb)
        loss = (((1 - sg.exp(-ce)) ** 2 * ce).mean()
                + ((0.25 * yb + 0.75 * (1 - yb)) * sg.bce_with_logits(x @ W, yb, reduction="none")
                   * (1 - p_t) ** 2).mean())

        def twin(t, d):
            s = d["x"] @ t["W"]
            ce = F.cross_entropy(s, d["y"], reduction="none")
            p, yb = s.sigmoid(), d["yb"]
            pt = p * yb + (1 - p) * (1 - yb)
            return (((1 - torch.exp(-ce)) ** 2 * ce).mean()
                    + ((0.25 * yb + 0.75 * (1 - yb)) * F.binary_cross_entropy_with_logits(s, yb, reduction="none")
                       * (1 - pt) ** 2).mean())
        return (loss, [W], [x, y, yb], {"W": _r(rng, 3, C)},
                {"x": _r(rng, B, 3), "y": rng.integers(0, C, B), "yb": (rng.random((B, C)) > 0.5) * 1.0}, twin)

    @case
    def masked_mean_pooling(rng):
        T, D = 5, 3
        h, m, W = sg.tensor("h", (N, T, D)), sg.tensor("m", (N, T), integer=True), sg.tensor("W", (D, 2))
        mf = m.unsqueeze(-1).float()
        pooled = (sg.tanh(h @ W) * mf).sum(axis=1) / mf.sum(axis=1).clamp(min=1)
        mask = (rng.random((B, T)) > 0.4).astype(np.int64)
        mask[0] = 0                                                  # an all-padding row: clamp(min=1)

        def twin(t, d):
            mf = d["m"].unsqueeze(-1).double()
            return (((torch.tanh(d["h"] @ t["W"]) * mf).sum(1) / mf.sum(1).clamp(min=1)) ** 2).sum()
        return sg.sum(pooled ** 2), [W], [h, m], {"W": _r(rng, D, 2)}, {"h": _r(rng, B, T, D), "m": mask}, twin

    @case
    def top1_routing(rng):
        E, D = 3, 2
        x, Wg, We = sg.tensor("x", (N, D)), sg.tensor("Wg", (D, E)), sg.tensor("We", (E, D, D))
        logits = x @ Wg
        gate = sg.softmax(logits, axis=-1) * sg.one_hot(logits.argmax(axis=-1), E)
        out = (gate[:, :, None] * sg.einsum("bd,edf->bef", x, We)).sum(axis=1)

        def twin(t, d):
            lg = d["x"] @ t["Wg"]
            g = lg.softmax(-1) * F.one_hot(lg.argmax(-1), E)
            return (((g[:, :, None] * torch.einsum("bd,edf->bef", d["x"], t["We"])).sum(1)) ** 2).sum()
        return sg.sum(out ** 2), [Wg, We], [x], {"Wg": _r(rng, D, E), "We": _r(rng, E, D, D)}, {"x": _r(rng, B, D)}, twin
    @case
    def llama_block_with_tied_embeddings(rng):
        """RMSNorm, rotary q and k, grouped-query causal attention, a SwiGLU MLP, residuals, the output
        layer tied to the embedding — one decoder block of a Llama, next-token loss."""
        T, D, Hq, Hk, V, Hm = 6, 8, 4, 2, 11, 16
        Dh = D // Hq
        ids, y = sg.tensor("ids", (N, T), integer=True), sg.tensor("y", (N, T), integer=True)
        shapes = dict(E=(V, D), g1=(D,), g2=(D,), gf=(D,), Wq=(D, D), Wk=(Hk * Dh, D), Wv=(Hk * Dh, D),
                      Wo=(D, D), W1=(Hm, D), W3=(Hm, D), W2=(D, Hm))
        p = {k: sg.tensor(k, s) for k, s in shapes.items()}
        cos, sin = sg.tensor("cos", (T, Dh)), sg.tensor("sin", (T, Dh))

        def block(x, t, n, lib):
            nrm, lin, sdpa, act, cat = lib
            rope = lambda z: z * t["cos"] + cat([-z[..., Dh // 2:], z[..., :Dh // 2]]) * t["sin"]   # noqa: E731
            h = nrm(x, t["g1"])
            q, k, v = (lin(h, t[w]).reshape(n, T, hs, Dh).swapaxes(1, 2)
                       for w, hs in (("Wq", Hq), ("Wk", Hk), ("Wv", Hk)))
            a = sdpa(rope(q), rope(k), v, is_causal=True, enable_gqa=True).swapaxes(1, 2).reshape(n, T, D)
            x = x + lin(a, t["Wo"])
            h = nrm(x, t["g2"])
            x = x + lin(act(lin(h, t["W1"])) * lin(h, t["W3"]), t["W2"])
            return lin(nrm(x, t["gf"]), t["E"])
        ours = (lambda x, g: sg.rms_norm(x, (D,), g, eps=1e-6), sg.linear, sg.scaled_dot_product_attention, sg.silu,
                lambda parts: sg.concat(parts, axis=-1))
        theirs = (lambda x, g: F.rms_norm(x, (D,), g, 1e-6), F.linear, F.scaled_dot_product_attention, F.silu,
                  lambda parts: torch.cat(parts, dim=-1))
        logits = block(p["E"][ids], dict(p, cos=cos, sin=sin), N, ours)
        ang = np.arange(T)[:, None] * 10000.0 ** (-np.arange(0, Dh, 2) / Dh)[None]
        ang = np.concatenate([ang, ang], -1)

        def twin(t, d):
            out = block(t["E"][d["ids"]], dict(t, cos=d["cos"], sin=d["sin"]), B, theirs)
            return F.cross_entropy(out.reshape(-1, V), d["y"].reshape(-1))
        return (sg.cross_entropy(logits, y, axis=-1), list(p.values()), [ids, y, cos, sin],
                {k: 0.5 * _r(rng, *s) for k, s in shapes.items()},
                {"ids": rng.integers(0, V, (B, T)), "y": rng.integers(0, V, (B, T)), "cos": np.cos(ang),
                 "sin": np.sin(ang)}, twin)
    return cases


CASES = _cases()


@pytest.mark.parametrize("name", sorted(CASES))
def test_modern_layer_against_torch(name):
    compare_case(torch, CASES, name)


def test_rms_norm_refuses_torchs_dtype_dependent_default_eps():
    x = sg.tensor("x", (2, 4))
    with pytest.raises(sg.ArgumentError, match=r"give eps=.*float32: 1\.1920929e-07"):
        sg.rms_norm(x, (4,))
    with pytest.raises(sg.ShapeError, match=r"rms_norm: normalized_shape \(3,\) must be the last axes"):
        sg.rms_norm(x, (3,), eps=1e-6)


def test_enable_gqa_needs_dividing_head_counts():
    q, k = sg.tensor("q", (2, 4, 3, 2)), sg.tensor("k", (2, 3, 3, 2))
    with pytest.raises(sg.ShapeError, match=r"k has 3 heads .* must divide q's 4"):
        sg.scaled_dot_product_attention(q, k, k, enable_gqa=True)


def test_weight_normalization_compiles():
    """torch's weight norm, W = g · v / ‖v‖ per output row: sg.compile failed in the NumPy printer
    (SymPy folded 1/where(‖v‖² > 0, ‖v‖, 0) into a Piecewise with a complex infinity); the norm is
    now written so that its reciprocal stays a plain power."""
    rng = np.random.default_rng(5)
    x, v, g = sg.tensor("x", (N, 3)), sg.tensor("v", (4, 3)), sg.tensor("g", (4, 1))
    W = g * v / v.norm(dim=1, keepdim=True)
    compare_with_torch(torch, (sg.sum(sg.tanh(sg.linear(x, W))), [v, g], [x], {"v": _r(rng, 4, 3), "g": _r(rng, 4, 1)},
                               {"x": _r(rng, B, 3)},
                               lambda t, d: torch.tanh(F.linear(d["x"], torch._weight_norm(t["v"], t["g"], 0))).sum()), rng)
    vals = {"v": np.array([[0.0, 0.0, 0.0], [1.0, 2.0, 2.0]])}       # a zero row: the norm 0, its gradient 0
    vv = sg.tensor("v", (2, 3))
    assert np.array_equal(sg.numeric(vv.norm(dim=1), vals), [0.0, 3.0])
    np.testing.assert_allclose(sg.numeric(sg.grad(sg.sum(vv.norm(dim=1)), vv), vals),
                               [[0, 0, 0], [1 / 3, 2 / 3, 2 / 3]], rtol=1e-15)


@pytest.mark.parametrize("per_channel", [True, False])
def test_prelu(per_channel):
    rng = np.random.default_rng(6 + per_channel)
    C = 3
    x, w, a = sg.tensor("x", (N, 2, 4)), sg.tensor("w", (C, 2, 1)), sg.tensor("a", (C if per_channel else 1,))
    h = sg.prelu(sg.conv1d(x, w), a)
    data = {"x": _r(rng, B, 2, 4)}
    data["x"][0, :, 0] = 0.0                                      # a zero pre-activation: the slope's side
    compare_with_torch(torch, (sg.sum(h ** 2 + h), [w, a], [x], {"w": _r(rng, C, 2, 1), "a": _r(rng, C if per_channel else 1)},
                               data, lambda t, d: (lambda h: (h ** 2 + h).sum())(F.prelu(F.conv1d(d["x"], t["w"]), t["a"]))), rng)
    with pytest.raises(sg.ShapeError, match="has 5 slopes but x"):
        sg.prelu(x, sg.tensor("b", (5,)))
