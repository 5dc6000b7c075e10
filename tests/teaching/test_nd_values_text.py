"""The steps of a CNN over a batch (``d.text()``, ``d.latex()``) print a 4-d value as the picture
draws it: its first plane, "at [0, 0, :, :] of 2x2x4x4"; a bias of shape (1, C, 1, 1) in full; a
value with large planes as its shape with min, mean and max. Numbers checked against torch."""
import re
import subprocess

import numpy as np
import pytest

import symgrad as sg
from symgrad.teaching.numbers import number
from symgrad.teaching.render import latex_document
from teachtools import need

torch = pytest.importorskip("torch")
F = torch.nn.functional


def _nums(s: str) -> np.ndarray:
    return np.array([float(c) for c in re.findall(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?", s)])


def _cnn():
    x, w, b, t = (sg.tensor("x", (2, 1, 6, 6)), sg.tensor("w", (2, 1, 3, 3)), sg.tensor("b", (2,)),
                  sg.tensor("t", (2, 2, 2, 2)))
    rng = np.random.default_rng(4)
    at = {x: rng.normal(size=(2, 1, 6, 6)), w: rng.normal(size=(2, 1, 3, 3)), b: np.array([0.25, -0.5]),
          t: rng.normal(size=(2, 2, 2, 2))}
    f = sg.sum((sg.max_pool2d(sg.relu(sg.conv2d(x, w, b)), 2) - t) ** 2) / 2
    return sg.derive(f, [w, b], at=at), {s.name: v for s, v in at.items()}


def _plane(line: str) -> np.ndarray:
    """The numbers of the grid printed before "at [0, 0, :, :]" on a step's line."""
    m = re.search(r"= (\[\[[^a-z]*?\]\]) at \[0, 0, :, :\]", line)
    assert m, line
    return _nums(m.group(1))


def _line(text: str, start: str) -> str:
    (line,) = [ln.strip() for ln in text.splitlines() if ln.strip().startswith(start)]
    return line


def test_steps_print_the_first_plane_of_4d_values_and_gradients():
    d, v = _cnn()
    text = d.text()
    assert "values)" not in text
    xt, wt = torch.tensor(v["x"]), torch.tensor(v["w"], requires_grad=True)
    z = F.conv2d(xt, wt) + torch.tensor(v["b"]).view(1, -1, 1, 1)
    z.retain_grad()
    (((F.max_pool2d(F.relu(z), 2) - torch.tensor(v["t"])) ** 2).sum() / 2).backward()
    zl = _line(text, "z = ")
    assert zl.endswith("at [0, 0, :, :] of 2x2x4x4"), zl
    np.testing.assert_allclose(_plane(zl), z.detach().numpy()[0, 0].ravel(),
                               rtol=1e-3, atol=1e-3)
    gl = _line(text, "delta = df/dz")
    np.testing.assert_allclose(_plane(gl), z.grad.numpy()[0, 0].ravel(),
                               rtol=1e-3, atol=1e-3)
    wl = _line(text.split("Gradient:")[0], "df/dw = ")
    assert "at [0, 0, :, :] of 2x1x3x3" in wl, wl
    np.testing.assert_allclose(_plane(wl), wt.grad.numpy()[0, 0].ravel(),
                               rtol=1e-3, atol=1e-3)
    bl = _line(text, "u2 = ")            # b reshaped to (2, 1, 1), as f's header writes it: both entries, nested
    assert bl.endswith("b.reshape(2, 1, 1) = [[[0.25]], [[-0.5]]]"), bl


def test_large_planes_print_shape_min_mean_and_max():
    a = np.random.default_rng(0).normal(size=(2, 1, 6, 6))
    s = number(a, "text")
    assert s.startswith("(2x1x6x6 values: min "), s
    np.testing.assert_allclose(_nums(s.split(":")[1]), [a.min(), a.mean(), a.max()], rtol=1e-3)
    assert "−" in number(-np.abs(a), "unicode")          # the Unicode form keeps its minus signs


def test_cnn_steps_with_numbers_compile_as_latex(tmp_path):
    pdflatex = need("pdflatex")
    d, _ = _cnn()
    body = d.latex()
    assert r"\text{ at [0, 0, :, :] of 2$\times$2$\times$4$\times$4}" in body
    (tmp_path / "cnn.tex").write_text(latex_document(body))
    r = subprocess.run([pdflatex, "-interaction=nonstopmode", "-halt-on-error", "cnn.tex"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, "\n".join(ln for ln in r.stdout.splitlines() if ln.startswith(("!", "l.")))
