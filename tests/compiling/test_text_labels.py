"""Class labels given as text (read from a CSV file, or class names) are a LabelRangeError saying how
to make them integers in sg.train's checks (a call's own check of the inputs says the input holds
text: a DataError) — until 2026-11-30, seventh session, NumPy's
UFuncTypeError about 'greater_equal'."""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.errors import DataError, LabelRangeError

N = sp.Symbol("N", integer=True, positive=True)


def _whole_batch():
    x, y = sg.tensor("x", (N, 4)), sg.tensor("y", (N,), integer=True)
    W = sg.tensor("W", (4, 3))
    return sg.compile(sg.cross_entropy(x @ W, y), [W], [x, y], outputs=[x @ W])


def _per_example():
    net, k = sg.mlp([4, 3]), sp.Symbol("k", integer=True)
    return sg.compile(sg.cross_entropy(net.output, k), net.params, [net.input, k])


@pytest.mark.parametrize("labels", [np.array(["0", "1", "2", "1"]), np.array(["cat", "dog", "cat", "owl"], dtype=object)])
@pytest.mark.parametrize("make", [_whole_batch, _per_example])
def test_text_labels_say_how_to_make_integers(make, labels):
    prog = make()
    data = {"x": np.zeros((4, 4)), prog.inputs[1].name: labels}
    with pytest.raises(LabelRangeError, match=r"astype\(int\).*numpy\.unique"):
        sg.train(prog, data, epochs=1, batch_size=2, progress=False)
    values = {p.name: np.zeros(p.shape, np.float32) for p in prog.params}
    with pytest.raises(DataError, match=r"the input '(y|k)' holds '(0|cat)'"):     # a call: the input's check
        prog.loss(values, data)


def test_integer_labels_of_any_integer_dtype_still_train():
    prog = _whole_batch()
    for dtype in (np.int8, np.int32, np.uint8, np.int64):
        h = sg.train(prog, {"x": np.ones((4, 4)), "y": np.array([0, 1, 2, 1], dtype)}, epochs=1, batch_size=2,
                     progress=False, values={"W": np.zeros((4, 3))})
        assert len(h.loss) == 2
