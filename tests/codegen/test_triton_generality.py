"""The Triton target beyond plain MLPs: tied weights, penalties on parameters, class labels,
Piecewise — each equal to the NumPy target compiled from the same declaration (loss, gradients,
3 Adam steps) at fp32 tolerance; and what it still refuses is named in the user's terms.

Tiny widths and batches: the kernels run under Triton's interpreter on the CPU.
"""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg

torch = pytest.importorskip("torch")
pytest.importorskip("triton")

TOL = 2e-5
x, t = sp.MatrixSymbol("x", 4, 1), sp.MatrixSymbol("t", 4, 1)
W, b, c = sp.MatrixSymbol("W", 4, 4), sp.MatrixSymbol("b", 4, 1), sp.MatrixSymbol("c", 4, 1)
V = sp.MatrixSymbol("V", 3, 4)
k, y = sp.Symbol("k"), sp.Symbol("y")
u = sp.MatrixSymbol("u", 1, 4)


def _huber(r, d=1):
    return sp.Piecewise((r ** 2 / 2, sp.Abs(r) <= d), (d * (sp.Abs(r) - sp.Rational(d, 2)), True))


CASES = {
    # y = W relu(W x + b) + c: ∂L/∂W is the sum of two outer products, δ₂ hᵀ + δ₁ xᵀ
    "tied MLP": (sg.mse(W * sg.relu(W * x + b) + c, t), [W, b, c], [x, t]),
    # x̂ = Wᵀ relu(W x + b) + c, against x itself: ∂L/∂W = h δ̂ᵀ … + δ xᵀ (one product is transposed)
    "tied autoencoder": (sg.mse(W.T * sg.relu(W * x + b) + c, x), [W, b, c], [x]),
    # mean over the batch of the data term, plus λ‖W‖² (the same for every example)
    "L2 penalty": (sg.mse(W * x + b, t) + sp.Rational(1, 20) * sg.sum(sp.HadamardProduct(W, W)), [W, b], [x, t]),
    # cross-entropy at an integer class label k (gather)
    "class labels": (sg.cross_entropy(V * sg.relu(W * x + b), k), [W, b, V], [x, k]),
    # a Piecewise (Huber) loss of a scalar prediction
    "Huber (Piecewise)": (_huber(sg.sum(u * sg.elementwise(sp.tanh, W * x + b)) - y), [W, b, u], [x, y]),
}


def _values_and_batch(params, inputs, rng, B=9):
    values = {p.name: (0.5 * rng.normal(size=p.shape)).astype(np.float32) for p in params}
    batch = {}
    for s in inputs:
        if s.name == "k":
            batch["k"] = rng.integers(0, 3, B).astype(np.float32)
        elif s.name == "y":
            batch["y"] = (2 * rng.normal(size=B)).astype(np.float32)     # both sides of the Huber kink
        else:
            batch[s.name] = rng.normal(size=(B,) + (s.shape[0],)).astype(np.float32)
    return values, batch


def _close(got, want, what):
    got = got.detach().cpu().numpy() if isinstance(got, torch.Tensor) else np.asarray(got)
    np.testing.assert_allclose(got, want, rtol=TOL, atol=TOL, err_msg=what)


@pytest.mark.parametrize("case", sorted(CASES))
def test_equals_numpy_target(case, rng):
    L, params, inputs = CASES[case]
    tri, ref = (sg.compile(L, params, inputs, target=tg, optimizer=sg.optim.Adam(lr=0.05))
                for tg in ("triton", "numpy"))
    values, batch = _values_and_batch(params, inputs, rng)
    _close(tri.loss(values, batch), ref.loss(values, batch), "loss")
    g_tri, g_ref = tri.grad(values, batch), ref.grad(values, batch)
    for n in g_ref:
        _close(g_tri[n], g_ref[n], f"d loss / d {n}")
    vt, st = dict(values), tri.init_state()
    vr, sr = {n: v.copy() for n, v in values.items()}, ref.init_state()
    for step in range(3):
        vt, st = tri.step(vt, st, batch)
        vr, sr = ref.step(vr, sr, batch)
        _close(tri.last_loss, ref.last_loss, f"loss before step {step + 1}")
        for n in vr:
            _close(vt[n], vr[n], f"{n} after step {step + 1}")


