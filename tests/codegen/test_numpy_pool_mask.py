"""Max pooling's backward mask in the NumPy step: one_hot(argmax(windows)) is made from the windows'
hits directly (`codegen.printers.numpy_tensor.window_first_hit`), with no integer arg-max array and
no compare of it against 0 … k − 1 along a new axis; δ still goes to each window's first arg-max,
as torch's max_pool2d backward sends it (float32, windows that tile, overlap and pad)."""
from __future__ import annotations

import re

import numpy as np
import pytest
import sympy as sp
import torch
import torch.nn.functional as F

import symgrad as sg

N = sp.Symbol("N", integer=True, positive=True)


def _pooled(pool, dtype):
    C, H, W = 3, 6, 6
    x, P = sg.tensor("x", (N, C, H, W)), sg.tensor("P", (1, C, H, W))
    h = sg.as_tensor(sg.max_pool2d(x + P, *pool))
    D = sg.tensor("D", h.shape)
    return sg.compile(sg.sum(h * D) / N, [P], [x, D], dtype=dtype), (C, H, W)


def test_the_step_makes_no_integer_arg_max_for_a_pooling_window():
    prog, _ = _pooled((2,), "float32")
    src = prog.source
    assert not re.search(r"^\s*# v\d+ = argmax\[", src, re.M), "an arg-max statement is still printed"
    assert "numpy.moveaxis((" not in src          # the one-hot of integer indices along a new axis
    made = re.findall(r"^\s*(v\d+) = (?:\((v\d+_w) == \2|numpy\.equal\((v\d+_w), \3)\.max\(4, keepdims=True\)", src, re.M)
    assert made, "the mask is not made from the windows' hits"


@pytest.mark.parametrize("pool", [(2,), (2, 1), (3, 2, 1)], ids=["tiles", "overlap", "k3-s2-pad1"])
def test_the_mask_routes_delta_to_the_first_arg_max_as_torch(pool):
    """Small integers: most windows hold ties, which only the first entry in row-major order wins;
    ∂/∂P of max_pool(x + P) at P = 0 is torch's ∂/∂x summed over the batch (exact in float32: the
    sums add at most a few δ of small integers)."""
    prog, (C, H, W) = _pooled(pool, "float32")
    rng = np.random.default_rng(3)
    n = 4
    xa = rng.integers(0, 3, (n, C, H, W)).astype(np.float32)
    tx = torch.tensor(xa, requires_grad=True)
    th = F.max_pool2d(tx, *pool)
    Da = rng.integers(-4, 5, tuple(th.shape)).astype(np.float32)
    (th * torch.tensor(Da)).sum().backward()
    g = prog.grad({"P": np.zeros((1, C, H, W), np.float32)}, {"x": xa, "D": Da})
    np.testing.assert_array_equal(g["P"] * n, tx.grad.numpy().sum(0, keepdims=True))


