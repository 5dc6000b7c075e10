"""Run a generated NumPy module's source, with SciPy or as on a machine without it (a test helper)."""
import pytest


def load_generated(source, scipy: bool, scipy_import: str, scipy_name: str) -> dict:
    """The namespace of ``source`` run. ``scipy`` True: its SciPy import as written (the test is
    skipped where SciPy is not installed: it is no dependency of symgrad); False: that import line,
    ``scipy_import``, raises ImportError instead, so the module's NumPy fallbacks run. Either way the
    name ``scipy_name`` the import binds is checked to be SciPy's (or None) as meant."""
    if scipy:
        pytest.importorskip("scipy")
    else:
        assert scipy_import in source, f"the module no longer imports SciPy as {scipy_import!r}"
        source = source.replace(scipy_import, "raise ImportError")
    ns = {}
    exec(compile(source, "<generated>", "exec"), ns)
    assert (ns[scipy_name] is None) is not scipy
    return ns
