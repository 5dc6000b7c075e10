"""Fixtures of the codegen tests (the session environment is set in tests/conftest.py)."""
import pytest


@pytest.fixture
def rng():
    import numpy as np
    return np.random.default_rng(1234)
