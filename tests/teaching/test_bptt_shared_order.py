"""An unrolled RNN's shared parameters are summed over time in one order, the backward pass's:
W_xh's step read δ⁽¹⁾·x₁ᵀ + δ⁽²⁾·x₂ᵀ + δ⁽³⁾·x₃ᵀ right under W_hh's δ⁽³⁾·h₂ᵀ + δ⁽²⁾·h₁ᵀ + δ⁽¹⁾·h₀ᵀ and
b's δ⁽³⁾ + δ⁽²⁾ + δ⁽¹⁾, so a student comparing the three steps saw the time steps swap. The
Gradient section keeps time order for all three."""
import sympy as sp

import symgrad as sg

H = 2


def _text():
    Whh, Wxh, b = sp.MatrixSymbol("W_hh", H, H), sp.MatrixSymbol("W_xh", H, H), sp.MatrixSymbol("b", H, 1)
    xs = [sp.MatrixSymbol(f"x{t}", H, 1) for t in (1, 2, 3)]
    h = sp.MatrixSymbol("h0", H, 1)
    hs = []
    for x in xs:
        h = sg.tanh(Whh * h + Wxh * x + b)
        hs.append(h)
    names = {sp.MatrixSymbol(f"h{k}", H, 1): hs[k - 1] for k in (1, 2, 3)}
    return sg.derive(sg.mse(h, sp.MatrixSymbol("t3", H, 1)), [Whh, Wxh, b], names=names,
                     output_name="L").render("unicode")


def _step(text, lhs):
    back = text.split("Backward pass")[1].split("Gradient:")[0]
    (line,) = [li.strip() for li in back.splitlines() if li.strip().startswith(lhs + " = ")]
    return line


def test_each_shared_parameter_sums_its_uses_latest_first():
    text = _text()
    assert "= δ⁽³⁾·h₂ᵀ + δ⁽²⁾·h₁ᵀ + δ⁽¹⁾·h₀ᵀ    [" in _step(text, "∂L/∂W_hh")
    wxh = _step(text, "∂L/∂W_xh")
    assert "= δ⁽³⁾·x₃ᵀ + δ⁽²⁾·x₂ᵀ + δ⁽¹⁾·x₁ᵀ    [" in wxh, wxh
    assert "W_xh is used 3 times (in z⁽³⁾, z⁽²⁾, z⁽¹⁾)" in wxh, wxh
    assert "= δ⁽³⁾ + δ⁽²⁾ + δ⁽¹⁾    [" in _step(text, "∂L/∂b")
    grad = text.split("Gradient:")[1]
    assert "∂L/∂W_xh = δ⁽¹⁾·x₁ᵀ + δ⁽²⁾·x₂ᵀ + δ⁽³⁾·x₃ᵀ" in grad, grad
