import os
import tempfile

import pytest

# Generated modules go to a private cache folder per test session, not the user's home.
os.environ.setdefault("SYMGRAD_CACHE", tempfile.mkdtemp(prefix="symgrad-test-cache-"))


@pytest.fixture
def rng():
    import numpy as np
    return np.random.default_rng(1234)
