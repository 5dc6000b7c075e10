"""Output piped into a reader that stops early (``symgrad check ... | head -1``): the command ends
quietly, as a Unix tool killed by SIGPIPE does — exit 141 (128 + SIGPIPE), nothing on stderr, no
'BrokenPipeError' traceback or 'Exception ignored' line. The reader is gone before the command
writes (the read end of the pipe is closed before it starts), so the test does not race ``head``.
"""
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHECK = ["check", "0.5*(y - w*x)**2", "--wrt", "w", "--claimed", "-(y - w*x)*x"]


def _into_closed_pipe(args, buffered):
    read, write = os.pipe()
    os.close(read)                            # the reader has already gone
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONUNBUFFERED")}
    env["PYTHONPATH"] = ROOT
    if not buffered:                          # each print reaches the pipe at once
        env["PYTHONUNBUFFERED"] = "1"
    try:
        return subprocess.run([sys.executable, "-m", "symgrad", *args], stdout=write,
                              stderr=subprocess.PIPE, text=True, env=env, timeout=120)
    finally:
        os.close(write)


@pytest.mark.parametrize("buffered", [True, False], ids=["buffered", "unbuffered"])
def test_check_into_a_closed_pipe_ends_quietly(buffered):
    r = _into_closed_pipe(CHECK, buffered)
    assert r.stderr == "", r.stderr
    assert r.returncode == 141


def test_version_into_a_closed_pipe_ends_quietly():
    # --version and --help are written by argparse and flushed only when the command ends
    r = _into_closed_pipe(["--version"], buffered=True)
    assert r.stderr == "" and r.returncode == 141, (r.returncode, r.stderr)


def test_an_error_with_stderr_closed_too_ends_quietly():
    # ``symgrad check ... 2>&1 | head -1``: the error message itself meets the closed pipe
    read, write = os.pipe()
    os.close(read)
    env = dict(os.environ, PYTHONPATH=ROOT)
    try:
        r = subprocess.run([sys.executable, "-m", "symgrad", "check", "x**", "--wrt", "x",
                            "--claimed", "1"], stdout=write, stderr=write, env=env, timeout=120)
    finally:
        os.close(write)
    assert r.returncode == 141
