"""``python -m symgrad.cli.main``: the older spelling of ``python -m symgrad``; both run the command.

The command itself is in `command` (``symgrad.cli.main`` held it once). The package no longer imports
this module, so that running it with ``-m`` finds it unimported (runpy warned "'symgrad.cli.main'
found in sys.modules ... may result in unpredictable behaviour" on every run). Importing it still
works (``from symgrad.cli.main import main, build_parser``), and the module is callable: importing a
submodule sets the package's attribute of its name, so after ``import symgrad.cli.main`` the name
``symgrad.cli.main`` is this module rather than the function, and ``cli.main([...])`` must still run
the command. (Nothing simpler does both: the import system sets that attribute after this module has
run, so the module cannot put the function back; a package without the submodule loses the old
spelling. Looked at again 2026-11-30, tenth session.)
"""
from __future__ import annotations

import sys
import types

from .command import (EXIT_BAD_INPUT, EXIT_BROKEN_PIPE, EXIT_INTERRUPTED, Parser, build_parser,  # noqa: F401
                      finite_at_least, int_at_least, main, one_line, plain)


class _CallableModule(types.ModuleType):
    def __call__(self, argv=None) -> int:
        return main(argv)


if __name__ == "__main__":
    sys.exit(main())
sys.modules[__name__].__class__ = _CallableModule
