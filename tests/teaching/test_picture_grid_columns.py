"""A grid's columns on a picture's edge are an en space apart (fourth-session trial): with a thin
space, a row of negative numbers, −0.7037 −1.265 −0.6233, read as one run of digits."""
import re

import numpy as np

from symgrad.teaching.graph_picture import value_part


def test_columns_are_an_en_space_apart():
    html = value_part(np.array([[-0.7037, -1.265, -0.6233], [0.04133, -2.325, -0.2188]]), ".4g", "#000000").html
    cells = re.findall(r'<font point-size="11">(.)([^<]*)</font>', html)
    assert [c for _, c in cells[:3]] == ["−0.7037", "−1.265", "−0.6233"]
    gaps = [g for g, _ in cells]
    assert gaps == ["\u2009", "\u2002", "\u2002"] * 2          # thin before the first column, en between
