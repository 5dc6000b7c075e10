"""A batched conv → relu → max pool → flatten → linear → cross-entropy layer: every step of the text
and every node of the picture is a true equation in the shapes the user wrote.

- the flatten is a step of its own (the lowering merges it with the reshape that drops the max's
  window axis; it used to read u₅ = u₄V with u₄ the 4-d pooled map);
- ∂L/∂ of the pooled map is (N, C, 2, 2), as max_pool2d writes it, and its numbers are torch's;
- ∂L/∂ of b.reshape(4, 1, 1) has the node's shape (4, 1, 1), not the lowering's (1, 4, 1, 1).
"""
import re

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from picture_parse import _value_edges, edges, node_names

torch = pytest.importorskip("torch")
N = sp.Symbol("N", integer=True, positive=True)
x, w, b = sg.tensor("x", (N, 1, 6, 6)), sg.tensor("w", (4, 1, 3, 3)), sg.tensor("b", (4,))
V, y = sg.tensor("V", (16, 3)), sg.tensor("y", (N,), integer=True)
rng = np.random.default_rng(3)
AT = {x: rng.normal(size=(2, 1, 6, 6)), w: rng.normal(size=(4, 1, 3, 3)), b: rng.normal(size=4),
      V: rng.normal(size=(16, 3)), y: np.array([0, 2])}


def _layer():
    pooled = sg.max_pool2d(sg.relu(sg.conv2d(x, w, b)), 2)
    return sg.cross_entropy(pooled.reshape(N, -1) @ V, y)


def _torch():
    """torch's pooled map and the gradients of the loss w.r.t. it and b."""
    t = {k: torch.tensor(v, requires_grad=True) for k, v in [("x", AT[x]), ("w", AT[w]), ("b", AT[b]),
                                                               ("V", AT[V])]}
    p = torch.nn.functional.max_pool2d(torch.relu(torch.nn.functional.conv2d(t["x"], t["w"], t["b"])), 2)
    p.retain_grad()
    loss = torch.nn.functional.cross_entropy(p.reshape(2, -1) @ t["V"], torch.tensor(AT[y]))
    loss.backward()
    return p.detach().numpy(), p.grad.numpy(), t["b"].grad.numpy()


def _definitions(s):
    return {str(sym): (expr, val) for sym, expr, val in s.definitions}


def test_the_flatten_is_a_step_and_the_product_takes_the_flattened_map():
    s = sg.derive(_layer(), [w, b, V]).steps
    defs = _definitions(s)
    pool = next(n for n, (e, _) in defs.items() if str(e).startswith("max_pool2d("))
    flat = next(n for n, (e, _) in defs.items() if str(e) == f"{pool}.reshape(N, 16)")
    product = [str(e) for e, _ in defs.values() if "@ V" in str(e)]
    assert product == [f"{flat} @ V"], product       # not u₄ @ V with u₄ the 4-d pooled map


def test_the_pooled_maps_value_and_gradient_are_4d_and_torchs():
    s = sg.derive(_layer(), [w, b, V], at=AT).steps
    defs = _definitions(s)
    pool = next(n for n, (e, _) in defs.items() if str(e).startswith("max_pool2d("))
    p, dp, db = _torch()
    value = np.asarray(defs[pool][1])
    assert value.shape == (2, 4, 2, 2)
    np.testing.assert_allclose(value, p, rtol=1e-10)
    step = s.find(pool)
    assert step.result.shape == (N, 4, 2, 2), step.result            # .reshape(N, 4, 2, 2), not (…, 1)
    assert re.search(r"\.reshape\(N, 4, 2, 2\)", step.text("unicode"))
    assert np.asarray(step.value).shape == (2, 4, 2, 2)
    np.testing.assert_allclose(step.value, dp, rtol=1e-8, atol=1e-14)


def test_the_gradient_of_the_reshaped_bias_has_the_written_shape():
    s = sg.derive(_layer(), [w, b, V], at=AT).steps
    defs = _definitions(s)
    u = next(n for n, (e, _) in defs.items() if str(e) == "b.reshape(4, 1, 1)")
    step = s.find(u)
    assert tuple(step.result.shape) == (4, 1, 1), step.result
    assert "keepdims=True" not in step.text("unicode")
    _, _, db = _torch()
    assert np.asarray(step.value).shape == (4, 1, 1)
    np.testing.assert_allclose(np.ravel(step.value), db, rtol=1e-8)
    # the Gradient section's ∂L/∂b is one sum, not ….reshape(4, 1, 1).reshape(4)
    closed = dict((str(k), str(v)) for k, v, _ in s.gradients)["b"]
    assert closed.count(".reshape(") <= 1 and "reshape(4, 1, 1)" not in closed, closed


def test_the_picture_draws_the_flatten_between_the_pool_and_the_product():
    d = sg.derive(_layer(), [w, b, V])
    src = d.graph(at=AT).source
    names = node_names(src)
    flat = [k for k, v in names.items() if v == "flatten"]
    assert len(flat) == 1, sorted(names.values())
    wires = [(names.get(a, a), names.get(z, z)) for a, z, _ in _value_edges(src)]
    assert ("max pool 2×2", "flatten") in wires and ("flatten", "·") in wires, wires
    (fv,) = [fv for _, fv, _, dst in edges(src) if dst == flat[0]]
    p, _, _ = _torch()            # image 0, channel 0 of the pooled map: 2×2, no window axis
    grid = np.array(eval(fv.replace("−", "-")))     # noqa: S307 - numbers the picture printed
    np.testing.assert_allclose(grid, p[0, 0], atol=1e-3)


def test_the_page_lists_the_reshaped_bias_and_compiles(tmp_path):
    import subprocess
    from teachtools import need
    tex = sg.derive(_layer(), [w, b, V], at=AT).latex(document=True)
    line = next(ln for ln in tex.splitlines() if re.match(r"u_\{?\d+\}? &= b\.", ln.strip()))
    # its four entries (4×1×1: one number a plane), not a summary of min, mean and max
    for v in AT[b]:
        assert format(v, ".4g").replace("-", "") in line, (v, line)
    assert "min" not in line and "of shape 4" in line, line
    (tmp_path / "cnn.tex").write_text(tex)
    r = subprocess.run([need("pdflatex"), "-interaction=nonstopmode", "-halt-on-error", "cnn.tex"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-1500:]


def test_the_symbolic_picture_writes_the_cross_entropys_delta_with_a_softmax():
    """The cross-entropy is one node; the logits' edge into it carries δ = (softmax(logits, axis=1)
    − one_hot(y, 3))/N, as the steps write it, not exp(u − broadcast_to(lse, (N, 3)))/N."""
    src = sg.derive(_layer(), [w, b, V]).graph().source
    names = node_names(src)
    ce = [k for k, v in names.items() if v == "cross-entropy (mean)"]
    (gv,) = [gv for _, _, gv, dst in edges(src) if dst in ce and gv]
    assert "= (softmax(" in gv and gv.endswith(", axis=1) − one_hot(y, 3))/N"), gv
    assert "broadcast_to" not in src and "exp(" not in gv, gv
