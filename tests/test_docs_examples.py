"""Every Python code block of README.md and docs/*.md runs as written, each in a fresh namespace.

A user pastes one block into a fresh interpreter: a block that names something undefined (a batch X
never built), calls train without what it needs, or leans on a name an earlier block bound, fails
here. Each block runs in its own empty folder (examples save files), as its own test case named by
page and line.

What runs: a ```python block; one whose first line starts with ``>>>`` runs as a doctest (its
printed output is checked). Other blocks (```bash, plain ``` output) are shell or printed text, not
Python, and are not run. A Python block that cannot run on CI (a GPU, a signature written for
reading) is marked on the line before its fence with an HTML comment, which Markdown does not show:

    <!-- not run: REASON -->

and is reported as skipped with that reason. Pages are found by glob: a new docs page is covered.
"""
from __future__ import annotations

import doctest
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = ["README.md"] + sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md"))

FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.S | re.M)
NOT_RUN = re.compile(r"<!--\s*not run:\s*(.*?)\s*-->\s*$")


def code_blocks(text: str) -> list[tuple[int, str, str | None]]:
    """(line of the fence, code, reason it is not run or None) of each ```python block.

    >>> code_blocks("x\\n<!-- not run: needs a GPU -->\\n```python\\n1/0\\n```\\n```bash\\nls\\n```\\n")
    [(3, '1/0\\n', 'needs a GPU')]
    """
    blocks = []
    for m in FENCE.finditer(text):
        if m.group(1) != "python":
            continue
        before = text[:m.start()].rstrip("\n").rsplit("\n", 1)[-1]
        marked = NOT_RUN.search(before)
        blocks.append((text[:m.start()].count("\n") + 1, m.group(2),
                       marked.group(1) if marked else None))
    return blocks


CASES = [pytest.param(page, line, code, skip, id=f"{page}:{line}")
         for page in PAGES
         for line, code, skip in code_blocks((ROOT / page).read_text(encoding="utf-8"))]


def test_blocks_are_found_and_marks_read():
    pages = {c.values[0] for c in CASES}
    assert {"README.md", "docs/layers.md", "docs/compile.md"} <= pages
    assert len([c for c in CASES if c.values[0] == "README.md"]) >= 5
    assert code_blocks("<!-- not run: shown for reading -->\n```python\nf(\n```\n") == \
        [(2, "f(\n", "shown for reading")]


@pytest.mark.parametrize("page,line,code,skip", [c for c in CASES if c.values[3]])
def test_block_not_run_still_parses(page, line, code, skip):
    """A block marked not run (a GPU's) is still Python a reader can paste: it parses. Its names
    are checked by running a CPU variant of it by hand (TRITON_INTERPRET=1, device="cpu")."""
    try:
        compile(code, f"{page}:{line}", "exec")
    except SyntaxError as e:
        pytest.fail(f"{page}:{line} (not run: {skip}) does not parse: {e}")


def run_block(page: str, line: int, code: str) -> None:
    """Run one block in a fresh namespace; a failure names the page and line."""
    where = f"{page}:{line}"
    if code.lstrip().startswith(">>>"):
        test = doctest.DocTestParser().get_doctest(code, {"__name__": "__doc_example__"},
                                                   where, where, line)
        runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
        report = []
        runner.run(test, out=report.append)
        if runner.failures:
            pytest.fail(f"{where}: the doctest fails:\n" + "".join(report))
        return
    try:
        exec(compile(code, where, "exec"), {"__name__": "__doc_example__"})
    except Exception as e:                  # name the block: the traceback's file is the page
        pytest.fail(f"{where}: {type(e).__name__}: {e}")


@pytest.mark.slow
@pytest.mark.parametrize("page,line,code,skip", CASES)
def test_block_runs(page, line, code, skip, tmp_path, monkeypatch):
    if skip:
        pytest.skip(f"{page}:{line} is marked not run: {skip}")
    pytest.importorskip("sklearn")                  # the training examples load its digits
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))      # an example may import the module it saved
    run_block(page, line, code)
