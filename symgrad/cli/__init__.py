"""The ``symgrad`` command: ``symgrad derive | check | compile | train | evaluate | predict``.

`main` (in `command`) parses the arguments; each subcommand is a module here (`derive`, `check`,
`compile`, `train`, `evaluate`, `predict`) with ``register(subparsers)``.
Comes last in the pipeline: may import all of symgrad.
"""
from .command import main

__all__ = ["main"]
