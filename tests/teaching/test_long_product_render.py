"""A long product's derivation (a grading server's sin(a₀)·sin(a₁)·…·sin(aₙ₋₁)): its steps print each
partial ∂f/∂uₖ = ∏_{j≠k} uⱼ, n − 1 factors, several times a step — n² symbols in all. Each symbol's
Unicode name (u₁₂, a₇) is drawn once per name, not once per time it is printed (symgrad/teaching/render.py)."""
import time

import sympy as sp

import symgrad as sg
from symgrad.teaching import render as render_module


def _product(n):
    a = sp.symbols(f"a0:{n}")
    return sp.Mul(*[sp.sin(s) for s in a]), list(a)


def test_a_long_products_names_are_drawn_once_per_name(monkeypatch):
    n = 30
    expr, wrt = _product(n)
    d = sg.derive(expr, wrt)
    calls = []
    real = render_module.pretty_symbol

    def counted(name):
        calls.append(name)
        return real(name)

    monkeypatch.setattr(render_module, "pretty_symbol", counted)
    text = d.render("unicode")
    # every partial is there, written with its factors (n − 1 of them in each backward step)
    assert "∂f/∂a₀ = " in text and f"∂f/∂a{str(n - 1).translate(str.maketrans('0123456789', '₀₁₂₃₄₅₆₇₈₉'))}" in text
    assert text.count("·u₁₇·") >= n - 1
    # names: a₀…a₂₉, u₁…u₃₀, f — each drawn at most once (fewer if drawn before in this process);
    # the old printer drew one per printed symbol, over 3·n·(n − 1)
    assert len(calls) <= 2 * n + 5, len(calls)


def test_a_60_factor_product_renders_in_bounded_time():
    expr, wrt = _product(60)
    d = sg.derive(expr, wrt)
    t = time.perf_counter()
    text = d.render("unicode")
    assert time.perf_counter() - t < 60          # a loose hang guard: about 1 s here, under load
    assert text.count("\n") > 3 * 60


def test_a_long_products_latex_reads_each_word_name_once(monkeypatch):
    # names that are words (cs231n's dout, num): LaTeX sets them \mathit{amp}_{3}, after asking
    # whether the word is a Greek letter's name — once per name, not once per printed symbol
    n = 30
    amp = sp.symbols(f"amp0:{n}")
    d = sg.derive(sp.Mul(*[sp.sin(s) for s in amp]), list(amp))
    d.steps
    calls = []
    real = render_module._greek_name
    monkeypatch.setattr(render_module, "_greek_name", lambda w: calls.append(w) or real(w))
    tex = d.render("latex")
    assert r"\mathit{amp}_{17}" in tex
    assert len(calls) <= 2 * n + 5, len(calls)
