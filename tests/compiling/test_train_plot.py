"""History.plot: the training curves drawn with matplotlib, checked through the Figure's lines
against the history's numbers and through the PNG written."""
import struct
import sys

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.compiling import training_plot
from symgrad.compiling.training_results import History
from symgrad.errors import ArgumentError

N = sp.Symbol("N", integer=True, positive=True)


@pytest.fixture(autouse=True)
def _close_figures():
    """plot() without a path draws on pyplot's figures: closed after each test."""
    yield
    import matplotlib.pyplot as plt
    plt.close("all")


def _classifier():
    """Whole-batch softmax regression on 4 features, 3 classes, integer labels."""
    x, y = sg.tensor("x", (N, 4)), sg.tensor("y", (N,), integer=True)
    W, b = sg.tensor("W", (4, 3)), sg.tensor("b", (3,))
    logits = x @ W + b
    return sg.compile(sg.cross_entropy(logits, y), [W, b], [x, y], outputs=[logits],
                      optimizer=sg.optim.Adam(lr=0.05))


def _data(n, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4))
    return {"x": x, "y": np.argmax(x[:, :3] + 0.3 * rng.normal(size=(n, 3)), axis=1)}


def _png_size(path):
    """(width, height) from the PNG's IHDR chunk, read independently of matplotlib."""
    with open(path, "rb") as f:
        head = f.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


def _lines(ax):
    """{legend label: (x data, y data)} of an Axes' curves."""
    return {l.get_label(): (list(l.get_xdata()), list(l.get_ydata())) for l in ax.get_lines()
            if not l.get_label().startswith("_")}


def test_the_curves_are_the_history_numbers_and_the_png_is_written(tmp_path):
    prog = _classifier()
    h = sg.train(prog, _data(96, 0), epochs=4, batch_size=16, progress=False, validation=_data(40, 1),
                 metrics=["loss", "accuracy"])
    out = tmp_path / "curves.png"
    fig = h.plot(out, dpi=50)
    assert _png_size(out) == (int(2 * 6.4 * 50), int(4.2 * 50))     # two panels: losses, accuracy
    loss_ax, metric_ax = fig.axes
    lines = _lines(loss_ax)
    epochs = [1, 2, 3, 4]
    assert lines["loss (mean over the epoch's minibatches)"] == (epochs, h.metric("loss"))
    assert lines["val_loss"] == (epochs, h.metric("val_loss"))
    assert _lines(metric_ax) == {"val_accuracy": (epochs, h.metric("val_accuracy"))}
    assert loss_ax.get_xlabel() == "epoch" and metric_ax.get_ylabel() == "accuracy"
    assert loss_ax.get_legend() is not None and metric_ax.get_legend() is not None
    ticks = [t for t in loss_ax.get_xticks() if 1 <= t <= 4]
    assert ticks and all(float(t).is_integer() for t in ticks)       # no epoch 1.5
    assert loss_ax.get_yscale() == "linear"
    # the mean step loss of an epoch is the mean of its steps' losses, as recorded
    assert lines["loss (mean over the epoch's minibatches)"][1][0] == pytest.approx(np.mean(h.loss[:6]))


def test_a_loss_over_decades_is_drawn_on_a_log_scale_and_one_within_one_is_not():
    falling = History(loss=[1.0], step=5, epochs=[{"epoch": e, "loss": 10 * 0.3 ** e} for e in range(1, 6)])
    assert falling.plot().axes[0].get_yscale() == "log"                # 3 → 0.024: over two decades
    flat = History(loss=[1.0], step=5, epochs=[{"epoch": e, "loss": 2.0 / e} for e in range(1, 6)])
    assert flat.plot().axes[0].get_yscale() == "linear"                # 2 → 0.4


def test_the_best_epoch_of_early_stopping_is_marked(tmp_path):
    prog = _classifier()
    h = sg.train(prog, _data(96, 0), epochs=40, batch_size=16, progress=False, validation=_data(40, 1),
                 metrics=["loss", "accuracy"], patience=2, monitor="val_accuracy")
    assert h.best_epoch is not None
    fig = h.plot(tmp_path / "best.pdf")
    assert (tmp_path / "best.pdf").read_bytes()[:5] == b"%PDF-"
    for ax in fig.axes:
        marks = [l for l in ax.get_lines() if l.get_label().startswith("best epoch")]
        assert len(marks) == 1 and list(marks[0].get_xdata()) == [h.best_epoch, h.best_epoch]
        assert "val_accuracy" in marks[0].get_label()
    ring = [l for l in fig.axes[1].get_lines() if list(l.get_xdata()) == [h.best_epoch]]
    assert [list(l.get_ydata()) for l in ring] == [[h.metric("val_accuracy")[h.best_epoch - 1]]]


def test_a_run_stopped_inside_its_first_epoch_draws_its_step_losses():
    h = History(loss=[3.0, 2.0, 1.5], step=3)
    ax, = h.plot().axes
    assert ax.get_xlabel() == "step"
    assert _lines(ax) == {"loss (minibatch)": ([1, 2, 3], [3.0, 2.0, 1.5])}


def test_a_resumed_run_is_drawn_at_its_own_epoch_numbers():
    h = History(loss=[1.0], step=20, epochs=[{"epoch": 7, "loss": 0.5}, {"epoch": 8, "loss": 0.4}])
    assert _lines(h.plot().axes[0])["loss (mean over the epoch's minibatches)"][0] == [7, 8]


def test_a_file_name_matplotlib_cannot_write_is_refused_naming_the_formats(tmp_path):
    h = History(loss=[1.0], step=1, epochs=[{"epoch": 1, "loss": 1.0}])
    with pytest.raises(ArgumentError, match=r"suffix \.txt is not a picture format .*a \.png, \.pdf or \.svg"):
        h.plot(tmp_path / "curves.txt")
    with pytest.raises(ArgumentError, match=r"curves: no suffix; name a picture file: a \.png, \.pdf or \.svg \("):
        h.plot(tmp_path / "curves")
    assert not list(tmp_path.iterdir())


def test_without_matplotlib_the_error_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)        # import matplotlib raises ImportError
    h = History(loss=[1.0], step=1, epochs=[{"epoch": 1, "loss": 1.0}])
    with pytest.raises(ImportError, match="pip install matplotlib"):
        h.plot()
    with pytest.raises(sg.SymgradError):
        training_plot.check_plot_path("curves.png")


def test_one_epoch_draws_its_step_losses_on_a_step_axis_not_one_dot_at_epoch_1():
    # one epoch of 6 steps (a run of --epochs 1, or one that diverged in epoch 2): a lone dot at
    # epoch 1 with ticks 0.6, 0.8 ... said nothing; the 6 step losses say how the epoch went
    steps = [2.0, 1.5, 1.2, 1.0, 0.9, 0.85]
    h = History(loss=steps, step=6, epochs=[{"epoch": 1, "loss": float(np.mean(steps)), "val_loss": 0.8,
                                               "val_accuracy": 0.75}])
    fig = h.plot()
    ax, = fig.axes
    assert ax.get_xlabel() == "step"
    assert _lines(ax) == {"loss (minibatch)": ([1, 2, 3, 4, 5, 6], steps)}
    ticks = [t for t in ax.get_xticks() if 1 <= t <= 6]
    assert len(ticks) >= 2 and all(float(t).is_integer() for t in ticks)
    assert "val_accuracy 0.75" in ax.get_title() and "epoch 1" in ax.get_title()   # its numbers still said
    assert fig.get_suptitle() == "training: 1 epoch (6 steps)"
