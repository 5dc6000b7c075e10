"""The notes of a conv layer, a pooling layer and a residual block, and the teaching examples that
print them. Expected phrases are written from the lecture notes' derivation, not from the output."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
import sympy as sp

import symgrad as sg
from symgrad.errors import ArgumentError
from symgrad.teaching.conv_notes import layer_notes, residual_notes

N = sp.Symbol("N", integer=True, positive=True)
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "teaching"


def test_conv_layer_notes_index_form_and_array_form():
    x, w, b = sg.tensor("x", (N, 3, 7, 7)), sg.tensor("w", (4, 3, 3, 3)), sg.tensor("b", (4,))
    text = str(layer_notes(sg.conv2d(x, w, b, stride=2, padding=1)))
    assert "out[n, f, i, j] = b[f] + Σ_c Σ_k Σ_l x_pad[n, c, 2i + k, 2j + l] · w[f, c, k, l]" in text
    assert "∂L/∂b[f] = Σ_n Σ_i Σ_j δ[n, f, i, j]" in text and "= δ.sum(axis=(0, 2, 3))" in text
    assert "∂L/∂w[f, c, k, l] = Σ_n Σ_i Σ_j δ[n, f, i, j] · x_pad[n, c, 2i + k, 2j + l]" in text
    assert "the correlation of the input with δ" in text
    assert "flip(w, (2, 3))" in text and "input_dilation=2" in text
    assert "the full convolution of δ spread out by the stride" in text and "flipped kernel" in text
    latex = layer_notes(sg.conv2d(x, w, dilation=2)).latex()
    assert latex.startswith("\\begin{align*}") and "x_{n, c, i + 2k, j + 2l}" in latex


def test_pool_notes_name_the_switch_and_the_spread():
    h = sg.tensor("h", (N, 4, 4, 4))
    assert "the pooling switch" in str(layer_notes(sg.max_pool2d(h, 2)))
    assert "δ/4 spread over each window" in str(layer_notes(sg.avg_pool2d(h, 2)))
    with pytest.raises(ArgumentError, match="conv2d"):
        layer_notes(sg.relu(h))


def test_residual_block_shows_the_gradient_highway_as_one_line():
    x, w1, w2 = sg.tensor("x", (N, 2, 5, 5)), sg.tensor("w1", (2, 2, 3, 3)), sg.tensor("w2", (2, 2, 3, 3))
    branch = sg.conv2d(sg.relu(sg.conv2d(x, w1, padding=1)), w2, padding=1)
    lines = str(residual_notes(branch, x, [w2])).splitlines()
    highway = [ln for ln in lines if "gradient highway" in ln]
    assert len(highway) == 1 and highway[0].startswith("∂L/∂x = δ_s ")
    assert any(ln.lstrip().startswith("+ conv2d(") and "through the branch" in ln for ln in lines)


def _load(name):
    sys.path.insert(0, str(EXAMPLES))
    spec = importlib.util.spec_from_file_location(f"teaching_{name}", EXAMPLES / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_conv_layer_example(capsys, tmp_path):
    mod = _load("conv_layer")
    assert mod.check_numbers() < 1e-12            # the notes' ∂L/∂w is the cs231n loop's
    mod.main(["--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert "the correlation of the input with δ" in out and "the pooling switch" in out
    assert (tmp_path / "conv_layer.tex").read_text().count("\\begin{align*}") == 2
    _compiles(tmp_path / "conv_layer.tex")        # a document, as the other examples' .tex files


def _compiles(path):
    import subprocess
    from teachtools import need
    r = subprocess.run([need("pdflatex"), "-interaction=nonstopmode", "-halt-on-error", path.name],
                       cwd=path.parent, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-1500:]


def test_resnet_block_example(capsys, tmp_path):
    _load("resnet_block").main(["--out", str(tmp_path)])
    assert "the gradient highway" in capsys.readouterr().out
    _compiles(tmp_path / "resnet_block.tex")
