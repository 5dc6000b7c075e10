"""Graph pictures for slides (issue 14, point 3), read back from the DOT source and the rendered SVG:
op labels that cannot be confused with the user's variables, rounded values without float noise,
symbolic ∂L/∂· labels equal to sg.grad's, fan-out sums that are never empty, and a deep network
that fits a 16:9 slide in the default layout."""
import re

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from picture_parse import PURPLE, edges, fan_out_sums, node_names, svg_size
from symgrad.errors import ArgumentError
from symgrad.teaching.graph_picture import clean, save
from symgrad.teaching.render import show
from teachtools import need

x, y, z, s, t, u, v, w, q = sp.symbols("x y z s t u v w q")


def op_names(src):
    """The bold labels of the operation nodes (filled orange)."""
    return [n for k, n in node_names(src).items() if 'fillcolor="#fdebd0"' in _attrs(src, k)]


def _attrs(src, node_id):
    return re.search(rf"^\s*{node_id} \[.*$", src, re.M).group(0)


def mlp4(at=True):
    net = sg.mlp([3, 4, 4, 4, 2])
    target = sp.MatrixSymbol("t", 2, 1)
    d = sg.derive(sg.mse(net.output, target), net.params)
    if not at:
        return d.graph()
    rng = np.random.default_rng(0)
    vals = {p: rng.normal(size=p.shape) for p in net.params}
    vals[net.input], vals[target] = rng.normal(size=(3, 1)), np.array([[1.0], [0.0]])
    return d.graph(at=vals)


# -- op labels -----------------------------------------------------------------------------------------

def test_op_labels_never_spell_the_users_names():
    # x, y, z, s, t, u, v, w are the names the old labels used for an operation's inputs ("x + y − z")
    users = {"x", "y", "z", "s", "t", "u", "v", "w"}
    f = (x + y - z) ** 2 + s / t + sp.exp(u * v - w) + sp.sqrt(x + 1)
    src = sg.derive(f, [x, y, z, s, t, u, v, w]).graph(at={k: 1.5 for k in users}).source
    ops = op_names(src)
    assert len(ops) >= 6
    for op in ops:
        assert not set(re.findall(r"[A-Za-z]+", op)) & users, op
    assert "① + ② − ③" in ops or "① − ③ + ②" in ops or any("①" in o and "③" in o for o in ops)
    assert '<font color="#566573" point-size="10">①</font>' in src   # the edges say which input is which


def test_mlp_op_labels():
    ops = op_names(mlp4(at=False).source)
    assert ops.count("·") == 4 and ops.count("relu") == 3 and "Σ" in ops
    assert not any(re.search(r"[a-zA-Z]\w*\s*[+−-]", o) for o in ops)


# -- values -----------------------------------------------------------------------------------------

def test_float_noise_prints_as_zero():
    a, b, c = sp.symbols("a b c")
    # 0.1 + 0.2 − 0.3 is 5.55e−17 in float64: the slide shows 0
    src = sg.derive((a + b - c) * q, [a, b, c, q]).graph(at={a: 0.1, b: 0.2, c: 0.3, q: 2.0}).source
    values = [fv for _, fv, _, _ in edges(src)]
    assert "0" in values
    shown = [x for e in edges(src) for x in e[1:3] if x]
    assert not [n for n in shown if re.search(r"\d[eE][+−-]?\d", n)], shown      # no 5.551e−17
    assert clean([[1.0, 2.109e-17]]).tolist() == [[1.0, 0.0]]
    assert clean([1e-20]).tolist() == [0.0] and clean([3e-5]).tolist() == [3e-5]   # small is not noise


