"""Subcommands of the ``symgrad`` console script, one module each (see symgrad/cli.py)."""
