"""torch's loss options the Triton target does not compile, refused by name with the way out
(symgrad/compiling/kernel_lift.py): class weights (``weight=``) and ``ignore_index``. The workaround
the ignore_index refusal gives (drop the ignored examples) is checked to give the NumPy program's
loss and gradients."""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.errors import UnsupportedError

torch = pytest.importorskip("torch")
pytest.importorskip("triton")

N = sp.Symbol("N", integer=True, positive=True)


def _layer():
    x, y = sg.tensor("x", (N, 6)), sg.tensor("y", (N,), integer=True)
    return x, y, sg.tensor("W", (6, 3)), sg.tensor("b", (3,))


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_class_weights_are_named_with_why_and_the_way_out(reduction):
    """It said the loss "is not a mean (or sum) over N of per-example terms" (the mean) or "cannot run
    sg.take / sg.embedding" (the sum), naming neither weight= nor why (2026-11-30, kernels2)."""
    x, y, W, b = _layer()
    loss = sg.cross_entropy(x @ W + b, y, weight=np.array([1.0, 2.0, 3.0]), reduction=reduction)
    with pytest.raises(UnsupportedError, match=r"weight= \(class weights w\[y\]\).*divides by the sum of the "
                                               r"batch's weights .*target='numpy'"):
        sg.compile(loss, [W, b], [x, y], target="triton")


def test_an_embedding_is_not_taken_for_class_weights():
    """A gather from a parameter matrix (an embedding) still compiles."""
    ids, t = sg.tensor("ids", (N,), integer=True), sg.tensor("t", (N,), integer=True)
    E, W = sg.tensor("E", (5, 4)), sg.tensor("W", (4, 3))
    sg.compile(sg.cross_entropy(E[ids] @ W, t), [E, W], [ids, t], target="triton")


def test_ignore_index_names_the_workaround_and_the_workaround_holds():
    """It said only "compile it with target='numpy'"; dropping the ignored examples gives the same
    mean and gradients as the NumPy program with ignore_index (2026-11-30, kernels2)."""
    x, y, W, b = _layer()
    with pytest.raises(UnsupportedError, match=r"drop the examples labelled -100 .* keep = y != -100"):
        sg.compile(sg.cross_entropy(x @ W + b, y, ignore_index=-100), [W, b], [x, y], target="triton")
    rng = np.random.default_rng(0)
    values = {"W": rng.normal(size=(6, 3)), "b": rng.normal(size=3)}
    xs, ys = rng.normal(size=(6, 6)), np.array([0, -100, 2, 1, -100, 2])
    ref = sg.compile(sg.cross_entropy(x @ W + b, y, ignore_index=-100), [W, b], [x, y], dtype="float64")
    prog = sg.compile(sg.cross_entropy(x @ W + b, y), [W, b], [x, y], target="triton")
    keep = ys != -100
    kept = {"x": xs[keep], "y": ys[keep]}
    assert prog.loss(values, kept) == pytest.approx(ref.loss(values, {"x": xs, "y": ys}), rel=1e-5)
    got, want = prog.grad(values, kept), ref.grad(values, {"x": xs, "y": ys})
    for name in ("W", "b"):
        np.testing.assert_allclose(np.asarray(got[name].cpu()), want[name], rtol=1e-4, atol=1e-6)


def test_a_weighted_mean_written_by_hand_says_what_it_divides_by():
    """Σ s·l / Σ s with per-example weights s: the refusal names the division by a sum over the batch
    (it said only "is not a mean (or sum) over N of per-example terms"; 2026-11-30, kernels2)."""
    x, y, W, _ = _layer()
    s = sg.tensor("s", (N,))
    per = sg.cross_entropy(x @ W, y, reduction="none")
    with pytest.raises(UnsupportedError, match=r"not a mean \(or sum\) over N of per-example terms \(it divides by "
                                               r"`s\.sum\(\)`, a sum over the batch: a weighted mean"):
        sg.compile(sg.sum(s * per) / sg.sum(s), [W], [x, y, s], target="triton")
    with pytest.raises(UnsupportedError, match=r"per-example terms; the Triton backend"):     # no division: as before
        sg.compile(sg.log(sg.sum(per)), [W], [x, y], target="triton")
