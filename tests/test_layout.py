"""The package's shape: sub-packages in pipeline order, imports flowing one way, no circles, and a
light ``import symgrad`` that loads no backend (`symgrad/*/__init__.py` say what each may import)."""
from __future__ import annotations

import ast
import pathlib
import subprocess
import sys

import pytest

import symgrad

ROOT = pathlib.Path(symgrad.__file__).parent
# The pipeline, in order: a sub-package may import only those before it.
ORDER = ["errors", "frontend", "core", "teaching", "checking", "compiling", "cli"]
TOP_LEVEL_FILES = {"__init__.py", "__main__.py", "errors.py"}


def _module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: pathlib.Path) -> set[str]:
    """Every module this file imports, at the top or inside a function, resolved to absolute names
    (``from . import x`` counts as the module ``pkg.x`` when that is a module)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module
            found.add(mod)
            found.update(f"{mod}.{a.name}" for a in node.names if _exists(f"{mod}.{a.name}"))
    return found


def _exists(module: str) -> bool:
    if not module.startswith("symgrad."):
        return False
    rel = pathlib.Path(*module.split(".")[1:])
    return (ROOT / rel).with_suffix(".py").exists() or (ROOT / rel / "__init__.py").exists()


def _modules() -> dict[str, set[str]]:
    graph = {}
    for path in sorted(ROOT.rglob("*.py")):
        name = _module_name(path)
        graph[name] = {m for m in _imports(path) if m == "symgrad" or m.startswith(("symgrad.", "codegen"))}
    return graph


def _stage(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def test_top_level_holds_only_init_main_errors_and_sub_packages():
    loose = sorted(p.name for p in ROOT.iterdir() if p.is_file() and p.suffix == ".py"
                   and p.name not in TOP_LEVEL_FILES)
    assert loose == [], f"modules at the top of symgrad/: {loose}; they belong in a sub-package"
    packages = sorted(p.name for p in ROOT.iterdir() if (p / "__init__.py").exists())
    assert packages == sorted(ORDER[1:]), packages
    for p in packages:
        doc = ast.get_docstring(ast.parse((ROOT / p / "__init__.py").read_text()))
        assert doc and "May import" in doc or "may import" in (doc or ""), \
            f"symgrad/{p}/__init__.py should say what it holds and what it may import"


def test_sub_packages_import_only_earlier_stages():
    wrong = []
    for mod, deps in _modules().items():
        stage = _stage(mod)
        if stage is None or stage == "__main__":
            continue
        for dep in deps:
            if dep == "symgrad" and stage != "cli":
                wrong.append(f"{mod} imports the whole package (symgrad), which imports every stage")
                continue
            if dep.startswith("codegen"):
                wrong.append(f"{mod} imports the backend module {dep}")
                continue
            target = _stage(dep)
            if target is None or target == stage:
                continue
            if ORDER.index(target) > ORDER.index(stage):
                wrong.append(f"{mod} ({stage}) imports {dep} ({target}), which comes after it")
    assert wrong == [], "\n".join(wrong)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in graph:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_no_import_circles_between_modules():
    # The package itself re-exports the public names (and loads the heavier ones on first use), so
    # edges into ``symgrad`` are left out: a module reaches the package's public names, never back.
    graph = {m: {d for d in deps if d != "symgrad" and not d.startswith("codegen")}
             for m, deps in _modules().items() if m != "symgrad"}
    assert _cycles(graph) == []


def test_the_walker_sees_a_backward_import_and_a_circle():
    """The checks above can fail: a made-up core module importing teaching, and a made-up circle."""
    fake = {"symgrad.core.a": {"symgrad.teaching.b"}, "symgrad.teaching.b": {"symgrad.core.a"}}
    assert _cycles(fake) == [["symgrad.core.a", "symgrad.teaching.b"]]
    assert ORDER.index(_stage("symgrad.teaching.b")) > ORDER.index(_stage("symgrad.core.a"))


def test_relative_imports_are_resolved(tmp_path):
    # `from ..core import rules` inside symgrad/teaching/x.py is the module symgrad.core.rules
    deps = _imports(ROOT / "teaching" / "graph_picture.py")
    assert "symgrad.core.rules" in deps and "symgrad.teaching.render" in deps


@pytest.mark.parametrize("heavy", ["codegen", "torch", "triton"])
def test_import_symgrad_loads_no_backend(heavy):
    code = ("import sys, symgrad, sympy as sp; x = sp.Symbol('x'); symgrad.grad(x**2, x); "
            f"print(sorted(m for m in sys.modules if m == {heavy!r} or m.startswith({heavy!r} + '.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout
