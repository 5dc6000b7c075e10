"""examples/teaching/optimizers.py: each optimizer's update rule as the notes write it, then two
steps with numbers on the world's smallest perceptron (ŷ = w·x, L = ½(y − ŷ)², from w = 0.5 on the
slide's samples (10, 10.1) and (2, 1.9)). Every printed number is checked against torch.optim
driving the same perceptron with torch.autograd's gradients; the first gradient against the
slide's −51 (x·(ŷ − y) = 10·(5 − 10.1))."""
import re

import numpy as np
import pytest

from test_teaching_examples import load, run

torch = pytest.importorskip("torch")


def _torch_run(make):
    w = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
    opt, out = make([w]), []
    for x, y in [(10.0, 10.1), (2.0, 1.9)]:
        opt.zero_grad()
        loss = 0.5 * (y - w * x) ** 2
        loss.backward()
        out.append((float(w.grad), None))
        opt.step()
        out[-1] = (out[-1][0], float(w.detach()))
    return out


TORCH = {
    "Momentum": lambda ps: torch.optim.SGD(ps, lr=0.005, momentum=0.9),
    "Adagrad": lambda ps: torch.optim.Adagrad(ps, lr=0.1),
    "RMSprop": lambda ps: torch.optim.RMSprop(ps, lr=0.01, alpha=0.9),
    "Adam": lambda ps: torch.optim.Adam(ps, lr=0.1),
}


def _blocks(text):
    """{name: [(g, new p) per step]} from the printed text."""
    out = {}
    for block in text.split("\n\n"):
        name = block.split()[0]
        gs = [float(v.replace("−", "-")) for v in re.findall(r"^  g = x·\(w·x − y\) = (\S+)$", block, re.M)]
        ps = [float(v.replace("−", "-")) for v in re.findall(r"^  p ← .* = (\S+)$", block, re.M)]
        if gs:
            out[name] = list(zip(gs, ps))
    return out


def test_the_printed_steps_are_torchs(capsys, tmp_path):
    text = run("optimizers", capsys, tmp_path)
    blocks = _blocks(text)
    assert sorted(blocks) == sorted(TORCH), sorted(blocks)
    for name, make in TORCH.items():
        expected = _torch_run(make)
        assert len(blocks[name]) == 2, blocks[name]
        np.testing.assert_allclose(np.array(blocks[name]), np.array(expected), rtol=1e-3, err_msg=name)
    assert blocks["Adam"][0][0] == -51          # the slide's first gradient, 10·(0.5·10 − 10.1)


def test_the_rules_read_as_the_notes(capsys, tmp_path):
    text = run("optimizers", capsys, tmp_path)
    for line in ["  v ← μ·v − η·g", "  p ← p + v",                           # momentum, velocity form
                 "  s ← s + g²", "  p ← p − η·g/(√s + ε)",                  # AdaGrad: ε after the root
                 "  v ← α·v + (1 − α)·g²", "  p ← p − η·g/(√v + ε)",        # RMSProp
                 "  m̂ = m/(1 − β₁ᵗ)", "  v̂ = v/(1 − β₂ᵗ)", "  p ← p − η·m̂/(√v̂ + ε)",   # Adam's corrections
                 "(η = 0.1, β₁ = 0.9, β₂ = 0.999, ε = 1e−8)"]:
        assert line in text, line


def test_the_latex_compiles(capsys, tmp_path):
    from teachtools import need
    need("pdflatex")
    run("optimizers", capsys, tmp_path)
    tex = (tmp_path / "optimizers.tex").read_text()
    assert r"\epsilon = 10^{-8}" in tex and "1e-" not in tex
    assert (tmp_path / "optimizers.pdf").stat().st_size > 0
