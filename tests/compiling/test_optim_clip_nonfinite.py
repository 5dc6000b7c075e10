"""clip_grad_norm with a non-finite gradient, against torch.nn.utils.clip_grad_norm_ in float64: an
inf gradient makes clip_coef 0 (its entries NaN, the others a zero gradient); a NaN gradient, in any
position and for either norm type, makes every parameter NaN."""
import numpy as np
import pytest
import sympy as sp
import torch

import symgrad as sg

w, b, x = sp.symbols("w b x")


@pytest.mark.parametrize("norm_type", [2.0, float("inf")])
@pytest.mark.parametrize("w0", [-1.0, 0.0], ids=["nan-gradient", "inf-gradient"])
@pytest.mark.parametrize("order", ["w-first", "w-last"])
def test_nonfinite_gradient_as_torch(norm_type, w0, order):
    params = [w, b] if order == "w-first" else [b, w]
    opt = sg.optim.SGD(lr=0.1, clip_grad_norm=1.0, clip_norm_type=norm_type)
    prog = sg.compile(sp.sqrt(w * x) + b * x, params, [x], dtype="float64", optimizer=opt)
    with np.errstate(all="ignore"):
        got, _ = prog.step({"w": np.array(w0), "b": np.array(1.0)}, None, {"x": np.array([1.0])})
    tw, tb = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (w0, 1.0))
    (torch.sqrt(tw) + tb).backward()
    torch.nn.utils.clip_grad_norm_([tw, tb] if order == "w-first" else [tb, tw], 1.0, norm_type=norm_type)
    with torch.no_grad():
        want = [(t - 0.1 * t.grad).item() for t in (tw, tb)]
    np.testing.assert_allclose([float(got["w"]), float(got["b"])], want, rtol=1e-12)   # NaN == NaN here
