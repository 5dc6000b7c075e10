"""relu in the generated NumPy module is one helper, ``relu(x, out=None)``: numpy.maximum against a
row of zeros over 4096 entries or more (NumPy's maximum against the number 0 runs a loop 2-2.5 times
slower), against 0 below or over rows shorter than 32 entries. Where the rows are that short and
known when compiling, relu prints as numpy.maximum(x, 0) itself (no helper call). Whichever form,
the values are numpy.maximum(x, 0)'s bit for bit, NaN, ±0 and ±inf included, in place too; a
whole-batch step calls it in the buffer of the dying pre-activation and its gradients are torch's."""
import re

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from codegen.printers.numpy_printer import NumpyPrinter

torch = pytest.importorskip("torch")
N = sp.Symbol("N", integer=True, positive=True)


def _helper():
    ns = {"numpy": np}
    exec("\n".join(NumpyPrinter.HELPERS["relu"]), ns)
    return ns["relu"]


@pytest.mark.parametrize("shape", [(3, 5), (64, 63), (64, 64), (256, 512), (2, 3, 1000), (7,), ()])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_helper_equals_numpy_maximum_with_zero(shape, dtype):
    relu = _helper()
    rng = np.random.default_rng(0)
    x = rng.normal(size=shape).astype(dtype)
    if x.size >= 6:
        x.reshape(-1)[:6] = [np.nan, -np.inf, np.inf, -0.0, 0.0, -1e-30]
    want = np.maximum(x, 0)
    got = relu(x)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(want))      # -0.0 stays as maximum gives it
    buf = x.copy()
    assert relu(buf, out=buf) is buf
    np.testing.assert_array_equal(buf, want)


def test_whole_batch_relu_runs_in_the_dying_buffer_and_equals_torch():
    x, W1, W2 = sg.tensor("x", (N, 96)), sg.tensor("W1", (96, 80)), sg.tensor("W2", (80, 3))
    loss = sg.mean((sg.relu(x @ W1) @ W2) ** 2)
    prog = sg.compile(loss, [W1, W2], [x], dtype="float64")
    grad = prog.source.split("\ndef grad(")[1].split("\ndef ")[0]
    assert re.search(r"= relu\((v\d+), out=\1\)", grad) and "numpy.maximum(" not in grad
    rng = np.random.default_rng(1)
    vals = {"W1": rng.normal(size=(96, 80)), "W2": rng.normal(size=(80, 3))}
    xs = {"x": rng.normal(size=(64, 96))}                  # (64, 80): over the helper's 4096 entries
    t = {k: torch.tensor(v, requires_grad=True) for k, v in vals.items()}
    lt = ((torch.relu(torch.tensor(xs["x"]) @ t["W1"]) @ t["W2"]) ** 2).mean()
    lt.backward()
    assert abs(float(prog.loss(vals, xs)) - lt.item()) < 1e-10 * abs(lt.item())
    got = prog.grad(vals, xs)
    for k in vals:
        np.testing.assert_allclose(got[k], t[k].grad.numpy(), rtol=1e-10, err_msg=k)


def test_short_rows_print_numpy_maximum_itself_and_equal_torch():
    """Rows of 16 (a 2-16-16 MLP's hidden layer): the helper's row of zeros would gain nothing and its
    call would cost ~0.5 µs of a ~50 µs step, so the module keeps numpy.maximum(v, 0) (in place)."""
    x, W1, W2 = sg.tensor("x", (N, 5)), sg.tensor("W1", (5, 16)), sg.tensor("W2", (16, 3))
    loss = sg.mean((sg.relu(x @ W1) @ W2) ** 2)
    prog = sg.compile(loss, [W1, W2], [x], dtype="float64")
    assert "def relu(" not in prog.source and "relu(v" not in prog.source
    assert re.search(r"= numpy\.maximum\((v\d+), 0, out=\1\)", prog.source)
    rng = np.random.default_rng(2)
    vals = {"W1": rng.normal(size=(5, 16)), "W2": rng.normal(size=(16, 3))}
    xs = {"x": rng.normal(size=(300, 5))}                 # 4800 entries: the batch does not decide it
    t = {k: torch.tensor(v, requires_grad=True) for k, v in vals.items()}
    ((torch.relu(torch.tensor(xs["x"]) @ t["W1"]) @ t["W2"]) ** 2).mean().backward()
    got = prog.grad(vals, xs)
    for k in vals:
        np.testing.assert_allclose(got[k], t[k].grad.numpy(), rtol=1e-10, err_msg=k)
