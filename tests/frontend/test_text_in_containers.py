"""Text inside a tuple, dict or set reaches no evaluator (the trust review of 2026-12-01, eleventh
session). SymPy's ``sympify`` of a container sympifies its items without ``strict``, so a string
inside one was run as Python: ``sg.check(x**2, [x], [{"__import__('os')...": 1}])`` created a file.
Every entry point that takes an expression, a number or a shape must refuse such a container (or
read it as data) without running its text; each case here writes a marker file when the text runs."""
import pytest
import sympy as sp

import symgrad as sg


def _payload(marker):
    return f"__import__('pathlib').Path({str(marker)!r}).touch()"


def _containers(p):
    return [((p,),), (p,), {p: 1}, {1: p}, frozenset([p]), [((p,),)]]


CALLS = {
    "check claim": lambda c: sg.check(sp.Symbol("x") ** 2, [sp.Symbol("x")], [c]),
    "check wrt": lambda c: sg.check(sp.Symbol("x") ** 2, [c], [2 * sp.Symbol("x")]),
    "compile loss": lambda c: sg.compile(c, [sp.Symbol("x")], [sp.Symbol("y")]),
    "grad f": lambda c: sg.grad(c, sp.Symbol("x")),
    "leaky_relu alpha": lambda c: sg.leaky_relu(sp.Symbol("x"), alpha=c),
    "tensor shape": lambda c: sg.tensor("X", c),
    "tensor shape entry": lambda c: sg.tensor("X", (c, 3)),
    "derive names": lambda c: sg.derive(sp.Symbol("x") * sp.Symbol("y"), [sp.Symbol("x")],
                                        names={sp.Symbol("x"): c}),
    "numeric at": lambda c: sg.numeric(sp.Symbol("x") ** 2, {sp.Symbol("x"): c}),
}


@pytest.mark.parametrize("where", sorted(CALLS))
@pytest.mark.parametrize("k", range(6))
def test_text_in_a_container_is_never_run(where, k, tmp_path):
    marker = tmp_path / "ran"
    container = _containers(_payload(marker))[k]
    try:
        CALLS[where](container)
    except sg.SymgradError:      # refused, by name; any other exception fails the test
        pass
    assert not marker.exists(), f"{where}: the text inside {type(container).__name__} was run"


def test_check_names_text_in_a_container():
    x = sp.Symbol("x")
    with pytest.raises(sg.UnsafeInputError, match="holding text"):
        sg.check(x ** 2, [x], [{"2*x": 1}])


def test_a_model_file_may_still_use_sympify_itself(tmp_path):
    # the guard refuses text only when symgrad's own code hands it to SymPy: a model file run by
    # symgrad train is the user's code, and its own sp.sympify("...") works as in plain SymPy
    from symgrad.cli._model import load_model
    model = tmp_path / "model.py"
    model.write_text("import sympy as sp\n"
                     "w, x, y = sp.symbols('w x y')\n"
                     "loss = sp.sympify('(w*x - y)**2', locals={'w': w, 'x': x, 'y': y})\n"
                     "params, inputs = [w], [x, y]\n")
    m = load_model(str(model))
    w, x, y = sp.symbols("w x y")
    assert sp.expand(m.loss - (w * x - y) ** 2) == 0
