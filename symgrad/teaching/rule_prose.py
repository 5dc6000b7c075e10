"""A rule's prose (written in Unicode by the steps: "matrix product: ∇W₁ = xᵀ @ δ") in ASCII and in
LaTeX: the signs through a small table, sub- and superscripts as the printers write names (W₂ -> W2
in ASCII, W_{2} in math), a name kept as written (W_q) as W_{q}, numbers in e-notation as 10^{-5}.

>>> words("matrix product: ∇W₁ = xᵀ @ δ", "text")
'matrix product: grad W1 = x^T @ delta'
"""
from __future__ import annotations

import re
import unicodedata

# ---------------------------------------------------------------------------------------------------
# Rule texts are written in Unicode; ASCII and LaTeX get them through a small table.

_ASCII = {"∇": "grad ", "δ": "delta", "ᵀ": "^T", "·": "*", "σ": "sigma", "−": "-", "²": "^2",
          "≥": ">=", "α": "alpha", "∂": "d", "⊙": ".*", "Σ": "sum", "′": "'", "←": "<-", "⁻": "^-",
          "¹": "1", "ε": "epsilon", "μ": "mu", "ₙ": "_n", "ᵢ": "_i"}
# ᵀ is ^{T}, so that it joins a name's superscript, y⁽¹⁾ᵀ as ^{(1)T} (^{(1)}^T does not compile)
_TEX = {"∇": r"\nabla ", "δ": r"\delta ", "ᵀ": "^{T}", "·": r"\cdot ", "σ": r"\sigma ", "−": "-",
        "²": "^2", "≥": r"\geq ", "α": r"\alpha ", "∂": r"\partial ", "⊙": r"\odot ", "Σ": r"\Sigma ",
        "′": "'", "≤": r"\leq ", "→": r"\to ", "×": r"\times ", "∘": r"\circ ", "𝟙": r"\mathbf{1}",
        "ε": r"\epsilon ", "η": r"\eta ", "μ": r"\mu ", "β": r"\beta ", "γ": r"\gamma ",
        "λ": r"\lambda ", "θ": r"\theta ", "√": r"\surd ", "ŷ": r"\hat{y}", "←": r"\leftarrow ",
        "@": r"\cdot "}       # a tensor rule's δ @ Xᵀ: a product in a formula, not NumPy's operator


def _tex_char(c: str):
    """The LaTeX of one character of a rule's prose that is not plain text: the table's, or a
    sub/superscript letter or digit (yᵢ, δᵢⱼ, x⁽ᵏ⁾) as a math sub/superscript; None for plain text."""
    if c in _TEX:
        return _TEX[c]
    if c.isascii():
        return None
    dec = unicodedata.decomposition(c)
    for tag, mark in (("<sub>", "_"), ("<super>", "^")):
        if dec.startswith(tag):
            base = chr(int(dec.split()[1], 16))
            return "%s{%s}" % (mark, _TEX.get(base, base))
    return None


def _script(c: str):
    """("_" or "^", the plain character) for a sub/superscript character (₂, ⁽), else None."""
    dec = unicodedata.decomposition(c)
    for tag, mark in (("<sub>", "_"), ("<super>", "^")):
        if dec.startswith(tag):
            return mark, chr(int(dec.split()[1], 16))
    return None


def _ascii(s: str) -> str:
    """Rule prose in ASCII: the table's words, and a run of sub/superscripts as the text printer
    writes names: W₂ -> W2, y⁽¹⁾ -> y^(1), xₙ -> x_n."""
    out, k = [], 0
    while k < len(s):
        c = s[k]
        sc = _script(c)
        if sc is None:
            out.append(_ASCII.get(c, c))
            k += 1
            continue
        run = []
        while k < len(s) and _script(s[k]) and _script(s[k])[0] == sc[0]:
            run.append(_ASCII.get(_script(s[k])[1], _script(s[k])[1]))       # ⁻ is a superscript −
            k += 1
        body = "".join(run)
        out.append(body if sc[0] == "_" and body.isdigit() else sc[0] + body)
    return "".join(out)


def words(s: str, fmt: str) -> str:
    """Prose in the format ``fmt``: ASCII for text, \\text{...} with math for LaTeX."""
    if fmt == "text":
        return _ascii(s)
    if fmt not in ("latex", "markdown", "latex-inline"):
        return s
    out, run = [], []
    parts = _SCI.split(s)          # prose, then (mantissa, sign, exponent) of each number in e-notation
    for k, piece in enumerate(parts):
        if k % 4 == 0:
            for j, bit in enumerate(_FORMULAS.split(piece)):    # prose, formula, prose, ...
                if j % 2:
                    _text_run(out, run)
                    out.append(_FORMULA_TEX[bit])
                else:
                    _words_tex(bit, out, run)
            continue
        if k % 4 != 1:
            continue
        mant, sign, exp = parts[k:k + 3]
        _text_run(out, run)
        power = "10^{%s%s}" % ("-" if sign else "", int(exp))     # 1e−5 as 10^{-5}, as LaTeX writes ε
        out.append(power if mant == "1" else r"%s \cdot %s" % (mant, power))
    _text_run(out, run)
    return "".join(out)