def test_matrices_are_small_rounded_grids():
    W, xv = sp.MatrixSymbol("W", 2, 2), sp.MatrixSymbol("x", 2, 1)
    Wv = np.array([[0.123456, 0.5], [-0.3, 0.8]])
    src = sg.derive(sg.sum(W * xv), [W, xv]).graph(at={W: Wv, xv: [[1.0], [2.0]]}).source
    es = {name: (fv, gv) for name, fv, gv, _ in edges(src)}
    # the forward value of W in a 2×2 grid, .4g; ∂L/∂W = 𝟙·xᵀ = [[1, 2], [1, 2]]
    assert es["W"] == ("[[0.1235, 0.5], [−0.3, 0.8]]", "[[1, 2], [1, 2]]")
    assert "<table" in src and "sides=\"LTB\"" in src and "[[" not in src   # a grid, not "[[...]]"


def test_a_large_matrix_shows_its_corners_and_shape():
    W, xv = sp.MatrixSymbol("W", 8, 3), sp.MatrixSymbol("x", 3, 1)
    src = sg.derive(sg.sum(W * xv), [W]).graph(at={W: np.arange(24.0).reshape(8, 3), xv: np.ones((3, 1))}).source
    fv = next(fv for name, fv, _, _ in edges(src) if name == "W")
    assert fv == "[[0, 1, 2], [3, 4, 5], [6, 7, 8], [⋮, ⋮, ⋮], [21, 22, 23]]"
    assert "8×3" in src


# -- symbolic ∂L/∂· without `at` -------------------------------------------------------------------

def red_labels(src):
    return [gv for _, _, gv, _ in edges(src) if gv is not None]


@pytest.mark.parametrize("f, wrt", [
    ((x + y) * z, [x, y, z]),
    (sp.exp(x) * sp.sin(y), [x, y]),
    (sg.sigmoid(w * x), [w, x]),
])
def test_symbolic_labels_equal_sg_grad(f, wrt):
    src = sg.derive(f, wrt).graph().source
    grads = sg.grad(f, wrt)
    labels = red_labels(src)
    for var, g in zip(wrt, grads):
        assert f"∂f/∂{show(var, 'unicode')} = {show(g, 'unicode')}" in labels, (var, g, labels)


def test_fan_out_sum_equals_sg_grad():
    f = x * y + sp.sin(x)
    src = sg.derive(f, [x, y]).graph().source
    assert fan_out_sums(src)["x"] == show(sg.grad(f, x), "unicode")        # y + cos(x)
    shares = sorted(gv for name, _, gv, _ in edges(src) if name == "x")
    assert shares == sorted([show(y, "unicode"), show(sp.cos(x), "unicode")])


def test_matrix_gradient_label_equals_sg_grad():
    W, xv, yv = sp.MatrixSymbol("W", 2, 3), sp.MatrixSymbol("x", 3, 1), sp.MatrixSymbol("y", 2, 1)
    f = sg.sum(sp.HadamardPower(W * xv - yv, 2))
    src = sg.derive(f, [W]).graph().source
    assert f"∂L/∂W = {show(sg.grad(f, W), 'unicode')}" in red_labels(src)


def test_deep_network_labels_are_gradients_in_the_slides_names():
    labels = red_labels(mlp4(at=False).source)
    # the lecture's layer-indexed names (z⁽ᵏ⁾, y⁽ᵏ⁾, δ⁽ᵏ⁾), as the steps print them
    assert "∂L/∂W₂ = δ⁽²⁾·y⁽¹⁾ᵀ" in labels and "∂L/∂y⁽¹⁾ = W₂ᵀ·δ⁽²⁾" in labels and "∂L/∂b₁ = δ⁽¹⁾" in labels
    assert "δ⁽²⁾ = H(z⁽²⁾) ⊙ ∂L/∂y⁽²⁾" in labels
    # never a local derivative ∂z₁/∂W₁ (the old picture): every lhs is ∂L/∂· or a δ
    for lab in labels:
        assert lab == "1" or lab.startswith("∂L/∂") or lab.startswith("δ"), lab


def test_fan_out_never_reads_an_empty_sum():
    # shares too long to write: the node says so rather than "Σ =" and nothing
    f = sp.exp(sp.sin(x * y) * x) + sp.log(1 + x ** 2) * sp.cos(x)
    for at in (None, {x: 0.5, y: 2.0}):
        src = sg.derive(f, [x, y]).graph(at=at).source
        sums = fan_out_sums(src)
        assert sums and all(v for v in sums.values()), sums
        assert not re.search(r"Σ =\s*(<|$)", re.sub(r"</font></td><td>", "", src), re.M)


