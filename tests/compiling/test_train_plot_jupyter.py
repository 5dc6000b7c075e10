"""history.plot() in Jupyter: the picture once per cell. A pyplot figure is drawn by the inline
backend at the cell's end, and the cell's value (the Figure plot returns) was displayed too: two
pictures of the same curves."""
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

CELLS = [
    "from symgrad.compiling.training_results import History\n"
    "h = History(loss=[1.0], step=2, epochs=[{'epoch': 1, 'loss': 1.0}, {'epoch': 2, 'loss': 0.5}])\n"
    "h.plot()",                      # the cell's value
    "fig = h.plot()",                # assigned: the backend's drawing
    "fig",                           # a later cell: the figure again
    "import matplotlib.pyplot as plt\nplt.plot([1, 2])\nh.plot()",    # beside a picture of the user's own
]


@pytest.mark.slow
def test_each_cell_shows_each_figure_once(monkeypatch):
    nbformat = pytest.importorskip("nbformat", reason="nbformat is a dev dependency (pip install -e .[dev])")
    nbclient = pytest.importorskip("nbclient", reason="nbclient is a dev dependency (pip install -e .[dev])")
    pytest.importorskip("ipykernel", reason="ipykernel is a dev dependency (pip install -e .[dev])")
    monkeypatch.setenv("PYTHONPATH", str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    monkeypatch.delenv("MPLBACKEND", raising=False)           # the kernel's own inline backend
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in CELLS]
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3").execute()
    pictures = [sum("image/png" in o.get("data", {}) for o in cell.outputs) for cell in nb.cells]
    assert pictures == [1, 1, 1, 2]


def test_displayed_it_leaves_pyplot_so_the_backend_does_not_draw_it_again(monkeypatch):
    pytest.importorskip("IPython")
    import IPython.display
    import matplotlib.pyplot as plt

    from symgrad.compiling.training_results import History
    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda *objs, **kw: shown.extend(objs))
    fig = History(loss=[1.0], step=1, epochs=[{"epoch": 1, "loss": 1.0}]).plot()
    assert fig in [m.canvas.figure for m in plt._pylab_helpers.Gcf.get_all_fig_managers()]
    fig._ipython_display_()
    assert fig not in [m.canvas.figure for m in plt._pylab_helpers.Gcf.get_all_fig_managers()]
    assert len(shown) == 1 and shown[0].data[:8] == b"\x89PNG\r\n\x1a\n"
