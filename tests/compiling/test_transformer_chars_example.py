"""examples/train_transformer_chars.py, reduced (one layer, fewer epochs): `sg.train` of the compiled
character-level transformer lowers the next-token loss well below the uniform guess, and its greedy
sample continues the text."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent.parent


def _example():
    spec = importlib.util.spec_from_file_location("train_transformer_chars",
                                                  ROOT / "examples" / "train_transformer_chars.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_char_transformer_loss_drops():
    ex = _example()
    before, after, history, program, values, chars = ex.run(epochs=25, layers=1, progress=False)
    assert len(chars) < 30
    assert abs(before - np.log(len(chars))) < 0.2          # GPT-2's small init: about the uniform guess
    assert after < 0.35 * before, (before, after)
    assert history.step == 25 * 3                          # 45 windows, minibatches of 16
    text = ex.sample(program, values, chars, 8, start="the quic", n=6)
    assert text.startswith("the quick")                    # 'k' after "the quic": no other choice in the text


def test_every_layer_norm_gain_starts_at_one():
    """GPT-2's init: each layer's gains (ln1_g0, ln2_g0, ...) start at 1, not only the final lnf_g —
    a gain of 0 silences its block (every GELU input 0, attention uniform), as the benches found."""
    ex = _example()
    _, _, params, _ = ex.gpt(V=20, layers=2)
    values = ex.init(params)
    gains = [p.name for p in params if p.name.rstrip("0123456789").endswith("_g")]
    assert len(gains) == 5                                 # two per layer and the final one
    for name in gains:
        np.testing.assert_array_equal(values[name], 1.0, err_msg=name)
