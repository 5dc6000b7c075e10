"""`symgrad predict -o out.npz` of a model whose output is an image (an autoencoder, a segmentation):
one array of shape (samples, 1, 8, 8), not 64 arrays output_0 … output_63; the .csv keeps one
column per entry, row-major, and its stderr line does not list 64 names."""
import textwrap

import numpy as np

from symgrad import cli
from symgrad.compiling.training import save

MODEL = """
import sympy as sp, symgrad as sg
N = sp.Symbol("N", integer=True, positive=True)
x = sg.tensor("x", (N, 1, 8, 8))
w = sg.tensor("w", (1, 1, 3, 3))
out = sg.conv2d(x, w, padding=1)
loss = sg.mean((out - x) ** 2)
params, inputs, outputs = [w], [x], [out]
"""


def _conv_same(x, k):
    """An independent 3×3 cross-correlation with zero padding 1, for (n, 1, 8, 8) images."""
    p = np.pad(x[:, 0], ((0, 0), (1, 1), (1, 1)))
    out = sum(k[i, j] * p[:, i:i + 8, j:j + 8] for i in range(3) for j in range(3))
    return out[:, None]


def test_an_image_output_is_one_array_of_images_in_the_npz(tmp_path, capsys):
    (tmp_path / "ae.py").write_text(textwrap.dedent(MODEL))
    k = np.arange(9.0).reshape(3, 3) / 10
    save(tmp_path / "ck.npz", {"w": k.reshape(1, 1, 3, 3)}, None)
    x = np.random.default_rng(0).random((5, 1, 8, 8))
    np.savez(tmp_path / "new.npz", x=x)
    base = ["predict", str(tmp_path / "ae.py"), str(tmp_path / "ck.npz"), "--data", str(tmp_path / "new.npz"),
            "--dtype", "float64", "-o"]
    assert cli.main(base + [str(tmp_path / "p.npz")]) == 0
    with np.load(tmp_path / "p.npz") as z:
        assert z.files == ["output"]
        np.testing.assert_allclose(z["output"], _conv_same(x, k), rtol=1e-12)
    assert "wrote output (5, 1, 8, 8) to" in capsys.readouterr().err
    assert cli.main(base + [str(tmp_path / "p.csv")]) == 0
    table = np.loadtxt(tmp_path / "p.csv", delimiter=",", skiprows=1)
    np.testing.assert_allclose(table, _conv_same(x, k).reshape(5, 64), rtol=1e-12)     # row-major
    err = capsys.readouterr().err
    assert "wrote 5 rows (64 columns: output_0, output_1 … output_63) to" in err
