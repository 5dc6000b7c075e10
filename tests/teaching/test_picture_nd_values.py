"""A 3-d or 4-d value on an edge of the picture (a CNN over a batch) shows numbers a lecturer can
read: the grid of its first plane (image 0, channel 0), captioned "[0, 0, :, :] of 2×2×4×4", for
forward values and gradients alike; never "(2×2×4×4 values)". The numbers are checked against
torch's forward pass and torch.autograd."""
import re

import numpy as np
import pytest

import symgrad as sg
from picture_parse import GREEN, RED, edges, node_names
from symgrad.teaching.graph_picture import CHAR, value_part

torch = pytest.importorskip("torch")
F = torch.nn.functional


def grid(s: str) -> np.ndarray:
    """ "[[a, b], [c, d]]" as the picture prints it (Unicode minus signs), parsed, not evaluated."""
    rows = re.findall(r"\[([^\[\]]*)\]", s)
    return np.array([[float(c.replace("−", "-")) for c in r.split(", ")] for r in rows])


def _cnn():
    x, w, b, t = (sg.tensor("x", (2, 1, 6, 6)), sg.tensor("w", (2, 1, 3, 3)), sg.tensor("b", (2,)),
                  sg.tensor("t", (2, 2, 2, 2)))
    rng = np.random.default_rng(3)
    at = {x: rng.normal(size=(2, 1, 6, 6)), w: rng.normal(size=(2, 1, 3, 3)), b: np.array([0.1, -0.1]),
          t: rng.normal(size=(2, 2, 2, 2))}
    d = sg.derive(sg.sum((sg.max_pool2d(sg.relu(sg.conv2d(x, w, b)), 2) - t) ** 2) / 2, [w, b])
    return d.graph(at=at).source, {s.name: v for s, v in at.items()}


def _torch_cnn(v):
    x, w, t = (torch.tensor(v[k]) for k in "xwt")
    w.requires_grad_(True)
    conv = F.conv2d(x, w)
    conv.retain_grad()
    z = conv + torch.tensor(v["b"]).view(1, -1, 1, 1)
    z.retain_grad()
    y = F.relu(z)
    y.retain_grad()
    (((F.max_pool2d(y, 2) - t) ** 2).sum() / 2).backward()
    return {"w": (w, w.grad), "conv": (conv, conv.grad), "z": (z, z.grad), "y": (y, y.grad)}


def test_a_cnn_over_a_batch_prints_no_bare_shape():
    src, _ = _cnn()
    assert "values)" not in src
    assert "[0, 0, :, :] of 2×2×4×4" in src and "[0, 0, :, :] of 2×1×3×3" in src


def test_the_grids_of_4d_values_and_gradients_are_torchs_first_plane():
    src, v = _cnn()
    want = _torch_cnn(v)
    names = node_names(src)
    by_source = {}
    for name, fv, gv, dst in edges(src):
        by_source.setdefault((name, names.get(dst)), (fv, gv))
    conv_out = [name for name, dst in by_source if dst == "+" and name != "b"]
    checked = {"w": by_source[("w", "conv 3×3")], "conv": by_source[(conv_out[0], "+")],
               "z": by_source[("z", "relu")], "y": by_source[("y", "max pool 2×2")]}
    for key, (fv, gv) in checked.items():
        value, grad = want[key]
        np.testing.assert_allclose(grid(fv), value.detach().numpy()[0, 0], rtol=1e-3, atol=1e-3, err_msg=key)
        np.testing.assert_allclose(grid(gv), grad.numpy()[0, 0], rtol=1e-3, atol=1e-3, err_msg=key)
    # the caption sits under the grid, in its colour: the forward value's green, the gradient's red
    for color in (GREEN, RED):
        assert re.search(rf'<font color="{color}"><table[^>]*><tr><td><table.*?</table></td></tr>'
                         r'<tr><td><font point-size="9">\[0, 0, :, :\] of 2×2×4×4</font>', src), color


def test_a_3d_value_shows_its_first_matrix_with_its_index():
    h = sg.tensor("h", (3, 2, 4))
    hv = np.arange(24.0).reshape(3, 2, 4) / 8 - 1
    src = sg.derive(sg.sum(sg.relu(h) * 3), [h]).graph(at={h: hv}).source
    assert "[0, :, :] of 3×2×4" in src and "values)" not in src
    (fv, gv), = [(fv, gv) for name, fv, gv, _ in edges(src) if name == "h"]
    np.testing.assert_allclose(grid(fv), hv[0], atol=1e-4)
    np.testing.assert_allclose(grid(gv), 3.0 * (hv[0] > 0), atol=1e-4)


def test_a_large_4d_value_keeps_a_bounded_label():
    big = np.random.default_rng(0).normal(size=(8, 16, 32, 32))
    part = value_part(big, ".4g", "#000000")
    cells = re.findall(r'<td align="right">', part.html)
    assert len(cells) == 25                       # 3 rows, ⋮, the last; 3 columns, ⋯, the last
    assert "[0, 0, :, :] of 8×16×32×32" in part.html
    assert part.width < 60 * CHAR, part.width
    shown = [float(s.replace("−", "-")) for s in re.findall(r"[\u2009\u2002]([−\d.e+]+)<", part.html)]
    np.testing.assert_allclose(shown[:3], big[0, 0, 0, :3], rtol=1e-3)
