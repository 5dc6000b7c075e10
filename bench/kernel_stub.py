"""The kernels of a compiled Triton program replaced by stubs that count their launches: what is
left of ``Program.step`` is its host code, timed without a GPU (bench/gpu_step.py --host,
bench/host_step_ab.py). Imports nothing of symgrad, so it serves any checkout's program."""
from __future__ import annotations

import re


def stub_kernels(prog) -> list:
    """Replace every ``@triton.jit`` kernel of ``prog``'s generated module (``name_kernel``, not the
    ``launch_`` wrappers) by a stub; returns the counter ``[launches so far]``."""
    launches = [0]

    class Stub:
        def __getitem__(self, grid):
            def launch(*args, **kwargs):
                launches[0] += 1
            return launch
    module = prog.compiled.step.__globals__
    for name in [n for n in module if re.search(r"_kernel\d*$", n) and not n.startswith("launch_")]:
        module[name] = Stub()
    return launches
