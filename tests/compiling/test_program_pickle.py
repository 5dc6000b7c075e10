"""A compiled Program pickles (symgrad/compiling/program_pickle.py): the copy computes what the
original computes — loss, gradients, steps, outputs, dropout masks from the same generator state —
for each kind of declaration, and in a fresh process, as multiprocessing's spawn hands it over.
Before: pickle.dumps(program) was "Can't pickle local object '_leaf.<locals>.<lambda>'"."""
import copy
import os
import pickle
import subprocess
import sys

import numpy as np
import sympy as sp

import symgrad as sg

N = sp.Symbol("N", integer=True, positive=True)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _matrix_symbols():
    net, t = sg.mlp([4, 5, 3]), sp.MatrixSymbol("t", 3, 1)
    prog = sg.compile(sg.cross_entropy(net.output, t), net.params, [net.input, t], outputs=[net.output],
                      optimizer="adam", dtype="float64")
    rng = np.random.default_rng(0)
    values = {p.name: rng.normal(0, 0.5, p.shape) for p in net.params}
    return prog, values, {"x": rng.normal(size=(6, 4)), "t": np.eye(3)[rng.integers(0, 3, 6)]}


def _whole_batch_with_dropout():
    x, y = sg.tensor("x", (N, 4)), sg.tensor("y", (N,), integer=True)
    W1, W2 = sg.tensor("W1", (4, 8)), sg.tensor("W2", (8, 3))
    logits = sg.dropout(sg.relu(x @ W1), 0.5) @ W2
    prog = sg.compile(sg.cross_entropy(logits, y), [W1, W2], [x, y], outputs=[logits],
                      optimizer=sg.optim.SGD(lr=0.1, momentum=0.9), dtype="float64", seed=3)
    rng = np.random.default_rng(1)
    values = {"W1": rng.normal(size=(4, 8)), "W2": rng.normal(size=(8, 3))}
    return prog, values, {"x": rng.normal(size=(7, 4)), "y": rng.integers(0, 3, 7)}


def _per_example_tensors():
    x, y = sg.tensor("x", (4,)), sg.tensor("y", (), integer=True)
    W, b = sg.tensor("W", (3, 4)), sg.tensor("b", (3,))
    prog = sg.compile(sg.cross_entropy(W @ x + b, y), [W, b], [x, y], dtype="float64")
    rng = np.random.default_rng(2)
    return prog, {"W": rng.normal(size=(3, 4)), "b": np.zeros(3)}, {"x": rng.normal(size=(5, 4)),
                                                                   "y": rng.integers(0, 3, 5)}


def _same_computations(a, b, values, batch):
    assert a.loss(values, batch) == b.loss(values, batch)
    ga, gb = a.grad(values, batch), b.grad(values, batch)        # dropout on: the generators agree
    for k in ga:
        np.testing.assert_array_equal(ga[k], gb[k])
    va, sa = a.step(copy.deepcopy(values), None, batch)
    vb, sb = b.step(copy.deepcopy(values), None, batch)
    for k in va:
        np.testing.assert_array_equal(va[k], vb[k])
    assert sa["t"] == sb["t"] == 1


def test_each_kind_of_program_pickles_and_computes_the_same():
    for make in (_matrix_symbols, _whole_batch_with_dropout, _per_example_tensors):
        prog, values, batch = make()
        prog.grad(values, batch)                       # the generator has moved on: its state travels
        twin = pickle.loads(pickle.dumps(prog))
        assert type(twin) is type(prog) and twin.source == prog.source and twin.dtype == prog.dtype
        assert [p.name for p in twin.params] == [p.name for p in prog.params]
        _same_computations(prog, twin, values, batch)
        if prog.spec.eval.outputs:
            np.testing.assert_array_equal(prog.forward(values, batch)[0], twin.forward(values, batch)[0])


def test_a_program_trains_in_a_fresh_process_as_here(tmp_path):
    prog, values, batch = _whole_batch_with_dropout()
    (tmp_path / "prog.pkl").write_bytes(pickle.dumps(prog))
    np.savez(tmp_path / "in.npz", **{f"v_{k}": v for k, v in values.items()}, **batch)
    code = ("import pickle, numpy as np, symgrad as sg\n"
            f"prog = pickle.load(open({str(tmp_path / 'prog.pkl')!r}, 'rb'))\n"
            f"z = np.load({str(tmp_path / 'in.npz')!r})\n"
            "values = {k[2:]: z[k] for k in z.files if k.startswith('v_')}\n"
            "h = sg.train(prog, {'x': z['x'], 'y': z['y']}, epochs=2, batch_size=3, values=values, progress=False)\n"
            f"np.savez({str(tmp_path / 'out.npz')!r}, **h.values)\n")
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=tmp_path)
    here = sg.train(prog, batch, epochs=2, batch_size=3, values=values, progress=False)
    there = np.load(tmp_path / "out.npz")
    for k, v in here.values.items():
        np.testing.assert_array_equal(there[k], v)


def test_deepcopy_still_copies_without_compiling_again(monkeypatch):
    from symgrad.compiling import program
    prog, values, batch = _per_example_tensors()
    monkeypatch.setattr(program, "_rebuilt_program", None)     # a deepcopy must not come here
    twin = copy.deepcopy(prog)
    assert twin.loss(values, batch) == prog.loss(values, batch)
    assert copy.copy(prog).loss(values, batch) == prog.loss(values, batch)
