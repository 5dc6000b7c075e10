"""The ``symgrad`` command: ``symgrad derive | check | compile | train | evaluate | predict``.

Each subcommand lives in ``symgrad/cli/<name>.py`` and defines ``register(subparsers)``, which
adds its parser and sets ``func`` (returning the exit code). The command never shows a traceback:
bad input, a file that cannot be read or written, and even an error of symgrad's own are one line
on stderr and exit 2; Ctrl-C is one line and exit 130 (128 + SIGINT, as shells report it). Output
piped into a reader that stops early (``symgrad check ... | head -1``) ends the command quietly with
exit 141 (128 + SIGPIPE), the status a Unix tool killed by SIGPIPE gets.
"""
from __future__ import annotations

import argparse
import contextlib
import difflib
import importlib
import math
import os
import re
import sys
import warnings

from ..errors import SymgradError

COMMANDS = ["derive", "check", "compile", "train", "evaluate", "predict"]
EPILOG = """examples:
  symgrad derive "sigmoid(w*x + b)" --wrt w
  symgrad check "x**2*y" --wrt x --claimed "2*x*y"
  symgrad compile model.py -o step.py
  symgrad train model.py --data train.csv --validation-split 0.2 --checkpoint ck.npz
  symgrad evaluate model.py ck.npz --data test.csv
  symgrad predict model.py ck.npz --data new.csv -o predictions.csv

A model file (MODEL.py, of compile, train, evaluate and predict) is Python and is run: only pass
files you trust. Every other argument is data, parsed and never evaluated. An error is one line on
stderr with exit status 2; Ctrl-C exits 130. Run symgrad COMMAND --help for a command's arguments,
its exit statuses and more examples."""
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141            # 128 + SIGPIPE


def one_line(text) -> str:
    """``text`` on one line: newlines become " | ", other control characters are escaped (a symbol
    name may hold any character, and an error message may quote it)."""
    lines = [ln.strip() for ln in str(text).splitlines() if ln.strip()]
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in " | ".join(lines))


class Parser(argparse.ArgumentParser):
    """argparse, with its usage errors as one line (and a pointer to --help) instead of the usage
    block; the exit code stays argparse's 2."""

    def error(self, message):
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {one_line(message)}{_closest_choice(message)} "
                                  f"(see {self.prog} --help)\n")

    def _parse_optional(self, arg_string):
        """An argument that starts with one '-' and is no option of the command is an expression,
        not an unknown option: ``--claimed -2*x``, ``symgrad check -x**2 ...`` (argparse itself takes
        only negative numbers, and text with a space, for values; ``--claimed=-2*x`` always works)."""
        if (arg_string[:1] == "-" and arg_string[1:2] not in ("", "-")
                and arg_string[:2] not in self._option_string_actions):
            return None
        return super()._parse_optional(arg_string)


def _closest_choice(message: str) -> str:
    """'; did you mean 'train'?' for argparse's "invalid choice: 'trian' (choose from ...)", else ""."""
    m = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
    if not m:
        return ""
    close = difflib.get_close_matches(m.group(1).lower(), re.findall(r"'([^']*)'", m.group(2)), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _unknown_options(parser, argv) -> argparse.Namespace:
    """The args of ``parser.parse_known_args(argv)``; an argument left over (a misspelled option,
    ``--validaton``) is refused by that command's parser, naming the closest option; it was "symgrad:
    error: unrecognized arguments: --validaton val.npz (see symgrad --help)", the top level's words."""
    args, extra = parser.parse_known_args(argv)
    if not extra:
        return args
    sub = next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)
    own = sub.choices.get(getattr(args, "command", None)) if sub is not None else None
    if own is None:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    from ..compiling.options_elsewhere import COMMAND_ELSEWHERE
    elsewhere = COMMAND_ELSEWHERE.get(getattr(args, "command", None), {})
    hints = []
    for word in extra:
        if word.split("=", 1)[0] in elsewhere:        # another tool's option: where this command has it
            hints.append(f"{word.split('=', 1)[0]}: {elsewhere[word.split('=', 1)[0]]}")
        elif word.startswith("--"):
            close = difflib.get_close_matches(word.split("=", 1)[0], list(own._option_string_actions), n=1,
                                              cutoff=0.6)
            if close:
                hints.append(f"{word.split('=', 1)[0]}: did you mean {close[0]}?")
    own.error(f"unrecognized arguments: {' '.join(extra)}" + (f" ({'; '.join(hints)})" if hints else ""))


def int_at_least(least: int):
    """An argparse type: an integer ``>= least``, refused as argparse refuses a type (naming the
    option, before any work: ``--epochs -1`` was refused after compiling the model, and ``--seed
    -5`` as NumPy's 'expected non-negative integer', naming no option)."""
    def read(text):
        try:
            n = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer >= {least}, got {text!r}") from None
        if n < least:
            raise argparse.ArgumentTypeError(f"expected an integer >= {least}, got {n}")
        return n
    read.__name__ = f"integer >= {least}"
    return read


