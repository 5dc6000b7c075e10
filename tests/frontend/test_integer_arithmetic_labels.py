"""Labels computed from sg.arange, as torch code writes them (eleventh session): NT-Xent's
``torch.cat([torch.arange(N) + N, torch.arange(N)])``. Integer arithmetic of integer tensors was a
real tensor, and sg.cross_entropy of square (2N, 2N) similarities took such a (2N,) target for
probabilities, broadcast over the rows: a loss of 1.5e30 where torch's is 2.56, silently."""
import numpy as np
import pytest
import sympy as sp
import torch
import torch.nn.functional as TF

import symgrad as sg

N = sp.Symbol("N", integer=True, positive=True)


@pytest.mark.parametrize("build, integer", [
    (lambda a: a + N, True), (lambda a: N - 1 - a, True), (lambda a: 2 * a + 1, True),
    (lambda a: a.flip(0), True), (lambda a: sg.concat([a + N, a], 0), True),
    (lambda a: a / 2, False), (lambda a: a * 1.0, False), (lambda a: (a + 1).float(), False),
    (lambda a: a + sg.tensor("x", (N,)), False),
])
def test_integer_arithmetic_of_integer_tensors_is_integer(build, integer):
    assert build(sg.arange(N)).is_integer_tensor is integer


def test_nt_xent_with_arange_labels_is_torchs():
    a, b, W = sg.tensor("a", (N, 4)), sg.tensor("b", (N, 4)), sg.tensor("W", (4, 3))
    z = sg.normalize(sg.concat([a @ W, b @ W], 0), dim=1)
    sim = (z @ z.T / 0.5).masked_fill(sp.Eq(sg.eye(2 * N), 1), float("-inf"))
    loss = sg.cross_entropy(sim, sg.concat([sg.arange(N) + N, sg.arange(N)], 0))
    rng = np.random.default_rng(0)
    av, bv, wv = rng.normal(size=(3, 4)), rng.normal(size=(3, 4)), rng.normal(size=(4, 3))
    wt = torch.tensor(wv, requires_grad=True)
    zt = TF.normalize(torch.cat([torch.tensor(av) @ wt, torch.tensor(bv) @ wt]), dim=1)
    st = (zt @ zt.T / 0.5).masked_fill(torch.eye(6, dtype=torch.bool), float("-inf"))
    want = TF.cross_entropy(st, torch.cat([torch.arange(3) + 3, torch.arange(3)]))
    want.backward()
    prog = sg.compile(loss, [W], [a, b], dtype="float64")
    assert prog.loss({"W": wv}, {"a": av, "b": bv}) == pytest.approx(want.item(), rel=1e-12)
    np.testing.assert_allclose(prog.grad({"W": wv}, {"a": av, "b": bv})["W"], wt.grad.numpy(), rtol=1e-10)
    at = {a: av, b: bv, W: wv}
    np.testing.assert_allclose(np.asarray(sg.numeric(sg.grad(loss, W), at), dtype=float), wt.grad.numpy(), rtol=1e-10)


def test_a_real_target_of_the_batch_shape_is_refused_even_where_it_broadcasts():
    s, t = sg.tensor("s", (N, N)), sg.tensor("t", (N,))
    with pytest.raises(sg.IntegerTensorError, match="integer=True"):
        sg.cross_entropy(s, t)
    with pytest.raises(sg.IntegerTensorError, match="integer=True"):
        sg.cross_entropy(s, sg.arange(N) / 1.0)


@pytest.mark.parametrize("build", [lambda x: x * sp.Array([1, 2, 3]), lambda x: sp.Array([[1, 2, 3]]) + x,
                                   lambda x: sg.as_tensor(sp.ImmutableDenseNDimArray([1, 2, 3]))])
def test_a_sympy_array_in_a_declaration_is_refused_as_numpys(build):
    """x * sp.Array([1, 2, 3]) failed in lowering ("[1, 2, 3] is not an expression", after SymPy's
    deprecation warning); it is refused as a NumPy array is, naming sg.tensor(name, (3,))."""
    with pytest.raises(sg.UnsupportedError, match=r"a SymPy array of shape \(1?,? ?3,?\).*sg\.tensor\(name"):
        build(sg.tensor("x", (2, 3)))
