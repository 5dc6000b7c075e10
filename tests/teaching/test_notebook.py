"""The lecture notebook (issue 14, point 6): examples/teaching/backprop_lecture.ipynb runs, and every
cell's output has a rich form (LaTeX, SVG or HTML) — executed with nbclient (a dev dependency), and
exported to PDF with nbconvert where pdflatex and pandoc are installed. A second test runs the cells
in this process, so the notebook's code is checked even where nbclient is missing, and compiles
their LaTeX with pdflatex as nbconvert's PDF export would include it."""
import ast
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from symgrad.teaching.render import latex_document
from teachtools import need

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "examples" / "teaching" / "backprop_lecture.ipynb"
RICH = ("text/latex", "image/svg+xml", "text/html")
TOPICS = ["circuit", "neuron", "‖Wx‖²", "Softmax and cross-entropy", "Three paths", "Forward versus reverse",
          "MLP in matrix form", "optimizers", "Newton"]


def _code_cells(nb):
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def _source(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def test_the_notebook_walks_through_the_seeds_examples():
    nb = json.loads(NOTEBOOK.read_text())
    text = "\n".join(_source(c) for c in nb["cells"] if c["cell_type"] == "markdown")
    for topic in TOPICS:
        assert topic in text, topic


@pytest.mark.slow
def test_the_cells_run_and_each_shows_a_rich_form(tmp_path):
    # every code cell after the imports ends in an expression whose Jupyter display is rich
    nb = json.loads(NOTEBOOK.read_text())
    env: dict = {}
    latex = []
    for k, cell in enumerate(_code_cells(nb)):
        tree = ast.parse(_source(cell))
        last = tree.body[-1] if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        body = tree.body[:-1] if last else tree.body
        exec(compile(ast.Module(body, []), f"cell {k}", "exec"), env)
        if last is None:
            assert k == 0, f"cell {k} shows nothing"
            continue
        value = eval(compile(ast.Expression(last.value), f"cell {k}", "eval"), env)
        if hasattr(value, "_repr_latex_"):
            tex = value._repr_latex_()
            assert tex and tex.startswith("$") and r"\intertext" not in tex, k
            latex.append(tex)
        else:
            bundle = value._repr_mimebundle_() if hasattr(value, "_repr_mimebundle_") else {}
            assert any(m in bundle for m in RICH) or hasattr(value, "_repr_svg_"), (k, type(value))
    # nbconvert's PDF export puts each text/latex output into the document as it is: it compiles
    (tmp_path / "nb.tex").write_text(latex_document("\n\n".join(latex)))
    r = subprocess.run([need("pdflatex"), "-interaction=nonstopmode", "-halt-on-error", "nb.tex"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-2000:]


def _execute(monkeypatch):
    nbformat = pytest.importorskip("nbformat", reason="nbformat is a dev dependency (pip install -e .[dev])")
    nbclient = pytest.importorskip("nbclient", reason="nbclient is a dev dependency (pip install -e .[dev])")
    pytest.importorskip("ipykernel", reason="ipykernel is a dev dependency (pip install -e .[dev])")
    # the kernel imports this checkout's symgrad, whatever is installed
    monkeypatch.setenv("PYTHONPATH", str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    nb = nbformat.read(str(NOTEBOOK), as_version=4)
    nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    return nb


@pytest.mark.slow
def test_the_notebook_runs_with_nbclient(monkeypatch):
    nb = _execute(monkeypatch)
    for k, cell in enumerate(c for c in nb.cells if c.cell_type == "code"):
        errors = [o for o in cell.outputs if o.output_type == "error"]
        assert not errors, (k, errors)
        if k == 0:
            continue
        shown = [o for o in cell.outputs if o.output_type in ("execute_result", "display_data")]
        assert shown and all(any(m in o.data for m in RICH) for o in shown), (k, [list(o.data) for o in shown])


@pytest.mark.slow
def test_the_notebook_exports_to_pdf(monkeypatch, tmp_path):
    if not (shutil.which("pdflatex") and shutil.which("pandoc")):
        pytest.skip("exporting to PDF needs pdflatex and pandoc (nbconvert calls both); "
                    f"missing: {', '.join(t for t in ('pdflatex', 'pandoc') if not shutil.which(t))}")
    nbconvert = pytest.importorskip("nbconvert", reason="nbconvert exports the notebook to PDF")
    nb = _execute(monkeypatch)
    pdf, _ = nbconvert.PDFExporter().from_notebook_node(nb)
    assert pdf[:4] == b"%PDF" and len(pdf) > 10_000
