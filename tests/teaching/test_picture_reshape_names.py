"""The picture names an edge as the steps' text names the value it carries: a reshape the text
writes as a step of its own (a regression's (N, 1) output read as (N,), u₂ = u₁.reshape(N); a
logsumexp's kept axis dropped) is a node of the picture too, so the edge into the next operation
carries the reshaped value's name, not the name of the value before the reshape."""
import re

import sympy as sp

import symgrad as sg
from picture_parse import edges, node_names

N = sp.Symbol("N", integer=True, positive=True)
NAME = r"[^\s=]+"


def _forward_lines(d) -> list:
    text = d.render("unicode")
    forward = text.split("Forward pass:", 1)[1].split("Backward pass", 1)[0]
    return [li.strip() for li in forward.splitlines() if li.strip()]


def _defined(d) -> set:
    return {li.split(" = ", 1)[0] for li in _forward_lines(d)}


def _subtraction_operands(d) -> set:
    """{a, b} of the forward line v = a − b (names only)."""
    found = [re.fullmatch(rf"({NAME}) = ({NAME}) − ({NAME})", li) for li in _forward_lines(d)]
    (m,) = [m for m in found if m]
    return {m.group(2), m.group(3)}


def _into(src, label) -> set:
    names = node_names(src)
    return {fv for _, fv, _, dst in edges(src) if names.get(dst) == label}   # without at: the names


def _regression():
    x, w, b, y = sg.tensor("x", (N, 3)), sg.tensor("w", (3, 1)), sg.tensor("b", (1,)), sg.tensor("y", (N,))
    return sg.derive(sg.sum(((x @ w + b).reshape(N) - y) ** 2) / N, [w, b])


def test_a_regression_output_read_as_a_vector_keeps_the_texts_names():
    d = _regression()
    src = d.graph().source
    # the subtraction reads what the text says it reads (u₁ = z.reshape(N), then u₁ − y), not z
    assert _into(src, "① − ②") == _subtraction_operands(d), src
    # every value the forward pass defines is on an edge of the picture under the same name
    shown = {fv for _, fv, _, _ in edges(src)}
    assert _defined(d) <= shown, (_defined(d), shown)


def test_the_reshaped_value_carries_its_own_gradient():
    d = _regression()
    src = d.graph().source
    names = node_names(src)
    (reshape_id,) = [k for k, v in names.items() if v.startswith("reshape")]
    assert names[reshape_id] == "reshape (N)"          # the shape the text's .reshape(N) names
    (into,) = [(fv, gv) for _, fv, gv, dst in edges(src) if dst == reshape_id]
    (out_of,) = [(fv, gv) for _, fv, gv, dst in edges(src) if names.get(dst) == "① − ②" and fv != "y"]
    # the text: u₁ = z.reshape(N); the edge into the reshape carries z and δ = ∂f/∂z, the one out
    # of it u₁ and ∂f/∂u₁
    (line,) = [li for li in _forward_lines(d) if ".reshape(N)" in li]
    new, old = re.fullmatch(rf"({NAME}) = ({NAME})\.reshape\(N\)", line).groups()
    assert into[0] == old and out_of[0] == new, (into, out_of, line)
    assert out_of[1].startswith(f"∂f/∂{new} = "), out_of


def test_a_cross_entropy_takes_the_logits_the_text_names():
    # the cross-entropy is one node (its logsumexp, one-hot and subtraction inside it) and one line
    # of the text, f = cross_entropy(u₁, y): the edges into it carry the names that line reads
    x, w, y = sg.tensor("x", (N, 4)), sg.tensor("w", (4, 3)), sg.tensor("y", (N,), integer=True)
    d = sg.derive(sg.cross_entropy(x @ w, y), [w])
    src = d.graph().source
    (m,) = [m for m in (re.fullmatch(rf"f = cross_entropy\(({NAME}), ({NAME})\)", li)
                        for li in _forward_lines(d)) if m]
    assert _into(src, "cross-entropy (mean)") == {m.group(1), m.group(2)} == {"u₁", "y"}, src


def test_a_conv_bias_reshape_is_a_node_as_the_text_writes_it():
    # the text writes the bias's b.reshape(2, 1, 1) as a step of its own (u₂ = b.reshape(2, 1, 1),
    # then u₃ = u₁ + u₂): the picture draws that reshape, and the edge into + carries u₂, not b
    x, w, b = sg.tensor("x", (N, 1, 5, 5)), sg.tensor("w", (2, 1, 3, 3)), sg.tensor("b", (2,))
    d = sg.derive(sg.sum(sg.relu(sg.conv2d(x, w, b))), [w, b])
    src = d.graph().source
    names = node_names(src)
    (line,) = [li for li in _forward_lines(d) if ".reshape(" in li]
    new, old, shape = re.fullmatch(rf"({NAME}) = ({NAME})\.reshape\((.*)\)", line).groups()
    assert old == "b" and shape == "2, 1, 1", line
    (reshape_id,) = [k for k, v in names.items() if v.startswith("reshape")]
    assert names[reshape_id] == f"reshape ({shape})"
    (into,) = [(fv, gv) for _, fv, gv, dst in edges(src) if dst == reshape_id]
    assert into[0] == "b" and into[1].startswith("∂f/∂b"), into
    assert _into(src, "+") == _plus_operands(d) and new in _into(src, "+"), src
    # every value the forward pass defines is on an edge of the picture under the same name
    assert _defined(d) <= {fv for _, fv, _, _ in edges(src)}


def _plus_operands(d) -> set:
    found = [re.fullmatch(rf"({NAME}) = ({NAME}) \+ ({NAME})", li) for li in _forward_lines(d)]
    (m,) = [m for m in found if m]
    return {m.group(2), m.group(3)}
