"""A loss written as a sum over the batch divided by N by hand, ``l.sum() / N`` (docs/core.md's
Poisson NLL writes it so), is the mean over the batch on the Triton target. Until 2026-12-01
(eleventh session) the 1/N, a number of the batch size and no example, was taken for a value of the
batch and the loss refused as "not a mean (or sum) over N of per-example terms"
(`symgrad/compiling/unbatch.py`, `Unbatch._batch_size_number`)."""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.errors import UnsupportedError
from tests.codegen.test_triton_tensors import _same_as_numpy

pytest.importorskip("torch")
pytest.importorskip("triton")

N = sp.Symbol("N", integer=True, positive=True)
x, y, w = sg.tensor("x", (N, 3)), sg.tensor("y", (N,)), sg.tensor("w", (3,))


@pytest.mark.parametrize("scale", [1, 2])
def test_a_sum_divided_by_n_is_the_mean(scale, rng):
    per = (x @ w - y) ** 2
    loss = sg.sum(per) / (scale * N) + sg.sum(w * w) / 10          # with a penalty riding along
    tri = sg.compile(loss, [w], [x, y], target="triton", optimizer=sg.optim.SGD(lr=0.1))
    ref = sg.compile(loss, [w], [x, y], optimizer=sg.optim.SGD(lr=0.1))
    assert tri.spec.reduction == "mean"
    batch = {"x": rng.normal(size=(5, 3)).astype(np.float32), "y": rng.normal(size=5).astype(np.float32)}
    _same_as_numpy(tri, ref, {"w": rng.normal(size=3).astype(np.float32)}, batch, steps=2)
    want = np.mean((batch["x"].astype(np.float64) @ np.ones(3) - batch["y"]) ** 2) / scale + 0.3
    assert float(tri.loss({"w": np.ones(3, np.float32)}, batch)) == pytest.approx(want, rel=1e-5)


def test_a_sum_divided_by_n_squared_is_still_refused():
    with pytest.raises(UnsupportedError, match=r"not a mean \(c/N\) or a sum over N"):
        sg.compile(sg.sum((x @ w - y) ** 2) / N ** 2, [w], [x, y], target="triton")