# -- layout ----------------------------------------------------------------------------------------

def test_mlp4_default_layout_fits_a_slide(tmp_path):
    need("dot")
    for at in (True, False):
        dot = mlp4(at)
        width, height = svg_size(save(dot, tmp_path / f"mlp4_{at}.svg").read_text())
        assert width < 1600, (at, width)
        assert "pack=true" in dot.source                         # wrapped into rows (one row is 3800 px)


def test_layout_option():
    circuit = sg.derive((x + y) * z, [x, y, z], names={q: x + y})
    assert "rankdir=TB" in circuit.graph(layout="TB").source
    assert "rankdir=LR" in circuit.graph(layout="left-to-right").source
    assert "cluster" not in circuit.graph().source            # a small graph stays one row
    with pytest.raises(ArgumentError, match="layout must be one of"):
        circuit.graph(layout="diagonal")
    at = {x: -2, y: 5, z: -4}
    lr, tb = (sorted(edges(circuit.graph(at=at, layout=k).source), key=str) for k in ("LR", "TB"))
    assert [e[:3] for e in lr] == [e[:3] for e in tb] and ("q", "3", "−4") in [e[:3] for e in tb]


def test_without_dot_the_rows_are_cut_by_estimated_widths(monkeypatch):
    import symgrad.teaching.graph_layout as layout
    monkeypatch.setattr(layout, "positions", lambda dot: None)      # as if Graphviz's dot were missing
    assert "pack=true" in mlp4(at=False).source
    assert "pack=true" not in sg.derive((x + y) * z, [x, y, z]).graph().source


def test_wrapped_rows_carry_the_same_numbers():
    need("dot")
    d = sg.derive((x + y) * z * sp.exp(x) * sp.sin(z) + y, [x, y, z])
    at = {x: 0.5, y: 2.0, z: -1.0}
    one_row = sorted(edges(d.graph(at=at, layout="LR").source), key=str)
    wrapped_src = d.graph(at=at, layout="wrapped").source
    assert "pack=true" in wrapped_src and re.search(r"^\s*cv\d+_1 ", wrapped_src, re.M)   # a second row
    wrapped = sorted(edges(wrapped_src), key=str)
    # a value that wraps leaves through a connector and enters the next row through another
    assert sorted(e[:3] for e in wrapped) == sorted(e[:3] for e in one_row)
    assert len(wrapped) == len(one_row) >= 8


# -- forward mode ------------------------------------------------------------------------------------

def test_forward_mode_picture_carries_tangents():
    d = sg.derive((x + y) * z, [x, y, z], names={q: x + y})
    src = d.graph(mode="forward", seed={x: 1}, at={x: -2, y: 5, z: -4}).source
    tangents = {name: tv for name, fv, tv, _ in edges(src, back=PURPLE)}
    # ∂x/∂x = 1 seeds it; q = x + y gets 1; y and z do not depend on x: tangent 0, as ẏ = 0 is
    # written; ∂f/∂x = z = −4
    assert tangents["x"] == "1" and tangents["q"] == "1" and tangents["y"] == "0" and tangents["z"] == "0"
    assert ("−12", "−4") in {(fv, tv) for _, fv, tv, _ in edges(src, back=PURPLE)}
    assert "∂·/∂x" in src and "#c0392b" not in src.split("legend")[0]
    sym = d.graph(mode="forward", seed={x: 1}).source
    assert f"∂f/∂x = {show(sg.grad((x + y) * z, x), 'unicode')}" in {tv for _, _, tv, _ in edges(sym, back=PURPLE)}


