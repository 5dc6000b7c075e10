"""A kink side that the argument can never have is not a side "NOT reached": sg.norm's guard at the
zero vector (its sum of squares < 0) and the outer relu of relu(relu(u)) (its argument < 0) were
listed in the method as untested sides, the norm's once per row. Sides no search reaches but which
SymPy cannot rule out (x² + x + 1 < 0) are still named."""
import subprocess
import sys
import os

import numpy as np
import sympy as sp

import symgrad as sg
from symgrad.checking.kink_signs import impossible_sides
from symgrad.checking.sampling import KinkSites
from symgrad.core.differentiate import differentiate

EQUAL, NOT_EQUAL = "equal", "not equal"


def test_norm_of_vector_reports_no_unreached_side():
    x = sg.tensor("x", (3,))
    r = sg.check(sg.norm(x), x, x / sg.norm(x))
    assert r.verdict == EQUAL
    assert "NOT reached" not in r.method and "< 0" not in r.method, r.method


def test_row_norms_report_no_unreached_side_and_a_wrong_claim_is_caught():
    X = sg.tensor("X", (4, 3))
    f = sg.sum(sg.norm(X, axis=1))
    ok = sg.check(f, X, X / sg.norm(X, axis=1, keepdims=True))
    assert ok.verdict == EQUAL and "NOT reached" not in ok.method, ok.method
    bad = sg.check(f, X, X / sg.norm(X))                     # the whole matrix's norm, not each row's
    assert bad.verdict == NOT_EQUAL


def test_cli_norm_method_line_is_clean():
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    out = subprocess.run([sys.executable, "-m", "symgrad", "check", "norm(x)", "--tensor", "x:3", "--wrt", "x",
                          "--claimed", "x/norm(x)"], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0 and "equal" in out.stdout
    assert "NOT reached" not in out.stdout and "Piecewise" not in out.stdout, out.stdout


def test_signs_of_kink_arguments_against_sampled_values():
    """The oracle: a side called impossible is never seen at 2000 random points."""
    w, x, b = sp.symbols("w x b", real=True)
    X = sg.tensor("X", (2, 3))
    cases = [(sg.relu(sg.relu(w * x + b)), [w], {"w": w, "x": x, "b": b}),
             (sg.sum(sg.norm(X, axis=0)), [X], {"X": X}),
             (sg.relu(x ** 2 + x + 1), [x], {"x": x}),
             (sg.relu(w * x + b), [w], {"w": w, "x": x, "b": b})]
    rng = np.random.default_rng(0)
    said = []
    for f, wrt, syms in cases:
        D = differentiate(f, wrt)
        ks = KinkSites(D.ir, [D.output])
        never = [impossible_sides(D.ir, s) for s in ks.sites]
        said.append(never)
        for _ in range(2000):
            vals = {n: (rng.standard_normal(tuple(int(d) for d in s.shape)) if hasattr(s, "shape") and s.shape
                        else float(rng.standard_normal())) for n, s in syms.items()}
            for nv, u in zip(never, ks.values(vals)):
                for side in nv:
                    assert not np.any(side * u > 0)
    assert said[0] == [set(), {-1}]                  # relu(w·x + b) has both sides; the outer relu not
    assert all(nv == {-1} for nv in said[1])
    assert said[2] == [set()] and said[3] == [set()]  # x² + x + 1 > 0 is beyond SymPy's sign rules
