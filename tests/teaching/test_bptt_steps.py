"""Backprop through time, as a lecture writes it: a vanilla RNN h_t = tanh(W_hh·h_{t−1} + W_xh·x_t + b)
unrolled three steps. The text names h₁, h₂, h₃; δ flows back through ∂L/∂h₂ = W_hhᵀ·δ⁽³⁾; the
step of W_hh is the sum over its three uses and says so ("W_hh is used 3 times ...: its gradient
is the sum over the paths through each use", symgrad/teaching/uses_note.py), and b's rule is said
once for its three uses. The picture draws W_hh's three uses with their shares, each written in
the names of its step as the text does (δ⁽³⁾·x₃ᵀ, δ⁽²⁾ = (𝟙 − h₂²) ⊙ ∂L/∂h₂), and the numbers
are torch.autograd's."""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg

torch = pytest.importorskip("torch")
H, D = 2, 2


def _rnn(loss_every_step=False):
    Whh, Wxh, b = sp.MatrixSymbol("W_hh", H, H), sp.MatrixSymbol("W_xh", H, D), sp.MatrixSymbol("b", H, 1)
    xs = [sp.MatrixSymbol(f"x{t}", D, 1) for t in (1, 2, 3)]
    ts = [sp.MatrixSymbol(f"t{t}", H, 1) for t in (1, 2, 3)]
    h0 = sp.MatrixSymbol("h0", H, 1)
    h, hs = h0, []
    for x in xs:
        h = sg.tanh(Whh * h + Wxh * x + b)
        hs.append(h)
    L = sum(sg.mse(a, t) for a, t in zip(hs, ts)) if loss_every_step else sg.mse(hs[-1], ts[-1])
    names = {sp.MatrixSymbol(f"h{k}", H, 1): hs[k - 1] for k in (1, 2, 3)}
    d = sg.derive(L, [Whh, Wxh, b], names=names, output_name="L")
    return d, dict(W_hh=Whh, W_xh=Wxh, b=b, h0=h0, **{f"x{k}": xs[k - 1] for k in (1, 2, 3)},
                   **{f"t{k}": ts[k - 1] for k in (1, 2, 3)})


def _step(text, lhs):
    (line,) = [li.strip() for li in text.split("Backward pass")[1].split("Gradient:")[0].splitlines()
               if li.strip().startswith(lhs + " = ")]
    return line


def test_the_steps_read_as_the_lecture():
    text = _rnn()[0].render("unicode")
    fwd = [li.strip() for li in text.split("Forward pass:")[1].split("Backward")[0].splitlines() if li.strip()]
    assert fwd[:6] == ["z⁽¹⁾ = W_hh·h₀ + W_xh·x₁ + b", "h₁ = tanh(z⁽¹⁾)", "z⁽²⁾ = W_hh·h₁ + W_xh·x₂ + b",
                       "h₂ = tanh(z⁽²⁾)", "z⁽³⁾ = W_hh·h₂ + W_xh·x₃ + b", "h₃ = tanh(z⁽³⁾)"], fwd
    # δ flows back through the time steps: h₂ ← z⁽³⁾, h₁ ← z⁽²⁾
    assert _step(text, "∂L/∂h₂").startswith("∂L/∂h₂ = δ⁽³⁾ · ∂z⁽³⁾/∂h₂ = W_hhᵀ·δ⁽³⁾"), text
    assert _step(text, "∂L/∂h₁").startswith("∂L/∂h₁ = δ⁽²⁾ · ∂z⁽²⁾/∂h₁ = W_hhᵀ·δ⁽²⁾"), text
    whh = _step(text, "∂L/∂W_hh")
    assert "= δ⁽³⁾·h₂ᵀ + δ⁽²⁾·h₁ᵀ + δ⁽¹⁾·h₀ᵀ    [" in whh, whh
    assert "[fan-out: W_hh is used 3 times (in z⁽³⁾, z⁽²⁾, z⁽¹⁾): its gradient is the sum over the paths " \
           "through each use; " in whh, whh
    bias = _step(text, "∂L/∂b")
    assert bias.endswith("sum rule (elementwise): ∂z⁽³⁾/∂b = ∂z⁽²⁾/∂b = ∂z⁽¹⁾/∂b = 1]"), bias
    assert "∂L/∂W_hh = δ⁽¹⁾·h₀ᵀ + δ⁽²⁾·h₁ᵀ + δ⁽³⁾·h₂ᵀ" in text.split("Gradient:")[1], text