def test_forward_derivation_draws_its_first_input_by_default():
    d = sg.derive(x * y, [x, y], mode="forward")
    es = edges(d.graph(at={x: 3, y: 4}).source, back=PURPLE)
    tangents = {name: tv for name, _, tv, dst in es if dst != "out"}
    out = next(tv for _, _, tv, dst in es if dst == "out")
    assert tangents["x"] == "1" and tangents["y"] == "0" and out == "4"       # ∂(xy)/∂x = y = 4
    assert "∂f/∂y" in d.graph(mode="reverse").source             # the reverse picture of the same d


def test_forward_mode_bad_seeds():
    d = sg.derive(x * y, [x, y])
    with pytest.raises(ArgumentError, match="not an input"):
        d.graph(mode="forward", seed={z: 1})
    with pytest.raises(ArgumentError, match="seed"):
        d.graph(seed={x: 1})                                     # reverse mode has no seed
    with pytest.raises(ArgumentError, match="mode must be"):
        d.graph(mode="sideways")


# -- tensors ---------------------------------------------------------------------------------------

def test_batch_norm_tensor_layer_draws_one_node_per_operation():
    X, gamma, beta, T = sg.tensor("x", (4, 3)), sg.tensor("gamma", (3,)), sg.tensor("beta", (3,)), sg.tensor("t", (4, 3))
    out = gamma * (X - X.mean(axis=0)) / sp.sqrt(X.var(axis=0) + sp.Rational(1, 100000)) + beta
    loss = sg.sum((out - T) ** 2) / 2
    rng = np.random.default_rng(1)
    at = {X: rng.normal(size=(4, 3)), gamma: np.array([1.0, 0.5, 2.0]), beta: np.array([0.0, 0.1, -0.1]),
          T: rng.normal(size=(4, 3))}
    src = sg.derive(loss, [X, gamma, beta]).graph(at=at).source
    names = node_names(src)
    leaves = sorted(n for k, n in names.items() if 'fillcolor="#eaf2f8"' in _attrs(src, k))
    assert leaves == ["beta", "gamma", "t", "x"] or leaves == sorted(["β", "γ", "t", "x"])
    assert 5 <= len(op_names(src)) <= 16                       # one per operation, not per entry (12)
    assert "reshape" not in op_names(src) and "broadcast" not in op_names(src)
    # ∂L/∂β = Σₙ (outₙ − tₙ), by hand in NumPy
    xv = at[X]
    xhat = (xv - xv.mean(0)) / np.sqrt(xv.var(0) + 1e-5)
    want = ((at[gamma] * xhat + at[beta]) - at[T]).sum(0)
    beta_grad = next(gv for name, _, gv, _ in edges(src) if name in ("beta", "β"))
    got = [float(c.replace("−", "-")) for c in re.findall(r"[−\d.]+", beta_grad)]
    assert np.allclose(got, want, rtol=1e-3, atol=1e-3), (got, want)


def test_edge_cases_draw():
    # f a constant; f independent of wrt (forward mode: every tangent 0, said in the legend)
    src = sg.derive(sp.Integer(3), [x]).graph(at={x: 1.0}).source
    assert ("3", "3", "1", "out") in edges(src)
    src = sg.derive(2 * y, [x]).graph(mode="forward", at={x: 1.0, y: 2.0}).source
    assert all(tv == "0" for _, _, tv, _ in edges(src, back=PURPLE)) and "depends on none of wrt" in src


def test_forward_tangent_of_the_neuron_equals_sympy_diff():
    w0, x0, w1, x1, w2 = sp.symbols("w0 x0 w1 x1 w2")
    f = 1 / (1 + sp.exp(-(w0 * x0 + w1 * x1 + w2)))
    at = {w0: 2, x0: -1, w1: -3, x1: -2, w2: -3}
    for var in (w0, x1):
        src = sg.derive(f, [w0, x0, w1, x1, w2]).graph(mode="forward", seed={var: 1}, at=at).source
        out = next(tv for _, _, tv, dst in edges(src, back=PURPLE) if dst == "out")
        want = float(sp.diff(f, var).subs(at))                   # the oracle: SymPy
        assert abs(float(out.replace("−", "-")) - want) < 1e-3, (var, out, want)
