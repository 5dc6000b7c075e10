"""The convolution as the notes write it, Σᵢ Σⱼ w[i, j]·x[i:i+H', j:j+W'] (a sum of shifted slices),
given straight to sg.derive without sg.as_conv: the steps are the convolution's (one conv2d node,
∂L/∂w the correlation of x with δ, ∂L/∂x the full convolution with the flipped kernel), and the
numbers are torch's; sg.grad still differentiates the sum as written, to the same numbers."""
import numpy as np
import pytest

import symgrad as sg

torch = pytest.importorskip("torch")
F = torch.nn.functional
rng = np.random.default_rng(3)


def _one_image():
    x, g, dout = sg.tensor("x", (6, 7)), sg.tensor("g", (3, 2)), sg.tensor("dout", (4, 6))
    s = sum(g[i, j] * x[i:i + 4, j:j + 6] for i in range(3) for j in range(2))
    return sg.sum(s * dout), (x, g, dout)


def _torch_grads(xv, gv, dv):
    tx, tg = (torch.tensor(a, requires_grad=True) for a in (xv, gv))
    out = F.conv2d(tx[None, None], tg[None, None])[0, 0]
    (out * torch.tensor(dv)).sum().backward()
    return tx.grad.numpy(), tg.grad.numpy()


def test_sum_of_slices_derives_as_one_convolution():
    L, (x, g, dout) = _one_image()
    d = sg.derive(L, [g, x], output_name="L")
    text = d.render("unicode")
    fwd = text.split("Backward pass")[0]
    assert "conv2d(x, g)" in fwd and "x[" not in fwd                 # one node, no slices
    assert "convolution: ∇w is the correlation of the input with δ" in text
    assert "convolution: ∇x is the full convolution of δ with the flipped kernel" in text
    vals = {x: rng.normal(size=(6, 7)), g: rng.normal(size=(3, 2)), dout: rng.normal(size=(4, 6))}
    got = {str(w): v for w, _, v in d.explain(at=vals).gradients}
    tx, tg = _torch_grads(vals[x], vals[g], vals[dout])
    np.testing.assert_allclose(got["g"], tg, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got["x"], tx, rtol=1e-10, atol=1e-12)


def test_sg_grad_keeps_the_sum_as_written():
    L, (x, g, dout) = _one_image()
    grad_g = sg.grad(L, g)
    assert "conv2d" not in str(grad_g)                 # recognition is the teaching views' only
    vals = {"x": rng.normal(size=(6, 7)), "g": rng.normal(size=(3, 2)), "dout": rng.normal(size=(4, 6))}
    _, tg = _torch_grads(vals["x"], vals["g"], vals["dout"])
    np.testing.assert_allclose(sg.numeric(grad_g, vals), tg, rtol=1e-10, atol=1e-12)


def test_a_sum_of_slices_that_is_no_convolution_derives_as_written():
    x, g = sg.tensor("x", (6, 7)), sg.tensor("g", (3, 2))
    s = sum(g[i, j] * x[i:i + 4, j:j + 6] for i in range(3) for j in range(2) if (i, j) != (1, 1))
    d = sg.derive(sg.sum(s), [g])                      # an offset missing: not a conv, no error
    assert "conv2d" not in d.render("unicode")
    vals = {x: rng.normal(size=(6, 7)), g: rng.normal(size=(3, 2))}
    (_, _, got), = d.explain(at=vals).gradients
    want = np.array([[vals[x][i:i + 4, j:j + 6].sum() for j in range(2)] for i in range(3)])
    want[1, 1] = 0.0
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_batched_slices_derive_as_conv2d():
    x, w, dout = sg.tensor("x", (2, 3, 5, 5)), sg.tensor("w", (4, 3, 2, 2)), sg.tensor("dout", (2, 4, 4, 4))
    s = sum((x[:, None, :, a:a + 4, b:b + 4] * w[None, :, :, a, b, None, None]).sum(axis=2)
            for a in range(2) for b in range(2))
    d = sg.derive(sg.sum(s * dout), [w], output_name="L")
    assert "conv2d(x, w)" in d.render("unicode").split("Backward pass")[0]
    vals = {x: rng.normal(size=(2, 3, 5, 5)), w: rng.normal(size=(4, 3, 2, 2)), dout: rng.normal(size=(2, 4, 4, 4))}
    (_, _, got), = d.explain(at=vals).gradients
    tw = torch.tensor(vals[w], requires_grad=True)
    (F.conv2d(torch.tensor(vals[x]), tw) * torch.tensor(vals[dout])).sum().backward()
    np.testing.assert_allclose(got, tw.grad.numpy(), rtol=1e-10, atol=1e-12)
