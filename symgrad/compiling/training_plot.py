"""The training curves of a `History` as a picture: each epoch's loss, and the metrics beside it
(`History.plot`, ``symgrad train --plot curves.png``), drawn with matplotlib — an optional
dependency, imported only here and only when a picture is asked for.

The left panel holds the losses (the epoch's mean minibatch loss, and ``val_loss`` or ``train_loss``
after the epoch), the right one the other metrics (``val_accuracy`` ...), when there are any. Epochs
are whole numbers on the x axis; a loss that spans two decades or more is drawn on a log scale (a
linear one flattens all but its first epochs into the floor); with early stopping the best epoch
(``history.best_epoch``, by ``history.monitor``) is a dashed line and a ring around its value. With
fewer than two epochs (a run of one epoch, one stopped inside its first or diverged in its second)
a curve of epochs would be one dot: the step losses are drawn instead, on a step axis, and the one
epoch's numbers are said above them.

>>> from symgrad.compiling.training_results import History
>>> h = History(loss=[2.0, 1.0, 0.6, 0.4], step=4, epochs=[{"epoch": 1, "loss": 1.5, "val_accuracy": 0.5},
...             {"epoch": 2, "loss": 0.5, "val_accuracy": 0.75}])
>>> fig = h.plot()
>>> [(l.get_label(), [float(v) for v in l.get_ydata()]) for ax in fig.axes for l in ax.get_lines()]
[("loss (mean over the epoch's minibatches)", [1.5, 0.5]), ('val_accuracy', [0.5, 0.75])]
>>> import matplotlib.pyplot as plt; plt.close(fig)
"""
from __future__ import annotations

import math
import os

from ..errors import ArgumentError, SymgradError

LOG_SPAN = 100.0        # a loss whose largest / smallest is at least this is drawn on a log scale
NOT_CURVES = ("epoch", "seconds")


class PlotDependencyError(SymgradError, ImportError):
    """Drawing the training curves needs matplotlib, which symgrad does not install by itself."""


def require_matplotlib():
    """matplotlib, or a `PlotDependencyError` saying how to install it."""
    try:
        import matplotlib
    except ImportError as e:
        raise PlotDependencyError("drawing the training curves needs matplotlib, which is not installed: "
                                  "pip install matplotlib (or pip install 'symgrad[extras]')") from e
    return matplotlib


def image_formats() -> dict:
    """The file suffixes matplotlib writes (``png``, ``pdf``, ``svg`` ...) → their description."""
    require_matplotlib()
    from matplotlib.backend_bases import FigureCanvasBase
    return FigureCanvasBase.get_supported_filetypes()


def check_plot_path(path, what: str = "path") -> None:
    """Refuse, before any training, a picture file whose suffix matplotlib does not write (or
    without one: matplotlib would write a PNG under a name that does not say so)."""
    if not isinstance(path, (str, os.PathLike)):
        raise ArgumentError(f"{what} must be a file name (e.g. 'curves.png'), got {path!r}")
    formats = image_formats()
    suffix = os.path.splitext(os.fspath(path))[1].lstrip(".").lower()
    if suffix not in formats:
        said = (f"its suffix .{suffix} is not a picture format matplotlib writes; give" if suffix
                else "no suffix; name a picture file:")
        raise ArgumentError(f"{what} {os.fspath(path)}: {said} a .png, .pdf or .svg (matplotlib also writes "
                            f"{', '.join('.' + k for k in sorted(formats) if k not in ('png', 'pdf', 'svg'))})")


def _series(history):
    """(x label, x values, {name: y values}) of the curves: per epoch, or per step when fewer than two
    epochs ended (one epoch is one dot)."""
    records = [r for r in history.epochs if "epoch" in r]
    if len(records) < 2 and history.loss:
        return "step", list(range(history.step - len(history.loss) + 1, history.step + 1)), \
            {"loss": [float(v) for v in history.loss]}
    names = []
    for r in records:
        names += [k for k, v in r.items() if k not in NOT_CURVES and k not in names
                  and isinstance(v, (int, float)) and not isinstance(v, bool)]
    curves = {k: [float(r[k]) if isinstance(r.get(k), (int, float)) else math.nan for r in records]
              for k in names}
    return "epoch", [int(r["epoch"]) for r in records], curves


def _is_loss(name: str) -> bool:
    """A loss curve, drawn in the left panel: loss, val_loss, train_loss."""
    return name.endswith("loss")


def _label(name: str, x_name: str) -> str:
    if name == "loss":
        return "loss (mean over the epoch's minibatches)" if x_name == "epoch" else "loss (minibatch)"
    return name


def _epoch_said(record) -> str:
    """``epoch 1: mean loss 0.52, val_loss 0.61, val_accuracy 0.8``."""
    said = [f"{'mean loss' if k == 'loss' else k} {v:.4g}" for k, v in record.items()
            if k not in NOT_CURVES and isinstance(v, (int, float)) and not isinstance(v, bool)]
    return f"epoch {record.get('epoch', 1)}: " + ", ".join(said)


