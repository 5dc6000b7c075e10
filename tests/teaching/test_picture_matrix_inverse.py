"""The picture of a Matrix Cookbook function reads as a textbook: log det X's node "log det", an
inverse's "□⁻¹" (X⁻¹ with the input's box for X), det X's "det" — not the IR's names logdet and
inverse. Read from the DOT source by picture_parse, not from graph_picture's tables."""
import numpy as np
import sympy as sp

import symgrad as sg
from picture_parse import node_names

X, A, B = (sp.MatrixSymbol(n, 3, 3) for n in "XAB")


def _ops(f, **kw):
    return sorted(node_names(sg.derive(f, [X]).graph(**kw).source).values())


def test_log_det_reads_log_det():
    ops = _ops(sp.log(sp.det(X)))
    assert "log det" in ops and "logdet" not in ops, ops


def test_det_reads_det():
    assert "det" in _ops(sp.det(X))


def test_an_inverse_reads_x_to_the_minus_one():
    ops = _ops(sp.Trace(A * X.inv() * B))
    assert "□⁻¹" in ops and "inverse" not in ops, ops


def test_with_numbers_too():
    at = {X: 2 * np.eye(3) + 0.1 * np.arange(9.0).reshape(3, 3)}
    src = sg.derive(sp.log(sp.det(X)), [X]).graph(at=at).source
    assert "log det" in src and "logdet" not in src
