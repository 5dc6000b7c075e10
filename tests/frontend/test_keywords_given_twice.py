"""An argument given both by position and by keyword is an ArgumentError naming it (Python's own
error is a bare "got multiple values for argument"), with the likely cause where the function knows
one: Keras's fit(x, y, epochs=2) written as sg.train(program, X, T, epochs=2)."""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.frontend.keywords import keywords


def test_a_decorated_function_names_the_argument_given_twice():
    @keywords()
    def fit(data, epochs=1, batch_size=32):
        return epochs

    assert fit([], 3) == 3 and fit([], epochs=3) == 3
    with pytest.raises(sg.ArgumentError, match=r"fit\(\) got epochs twice: by position \(argument 2, str"):
        fit([], "x", epochs=3)


def test_train_given_keras_fit_arguments_says_to_pass_the_data_as_one():
    w, x = sp.symbols("w x")
    prog = sg.compile((w * x - 1) ** 2, [w], [x])
    with pytest.raises(sg.ArgumentError) as err:
        sg.train(prog, np.ones(4), np.ones(4), epochs=2)
    text = str(err.value)
    assert "epochs twice" in text and "ndarray of shape (4,)" in text
    assert "train(program, (X, T), epochs=...)" in text
