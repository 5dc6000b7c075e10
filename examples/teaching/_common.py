"""Shared by the teaching examples: print a derivation, write its picture (and LaTeX) to --out."""
from __future__ import annotations

import argparse
import shutil
from pathlib import Path

OUT = Path(__file__).resolve().parents[2] / "out" / "teaching"


def arguments(argv, doc):
    p = argparse.ArgumentParser(description=doc.splitlines()[0])
    p.add_argument("--out", type=Path, default=OUT, help="where to write the picture (default: out/teaching)")
    p.add_argument("--format", default="unicode", choices=["text", "unicode", "markdown", "latex"])
    return p.parse_args(argv)


def publish(name, d, args):
    """Print the derivation; write <name>.svg/.png (needs Graphviz's dot) and <name>.tex."""
    print(d.render(args.format))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{name}.tex").write_text(d.latex(document=True))
    if shutil.which("dot") is None:
        print("(no picture: Graphviz's dot is not installed; apt-get install graphviz)")
        return
    from symgrad.teaching.graph_picture import save
    dot = d.graph()
    for ext in ("svg", "png"):
        save(dot, args.out / f"{name}.{ext}")
    print(f"picture: {args.out / (name + '.png')}")
