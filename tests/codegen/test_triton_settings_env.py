"""The Triton target's settings from the environment (``SYMGRAD_TRITON_*``) are checked when read:
a value outside what they take is refused by name, never pasted into the generated module (whose
text is then run). The trust review of the twelfth session ran a shell command through
SYMGRAD_TRITON_DOT_PRECISION. Each case runs in a fresh interpreter, as the settings are read when
`codegen.triton_settings` is first imported."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("triton")

ROOT = Path(__file__).resolve().parents[2]

COMPILE = """
import sympy as sp, symgrad as sg
N = sp.Symbol("N", integer=True, positive=True)
W, x = sg.tensor("W", (3, 2)), sg.tensor("x", (N, 3))
try:
    sg.compile(sg.mean((x @ W) ** 2), [W], [x], target="triton")
except sg.SymgradError as e:
    print("REFUSED", type(e).__name__, e)
else:
    print("COMPILED")
"""


def _run(tmp_path, **env):
    full = dict(os.environ, PYTHONPATH=str(ROOT), TRITON_INTERPRET="1", SYMGRAD_CACHE=str(tmp_path / "cache"),
                **env)
    r = subprocess.run([sys.executable, "-c", COMPILE], cwd=tmp_path, env=full, capture_output=True, text=True,
                       timeout=300)
    return r.stdout + r.stderr


def test_a_precision_that_is_code_is_refused_and_never_run(tmp_path):
    marker = tmp_path / "ran"
    payload = f'ieee" if open({str(marker)!r}, "w") else "ieee'
    out = _run(tmp_path, SYMGRAD_TRITON_DOT_PRECISION=payload)
    assert not marker.exists(), out
    assert "REFUSED ArgumentError" in out and "SYMGRAD_TRITON_DOT_PRECISION" in out, out
    assert "'ieee', 'tf32', 'tf32x3' or 'bf16'" in out, out


def test_a_known_precision_from_the_environment_compiles(tmp_path):
    out = _run(tmp_path, SYMGRAD_TRITON_DOT_PRECISION="tf32")
    assert "COMPILED" in out, out


@pytest.mark.parametrize("name", ["SYMGRAD_TRITON_FUSE_ROWS", "SYMGRAD_TRITON_RELOAD_GAP",
                                  "SYMGRAD_TRITON_REGISTER_K", "SYMGRAD_TRITON_SELECTION_SLICES",
                                  "SYMGRAD_TRITON_SELECTION_PICKS"])
def test_a_setting_that_is_not_a_whole_number_is_named(tmp_path, name):
    out = _run(tmp_path, **{name: "sixty-four"})
    assert "REFUSED ArgumentError" in out and name in out and "'sixty-four'" in out, out
    assert "whole number" in out, out
