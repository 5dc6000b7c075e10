"""erf of a float32 array in about 30 NumPy passes: the generated module's erf helper for float32 steps.

NumPy has no erf. SciPy's ``scipy.special.erf`` is exact, but its float32 loop evaluates every entry
in float64 through a scalar C function: 16 ns an entry, so the one erf a GELU layer needs (shared by
the forward and the backward, `codegen.numpy_shared_erf`) was 8–9 ms of a 100 ms transformer step at
T = 64, D = 128, N = 32, and a third of a pre-norm MLP's step (bench/transformer_step.py --profile,
bench/port_step.py). For a float32 array the helper evaluates instead two polynomials, each pass over
the array one vectorized NumPy ufunc, in float32, block by block of 64K entries so that the
temporaries stay in the cache (about 4× faster than SciPy at 1M entries on a quiet machine, 2.5×
more again when other processes contend for memory bandwidth), in five scratch arrays of a block
that each thread keeps between calls (1.3 MB: a new 128 KB temporary is memory that glibc maps
afresh and the kernel zeroes, page by page, in about every other call — 3× the time of the block):

    |x| < 0.75:        erf(x) = x·P(x²)                           P of degree 5
    0.75 ≤ t = |x|:    erf(x) = sign(x)·(1 − e^(−t²)·Q(u)),  u = 1/(1 + t/2)      Q of degree 5
                       (e^(t²)·erfc(t) is smooth and slowly varying on [0.75, ∞); in u it is nearly
                       a polynomial; t is clipped at 4, where erf is 1 in float32)

The coefficients were fitted for symgrad (least squares on Chebyshev points, reweighted towards
the largest errors): P to erf(x)/x on [0, 0.75] in x² (largest relative error 1.6e-9), Q to
e^(t²)·erfc(t) on [0.75, 4] in u, weighted by e^(−t²) (largest error of erfc 7e-10). The float32
evaluation rounds: the result is within 2.5 units in the last place of float32 of the true erf
(tests/codegen/test_numpy_erf_float32.py measures it over a dense grid), where SciPy's is within
0.5 — torch's own float32 erf is a polynomial too. NaN stays NaN, erf(±∞) = ±1 and
erf(−0.0) = −0.0, as SciPy's, with no floating-point warning.
Float64 arrays keep SciPy's exact erf (or math.erf entry by entry without SciPy).
"""
from __future__ import annotations

ERF_SMALL = (-0.000677509237, 0.00511808033, -0.0268365641, 0.11283419, -0.376126222, 1.12837917)
ERF_LARGE = (-0.223121044, 0.613738859, -0.0371484454, 0.380604031, 0.26448543, 0.00125938341)
SMALL_BELOW = 0.75

# the helper's source, printed into the generated module by NumpyPrinter (HELPERS["erf"])
HELPER_LINES = [
    "# erf of a float32 array: x·P(x²) for |x| < 0.75, else sign(x)·(1 − exp(−x²)·Q(1/(1 + |x|/2)));",
    "# the coefficients were fitted by symgrad (codegen/numpy_erf_float32.py): within 2.5 units in the",
    "# last place of float32 of the true erf, in NumPy passes instead of SciPy's float64 entry loop",
    f"_ERF_SMALL = {ERF_SMALL!r}",
    f"_ERF_LARGE = {ERF_LARGE!r}",
    "",
    "",
    "_ERF_BLOCK = 65536      # entries worked out at a time: the temporaries stay in the cache",
    "_erf_scratch = threading.local()   # per thread: a block's five temporaries, kept between calls",
    "",
    "",
    "def _erf_float32(x):",
    '    """erf of each entry of the float32 array x, block by block of _ERF_BLOCK entries; NaN',
    "    gives NaN and ±inf ±1 without a floating-point warning, as SciPy's erf (a comparison or",
    '    clip of NaN may set the invalid flag on some NumPy builds)."""',
    "    flat = numpy.ascontiguousarray(x).reshape(-1)",
    "    out = numpy.empty(x.shape, dtype=x.dtype)",
    "    n = min(flat.size, _ERF_BLOCK)",
    "    work = getattr(_erf_scratch, 'work', None)",
    "    if work is None or work.shape[1] < n:",
    "        work = _erf_scratch.work = numpy.empty((5, n), dtype=numpy.float32)",
    "    with numpy.errstate(invalid='ignore'):",
    "        for i in range(0, flat.size, _ERF_BLOCK):",
    "            block = flat[i:i + _ERF_BLOCK]",
    "            _erf_block(block, out.reshape(-1)[i:i + _ERF_BLOCK], *(w[:block.size] for w in work))",
    "    return out",
    "",
    "",
    "def _erf_block(x, out, xc, s, small, u, large):",
    '    """erf of the float32 entries x into out, by the two polynomials above (Horner\'s rule in the',
    "    scratch arrays xc, s, small, u, large, all of x's size; no numpy.where, numpy.minimum or",
    '    numpy.copysign: each is 5-10 times slower than a product)"""',
    "    numpy.clip(x, -4, 4, out=xc)                # erf(±4) is ±1 in float32; NaN stays NaN",
    "    numpy.multiply(xc, xc, out=s)",
    "    numpy.multiply(s, _ERF_SMALL[0], out=small)",
    "    for c in _ERF_SMALL[1:-1]:",
    "        small += c",
    "        small *= s",
    "    small += _ERF_SMALL[-1]",
    "    small *= xc",
    "    t = numpy.abs(xc, out=out)                  # |x|, in out until the result goes there",
    "    numpy.add(t, 2, out=u)",
    "    numpy.divide(2, u, out=u)                   # u = 1/(1 + t/2)",
    "    numpy.multiply(u, _ERF_LARGE[0], out=large)",
    "    for c in _ERF_LARGE[1:-1]:",
    "        large += c",
    "        large *= u",
    "    large += _ERF_LARGE[-1]",
    "    large /= numpy.exp(s, out=s)                # e^(−t²)·Q(u) = erfc(t)",
    "    numpy.subtract(1, large, out=large)         # erf(t)",
    "    # the branch of each entry, as 0/1 factors (both branches are finite, or NaN together):",
    "    # small·[t < 0.75] − large·([x ≤ −0.75] − [x ≥ 0.75]); a difference, not a sum, so that",
    "    # erf(−0.0) is −0.0: (−0.0) − (+0.0) is −0.0 where (−0.0) + (+0.0) is +0.0 (large > 0 at 0)",
    f"    small *= numpy.less(t, {SMALL_BELOW!r}, out=t)",
    f"    negative = numpy.less_equal(xc, {-SMALL_BELOW!r}, out=u)",
    f"    negative -= numpy.greater_equal(xc, {SMALL_BELOW!r}, out=s)",
    "    large *= negative",
    "    numpy.subtract(small, large, out=out)",
]
