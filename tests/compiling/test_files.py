"""atomic_write: whole or not at all, under the umask, and an interrupt (Ctrl-C) at any point of it
propagates as itself — never as a missing temporary file — and leaves no temporary file behind."""
import os
import stat

import numpy as np
import pytest

from symgrad.compiling import files
from symgrad.compiling.files import atomic_write, unwritable
from symgrad.compiling.training import load, save


@pytest.fixture
def umask():
    """Set the umask for a test; the old one is restored after it."""
    old = os.umask(0o022)
    yield os.umask
    os.umask(old)


@pytest.mark.parametrize("mask,mode", [(0o022, 0o644), (0o027, 0o640), (0o002, 0o664), (0o077, 0o600)])
def test_saved_files_get_the_permissions_the_umask_allows(mask, mode, umask, tmp_path):
    umask(mask)
    atomic_write(tmp_path / "a.txt", "text")
    save(tmp_path / "ck.npz", {"w": np.ones(2)})
    with open(tmp_path / "plain.txt", "w") as f:      # what open() gives: the reference
        f.write("x")
    for name in ("a.txt", "ck.npz", "plain.txt"):
        assert stat.S_IMODE(os.stat(tmp_path / name).st_mode) == mode, name
    assert os.umask(mask) == mask                     # atomic_write left the umask as it was


def test_replaces_an_existing_file(tmp_path):
    atomic_write(tmp_path / "f", "old")
    atomic_write(tmp_path / "f", b"new")
    assert (tmp_path / "f").read_bytes() == b"new" and os.listdir(tmp_path) == ["f"]


class Interrupt(BaseException):
    """Stands for KeyboardInterrupt (raised by a SIGINT handler at any bytecode)."""


def _interrupt(*args, **kwargs):
    raise Interrupt


def test_interrupt_while_writing_keeps_the_old_file(tmp_path):
    atomic_write(tmp_path / "f", "old")

    def write(f):
        f.write(b"half of the ne")
        raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        atomic_write(tmp_path / "f", write)
    assert (tmp_path / "f").read_text() == "old" and os.listdir(tmp_path) == ["f"]


@pytest.mark.parametrize("where", ["before the file is created", "before the rename", "after the rename"])
def test_interrupt_at_any_point_is_not_reported_as_a_missing_temp_file(where, tmp_path, monkeypatch):
    atomic_write(tmp_path / "f", "old")
    real_open, real_replace = os.open, os.replace
    if where == "before the file is created":
        monkeypatch.setattr(files.os, "open", _interrupt)
    elif where == "before the rename":
        monkeypatch.setattr(files.os, "replace", _interrupt)
    else:
        def replace_then_interrupt(src, dst):
            real_replace(src, dst)
            raise Interrupt
        monkeypatch.setattr(files.os, "replace", replace_then_interrupt)
    with pytest.raises(Interrupt) as e:
        atomic_write(tmp_path / "f", "new")
    assert e.value.__context__ is None                   # nothing raised on top of it either
    monkeypatch.setattr(files.os, "open", real_open)
    monkeypatch.setattr(files.os, "replace", real_replace)
    assert (tmp_path / "f").read_text() == ("new" if where == "after the rename" else "old")
    assert os.listdir(tmp_path) == ["f"]


def test_an_interrupted_checkpoint_save_leaves_the_last_one_loadable(tmp_path, monkeypatch):
    save(tmp_path / "ck.npz", {"w": np.ones(3)}, step=1)
    monkeypatch.setattr(np, "savez", lambda f, **arrays: (f.write(b"PK\x03\x04"), _interrupt()))
    with pytest.raises(Interrupt):
        save(tmp_path / "ck.npz", {"w": np.zeros(3)}, step=2)
    assert load(tmp_path / "ck.npz").step == 1 and os.listdir(tmp_path) == ["ck.npz"]


def test_unwritable_says_why(tmp_path):
    (tmp_path / "file").write_text("")
    assert unwritable(tmp_path / "new" / "ck.npz") is None and (tmp_path / "new").is_dir()
    assert unwritable(tmp_path) == "it is a directory"
    assert "cannot be written" in unwritable(tmp_path / "file" / "ck.npz")
    assert sorted(os.listdir(tmp_path)) == ["file", "new"] and os.listdir(tmp_path / "new") == []


def test_the_umask_is_never_changed_on_the_way(tmp_path, monkeypatch):
    """Reading the umask means setting it (os.umask(0), then back): a Ctrl-C or another thread in
    between would see 0. The temporary file is created with mode 0o666 and the kernel applies the
    umask instead."""
    def umask(mask):
        raise AssertionError("atomic_write called os.umask")
    monkeypatch.setattr(files.os, "umask", umask)
    atomic_write(tmp_path / "f", "x")
    assert (tmp_path / "f").read_text() == "x"


def test_a_device_or_fifo_is_written_in_place_not_replaced(tmp_path):
    # "-o /dev/null" renamed a regular file over the device node (as root: /dev/null destroyed); a
    # FIFO stands in for the device here, so the test needs no root and touches nothing outside
    import stat
    import threading
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(open(fifo, "rb").read()), daemon=True)
    reader.start()
    atomic_write(str(fifo), "through the pipe")
    replaced = not stat.S_ISFIFO(os.stat(fifo).st_mode)
    if replaced:                               # unblock the reader, still waiting on the old FIFO
        os.unlink(fifo)
    reader.join(10)
    assert not replaced, "the FIFO was replaced by a regular file"
    assert got == [b"through the pipe"]


def test_a_symlink_is_followed(tmp_path):
    target = tmp_path / "real.txt"
    target.write_text("old")
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    atomic_write(str(link), "new")
    assert link.is_symlink() and target.read_text() == "new"
