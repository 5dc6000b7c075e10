"""Every link of README.md and docs/*.md leads somewhere, and every file path they name exists.

A reader follows `[text](target)`: a relative target must be a file of the repository, and a
`#anchor` must be a heading of the target page, slugged as GitHub slugs it (lower case, punctuation
dropped, each space a hyphen, a repeated heading -1, -2, ...). Code blocks and `code spans` hold no
links (`model[0](X)` is Python). Paths written out in the text (`tests/codegen/test_triton_max.py`,
`symgrad/checking/sides.py`, in prose or in a shell line) must exist too: a test moved to another
folder left a page pointing at nothing. Pages are found by glob, as in test_docs_examples.py.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md"))

FENCE = re.compile(r"^```.*?^```", re.S | re.M)
SPAN = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"\[[^\]\n]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$", re.M)
# a path of the repository written out: starts with one of its top folders
REPO_PATH = re.compile(r"(?<![\w./-])((?:symgrad|tests|examples|bench|codegen|docs|\.ci)/[\w./*-]*)")


def without_code(text: str) -> str:
    """The text with fenced blocks and code spans blanked (newlines kept, so lines still count)."""
    text = FENCE.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    return SPAN.sub("", text)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading.

    >>> slug("NumPy / PyTorch idiom → symgrad")
    'numpy--pytorch-idiom--symgrad'
    >>> slug("Checking a compiled program: `sg.gradcheck`")
    'checking-a-compiled-program-sggradcheck'
    """
    s = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return s.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """The anchors of a page's headings (those inside code blocks are not headings)."""
    seen: dict[str, int] = {}
    out = set()
    for m in HEADING.finditer(FENCE.sub("", page.read_text(encoding="utf-8"))):
        base = slug(m.group(1))
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.add(base if n == 0 else f"{base}-{n}")
    return out


def broken_links(page: Path) -> list[str]:
    """'line: target (why)' for each link of the page that leads nowhere."""
    text = without_code(page.read_text(encoding="utf-8"))
    bad = []
    for m in LINK.finditer(text):
        target = m.group(1)
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):          # https:, mailto: — not checked
            continue
        line = text[:m.start()].count("\n") + 1
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if not dest.exists():
            bad.append(f"{line}: {target} (no file {dest.relative_to(ROOT) if dest.is_relative_to(ROOT) else dest})")
        elif anchor and (dest.suffix != ".md" or anchor not in anchors(dest)):
            bad.append(f"{line}: {target} (no heading #{anchor} in {dest.name})")
    return bad


def missing_paths(text: str) -> list[str]:
    """'line: path' for each repository path the text names that does not exist."""
    bad = []
    for m in REPO_PATH.finditer(text):
        path = m.group(1).rstrip(".,;:")
        if "*" in path:
            found = list(ROOT.glob(path))
        else:
            found = (ROOT / path).exists()
        if not found:
            bad.append(f"{text[:m.start()].count(chr(10)) + 1}: {path}")
    return bad


def test_checks_can_fail(tmp_path):
    assert slug("NumPy / PyTorch idiom → symgrad") == "numpy--pytorch-idiom--symgrad"
    page = tmp_path / "docs" / "p.md"
    page.parent.mkdir()
    (tmp_path / "docs" / "q.md").write_text("# Q\n## Two words: `code`\n## Two words: `code`\n")
    page.write_text("[a](q.md#two-words-code-1) [b](q.md#nope) [c](gone.md)\n"
                    "```python\nm[0](X)\n```\n`x[0](y)` [d](#p) [e](https://example.org)\n# P\n")
    bad = broken_links(page)
    assert [b.split(" ")[1] for b in bad] == ["q.md#nope", "gone.md"]
    assert missing_paths("see `tests/no_such_test.py`,\nand tests/test_docs_links.py, "
                         "symgrad/checking/*.py") == ["1: tests/no_such_test.py"]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_links_lead_somewhere(page):
    assert broken_links(page) == []


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_named_paths_exist(page):
    assert missing_paths(page.read_text(encoding="utf-8")) == []
