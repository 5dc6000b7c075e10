"""Float constants reach the generated NumPy code as the doubles they are. Hugging Face's additive
attention mask is (1 - mask) * torch.finfo(float64).min: printed with SymPy's 15 digits that constant
is 1.79769313486232e+308, past the largest double, so inf - inf made the loss NaN where torch's is
finite."""
import numpy as np
import pytest
import sympy as sp
import torch

import symgrad as sg

N = sp.Symbol("N", integer=True, positive=True)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_finfo_min_mask_compiles_to_torchs_loss_and_gradient(dtype):
    big = float(np.finfo(getattr(np, dtype)).min)
    s = sg.tensor("s", (N, 2, 3))
    m = sg.tensor("m", (N, 3))
    W = sg.tensor("W", (2, 3))
    t = sg.tensor("t", (N, 2, 3))
    L = sg.sum(t * sg.softmax(s * W + (1.0 - m[:, None, :]) * big, axis=-1))
    rng = np.random.default_rng(0)
    Wv = rng.standard_normal((2, 3))
    sv, tv = rng.standard_normal((2, 2, 3)), rng.standard_normal((2, 2, 3))
    mv = np.array([[1.0, 1, 0], [1, 0, 0]])
    prog = sg.compile(L, [W], [s, m, t], dtype=dtype)
    batch = {"s": sv, "m": mv, "t": tv}
    loss = prog.loss({"W": Wv}, batch)
    grad = prog.grad({"W": Wv}, batch)["W"]

    tdt = getattr(torch, dtype)
    Wt = torch.tensor(Wv, dtype=tdt, requires_grad=True)
    st, mt, tt = (torch.tensor(a, dtype=tdt) for a in (sv, mv, tv))
    want = (tt * torch.softmax(st * Wt + (1.0 - mt[:, None, :]) * torch.finfo(tdt).min, dim=-1)).sum()
    want.backward()
    tol = 1e-12 if dtype == "float64" else 1e-5
    assert np.isfinite(loss) and np.all(np.isfinite(grad))
    np.testing.assert_allclose(loss, want.item(), rtol=tol, atol=tol)
    np.testing.assert_allclose(grad, Wt.grad.numpy(), rtol=tol, atol=tol)


def test_a_float_prints_short_where_it_reads_back_within_roundings_else_in_full():
    import math
    from codegen.printers.numpy_printer import NumpyPrinter
    x = sp.Symbol("v1")

    def printed(value):
        text = NumpyPrinter().doprint(sp.Float(value) * x)
        return text, float(eval(text, {"v1": 1.0}))

    for value in (float(np.finfo(np.float64).min), 1 / 3, -2.5e-300, 5e-324):   # in full
        assert printed(value)[1] == value
    # Adam's 1 - 0.9 and 1 - 0.999 as the doubles they are: read as people write them, a rounding away
    for value, short in ((1 - 0.9, "0.1"), (1 - 0.999, "0.001")):
        text, back = printed(value)
        assert text.startswith(short + "*") and abs(back - value) <= 4 * math.ulp(value), text
