"""The ```python examples of the README and docs/ run as a user pastes them.

A doc example that names something undefined (a batch X never built), calls train without the
values it needs, or reuses a name an earlier block rebound, fails here. Blocks of a page run in
order in one namespace (as the README says its blocks do), in a fresh folder (examples save files).
Pages whose examples need a GPU (triton.md), the graphviz binary (teaching.md) or are doctests
(optimizers.md) are left to their own tests.
"""
import os
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = ["README.md", "docs/layers.md", "docs/checking.md", "docs/training.md", "docs/compile.md"]


def python_blocks(text):
    """(line, code) of each ```python block that is not a doctest."""
    return [(text[:m.start()].count("\n") + 2, m.group(1))
            for m in re.finditer(r"```python\n(.*?)```", text, re.S)
            if not m.group(1).lstrip().startswith(">>>")]


def test_python_blocks_are_found():
    blocks = python_blocks((ROOT / "docs/layers.md").read_text(encoding="utf-8"))
    assert len(blocks) >= 2 and "sg.tensor" in blocks[0][1]


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES)
def test_page_examples_run(page, tmp_path, monkeypatch):
    pytest.importorskip("sklearn")                  # the training examples load its digits
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))      # compile.md imports the module it saved
    text = (ROOT / page).read_text(encoding="utf-8")
    ns = {"__name__": "__doc_example__"}
    blocks = python_blocks(text)
    assert blocks, f"{page} has no python examples"
    for line, code in blocks:
        try:
            exec(compile(code, f"{page}:{line}", "exec"), ns)
        except Exception as e:                      # name the block: the traceback's file is the page
            pytest.fail(f"{page}, the example at line {line}: {type(e).__name__}: {e}")
