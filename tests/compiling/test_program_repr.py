"""`History` and `Program` at the prompt and in Jupyter: a summary in one short line (epochs, losses,
time; parameters and shapes), never the arrays; History's HTML has a loss curve."""
import re

import numpy as np
import sympy as sp

import symgrad as sg
from symgrad.compiling.training import History


def _trained(epochs=4):
    w, x, y = sp.symbols("w x y")
    prog = sg.compile((w * x - y) ** 2 / 2, [w], [x, y], optimizer=sg.optim.SGD(lr=0.1))
    rng = np.random.default_rng(0)
    X = rng.normal(size=256).astype(np.float32)
    data = {"x": X, "y": 3 * X}
    return sg.train(prog, data, epochs=epochs, batch_size=32, values={"w": np.float32(0.0)}, progress=False)


def test_history_repr_summarises_instead_of_dumping_arrays():
    h = _trained()
    text = repr(h)
    assert len(text) < 200 and "\n" not in text and "array" not in text, text
    m = re.fullmatch(r"<History: 4 epochs, 32 steps, mean loss (\S+) → (\S+) \(best (\S+), epoch (\d)\), (\S+) s>", text)
    assert m, text
    first, last, best = (float(v) for v in m.groups()[:3])
    losses = h.metric("loss")
    assert first == float(f"{losses[0]:.4g}") and last == float(f"{losses[-1]:.4g}")
    assert best == float(f"{min(losses):.4g}") and int(m.group(4)) == 1 + int(np.argmin(losses))
    assert last < first                       # it learned: w → 3


def test_history_repr_names_metrics_and_interruption():
    h = History(loss=[1.0, 0.5], step=2, epochs=[{"epoch": 1, "loss": 0.75, "val_accuracy": 0.5, "seconds": 2.0}],
                interrupted=True, message="stopped")
    assert repr(h) == "<History: 1 epoch, 2 steps, mean loss 0.75 → 0.75 (best 0.75, epoch 1), val_accuracy 0.5, 2 s, interrupted>"
    empty = History(loss=[2.0, 1.0], step=2)        # Ctrl-C inside the first epoch: step losses
    assert repr(empty) == "<History: 0 epochs, 2 steps, step loss 2 → 1 (best 1), 0 s>"


def test_history_html_has_the_summary_and_a_loss_curve():
    h = _trained()
    page = h._repr_html_()
    assert "<svg" in page and "<polyline" in page and "<table>" in page
    points = re.search(r'points="([^"]+)"', page).group(1).split()
    assert len(points) == 4                   # one point per epoch
    ys = [float(p.split(",")[1]) for p in points]
    assert ys[0] < ys[-1]                     # SVG y grows downward: the first (highest) loss is on top
    assert len(page) < 3000                   # a summary, not the 32 step losses and the values
    one = History(loss=[3.0, 2.0, 1.0], step=3, epochs=[{"epoch": 1, "loss": 2.0, "seconds": 0.1}])
    assert len(re.search(r'points="([^"]+)"', one._repr_html_()).group(1).split()) == 3    # step losses


def test_program_repr_and_markdown():
    net = sg.mlp([3, 5, 2], act=sp.tanh)
    t = sp.MatrixSymbol("t", 2, 1)
    prog = sg.compile(sg.mse(net.output, t), net.params, [net.input, t], optimizer=sg.optim.Adam(lr=0.01),
                      outputs=[net.output])
    assert repr(prog) == ("<Program: parameters W1 (5, 3), b1 (5, 1), W2 (2, 5), b2 (2, 1); inputs x (3, 1), "
                          "t (2, 1) per example; Adam(lr=0.01); float32; 1 output(s)>")
    m = prog._repr_markdown_()
    assert "| parameter | W1 | (5, 3) |" in m and "| input | x | (3, 1) per example; a batch is (B, 3) |" in m
    assert "`forward(values, batch)" in m and "Adam(lr=0.01)" in m
    assert "def step" not in m                # the source is not dumped
