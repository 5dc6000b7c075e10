"""An LSTM sequence classifier written as PyTorch code writes it, trained by symgrad, then used as a
layer of a torch model.

    PYTHONPATH=. python examples/port_lstm.py [--epochs 15]

The task: sequences of T = 5 steps of 3 features; the class is the feature with the largest sum over
the steps. The model is torch's LSTM cell unrolled over the steps (fused gates x_t·W_ihᵀ + b_ih +
h·W_hhᵀ + b_hh cut by ``chunk(4, dim=1)`` into input, forget, cell and output gates) and a linear head
on the last h. symgrad compiles the loss, its gradients and Adam into one NumPy step and
``sg.train`` runs it; ``prog.as_torch()`` then gives the trained model as a ``torch.nn.Module``
whose predictions match torch's own ``nn.LSTM`` loaded with the same weights. Printed: the loss
before and after training, the test accuracy, and the largest difference from ``nn.LSTM``.
"""
from __future__ import annotations

import argparse

import numpy as np
import sympy as sp

import symgrad as sg

N = sp.Symbol("N", integer=True, positive=True)
T, D, H, C = 5, 3, 16, 3


def lstm_classifier():
    """(loss, logits, params, inputs): the model over a batch of N sequences."""
    x, y = sg.tensor("x", (N, T, D)), sg.tensor("y", (N,), integer=True)
    W_ih, W_hh = sg.tensor("W_ih", (4 * H, D)), sg.tensor("W_hh", (4 * H, H))
    b_ih, b_hh = sg.tensor("b_ih", (4 * H,)), sg.tensor("b_hh", (4 * H,))
    W, b = sg.tensor("W", (C, H)), sg.tensor("b", (C,))
    h = c = sg.zeros((N, H))
    for x_t in x.unbind(1):                                     # the steps, as torch's loop
        i, f, g, o = (sg.linear(x_t, W_ih, b_ih) + sg.linear(h, W_hh, b_hh)).chunk(4, dim=1)
        c = f.sigmoid() * c + i.sigmoid() * g.tanh()
        h = o.sigmoid() * c.tanh()
    logits = sg.linear(h, W, b)
    return sg.cross_entropy(logits, y), logits, [W_ih, W_hh, b_ih, b_hh, W, b], [x, y]


def data(n, rng):
    x = rng.normal(size=(n, T, D))
    return {"x": x, "y": x.sum(axis=1).argmax(axis=1)}


def main(epochs=15, seed=0):
    rng = np.random.default_rng(seed)
    loss, logits, params, inputs = lstm_classifier()
    prog = sg.compile(loss, params, inputs, outputs=[logits], dtype="float64", optimizer=sg.optim.Adam(lr=0.02))
    train, test = data(600, rng), data(300, rng)
    values = {p.name: rng.uniform(-1, 1, tuple(p.shape)) / np.sqrt(H) for p in params}   # nn.LSTM's init
    before = prog.loss(values, train)
    history = sg.train(prog, train, values=values, epochs=epochs, batch_size=32, seed=seed, progress=False)
    values = history.values
    accuracy = float(np.mean(prog.forward(values, {"x": test["x"]})[0].argmax(axis=1) == test["y"]))
    print(f"loss {before:.3f} -> {prog.loss(values, train):.3f}; test accuracy {accuracy:.3f}")

    import torch                                                # the trained model inside torch
    module = prog.as_torch(values)
    lstm, head = torch.nn.LSTM(D, H, batch_first=True).double(), torch.nn.Linear(H, C).double()
    with torch.no_grad():
        for name in ("W_ih", "W_hh", "b_ih", "b_hh"):
            getattr(lstm, name.replace("W_", "weight_").replace("b_", "bias_") + "_l0").copy_(module.parameter(name))
        head.weight.copy_(module.parameter("W"))
        head.bias.copy_(module.parameter("b"))
        X = torch.tensor(test["x"])
        diff = (module(X) - head(lstm(X)[1][0][0])).abs().max().item()
    print(f"largest difference from torch.nn.LSTM with the same weights: {diff:.1e}")
    return accuracy, diff


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=15)
    main(ap.parse_args().epochs)
