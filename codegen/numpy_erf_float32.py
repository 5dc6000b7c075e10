"""erf of a float32 array in 31 NumPy passes: the generated module's erf helper for float32 steps.

NumPy has no erf. SciPy's ``scipy.special.erf`` is exact, but its float32 loop evaluates every entry
in float64 through a scalar C function: 16 ns an entry, so the one erf a GELU layer needs (shared by
the forward and the backward, `codegen.numpy_shared_erf`) was 8–9 ms of a 100 ms transformer step at
T = 64, D = 128, N = 32, and a third of a pre-norm MLP's step (bench/transformer_step.py --profile,
bench/port_step.py). For a float32 array the helper evaluates instead two polynomials, each pass over
the array one vectorized NumPy ufunc, in float32, block by block of 64K entries so that the
temporaries stay in the cache, in three scratch arrays of a block that each thread keeps between
calls (a new 256 KB temporary is memory that glibc maps afresh and the kernel zeroes, page by page).
Over (32, 64, 512): 3.6 ms of one core, where the former form (masks to choose the branch, numpy.exp)
took 4.6 and torch.erf takes 1.5 (docs/benchmarks.md, 2026-11-30, erf).
With the seam between the two at |x| = 1, neither branch needs a mask, and the sign of x comes from
x clipped to [−1, 1], which is ±1 exactly past the seam:

    xs = clip(x, −1, 1),  t = clip(|x|, 1, 4)          (erf(±4) is ±1 in float32; NaN stays NaN)
    erf(x) = xs·(P(xs²) − (E(t) − E(1))),   E(t) = e^(−t²)·Q(2/(2 + t)) ≈ erfc(t)

    |x| < 1:   t = 1, so E(t) − E(1) is 0 exactly (E(1) is worked out by the same passes, at import;
               were it a unit off, that unit times xs would be a relative error of 1e-8), and
               erf(x) = x·P(x²)                                                   P of degree 5
    |x| ≥ 1:   xs = ±1, and erf(x) = ±(P(1) + E(1) − E(|x|)) = ±(1 − erfc(|x|))   Q of degree 4
               (Q's coefficients scaled by 1 + a few 1e-9 so that P(1) + E(1) is 1 in float32's
               rounding; e^(t²)·erfc(t) is smooth on [1, ∞) and in u = 2/(2 + t) nearly a polynomial)

The sign xs multiplies once, at the end (31 passes; multiplying the tail term by xs on its own and
adding it to xs·P, as before 2026-11-30's last session, gives the same float32 numbers bit for bit:
xs is ±1 or the tail term 0, and a rounding of −v is minus v's). erf(−0.0) is −0.0 (P(0)·(−0.0)), NaN
gives NaN and ±∞ gives ±1, as SciPy's, with no floating-point warning. e^(−t²) is ``numpy.exp2`` of −t²·log₂e: NumPy's float32
exp2 is twice as fast as its exp and within 1 unit in the last place (exp: 2.4).

The coefficients were fitted for symgrad by bench/fit_erf_float32.py (least squares on Chebyshev
points, reweighted towards the largest errors): P to erf(x)/x on [0, 1] in x² (largest relative
error 4e-8), Q to e^(t²)·erfc(t) on [1, 4] in u, weighted by e^(−t²) (largest error of erfc 1e-8).
The float32 evaluation rounds: the result is within 2.5 units in the last place of float32 of the
true erf (tests/codegen/test_numpy_erf_float32.py measures it over a dense grid), where SciPy's is
within 0.5 — torch's own float32 erf is a polynomial too. The constant term of P is 2/√π in float32,
which lies almost midway between two float32 numbers: near 0 that alone is up to 0.9 of a unit.
Float64 arrays keep SciPy's exact erf (or math.erf entry by entry without SciPy).
"""
from __future__ import annotations

import math

# P (highest power first) and Q, float32 numbers written out exactly; bench/fit_erf_float32.py
ERF_SMALL = (-0.0005631443345919251, 0.00491755735129118, -0.026711316779255867, 0.11280180513858795,
             -0.37612324953079224, 1.1283791065216064)
ERF_LARGE = (-0.038760725408792496, 0.7236565947532654, -0.06144842132925987, 0.3924601078033447,
             -0.013506275601685047)
SEAM = 1.0          # |x| below: x·P(x²); x clipped to [−SEAM, SEAM] is the sign of x past it
LARGEST = 4.0       # erf(4) is 1 in float32: |x| is clipped there
MINUS_LOG2_E = -1 / math.log(2)


