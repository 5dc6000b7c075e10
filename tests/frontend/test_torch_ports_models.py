"""Eight models people write in PyTorch, ported to symgrad declarations and compared with
torch.autograd in float64 — the loss, every gradient, central differences (2026-11-30, ninth
session). Each model is one function written once, run with torch's ``F`` on tensors and with
symgrad (``sg``) on declarations: the torch code and the declaration are the same lines.

- a ViT: patch embedding (a conv of stride P), class token (``cls.expand(N, -1, -1)``, ``torch.cat``),
  position embedding, a pre-norm attention block, the head on the class token;
- a VAE: the reparameterisation trick (the noise ``eps`` an input) and its KL term, as the PyTorch
  example writes it (``F.binary_cross_entropy(recon, x, reduction="sum")``, ``logvar.exp()``);
- a temporal conv net: causal dilated ``F.conv1d`` by ``F.pad(x, ((k - 1) * d, 0))`` and by the
  paper's pad-then-chomp ``[:, :, :-pad]``, residual 1×1 downsample;
- a BERT-style masked language model: HF's extended additive attention mask, the tied decoder,
  ``F.cross_entropy(scores.view(-1, V), labels.view(-1), ignore_index=-100)``;
- mixup with label smoothing: the paper's λ·CE(ya) + (1 − λ)·CE(yb) with ``y[perm]``, and timm's
  smoothed soft target with SoftTargetCrossEntropy;
- a GRU over T steps (checked against ``nn.GRU`` too);
- a U-Net level: max-pool down, ``F.conv_transpose2d`` up, the skip concatenated, per-pixel CE;
- MobileNetV2's inverted residual: 1×1 expand, BN, ReLU6, depthwise 3×3 (groups), BN, project.

What the ports found, each fixed with its test here: ``F.softmax(s, dim=-1)`` was refused asking
for axis=; ``F.binary_cross_entropy`` had no symgrad name; labels taken at indices (``y[perm]``)
were not labels; ``torch.finfo(torch.float64).min`` in a mask evaluated as −inf
(`tests/core/test_exact_float_constants.py`).
"""
from __future__ import annotations


import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from tests.frontend.torch_port import Cases, compare_case, params

torch = pytest.importorskip("torch")
F = torch.nn.functional
N = sp.Symbol("N", integer=True, positive=True)


class SG:
    """torch.cat's spelling (``dim=``), the one torch name these models use that symgrad spells
    otherwise (``sg.concat(xs, axis=)``); the classes-on-axis-1 default of F.cross_entropy is the other
    (``axis=1``, the U-Net)."""
    cat = staticmethod(lambda xs, dim=0: sg.concat(xs, axis=dim))


class TT:
    cat = staticmethod(torch.cat)


