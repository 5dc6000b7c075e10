"""The test session's environment, set before anything imports triton or compiles a program."""
import os
import tempfile

# Property tests draw the same examples on every run (CI must not go red by chance, nor spend
# minutes shrinking a new find); HYPOTHESIS_PROFILE=explore draws new ones, for a fuzzing session.
from hypothesis import settings as _hsettings

_hsettings.register_profile("repeatable", derandomize=True)
_hsettings.register_profile("explore", derandomize=False)
_hsettings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

# Generated modules go to a private cache folder per test session, not the user's home.
os.environ.setdefault("SYMGRAD_CACHE", tempfile.mkdtemp(prefix="symgrad-test-cache-"))


def _has_cuda() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


# Without a GPU the Triton kernels run on the CPU through Triton's interpreter; it must be chosen
# before triton is imported (the generated modules import it when a program is compiled).
if not _has_cuda():
    os.environ.setdefault("TRITON_INTERPRET", "1")
# On a GPU, one configuration per kernel: the tests check numbers, autotuning would only time them.
os.environ.setdefault("SYMGRAD_TRITON_AUTOTUNE", "0")
