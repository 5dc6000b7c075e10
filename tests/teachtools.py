"""Helpers for tests that need an outside program (pdflatex, Graphviz's dot): in CI (CI=true) a
missing tool is a failure, elsewhere the test is skipped."""
import os
import shutil

import pytest


def need(tool: str) -> str:
    path = shutil.which(tool)
    if path:
        return path
    msg = f"{tool} is not installed (apt-get install {'graphviz' if tool == 'dot' else 'texlive-latex-base'})"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(msg + " — CI must have it")
    pytest.skip(msg)


def compile_latex(tmp_path, name: str, tex: str):
    """``tex`` (a whole document) written to tmp_path/name.tex and compiled by pdflatex (`need`);
    the PDF's path. Fails with the end of pdflatex's log where it does not compile."""
    import subprocess
    (tmp_path / f"{name}.tex").write_text(tex)
    r = subprocess.run([need("pdflatex"), "-interaction=nonstopmode", "-halt-on-error", f"{name}.tex"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-2000:]
    return tmp_path / f"{name}.pdf"


# -- cases several teaching tests draw or print ------------------------------------------------------

def small_cnn():
    """(Derivation, values) of a conv 3×3 → relu → max pool 2×2 → ½‖· − t‖² on one 6×6 image."""
    import numpy as np

    import symgrad as sg
    x, w, b, t = (sg.tensor("x", (1, 1, 6, 6)), sg.tensor("w", (2, 1, 3, 3)), sg.tensor("b", (2,)),
                  sg.tensor("t", (1, 2, 2, 2)))
    rng = np.random.default_rng(0)
    at = {x: rng.normal(size=(1, 1, 6, 6)), w: rng.normal(size=(2, 1, 3, 3)), b: np.array([0.1, -0.1]),
          t: rng.normal(size=(1, 2, 2, 2))}
    return sg.derive(sg.sum((sg.max_pool2d(sg.relu(sg.conv2d(x, w, b)), 2) - t) ** 2) / 2, [w, b]), at


def bn_mlp_example(widths=(8, 6, 5, 3)):
    """(loss, parameters) of examples/train_bn_digits.py's batch-norm MLP of these widths."""
    import importlib.util
    from pathlib import Path
    spec = importlib.util.spec_from_file_location(
        "train_bn_digits", Path(__file__).resolve().parents[1] / "examples" / "train_bn_digits.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    loss, _, params, _ = mod.bn_mlp(list(widths))
    return loss, params
