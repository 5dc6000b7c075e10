"""One matching of a whole-batch input's shape against its declaration (`whole_batch.fits`), used by
a program's call and by sg.train's check of all the data before the first step: the two refuse and
accept the same arrays."""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.compiling.training import TrainingArgumentError
from symgrad.compiling.whole_batch import dim_forms, fits
from symgrad.errors import ShapeError

N, K = sp.Symbol("N", integer=True, positive=True), sp.Symbol("K", integer=True, positive=True)


@pytest.mark.parametrize("shape,got,ok", [
    ((N, 3), (5, 3), True), ((N, 3), (5, 4), False), ((N, 3), (5,), False),
    ((N, 2 * K), (5, 6), True),             # K = 3 bound by the array before
    ((N, 2 * K), (5, 7), False), ((N, K), (6, 3), False)])  # N = 5 bound before
def test_fits_binds_symbols_and_checks_expressions(shape, got, ok):
    sizes = {}
    assert fits(dim_forms((N, K)), (5, 3), sizes) and sizes == {N: 5, K: 3}
    assert fits(dim_forms(shape), got, sizes) is ok


def _program():
    x, z, w = sg.tensor("x", (N, K)), sg.tensor("z", (N, 2 * K)), sp.Symbol("w")
    return sg.compile((sg.mean(z ** 2) + sg.mean(x)) * w ** 2, [w], [x, z], dtype="float64")


@pytest.mark.parametrize("width,ok", [(6, True), (5, False)])
def test_train_and_the_program_agree(width, ok):
    prog = _program()
    rng = np.random.default_rng(0)
    data = {"x": rng.normal(size=(8, 3)), "z": rng.normal(size=(8, width))}
    values = {"w": 0.5}
    if ok:
        prog.loss(values, data)
        assert sg.train(prog, data, values=values, progress=False).step == 1
        return
    with pytest.raises(ShapeError, match=r"'z' has shape \(8, 5\).*declared \(N, 2\*K\) with N = 8, K = 3"):
        prog.loss(values, data)
    with pytest.raises(TrainingArgumentError, match=r"data\['z'\] has shape \(8, 5\).*declared \(N, 2\*K\)"):
        sg.train(prog, data, values=values, progress=False)