def finite_at_least(least: float):
    """An argparse type: a finite number ``>= least`` (``--lr nan`` was refused after the model
    file ran, as "invalid lr=nan", sg.optim's keyword rather than the option)."""
    def read(text):
        try:
            x = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number >= {least:g}, got {text!r}") from None
        if not math.isfinite(x) or x < least:
            raise argparse.ArgumentTypeError(f"expected a finite number >= {least:g}, got {text}")
        return x
    read.__name__ = f"number >= {least:g}"
    return read


def plain(text):
    """Help text as a terminal shows it: the reST markup of the docstrings it comes from dropped
    (````code````, ```name```, a paragraph's closing ``::``).

    >>> plain("The ``symgrad`` command reads `MODEL.py`; for example::")
    'The symgrad command reads MODEL.py; for example:'
    """
    if not text:
        return text
    text = re.sub(r"``(.+?)``", r"\1", text)
    text = re.sub(r"`([^`\n]+)`", r"\1", text)
    return re.sub(r"::$", ":", text, flags=re.MULTILINE)


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__
    parser = Parser(prog="symgrad", description=plain(__doc__.splitlines()[0]),
                    formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EPILOG)
    parser.add_argument("--version", action="version", version=f"symgrad {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for name in COMMANDS:
        importlib.import_module(f"symgrad.cli.{name}").register(sub)
    for p in sub.choices.values():     # the subcommands' texts come from docstrings: no markup
        p.description, p.epilog = plain(p.description), plain(p.epilog)
        for a in p._actions:
            a.help = plain(a.help)
    return parser


def _file_error(e: OSError) -> str:
    """An OSError as the file and what went wrong with it: 'cannot open out/: Is a directory'."""
    what = e.strerror or type(e).__name__
    name = e.filename if e.filename is not None else ""
    return f"cannot use {name!s}: {what}" if name else f"{what}: {e}"


def main(argv=None) -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``) and return its exit status.

    >>> main(["check", "x**2", "--wrt", "x", "--claimed", "2*x"])
    equal.
    ...
    0
    """
    try:
        code = _run(argv)
        sys.stdout.flush()                    # a pipe closed early shows here, not at exit
        return code
    except BrokenPipeError:
        _quiet_after_broken_pipe()
        return EXIT_BROKEN_PIPE


def _quiet_after_broken_pipe() -> None:
    """The reader of our output has gone (``| head -1``): point stdout and stderr at /dev/null, so
    that the interpreter's own flush at exit finds nothing to complain about (Python ignores
    SIGPIPE and would print 'Exception ignored ... BrokenPipeError' instead of dying quietly)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    for stream in (sys.stdout, sys.stderr):
        try:
            os.dup2(devnull, stream.fileno())
        except (AttributeError, OSError, ValueError):   # a stream without a file descriptor
            pass
    os.close(devnull)


@contextlib.contextmanager
def _warnings_as_lines(prog):
    """A warning while the command runs (sg.compile's NoGradientWarning, a schedule that ends before
    training does) as one line on stderr, ``symgrad train: warning: ...``, not Python's two: the file
    and line inside symgrad that issued it, and that line's source."""
    def show(message, category, filename, lineno, file=None, line=None):
        print(f"{prog}: warning: {one_line(message)} ({category.__name__})", file=sys.stderr)
    with warnings.catch_warnings():
        warnings.showwarning = show
        yield


def _run(argv) -> int:
    parser = build_parser()
    try:
        args = _unknown_options(parser, argv)
    except SystemExit as e:                   # --help, or a usage error already printed
        return int(e.code or 0) if isinstance(e.code, int) else EXIT_BAD_INPUT
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_BAD_INPUT
    prog = f"symgrad {args.command}"
    try:
        with _warnings_as_lines(prog):
            return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except SystemExit as e:                   # not the command's own: it returns its exit code
        print(f"{prog}: error: SystemExit({e.code!r}) raised while running the command (a model file "
              f"calling sys.exit?)", file=sys.stderr)
    except BrokenPipeError:                   # our reader has gone: main ends quietly
        raise
    except (SymgradError, ValueError, TypeError, SyntaxError) as e:
        print(f"{prog}: error: {one_line(e)}", file=sys.stderr)
    except OSError as e:                      # a file that cannot be read or written
        print(f"{prog}: error: {one_line(_file_error(e))}", file=sys.stderr)
    except RecursionError:
        print(f"{prog}: error: the expression is nested too deeply to handle", file=sys.stderr)
    except Exception as e:  # noqa: BLE001 - the command's contract: no traceback, ever
        print(f"{prog}: internal error: {type(e).__name__}: {one_line(e)} — this is a bug in symgrad; "
              f"please report it with the command line that caused it", file=sys.stderr)
    return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
