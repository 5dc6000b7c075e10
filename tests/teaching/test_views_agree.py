"""Two parts of the teaching views that must write one thing the same way (fourth-session new-user
trial): a conv layer's bias in the forward pass and in f's header, a node named with ``names=`` in
forward mode's Gradient section and in reverse mode's, a long header in Markdown and in LaTeX."""
import re
import subprocess

import sympy as sp

import symgrad as sg
from symgrad.teaching.render import latex_document
from teachtools import need

N = sp.Symbol("N", integer=True, positive=True)
x, w, b = sg.tensor("x", (N, 3, 7, 7)), sg.tensor("w", (4, 3, 3, 3)), sg.tensor("b", (4,))
RESHAPE_TEXT = re.compile(r"reshape\((\d+(?:, \d+)*)\)")
RESHAPE_TEX = re.compile(r"reshape\}\\left\((\d+(?:, \d+)*)\\right\)")


# -- 1. a conv layer's bias: the forward pass writes the reshape as f's header does -------------------

def _forward_and_header(d, fmt):
    text = d.render(fmt)
    if fmt == "latex":
        body = text.split(r"\begin{align*}", 1)[1]
        header, rest = body.split(r"\intertext{\textbf{Forward pass}}", 1)
        forward = rest.split(r"\intertext{\textbf{Backward", 1)[0]
        return header, forward, RESHAPE_TEX
    head_end = "**Forward pass**" if fmt == "markdown" else "Forward pass:"
    header, rest = text.split(head_end, 1)
    forward = rest.split("**Backward" if fmt == "markdown" else "Backward pass", 1)[0]
    return header, forward, (RESHAPE_TEX if fmt == "markdown" else RESHAPE_TEXT)


def test_conv_bias_reshape_in_the_forward_pass_is_the_headers():
    d = sg.derive(sg.sum(sg.relu(sg.conv2d(x, w, b))), [w, b])
    for fmt in ("unicode", "text", "markdown", "latex"):
        header, forward, pattern = _forward_and_header(d, fmt)
        in_header, in_forward = set(pattern.findall(header)), set(pattern.findall(forward))
        assert in_header and in_forward, (fmt, header, forward)
        assert in_forward <= in_header, (fmt, in_forward, in_header)


def test_a_bias_written_with_the_batch_axis_keeps_it():
    # the user's b.reshape(1, 4, 1, 1) is the form to show, not a shorter one of symgrad's
    d = sg.derive(sg.sum(sg.relu(sg.conv2d(x, w) + b.reshape(1, 4, 1, 1))), [w, b])
    header, forward, pattern = _forward_and_header(d, "unicode")
    assert set(pattern.findall(forward)) == set(pattern.findall(header)) == {"1, 4, 1, 1"}


def test_the_bias_value_has_the_shape_its_definition_writes():
    import numpy as np
    xs, ws, bs = sg.tensor("x", (2, 1, 4, 4)), sg.tensor("w", (2, 1, 3, 3)), sg.tensor("b", (2,))
    at = {xs: np.ones((2, 1, 4, 4)), ws: np.ones((2, 1, 3, 3)), bs: np.array([0.1, -0.2])}
    steps = sg.derive(sg.sum(sg.relu(sg.conv2d(xs, ws, bs))), [ws, bs], at=at).steps
    (_, ex, value), = [t for t in steps.definitions if "reshape" in str(t[1])]
    assert np.shape(value) == tuple(ex.shape) == (2, 1, 1)
    line = next(li for li in str(steps).splitlines() if "= b.reshape(2, 1, 1) = " in li)
    printed = line.rsplit(" = ", 1)[1]
    assert len(printed) - len(printed.lstrip("[")) == len(ex.shape), line


def test_the_gradient_of_the_bias_is_unchanged():
    import numpy as np
    d = sg.derive(sg.sum(sg.relu(sg.conv2d(x, w, b))), [w, b])
    rng = np.random.default_rng(0)
    at = {"x": rng.normal(size=(2, 3, 7, 7)), "w": rng.normal(size=(4, 3, 3, 3)), "b": rng.normal(size=4)}
    db = sg.numeric(d.gradients[1], at)
    import torch
    xt, wt, bt = (torch.tensor(at[k], requires_grad=k == "b") for k in ("x", "w", "b"))
    torch.relu(torch.nn.functional.conv2d(xt, wt, bt)).sum().backward()
    assert np.allclose(db, bt.grad.numpy())


# -- 2. forward mode names the nodes names= names, as reverse mode does ------------------------------

def _gradient_section(text):
    return text.split("Gradient:", 1)[1]


def test_forward_mode_gradient_names_q_as_reverse_mode_does():
    p, q, r = sp.symbols("x y z")
    qs = sp.Symbol("q")
    at = {p: -2, q: 5, r: -4}
    views = {m: sg.derive((p + q) * r, [p, q, r], mode=m, at=at, names={qs: p + q}).render("unicode")
             for m in ("reverse", "forward")}
    assert _gradient_section(views["forward"]) == _gradient_section(views["reverse"])
    assert "∂f/∂z = q" in _gradient_section(views["forward"])
    # and its step ends in q too, not in x + y
    step = next(line for line in views["forward"].splitlines() if line.strip().startswith("∂f/∂z ="))
    assert "x + y" not in step, step


