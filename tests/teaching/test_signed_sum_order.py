"""A sum that subtracts some of its terms reads in the order of the user's expression too, in the
text and in the picture: exp(w₀·x₀ − w₁·x₁ − w₂) is u₁ = w₀·x₀, u₂ = −w₁·x₁, u₃ = u₁ + u₂ − w₂,
and the picture numbers the slots as the lines read (① of −①·② is w₁, ① of ① + ② − ③ is u₁),
stacking w₀, x₀ above w₁, x₁ above w₂ (until 2026-11-30, tenth session, the lowering's order:
u₁ = −w₁·x₁ first, x₁ as ① drawn above w₁). The order expected is the one the header prints the
user's sum in; the numbers are torch.autograd's."""
import re
import subprocess

import pytest
import sympy as sp

import symgrad as sg
from picture_parse import _value_edges, node_names
from teachtools import need

torch = pytest.importorskip("torch")

w0, x0, w1, x1, w2 = sp.symbols("w0 x0 w1 x1 w2")
WRT = [w0, x0, w1, x1, w2]
AT = {w0: 2, x0: -1, w1: -3, x1: -2, w2: -3}
F = sp.exp(w0 * x0 - w1 * x1 - w2)


def _forward(text):
    lines = text.splitlines()
    end = next(i for i, l in enumerate(lines) if l.startswith("Backward pass"))
    return {l.split(" = ")[0].strip(): l.strip() for l in lines[lines.index("Forward pass:") + 1:end]}


def test_text_lists_the_terms_as_the_header_prints_them():
    text = sg.derive(F, WRT, at=AT).render("unicode")
    header = text.splitlines()[0]
    assert header == "f = exp(w₀·x₀ − w₁·x₁ − w₂)", header
    fwd = _forward(text)
    # the u's numbered as the header reads the products: w₀·x₀ first
    assert fwd["u₁"].startswith("u₁ = w₀·x₀ = "), fwd
    assert fwd["u₂"].startswith("u₂ = −w₁·x₁ = "), fwd
    assert fwd["u₃"].startswith("u₃ = u₁ + u₂ − w₂ = "), fwd


def test_picture_slots_and_stacking_follow_the_lines():
    need("dot")
    d = sg.derive(F, WRT, at=AT)
    src = d.graph().source
    names = node_names(src)
    slot_of = {}
    for a, b, label in _value_edges(src):
        m = re.search(r">([①②③])<", label)
        if m:
            own = re.search(r'<font point-size="11">([^<]+)</font>', label)
            slot_of[own.group(1) if own else names.get(a, a)] = m.group(1)
    assert slot_of["w₁"] == "①" and slot_of["x₁"] == "②", slot_of
    assert slot_of["u₁"] == "①" and slot_of["u₂"] == "②" and slot_of["w₂"] == "③", slot_of
    plain = subprocess.run(["dot", "-Tplain"], input=src, capture_output=True, text=True, check=True).stdout
    ys = {names[f[1]]: float(f[3]) for f in (l.split() for l in plain.splitlines())
          if f[0] == "node" and f[1] in names}
    heights = [ys[n] for n in ["w₀", "x₀", "w₁", "x₁", "w₂"]]
    assert all(a > b for a, b in zip(heights, heights[1:])), ys


def test_numbers_are_torchs():
    text = sg.derive(F, WRT, at=AT).render("unicode")
    t = {k: torch.tensor(float(v), dtype=torch.float64, requires_grad=True) for k, v in AT.items()}
    torch.exp(t[w0] * t[x0] - t[w1] * t[x1] - t[w2]).backward()
    for w in WRT:
        name = sp.pretty(w)
        line = next(l for l in text.splitlines() if l.strip().startswith(f"∂f/∂{name} = ∂f/∂u"))
        value = float(line.split("[")[0].rsplit("=", 1)[1].replace("−", "-"))
        assert abs(value - t[w].grad.item()) < 1e-4 * max(1, abs(value)), line
