"""The windowed primitives of convolution and pooling in NumPy, rows of the table
`codegen.printers.numpy_tensor.FORMS` (registered there). No Python loop over positions:

    conv[stride, pads, ldil, rdil]   im2col: x placed channel-last into a zero-bordered buffer, its
                                     windows copied at once (3 or more channels), or one clipped
                                     strided slice copy per kernel offset (fewer), then one GEMM over
                                     (*K, C) — for large examples a chunk of them at a time, copy
                                     then GEMM, in the cache (`_chunks`); GEMM first, then one slice-add
                                     per offset, where the output has ≤ half the input's channels; a
                                     weight gradient (the conv of xᵀ with δᵀ): one GEMM over the
                                     forward's im2col buffer, kept for it, or over the same chunks
                                     copied again from x's buffer; an input dilation (ldil ≠ 1):
                                     the dilated, padded input's windows as a view
                                     (sliding_window_view), one numpy.tensordot
    flip[axes]                       numpy.flip(a, axes)                        a view
    windows[K, stride, pads, dil]    numpy.pad, sliding_window_view, strided, copied once, kernel axes
                                     outermost in memory (seen in the declared order)
    fold[shape, K, stride, pads]     zeros; one strided slice-add per kernel offset (k of them, each
                                     over every position at once; an assignment where windows do not
                                     overlap, into an empty array where they tile); the padding cut off

The (N, C, *S) arrays these forms make are channel-last in memory, (N, *S, C), seen in the declared
order through a transposed view (`_channel_last`); the im2col and GEMM-first buffers never leave the
function, and the training step keeps them from one call to the next (`_keep`).

>>> from codegen.printers.numpy_tensor import FORMS
>>> sorted(k for k in FORMS if k in ("conv", "flip", "windows", "fold"))
['conv', 'flip', 'fold', 'windows']
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import sympy as sp

from symgrad.frontend.conv import dilated

SWV = "numpy.lib.stride_tricks.sliding_window_view"


def _fill(v) -> str:
    v = sp.sympify(v)
    if v == -sp.oo:
        return "-numpy.inf"
    return repr(float(v))


def _padded(c, name: str, x: str, shape, pads, ld=None, fill="0.0") -> tuple[list, str]:
    """Lines that make x (N, C, *S) dilated by ``ld`` and padded by ``pads`` (negative: cropped);
    returns (lines, the code of the result)."""
    nd = len(pads)
    ld = ld or (1,) * nd
    S = [int(s) for s in shape[-nd:]]
    lead = "".join(":, " for _ in shape[:-nd])
    if all(d == 1 for d in ld) and all(lo >= 0 and hi >= 0 for lo, hi in pads):
        if not any(lo or hi for lo, hi in pads):
            return [], x
        widths = tuple([(0, 0)] * (len(shape) - nd) + [(lo, hi) for lo, hi in pads])
        return [f"{name} = numpy.pad({x}, {widths}, constant_values={fill})"], name
    # zeros of the padded extent, x's entries placed every ld-th position from lo (those inside)
    full, into, take = [], [], []
    for s, d, (lo, hi) in zip(S, ld, pads):
        n = dilated(s, d) + lo + hi
        i0 = max(0, -(lo // d)) if lo < 0 else 0
        while lo + i0 * d < 0:
            i0 += 1
        i1 = s
        while i1 > i0 and lo + (i1 - 1) * d >= n:
            i1 -= 1
        full.append(n)
        into.append(f"{lo + i0 * d}:{lo + (i1 - 1) * d + 1}" + (f":{d}" if d != 1 else ""))
        take.append(f"{i0}:{i1}")
    out_shape = c.shape(tuple(shape[:-nd]) + tuple(full))
    lines = [f"{name} = numpy.full({out_shape}, {fill}, dtype=DTYPE)" if fill != "0.0" else
             f"{name} = numpy.zeros({out_shape}, dtype=DTYPE)",
             f"{name}[{lead}{', '.join(into)}] = {x}[{lead}{', '.join(take)}]"]
    return lines, name


def _window_slices(nlead: int, stride, dil) -> str:
    parts = [":"] * nlead + [f"::{s}" if s != 1 else ":" for s in stride] + \
        [f"::{d}" if d != 1 else ":" for d in dil]
    while parts and parts[-1] == ":":
        parts.pop()
    return f"[{', '.join(parts)}]" if parts else ""


def _windows_code(x: str, nlead: int, kernel, stride, dil) -> str:
    nd = len(kernel)
    span = tuple(dilated(k, d) for k, d in zip(kernel, dil))
    axes = tuple(range(nlead, nlead + nd))
    return f"{SWV}({x}, {span}, axis={axes}){_window_slices(nlead, stride, dil)}"


def _offsets(size: int, k: int, out: int, lo: int, stride: int, dil: int) -> list:
    """Per kernel offset j < k along one axis: (j, the output positions o, the input positions
    o·stride + j·dil − lo) as slices, the o kept where that input position is inside 0 … size − 1
    (outside it is padding: zero). Offsets that reach no input are left out."""
    rows = []
    for j in range(k):
        at = [o for o in range(out) if 0 <= o * stride + j * dil - lo < size]
        if at:
            i0 = at[0] * stride + j * dil - lo
            step = f":{stride}" if stride != 1 else ""
            rows.append((j, f"slice({at[0]}, {at[-1] + 1})",
                         f"slice({i0}, {i0 + (at[-1] - at[0]) * stride + 1}{', ' + str(stride) if step else ''})"))
    return rows


def _conv_im2col(c, e) -> list:
    # im2col without padding the input: cols[n, *o, *k, c] = x[n, c, o·stride + k·dil − lo] where that
    # is inside x (zero where it falls in the padding), one strided slice copy per kernel offset (the
    # o that reach x listed per axis); then one GEMM over (*K, C). Cheaper than numpy.pad plus a copy
    # of the 2·nd-dimensional window view. The channels are the last axis of cols, and the result
    # (N, *O, F) of the GEMM is seen through a transposed view in the declared order (N, F, *O):
    # channel-last in memory, as every (N, C, *S) array this module makes (see `_channel_last`).
    stride, pads, _, rd = e.params
    x, w = e.inputs
    nd = len(stride)
    S = [int(s) for s in x.shape[2:]]
    K = [int(k) for k in w.shape[2:]]
    O = [int(o) for o in e.out.shape[2:]]
    C, F = sp.sympify(x.shape[1]), sp.sympify(w.shape[0])   # C: the batch N where this is a ∂w
    NB = x.shape[0]
    n, xs = c.name, c.args[0]
    lines = []
    if not xs.isidentifier():
        lines.append(f"{n}_x = {xs}")
        xs = f"{n}_x"
    ks, os_, is_ = ([f"{a}{i}_{n}" for i in range(nd)] for a in "koi")
    heads = []
    for i in range(nd):
        rows = [f"({j}, {o}, {a})" for j, o, a in _offsets(S[i], K[i], O[i], pads[i][0], stride[i], rd[i])]
        table = ", ".join(rows) + ("," if len(rows) == 1 else "")
        heads.append("    " * i + f"for {ks[i]}, {os_[i]}, {is_[i]} in ({table}):")
    body = "    " * nd
    to_last = (0,) + tuple(range(2, 2 + nd)) + (1,)                # (N, C, *O) → (N, *O, C)
    back = (0, nd + 1) + tuple(range(1, nd + 1))                    # (N, *O, F) → (N, F, *O)
    w_last = (0,) + tuple(range(2, 2 + nd)) + (1,)                  # (F, C, *K) → (F, *K, C)
    drop = f", {xs}" if xs != c.args[0] else ""
    if C.is_Integer and F.is_Integer and int(C) >= 2 * int(F):
        # GEMM first where the output has at most half the input's channels (the input gradient of
        # a widening conv: cs231n's dcols = Wᵀ·δ, then col2im): t[k, n, *i, f] = Σ_c x[n, c, *i]
        # w[f, c, k], one GEMM per kernel offset k (one numpy.matmul over the stack of them), then
        # out[n, *o, f] = Σ_k t[k, n, o·stride + k·dil − lo, f], one strided slice-add per kernel
        # offset; these adds move F·K numbers per position, the im2col's copies C·K. With the
        # kernel offsets outermost in t, each add reads runs of (last spatial axis × F) contiguous
        # numbers, not F alone: the adds run 3-4 times faster than out of one GEMM's (N, *S, *K, F),
        # the stacked GEMMs about 1.5 times slower than that one (the digits CNN's 16 → 32 input
        # gradient: 15 % faster in all)
        w_kcf = f"{_transposed(c.args[1], tuple(range(2, 2 + nd)) + (1, 0))}.reshape(({_prod(K)}, {C}, {F}))"
        lines.append(f"{n}_t = numpy.empty({c.shape((_prod(K), NB * _prod(S), F))}, dtype=DTYPE)")
        lines.append(f"numpy.matmul({_transposed(xs, to_last)}.reshape((-1, {C})), {w_kcf}, out={n}_t)")
        lines.append(f"{n}_t = {n}_t.reshape({c.shape(tuple(K) + (NB,) + tuple(S) + (F,))})")
        _keep(c, f"{n}_t")
        lines.append(f"{n} = numpy.zeros({c.shape((NB,) + tuple(O) + (F,))}, dtype=DTYPE)")
        lines += heads
        lines.append(body + f"{n}[:, {', '.join(os_)}, :] += {n}_t[{', '.join(ks)}, :, {', '.join(is_)}, :]")
        lines.append(f"{n} = {n}.transpose({back})")
        lines.append(f"del {n}_t{drop}")
        return lines
    cols = f"{n}_cols"
    kc = c.dim(C * _prod(K))
    per = _examples_a_chunk(NB, _prod(O) * _prod(K) * int(C)) if C.is_Integer else None
    chunked = per is not None and per < WHOLE_FROM
    whole = _windows_at_once(c, n, xs, NB, S, K, O, C, pads, stride, rd, to_last, own=chunked)
    if whole and chunked:
        place, view = whole
        lines += place + [f"{n}_win = {view}"]
        w2 = f"{_transposed(c.args[1], w_last)}.reshape(({c.dim(F)}, {kc})).T"
        lines += _chunks(c, n, NB, per, cols, f"{n}_win", O, K, C, F, w2, kc, back)
        if drop:
            lines.append(f"del {drop[2:]}")
        c.built[_cols_key(e.inputs[0].id, stride, pads, rd, K, O)] = Windows(cols, f"{n}_win", per)
        return lines
    lines.append(f"{cols} = numpy.{'empty' if whole else 'zeros'}"
                 f"({c.shape((NB,) + tuple(O) + tuple(K) + (C,))}, dtype=DTYPE)")
    _keep(c, cols)
    if whole:
        lines += whole[0] + [f"{cols}[...] = {whole[1]}"]
    else:
        lines += heads
        lines.append(body + f"{cols}[:, {', '.join(os_)}, {', '.join(ks)}, :] = "
                     f"{xs}[:, :, {', '.join(is_)}].transpose({to_last})")
    lines.append(f"{n} = ({cols}.reshape((-1, {kc})) @ {_transposed(c.args[1], w_last)}.reshape(({c.dim(F)}, {kc})).T)"
                 f".reshape({c.shape((NB,) + tuple(O) + (F,))}).transpose({back})")
    if drop:
        lines.append(f"del {drop[2:]}")
    # the buffer is left to `codegen.lifetimes` (deleted after its last use): the weight gradient
    # of this convolution reads it again (`_weight_gradient`)
    c.built[_cols_key(e.inputs[0].id, stride, pads, rd, K, O)] = cols
    return lines


def _windows_at_once(c, n: str, xs: str, NB, S, K, O, C, pads, stride, rd, to_last, own=False) -> tuple | None:
    """The im2col buffer filled by copies of whole windows: x placed channel-last once into a buffer
    (N, *P, C), zero-bordered where padded (kept between steps: its border stays 0; with ``own``
    also where no padding is needed, so that the weight gradient can copy the windows again from
    it: `_chunks`; else x's channel-last view itself), whose windows (N, *O, *K, C) are a view
    (sliding_window_view).
    (the lines that place x, the window view's code); None where the per-offset slice copies are
    kept: fewer than 3 channels (a window copy then moves runs of C < 3 numbers: 2.9 times the
    slices' time at 64 × 1 × 28 × 28) or a negative padding (a crop).

    Why: the per-offset copies write cols in K passes, each touching every cache line of it (a
    channel run is a line), and read x's channels at x's stride where x is laid out (N, C, *S);
    the one copy writes cols once, in order, and reads runs of C contiguous numbers. 0.31-0.51 of
    the per-offset copies' time with the caches cold (N × C × S² = 128 × 16 × 8², 64 × 16 × 14²,
    256 × 3 × 32², 32 × 64 × 16²); level with them (1.0-1.2) below about 150 K entries in cols,
    where the window view's own 10 µs counts (64 × 16 × 4²: the digits CNN's second conv).
    `bench/im2col_copy.py`, docs/benchmarks.md (2026-12-01, twelfth session, np2)."""
    if not (C.is_Integer and int(C) >= 3) or any(lo < 0 or hi < 0 for lo, hi in pads):
        return None
    nd = len(S)
    span = [dilated(k, d) for k, d in zip(K, rd)]
    P = [(o - 1) * s + w for o, s, w in zip(O, stride, span)]      # the extent the windows reach
    lines, src = [], _transposed(xs, to_last)
    padded = any(lo for lo, _ in pads) or any(p > s for p, s in zip(P, S))
    if not (padded or own):
        return [], f"{SWV}({src}{_first(P, S)}, {tuple(span)}, axis={tuple(range(1, nd + 1))})" + \
            _strided(nd, stride, rd) + f".transpose({_kc_last(nd)})"
    pad = f"{n}_pad" if padded else f"{n}_in"
    lines.append(f"{pad} = numpy.{'zeros' if padded else 'empty'}({c.shape((NB,) + tuple(P) + (C,))}, dtype=DTYPE)")
    _keep(c, pad)
    # x's positions the windows reach (none where a long stride ends them in the leading padding)
    inside = [max(0, min(s, p - lo)) for s, p, (lo, _) in zip(S, P, pads)]
    into = ", ".join(":" if lo == 0 and m == p else f"{lo}:{lo + m}"      # (no ``0:9`` for a whole axis)
                     for (lo, _), m, p in zip(pads, inside, P))
    lines.append(f"{pad}[:, {into}, :] = {src}{_first(inside, S)}")
    src = pad
    view = f"{SWV}({src}, {tuple(span)}, axis={tuple(range(1, nd + 1))})" + _strided(nd, stride, rd)
    return lines, f"{view}.transpose({_kc_last(nd)})"


def _strided(nd: int, stride, rd) -> str:
    """The subscript of the window view (N, *P', C, *K') of an (N, *P, C) array that keeps every
    stride-th window and every rd-th kernel entry ("" where both are 1)."""
    sl = [":"] * (nd + 2) + [f"::{d}" if d != 1 else ":" for d in rd]
    for i, s in enumerate(stride):
        sl[1 + i] = f"::{s}" if s != 1 else ":"
    while sl and sl[-1] == ":":
        sl.pop()
    return f"[{', '.join(sl)}]" if sl else ""


def _kc_last(nd: int) -> tuple:
    """(N, *O, C, *K) → (N, *O, *K, C): the window view in cols' order."""
    return (0,) + tuple(range(1, nd + 1)) + tuple(range(nd + 2, 2 * nd + 2)) + (nd + 1,)


# entries of an im2col buffer filled and multiplied at a time (256 KiB in float32): the copies into
# it and the GEMM that reads it then meet in the core's L2 cache (1 MiB on the machine measured)
CHUNK_ENTRIES = 1 << 16
# examples a chunk from which the batch's buffer is filled whole, and multiplied in one GEMM: small
# examples (a chunk of 16 or more), whose buffer at the batch sizes used with them (64-256) is within
# a few times the L2 cache, where the loop's own statements cost more than the cache saves (the
# digits CNN's second conv, 2,304 entries an example: its step 1.025 of the one GEMM's in chunks)
WHOLE_FROM = 16


def _examples_a_chunk(NB, entries: int) -> int:
    """How many examples' windows (``entries`` numbers each) make a chunk of the im2col buffer:
    about `CHUNK_ENTRIES`, at least one; the whole batch where it is a number no larger."""
    per = max(1, CHUNK_ENTRIES // entries)
    NB = sp.sympify(NB)
    return int(NB) if NB.is_Integer and int(NB) <= per else per


@dataclass(frozen=True)
class Windows:
    """What a convolution's forward leaves for its weight gradient (`_weight_gradient`): the im2col
    buffer of ``per`` examples ``cols`` and the view ``win`` of every window, (N, *O, *K, C), whose
    examples it copies chunk by chunk. ``left[0]``: cols still holds the forward's last chunk (no
    statement has written it since; the first weight gradient that reads it sets this False: the
    statements run in the order they are printed)."""
    cols: str
    win: str
    per: int
    left: list = field(default_factory=lambda: [True])


def _chunks(c, n: str, NB, per: int, cols: str, win: str, O, K, C, F, w2: str, kc: str, back) -> list:
    # im2col and its GEMM a chunk of ``per`` examples at a time: cols[:m] = the windows of examples
    # i … i + m − 1, then out[i : i + m] = cols[:m] @ w2, while the chunk is still in the cache. The
    # whole batch's windows copied first and multiplied after streamed 9·C numbers an output
    # position through memory twice (4.7 MB for 128 × 16 × 8 × 8, 3 × 3): the ResNet block's step
    # 0.86-0.90 of its time with the three im2col convolutions chunked (bench/port_step.py,
    # docs/benchmarks.md, thirteenth session). Each output row is the same dot product as in the
    # one GEMM over the whole buffer.
    made = c.shape((NB,) + tuple(O) + (F,))
    chunk = c.shape((per,) + tuple(O) + tuple(K) + (C,))
    if not sp.sympify(NB).is_Integer:   # (no more rows than the batch has; a number: per ≤ NB)
        chunk = f"(min({per}, {c.dim(NB)}), {chunk[len(str(per)) + 3:]}"
    lines = [f"{cols} = numpy.empty({chunk}, dtype=DTYPE)",
             f"{n} = numpy.empty({made}, dtype=DTYPE)",
             f"{n}_w = {w2}"]
    _keep(c, cols)
    _keep(c, n)         # (all of it written below, chunk by chunk)
    if sp.sympify(NB) == per:
        lines += [f"{cols}[...] = {win}",
                  f"numpy.matmul({cols}.reshape((-1, {kc})), {n}_w, out={n}.reshape((-1, {c.dim(F)})))"]
    else:
        i, part = f"i_{n}", f"c_{n}"
        lines += [f"for {i} in range(0, {c.dim(NB)}, {per}):     # {per} examples at a time",
                  f"    {part} = {cols}[:min({per}, {c.dim(NB)} - {i})]",
                  f"    {part}[...] = {win}[{i}:{i} + {per}]",
                  f"    numpy.matmul({part}.reshape((-1, {kc})), {n}_w, out={n}[{i}:{i} + {per}].reshape((-1, {c.dim(F)})))"]
    lines += [f"{n} = {n}.transpose({back})", f"del {n}_w"]
    return lines


def _first(m, S) -> str:
    """The subscript that keeps the first m[i] of the S[i] positions of each spatial axis of an
    (N, *S, C) array ("" where that is all of them): ``[:, :11]``."""
    parts = [f":{a}" if a < s else ":" for a, s in zip(m, S)]
    while parts and parts[-1] == ":":
        parts.pop()
    return f"[:, {', '.join(parts)}]" if parts else ""


_LAST_TRANSPOSE = re.compile(r"\.transpose\(\(([\d, ]+)\)\)$")


def _transposed(a: str, perm) -> str:
    """``a.transpose(perm)``, where ``a`` (an operand: a name or a call, a primary) may itself end in
    a ``.transpose(p)`` (a permute printed as a view): then one ``.transpose`` of the two composed,
    ``a.transpose(p[perm[i]] …)``, or none where that is the identity — ``v88.transpose((1, 0, 2,
    3)).transpose((1, 2, 3, 0))`` reads as ``v88.transpose((0, 2, 3, 1))``."""
    perm = tuple(int(i) for i in perm)
    m = _LAST_TRANSPOSE.search(a)
    if m is not None:
        inner = tuple(int(i) for i in m.group(1).replace(" ", "").split(",") if i)
        if len(inner) == len(perm):
            a, perm = a[:m.start()], tuple(inner[i] for i in perm)
    return a if perm == tuple(range(len(perm))) else f"{a}.transpose({perm})"


def _keep(c, name: str) -> None:
    """Note ``name`` (bound to ``numpy.zeros(…)`` or ``numpy.empty(…)``) as a buffer that never leaves
    the function: the training step keeps it from one call to the next
    (`codegen.numpy_whole_batch.kept_buffers`). An im2col buffer is all rewritten by each call but
    its padding, which stays zero; a GEMM writes all of its output. A fresh buffer of this size each
    step costs its page faults (the allocator hands large blocks back to the system), as much as
    the copies into it."""
    c.built.setdefault("kept", set()).add(name)


def _cols_key(x: int, stride, pads, rdil, K, O) -> tuple:
    """What an im2col buffer holds: cols[n, *o, *k, c] = x[n, c, o·stride + k·rdil − lo] (zero
    outside x), for o < O and k < K."""
    return ("cols", x, tuple(stride), tuple(lo for lo, _ in pads), tuple(rdil), tuple(K), tuple(O))


def _weight_gradient(c, e) -> list | None:
    # The weight gradient of a convolution y = conv(x, w) (`symgrad.core.conv_rules`) is the
    # convolution conv(xᵀ, δᵀ, stride=rdil, rdil=stride) (batch and channel axes swapped), whose
    # output position is the forward's kernel offset and whose kernel offset is the forward's
    # output position: ∂w[f, c, k] = Σ_{n, o} x[n, c, o·stride + k·rdil − lo] δ[n, f, o] = Σ_{n, o}
    # cols[n, o, k, c] δ[n, f, o], the forward's im2col buffer, already built: one GEMM
    # colsᵀ (K·C, N·O) @ δ (N·O, F), no copy of x (and none of δ, channel-last in memory). None
    # when no such buffer was built before.
    xt, dt = e.inputs
    stride, pads, ld, rd = e.params
    nd = len(stride)
    swap = (1, 0) + tuple(range(2, 2 + nd))
    px = c.producer(xt)
    if px is None or px.prim.name != "permute" or tuple(px.params[0]) != swap or any(d != 1 for d in ld):
        return None
    K_f = [int(o) for o in e.out.shape[2:]]         # the forward's kernel: this output's size
    O_f = [int(k) for k in dt.shape[2:]]            # the forward's output: this kernel's size
    cols = c.built.get(_cols_key(px.inputs[0].id, rd, pads, stride, K_f, O_f))
    if cols is None:
        return None
    C, F = e.out.shape[0], dt.shape[0]
    kc = c.dim(sp.sympify(C) * _prod(K_f))
    d_last = tuple(range(1, 2 + nd)) + (0,)         # δᵀ (F, N, *O) → (N, *O, F)
    k_c_f = tuple(range(nd + 2))                    # (*K, C, F) → (C, F, *K)
    back = (nd, nd + 1) + k_c_f[:nd]
    d = f"{_transposed(c.args[1], d_last)}.reshape((-1, {c.dim(F)}))"
    made = f".reshape({c.shape(tuple(K_f) + (C, F))}).transpose({back})"
    if not isinstance(cols, Windows):
        return [f"{c.name} = ({cols}.reshape((-1, {kc})).T @ {d}){made}"]
    # the forward's windows copied again, a chunk of examples at a time, into its im2col chunk:
    # ∂w = Σ over the chunks of colsᵀ δ (the same sum, added in another order). The last chunk
    # first: the forward left its windows in the chunk buffer, and the first weight gradient to read
    # them (`Windows.left`) copies them no more — all of them where the batch is one chunk
    n, NB, per, rows = c.name, dt.shape[1], cols.per, _prod(O_f)
    left, cols.left[0] = cols.left[0], False
    if sp.sympify(NB) == per:
        return ([] if left else [f"{cols.cols}[...] = {cols.win}"]) + \
            [f"{n} = ({cols.cols}.reshape((-1, {kc})).T @ {d}){made}"]
    i, part, nb = f"i_{n}", f"c_{n}", c.dim(NB)
    copy = [f"    {part}[...] = {cols.win}[{i}:{i} + {per}]"]
    if left:
        copy = [f"    if {i} + {per} < {nb}:        # (the last chunk is in {cols.cols} still)", "    " + copy[0]]
    return [f"{n}_d = {d}",
            f"{n} = numpy.zeros(({kc}, {c.dim(F)}), dtype=DTYPE)",
            f"{n}_t = numpy.empty(({kc}, {c.dim(F)}), dtype=DTYPE)",
            f"for {i} in range(({nb} - 1) // {per} * {per}, -1, -{per}):     # {per} examples at a time, the last first",
            f"    {part} = {cols.cols}[:min({per}, {nb} - {i})]"] + copy + \
           [f"    numpy.matmul({part}.reshape((-1, {kc})).T, {n}_d[{i} * {rows}:({i} + {per}) * {rows}], out={n}_t)",
            f"    {n} += {n}_t",
            f"{n} = {n}{made}",
            f"del {n}_d, {n}_t"]


def _prod(v) -> int:
    out = 1
    for a in v:
        out *= a
    return out


def _conv(c, e) -> list:
    # out[n, f, o] = Σ_{c, k} x_pad[n, c, o·stride + k·dil] · w[f, c, k]: the windows of the padded
    # input as a view (N, C, *O, *K), contracted with the kernel over (C, *K) in one tensordot
    stride, pads, ld, rd = e.params
    x, w = e.inputs
    nd = len(stride)
    if all(d == 1 for d in ld):
        return _weight_gradient(c, e) or _conv_im2col(c, e)
    lines, xp = _padded(c, f"{c.name}_in", c.args[0], x.shape, pads, ld)
    K = tuple(int(k) for k in w.shape[2:])
    win = _windows_code(xp, 2, K, stride, rd)
    a = [1] + list(range(2 + nd, 2 + 2 * nd))
    b = [1] + list(range(2, 2 + nd))
    back = (0, nd + 1) + tuple(range(1, nd + 1))          # (N, *O, F) → (N, F, *O)
    lines.append(f"{c.name} = numpy.tensordot({win}, {c.args[1]}, axes=({a}, {b})).transpose({back})")
    if xp != c.args[0]:
        lines.append(f"del {xp}")
    return lines


def _channel_last(nlead: int, nd: int) -> tuple:
    """The memory order of an (N, C, *S) array this module makes, as axes of the declared order:
    (N, *S, C), the channels last (nlead = 2; other layouts keep their order). NumPy's elementwise
    functions keep the memory order of their operands, so a convolution's output (the GEMM's (N, *O,
    F)), its bias, relu and relu mask, the pooling windows, fold and the gradients stay channel-last
    alike: an elementwise statement over two arrays of different memory orders runs several times
    slower, and the slice copies of the im2col and fold move C contiguous numbers at a time."""
    if nlead != 2:
        return tuple(range(nlead + nd))
    return (0,) + tuple(range(2, 2 + nd)) + (1,)


def _windows(c, e) -> str:
    # every window, copied once: max pooling reads it twice (the max, and the arg-max in the
    # backward), each through a reshape that would copy a strided view again. The copy keeps the
    # kernel axes outermost in memory (*K, N, *O, C) and is seen through a transposed view in the
    # declared order (N, C, *O, *K): merging the kernel axes by a reshape stays a view, and the max
    # over them is an elementwise maximum of prod(K) contiguous slabs, not a reduction over rows of
    # prod(K) entries each (several times slower in NumPy); within a slab the channels are last
    # (`_channel_last`), as in the convolution's output it is read from
    kernel, stride, pads, dil, fill = e.params
    nd = len(kernel)
    nlead = len(e.inputs[0].shape) - nd
    x = c.args[0]
    if any(lo or hi for lo, hi in pads):
        widths = tuple([(0, 0)] * nlead + [tuple(p) for p in pads])
        x = f"numpy.pad({x}, {widths}, constant_values={_fill(fill)})"
    rank = nlead + 2 * nd
    k_first = tuple(range(rank - nd, rank)) + _channel_last(nlead, nd)
    back = tuple(k_first.index(i) for i in range(rank))
    view = _windows_code(x, nlead, kernel, stride, dil)
    # (.copy(), not numpy.ascontiguousarray: that returns the view itself where it happens to be
    # contiguous — one window of a single channel — and the windows must be an array of their own,
    # which max pooling's backward may write its mask into: `window_first_hit`)
    code = f"{view}.transpose({k_first}).copy().transpose({back})"
    laid = c.shape(tuple(e.out.shape[i] for i in k_first))
    c.built.setdefault("copies", {})[c.name] = CopyInto(f"{c.name} = {code}", laid, back, view)
    return code


@dataclass(frozen=True)
class CopyInto:
    """A statement ``line`` (``name = …``) that makes a copy of ``view`` (code, in the declared order)
    laid out in memory as ``laid`` (the shape as code, in memory order) and seen through
    ``.transpose(back)``: the step's workspace (`codegen.numpy_workspace`) makes it as
    ``name = scratch(ws, …, laid).transpose(back)`` then ``name[...] = view``, told so by this
    record (``Context.built["copies"]``), not by reading the statement's text."""
    line: str
    laid: str
    back: tuple
    view: str


def _fold(c, e) -> list:
    # the adjoint of the windows (col2im): each kernel offset's slab g[..., k] added at the positions
    # o·stride + k·dil of the padded input, all positions at once; then the padding cut off
    shape, kernel, stride, pads, dil = e.params
    nd = len(kernel)
    nlead = len(shape) - nd
    O = [int(o) for o in e.inputs[0].shape[nlead:nlead + nd]]
    padded = tuple(shape[:nlead]) + tuple(int(s) + lo + hi for s, (lo, hi) in zip(shape[nlead:], pads))
    ks = [f"k{i}_{c.name}" for i in range(nd)]
    first = [k if int(d) == 1 else f"{k}*{d}" for k, d in zip(ks, dil)]     # (no ``k*1``)
    at = ", ".join(f"{f}:{f} + {s * (n - 1) + 1}" + (f":{s}" if int(s) != 1 else "")
                   for f, s, n in zip(first, stride, O))
    lead = ":, " * nlead
    # windows that do not overlap (each one's span within its stride) write disjoint positions: one
    # assignment each, not an add; windows that tile the padded input exactly leave nothing to zero
    disjoint = all(dilated(int(k), d) <= s for k, d, s in zip(kernel, dil, stride))
    tiles = disjoint and all(d == 1 and s == int(k) and n * s == p
                             for k, d, s, n, p in zip(kernel, dil, stride, O, padded[nlead:]))
    order = _channel_last(nlead, nd)            # allocated channel-last, seen in the declared order
    back = tuple(order.index(i) for i in range(len(order)))
    made = f"numpy.{'empty' if tiles else 'zeros'}({c.shape(tuple(padded[i] for i in order))}, dtype=DTYPE)"
    if back != tuple(range(len(order))):
        made += f".transpose({back})"
    lines = [f"{c.name} = {made}",
             # (a 1-tuple of one kernel axis is unpacked: numpy.ndindex yields tuples)
             f"for {', '.join(ks)}{',' if nd == 1 else ''} in numpy.ndindex{tuple(int(k) for k in kernel)}:",
             f"    {c.name}[{lead}{at}] {'=' if disjoint else '+='} {c.args[0]}[..., {', '.join(ks)}]"]
    if any(lo or hi for lo, hi in pads):
        crop = ", ".join(f"{lo}:{lo + int(s)}" for s, (lo, _) in zip(shape[nlead:], pads))
        lines.append(f"{c.name} = {c.name}[{lead}{crop}]")
    return lines


def forms(Form) -> dict:
    """The rows, built with the table's ``Form``."""
    return {
        "conv": Form(_conv),
        "flip": Form(lambda c, e: f"numpy.flip({c.args[0]}, {tuple(e.params[0])})", view=True),
        "windows": Form(_windows),
        "fold": Form(_fold),
    }
