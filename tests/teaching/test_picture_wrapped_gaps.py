"""A wrapped picture (rows packed one under the other) leaves no blank band between its rows: the
rows are measured from where Graphviz's dot places the nodes (``dot -Tplain``), so the test reads
the drawing itself, not the DOT text symgrad wrote."""
import subprocess

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from teachtools import need, small_cnn

PACK_MARGIN = 8.0       # points dot's pack leaves between two rows
GAP = 3 * PACK_MARGIN   # more than that between two rows is a blank band


def _bands(source: str):
    """(height of the drawing, [the vertical spans no node covers]) in points."""
    plain = subprocess.run(["dot", "-Tplain"], input=source, capture_output=True, text=True,
                           check=True).stdout
    height, spans = None, []
    for line in plain.splitlines():
        f = line.split()
        if f[0] == "graph":
            height = float(f[3]) * 72
        elif f[0] == "node":
            y, h = float(f[3]) * 72, float(f[5]) * 72
            spans.append((y - h / 2, y + h / 2))
    spans.sort()
    empty, top = [], 0.0
    for lo, hi in spans:
        if lo > top:
            empty.append(lo - top)
        top = max(top, hi)
    empty.append(height - top)
    return height, empty


def _batch_norm():
    N = sp.Symbol("N", integer=True, positive=True)
    x, g, b, dout = sg.tensor("x", (N, 3)), sg.tensor("g", (3,)), sg.tensor("b", (3,)), sg.tensor("dout", (N, 3))
    xhat = (x - x.mean(axis=0)) / sp.sqrt(x.var(axis=0) + sp.Float(1e-5))
    rng = np.random.default_rng(1)
    at = {x: rng.normal(size=(4, 3)), g: rng.normal(size=3), b: rng.normal(size=3), dout: rng.normal(size=(4, 3))}
    return sg.derive(sg.sum((g * xhat + b) * dout), [x, g, b], output_name="L"), at


def _cnn():
    return small_cnn()


def _mlp4():
    net = sg.mlp([3, 4, 4, 4, 2])
    return sg.derive(sg.mse(net.output, sp.MatrixSymbol("t", 2, 1)), net.params)


@pytest.mark.parametrize("case", ["batch_norm", "batch_norm_at", "cnn", "mlp4"])
def test_wrapped_rows_leave_no_blank_band(case):
    need("dot")
    if case.startswith("batch_norm"):
        d, at = _batch_norm()
        src = d.graph(at=at if case.endswith("_at") else None, layout="wrapped").source
    elif case == "cnn":
        d, at = _cnn()
        src = d.graph(at=at, layout="wrapped").source
    else:
        src = _mlp4().graph(layout="wrapped").source
    assert "pack=true" in src
    height, empty = _bands(src)
    assert max(empty) <= GAP, (case, height, [round(e) for e in empty])
