"""The Triton rows kernel's logsumexp of a row that is −inf throughout: it shifted by the row max,
−inf − (−inf) = NaN, so exp(logsumexp) of a masked example was NaN where torch's is 0 (found by
the lse helper, 2026-11-30, tenth session). It now shifts by 0 where the max is not finite, as the
NumPy target does. Under TRITON_INTERPRET=1; compared with torch and with the NumPy target."""
from __future__ import annotations

import os
import warnings

import numpy as np
import pytest
import sympy as sp

os.environ.setdefault("TRITON_INTERPRET", "1")
torch = pytest.importorskip("torch")
pytest.importorskip("triton")

import symgrad as sg  # noqa: E402

C = 3
Z = np.array([[-np.inf] * C, [1.0, 2.0, -np.inf], [0.0, 1.0, 2.0], [-3.0, 0.5, 4.0]], dtype=np.float32)
W = np.array([0.5, -1.0, 0.25], dtype=np.float32)


def test_exp_of_a_masked_rows_logsumexp_is_0_as_torch_s():
    w, z = sg.tensor("w", (C,)), sg.tensor("z", (C,))
    loss = sp.exp(sg.logsumexp(z + w))
    tw = torch.tensor(W, dtype=torch.float64, requires_grad=True)
    want = torch.exp(torch.logsumexp(torch.tensor(Z, dtype=torch.float64) + tw, 1)).mean()
    want.backward()
    prog = sg.compile(loss, [w], [z], target="triton")
    numpy_prog = sg.compile(loss, [w], [z], dtype="float32")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        got = prog.loss({"w": W}, {"z": Z})
        got_np = numpy_prog.loss({"w": W}, {"z": Z})
    assert np.isfinite(got), got
    assert float(got) == pytest.approx(want.item(), rel=1e-5)
    assert float(got) == pytest.approx(float(got_np), rel=1e-5)
