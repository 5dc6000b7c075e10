"""Each script of examples/teaching against its slide. The expected text is written by hand from
the lecture notes in shared/seeds (in symgrad's notation: ∂f/∂q, ·, subscripts), not copied from the
program's output; the numbers on the pictures are the slides' numbers."""
import importlib.util
import re
import sys
from pathlib import Path

import pytest

from picture_parse import PURPLE, edges, fan_out_sums
from teachtools import need

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "teaching"


def load(name):
    sys.path.insert(0, str(EXAMPLES))
    spec = importlib.util.spec_from_file_location(f"teaching_{name}", EXAMPLES / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def run(name, capsys, tmp_path, *extra):
    load(name).main(["--out", str(tmp_path), *extra])
    return capsys.readouterr().out


def lines_in(text, expected):
    missing = [e for e in expected if e not in text]
    assert not missing, "missing from the printed derivation:\n" + "\n".join(missing)


def grad_line(text, lhs):
    """The value at the end of the Gradient section's line for ``lhs``."""
    sect = text.split("Gradient:")[-1]
    m = re.search(rf"^\s*{re.escape(lhs)} = .* = (\S+)$", sect, re.M)
    assert m, f"no gradient line for {lhs}"
    return m.group(1)


def picture(mod, **kw):
    d = mod.build(**kw) if kw else mod.build()
    return {name: (fv, gv) for name, fv, gv, _ in edges(d.graph().source)}


def test_written_files(capsys, tmp_path):
    need("dot")
    run("circuit_xyz", capsys, tmp_path)
    assert (tmp_path / "circuit_xyz.png").stat().st_size > 2000
    assert (tmp_path / "circuit_xyz.svg").exists() and (tmp_path / "circuit_xyz.tex").exists()


def test_circuit_xyz(capsys, tmp_path):
    out = run("circuit_xyz", capsys, tmp_path)
    # slide: q = x + y; ∂q/∂x = 1; ∂q/∂y = 1; f = qz; ∂f/∂q = z; ∂f/∂z = q;
    #        chain rule ∂f/∂y = ∂f/∂q ∂q/∂y; ∇f = (−4, −4, 3)
    assert "f = (x + y)·z" in out.splitlines()      # the slide's header (read z·(x + y) until the tenth session)
    lines_in(out, ["q = x + y = 3", "f = q·z = −12", "∂q/∂x = 1", "∂q/∂y = 1", "∂f/∂q = z", "∂f/∂z = q",
                   "∂f/∂y = ∂f/∂q · ∂q/∂y", "∂f/∂x = ∂f/∂q · ∂q/∂x"])
    assert [grad_line(out, v) for v in ("∂f/∂x", "∂f/∂y", "∂f/∂z")] == ["−4", "−4", "3"]
    pic = picture(load("circuit_xyz"))
    assert pic["x"] == ("−2", "−4") and pic["y"] == ("5", "−4") and pic["z"] == ("−4", "3")


def test_sigmoid_neuron(capsys, tmp_path):
    out = run("sigmoid_neuron", capsys, tmp_path)
    # slide: f(x) = eˣ → eˣ; f_a(x) = ax → a; f(x) = 1/x → −1/x²; f_c(x) = c + x → 1;
    #        output 0.73; gradients w0 −0.20, x0 0.39, w1 −0.39, x1 −0.59, w2 0.20
    lines_in(out, ["f = 1/u₇ = 0.73", "reciprocal rule: ∂f/∂u₇ = −1/u₇²",
                   "the derivative of exp is exp itself: ∂u₆/∂u₅ = u₆",
                   "constant multiple rule: ∂u₅/∂u₄ = −1", "sum rule: ∂u₇/∂u₆ = 1",
                   "∂f/∂u₇ = ∂f/∂f · ∂f/∂u₇ = 1 · (−1/u₇²) = −1/u₇² = −0.53"])
    first = out.split("The same neuron")[0]
    slide = {"∂f/∂w₀": "−0.20", "∂f/∂x₀": "0.39", "∂f/∂w₁": "−0.39", "∂f/∂x₁": "−0.59", "∂f/∂w₂": "0.20"}
    assert {k: grad_line(first, k) for k in slide} == slide
    # the sigmoid as one gate: σ' = (1 − σ)σ
    lines_in(out.split("The same neuron")[1], ["f = σ(z) = 0.73", "∂f/∂z = f·(1 − f)"])
    pic = picture(load("sigmoid_neuron"))
    assert {k: pic[k] for k in ("w₀", "x₀", "w₁", "x₁", "w₂")} == {
        "w₀": ("2.00", "−0.20"), "x₀": ("−1.00", "0.39"), "w₁": ("−3.00", "−0.39"),
        "x₁": ("−2.00", "−0.59"), "w₂": ("−3.00", "0.20")}
    assert ("0.73", "1.00") in pic.values()
    assert pic["u₆"] == ("0.37", "−0.53") and pic["u₄"] == ("1.00", "0.20")


def test_perceptron(capsys, tmp_path):
    out = run("perceptron", capsys, tmp_path)
    # slide: ŷ = wx; L = ½(y − ŷ)²; dL/dw = −(y − ŷ)x = ∇w; w = w − ∇w = w + (y − ŷ)x (with η)
    lines_in(out, ["ŷ = w·x = 5", "∂ŷ/∂w = x", "∂L/∂ŷ = ∂L/∂u₁ · ∂u₁/∂ŷ = (y − ŷ) · (−1) = ŷ − y",
                   "∂L/∂w = ∂L/∂ŷ · ∂ŷ/∂w = (ŷ − y) · x",
                   "update rule: w ← w + η·x·(y − ŷ)"])
    assert grad_line(out, "∂L/∂w") == "−51"            # −(10.1 − 5)·10
    # the slide asks "what do you think the weight parameter is?" for (10, 10.1), (2, 1.9), ...: ≈ 1
    assert "training on the slide's data (η = 0.005, 20 epochs) from w = 0.5: w = 1.00" in out
    pic = picture(load("perceptron"))
    assert pic["w"] == ("0.5", "−51") and pic["ŷ"] == ("5", "−5.1")


def test_norm_wx(capsys, tmp_path):
    out = run("norm_wx", capsys, tmp_path)
    # slide: q = Wx = (0.22, 0.26); f = 0.116; ∇_q f = 2q = (0.44, 0.52); ∂f/∂W = 2q·xᵀ;
    #        ∇_x f = 2Wᵀq = (−0.112, 0.636). The slide prints ∇_W f = [[0.088, 0.176], [−0.104, 0.208]],
    #        but 2·q₂·x₁ = 2·0.26·0.2 = +0.104 (the original CS231n slide has +0.104): we check +0.104.
    lines_in(out, ["q = W·x = [[0.22], [0.26]]", "f = sum(u₁) = 0.116", "∂u₁/∂q = 2·q",
                   "2·q = [[0.44], [0.52]]", "∂f/∂W = 2·q·xᵀ = [[0.088, 0.176], [0.104, 0.208]]",
                   "∂f/∂x = 2·Wᵀ·q = [[−0.112], [0.636]]", "matrix product"])
    pic = picture(load("norm_wx"))
    assert pic["W"] == ("[[0.1, 0.5], [−0.3, 0.8]]", "[[0.088, 0.176], [0.104, 0.208]]")
    assert pic["q"] == ("[[0.22], [0.26]]", "[[0.44], [0.52]]")


def test_three_layer_chain(capsys, tmp_path):
    out = run("three_layer_chain", capsys, tmp_path)
    # slide: ∂L/∂w3 = ∂L/∂f3 ∂f3/∂a3 ∂a3/∂w3 = −(y − ŷ) f3(1 − f3) f2 ;
    #        ∂L/∂w1 = ∂L/∂f3 ∂f3/∂a3 ∂a3/∂f2 ∂f2/∂a2 ∂a2/∂f1 ∂f1/∂a1 ∂a1/∂w1 (re-use, propagate)
    lines_in(out, [
        "∂L/∂w₃ = ∂L/∂f₃ · ∂f₃/∂a₃ · ∂a₃/∂w₃",
        "∂L/∂w₂ = ∂L/∂f₃ · ∂f₃/∂a₃ · ∂a₃/∂f₂ · ∂f₂/∂a₂ · ∂a₂/∂w₂",
        "∂L/∂w₁ = ∂L/∂f₃ · ∂f₃/∂a₃ · ∂a₃/∂f₂ · ∂f₂/∂a₂ · ∂a₂/∂f₁ · ∂f₁/∂a₁ · ∂a₁/∂w₁",
        "∂L/∂b₁ = ∂L/∂f₃ · ∂f₃/∂a₃ · ∂a₃/∂f₂ · ∂f₂/∂a₂ · ∂a₂/∂f₁ · ∂f₁/∂a₁ · ∂a₁/∂b₁",
        "∂f₃/∂a₃ = f₃·(1 − f₃)", "∂a₃/∂w₃ = f₂", "∂L/∂w₃ = f₂·f₃·(1 − f₃)·(f₃ − y)",
        "= ∂L/∂u₁ · ∂u₁/∂w₁ = "])          # the reuse: one level below, from ∂L/∂a₁ (∂L/∂(w₁x))
    mod = load("three_layer_chain")
    d = mod.build()
    import sympy as sp
    # the numbers agree with the formula of the slide, −(y − f3)·f3(1 − f3)·f2
    s = lambda v: 1 / (1 + sp.exp(-v))  # noqa: E731
    at = mod.AT
    f1 = s(at[mod.w1] * at[mod.x] + at[mod.b1])
    f2 = s(at[mod.w2] * f1)
    f3 = s(at[mod.w3] * f2)
    want = float(-(at[mod.y] - f3) * f3 * (1 - f3) * f2)
    assert d.steps.find("w3").value == pytest.approx(want)


def test_softmax_cross_entropy(capsys, tmp_path):
    out = run("softmax_cross_entropy", capsys, tmp_path)
    # slide: J = −Σ f*_j ln f_j ; δ = f − f* (and the softmax Jacobian y_i(δ_ij − y_j))
    lines_in(out, ["L = −sum(f* ⊙ log_softmax(z))", "log-sum-exp: its gradient is softmax(z)",
                   "given sum(f*) = 1", "∂L/∂z = f − f*"])
    assert re.search(r"^\s*δ = ∂L/∂z = .* = f − f\* = ", out, re.M)
    import numpy as np
    f = np.exp([1.0, 2.0, 3.0]) / np.exp([1.0, 2.0, 3.0]).sum()
    src = load("softmax_cross_entropy").build().graph().source
    want = "[[{:.3g}], [{:.3g}], [{:.3g}]]".format(*(f - [0, 0, 1])).replace("-", "−")
    assert fan_out_sums(src)["z"] == want           # z fans out to log-softmax and logsumexp: δ = f − f*
    shares = sorted(gv for name, fv, gv, _ in edges(src) if name == "z")
    fs = "[[{:.3g}], [{:.3g}], [{:.3g}]]".format(*f)
    assert shares == sorted(["[[0], [0], [−1]]", fs])  # −f* along one path, f along the other


def test_influence(capsys, tmp_path):
    out = run("influence", capsys, tmp_path)
    # seeds: three paths f→d→b→a, f→e→b→a, f→e→c→a; ∂d/∂f = 1, ∂e/∂f = g, ∂b/∂d = 1, ∂b/∂e = 1,
    #        ∂c/∂e = 1, ∂a/∂b = c, ∂a/∂c = b; ∂a/∂f = c + gc + gb = 2 + 5g + 2fg + 2fg²; a = 150, 60
    lines_in(out, [
        "∂a/∂f = ∂a/∂b · ∂b/∂d · ∂d/∂f + ∂a/∂b · ∂b/∂e · ∂e/∂f + ∂a/∂c · ∂c/∂e · ∂e/∂f",
        "∂d/∂f = 1", "∂e/∂f = g", "∂b/∂d = 1", "∂b/∂e = 1", "∂c/∂e = 1", "∂a/∂b = c", "∂a/∂c = b",
        "2 + 5·g + 2·f·g + 2·f·g²", "a = b·c = 150", "fan-out"])
    assert grad_line(out, "∂a/∂f") == "60"
    pic_src = load("influence").build().graph().source
    assert "Σ = 60" in pic_src and "Σ = 25" in pic_src     # f and e accumulate their paths
    shares = sorted(gv for name, fv, gv, _ in edges(pic_src) if name == "e")
    assert shares == ["10", "15"]                            # e → b carries c = 10, e → c carries b = 15


def test_forward_vs_reverse(capsys, tmp_path):
    out = run("forward_vs_reverse", capsys, tmp_path)
    # seeds: forward accumulation dw_i/dx = dw_i/dw_{i-1} dw_{i-1}/dx needs n sweeps (one per input);
    #        reverse accumulation dy/dw_i = dy/dw_{i+1} dw_{i+1}/dw_i needs one per output
    lines_in(out, ["reverse accumulation: 1 sweep for the whole gradient",
                   "Forward accumulation (3 sweeps, one per input",
                   "sweep 1: seed ∂x/∂x = 1", "∂q/∂x = ∂q/∂x · ∂x/∂x = 1 · 1 = 1",
                   "∂f/∂x = ∂f/∂q · ∂q/∂x = z · 1 = z = −4",
                   "f: ℝ¹⁰⁰⁰⁰⁰⁰ → ℝ: forward mode 1,000,000 sweeps, reverse mode 1 sweep",
                   "f: ℝ → ℝ³: forward mode 1 sweep, reverse mode 3 sweeps"])
    assert "f: R^3 -> R^1: forward mode 3 sweeps, reverse mode 1 sweep" in run("forward_vs_reverse", capsys, tmp_path,
                                                                                "--format", "text")
    # the same graph drawn both ways: ∂f/∂· below the edges in reverse mode, the tangents ∂·/∂x of
    # forward mode's first sweep (ẋ = 1) in its picture: ∂q/∂x = 1, ∂y/∂x = ∂z/∂x = 0, ∂f/∂x = z = −4
    mod = load("forward_vs_reverse")
    back = {n: (fv, gv) for n, fv, gv, _ in edges(mod.build("reverse").graph().source)}
    ahead = {n: (fv, gv) for n, fv, gv, _ in edges(mod.build("forward").graph().source, back=PURPLE)}
    assert back["x"] == ("−2", "−4") and back["q"] == ("3", "−4") and back["z"] == ("−4", "3")
    assert ahead["x"] == ("−2", "1") and ahead["y"] == ("5", "0") and ahead["q"] == ("3", "1")
    assert ahead["z"] == ("−4", "0") and ("−12", "−4") in ahead.values()
    assert (tmp_path / "forward_vs_reverse_forward.tex").exists()


def test_bptt(capsys, tmp_path):
    out = run("bptt", capsys, tmp_path)
    # the lecture: h_t = tanh(z_t), z_t = W_hh h_{t−1} + W_xh x_t + b; δ_t = (1 − h_t²) ⊙ ∂L/∂h_t,
    # ∂L/∂h_{t−1} = W_hhᵀ δ_t; ∂L/∂W_hh = Σ_t δ_t h_{t−1}ᵀ, ∂L/∂b = Σ_t δ_t
    lines_in(out, ["h₂ = tanh(z⁽²⁾)", "∂L/∂h₁ = δ⁽²⁾ · ∂z⁽²⁾/∂h₁ = W_hhᵀ·δ⁽²⁾",
                   "δ⁽²⁾ = ∂L/∂z⁽²⁾ = ∂L/∂h₂ · ∂h₂/∂z⁽²⁾ = (𝟙 − h₂∘²) ⊙ ∂L/∂h₂",
                   "∂L/∂W_hh = δ⁽¹⁾·h₀ᵀ + δ⁽²⁾·h₁ᵀ + δ⁽³⁾·h₂ᵀ", "∂L/∂b = δ⁽¹⁾ + δ⁽²⁾ + δ⁽³⁾",
                   "W_hh is used 3 times", "At a point:"])
    out = run("bptt", capsys, tmp_path, "--every-step")
    assert "h₂ reaches L along 2 edges" in out, out


def test_attention(capsys, tmp_path):
    out = run("attention", capsys, tmp_path)
    # the lecture: ∂L/∂V = Aᵀ ∂L/∂Y, ∂L/∂A = ∂L/∂Y Vᵀ, ∂L/∂S = (∂L/∂A − Σ_j A ⊙ ∂L/∂A) ⊙ A,
    # ∂L/∂Q = ∂L/∂S K/√d, ∂L/∂K = ∂L/∂Sᵀ Q/√d
    lines_in(out, ["A = softmax(S, axis=1)", "  S = (Q @ K.T)/√2          (3×3)", "  Q = X @ W_q               (3×2)",
                   "∂L/∂V = ∂L/∂Y · ∂Y/∂V = A.T @ ∂L/∂Y", "∂L/∂A = ∂L/∂Y · ∂Y/∂A = ∂L/∂Y @ V.T",
                   "(∂L/∂A − (A ⊙ ∂L/∂A).sum(axis=1, keepdims=True)) ⊙ A",
                   "∂L/∂Q = ∂L/∂S · ∂S/∂Q = (∂L/∂S @ K)/√2", "∂L/∂K = ∂L/∂S · ∂S/∂K = ((∂L/∂S).T @ Q)/√2"])
    assert "Q @ K.T\n" not in out, out         # the scores are one step, not u₁ = Q @ K.T then S = u₁/√2


def test_vector_layer(capsys, tmp_path):
    # 11-785 lecture 5, "scalar functions of affine functions": z = Wy + b, ∇_b Div = ∇_z Div,
    # ∇_W Div = y ∇_z Div (δ·xᵀ as a column), ∇_y Div = ∇_z Div W (Wᵀ·δ as a column); Div = ½‖Y − d‖²
    torch = pytest.importorskip("torch")
    out = run("vector_layer", capsys, tmp_path)
    assert out.splitlines()[0] == "Div = ‖σ(W @ x + b) − d‖²/2"
    lines_in(out, ["  z = W @ x + b = [0.4, 1]", "∂Div/∂y = ∂Div/∂u₁ · ∂u₁/∂y = ∂Div/∂u₁ = y − d",
                   "δ = ∂Div/∂z = ∂Div/∂y · ∂y/∂z = ∂Div/∂y ⊙ y ⊙ (1 − y)", "∂y/∂z = y ⊙ (1 − y)",
                   "∂Div/∂W = δ · ∂z/∂W = δ @ x.T", "∂Div/∂b = δ · ∂z/∂b = δ",
                   "∂Div/∂x = δ · ∂z/∂x = W.T @ δ"])
    assert "where" not in out and "reshape" not in out
    mod = load("vector_layer")
    t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in
         {"W": mod.AT[mod.W], "x": mod.AT[mod.x], "b": mod.AT[mod.b]}.items()}
    Y = torch.sigmoid(t["W"] @ t["x"] + t["b"])
    (0.5 * torch.linalg.vector_norm(Y - torch.tensor(mod.AT[mod.d])) ** 2).backward()
    import numpy as np
    got = {str(w): np.asarray(v, dtype=float) for w, _, v in mod.build().steps.gradients}
    for k in ("W", "b", "x"):
        assert np.allclose(got[k], t[k].grad.numpy(), atol=1e-12), k
    pic = picture(mod)
    assert pic["z"] == ("[[0.4, 1]]", "[[−0.09642, 0.1437]]")      # a row of the picture's grid