def helper_lines(small=ERF_SMALL, large=ERF_LARGE) -> list:
    """The helper's source with the coefficients ``small`` (P) and ``large`` (Q), highest power
    first; bench/fit_erf_float32.py prints it with the ones it tries."""
    return [
        "# erf of a float32 array: xs·(P(xs²) − (E(t) − E(1))) for xs = x clipped to [−1, 1] and",
        "# t = |x| clipped to [1, 4], E(t) = exp(−t²)·Q(2/(2 + t)) ≈ erfc(t); the coefficients were fitted",
        "# by symgrad (codegen/numpy_erf_float32.py, bench/fit_erf_float32.py): within 2.5 units in the",
        "# last place of float32 of the true erf, in NumPy passes instead of SciPy's float64 entry loop",
        f"_ERF_SMALL = {tuple(small)!r}",
        f"_ERF_LARGE = {tuple(large)!r}",
        "",
        "",
        "_ERF_BLOCK = 65536      # entries worked out at a time: the temporaries stay in the cache",
        "_erf_scratch = threading.local()   # per thread: a block's three temporaries, kept between calls",
        "",
        "",
        "def _erfc_from_1(t, e, q):",
        '    """E(t) = exp(−t²)·Q(2/(2 + t)) ≈ erfc(t) into q, for t ≥ 1 in t (overwritten); e scratch."""',
        f"    numpy.multiply(t, {MINUS_LOG2_E!r}, out=e)",
        "    e *= t",
        "    numpy.exp2(e, out=e)                        # exp(−t²)",
        "    t += 2",
        "    u = numpy.divide(2, t, out=t)",
        "    numpy.multiply(u, _ERF_LARGE[0], out=q)",
        "    for c in _ERF_LARGE[1:-1]:",
        "        q += c",
        "        q *= u",
        "    q += _ERF_LARGE[-1]",
        "    q *= e",
        "    return q",
        "",
        "",
        "# E(1), by the same passes as every entry's: E(1) − E(t) is 0 exactly where t was clipped to 1",
        f"_ERFC_AT_1 = _erfc_from_1(*numpy.full((3, 16), {SEAM!r}, dtype=numpy.float32))[0]",
        "",
        "",
        "def _erf_float32(x, out=None):",
        '    """erf of each entry of the float32 array x, block by block of _ERF_BLOCK entries, into out',
        "    (a contiguous float32 array of x's shape; x itself may be it: each block's entries are read",
        "    before they are written) or a new array; NaN gives NaN and ±inf ±1 without a floating-point",
        "    warning, as SciPy's erf (a comparison or clip of NaN may set the invalid flag on some NumPy",
        '    builds)."""',
        "    flat = numpy.ascontiguousarray(x).reshape(-1)",
        "    if out is None:",
        "        out = numpy.empty(x.shape, dtype=x.dtype)",
        "    work = _erf_work(min(flat.size, _ERF_BLOCK))",
        "    with numpy.errstate(invalid='ignore'):",
        "        for i in range(0, flat.size, _ERF_BLOCK):",
        "            block = flat[i:i + _ERF_BLOCK]",
        "            _erf_block(block, out.reshape(-1)[i:i + _ERF_BLOCK], *(w[:block.size] for w in work))",
        "    return out",
        "",
        "",
        "def _erf_work(n):",
        '    """Three float32 temporaries of a block of n entries for this thread (rows of a (3, ≥ n)',
        '    array), kept between calls: used by erf and by gelu_phi (codegen/numpy_gelu_phi.py)."""',
        "    work = getattr(_erf_scratch, 'work', None)",
        "    if work is None or work.shape[1] < n:",
        "        work = _erf_scratch.work = numpy.empty((3, n), dtype=numpy.float32)",
        "    return work",
        "",
        "",
        "def _erf_block(x, out, a, b, c):",
        '    """erf of the float32 entries x into out, a, b, c scratch arrays of x\'s size: no masks, no',
        "    numpy.where or numpy.copysign (each 5-10 times slower than a product); erf(−0.0) is −0.0:",
        '    P(0)·(−0.0)."""',
        "    t = numpy.abs(x, out=a)",
        f"    numpy.clip(t, {SEAM!r}, {LARGEST!r}, out=t)            # erf(4) is 1 in float32; NaN stays NaN",
        "    tail = _erfc_from_1(t, b, c)",
        "    tail -= _ERFC_AT_1                          # erfc(|x|) − erfc(1), 0 below the seam",
        f"    xs = numpy.clip(x, {-SEAM!r}, {SEAM!r}, out=a)        # x below the seam, its sign past it",
        "    s = numpy.multiply(xs, xs, out=b)",
        "    numpy.multiply(s, _ERF_SMALL[0], out=out)",
        "    for p in _ERF_SMALL[1:-1]:",
        "        out += p",
        "        out *= s",
        "    out += _ERF_SMALL[-1]                       # P(xs²)",
        "    out -= tail",
        "    out *= xs                                   # xs·(P(xs²) + erfc(1) − erfc(|x|)): one product",
    ]


# the helper's source, printed into the generated module by NumpyPrinter (HELPERS["erf"])
HELPER_LINES = helper_lines()
