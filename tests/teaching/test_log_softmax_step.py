"""A log_softmax over an axis as the slides write it: u = log_softmax(z, axis=1) is one forward
step and one backward step, ∂L/∂z = ∂L/∂u − softmax(z) ⊙ ∂L/∂u.sum(axis=1, keepdims=True), in the
text and in the picture ("log_softmax (axis 1)", not logsumexp then ① − ②); its numbers are
torch.autograd's."""
import json
import re

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from picture_parse import edges, node_names

torch = pytest.importorskip("torch")
B, D, C = 4, 3, 3
x, w, y = sg.tensor("x", (B, D)), sg.tensor("w", (D, C)), sg.tensor("y", (B,), integer=True)
rng = np.random.default_rng(11)
AT = {x: rng.normal(size=(B, D)), w: rng.normal(size=(D, C)), y: np.array([0, 2, 1, 2])}


def _nll():
    """The cross-entropy as log_softmax then the mean of −log p of each label."""
    return sg.derive(-sg.sum(sg.log_softmax(x @ w, axis=1) * sg.one_hot(y, C)) / B, [w], output_name="L")


def _squares():
    """A loss whose ∂L/∂u has rows that do not sum to a constant: the Σ term of the rule matters."""
    return sg.derive(sg.sum(sg.log_softmax(x @ w, axis=1) ** 2), [w], output_name="L")


def _torch(loss):
    """(logits, ∂L/∂logits, ∂L/∂w) by torch.autograd."""
    tx, tw = torch.tensor(AT[x]), torch.tensor(AT[w], requires_grad=True)
    z = tx @ tw
    z.retain_grad()
    logp = torch.log_softmax(z, dim=1)
    if loss == "nll":
        out = torch.nn.functional.nll_loss(logp, torch.tensor(AT[y]))
    else:
        out = (logp ** 2).sum()
    out.backward()
    return z.detach().numpy(), z.grad.numpy(), tw.grad.numpy()


def _grid(s):
    """The numbers the picture printed ("[[1.2, −0.5], ...]", Unicode minus signs), parsed."""
    return np.array(json.loads(s.replace("−", "-")), dtype=float)


@pytest.mark.parametrize("case,loss", [(_nll, "nll"), (_squares, "squares")])
def test_log_softmax_is_one_forward_step_and_one_backward_step(case, loss):
    s = case().explain(at=AT)
    defs = {str(sym): str(e) for sym, e, _ in s.definitions}
    logs = [k for k, e in defs.items() if e.startswith("log_softmax(")]
    assert len(logs) == 1 and defs[logs[0]].endswith(", axis=1)"), defs
    assert not any("logsumexp" in e for e in defs.values()), defs
    logits = defs[logs[0]][len("log_softmax("):-len(", axis=1)")]
    step = s.find(logits)
    text = step.text("unicode")
    u = logs[0].translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))
    z = logits.translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))
    # ∂L/∂u − softmax(z) ⊙ ∂L/∂u.sum(axis=1, keepdims=True), in either order of the product
    assert f"(∂L/∂{u}).sum(axis=1, keepdims=True)" in text and f"softmax({z}, axis=1)" in text, text
    assert "− 1·" not in text and "fan-out" not in text and "log-sum-exp" not in text, text
    assert "log_softmax over axis 1" in text, text
    _, grad, grad_w = _torch(loss)
    np.testing.assert_allclose(step.value, grad, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(s.find("w").value, grad_w, rtol=1e-9, atol=1e-12)


def test_the_numbered_nodes_have_no_gap_where_the_logsumexp_was():
    s = _nll().explain()
    us = sorted(int(str(sym)[1:]) for sym, _, _ in s.definitions if re.fullmatch(r"u\d+", str(sym)))
    assert us == list(range(1, len(us) + 1)), us


@pytest.mark.parametrize("case,loss,op", [(_nll, "nll", "cross-entropy (mean)"),
                                           (_squares, "squares", "log_softmax (axis 1)")])
def test_the_picture_draws_one_log_softmax_node_with_all_of_the_logits_gradient(case, loss, op):
    # −Σ(log_softmax(z) ⊙ one_hot(y))/B is a cross-entropy: one node of its own, the log_softmax
    # inside it (symgrad.teaching.cross_entropy_fold); a log_softmax of anything else is one node
    src = case().graph(at=AT).source
    names = node_names(src)
    assert op in names.values(), sorted(names.values())
    assert not any(n.startswith("logsumexp") or n == "① − ②" for n in names.values()), sorted(names.values())
    node = next(k for k, v in names.items() if v == op)
    into = [(fv, gv) for _, fv, gv, dst in edges(src) if dst == node and gv is not None]
    assert len(into) == 1, into                     # the logits reach it along one edge (the one-hot: no gradient)
    logits, grad, _ = _torch(loss)
    np.testing.assert_allclose(_grid(into[0][0]), logits, rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(_grid(into[0][1]), grad, rtol=1e-3, atol=1e-3)
    assert "fan-out" not in src


def test_the_symbolic_picture_writes_the_rule_on_the_logits_edge():
    src = _squares().graph().source
    names = node_names(src)
    node = next(k for k, v in names.items() if v == "log_softmax (axis 1)")
    ((fv, gv),) = [(fv, gv) for _, fv, gv, dst in edges(src) if dst == node]
    assert gv.startswith(f"∂L/∂{fv} = ") and f"softmax({fv}, axis=1)" in gv, gv
    assert ".sum(axis=1, keepdims=True)" in gv and "− 1·" not in gv, gv
