"""The backward pass goes gate by gate, as the slides do: an input's or a parameter's step comes
right after the step of the node it enters (the sigmoid neuron's ∂f/∂w₂ right after the + gate
u₄ = u₃ + w₂, not after every other input), so a layer reads δ, ∇W, ∇b, then the layer below. Any
order is checked to be reverse mode's: every step comes after the steps it takes its gradients from."""
import re

import sympy as sp

import symgrad as sg

N = sp.Symbol("N", integer=True, positive=True)


def _backward(text):
    back = text.split("Backward pass", 1)[1].split("Gradient:", 1)[0]
    return [li.strip() for li in back.splitlines()[1:] if li.strip()]


def _lhs(line):
    """The gradient a step defines (δ⁽²⁾ = ∂L/∂z⁽²⁾ = ...: both names)."""
    parts = line.split(" = ")
    return {p for p in parts[:2] if re.fullmatch(r"(∂\w+/∂\S+|δ\S*)", p)}


def _after_what_it_uses(lines):
    """Each step's chain (∂L/∂a · ∂a/∂n + ...) uses only gradients defined by earlier steps."""
    seen = set()
    for line in lines:
        names = _lhs(line)
        chain = line.split(" = ")[len(names)] if len(line.split(" = ")) > len(names) else ""
        for term in chain.split(" + "):
            used = term.split(" · ")[0].strip()
            if used.startswith(("∂", "δ")) and used not in names:
                assert used in seen, (used, line, seen)
        seen |= names


def _sigmoid_neuron():
    """The slide's circuit: w₀·x₀ and w₁·x₁ added, then w₂ (unevaluated: SymPy would distribute −1)."""
    w0, x0, w1, x1, w2 = sp.symbols("w0 x0 w1 x1 w2")
    s = sp.Add(sp.Add(w0 * x0, w1 * x1, evaluate=False), w2, evaluate=False)
    return sg.derive(1 / (1 + sp.exp(sp.Mul(-1, s, evaluate=False))), [w0, x0, w1, x1, w2])


def test_the_sigmoid_neurons_bias_follows_its_gate():
    text = _sigmoid_neuron().render("unicode")
    forward = text.split("Forward pass:")[1].split("Backward pass")[0]
    (gate,) = re.findall(r"(\S+) = (?:\S+ \+ w₂|w₂ \+ \S+)$", forward, flags=re.M)   # the + gate w₂ enters
    lines = _backward(text)
    heads = [li.split(" = ")[0] for li in lines]
    assert heads.index("∂f/∂w₂") == heads.index(f"∂f/∂{gate}") + 1, heads
    _after_what_it_uses(lines)


def test_a_batched_mlp_reads_layer_by_layer():
    x, y = sg.tensor("x", (N, 4)), sg.tensor("y", (N,), integer=True)
    w1, b1, w2, b2 = sg.tensor("W1", (4, 3)), sg.tensor("b1", (3,)), sg.tensor("W2", (3, 2)), sg.tensor("b2", (2,))
    d = sg.derive(sg.cross_entropy(sg.relu(x @ w1 + b1) @ w2 + b2, y), [w1, b1, w2, b2], output_name="L")
    lines = _backward(d.render("unicode"))
    heads = [li.split(" = ")[0] for li in lines]
    k = heads.index("δ⁽²⁾")
    assert heads[k:k + 4] == ["δ⁽²⁾", "∂L/∂W₂", "∂L/∂b₂", "∂L/∂h⁽¹⁾"], heads
    assert heads[-3:] == ["δ⁽¹⁾", "∂L/∂W₁", "∂L/∂b₁"], heads
    _after_what_it_uses(lines)


def test_the_circuit_keeps_the_slides_order():
    x, y, z, q = sp.symbols("x y z q")
    lines = _backward(sg.derive((x + y) * z, [x, y, z], names={q: x + y}).render("unicode"))
    assert [li.split(" = ")[0] for li in lines] == ["∂f/∂f", "∂f/∂z", "∂f/∂q", "∂f/∂x", "∂f/∂y"]
    _after_what_it_uses(lines)
