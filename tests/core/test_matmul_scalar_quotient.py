"""A gradient whose matrix product carries a quotient of scalars prints it as one fraction:
sg.grad(log(1 + exp(−y·wᵀx)), w) printed "(-1)*y*1/(1 + exp(...))*exp(...)*x" (SymPy's MatMul
keeps each scalar factor apart, and "y*1/(a)*b" reads as y/(a·b) to a person). Its value is checked
against torch.autograd; the printed text must not hold "*1/(" and must parse back to the same value."""
import numpy as np
import sympy as sp
import torch

import symgrad as sg

w, x = sp.MatrixSymbol("w", 3, 1), sp.MatrixSymbol("x", 3, 1)
y = sp.Symbol("y")


def test_logistic_loss_gradient_prints_one_fraction_and_is_right():
    g = sg.grad(sp.log(1 + sp.exp(-y * sp.Trace(w.T * x))), w)
    text = str(g)
    assert "*1/(" not in text and "(-1)*" not in text, text
    wv, xv, yv = np.array([[0.3], [-0.2], [0.5]]), np.array([[1.0], [0.4], [-0.7]]), -1.0
    tw = torch.tensor(wv, requires_grad=True)
    torch.log(1 + torch.exp(-yv * (tw.T @ torch.tensor(xv)))).sum().backward()
    at = {w: wv, x: xv, y: yv}
    np.testing.assert_allclose(sg.numeric(g, at), tw.grad.numpy(), rtol=1e-12)
    back = sg.check(sp.log(1 + sp.exp(-y * sp.Trace(w.T * x))), w, text)     # the text pasted back
    assert back, back
