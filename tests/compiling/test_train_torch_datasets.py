"""sg.train takes data as torch scripts hold it: ``(X, y)`` or a ``TensorDataset``, in the order of the
program's inputs; a ``DataLoader`` is refused saying why (its batching would be ignored). Until
2026-11-30, seventh session, each was "data must be a non-empty dict"."""
import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.compiling.training import TrainingArgumentError

torch = pytest.importorskip("torch")
N = sp.Symbol("N", integer=True, positive=True)


def _program():
    x, y = sg.tensor("x", (N, 5)), sg.tensor("y", (N,), integer=True)
    W = sg.tensor("W", (5, 3))
    return sg.compile(sg.cross_entropy(x @ W, y), [W], [x, y], outputs=[x @ W], dtype="float64")


def _arrays():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(24, 5))
    return X, X[:, :3].argmax(1)


@pytest.mark.parametrize("wrap", [
    lambda X, y: (X, y),
    lambda X, y: (X.tolist(), y.tolist()),      # as a dict of lists is: it was "got tuple"
    lambda X, y: [torch.tensor(X), torch.tensor(y)],
    lambda X, y: torch.utils.data.TensorDataset(torch.tensor(X), torch.tensor(y)),
])
def test_a_tuple_or_a_tensor_dataset_trains_as_the_dict(wrap):
    prog, (X, y) = _program(), _arrays()
    start = {"W": np.zeros((5, 3))}
    got = sg.train(prog, wrap(X, y), epochs=2, batch_size=8, values=start, progress=False,
                   validation=wrap(X, y), metrics=["accuracy"])
    want = sg.train(prog, {"x": X, "y": y}, epochs=2, batch_size=8, values=start, progress=False,
                    validation={"x": X, "y": y}, metrics=["accuracy"])
    np.testing.assert_allclose(got.values["W"], want.values["W"], rtol=1e-12)
    assert got.metric("val_accuracy") == want.metric("val_accuracy")


def test_a_data_loader_is_refused_saying_train_makes_the_batches():
    prog, (X, y) = _program(), _arrays()
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.tensor(X), torch.tensor(y)),
                                         batch_size=4, shuffle=True)
    with pytest.raises(TrainingArgumentError, match=r"DataLoader: sg.train makes the minibatches.*'x', 'y'"):
        sg.train(prog, loader, epochs=1, progress=False)


def test_a_tuple_of_the_wrong_length_names_the_inputs():
    prog, (X, y) = _program(), _arrays()
    with pytest.raises(TrainingArgumentError, match=r"holds 1 arrays.*'x', 'y'"):
        sg.train(prog, (X,), epochs=1, progress=False)


@pytest.mark.parametrize("wrap", [
    lambda X, y: (X, y),
    lambda X, y: torch.utils.data.TensorDataset(X, y),
    lambda X, y: {"x": X, "y": y},
])
def test_data_that_requires_grad_trains_as_the_arrays(wrap):
    # np.asarray raised torch's "Can't call numpy() on Tensor that requires grad" before the first step
    prog, (X, y) = _program(), _arrays()
    start = {"W": np.zeros((5, 3))}
    Xt = torch.tensor(X).requires_grad_()
    got = sg.train(prog, wrap(Xt, torch.tensor(y)), epochs=2, batch_size=8, values=start, progress=False,
                   validation=wrap(Xt, torch.tensor(y)), metrics=["accuracy"])
    want = sg.train(prog, {"x": X, "y": y}, epochs=2, batch_size=8, values=start, progress=False,
                    validation={"x": X, "y": y}, metrics=["accuracy"])
    np.testing.assert_allclose(got.values["W"], want.values["W"], rtol=1e-12)
    assert got.metric("val_accuracy") == want.metric("val_accuracy")
    assert Xt.grad is None and Xt.requires_grad                # the caller's tensor untouched


def test_random_split_halves_train_as_their_rows():
    """Before: a Subset (each half of random_split, the usual torch train/validation split) was
    "data must be a non-empty dict of arrays ..., got Subset"."""
    prog, (X, y) = _program(), _arrays()
    ds = torch.utils.data.TensorDataset(torch.tensor(X), torch.tensor(y))
    train_ds, val_ds = torch.utils.data.random_split(ds, [16, 8], generator=torch.Generator().manual_seed(0))
    inner = torch.utils.data.Subset(train_ds, [3, 0, 7, 1, 5, 2, 9, 4])       # a Subset of a Subset
    for part in (train_ds, inner):
        rows = [part.dataset.indices[i] for i in part.indices] if part is inner else list(part.indices)
        start = {"W": np.zeros((5, 3))}
        got = sg.train(prog, part, epochs=2, batch_size=4, values=start, progress=False, validation=val_ds,
                       metrics=["accuracy"])
        want = sg.train(prog, {"x": X[rows], "y": y[rows]}, epochs=2, batch_size=4, values=start,
                        progress=False, validation={"x": X[list(val_ds.indices)], "y": y[list(val_ds.indices)]},
                        metrics=["accuracy"])
        np.testing.assert_array_equal(got.values["W"], want.values["W"])
        assert got.metric("val_accuracy") == want.metric("val_accuracy")


def test_a_subset_of_a_dataset_that_is_no_tensor_dataset_says_what_it_takes():
    class Images(torch.utils.data.Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return torch.zeros(5), 0
    with pytest.raises(TrainingArgumentError, match=r"data is a Subset of a Images: .*Subset of one.*read it once yourself"):
        sg.train(_program(), torch.utils.data.Subset(Images(), [0, 1]), progress=False)


def test_a_dataset_of_ones_own_is_refused_with_the_lines_that_read_it():
    """Before: "data must be a non-empty dict of arrays ..., got Pairs": no word of a Dataset, nor of
    how to turn one into arrays. The lines the message gives do: trained on them, the result equals
    training on the arrays themselves."""
    X, y = np.random.default_rng(0).normal(size=(12, 5)), np.arange(12) % 3

    class Pairs(torch.utils.data.Dataset):
        def __len__(self):
            return len(y)

        def __getitem__(self, i):
            return torch.tensor(X[i]), int(y[i])
    ds = Pairs()
    with pytest.raises(TrainingArgumentError, match=r"data is a Pairs \(a torch Dataset\): .*__getitem__") as e:
        sg.train(_program(), ds, progress=False)
    lines = str(e.value).split("read it once yourself: ")[1]
    scope = {"ds": ds, "np": np}
    exec(lines.replace("; ", "\n"), scope)
    got = sg.train(_program(), scope["data"], epochs=2, batch_size=4, progress=False)
    want = sg.train(_program(), (X, y), epochs=2, batch_size=4, progress=False)
    np.testing.assert_array_equal(got.values["W"], want.values["W"])


def test_a_data_loader_refusal_writes_the_dict_with_the_programs_own_input_names():
    """Before: "... or a dict by input name {'x': X, 'y': y}" for a program whose inputs are x and t."""
    net, t = sg.mlp([4, 5, 3]), sp.MatrixSymbol("t", 3, 1)
    prog = sg.compile(sg.cross_entropy(net.output, t), net.params, [net.input, t])
    ds = torch.utils.data.TensorDataset(torch.randn(10, 4), torch.eye(3)[torch.randint(0, 3, (10,))])
    with pytest.raises(TrainingArgumentError) as e:
        sg.train(prog, torch.utils.data.DataLoader(ds, batch_size=4), epochs=1, progress=False)
    assert "a dict by input name {'x': ..., 't': ...} (a loader's own arrays: data.dataset)" in str(e.value)
