"""A backward step's rule note belongs to the equation above it (the text form writes it in
brackets at the end of that step's line). In the LaTeX document it was an \\intertext paragraph
with the same display skip above and below, so a reader could not tell whether "sum rule: ..."
explained the equation above or introduced the one below. Now it is a \\stepnote row right
after its own equation's rows, set close under that equation with more space before the next
step: checked in the source's structure and on the page pdflatex makes.
"""
import re
import shutil
import subprocess

import pytest
import sympy as sp

import symgrad as sg

x, y, z = sp.symbols("x y z")


def _derivation():
    return sg.derive(sg.sigmoid((x + y) * z), [x, y, z])


def _text_notes(d):
    """The bracketed notes of the text form's backward lines, in order."""
    back = d.render("text").split("Backward pass", 1)[1].split("Gradient:", 1)[0]
    return re.findall(r"\[(.*)\]\s*$", back, flags=re.M)


def _backward_rows(tex):
    body = tex.split(r"\intertext{\textbf{Backward pass}", 1)[1].split(r"\intertext{\textbf{Gradient}}")[0]
    return [r for r in body.splitlines()[1:] if r.strip()]


def test_each_note_is_a_stepnote_row_right_after_its_own_equation():
    d = _derivation()
    rows, notes = _backward_rows(d.latex()), _text_notes(d)
    assert len(notes) == 5 + 1          # the seed and the five chain-rule steps each have a note
    # the rows go equation, note, equation, note, ...: no note stands before an equation or alone
    kinds = ["note" if r.startswith("\\stepnote{") else
             "equation" if "&=" in r else "continuation" if r.startswith("&") else r for r in rows]
    assert kinds == ["equation", "note"] * len(notes), kinds
    # and no page break between a note and its equation (\\* ends the row before each note)
    assert all(r.endswith(r"\\*") for r, k in zip(rows, kinds) if k == "equation"), rows
    for row, text in zip([r for r in rows if r.startswith("\\stepnote{")], notes):
        prose = text.split(":")[0].split(" sigma")[0]   # "product rule", "seed", ...: in the same order
        assert prose in row, (row, text)
    assert r"\intertext{\small" not in d.latex()


def test_the_macro_is_defined_where_the_block_is_pasted_and_only_when_used():
    tex = _derivation().latex()
    assert tex.startswith(r"\providecommand{\stepnote}[1]{") and tex.count(r"\providecommand") == 1
    assert tex.index(r"\providecommand") < tex.index(r"\begin{align*}")
    from symgrad.teaching.render import _tex_block
    assert _tex_block(r"f &= x", "latex") == "\\begin{align*}\nf &= x\n\\end{align*}"   # no notes


def _words(pdf):
    out = subprocess.run([shutil.which("pdftotext"), "-bbox", str(pdf), "-"], capture_output=True,
                         text=True, timeout=60, check=True).stdout
    return [(w, float(a), float(b)) for a, b, w in
            re.findall(r'<word xMin="[\d.]+" yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">([^<]*)</word>', out)]


@pytest.mark.skipif(not (shutil.which("pdflatex") and shutil.which("pdftotext")),
                    reason="needs pdflatex and pdftotext")
def test_on_the_page_a_note_sits_close_under_its_equation_and_far_from_the_next(tmp_path):
    (tmp_path / "d.tex").write_text(_derivation().latex(document=True))
    r = subprocess.run([shutil.which("pdflatex"), "-interaction=nonstopmode", "-halt-on-error", "d.tex"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-1500:]
    words = _words(tmp_path / "d.pdf")
    notes = [(top, bottom) for w, top, bottom in words if w == "product"]   # "product rule: ..." twice
    assert len(notes) == 2, words
    for top, bottom in notes:
        above = top - max(b for _, _, b in words if b <= top)        # from the equation above it
        below = min(t for _, t, _ in words if t >= bottom) - bottom   # to the next step's equation
        assert below > 2 * above, (above, below)   # was 14.5pt above, 15.3pt below


def _boxes(pdf):
    out = subprocess.run([shutil.which("pdftotext"), "-bbox", str(pdf), "-"], capture_output=True,
                         text=True, timeout=60, check=True).stdout
    return [(w, float(x0), float(y0), float(y1)) for x0, y0, y1, w in
            re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">([^<]*)</word>', out)]


@pytest.mark.skipif(not (shutil.which("pdflatex") and shutil.which("pdftotext")),
                    reason="needs pdflatex and pdftotext")
def test_on_the_page_a_note_starts_under_its_equations_equals_sign(tmp_path):
    # as a slide sets it: the note explains the right-hand side, so it starts where the = does,
    # not centred on the page (where it stood apart from both equations)
    (tmp_path / "d.tex").write_text(_derivation().latex(document=True))
    r = subprocess.run([shutil.which("pdflatex"), "-interaction=nonstopmode", "-halt-on-error", "d.tex"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-1500:]
    boxes = _boxes(tmp_path / "d.pdf")
    starts = [(x0, top) for w, x0, top, _ in boxes if w in ("product", "seed:", "sum")]   # first word of a note
    assert len(starts) >= 4, boxes
    for x0, top in starts:
        # the = signs of the equation right above the note: the leftmost is the aligned one
        equals = [(bx, bottom) for w, bx, _, bottom in boxes if w.startswith("=") and top - 40 < bottom <= top]
        assert equals, (x0, top, boxes)
        assert abs(x0 - min(bx for bx, _ in equals)) < 1.0, (x0, equals)
