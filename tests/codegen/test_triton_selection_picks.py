"""Products with a constant 0/1 matrix of an operand in registers pick its columns
(`codegen.triton_rows._picks`, `settings.SELECTION_PICKS`): a second convolution's window assembled
from a map's rows, E_k·row, and its gradient's selections E_kᵀ·(W2ᵀ·δ), each a tl.where and a tl.sum
per 1 of the matrix instead of a tl.dot whose FMA operands held whole K-long rows a thread (the
upsampling CNN's rows kernel spilled on sm_90). Under the interpreter: the picks are in the source,
and the network equals the NumPy target and torch.autograd either way."""
import pytest

from tests.codegen.aot import compile_sm90
from tests.codegen.test_triton_conv2 import _batch, _check, _two_convs

pytest.importorskip("torch")
pytest.importorskip("triton")


@pytest.mark.parametrize("picks", [0, 1])
def test_a_second_convolution_with_and_without_picks_equals_numpy_and_torch(picks, rng, monkeypatch):
    from codegen import triton_backend
    monkeypatch.setattr(triton_backend, "SELECTION_PICKS", picks)
    net = _two_convs((2, 5, 5), [(2, 3, 2, 1, False), (3, 2, 2, 1, False)], act="tanh")
    tri, _ = _check(net, _batch(rng, 3, (2, 5, 5)), rng)
    assert ("columns picked" in tri.source) == bool(picks)


AOT = """
import json
from symgrad.compiling.compiler import specify
from codegen import triton_backend
from codegen.triton_aot import compile_step, digits_upsampling
import symgrad as sg

triton_backend.SELECTION_PICKS = 1
loss, params, inputs = digits_upsampling(small=True)
spec = specify(loss, params, inputs, optimizer=sg.optim.Adam(lr=1e-3), target="triton")
print(json.dumps([[r.kernel, r.registers, r.spill_bytes, r.shared_bytes] for r in compile_step(spec, 4096)]))
"""


@pytest.mark.slow
def test_the_small_upsampling_cnn_compiles_for_sm90_without_spills(tmp_path):
    """Its rows kernel spilled 176 bytes a thread with the selections as tl.dot (255 registers); with
    the picks, 149 registers and none (2026-11-30, tenth session)."""
    kernels = compile_sm90(AOT, tmp_path)
    assert all(spill == 0 for _, _, spill, _ in kernels), kernels
