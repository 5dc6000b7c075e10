"""A MatrixSymbol network's header with a penalty reads L = L_data + L_reg, as the slides and the
forward pass below it (u₁ = cross_entropy(z⁽²⁾, t), L = u₁ + u₃/20) do: SymPy's order of the terms
put the penalty first, L = sum(W₁∘²)/20 − sum(t ⊙ log_softmax(…)) (until 2026-11-30, ninth
session). The value is the user's: the header's expression equals f (sympy), only its order differs."""
import sympy as sp

import symgrad as sg


def _derive():
    net, t = sg.mlp([4, 5, 3]), sp.MatrixSymbol("t", 3, 1)
    W1 = net.params[0]
    f = sg.cross_entropy(net.output, t) + sp.Rational(1, 20) * sg.sum(sp.HadamardPower(W1, 2))
    return f, sg.derive(f, net.params, given={sg.sum(t): 1})


def test_the_matrix_header_takes_the_data_term_first():
    f, d = _derive()
    header = d.render("unicode").splitlines()[0]
    assert header.startswith("L = −sum(t ⊙ log_softmax(W₂·relu(W₁·x + b₁) + b₂))"), header
    assert header.endswith(" + sum(W₁∘²)/20"), header
    assert d.steps.f == f                 # the same sum, in another order
    latex = d.latex()
    assert latex.index(r"\operatorname{log\_softmax}") < latex.index(r"W_{1}^{\circ {2}}")


def test_a_header_without_a_penalty_is_unchanged():
    net, t = sg.mlp([4, 5, 3]), sp.MatrixSymbol("t", 3, 1)
    d = sg.derive(sg.cross_entropy(net.output, t), net.params, given={sg.sum(t): 1})
    assert d.render("unicode").splitlines()[0] == "L = −sum(t ⊙ log_softmax(W₂·relu(W₁·x + b₁) + b₂))"
