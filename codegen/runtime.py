"""Loading generated source: a content-addressed cache of modules, written atomically.

A module's file name is the SHA-256 of its source, so the same program compiles once per machine
and two processes never disagree about what a name holds. Files are written to a temporary name and
renamed into place (``os.replace`` is atomic), so a reader never sees half a file. A cached file
whose content no longer hashes to its name (a crash, a disk error, a person's edit) is rewritten
from the source before it is imported.

The cache lives in ``$SYMGRAD_CACHE`` or ``~/.cache/symgrad``; when that is not writable the module
is built in memory.

>>> mod = load("def f():\\n    return 42\\n")
>>> mod.f()
42
"""
from __future__ import annotations

import hashlib
import importlib.util
import linecache
import os
import types

from symgrad.compiling.files import atomic_write

_LOADED: dict[str, types.ModuleType] = {}


def cache_dir() -> str:
    return os.environ.get("SYMGRAD_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "symgrad")


def digest(source: str) -> str:
    return hashlib.sha256(source.encode("utf-8")).hexdigest()


def cached_path(source: str) -> str | None:
    """The cache file holding ``source``, (re)written when missing or corrupt; None when the cache
    folder cannot be written."""
    key = digest(source)
    path = os.path.join(cache_dir(), f"sg_{key[:40]}.py")
    try:
        with open(path, "rb") as f:
            if hashlib.sha256(f.read()).hexdigest() == key:
                return path
    except OSError:
        pass
    try:
        atomic_write(path, source)      # missing or corrupt: (re)build it
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
        code = compile(source, path, "exec")      # the verified source, not a re-read of the file
    else:
        mod = types.ModuleType(name)
        mod.__file__ = f"<symgrad {key[:16]}>"
        code = compile(source, mod.__file__, "exec")
        # no file to read it back from: keep the text where `inspect.getsource` looks (triton.jit
        # reads each kernel's source that way)
        linecache.cache[mod.__file__] = (len(source), None, source.splitlines(True), mod.__file__)
    exec(code, mod.__dict__)
    _LOADED[key] = mod
    return mod
