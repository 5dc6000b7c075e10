"""Loading generated source: a content-addressed cache of modules, written atomically.

A module's file name is the SHA-256 of its source, so the same program compiles once per machine
and two processes never disagree about what a name holds. Files are written to a temporary name and
renamed into place (``os.replace`` is atomic), so a reader never sees half a file. A cached file
whose content no longer hashes to its name (a crash, a disk error, a person's edit) is rewritten
from the source before it is imported.

The cache lives in ``$SYMGRAD_CACHE`` or ``~/.cache/symgrad`` (made 0700). What runs is always the
source symgrad generated, never the file read back: the file only names the module, and its text is
pinned in ``linecache`` so that ``inspect.getsource`` (what ``triton.jit`` and Triton's interpreter
compile) sees the checked text, not a file swapped afterwards. A link planted under a module's name
is replaced, never followed. A folder someone else could write in (another user's, or one that is
group- or world-writable, such as ``/tmp`` itself) is not used: the module is built in memory, with
a warning naming the folder and why; so is it when the folder cannot be written.

>>> mod = load("def f():\\n    return 42\\n")
>>> mod.f()
42
"""
from __future__ import annotations

import hashlib
import importlib.util
import linecache
import os
import stat
import types
import warnings

from symgrad.compiling.files import atomic_write

_LOADED: dict[str, types.ModuleType] = {}


def cache_dir() -> str:
    return os.environ.get("SYMGRAD_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "symgrad")


def digest(source: str) -> str:
    return hashlib.sha256(source.encode("utf-8")).hexdigest()


def unsafe(folder: str) -> str | None:
    """Why the cache ``folder`` is not used (another user's, or writable by others), or None. A
    missing folder is made, readable by its owner only."""
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        st = os.stat(folder)
    except OSError as e:
        return f"it cannot be made ({e.strerror or e})"
    if not stat.S_ISDIR(st.st_mode):
        return "it is not a folder"
    if hasattr(os, "geteuid") and st.st_uid != os.geteuid():
        return f"it belongs to another user (uid {st.st_uid})"
    if st.st_mode & 0o022:
        return (f"others may write in it (mode {stat.S_IMODE(st.st_mode):o}; "
                f"`chmod go-w` it, or point SYMGRAD_CACHE at a folder of your own)")
    return None


_WARNED: set = set()


def cached_path(source: str) -> str | None:
    """The cache file holding ``source``, (re)written when missing or corrupt; None when the cache
    folder cannot be written, or is not safe to use (see `unsafe`)."""
    folder = cache_dir()
    why = unsafe(folder)
    if why is not None:
        if folder not in _WARNED:
            _WARNED.add(folder)
            warnings.warn(f"symgrad: the module cache {folder} is not used ({why}); generated modules "
                          f"are built in memory", RuntimeWarning, stacklevel=3)
        return None
    key = digest(source)
    path = os.path.join(folder, f"sg_{key[:40]}.py")
    try:
        # a link is not followed (ELOOP), and a FIFO does not block the open
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as f:
            if stat.S_ISREG(os.fstat(f.fileno()).st_mode) and hashlib.sha256(f.read()).hexdigest() == key:
                return path
    except OSError:
        pass
    try:
        atomic_write(path, source, follow_links=False)      # missing, corrupt or a link: (re)build it
    except OSError:
        return None
    return path


def load(source: str) -> types.ModuleType:
    """Import the module whose text is ``source`` (through the cache)."""
    key = digest(source)
    mod = _LOADED.get(key)
    if mod is not None:
        return mod
    name = f"symgrad_generated_{key[:16]}"
    path = cached_path(source)
    if path is not None:
        spec = importlib.util.spec_from_file_location(name, path)
        mod = importlib.util.module_from_spec(spec)
    else:
        mod = types.ModuleType(name)
        mod.__file__ = f"<symgrad {key[:16]}>"
    code = compile(source, mod.__file__, "exec")      # the source itself, not a re-read of the file
    # `inspect.getsource` (each triton.jit kernel's source, read while the module runs) reads
    # linecache: pin the source there, so a file swapped after the check is never what is compiled
    # (an entry whose mtime is None is left alone by linecache.checkcache)
    linecache.cache[mod.__file__] = (len(source), None, source.splitlines(True), mod.__file__)
    exec(code, mod.__dict__)
    _LOADED[key] = mod
    return mod
