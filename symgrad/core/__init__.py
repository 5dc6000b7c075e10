"""The core: SymPy to IR, the rule table, and the differentiation drivers.

- `ir`: the flat, hash-consed list of equations (CSE by construction) and shapes;
- `policy`: the subgradient policy (relu'(0) = 1, a max tie to the first of SymPy's arguments or split, |x|'(0) = 0);
- `rules`: the primitives, one row each (shape, reference implementation, VJP, JVP, SymPy form);
- `lower`: SymPy expressions to IR equations;
- `reverse`, `forward`: the generic reverse and forward accumulation drivers;
- `to_sympy`: IR back to readable SymPy, and the CSE'd straight-line program;
- `evaluate`: the reference evaluator (NumPy) of an IR graph;
- `values`: values keyed by a symbol or by its name;
- `array_rules`, `lower_tensor`: the N-d primitives of tensors (NumPy semantics) and their lowering,
  registered into the rule table and the lowering registry by ``import symgrad``;
- `differentiate`: `grad`, `jacobian`, `hessian`, and `differentiate` (the record teaching and
  checking read);
- `stable_logs`: log(softmax(z)) read as log_softmax(z), with `ewise_rewrites`, the walk that
  rebuilds a graph's outputs around rewritten elementwise equations (compiling's stable forms use
  it too).

May import: `symgrad.errors` and `symgrad.frontend`. Never teaching, checking, compiling, the command
line, or a backend of `codegen`.
"""