def test_bilinear_written_with_vectors_equals_numpy(rng):
    """The workaround the refusal below names: xᵀ·W·y as sg.sum(x ⊙ (W·y))."""
    xx, yy, s = sp.MatrixSymbol("x", 3, 1), sp.MatrixSymbol("y", 4, 1), sp.Symbol("s")
    A = sp.MatrixSymbol("A", 3, 4)
    L = (sg.sum(sp.HadamardProduct(xx, A * yy)) - s) ** 2
    tri, ref = (sg.compile(L, [A], [xx, yy, s], target=tg) for tg in ("triton", "numpy"))
    values = {"A": rng.normal(size=(3, 4)).astype(np.float32)}
    batch = {"x": rng.normal(size=(7, 3)), "y": rng.normal(size=(7, 4)), "s": rng.normal(size=7)}
    _close(tri.loss(values, batch), ref.loss(values, batch), "loss")
    _close(tri.grad(values, batch)["A"], ref.grad(values, batch)["A"], "d loss / d A")


M3, A3 = sp.MatrixSymbol("M", 3, 3), sp.MatrixSymbol("A", 3, 3)
xx3, yy4 = sp.MatrixSymbol("x", 3, 1), sp.MatrixSymbol("y", 4, 1)
W34, s_ = sp.MatrixSymbol("W", 3, 4), sp.Symbol("s")
REFUSED = [
    # (loss, params, inputs, what the message must name, the workaround it must give)
    (sg.sum(sg.relu(M3 * A3)), [A3], [M3], "`M*A` is a (3, 3) matrix per example", "sg.sum(x ⊙ (W·y))"),
    ((sg.sum(xx3.T * W34 * yy4) - s_) ** 2, [W34], [xx3, yy4, s_], "`x.T*W*y`", "sg.sum(a ⊙ b)"),
    ((xx3.T * W34 * yy4)[0, 0], [W34], [xx3, yy4], "an entry M[i, j]", "sg.sum(M) instead of M[0, 0]"),
    (sg.sum(sp.HadamardProduct(sp.ImmutableMatrix([1, 2, 3]), sg.relu(A3 * xx3))), [A3], [xx3],
     "the constant matrix [[1], [2], [3]]", "make it an input"),
]


@pytest.mark.parametrize("loss, params, inputs, names, workaround", REFUSED)
def test_refusals_name_the_users_expression_and_a_workaround(loss, params, inputs, names, workaround):
    import re
    with pytest.raises(sg.UnsupportedError) as info:
        sg.compile(loss, params, inputs, target="triton")
    msg = str(info.value)
    assert names in msg and workaround in msg, msg
    assert not re.search(r"\bv\d+\b", msg), msg         # never an IR variable


def test_as_torch_with_class_labels(rng):
    """``as_torch()`` of the class-label case: ``loss(x, k)`` and its backward give the program's
    gradients; a label out of range is the program's LabelRangeError at the call (checked on the
    host before any kernel runs), never a silent gradient."""
    L, params, inputs = CASES["class labels"]
    prog = sg.compile(L, params, inputs, target="triton")
    values, batch = _values_and_batch(params, inputs, rng)
    module = prog.as_torch(values)
    X, K = torch.tensor(batch["x"]), torch.tensor(batch["k"])
    loss = module.loss(X, K)
    loss.backward()
    _close(loss, prog.loss(values, batch), "loss")
    want = prog.grad(values, batch)
    for n in want:
        p = getattr(module, module.attribute_names[n])
        _close(p.grad.reshape(want[n].shape), want[n].detach().numpy(), f"d loss / d {n}")
    K[2] = 3.0
    with pytest.raises(sg.LabelRangeError, match=r"'k' holds class labels, integers 0 \.\.\. 2 \(3 classes\); example 2 has 3"):
        module.loss(X, K).backward()
