"""A LaTeX equation too wide for the page is broken into rows before a + or − (fourth-session
trial): a CNN's header f = mean(logsumexp(...) − take_along_axis(...)) was one row scaled to 0.42,
too small to read (that header now reads cross_entropy(...) and fits). Brackets a break splits become \\bigl … \\bigr, which may span rows."""
import re
import subprocess

import sympy as sp

import symgrad as sg
from symgrad.teaching.latex_rows import TEX_LINE, _tex_rows, _tex_width
from teachtools import need

N = sp.Symbol("N", integer=True, positive=True)


def _cnn_loss():
    x, y = sg.tensor("x", (N, 1, 8, 8)), sg.tensor("y", (N,), integer=True)
    w, b = sg.tensor("w", (4, 1, 3, 3)), sg.tensor("b", (4,))
    W2, b2 = sg.tensor("W2", (36, 10)), sg.tensor("b2", (10,))
    logits = sg.max_pool2d(sg.relu(sg.conv2d(x, w, b)), 2).reshape(N, 36) @ W2 + b2
    return sg.cross_entropy(logits, y), [w, b, W2, b2]


def test_rows_fit_the_line_and_keep_the_text():
    tex = r"\operatorname{mean} \left(" + " + ".join(r"\operatorname{relu}\left(a_{%d} - b_{%d}\right)" % (k, k)
                                                     for k in range(20)) + r"\right)"
    assert _tex_width(tex) > 2 * TEX_LINE
    rows = _tex_rows(tex)
    assert len(rows) >= 3 and all(_tex_width(r) <= TEX_LINE for r in rows), [_tex_width(r) for r in rows]
    # the same formula: only the outer bracket, which the breaks split, is \bigl( … \bigr) now
    joined = " ".join(rows)
    plain = lambda t: re.sub(r"\\(left|right|bigl|bigr)|\s", "", t)       # noqa: E731
    assert plain(joined) == plain(tex)
    assert joined.count(r"\bigl(") == joined.count(r"\bigr)") == 1
    assert joined.count(r"\left(") == joined.count(r"\right)") == 20


def test_a_row_without_a_break_stays_whole():
    tex = r"\operatorname{f}\left(" + r" \cdot ".join("x_{%d}" % k for k in range(60)) + r"\right)"
    assert _tex_rows(tex) == [tex]


def test_a_long_argument_list_breaks_after_its_commas_but_not_inside_a_shape():
    # (twelfth session) a convolution's gradient, conv2d(x…, (H(z) ⊙ …)…, padding=1), has no + or −
    # outside its brackets: it was one row scaled to a third; a shape inside it stays whole
    tex = (r"\operatorname{f}\left(" + ", ".join("x_{%d}" % k for k in range(60))
           + r", \operatorname{reshape}\left(N, 2, 2, 2\right)\right)")
    rows = _tex_rows(tex)
    assert len(rows) >= 3 and all(_tex_width(r) <= TEX_LINE for r in rows), [_tex_width(r) for r in rows]
    assert all(r.endswith(",") for r in rows[:-1]) and not any(r.startswith(",") for r in rows), rows
    assert any(r"\left(N, 2, 2, 2\right)" in r for r in rows), rows
    plain = lambda t: re.sub(r"\\(left|right|bigl|bigr)|\s", "", t)       # noqa: E731
    assert plain(" ".join(rows)) == plain(tex)


def test_cnn_header_is_broken_into_readable_rows(tmp_path):
    loss, params = _cnn_loss()
    doc = sg.derive(loss, params).latex(document=True)
    header = doc.split(r"\begin{align*}", 1)[1].split(r"\end{align*}", 1)[0]
    head_rows = header.split(r"\\")[:4]
    assert not any(r"\scalebox" in r for r in head_rows), head_rows[0][:300]
    # the header is cross_entropy(...) as written now (tests/teaching/test_cross_entropy_header.py):
    # one row that fits, not the lowering's logsumexp − take_along_axis broken into two
    assert head_rows[0].lstrip().startswith(r"f &= \operatorname{cross\_entropy}"), head_rows[0][:300]
    assert _tex_width(head_rows[0]) <= TEX_LINE
    jupyter = sg.derive(loss, params)._repr_latex_()
    assert jupyter.count(r"\bigl") == jupyter.count(r"\bigr")
    (tmp_path / "cnn.tex").write_text(doc)
    r = subprocess.run([need("pdflatex"), "-interaction=nonstopmode", "-halt-on-error", "cnn.tex"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-1500:]


def test_a_matrix_of_values_keeps_its_rows():
    # a batch's values, negative entries included: no break inside the matrix (it broke its rows)
    import numpy as np
    x, gamma, beta, dout = (sg.tensor("x", (N, 3)), sg.tensor("gamma", (3,)), sg.tensor("beta", (3,)),
                            sg.tensor("dout", (N, 3)))
    xhat = (x - x.mean(axis=0)) / sp.sqrt(x.var(axis=0) + 1e-5)
    rng = np.random.default_rng(0)
    at = {x: rng.normal(size=(5, 3)), gamma: rng.normal(size=3), beta: rng.normal(size=3), dout: rng.normal(size=(5, 3))}
    tex = sg.derive(sg.sum((gamma * xhat + beta) * dout), [x, gamma, beta], output_name="L", at=at).latex()
    blocks = re.findall(r"\\begin\{bmatrix\}(.*?)\\end\{bmatrix\}", tex, re.S)
    assert blocks
    for block in blocks:
        rows = block.split(r"\\")
        assert len({r.count("&") for r in rows}) == 1, block        # every row has all its columns
        assert r"\quad" not in block and r"\bigl" not in block


def test_a_matrix_is_as_wide_as_its_widest_row():
    # a 4×4 grid of values counted as all its 16 entries in a row was scaled to a third of its size
    rows = [" & ".join(["-0.9913"] * 4)] * 4
    grid = r"\begin{bmatrix}" + r" \\ ".join(rows) + r"\end{bmatrix}"
    assert _tex_width(grid) == _tex_width(rows[0]) + 2 * 3
    from teachtools import small_cnn
    d, at = small_cnn()
    tex = d.render("latex-document", at=at)
    forward = tex.split("Forward pass", 1)[1].split("Backward pass", 1)[0]
    assert r"\scalebox" not in forward          # the 4×4 planes of conv2d(x, w) and z at full size
