"""One check for the Triton target's refusals: the message names what is refused in the user's
words (the given patterns), says to compile for target='numpy', and shows no IR variable (v12)."""
import re

import pytest

import symgrad as sg


def assert_refused_for_triton(loss, params, inputs, words) -> str:
    """``sg.compile(..., target="triton")`` raises UnsupportedError whose message matches every
    regex of ``words``; returns the message."""
    with pytest.raises(sg.UnsupportedError) as e:
        sg.compile(loss, params, inputs, target="triton")
    msg = str(e.value)
    for w in list(words) + [r"target='numpy'"]:
        assert re.search(w, msg), (w, msg)
    assert not re.search(r"\bv\d+\b", msg), msg             # no IR variable
    return msg
