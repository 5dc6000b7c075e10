"""The generated step's dtype check at entry: every parameter and slot an array of the module's DTYPE.

``step`` updates its parameters and slots in place. A saved float32 module handed float64 arrays
computed in mixed precision and wrote float32-rounded updates into the float64 arrays, silently
(``Program.step`` converts before it calls the module; a caller of the saved module has no such
layer). ``check_dtypes``, a function of the generated module, compares each array's dtype with DTYPE
(one comparison an array, no conversion) and raises TypeError for the first that differs, naming it
(``p0``, ``s0_1``; the comments under DTYPE tie each to its symbol), what it is and what to pass,
before anything is changed. A symbol's name itself goes into no string of the module
(tests/codegen/test_safety.py): the message points to the comments that hold it.
"""
from __future__ import annotations


def call_lines(spec) -> list:
    """step's lines after its shape checks: ``check_dtypes`` of the parameters, and of the slots when
    the optimizer has any (without, step has deleted the empty ``slots``)."""
    from .numpy_backend import _slots
    args = "params, slots" if _slots(spec) else "params"
    return ["# dtypes at entry: step updates its arrays in place, in DTYPE; one of another dtype is",
            "# refused here (TypeError), before anything is changed, never converted",
            f"check_dtypes({args})"]


def helper_lines(slot_names) -> list:
    """``check_dtypes(params, slots=())`` for a module whose optimizer has the slots ``slot_names``
    (slot-major, as step takes them: s<i>_<k> is slot k of p<i>)."""
    lines = [
        "def check_dtypes(params, slots=()):",
        '    """step\'s check at entry: each parameter and slot is an array of DTYPE (step updates them in',
        "    place, and a float64 array in a float32 module would be updated in mixed precision). Converts",
        '    nothing; raises TypeError for the first one that is not, before anything is changed."""',
        "    for i, a in enumerate(params):",
        "        if a.dtype != DTYPE:",
        "            wrong_dtype('parameter p%d' % i, 'p%d' % i, a)",
    ]
    if slot_names:
        lines += [
            f"    slot_names = {tuple(slot_names)!r}",
            "    for j, a in enumerate(slots):",
            "        if a.dtype != DTYPE:",
            "            i, k = j % len(params), j // len(params)",
            "            wrong_dtype('slot s%d_%d (the slot %r of p%d)' % (i, k, slot_names[k], i), 's%d_%d' % (i, k), a)",
        ]
    lines += [
        "",
        "",
        "def wrong_dtype(what, name, a):",
        '    """The TypeError of `check_dtypes`: ``what`` (the array ``name``) is ``a``, not of DTYPE."""',
        "    raise TypeError('step: %s is an array of %s; this module computes in %s and updates its arrays'",
        "                    ' in place: pass %s.astype(DTYPE), and keep that array (step updates it). Nothing'",
        "                    ' was changed. (The comments under DTYPE name the symbol of each parameter.)'",
        "                    % (what, a.dtype, numpy.dtype(DTYPE).name, name))",
    ]
    return lines
