"""A label or index out of range in ``sg.numeric`` / ``sg.grad``'s values named the IR's operation
("one_hot: label 9 is outside 0 … 5") and not the tensor it came from; the message now names the
user's integer tensor(s) that the label is computed from (thirteenth session)."""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg

N = sp.Symbol("N", integer=True, positive=True)


@pytest.mark.parametrize("build, bad, words", [
    (lambda s, W, y, ids: sg.cross_entropy(s @ W, y), {"y": np.array([0, 9])}, r"label 9 .* a value of y$"),
    (lambda s, W, y, ids: (W.T[y] ** 2).sum(), {"y": np.array([0, -1])}, r"index -1 .* a value of y$"),
    (lambda s, W, y, ids: sg.segment_sum(s, ids, 2).sum(), {"ids": np.array([0, 2])}, r"index 2 .* a value of ids$"),
    (lambda s, W, y, ids: sg.cross_entropy(s @ W, y + 1), {"y": np.array([0, 5])}, r"label 6 .* a value of y$"),
    (lambda s, W, y, ids: sg.cross_entropy(s @ W, y), {"y": np.array([0.5, 1])}, r"0\.5 is not a whole .* a value of y$"),
])
def test_out_of_range_labels_name_the_users_tensor(build, bad, words):
    s, W = sg.tensor("s", (N, 3)), sg.tensor("W", (3, 6))
    y, ids = sg.tensor("y", (N,), integer=True), sg.tensor("ids", (N,), integer=True)
    values = {"s": np.ones((2, 3)), "W": np.ones((3, 6)), "y": np.array([0, 1]), "ids": np.array([0, 1]), **bad}
    with pytest.raises(sg.LabelRangeError, match=words):
        sg.numeric(build(s, W, y, ids), values)
