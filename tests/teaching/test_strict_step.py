"""A step that is 0 at 0 (SymPy's Heaviside(x, 0): max's argument a tie does not route to) is written
as the Iverson bracket [a > b], and H(x) stays the step with H(0) = 1, as the notes' relu′: at a
tie of max(w, z) the text read ∂f/∂z = H(z − w) = 0, a step at 0 that the notes' H makes 1
(symgrad/teaching/render.py `_step`; until 2026-11-30, ninth session). Each printed step, read by its
own definition at the point, is the value printed after it."""
import sympy as sp

import symgrad as sg

z, w = sp.symbols("z w")


def test_a_tie_of_max_reads_as_its_values():
    d = sg.derive(sp.Max(z, w), [z, w], at={z: 2, w: 2})
    text = d.render("unicode")
    assert "  ∂f/∂z = [z > w] = 0\n" in text and "  ∂f/∂w = H(w − z) = 1" in text, text
    assert r"\left[z > w\right] = 0" in d.latex()
    assert "  df/dz = [z > w] = 0" in d.render("text")
    # the gradient goes to one argument at a tie: the two shares add up to 1
    assert sum(v for _, _, v in d.steps.gradients) == 1


def test_away_from_a_tie():
    d = sg.derive(sp.Max(z, w), [z, w], at={z: 3, w: 2})
    text = d.render("unicode")
    assert "  ∂f/∂z = [z > w] = 1\n" in text and "  ∂f/∂w = H(w − z) = 0" in text, text
