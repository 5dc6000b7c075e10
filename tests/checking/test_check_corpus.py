"""Every hand derivation of the corpus (tests/check_corpus.py) is classified as its author expected,
and the wrong ones get the hint named there."""
from collections import Counter

import pytest

import symgrad as sg
from check_corpus import ENTRIES

VERDICT = {"right": "equal", "wrong": "not equal",
           "kink": "equal except at points where f is not differentiable"}


def test_corpus_size():
    n = Counter(e.expected for e in ENTRIES)
    assert n["right"] >= 30 and n["wrong"] >= 30
    assert len({e.name for e in ENTRIES}) == len(ENTRIES)


@pytest.mark.parametrize("e", ENTRIES, ids=[e.name for e in ENTRIES])
def test_entry(e):
    r = sg.check(e.f, e.wrt, e.claimed, at=e.at)
    assert r.verdict == VERDICT[e.expected], str(r)
    assert bool(r) == (e.expected != "wrong")
    if e.expected == "wrong":
        assert r.counterexample is not None
        if e.hint is not None:
            assert r.hint is not None and r.hint.startswith(e.hint), str(r)
    else:
        assert r.counterexample is None


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_equal_forms_are_never_called_wrong(seed):
    """The issue's examples of right answers in another form, at other random points."""
    forms = [e for e in ENTRIES if e.name in ("sigmoid: s(1-s)", "sigmoid: exp form",
                                                "|Ax-b|^2: 2A'(Ax-b)", "|Ax-b|^2: 2(A'Ax - A'b)")]
    assert len(forms) == 4
    for e in forms:
        assert sg.check(e.f, e.wrt, e.claimed, seed=seed).verdict == "equal"
