"""`symgrad train --data` with 8-bit pixels (uint8 0 … 255, as Keras's mnist.npz holds them) for a
real-valued input: a warning to scale them (it trained on them silently, its loss in the hundreds);
uint8 labels, and pixels already scaled, get none."""
import textwrap

import numpy as np

from symgrad import cli

MODEL = """
import sympy as sp, symgrad as sg
N = sp.Symbol("N", integer=True, positive=True)
x, y = sg.tensor("x", (N, 1, 4, 4)), sg.tensor("y", (N,), integer=True)
W = sg.tensor("W", (16, 3))
logits = x.reshape(N, 16) @ W
loss = sg.cross_entropy(logits, y)
params, inputs, outputs, target = [W], [x, y], [logits], y
"""


def test_uint8_pixels_are_warned_and_labels_are_not(tmp_path, capsys):
    (tmp_path / "m.py").write_text(textwrap.dedent(MODEL))
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, size=(20, 1, 4, 4)).astype(np.uint8)
    labels = rng.integers(0, 3, size=20).astype(np.uint8)
    np.savez(tmp_path / "raw.npz", x=pixels, y=labels)
    np.savez(tmp_path / "scaled.npz", x=pixels / 255, y=labels)
    args = ["--epochs", "1", "--no-progress"]
    assert cli.main(["train", str(tmp_path / "m.py"), "--data", str(tmp_path / "raw.npz")] + args) == 0
    err = capsys.readouterr().err
    assert (f"symgrad train: warning: --data {tmp_path / 'raw.npz'}: the array 'x' holds 8-bit pixels, 0 … "
            f"{pixels.max()} (uint8), read as they are; networks train on inputs of about unit scale: save "
            f"x=x / 255") in err
    assert "'y'" not in err
    assert cli.main(["train", str(tmp_path / "m.py"), "--data", str(tmp_path / "scaled.npz")] + args) == 0
    assert "8-bit" not in capsys.readouterr().err
