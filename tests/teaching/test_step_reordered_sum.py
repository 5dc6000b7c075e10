"""A step writes a sum once (fourth-session trial): the softmax cross-entropy's δ read
"= ∂L/∂u₂ + ∂L/∂u₁·softmax(z) = ∂L/∂u₁·softmax(z) + ∂L/∂u₂ = softmax(z) − t", the same sum twice in
two orders."""
import sympy as sp

import symgrad as sg
from symgrad.teaching.notation import Chain
from symgrad.teaching.render import _reordered_sum


def test_softmax_cross_entropy_delta_writes_its_sum_once():
    z, t = sp.MatrixSymbol("z", 3, 1), sp.MatrixSymbol("t", 3, 1)
    # with its softmax named f (the lecture deriving δ = f − f*), the cross-entropy is written as
    # it lowers: the fan-out's sum ∂L/∂u₂ + ∂L/∂u₁·f is written once (doubled, its −1 and the 2
    # are one ×(−2))
    f = sp.MatrixSymbol("f", 3, 1)
    d = sg.derive(2 * sg.cross_entropy(z, t), z, given={sg.sum(t): 1}, output_name="L")
    step = next(l for l in d.render("unicode", names={f: sg.softmax(z)}).splitlines() if l.strip().startswith("δ = "))
    sums = [s for s in step.split("    [")[0].split(" = ") if "∂L/∂u" in s and " + " in s and "/∂z" not in s]
    assert len(sums) == 1, step
    # doubled without the name, it is one step (tests/teaching/test_cross_entropy_column_cases.py)
    step = next(l for l in d.render("unicode").splitlines() if l.strip().startswith("δ = "))
    assert step.split("    [")[0] == "  δ = ∂L/∂z = ∂L/∂L · ∂L/∂z = 2·(softmax(z) − t)", step
    # alone it is one step now (tests/teaching/test_cross_entropy_column.py): no sum to write
    d = sg.derive(sg.cross_entropy(z, t), z, given={sg.sum(t): 1}, output_name="L")
    step = next(l for l in d.render("unicode").splitlines() if l.strip().startswith("δ = "))
    assert step.split("    [")[0] == "  δ = ∂L/∂z = ∂L/∂L · ∂L/∂z = softmax(z) − t", step


def test_reordered_sum():
    a, b, c = sp.symbols("a b c")
    chain = Chain([[b], [a * c]])
    assert _reordered_sum(chain, a * c + b)                 # the same terms: written once
    assert not _reordered_sum(chain, a * c + 2 * b)         # another sum: kept
    assert not _reordered_sum(Chain([[b, a]]), a * b)       # a product, not a sum of terms
