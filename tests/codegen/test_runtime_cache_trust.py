"""The generated-module cache (codegen/runtime.py) is a folder others may reach: a link planted
under a module's name is not followed, the text that runs and the text `inspect.getsource` reads
(what triton.jit compiles) are the generated source whatever happens to the file afterwards, and a
folder others can write in is not used."""
from __future__ import annotations

import inspect
import linecache
import os

import pytest

from codegen import runtime


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("SYMGRAD_CACHE", str(folder))
    monkeypatch.setattr(runtime, "_LOADED", {})
    monkeypatch.setattr(runtime, "_WARNED", set(), raising=False)
    return folder


def test_a_missing_cache_folder_is_made_private(cache):
    runtime.load("A = 1\n")
    assert cache.is_dir() and (cache.stat().st_mode & 0o777) == 0o700


def test_a_link_planted_under_a_module_name_is_replaced_not_followed(cache, tmp_path):
    # Before: atomic_write followed the link (realpath) and overwrote its target with the module
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    source = "def f():\n    return 42\n"
    cache.mkdir(mode=0o700)
    planted = cache / f"sg_{runtime.digest(source)[:40]}.py"
    planted.symlink_to(victim)
    assert runtime.load(source).f() == 42
    assert victim.read_text() == "precious\n"
    assert not planted.is_symlink() and planted.read_text() == source


def test_getsource_reads_the_generated_text_not_a_swapped_file(cache):
    # Before: the module ran the checked text, but inspect.getsource re-read the cache file
    source = "def g():\n    return 1\n"
    mod = runtime.load(source)
    with open(mod.__file__, "w") as f:
        f.write("def g():\n    return 'swapped'\n")
    linecache.checkcache()
    assert mod.g() == 1
    assert inspect.getsource(mod.g) == source


@pytest.mark.parametrize("why", ["others may write in it", "it belongs to another user"])
def test_a_folder_others_control_is_not_used(cache, monkeypatch, why):
    cache.mkdir(mode=0o700)
    if why == "others may write in it":
        os.chmod(cache, 0o777)
    else:
        uid = cache.stat().st_uid
        monkeypatch.setattr(os, "geteuid", lambda: uid + 1)
    with pytest.warns(RuntimeWarning, match=f"module cache {cache} is not used \\({why}.*built in memory"):
        mod = runtime.load("def h():\n    return 7\n")
    assert mod.h() == 7 and inspect.getsource(mod.h) == "def h():\n    return 7\n"
    assert list(cache.iterdir()) == []
