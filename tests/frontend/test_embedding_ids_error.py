"""sg.embedding with ids that are not an integer tensor (2026-11-30, tenth session): the error said
"take takes an integer tensor ...", naming a function the user did not call. It names embedding,
what the ids were, and the declaration that fixes it."""
from __future__ import annotations

import pytest

import symgrad as sg


def test_float_ids_name_embedding_and_the_declaration():
    W, x = sg.tensor("W", (5, 3)), sg.tensor("x", (4, 2))
    with pytest.raises(sg.IntegerTensorError) as err:
        sg.embedding(W, x)
    text = str(err.value)
    assert "embedding" in text and "take" not in text
    assert "sg.tensor('x', (4, 2), integer=True)" in text


def test_a_list_of_ids_is_named_too():
    with pytest.raises(sg.IntegerTensorError, match=r"embedding.*got a list"):
        sg.embedding(sg.tensor("W", (5, 3)), [1, 2])


def test_integer_ids_still_look_up_rows():
    W, ids = sg.tensor("W", (5, 3)), sg.tensor("ids", (4, 2), integer=True)
    assert sg.embedding(W, ids).shape == (4, 2, 3)
