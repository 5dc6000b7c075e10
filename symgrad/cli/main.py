"""The ``symgrad`` command: ``symgrad derive | check | compile | train``.

Each subcommand lives in ``symgrad/cli/<name>.py`` and defines ``register(subparsers)``, which
adds its parser and sets ``func`` (returning the exit code). Bad input exits 2 with a message, never
a traceback.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from ..errors import SymgradError

COMMANDS = ["derive", "check", "compile", "train"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="symgrad", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"symgrad.cli.{name}").register(sub)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except (SymgradError, ValueError, TypeError, SyntaxError, FileNotFoundError) as e:
        print(f"symgrad {args.command}: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