def _spans_decades(values) -> bool:
    finite = [v for v in values if math.isfinite(v)]
    return bool(finite) and min(finite) > 0 and max(finite) / min(finite) >= LOG_SPAN


def plot_history(history, path=None, *, title: str | None = None, dpi: int = 100):
    """Draw ``history``'s training curves and return the matplotlib ``Figure``; with ``path``
    (``"curves.png"``, ``.pdf``, ``.svg`` ...) also save it there. Without a path the figure is
    pyplot's (shown inline in Jupyter, by ``plt.show()`` in a script); with one it is a figure of its
    own, closed to pyplot, so a training script that saves a picture each run piles none up."""
    require_matplotlib()
    if path is not None:
        check_plot_path(path)
    x_name, xs, curves = _series(history)
    if not xs:
        raise ArgumentError("this history has no steps to draw: training ran no step (epochs=0?)")
    losses = {k: v for k, v in curves.items() if _is_loss(k)}
    others = {k: v for k, v in curves.items() if not _is_loss(k)}
    panels = [losses] + ([others] if others else [])
    size = (6.4 * len(panels), 4.2)
    if path is None:
        import matplotlib.pyplot as plt
        fig, axes = plt.subplots(1, len(panels), figsize=size, squeeze=False, FigureClass=_curves_figure())
        axes = list(axes[0])
    else:
        from matplotlib.figure import Figure
        fig = Figure(figsize=size)
        axes = [fig.add_subplot(1, len(panels), i + 1) for i in range(len(panels))]
    from matplotlib.ticker import MaxNLocator
    marker = "o" if len(xs) <= 30 else None
    best = history.best_epoch if x_name == "epoch" else None
    for ax, panel in zip(axes, panels):
        for name, ys in panel.items():
            ax.plot(xs, ys, marker=marker, markersize=3, label=_label(name, x_name))
        ax.set_xlabel(x_name)
        ax.set_ylabel("loss" if panel is losses else
                      "accuracy" if all(k.endswith("accuracy") for k in panel) else "metric")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if panel is losses and _spans_decades([v for ys in panel.values() for v in ys]):
            ax.set_yscale("log")
            ax.set_ylabel("loss (log scale)")
        if best is not None:
            ax.axvline(best, color="0.5", linestyle="--", linewidth=1,
                       label=f"best epoch {best}" + (f" (by {history.monitor})" if history.monitor else ""))
            if history.monitor in panel and best in xs:
                ax.plot([best], [panel[history.monitor][xs.index(best)]], "o", markersize=10,
                        markerfacecolor="none", markeredgecolor="black")
        ax.grid(True, alpha=0.3)
        ax.legend()
    if x_name == "step" and history.epochs:     # the one epoch's numbers, which have no curve here
        axes[0].set_title(_epoch_said(history.epochs[-1]), fontsize="medium")
    if len(xs) == 1:                  # one step: room around it rather than matplotlib's ±0.05
        for ax in axes:
            ax.set_xlim(xs[0] - 0.5, xs[0] + 0.5)
    fig.suptitle(title if title is not None else default_title(history))
    fig.tight_layout()
    if path is not None:
        from .files import atomic_write       # never half a picture; missing folders made
        fmt = os.path.splitext(os.fspath(path))[1].lstrip(".").lower()
        atomic_write(os.fspath(path), lambda f: fig.savefig(f, format=fmt, dpi=dpi))
    return fig


_CURVES_FIGURE = None


def _curves_figure():
    """A matplotlib Figure that Jupyter shows once. The inline backend displays each pyplot figure
    at the end of its cell, and a cell ending in ``history.plot()`` also displays the value it
    returns: the picture came twice. This one, displayed, leaves pyplot (``plt.close``), so the
    backend's end-of-cell drawing does not show it again; shown by that drawing (``fig =
    history.plot()``) or later (``fig`` in another cell), it is shown once as well."""
    global _CURVES_FIGURE
    if _CURVES_FIGURE is None:
        from matplotlib.figure import Figure

        class CurvesFigure(Figure):
            def _ipython_display_(self):
                import io

                import matplotlib.pyplot as plt
                from IPython.display import Image, display
                plt.close(self)                 # no second picture from the backend's drawing
                buf = io.BytesIO()
                self.savefig(buf, format="png", bbox_inches="tight")
                display(Image(data=buf.getvalue(), format="png"))

        _CURVES_FIGURE = CurvesFigure
    return _CURVES_FIGURE


def default_title(history) -> str:
    """``training: 12 epochs, stopped early`` — what the run was, for the picture's title."""
    x_name, xs, _ = _series(history)
    n = len(xs)
    ended = len([r for r in history.epochs if "epoch" in r])
    if x_name == "epoch":
        words = f"{n} epoch{'s' if n != 1 else ''}"
    elif ended:
        words = f"{ended} epoch ({n} step{'s' if n != 1 else ''})"
    else:
        words = f"{n} step{'s' if n != 1 else ''} (no epoch ended)"
    if history.stopped_early:
        words += ", stopped early"
    if history.interrupted:
        words += ", interrupted"
    return f"training: {words}"
