"""An operation of several inputs drawn with numbered slots reads ① − ② left to right, as a slide
writes y − ŷ: the slots are numbered in the order they appear in the label, and each edge carries
the number of the slot it fills (the perceptron drew "② − ①" with ŷ as ①)."""
import re

import pytest
import sympy as sp

import symgrad as sg
from picture_parse import node_names

pytest.importorskip("graphviz")


def _edge_labels(src):
    return re.findall(r"label=<(<table.*?</table>)>", src)


def _slot_of(src, value):
    """The slot number drawn on the edge whose forward value is ``value``."""
    for lab in _edge_labels(src):
        texts = [re.sub(r"<[^>]+>", "", t).strip() for t in re.findall(r"<font[^>]*>[^<]*</font>", lab)]
        if value in texts:
            return next((t for t in texts if t in "①②③④"), None)
    raise AssertionError(f"no edge carries {value}: {src}")


def test_perceptron_error_reads_one_minus_two():
    w, x, y, yhat = sp.symbols("w x y yhat")
    d = sg.derive((y - w * x) ** 2 / 2, [w], names={yhat: w * x}, output_name="L")
    src = d.graph(at={w: 0.5, x: 10, y: 10.1}).source
    assert "① − ②" in node_names(src).values(), node_names(src)
    assert _slot_of(src, "10.1") == "①" and _slot_of(src, "5") == "②"


def test_three_slots_in_reading_order():
    a, b, c = sp.symbols("a b c")
    src = sg.derive(sp.sin(a * b) - c + sp.exp(b), [a, b, c]).graph().source
    labels = [v for v in node_names(src).values() if "①" in v]
    for lab in labels:
        nums = [ch for ch in lab if ch in "①②③④"]
        assert nums == sorted(nums), lab
