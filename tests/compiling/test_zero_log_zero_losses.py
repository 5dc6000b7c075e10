"""sg.kl_div and sg.bce take 0·log 0 = 0: one-hot targets give finite losses and the right, finite
gradients (torch's, float64), where x·log x written naively is 0·(−∞) = NaN."""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg

torch = pytest.importorskip("torch")
F = torch.nn.functional

z, t = sp.MatrixSymbol("z", 4, 1), sp.MatrixSymbol("t", 4, 1)
rng = np.random.default_rng(0)
Z = rng.normal(size=(5, 4)) * 3
ONE_HOT = np.eye(4)[[0, 3, 1, 1, 2]]


def torch_grad(loss_of, Zv):
    zt = torch.tensor(Zv, requires_grad=True)
    loss = loss_of(zt)
    (g,) = torch.autograd.grad(loss, [zt])
    return float(loss.detach()), g.numpy()


def test_kl_div_of_a_one_hot_target():
    prog = sg.compile(sg.kl_div(t, sg.softmax(z)), [z], [t], dtype="float64")
    Tt = torch.tensor(ONE_HOT)
    want, g = torch_grad(lambda zt: F.kl_div(F.log_softmax(zt, dim=1), Tt, reduction="batchmean"), Z)
    for i in range(len(Z)):          # one example at a time: z is the parameter
        loss = prog.loss({"z": Z[i:i + 1].T}, {"t": ONE_HOT[i:i + 1]})
        wi, gi = torch_grad(lambda zt: F.kl_div(F.log_softmax(zt, dim=1), Tt[i:i + 1], reduction="batchmean"),
                            Z[i:i + 1])
        assert np.isfinite(loss) and loss == pytest.approx(wi, rel=1e-12)
        got = prog.grad({"z": Z[i:i + 1].T}, {"t": ONE_HOT[i:i + 1]})["z"]
        np.testing.assert_allclose(got.ravel(), gi.ravel(), rtol=1e-12, atol=1e-14)


def test_kl_div_scalar_form():
    p, q = sp.symbols("p q", positive=True)
    f = sg.kl_div(p, q)
    assert f.subs({p: 0, q: sp.Rational(1, 3)}) == 0
    assert sp.diff(f, q).subs({p: 0, q: sp.Rational(1, 3)}) == 0


def test_bce_of_sigmoid_with_one_hot_targets_and_saturated_logits():
    prog = sg.compile(sg.bce(sg.sigmoid(z), t), [z], [t], dtype="float64")
    for Zi in (Z, 100 * Z):          # σ(±300) is 0 or 1 in float64: the log form would give NaN
        for i in range(len(Zi)):
            zi, ti = Zi[i:i + 1].T, ONE_HOT[i:i + 1]
            want, g = torch_grad(lambda zt: F.binary_cross_entropy_with_logits(
                zt, torch.tensor(ti), reduction="sum"), Zi[i:i + 1])
            loss = prog.loss({"z": zi}, {"t": ti})
            assert np.isfinite(loss) and loss == pytest.approx(want, rel=1e-12)
            np.testing.assert_allclose(prog.grad({"z": zi}, {"t": ti})["z"].ravel(), g.ravel(),
                                       rtol=1e-12, atol=1e-14)


def test_bce_of_probabilities_equal_to_the_targets():
    """p = y exactly (0s and 1s): loss 0 and gradient 0 where torch's clamped log gives 0 too."""
    p = sp.MatrixSymbol("p", 4, 1)
    prog = sg.compile(sg.bce(p, t), [p], [t], dtype="float64")
    for i in range(len(ONE_HOT)):
        pi, ti = ONE_HOT[i:i + 1].T.copy(), ONE_HOT[i:i + 1]
        assert prog.loss({"p": pi}, {"t": ti}) == 0
        g = prog.grad({"p": pi}, {"t": ti})["p"]
        assert np.all(np.isfinite(g))
    # and in the open interval, torch's gradient
    P = rng.uniform(0.05, 0.95, size=(1, 4))
    pt = torch.tensor(P, requires_grad=True)
    loss = F.binary_cross_entropy(pt, torch.tensor(ONE_HOT[:1]), reduction="sum")
    (gt,) = torch.autograd.grad(loss, [pt])
    np.testing.assert_allclose(prog.grad({"p": P.T}, {"t": ONE_HOT[:1]})["p"].ravel(), gt.numpy().ravel(),
                               rtol=1e-12)
    assert prog.loss({"p": P.T}, {"t": ONE_HOT[:1]}) == pytest.approx(float(loss.detach()), rel=1e-12)
