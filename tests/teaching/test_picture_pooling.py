"""The picture of a CNN (issue: teaching leftovers): a pooling layer is one operation, labelled as
the user wrote it ("max pool 2×2", "avg pool 2×2, stride 1"), not its lowering (windows, then a max
over the window axis); a convolution is one too ("conv 3×3, stride 2, padding 1"); the gradient on
the edge into the pool is torch's."""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from picture_parse import edges, node_names

torch = pytest.importorskip("torch")
F = torch.nn.functional
rng = np.random.default_rng(5)
N = sp.Symbol("N", integer=True, positive=True)


def _ops(src):
    return sorted(node_names(src).values())


def test_cnn_draws_conv_and_max_pool_as_one_node_each():
    x, w, b, t = (sg.tensor("x", (N, 1, 6, 6)), sg.tensor("w", (2, 1, 3, 3)), sg.tensor("b", (2,)),
                  sg.tensor("t", (N, 2, 2, 2)))
    p = sg.max_pool2d(sg.relu(sg.conv2d(x, w, b)), 2)
    src = sg.derive(sg.sum((p - t) ** 2) / 2, [w, b]).graph().source
    ops = _ops(src)
    assert "max pool 2×2" in ops and "conv 3×3" in ops, ops
    assert not any(o.startswith(("windows", "max (axis", "broadcast")) for o in ops), ops
    # the one reshape is the bias's, a step of the text too (u₂ = b.reshape(2, 1, 1))
    assert [o for o in ops if o.startswith("reshape")] == ["reshape (2, 1, 1)"], ops
    # the pool's edges carry the gradient: ∂f/∂y into the pool, ∂f/∂u out of it
    into = [gv for name, _, gv, dst in edges(src) if node_names(src).get(dst) == "max pool 2×2"]
    assert into == ["∂f/∂y"], into


def test_pool_options_are_in_the_label():
    h = sg.tensor("h", (N, 2, 6, 6))
    for pooled, want in [(sg.max_pool2d(h, 3, stride=2, padding=1), "max pool 3×3, stride 2, padding 1"),
                         (sg.avg_pool2d(h, 2), "avg pool 2×2"),
                         (sg.avg_pool2d(h, 2, stride=1), "avg pool 2×2, stride 1")]:
        ops = _ops(sg.derive(sg.sum(pooled), [h]).graph().source)
        assert want in ops and "windows" not in ops, (want, ops)
    x, w = sg.tensor("x", (N, 2, 7, 7)), sg.tensor("w", (3, 2, 3, 3))
    ops = _ops(sg.derive(sg.sum(sg.conv2d(x, w, stride=2, padding=1)), [w]).graph().source)
    assert "conv 3×3, stride 2, padding 1" in ops, ops


@pytest.mark.parametrize("pool", ["max", "avg"])
def test_gradient_on_the_pools_edge_is_torchs(pool):
    x, dout = sg.tensor("x", (1, 1, 4, 4)), sg.tensor("dout", (1, 1, 2, 2))    # one image: 4×4 grids
    f = sg.max_pool2d if pool == "max" else sg.avg_pool2d
    d = sg.derive(sg.sum(f(x, 2) * dout), [x])
    at = {x: rng.normal(size=(1, 1, 4, 4)), dout: rng.normal(size=(1, 1, 2, 2))}
    src = d.graph(at=at).source
    label = f"{pool} pool 2×2"
    (fv, gv), = [(fv, gv) for _, fv, gv, dst in edges(src) if node_names(src).get(dst) == label]
    tx = torch.tensor(at[x], requires_grad=True)
    tf = F.max_pool2d if pool == "max" else F.avg_pool2d
    (tf(tx, 2) * torch.tensor(at[dout])).sum().backward()

    def grid(s):                       # "[[a, b], [c, d]]" with Unicode minus signs
        return np.array(eval(s.replace("−", "-")))     # noqa: S307 - numbers the picture printed
    np.testing.assert_allclose(grid(fv), at[x][0, 0], atol=1e-3)
    np.testing.assert_allclose(grid(gv), tx.grad.numpy()[0, 0], atol=1e-3)


def test_a_pool_into_a_pool_shows_the_values_in_the_layers_shape():
    x = sg.tensor("x", (1, 1, 4, 4))
    d = sg.derive(sg.sum(sg.avg_pool2d(sg.max_pool2d(x, 2, stride=1), 2, stride=1)), [x])
    xv = rng.normal(size=(1, 1, 4, 4))
    src = d.graph(at={x: xv}).source
    (fv, gv), = [(fv, gv) for _, fv, gv, dst in edges(src) if node_names(src).get(dst) == "avg pool 2×2, stride 1"]
    want = torch.nn.functional.max_pool2d(torch.tensor(xv), 2, stride=1).numpy()[0, 0]     # 3×3, no window axis
    np.testing.assert_allclose(np.array(eval(fv.replace("−", "-"))), want, atol=1e-3)      # noqa: S307
    # Σ of the 2×2 averages: each entry of the 3×3 max-pool output is in 1, 2 or 4 windows, 1/4 each
    windows = np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]])
    np.testing.assert_allclose(np.array(eval(gv.replace("−", "-"))), windows / 4, atol=1e-3)      # noqa: S307


def test_conv_with_a_bias_derives_in_cs231n_form():
    x, w, b = sg.tensor("x", (N, 1, 6, 7)), sg.tensor("w", (2, 1, 3, 2)), sg.tensor("b", (2,))
    dout = sg.tensor("dout", (N, 2, 4, 6))
    text = sg.derive(sg.sum(sg.conv2d(x, w, b) * dout), [w, b], output_name="L").render("unicode")
    assert "∂L/∂b = dout.sum(axis=(0, 2, 3))" in text.split("Gradient:")[1]


def test_the_cnn_example_picture_shows_the_bias_and_its_gradient():
    import importlib.util
    import sys
    from pathlib import Path
    examples = Path(__file__).resolve().parents[2] / "examples" / "teaching"
    sys.path.insert(0, str(examples))
    spec = importlib.util.spec_from_file_location("teaching_conv_layer", examples / "conv_layer.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    d, at = mod.cnn()
    src = d.graph(at=at).source
    assert {"conv 3×3", "relu", "max pool 2×2"} <= set(node_names(src).values())
    (fv, gv), = [(fv, gv) for name, fv, gv, _ in edges(src) if name == "b"]
    xs, ws, bs, ts = sorted(at, key=lambda s: "xwbt".index(s.name))
    tb = torch.tensor(at[bs], requires_grad=True)
    p = F.max_pool2d(torch.relu(F.conv2d(torch.tensor(at[xs]), torch.tensor(at[ws]), tb)), 2)
    (((p - torch.tensor(at[ts])) ** 2).sum() / 2).backward()
    grid = lambda s: np.array(eval(s.replace("−", "-"))).ravel()      # noqa: E731,S307 - the printed numbers
    np.testing.assert_allclose(grid(fv), at[bs], atol=1e-3)           # b itself, not b.reshape(1, 2, 1, 1)
    np.testing.assert_allclose(grid(gv), tb.grad.numpy(), rtol=1e-3)
