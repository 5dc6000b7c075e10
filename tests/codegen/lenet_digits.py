"""The digits CNN of `examples/train_cnn_digits.py`, declared, and its loss written in torch."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import torch
import torch.nn.functional as F

EXAMPLE = Path(__file__).resolve().parent.parent.parent / "examples" / "train_cnn_digits.py"


def lenet(c1: int, c2: int):
    """The example's ``lenet(c1, c2)``: (the model, the loss, its parameters, its inputs)."""
    spec = importlib.util.spec_from_file_location("train_cnn_digits", EXAMPLE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.lenet(c1, c2)


def torch_lenet_loss(t: dict, x, y):
    """The same network's cross-entropy in torch; ``t``: name -> torch tensor (w1, b1, w2, b2, W3, b3),
    x an (N, 1, 8, 8) array, y the labels."""
    h = F.max_pool2d(F.relu(F.conv2d(torch.tensor(x), t["w1"], t["b1"], padding=1)), 2)
    h = F.max_pool2d(F.relu(F.conv2d(h, t["w2"], t["b2"], padding=1)), 2)
    return F.cross_entropy(h.reshape(x.shape[0], -1) @ t["W3"] + t["b3"], torch.tensor(y, dtype=torch.int64))
