"""A symbol named with a subscript reads alike in every view. Unicode has subscript characters for
digits and for only some letters (none for q), so the text sets a number or an entry's index as a
subscript (W₁, xᵢⱼ) and keeps any other subscript as written: the query, key and value weights of
an attention layer read W_q, W_k, W_v side by side, never W_q beside Wₖ and Wᵥ, nor W_out as Wₒᵤₜ.
LaTeX sets every subscript (W_{q}, W_{1}), in the formulas and in the rule notes alike; the picture
writes the names as the text does."""
import re

import sympy as sp

import symgrad as sg
from picture_parse import edges, node_names

N = sp.Symbol("N", integer=True, positive=True)


def _attention_like():
    x = sg.tensor("x", (N, 3))
    wq, wk, wv, w1 = (sg.tensor(n, s) for n, s in (("W_q", (3, 2)), ("W_k", (3, 2)), ("W_v", (3, 2)), ("W_1", (2, 2))))
    loss = sg.sum(((x @ wq) * (x @ wk) + x @ wv) @ w1)
    return sg.derive(loss, [wq, wk, wv, w1], output_name="L")


def test_letter_subscripts_are_kept_alike_and_digits_are_subscripts():
    text = _attention_like().render("unicode")
    for name in ("∂L/∂W_q", "∂L/∂W_k", "∂L/∂W_v", "∂L/∂W₁"):
        assert name in text, name
    assert not re.search("W[ₖᵥ]", text) and "W_1" not in text, text


def test_ascii_writes_the_names_as_declared():
    text = _attention_like().render("text")
    for name in ("dL/dW_q", "dL/dW_k", "dL/dW_v", "dL/dW_1"):
        assert name in text, name


def test_latex_sets_every_subscript_in_formulas_and_rule_notes():
    tex = _attention_like().latex()
    for sub in "qkv1":
        assert r"\partial W_{%s}" % sub in tex, sub
    notes = [li for li in tex.splitlines() if li.startswith(r"\stepnote{matrix product")]
    assert len(notes) >= 4, tex
    for note in notes:
        # the note's ∇W_q is the formulas' W_{q}, in math: never an escaped W\_q in text
        assert r"\_" not in note, note
        assert re.findall(r"W_\{(\w+)\}", note) and "W$" not in note, note


def test_the_picture_names_edges_as_the_text_does():
    d = _attention_like()
    src = d.graph().source
    shown = {fv for _, fv, _, _ in edges(src)} | set(node_names(src).values())
    assert {"W_q", "W_k", "W_v", "W₁"} <= shown, shown


def test_entries_and_greek_names_keep_their_subscripts():
    from symgrad.teaching.render import show
    names = ["x_ij", "beta_1", "xhat_n", "z_1n", "W_out", "w_hh", "h_t"]
    got = [show(sp.Symbol(n), "unicode") for n in names]
    assert got == ["xᵢⱼ", "β₁", "x̂ₙ", "z₁ₙ", "W_out", "w_hh", "h_t"], got
