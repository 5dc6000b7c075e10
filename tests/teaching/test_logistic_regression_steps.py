"""Logistic regression as the perceptron slides derive it: L = −(y·log ŷ + (1 − y)·log(1 − ŷ)),
ŷ = σ(w·x + b). Two things read wrong (2026-12-01, twelfth session):

- ŷ feeds log(ŷ) and 1 − ŷ, two paths that differ only in unnamed u's; ∂L/∂b was written
  ∂L/∂ŷ · ∂ŷ/∂z · ∂z/∂b + ∂L/∂ŷ · ∂ŷ/∂z · ∂z/∂b — one path twice, which as written is twice the
  gradient;
- δ = ∂L/∂z was left as ŷ·(1 − ŷ)·(−y/ŷ − (y − 1)/(1 − ŷ)), where every slide writes ŷ − y, and
  ∂L/∂w = x·(ŷ − y).

The expected lines are written by hand; the values are checked against sympy.diff."""
import re

import sympy as sp

import symgrad as sg

w, x, b, y, yh = sp.symbols("w x b y yhat")
AT = {w: 0.5, x: 2, b: -0.5, y: 1}
LOSS = -(y * sp.log(sg.sigmoid(w * x + b)) + (1 - y) * sp.log(1 - sg.sigmoid(w * x + b)))


def _text():
    return sg.derive(LOSS, [w, b], names={yh: sg.sigmoid(w * x + b)}, output_name="L", at=AT).render("unicode")


def _line(text, head):
    return next(l.strip() for l in text.splitlines() if l.strip().startswith(head))


def _value(line):
    return float(re.split(r" = ", line.split("    [")[0])[-1].replace("−", "-"))


def _oracle(p):
    plain = LOSS.subs(sg.sigmoid(w * x + b), 1 / (1 + sp.exp(-(w * x + b))))
    return float(sp.diff(plain, p).subs(AT))


def test_one_path_through_the_fan_out_is_written_once():
    text = _text()
    step = _line(text, "∂L/∂b =")
    assert step.count("∂L/∂ŷ · ∂ŷ/∂z · ∂z/∂b") == 1, step
    assert abs(_value(step) - _oracle(b)) < 1e-3, step
    step_w = _line(text, "∂L/∂w =")
    assert step_w.count("∂ŷ/∂z") == 1 and abs(_value(step_w) - _oracle(w)) < 1e-3, step_w


def test_delta_is_y_hat_minus_y():
    text = _text()
    assert "= ŷ − y = " in _line(text, "∂L/∂z ="), text
    grad = text.split("Gradient:")[1]
    assert "  ∂L/∂w = x·(ŷ − y) = " in grad and "  ∂L/∂b = ŷ − y = " in grad, grad
    assert abs(_value(_line(grad, "∂L/∂w")) - _oracle(w)) < 1e-3


def test_a_fraction_that_stays_is_left_as_the_chain_rule_built_it():
    text = _text()
    assert "∂L/∂ŷ = " in text and "= −y/ŷ − (y − 1)/(1 − ŷ) = " in _line(text, "∂L/∂ŷ ="), text


def test_forward_mode_reads_the_same_closed_form():
    # forward mode's tangents summed to ŷ·(1 − y) − y·(1 − ŷ): its ŷ·y terms cancel, as reverse mode's
    text = sg.derive(LOSS, [w, b], names={yh: sg.sigmoid(w * x + b)}, output_name="L", at=AT,
                     mode="forward").render("unicode")
    grad = text.split("Gradient:")[1]
    assert "  ∂L/∂w = x·(ŷ − y) = " in grad and "  ∂L/∂b = ŷ − y = " in grad, grad
    assert abs(_value(_line(grad, "∂L/∂b")) - _oracle(b)) < 1e-3
