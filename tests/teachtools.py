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