def test_forward_mode_without_names_still_writes_the_sum():
    p, q, r = sp.symbols("x y z")
    views = {m: sg.derive((p + q) * r, [p, q, r], mode=m).render("unicode") for m in ("reverse", "forward")}
    assert _gradient_section(views["forward"]) == _gradient_section(views["reverse"])
    assert "∂f/∂z = x + y" in _gradient_section(views["forward"])


# -- 3. a long header in Markdown is broken into the LaTeX output's rows -----------------------------

def _cnn_loss():
    xs, ys = sg.tensor("x", (N, 1, 8, 8)), sg.tensor("y", (N,), integer=True)
    ws, bs = sg.tensor("w", (4, 1, 3, 3)), sg.tensor("b", (4,))
    W2, b2 = sg.tensor("W2", (36, 10)), sg.tensor("b2", (10,))
    logits = sg.max_pool2d(sg.relu(sg.conv2d(xs, ws, bs)), 2).reshape(N, 36) @ W2 + b2
    # smoothed: not folded into cross_entropy(...) (its header would fit one row), its lowering long
    return sg.cross_entropy(logits, ys, label_smoothing=0.1), [ws, bs, W2, b2]


def _rows(block):
    return [r.strip() for r in block.split("\\\\") if r.strip()]


def test_long_markdown_header_has_the_latex_rows(tmp_path):
    loss, params = _cnn_loss()
    d = sg.derive(loss, params)
    md_head = d.markdown().split("**Forward pass**", 1)[0].strip()
    assert md_head.startswith("$$") and md_head.endswith("$$")
    inner = md_head[2:-2].strip()
    assert inner.startswith(r"\begin{aligned}") and inner.endswith(r"\end{aligned}"), md_head[:200]
    md_rows = _rows(inner[len(r"\begin{aligned}"):-len(r"\end{aligned}")])
    tex_head = d.latex().split(r"\begin{align*}", 1)[1].split(r"\intertext{\textbf{Forward pass}}", 1)[0]
    assert len(md_rows) > 1 and md_rows == _rows(tex_head)
    # one display block per line of Markdown: no $$ inside it, and every bracket closed
    assert inner.count("$") == 0
    assert inner.count(r"\bigl") == inner.count(r"\bigr") and inner.count(r"\left") == inner.count(r"\right")
    # amsmath reads it as MathJax does
    (tmp_path / "md.tex").write_text(latex_document(md_head))
    r = subprocess.run([need("pdflatex"), "-interaction=nonstopmode", "-halt-on-error", "md.tex"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-1500:]


def test_short_markdown_header_stays_one_line():
    p, q, r = sp.symbols("x y z")
    head = sg.derive((p + q) * r, [p, q, r]).markdown().split("\n", 1)[0]
    assert head.startswith("$$f = ") and head.endswith("$$") and "aligned" not in head


# -- 4. a constant gradient is written once in every view ----------------------------------------------

def _gradient_rows(text, fmt):
    """The Gradient section's rows of ``text``, each with its lhs (∂f/∂x, or its LaTeX) removed."""
    if fmt == "latex":
        body = text.split(r"\intertext{\textbf{Gradient}}", 1)[1].split(r"\end{align*}", 1)[0]
        rows = [r.strip() for r in body.split(r"\\") if r.strip()]
        return [r.split("&= ", 1)[1] for r in rows]
    if fmt == "markdown":
        body = text.split("**Gradient**", 1)[1]
        return [r.strip()[3:-1].split(" = ", 1)[1] for r in body.splitlines() if r.startswith("- $")]
    body = text.split("Gradient:", 1)[1]
    return [r.strip().split(" = ", 1)[1] for r in body.splitlines() if r.strip()]


def test_a_constant_gradient_is_not_followed_by_its_value_again():
    # x + y + z: ∂f/∂z = 1, not "1 = 1" (Markdown and LaTeX repeated it; the text did not)
    p, q, r = sp.symbols("x y z")
    d = sg.derive(p + q - 2 * r, [p, q, r], at={p: 1, q: 2, r: 3})
    for fmt in ("unicode", "text", "markdown", "latex"):
        rows = _gradient_rows(d.render(fmt), fmt)
        assert len(rows) == 3, (fmt, rows)
        assert all(" = " not in row for row in rows), (fmt, rows)
        assert rows[:2] == ["1", "1"], (fmt, rows)


def test_a_gradient_in_symbols_still_ends_in_its_value():
    p, q = sp.symbols("x y")
    d = sg.derive(p * q, [p, q], at={p: 2, q: 3})
    for fmt in ("unicode", "text", "markdown", "latex"):
        assert _gradient_rows(d.render(fmt), fmt) == ["y = 3", "x = 2"], fmt
