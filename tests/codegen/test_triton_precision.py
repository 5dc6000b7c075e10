"""``sg.compile(..., precision=...)`` for the Triton target: "ieee", "tf32", "tf32x3", "bf16".

Under the interpreter the float32 modes compute alike (its tl.dot ignores input_precision), so
they are checked against the NumPy target and by the source they generate; what they compile to on
an H100/H200 is `codegen.triton_aot`'s job (docs/triton.md has the table). bf16 is checked for what
it stores (bfloat16 activations, float32 master weights and partial sums), for its error against
float32, and for the digits MLP's accuracy.
"""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg

torch = pytest.importorskip("torch")
pytest.importorskip("triton")


def _mlp(precision, widths=(5, 7, 3), **kw):
    net = sg.mlp(list(widths), act=sg.relu)
    t = sp.MatrixSymbol("t", widths[-1], 1)
    L = sg.cross_entropy(net.output, t)
    prog = sg.compile(L, net.params, [net.input, t], target="triton", precision=precision, **kw)
    return net, t, L, prog


def _data(rng, net, B=19, n_out=3):
    values = {p.name: rng.normal(size=tuple(map(int, p.shape))).astype(np.float32) for p in net.params}
    batch = {"x": rng.normal(size=(B, 5)).astype(np.float32),
             "t": np.eye(n_out, dtype=np.float32)[rng.integers(0, n_out, B)]}
    return values, batch


@pytest.mark.parametrize("precision", ["ieee", "tf32", "tf32x3"])
def test_float32_modes_generate_their_products_and_compute(precision, rng):
    net, t, L, prog = _mlp(precision)
    assert f'input_precision="{precision}"' in prog.source
    assert ".to(tl.bfloat16)" not in prog.source
    ref = sg.compile(L, net.params, [net.input, t])
    values, batch = _data(rng, net)
    np.testing.assert_allclose(float(prog.loss(values, batch)), ref.loss(values, batch), rtol=2e-5)
    g, gr = prog.grad(values, batch), ref.grad(values, batch)
    for k in gr:
        np.testing.assert_allclose(g[k].numpy(), gr[k], rtol=2e-5, atol=2e-5, err_msg=k)


def test_bad_precision_is_an_argument_error():
    net = sg.mlp([3, 2])
    t = sp.MatrixSymbol("t", 2, 1)
    for precision, target in (("fp8", "triton"), ("bf16", "numpy")):
        with pytest.raises(sg.ArgumentError, match="precision"):
            sg.compile(sg.mse(net.output, t), net.params, [net.input, t], target=target, precision=precision)


def test_bf16_stores_bfloat16_activations_and_keeps_float32_weights(rng):
    """The step's (B, N) activations and δs are bfloat16 buffers; parameters, slots and partial sums
    stay float32; loss and gradients are within bfloat16's error of the float32 NumPy target's."""
    net, t, L, prog = _mlp("bf16", optimizer=sg.optim.Adam(lr=0.01))
    ref = sg.compile(L, net.params, [net.input, t], optimizer=sg.optim.Adam(lr=0.01))
    values, batch = _data(rng, net)
    values = {k: 0.3 * v for k, v in values.items()}
    loss, want = float(prog.loss(values, batch)), ref.loss(values, batch)
    assert abs(loss - want) <= 2e-2 * abs(want)
    g, gr = prog.grad(values, batch), ref.grad(values, batch)
    for k in gr:
        err = np.abs(g[k].numpy() - gr[k]).max()
        assert err <= 3e-2 * np.abs(gr[k]).max() + 1e-3, (k, err)
    ws = prog.compiled.step.__globals__["WORKSPACE"]
    ws.clear()
    v, st = prog.step(dict(values), prog.init_state(), batch)
    kept = {name: buf for w in ws.values() for name, buf in w.items()}     # a Workspace per (tag, device)
    kinds = {name: buf.dtype for name, buf in kept.items()}
    tiles = {n for n, b in kept.items() if b.dim() == 2 and n.startswith("train_kernel")}
    assert tiles and all(kinds[n] == torch.bfloat16 for n in tiles), kinds
    assert all(d == torch.float32 for n, d in kinds.items() if "part" in n), kinds
    assert all(x.dtype == torch.float32 for x in v.values())
    assert all(x.dtype == torch.float32 for s in prog.slots for x in st[s].values())
    assert 'input_precision="ieee"' not in prog.source and ".to(tl.bfloat16).to(DOT_OPERAND)" in prog.source


@pytest.mark.slow
def test_bf16_digits_accuracy_within_001_of_float32():
    """The digits MLP (64-16-10, relu, cross-entropy, Adam), a reduced run under the interpreter:
    8 steps of 350 examples from the same start, then accuracy on 397 held-out digits."""
    pytest.importorskip("sklearn")
    from sklearn.datasets import load_digits
    X, y = load_digits(return_X_y=True)
    X, T = (X / 16.0).astype(np.float32), np.eye(10, dtype=np.float32)[y]
    rng = np.random.default_rng(0)
    perm = rng.permutation(len(X))
    train, test = perm[:1400], perm[1400:]
    net = sg.mlp([64, 16, 10], act=sg.relu)
    t = sp.MatrixSymbol("t", 10, 1)
    init = {p.name: (rng.uniform(-1, 1, size=tuple(map(int, p.shape))) / np.sqrt(int(p.shape[1]))).astype(np.float32)
            if p.shape[1] > 1 else np.zeros(tuple(map(int, p.shape)), np.float32) for p in net.params}
    accuracy = {}
    for precision in ("ieee", "bf16"):
        prog = sg.compile(sg.cross_entropy(net.output, t), net.params, [net.input, t], target="triton",
                          precision=precision, optimizer=sg.optim.Adam(lr=0.05), outputs=[net.output])
        v, st = {k: a.copy() for k, a in init.items()}, prog.init_state()
        for _ in range(2):
            for i in range(0, 1400, 350):
                idx = train[i:i + 350]
                v, st = prog.step(v, st, {"x": X[idx], "t": T[idx]})
        z = prog.forward(v, {"x": X[test]})[0].numpy()
        accuracy[precision] = float((z.argmax(1) == y[test]).mean())
    assert accuracy["ieee"] > 0.7, accuracy                     # it learned
    assert abs(accuracy["bf16"] - accuracy["ieee"]) <= 0.01, accuracy
