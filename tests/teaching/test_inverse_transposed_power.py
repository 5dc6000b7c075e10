"""∂ tr(X⁻ᵏ)/∂X = −k·(X⁻ᵀ)^(k+1) reads as a textbook writes it — (X⁻ᵀ)², not (Xᵀ)^−2 — in the text,
the LaTeX and the picture; and the formula so printed is the true gradient (central differences)."""
import numpy as np
import sympy as sp

import symgrad as sg

X = sp.MatrixSymbol("X", 3, 3)


def _fd_grad(f, x0, h=1e-6):
    g = np.zeros_like(x0)
    for i in range(3):
        for j in range(3):
            e = np.zeros_like(x0)
            e[i, j] = h
            g[i, j] = (f(x0 + e) - f(x0 - e)) / (2 * h)
    return g


def test_trace_of_inverse_square_reads_minus_two_x_inverse_transposed_cubed():
    d = sg.derive(sp.Trace(X**-2), [X])
    text, tex, dot = d.render(), d.latex(), d.graph().source
    for s in (text, dot):
        assert "∂L/∂X = −2·(X⁻ᵀ)³" in s, s
        assert "^−" not in s, s
    assert r"- 2 \left(X^{-T}\right)^{3}" in tex, tex
    assert r"\left(X^{T}\right)^{-" not in tex, tex
    assert "tr(X⁻²)" in text                    # the header, not tr(X^−2)


def test_trace_of_inverse_reads_minus_x_inverse_transposed_squared():
    d = sg.derive(sp.Trace(X**-1), [X])
    assert "∂L/∂X = −(X⁻ᵀ)²" in d.render()
    assert r"- \left(X^{-T}\right)^{2}" in d.latex()


def test_the_printed_formula_is_the_gradient():
    rng = np.random.default_rng(0)
    x0 = 2 * np.eye(3) + 0.3 * rng.standard_normal((3, 3))
    for k in (1, 2, 3):
        inv_t = np.linalg.inv(x0).T
        printed = -k * np.linalg.matrix_power(inv_t, k + 1)       # −k·(X⁻ᵀ)^(k+1), as printed
        fd = _fd_grad(lambda x: np.trace(np.linalg.matrix_power(np.linalg.inv(x), k)), x0)
        assert np.allclose(printed, fd, atol=1e-6), k
        d = sg.derive(sp.Trace(X**-k), [X])
        coef = "−" if k == 1 else f"−{k}·"
        sup = "²³⁴"[k - 1]
        assert f"∂L/∂X = {coef}(X⁻ᵀ){sup}" in d.render()


def test_the_latex_document_compiles(tmp_path):
    # the document lacked amssymb: SymPy's \mathbb{I} of tr(·)'s identity stopped pdflatex (until 2026-12-01)
    import subprocess
    from teachtools import need
    pdflatex = need("pdflatex")
    (tmp_path / "tr.tex").write_text(sg.derive(sp.Trace(X**-2), [X]).latex(document=True))
    r = subprocess.run([pdflatex, "-interaction=nonstopmode", "-halt-on-error", "tr.tex"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, "\n".join(l for l in r.stdout.splitlines() if l.startswith(("!", "l.")))
