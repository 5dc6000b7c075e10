"""Two small convolutional models ported from torch modules, their weights taken from the modules
(`state_dict` names and layouts), compiled to the NumPy target and compared with the modules'
torch.autograd gradients in float64:

- a MobileNetV3-style block: depthwise conv (groups = C) → BatchNorm2d (training) → hardswish →
  pointwise conv → global average pool → linear head, cross-entropy;
- a U-Net-style step: conv → GroupNorm → relu, max pool, conv, ConvTranspose2d (stride 2) back up,
  the skip concatenated, a 1×1 conv, reflect padding, nearest upsampling, an MSE loss."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symgrad as sg

torch = pytest.importorskip("torch")
nn, F = torch.nn, torch.nn.functional
N = sp.Symbol("N", integer=True, positive=True)


def _compare(loss, params, inputs, module, data, torch_loss):
    """params named as module.state_dict(); the module's values and its gradients, against ours."""
    vals = {k: v.detach().numpy().copy() for k, v in module.state_dict().items() if k in {p.name for p in params}}
    prog = sg.compile(loss, params, inputs, dtype="float64")
    module.zero_grad()
    lt = torch_loss({k: torch.tensor(v) for k, v in data.items()})
    lt.backward()
    assert abs(prog.loss(vals, data) - lt.item()) < 1e-10
    grads = prog.grad(vals, data)
    named = dict(module.named_parameters())
    for k in vals:
        np.testing.assert_allclose(grads[k], named[k].grad.numpy(), rtol=1e-9, atol=1e-11, err_msg=k)


def test_mobilenet_block_equals_the_torch_module():
    torch.manual_seed(0)
    C, E, K = 4, 6, 3
    block = nn.ModuleDict({"dw": nn.Conv2d(C, C, 3, padding=1, groups=C, bias=False), "bn": nn.BatchNorm2d(C),
                           "pw": nn.Conv2d(C, E, 1), "head": nn.Linear(E, K)}).double()
    with torch.no_grad():
        block["bn"].weight.uniform_(0.5, 1.5)
        block["bn"].bias.uniform_(-0.5, 0.5)
    P = {k: sg.tensor(k, tuple(v.shape)) for k, v in block.named_parameters()}
    x, y = sg.tensor("x", (N, C, 5, 5)), sg.tensor("y", (N,), integer=True)
    h = sg.conv2d(x, P["dw.weight"], padding=1, groups=C)
    h = sg.hardswish(sg.batch_norm(h, None, None, P["bn.weight"], P["bn.bias"], training=True))
    h = sg.conv2d(h, P["pw.weight"], P["pw.bias"])
    logits = sg.linear(sg.adaptive_avg_pool2d(h, 1).flatten(1), P["head.weight"], P["head.bias"])
    rng = np.random.default_rng(0)
    data = {"x": rng.normal(size=(4, C, 5, 5)), "y": rng.integers(0, K, 4)}

    def torch_loss(d):
        t = F.hardswish(block["bn"](block["dw"](d["x"])))
        t = nn.AdaptiveAvgPool2d((1, 1))(block["pw"](t)).flatten(1)
        return F.cross_entropy(block["head"](t), d["y"])
    block.train()
    _compare(sg.cross_entropy(logits, y), list(P.values()), [x, y], block, data, torch_loss)


def test_unet_step_equals_the_torch_module():
    torch.manual_seed(1)
    C, H = 2, 4
    net = nn.ModuleDict({"down": nn.Conv2d(C, H, 3, padding="same"), "gn": nn.GroupNorm(2, H),
                         "mid": nn.Conv2d(H, H, 3, padding=1),
                         "up": nn.ConvTranspose2d(H, H, 2, stride=2),
                         "out": nn.Conv2d(2 * H, C, 1)}).double()
    P = {k: sg.tensor(k, tuple(v.shape)) for k, v in net.named_parameters()}
    x, target = sg.tensor("x", (N, C, 6, 6)), sg.tensor("t", (N, C, 14, 14))
    skip = sg.relu(sg.group_norm(sg.conv2d(x, P["down.weight"], P["down.bias"], padding="same"), 2,
                                 P["gn.weight"], P["gn.bias"]))
    h = sg.relu(sg.conv2d(sg.max_pool2d(skip, 2), P["mid.weight"], P["mid.bias"], padding=1))
    h = sg.conv_transpose2d(h, P["up.weight"], P["up.bias"], stride=2)
    h = sg.conv2d(sg.concat([h, skip], axis=1), P["out.weight"], P["out.bias"])
    out = sg.interpolate(sg.pad(h, (1, 0, 0, 1), mode="reflect"), scale_factor=2)
    rng = np.random.default_rng(1)
    data = {"x": rng.normal(size=(3, C, 6, 6)), "t": rng.normal(size=(3, C, 14, 14))}

    def torch_loss(d):
        s = F.relu(net["gn"](net["down"](d["x"])))
        u = net["up"](F.relu(net["mid"](F.max_pool2d(s, 2))))
        o = net["out"](torch.cat([u, s], 1))
        return F.mse_loss(F.interpolate(F.pad(o, (1, 0, 0, 1), mode="reflect"), scale_factor=2), d["t"])
    _compare(sg.mse(out, target), list(P.values()), [x, target], net, data, torch_loss)
