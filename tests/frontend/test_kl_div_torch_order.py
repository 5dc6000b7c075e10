"""torch's F.kl_div(input, target) takes log q first and the target second; sg.kl_div(p, q) takes two
distributions, the target first. The torch order written with symgrad's function was a silent NaN
loss (the log of a log-probability); now it is an ArgumentError that gives the translation, and so
is torch's log_target= (2026-11-30, eighth session)."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symgrad as sg

N = sp.Symbol("N", integer=True, positive=True)
s, t = sg.tensor("s", (N, 3)), sg.tensor("t", (N, 3))


@pytest.mark.parametrize("build, named", [
    (lambda: sg.kl_div(sg.log_softmax(s, axis=-1), sg.softmax(t, axis=-1), reduction="batchmean"), "p = log_softmax"),
    (lambda: sg.kl_div(sg.softmax(s, axis=-1).log(), t), "p = log(softmax"),
    (lambda: sg.kl_div(sg.softmax(t, axis=-1), sg.log_softmax(s, axis=-1)), "q = log_softmax"),
    (lambda: sg.kl_div(sg.softmax(s, axis=-1), sg.softmax(t, axis=-1), log_target=True), "log_target="),
])
def test_torch_order_is_refused_with_the_translation(build, named):
    with pytest.raises(sg.ArgumentError) as e:
        build()
    msg = str(e.value)
    assert named in msg and "sg.kl_div(p, sg.softmax(s, axis=-1))" in msg and "target first" in msg


def test_symgrads_order_is_torchs_value():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    vals = {"s": rng.normal(size=(4, 3)), "t": rng.normal(size=(4, 3))}
    ours = sg.numeric(sg.kl_div(sg.softmax(t, axis=-1), sg.softmax(s, axis=-1)), vals)
    S, Tt = torch.tensor(vals["s"]), torch.tensor(vals["t"])
    want = torch.nn.functional.kl_div(S.log_softmax(-1), Tt.log_softmax(-1), reduction="batchmean", log_target=True)
    assert abs(ours - want.item()) < 1e-14


def test_torch_dim_keyword_names_axis():
    with pytest.raises(sg.ArgumentError, match="did you mean 'axis'"):
        sg.kl_div(s, t, dim=1)