def test_a_loss_at_every_step_adds_its_share_to_each_h():
    text = _rnn(loss_every_step=True)[0].render("unicode")
    h2 = _step(text, "∂L/∂h₂")
    assert "W_hhᵀ·δ⁽³⁾" in h2 and "h₂ reaches L along 2 edges" in h2, h2


@pytest.mark.parametrize("every", [False, True])
def test_the_numbers_are_torchs(every):
    d, s = _rnn(every)
    rng = np.random.default_rng(7)
    v = {k: rng.normal(size=tuple(int(n) for n in m.shape)) for k, m in s.items()}
    steps = d.explain(at={s[k]: a for k, a in v.items()})
    t = {k: torch.tensor(a, requires_grad=k in ("W_hh", "W_xh", "b")) for k, a in v.items()}
    h, loss = t["h0"], 0
    for k in (1, 2, 3):
        h = torch.tanh(t["W_hh"] @ h + t["W_xh"] @ t[f"x{k}"] + t["b"])
        if every or k == 3:
            loss = loss + ((h - t[f"t{k}"]) ** 2).sum() / 2
    loss.backward()
    got = {str(name): val for name, _, val in steps.gradients}
    assert set(got) == {"W_hh", "W_xh", "b"}
    for k, val in got.items():
        np.testing.assert_allclose(val, t[k].grad.numpy(), rtol=1e-10, atol=1e-13)


def test_the_picture_draws_the_three_uses_of_w_hh():
    d, s = _rnn()
    src = d.graph().source
    assert "fan-out: ∂L/∂W_hh = Σ = δ⁽¹⁾·h₀ᵀ + δ⁽²⁾·h₁ᵀ + δ⁽³⁾·h₂ᵀ" in src, src
    for share in ("δ⁽¹⁾·h₀ᵀ", "δ⁽²⁾·h₁ᵀ", "δ⁽³⁾·h₂ᵀ"):
        assert share in src, share
    # every share in the names of its step, as the text's recursion — the last step's too, not
    # ((𝟙 − h₃∘²) ⊙ (h₃ − t))·x₃ᵀ beside δ⁽²⁾·x₂ᵀ
    assert "fan-out: ∂L/∂W_xh = Σ = δ⁽¹⁾·x₁ᵀ + δ⁽²⁾·x₂ᵀ + δ⁽³⁾·x₃ᵀ" in src, src
    assert "fan-out: ∂L/∂b = Σ = δ⁽¹⁾ + δ⁽²⁾ + δ⁽³⁾" in src, src
    assert "δ⁽²⁾ = (𝟙 − h₂∘²) ⊙ ∂L/∂h₂" in src and "∂L/∂h₂ = W_hhᵀ·δ⁽³⁾" in src, src


def test_each_steps_input_product_is_drawn_in_its_steps_row():
    # wrapped into rows, a row is a time step: W_xh·x₃ sits beside the + of z⁽³⁾ that takes it,
    # not in the first row with every step's input product (then a connector carried it down)
    import re
    src = _rnn()[0].graph().source
    assert "pack=true" in src, "the unrolled RNN is wrapped into rows"
    connectors = re.findall(r'label=<([^<>]*)> color="#7f8c8d"', src)
    assert connectors and not any("·x" in c for c in connectors), connectors