def _cases():
    cases = case = Cases()

    @case
    def vit_patch_embedding_class_token(rng):
        B, C, H, P, D, K = 3, 3, 8, 4, 6, 5
        L = (H // P) ** 2
        shapes = {"Wp": (D, C, P, P), "bp": (D,), "cls": (1, 1, D), "pos": (1, L + 1, D), "g": (D,), "b": (D,),
                  "Wqkv": (3 * D, D), "Wo": (D, D), "Wh": (K, D), "bh": (K,)}

        def vit(t, d, F, lib, n):
            x = F.conv2d(d["img"], t["Wp"], t["bp"], stride=P)          # (N, D, H/P, W/P)
            x = x.flatten(2).transpose(1, 2)                              # (N, L, D)
            x = lib.cat([t["cls"].expand(n, -1, -1), x], dim=1) + t["pos"]
            h = F.layer_norm(x, (D,), t["g"], t["b"])
            q, k, v = F.linear(h, t["Wqkv"]).chunk(3, dim=-1)
            a = F.softmax(q @ k.transpose(-2, -1) / D ** 0.5, dim=-1) @ v
            x = x + F.linear(a, t["Wo"])
            return F.cross_entropy(F.linear(x[:, 0], t["Wh"], t["bh"]), d["y"])
        img, y = sg.tensor("img", (N, C, H, H)), sg.tensor("y", (N,), integer=True)
        p, vals = params(rng, shapes)
        return (vit(p, {"img": img, "y": y}, sg, SG, N), list(p.values()), [img, y], vals,
                {"img": rng.normal(size=(B, C, H, H)), "y": rng.integers(0, K, B)}, lambda t, d: vit(t, d, F, TT, B))

    @case
    def vae_reparameterisation_and_kl(rng):
        B, Dx, Hd, Z = 4, 6, 5, 2
        shapes = {"W1": (Hd, Dx), "b1": (Hd,), "W21": (Z, Hd), "b21": (Z,), "W22": (Z, Hd), "b22": (Z,),
                  "W3": (Hd, Z), "b3": (Hd,), "W4": (Dx, Hd), "b4": (Dx,)}

        def vae(t, d, F, torch):
            h = F.relu(F.linear(d["x"], t["W1"], t["b1"]))
            mu, logvar = F.linear(h, t["W21"], t["b21"]), F.linear(h, t["W22"], t["b22"])
            std = torch.exp(0.5 * logvar)
            z = mu + d["eps"] * std                        # eps = torch.randn_like(std): an input here
            recon = torch.sigmoid(F.linear(F.relu(F.linear(z, t["W3"], t["b3"])), t["W4"], t["b4"]))
            bce = F.binary_cross_entropy(recon, d["x"], reduction="sum")
            kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
            return bce + kld
        x, eps = sg.tensor("x", (N, Dx)), sg.tensor("eps", (N, Z))
        p, vals = params(rng, shapes)
        return (vae(p, {"x": x, "eps": eps}, sg, sg), list(p.values()), [x, eps], vals,
                {"x": rng.uniform(size=(B, Dx)), "eps": rng.normal(size=(B, Z))}, lambda t, d: vae(t, d, F, torch))

    @case
    def temporal_conv_net_causal_dilated(rng):
        B, Cin, Ch, L, k, K = 3, 2, 4, 9, 3, 5
        shapes = {"w1": (Ch, Cin, k), "b1": (Ch,), "w2": (Ch, Ch, k), "b2": (Ch,), "wd": (Ch, Cin, 1), "bd": (Ch,),
                  "w3": (Ch, Ch, k), "b3": (Ch,), "Wh": (K, Ch), "bh": (K,)}

        def tcn(t, d, F):
            def causal(h, w, b, dil):                      # the output at time i sees i, i − d, …
                return F.conv1d(F.pad(h, ((k - 1) * dil, 0)), w, b, dilation=dil)

            def chomped(h, w, b, dil):                     # the TCN paper's code: pad, then chomp
                pad = (k - 1) * dil
                return F.conv1d(h, w, b, padding=pad, dilation=dil)[:, :, :-pad]
            h = F.relu(causal(d["x"], t["w1"], t["b1"], 1))
            h = F.relu(chomped(h, t["w2"], t["b2"], 1))
            h1 = F.relu(h + F.conv1d(d["x"], t["wd"], t["bd"]))        # residual, 1×1 downsample
            h2 = F.relu(causal(h1, t["w3"], t["b3"], 2)) + h1           # dilation 2
            return F.cross_entropy(F.linear(h2[:, :, -1], t["Wh"], t["bh"]), d["y"])
        x, y = sg.tensor("x", (N, Cin, L)), sg.tensor("y", (N,), integer=True)
        p, vals = params(rng, shapes)
        return (tcn(p, {"x": x, "y": y}, sg), list(p.values()), [x, y], vals,
                {"x": rng.normal(size=(B, Cin, L)), "y": rng.integers(0, K, B)}, lambda t, d: tcn(t, d, F))

    @case
    def bert_masked_language_model_ignore_index(rng):
        B, T, V, D = 3, 5, 11, 6
        shapes = {"E": (V, D), "P": (T, D), "g": (D,), "b": (D,), "Wq": (D, D), "Wk": (D, D), "Wv": (D, D),
                  "Wt": (D, D), "bt": (D,), "g2": (D,), "b2": (D,), "bias": (V,)}

        def bert_mlm(t, d, F):
            h = F.layer_norm(t["E"][d["ids"]] + t["P"], (D,), t["g"], t["b"])
            q, k, v = F.linear(h, t["Wq"]), F.linear(h, t["Wk"]), F.linear(h, t["Wv"])
            ext = (1.0 - d["mask"][:, None, :]) * -10000.0                # BERT's extended attention mask
            h = h + F.softmax(q @ k.transpose(-1, -2) / D ** 0.5 + ext, dim=-1) @ v
            h = F.layer_norm(F.gelu(F.linear(h, t["Wt"], t["bt"])), (D,), t["g2"], t["b2"])
            scores = h @ t["E"].T + t["bias"]                             # the decoder tied to E
            return F.cross_entropy(scores.view(-1, V), d["labels"].view(-1), ignore_index=-100)
        ids, labels = sg.tensor("ids", (N, T), integer=True), sg.tensor("labels", (N, T), integer=True)
        mask = sg.tensor("mask", (N, T))
        p, vals = params(rng, shapes)
        idv = rng.integers(0, V, (B, T))
        m = np.ones((B, T))
        m[1, 3:], m[2, 4:] = 0, 0
        lab = np.where((rng.uniform(size=(B, T)) < 0.4) & (m > 0), idv, -100)
        lab[0, 0] = idv[0, 0]
        return (bert_mlm(p, {"ids": ids, "labels": labels, "mask": mask}, sg), list(p.values()), [ids, labels, mask],
                vals, {"ids": idv, "labels": lab, "mask": m}, lambda t, d: bert_mlm(t, d, F))

    def _mixup(rng, soft):
        B, D, H, C = 5, 4, 6, 3
        shapes = {"W1": (H, D), "b1": (H,), "W2": (C, H), "b2": (C,)}

        def mixup(t, d, F, lib):
            lam = d["lam"]
            xm = lam * d["x"] + (1 - lam) * d["x"][d["perm"]]           # mixup within the batch
            out = F.linear(F.relu(F.linear(xm, t["W1"], t["b1"])), t["W2"], t["b2"])
            ya, yb = d["y"], d["y"][d["perm"]]
            if not soft:                                                   # the mixup paper's loss
                return (lam * F.cross_entropy(out, ya, label_smoothing=0.1)
                        + (1 - lam) * F.cross_entropy(out, yb, label_smoothing=0.1))
            off, on = 0.1 / C, 1 - 0.1 + 0.1 / C                           # timm's Mixup target
            target = lam * (F.one_hot(ya, C).double() * (on - off) + off) \
                + (1 - lam) * (F.one_hot(yb, C).double() * (on - off) + off)
            return lib.sum(-target * F.log_softmax(out, dim=-1), dim=-1).mean()   # SoftTargetCrossEntropy
        decl = {"x": sg.tensor("x", (N, D)), "y": sg.tensor("y", (N,), integer=True),
                "perm": sg.tensor("perm", (N,), integer=True), "lam": sg.tensor("lam", ())}
        p, vals = params(rng, shapes)
        data = {"x": rng.normal(size=(B, D)), "y": rng.integers(0, C, B), "perm": rng.permutation(B),
                "lam": np.array(0.7)}
        return (mixup(p, decl, sg, sg), list(p.values()), list(decl.values()), vals, data,
                lambda t, d: mixup(t, d, F, torch))

    @case
    def mixup_label_smoothing_two_labels(rng):
        return _mixup(rng, soft=False)

    @case
    def mixup_label_smoothing_soft_target(rng):
        return _mixup(rng, soft=True)

    @case
    def gru_over_time_steps(rng):
        B, T, D, H, K = 3, 4, 3, 5, 2
        shapes = {"W_ih": (3 * H, D), "W_hh": (3 * H, H), "b_ih": (3 * H,), "b_hh": (3 * H,), "Wo": (K, H), "bo": (K,)}

        def last_state(t, d, F, torch, h):                # nn.GRU's equations, gates r, z, n
            for xt in d["x"].unbind(1):
                i_r, i_z, i_n = F.linear(xt, t["W_ih"], t["b_ih"]).chunk(3, 1)
                h_r, h_z, h_n = F.linear(h, t["W_hh"], t["b_hh"]).chunk(3, 1)
                r, z = torch.sigmoid(i_r + h_r), torch.sigmoid(i_z + h_z)
                h = (1 - z) * torch.tanh(i_n + r * h_n) + z * h
            return F.cross_entropy(F.linear(h, t["Wo"], t["bo"]), d["y"]), h

        def twin(t, d):
            loss, h = last_state(t, d, F, torch, torch.zeros(B, H, dtype=torch.float64))
            gru = torch.nn.GRU(D, H, batch_first=True).double()
            with torch.no_grad():
                for name in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"):
                    getattr(gru, name).copy_(t[name.replace("weight", "W").replace("bias", "b")[:4]])
            torch.testing.assert_close(gru(d["x"])[1][0], h)          # the equations are nn.GRU's
            return loss
        x, y = sg.tensor("x", (N, T, D)), sg.tensor("y", (N,), integer=True)
        p, vals = params(rng, shapes)
        loss, _ = last_state(p, {"x": x, "y": y}, sg, sg, sg.zeros((N, H)))
        return (loss, list(p.values()), [x, y], vals, {"x": rng.normal(size=(B, T, D)), "y": rng.integers(0, K, B)},
                twin)

    @case
    def unet_level_with_skip_concat(rng):
        B, C, S, K = 2, 2, 8, 3
        shapes = {"w1": (4, C, 3, 3), "b1": (4,), "w2": (8, 4, 3, 3), "b2": (8,), "wu": (8, 4, 2, 2), "bu": (4,),
                  "w3": (4, 8, 3, 3), "b3": (4,), "wo": (K, 4, 1, 1), "bo": (K,)}

        def unet(t, d, F, lib, ce):
            e = F.relu(F.conv2d(d["img"], t["w1"], t["b1"], padding=1))                # (N, 4, 8, 8)
            m = F.relu(F.conv2d(F.max_pool2d(e, 2), t["w2"], t["b2"], padding=1))      # (N, 8, 4, 4)
            u = F.conv_transpose2d(m, t["wu"], t["bu"], stride=2)                       # (N, 4, 8, 8)
            h = F.relu(F.conv2d(lib.cat([u, e], dim=1), t["w3"], t["b3"], padding=1))   # the skip
            return ce(F.conv2d(h, t["wo"], t["bo"]), d["seg"])                          # classes on axis 1
        img, seg = sg.tensor("img", (N, C, S, S)), sg.tensor("seg", (N, S, S), integer=True)
        p, vals = params(rng, shapes)
        loss = unet(p, {"img": img, "seg": seg}, sg, SG, lambda s, y: sg.cross_entropy(s, y, axis=1))
        return (loss, list(p.values()), [img, seg], vals,
                {"img": rng.normal(size=(B, C, S, S)), "seg": rng.integers(0, K, (B, S, S))},
                lambda t, d: unet(t, d, F, TT, F.cross_entropy))

    @case
    def mobilenet_v2_inverted_residual(rng):
        B, C, S, E = 2, 3, 5, 6
        shapes = {"we": (E, C, 1, 1), "g1": (E,), "b1": (E,), "wd": (E, 1, 3, 3), "g2": (E,), "b2": (E,),
                  "wp": (C, E, 1, 1), "g3": (C,), "b3": (C,)}

        def inverted_residual(t, d, F):
            def bn(h, g, b):
                return F.batch_norm(h, None, None, g, b, training=True)
            h = F.relu6(bn(F.conv2d(d["x"], t["we"]), t["g1"], t["b1"]))
            h = F.relu6(bn(F.conv2d(h, t["wd"], padding=1, groups=E), t["g2"], t["b2"]))   # depthwise
            h = bn(F.conv2d(h, t["wp"]), t["g3"], t["b3"])
            return ((h + d["x"]) ** 2).mean()
        x = sg.tensor("x", (N, C, S, S))
        p, vals = params(rng, shapes, scale=1.0)
        return (inverted_residual(p, {"x": x}, sg), list(p.values()), [x], vals,
                {"x": rng.normal(size=(B, C, S, S))}, lambda t, d: inverted_residual(t, d, F))
    return cases


CASES = _cases()


@pytest.mark.parametrize("name", sorted(CASES))
def test_ported_model_against_torch(name):
    compare_case(torch, CASES, name)


def test_labels_taken_at_indices_are_labels_and_range_checked():
    """mixup's y[perm]: labels (it was 'not an integer tensor'); compiled, y's values are checked."""
    y, perm, s = sg.tensor("y", (N,), integer=True), sg.tensor("perm", (N,), integer=True), sg.tensor("s", (N, 3))
    assert y[perm].is_integer_tensor and not s[perm].is_integer_tensor
    W = sg.tensor("W", (3,))
    prog = sg.compile(sg.cross_entropy(s * W, y[perm]), [W], [s, y, perm], dtype="float64")
    data = {"s": np.ones((3, 3)), "y": np.array([0, 2, 1]), "perm": np.array([2, 0, 1])}
    assert np.isclose(prog.loss({"W": np.ones(3)}, data), np.log(3))
    with pytest.raises(sg.LabelRangeError, match="'y'"):
        prog.loss({"W": np.ones(3)}, {**data, "y": np.array([0, 5, 1])})


def test_torch_keywords_of_softmax_and_binary_cross_entropy():
    s, p, y = sg.tensor("s", (4, 3)), sg.tensor("p", (4, 3)), sg.tensor("y", (4, 3))
    assert sg.softmax(s, dim=-1) == sg.softmax(s, axis=-1) and sg.log_softmax(s, dim=0) == sg.log_softmax(s, axis=0)
    assert sg.logsumexp(s, dim=1, keepdim=True) == sg.logsumexp(s, axis=1, keepdims=True)
    with pytest.raises(sg.ArgumentError, match="not both"):
        sg.softmax(s, axis=1, dim=1)
    rng = np.random.default_rng(5)
    vals = {"p": rng.uniform(0.1, 0.9, (4, 3)), "y": rng.uniform(size=(4, 3)), "w": rng.uniform(size=3)}
    w = sg.tensor("w", (3,))
    want = F.binary_cross_entropy(torch.tensor(vals["p"]), torch.tensor(vals["y"]), torch.tensor(vals["w"]))
    assert abs(sg.numeric(sg.binary_cross_entropy(p, y, w), vals) - want.item()) < 1e-12
    assert sg.binary_cross_entropy(p, y, reduction="sum") == sg.bce(p, y, reduction="sum")


def test_noise_is_refused_naming_an_input():
    with pytest.raises(AttributeError, match=r"sg\.tensor\('eps', shape\)"):
        sg.randn_like
