"""An embedding lookup's node in the picture says what it gathers, "take rows" (W[ids], the text's
forward pass), and an axis other than 0 by its number, as "Σ (axis 0)" and "mean (axis 0)" are:
both were a bare "take"."""
import symgrad as sg
from symgrad.core import array_rules as A
from symgrad.teaching.graph_picture import op_label


def _take_label(expr, wrt):
    d = sg.derive(sg.sum(expr), [wrt], output_name="L")
    (e,) = [e for e in d.ir.ancestors([d.output]) if e.prim is A.take_p]
    return op_label(e)


def test_take_labels_say_what_they_gather():
    W, ids = sg.tensor("W", (5, 3)), sg.tensor("ids", (4,), integer=True)
    assert _take_label(sg.tanh(sg.embedding(W, ids)), W) == "take rows"
    assert _take_label(sg.tanh(sg.take(W, sg.tensor("j", (2,), integer=True), axis=1)), W) == "take (axis 1)"
    src = sg.derive(sg.sum(sg.tanh(sg.embedding(W, ids))), [W], output_name="L").graph().source
    assert "take rows" in src
