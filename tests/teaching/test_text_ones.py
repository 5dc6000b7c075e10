"""The ASCII text writes a tensor of one value as the Unicode does, v*ones (fourth-session trial):
it read full((N,), 1/N) on one line and (-1)*1/N*ones on the next, where Unicode wrote 1/N·𝟙, −1/N·𝟙."""
import sympy as sp

import symgrad as sg

N = sp.Symbol("N", integer=True, positive=True)


def test_text_writes_ones_as_unicode_does():
    x, W, b = sg.tensor("x", (N, 4)), sg.tensor("W", (4, 3)), sg.tensor("b", (3,))
    h = sg.relu(x @ W + b)     # (a cross-entropy is one step now: its mean's 1/N·𝟙 is no line of it)
    d = sg.derive((sg.logsumexp(h, axis=1) - h.sum(axis=1)).mean(), [W, b], output_name="L")
    text, uni = d.render("text"), d.render("unicode")
    assert "full(" not in text and "(-1)*" not in text
    assert "= 1/N*ones" in text and "= -1/N*ones" in text
    assert "= 1/N·𝟙" in uni and "= −1/N·𝟙" in uni
