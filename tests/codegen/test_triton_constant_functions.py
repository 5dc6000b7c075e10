"""A function of numbers only in a kernel (``a + log(2)``, as logaddexp's tie writes it; ``exp(3)``)
is one float literal: ``tl.log(2)`` took the literal for an int32 tensor and the kernel failed
under the interpreter. Loss and gradient equal the NumPy target's."""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg

pytest.importorskip("torch")
pytest.importorskip("triton")


def test_constant_functions_in_a_where_branch_equal_numpy():
    a, b = sg.tensor("a", (6,)), sg.tensor("b", (6,))
    loss = sg.where(sp.Eq(a, b), a + sp.log(2), a * sp.exp(3)).sum() + sp.erf(1) * a.sum()
    progs = [sg.compile(loss, params=[a], inputs=[b], target=t, dtype="float32") for t in ("triton", "numpy")]
    assert "tl.log(2)" not in progs[0].source and "tl.exp(3)" not in progs[0].source
    values = {"a": np.arange(1, 7, dtype=np.float32)}
    data = {"b": np.array([[1, 0, 3, 0, 5, 0]], np.float32)}
    (tl, tg), (nl, ng) = ((p.loss(values, data), p.grad(values, data)) for p in progs)
    np.testing.assert_allclose(tl, nl, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(tg["a"]), np.asarray(ng["a"]), rtol=1e-6)
    assert np.isclose(float(nl), float(1 + 3 + 5 + np.log(2) * 3 + np.exp(3) * 12 + sp.erf(1) * 21), rtol=1e-6)