def test_the_mask_is_written_into_the_windows_only_when_they_are_an_array_of_their_own():
    """The mask goes into the windows' buffer where they die (no new array). The windows are a copy
    even where a view of the pooled array would already be contiguous — one 2×2 window of one channel,
    a batch of 1 — so the mask never lands in z, which the backward of z⊙z⊙E still reads."""
    prog, _ = _pooled((2,), "float32")
    assert re.search(r"^\s*v\d+ = numpy\.equal\(v\d+_w, v\d+_w\.max\(4, keepdims=True\), out=v\d+_a\)", prog.source, re.M)
    x, P = sg.tensor("x", (N, 1, 2, 2)), sg.tensor("P", (1, 1, 2, 2))
    D, E = sg.tensor("D", (N, 1, 1, 1)), sg.tensor("E", (N, 1, 2, 2))
    z = x + P
    loss = (sg.sum(sg.as_tensor(sg.max_pool2d(z, 2)) * D) + sg.sum(z * z * E)) / N
    prog = sg.compile(loss, [P], [x, D, E], dtype="float64")
    rng = np.random.default_rng(5)
    xa, Pa, Da, Ea = rng.standard_normal((1, 1, 2, 2)), rng.standard_normal((1, 1, 2, 2)), \
        rng.standard_normal((1, 1, 1, 1)), rng.standard_normal((1, 1, 2, 2))
    tP = torch.tensor(Pa, requires_grad=True)
    tz = torch.tensor(xa) + tP
    ((F.max_pool2d(tz, 2) * torch.tensor(Da)).sum() + (tz * tz * torch.tensor(Ea)).sum()).backward()
    x_before = xa.copy()
    g = prog.grad({"P": Pa}, {"x": xa, "D": Da, "E": Ea})
    np.testing.assert_allclose(g["P"], tP.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(xa, x_before)


def _cnn(monkeypatch=None):
    import codegen.numpy_workspace as nw
    if monkeypatch is not None:     # the step without a workspace: no array is large enough
        monkeypatch.setattr(nw, "MIN_ENTRIES", 10 ** 12)
    x, y = sg.tensor("x", (N, 1, 8, 8)), sg.tensor("y", (N,), integer=True)
    w, b = sg.tensor("w", (16, 1, 3, 3)), sg.tensor("b", (16,))
    W = sg.tensor("W", (16 * 4 * 4, 10))
    h = sg.max_pool2d(sg.relu(sg.conv2d(x, w, b, padding=1)), 2)
    loss = sg.cross_entropy(sg.as_tensor(h).reshape(N, -1) @ W, y)
    return sg.compile(loss, [w, b, W], [x, y], optimizer=sg.optim.SGD(lr=0.1), dtype="float32")


def test_the_windows_live_in_the_workspace_and_the_steps_equal_those_without_it(monkeypatch):
    """The pooling windows copied into a workspace buffer laid out kernel-major (``v = scratch(…,
    (2, 2, d0, 4, 4, 16)).transpose(…)``, then ``v[...] = the window view``), the mask written into
    it: five steps, the batch size changing, equal bit for bit the steps without a workspace."""
    prog = _cnn()
    assert re.search(r"^\s*(v\d+) = scratch\(ws, 'w\d+', \(2, 2, d0, 4, 4, 16\)\)\.transpose\(\(2, 5, 3, 4, 0, 1\)\)\n"
                     r"\s*\1\[\.\.\.\] = numpy\.lib\.stride_tricks\.sliding_window_view\(", prog.source, re.M)
    plain = _cnn(monkeypatch)
    assert "sliding_window_view" in plain.source and "scratch(ws, '" not in plain.source
    rng = np.random.default_rng(9)
    start = {"w": rng.standard_normal((16, 1, 3, 3)).astype(np.float32) / 3,
             "b": np.zeros(16, np.float32), "W": rng.standard_normal((256, 10)).astype(np.float32) / 16}
    batches = [{"x": rng.standard_normal((n, 1, 8, 8)).astype(np.float32), "y": rng.integers(0, 10, n)}
               for n in (5, 5, 8, 3, 5)]
    ends = []
    for p in (prog, plain):
        vals, state, losses = {k: v.copy() for k, v in start.items()}, None, []
        for bt in batches:
            vals, state = p.step(vals, state, bt)
            losses.append(p.last_loss)
        ends.append((vals, losses))
    (got, got_losses), (want, want_losses) = ends
    assert got_losses == want_losses
    for k in want:
        assert np.array_equal(got[k], want[k]), k


def test_a_max_over_the_last_axis_of_a_plain_array_routes_ties_as_torch():
    """The same mask for sg.max over the last axis of a rank-4 array that is no pooling's windows
    (C-ordered, not kernel-major): δ to the first of tied maxima, as torch's max(dim) backward."""
    x, P = sg.tensor("x", (N, 2, 3, 4)), sg.tensor("P", (1, 2, 3, 4))
    h = sg.as_tensor(sg.max(x + P, axis=3))
    D = sg.tensor("D", h.shape)
    prog = sg.compile(sg.sum(h * D) / N, [P], [x, D], dtype="float32")
    assert "argmax(" not in prog.source.split("def step(")[1]
    rng = np.random.default_rng(4)
    xa = rng.integers(0, 3, (3, 2, 3, 4)).astype(np.float32)
    Da = rng.integers(-4, 5, (3, 2, 3)).astype(np.float32)
    tx = torch.tensor(xa, requires_grad=True)
    (tx.max(3).values * torch.tensor(Da)).sum().backward()
    g = prog.grad({"P": np.zeros((1, 2, 3, 4), np.float32)}, {"x": xa, "D": Da})
    np.testing.assert_array_equal(g["P"] * 3, tx.grad.numpy().sum(0, keepdims=True))


def test_folds_slices_print_no_unit_dilation_nor_unit_step():
    """Readable slices in the pooling backward's fold: ``k0:k0 + 7:2`` (stride 2), ``k0:k0 + 5``
    (stride 1), never ``k0*1:k0*1 + 7:2`` nor a ``:1`` step."""
    for pool, want in (((2,), r"k0_v\d+:k0_v\d+ \+ 5:2, "), ((2, 1), r"k0_v\d+:k0_v\d+ \+ 5, ")):
        prog, _ = _pooled(pool, "float32")
        src = prog.source
        assert re.search(want, src), pool
        assert not re.search(r"k\d_v\d+\*1\b|:1\]|:1, ", src), pool


def test_the_workspace_takes_the_windows_copy_from_its_forms_record_not_its_text():
    """`codegen.printers.numpy_conv.CopyInto`: the windows' form says which statement is a copy of a
    view into a layout of its own; the workspace pass reads that record, never the statement's
    text. A statement of the same text that no form recorded, or one that a later pass rewrote,
    is left as it is."""
    import codegen.numpy_workspace as nw
    from codegen.printers.numpy_conv import CopyInto
    view = "numpy.lib.stride_tricks.sliding_window_view(v3, (2, 2), axis=(2, 3))[:, :, ::2, ::2]"
    line = f"v4 = {view}.transpose((4, 5, 0, 2, 3, 1)).copy().transpose((2, 5, 3, 4, 0, 1))"
    shapes = {"v4": "(d0, 16, 4, 4, 2, 2)"}
    body = [line, "L = v4.sum()", "del v4", "return L"]
    mark = CopyInto(line, "(2, 2, d0, 4, 4, 16)", (2, 5, 3, 4, 0, 1), view)
    out = nw.use_workspace(body, shapes, {"d0"}, {"v4": mark})
    assert out[1:3] == ["v4 = scratch(ws, 'w0', (2, 2, d0, 4, 4, 16)).transpose((2, 5, 3, 4, 0, 1))",
                        f"v4[...] = {view}"], out
    assert nw.use_workspace(body, shapes, {"d0"}) == body                 # no record: not taken
    rewritten = [line.replace("v3, (2, 2)", "v9, (2, 2)")] + body[1:]
    assert nw.use_workspace(rewritten, shapes, {"d0"}, {"v4": mark}) == rewritten   # not the line recorded
