"""Files written whole or not at all: a temporary file in the same folder, then a rename. An
interrupted write leaves the old file as it was; the new file gets the permissions the umask allows
(as ``open`` would give it), not the private 0600 of a temporary file.

>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "out.txt")
>>> atomic_write(path, "hello\\n"); open(path).read()
'hello\\n'
"""
from __future__ import annotations

import os
import tempfile
from typing import Callable, IO, Union


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: str, data: Union[str, bytes, Callable[[IO], None]], *, suffix: str = ".tmp") -> None:
    """Write ``data`` to ``path`` atomically: a str (UTF-8), bytes, or a function that writes to the
    binary file object it is given (``lambda f: np.savez(f, **arrays)``)."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as f:
            if callable(data):
                data(f)
            else:
                f.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
