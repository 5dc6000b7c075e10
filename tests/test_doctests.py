"""The docstring examples of every symgrad module run as tests (as ``pytest --doctest-modules symgrad``
would), so that plain ``pytest tests`` keeps them true."""
from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import codegen
import symgrad

MODULES = sorted(m.name for m in pkgutil.walk_packages(symgrad.__path__, "symgrad.")
                 if not m.name.endswith("__main__"))
# codegen's too: two of its docstrings had drifted from the printers unnoticed (2026-12-01)
CODEGEN = sorted(m.name for m in pkgutil.walk_packages(codegen.__path__, "codegen.")
                 if not m.name.endswith("__main__"))


@pytest.mark.parametrize("name", ["symgrad"] + MODULES + CODEGEN)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS, verbose=False, report=True)
    assert result.failed == 0, f"{result.failed} of {result.attempted} docstring examples in {name} fail"
