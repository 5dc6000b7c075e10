"""Files written whole or not at all: a temporary file in the same folder, then a rename. An
interrupted write (an exception, Ctrl-C) leaves the old file as it was and no temporary file behind;
the new file gets the permissions the umask allows (as ``open`` would give it), not the private 0600
of a ``tempfile.mkstemp`` file.

>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "out.txt")
>>> atomic_write(path, "hello\\n"); open(path).read()
'hello\\n'
>>> unwritable(path) is None, unwritable(os.path.dirname(path))
(True, 'it is a directory')
"""
from __future__ import annotations

import contextlib
import os
import secrets
from typing import Callable, IO, Union


def _create_temp(folder: str, suffix: str) -> tuple[str, int]:
    """A new file in ``folder`` opened for writing: (its path, its descriptor). The kernel applies
    the umask to the 0o666 asked for here, so the file ends with the permissions ``open`` would
    give it — without reading the umask, which would mean setting it (racy across threads, and a
    Ctrl-C between the two calls would leave it changed)."""
    for _ in range(100):
        tmp = os.path.join(folder, f".tmp-{secrets.token_hex(6)}{suffix}")
        try:
            return tmp, os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary file name in {folder}")


def atomic_write(path: str, data: Union[str, bytes, Callable[[IO], None]], *, suffix: str = ".tmp",
                 follow_links: bool = True) -> None:
    """Write ``data`` to ``path`` atomically: a str (UTF-8), bytes, or a function that writes to the
    binary file object it is given (``lambda f: np.savez(f, **arrays)``). The data is flushed to
    disk before the rename, so the file is whole after a crash too.

    A symbolic link is followed (its target is replaced, the link stays); a path that exists and is
    not a regular file (``/dev/null``, a FIFO) is written in place: a rename would replace the
    device node itself with a regular file (as root, ``-o /dev/null`` destroyed /dev/null).

    With ``follow_links=False`` (the generated-module cache, a folder of symgrad's own) nothing at
    ``path`` is followed or written in place: a link or device planted under that name is replaced
    by the new file, and what it pointed at is left alone."""
    if not follow_links:
        _write_and_rename(os.path.abspath(path), data, suffix)
        return
    path = os.path.realpath(path)
    if os.path.exists(path) and not os.path.isfile(path) and not os.path.isdir(path):
        with open(path, "wb") as f:
            if callable(data):
                data(f)
            else:
                f.write(data.encode("utf-8") if isinstance(data, str) else data)
        return
    _write_and_rename(path, data, suffix)


def _write_and_rename(path: str, data, suffix: str) -> None:
    """`atomic_write`'s temporary file and rename (``os.replace`` renames onto the name itself: a
    link there is replaced, never followed)."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp = None
    try:
        tmp, fd = _create_temp(folder, suffix)
        with os.fdopen(fd, "wb") as f:
            if callable(data):
                data(f)
            else:
                f.write(data.encode("utf-8") if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        # An interrupt can land anywhere here, even after the rename took the temporary file away:
        # a missing file is no error to report on top of the one that is propagating.
        if tmp is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        raise


def unwritable(path) -> str | None:
    """Why `atomic_write` cannot write ``path`` (as a phrase), or None when it can: tried by creating
    (and removing) a temporary file in its folder, so a read-only folder or file system is found
    whoever runs it (permission bits alone do not stop root). Creates the folder when it is missing,
    as `atomic_write` would."""
    path = os.fspath(path)
    if os.path.isdir(path):
        return "it is a directory"
    folder = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as e:
        return f"its folder {folder} cannot be written ({e.strerror or e})"
    why = folder_unwritable(folder)
    return None if why is None else f"its folder {folder} cannot be written ({why})"


def folder_unwritable(folder) -> str | None:
    """Why no file can be created in the existing ``folder`` (the OSError's words), or None: tried by
    creating and removing a temporary file there (a read-only mount, /proc, are found so, and
    permission bits do not stop root)."""
    try:
        tmp, fd = _create_temp(folder, ".probe")
    except OSError as e:
        return str(e.strerror or e)
    os.close(fd)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(tmp)
    return None
