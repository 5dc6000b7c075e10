"""The backward of a second convolution reads slices of its weight (`codegen.triton_selections`):
E_kᵀ·(Wᵀ·δ) → W[:, k::KH·KW]ᵀ·δ, so the window's gradient (C·KH·KW wide) is never made. The
rewrite on small graphs against NumPy, what it leaves alone, and a two-convolution network under
the interpreter against torch.autograd and the NumPy target."""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.core import rules as R
from symgrad.core.evaluate import evaluate
from symgrad.core.ir import Graph

from codegen.triton_selections import selections_as_slices


def _graph(n=6, f=2, picks=((1, 4), (0, 3)), read_elsewhere=False):
    """W (f, n), d (f, 1); Sᵀ·(Wᵀ·d) for each S picking the rows ``picks`` (one 1 per column)."""
    g = Graph()
    W = g.bind(R.param_p, (), (sp.Symbol("W"), (f, n)))
    d = g.bind(R.input_p, (), (sp.Symbol("d"), (f, 1)))
    wd = R.matmul(g, R.transpose(g, W), d)
    outs = []
    for rows in picks:
        S = sp.ImmutableMatrix(n, len(rows), lambda r, c: 1 if r == rows[c] else 0)
        outs.append(R.matmul(g, R.transpose(g, R.const(g, S, S.shape)), wd))
    if read_elsewhere:
        outs.append(R.reduce_sum(g, wd))
    return g, W, d, outs


def _values(rng, W, d):
    return {W.id: rng.normal(size=tuple(int(s) for s in W.shape)), d.id: rng.normal(size=(int(d.shape[0]), 1))}


def _eval(g, outs, W, d, vals):
    return evaluate(g, outs, {g.producer[W.id].params[0]: vals[W.id], g.producer[d.id].params[0]: vals[d.id]})


def test_a_selection_of_a_transposed_product_becomes_a_product_with_a_slice(rng):
    """Each Sᵀ·(Wᵀ·d) is one product with the columns of W that S picks (k::c), the same numbers
    (W[:, picks]ᵀ·d in NumPy); Wᵀ·d itself is no longer computed."""
    g, W, d, outs = _graph()
    new = selections_as_slices(g, outs)
    vals = _values(rng, W, d)
    for o, rows in zip(_eval(g, new, W, d, vals), ((1, 4), (0, 3))):
        np.testing.assert_allclose(np.asarray(o).reshape(-1), vals[W.id][:, list(rows)].T @ vals[d.id][:, 0])
    kinds = {e.prim.name for e in g.ancestors(new)}
    assert "slice" in kinds and "const" not in kinds, kinds
    wide = [e for e in g.ancestors(new) if e.prim is R.matmul_p and int(e.out.shape[0]) == 6]
    assert not wide, "Wᵀ·d (6 entries) is still made"


def test_what_is_left_as_it_was():
    """A contiguous block (a concatenation's: a copy on the host every call), a single picked row,
    and a Wᵀ·d that something else reads too (the rewrite would add products) are not rewritten."""
    for picks in (((0, 1), (2, 3)), ((2,), (5,))):
        g, _, _, outs = _graph(picks=picks)
        assert selections_as_slices(g, outs) == outs, picks
    g, _, _, outs = _graph(read_elsewhere=True)
    assert selections_as_slices(g, outs) == outs


torch = pytest.importorskip("torch")
pytest.importorskip("triton")


def test_a_second_convolutions_backward_reads_views_of_its_weight_and_equals_torch(rng, monkeypatch):
    """3×3 image, conv 2×2 (2 filters) → 2×2, relu, conv 2×2 (2 filters) → 1×1, dense: with
    SELECTION_SLICES the second convolution's map gradient is read from w2[:, :, i, j] as the views
    p2[:, k::4] of the parameter (no copy), no product of its window's gradient is left; the loss and
    gradients equal torch.autograd and the NumPy target. Without, the window's gradient is back."""
    from codegen import triton_backend
    from tests.codegen.test_triton_conv2 import _batch, _check, _two_convs
    monkeypatch.setattr(triton_backend, "SELECTION_SLICES", 1)
    net = _two_convs((1, 3, 3), [(2, 2, 1, 0, False), (2, 2, 1, 0, False)])
    tri, _ = _check(net, _batch(rng, 3, (1, 3, 3)), rng)
    src = tri.source
    views = sorted(set(__import__("re").findall(r"= (p2\[:, \d*::4\])  #", src)))
    assert views == ["p2[:, 1::4]", "p2[:, 2::4]", "p2[:, 3::4]", "p2[:, ::4]"], views
    body = src[src.index("def train_kernel1("):src.index("def launch_train_kernel1(")]
    assert " @ p2  (" not in body           # (before: the window's gradient δ @ p2, then its selections)
    monkeypatch.setattr(triton_backend, "SELECTION_SLICES", 0)
    src = sg.compile(*net[:3], target="triton").source
    assert "::4]" not in src and " @ p2  (" in src[src.index("def train_kernel1("):]


def test_a_layer_with_every_other_column_of_a_parameter_reads_it_as_a_view(rng):
    """x @ W[:, ::2] (a column-strided slice of a parameter matrix, what the rewrite reads too): the
    host passes the view p0[:, ::2] as it is (no copy) and the kernels read it with its strides; the
    loss, gradients and Adam steps equal the NumPy target's."""
    from tests.codegen.test_triton_tensors import _same_as_numpy, _values
    x, y = sg.tensor("x", (3,)), sg.tensor("y", (), integer=True)
    W, b = sg.tensor("W", (3, 8)), sg.tensor("b", (4,))
    loss = sg.cross_entropy(sg.tanh(x @ W[:, ::2] + b), y)
    tri, ref = [sg.compile(loss, [W, b], [x, y], target=t, optimizer=sg.optim.Adam(lr=0.05))
                for t in ("triton", "numpy")]
    assert "= p0[:, ::2]  #" in tri.source        # (before: a copy, (p0[:, ::2]).contiguous(), every call)
    batch = {"x": rng.normal(size=(5, 3)).astype(np.float32), "y": rng.integers(0, 4, 5)}
    _same_as_numpy(tri, ref, _values([W, b], rng), batch)
