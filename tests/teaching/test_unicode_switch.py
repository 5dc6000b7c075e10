"""render("unicode") draws Greek names whatever SymPy's module-wide Unicode switch says.

SymPy sets that switch from sys.stdout's encoding; a process that first imported symgrad under a
doctest's captured output (as a docs test worker may) printed ``gamma`` and ``sigma^2`` for γ and σ²
in every later derivation. Found when docs/teaching.md's batch-norm block failed after a doctest
block of docs/optimizers.md in the same process.
"""
import importlib

import sympy as sp

import symgrad as sg

symbology = importlib.import_module("sympy.printing.pretty.pretty_symbology")


def batch_norm_text() -> str:
    N = sp.Symbol("N", integer=True, positive=True)
    x, gamma, beta = sg.tensor("x", (N, 3)), sg.tensor("gamma", (3,)), sg.tensor("beta", (3,))
    xhat = (x - x.mean(axis=0)) / sp.sqrt(x.var(axis=0) + 1e-5)
    return sg.derive(sg.sum(gamma * xhat + beta), [x, gamma, beta], output_name="L").render("unicode")


def test_greek_names_with_sympys_unicode_switch_off():
    before = symbology.pretty_use_unicode(False)
    try:
        text = batch_norm_text()
        assert not symbology._use_unicode          # the switch is left as it was found
    finally:
        symbology.pretty_use_unicode(before)
    assert "μ = x.mean(axis=0)" in text and "γ" in text and "σ²" in text
    assert "gamma" not in text and "sigma^2" not in text and "mu =" not in text