# the rule table's formulas written in words (notation.RULES): one formula each in LaTeX, not
# "1 $-$ tanh$^2$" (a name of letters is prose to the character-by-character reading)
_FORMULA_TEX = {"1 − tanh²": r"1 - \tanh^{2}", "1 + tan²": r"1 + \tan^{2}", "1/(1 + u²)": r"\frac{1}{1 + u^{2}}"}
_FORMULAS = re.compile("(%s)" % "|".join(re.escape(k) for k in _FORMULA_TEX))

# a number as code writes it, 1e−5 or 2.5e-3 (not inside a name: x1e5 stays)
_SCI = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)e([−-]?)(\d+)(?![\w.])")


# a name with a subscript kept as written in Unicode (W_q, W_out: `_pretty_name`), in a rule's prose:
# one letter, then the subscript (log_softmax, max_pool2d are words, not names)
_KEPT_SUB = re.compile(r"(?<![A-Za-z0-9_])([A-Za-z])_([A-Za-z0-9]+)(?![A-Za-z0-9_])")


def _words_tex(s: str, out: list, run: list) -> None:
    """`words` of a piece with no number in e-notation: prose runs into ``run``, formulas into ``out``;
    a name W_q is W_{q}, as the formulas write it."""
    parts = _KEPT_SUB.split(s)
    for k, piece in enumerate(parts):
        if k % 3 == 0:
            _chars_tex(piece, out, run)
        elif k % 3 == 1:
            _text_run(out, run)
            out.append("%s_{%s}" % (piece, parts[k + 1]))


def _chars_tex(s: str, out: list, run: list) -> None:
    for k, c in enumerate(s):
        if (c.isascii() and c.isalpha() and not run and out and out[-1].endswith((r"\nabla ", r"\partial "))
                and not s[k + 1:k + 2].isalnum()):
            out.append(c)              # ∇W, ∂L: the name after ∇ or ∂ is math too, $\nabla W$, not $\nabla$W
            continue
        tex = _tex_char(c)
        if tex is None:
            run.append(c)
            continue
        script = tex[:2] in ("_{", "^{")
        last = re.search(r"([_^])\{[^{}]*\}$", out[-1]) if out and not run else None
        if script and last and last.group(1) == tex[0]:
            out[-1] = out[-1][:-1] + tex[2:]            # δᵢⱼ: one subscript ij, not two; H⁻¹: ^{-1}
            continue
        if script and run and run[-1].isascii() and run[-1].isalpha() and (len(run) == 1 or not run[-2].isalnum()):
            tex = run.pop() + tex                       # W₁ in prose is W_{1}, as the formulas set it
        if run:
            between = "".join(run)
            # between two formulas, " = " is part of them: $\nabla W = \delta \cdot X^{T}$
            # and so are brackets and digits: σ(1 − σ) is $\sigma(1 - \sigma)$, not $\sigma$(1 $- \sigma$)
            math = ((between.strip() in ("", "=", "/") or _BRACKETED.fullmatch(between))
                    and out and not out[-1].startswith(r"\text{"))
            out.append(between if math else r"\text{%s}" % _tex_escape(between))
            run.clear()
        out.append(tex)


# what may sit between two formulas of a note and still be math: brackets, digits, + (σ(1 − σ))
_BRACKETED = re.compile(r"[()\d\s+]+")


def _text_run(out: list, run: list) -> None:
    """Flush the prose ``run`` into ``out`` as \text{...}; the brackets it starts with that close a
    bracket the formula before it opened are that formula's: σ(1 − σ)'s last )."""
    if out and not out[-1].startswith(r"\text{"):
        formula = "".join(out[next((k + 1 for k in range(len(out) - 1, -1, -1) if out[k].startswith(r"\text{")), 0):])
        open_ = formula.count("(") - formula.count(")")
        while open_ > 0 and run and run[0] == ")":
            out.append(run.pop(0))
            open_ -= 1
    if run:
        out.append(r"\text{%s}" % _tex_escape("".join(run)))
        run.clear()


def _tex_escape(s):
    for a, b in (("\\", r"\textbackslash{}"), ("_", r"\_"), ("^", r"\^{}"), ("%", r"\%"), ("&", r"\&"),
                 ("#", r"\#"), ("{", r"\{"), ("}", r"\}"), ("~", r"\~{}"), ("|", r"$|$")):
        s = s.replace(a, b)
    return s
