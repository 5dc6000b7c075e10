"""Running `symgrad check` in-process for the CLI tests: (exit status, stdout, stderr)."""
from __future__ import annotations

from symgrad.cli import main


def run(capsys, *argv):
    code = main(["check", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err
