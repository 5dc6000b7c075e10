"""A security review's finding F8: ``symgrad derive --graph`` of 250 sin(aᵢ) terms summed ran past
30 s: every one-input operation was simplified with sp.simplify to recognise an average pool
(`graph_folds.pooling`, before looking for the pool's windows) and its label (``+3``, ``×2``).
Now only a pool's candidate is simplified, and a label's body once per distinct body."""
import sympy as sp

import symgrad as sg
import symgrad.teaching.graph_picture as graph_picture


def _count_simplify(monkeypatch):
    calls = []
    real = sp.simplify

    def counting(e, *a, **k):
        calls.append(e)
        return real(e, *a, **k)
    monkeypatch.setattr(sp, "simplify", counting)
    graph_picture._simplified.cache_clear()
    return calls


def test_simplify_does_not_grow_with_the_terms(monkeypatch):
    calls = _count_simplify(monkeypatch)
    a = sp.symbols("a1:41")
    src = sg.derive(sum(sp.sin(ai) for ai in a), [a[0]]).graph().source
    assert src.count("sin") >= 40
    assert len(calls) <= 10             # 40 sin nodes: the old code called it 120 times


def test_labels_still_read_numbers():
    """The labels the simplification is for: a number added, a scale."""
    graph_picture._simplified.cache_clear()
    x, y = sp.symbols("x y")
    d = sg.derive(sp.sin(x + 3) * sp.exp(2 * y) + (y - 5) ** 2 + sp.cos(x + 3), [x, y])
    labels = sorted(graph_picture.op_label(e) for e in d.ir.ancestors([d.output]) if not e.prim.leaf)
    assert labels == ["+", "+3", "cos", "exp", "sin", "×", "×2", "−5", "□²"]   # x + 3 drawn once
