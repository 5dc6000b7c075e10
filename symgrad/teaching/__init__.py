"""Teaching: `derive` and the views of a derivation as lecture notes write it.

- `derivation`: `derive` and `Derivation` (the core's record plus its views);
- `steps`: the chain-rule steps, one per node, with numbers when given a point;
- `calculus`: a derivative narrated with the rules of a calculus course;
- `render`: text, Unicode, Markdown and LaTeX;
- `graph_picture`: the computational graph as a graphviz picture;
- `display`: one-line reprs, Markdown/HTML escaping and a loss sparkline, for the results' notebook display.

May import: `symgrad.errors`, `symgrad.frontend`, `symgrad.core`.
"""
