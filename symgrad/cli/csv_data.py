"""``symgrad train --data table.csv``: a table of numbers, one row per sample, read into one array per
input of the model file.

The columns go to the model's ``inputs`` in their order, each input taking as many columns as one
sample of it holds: for ``inputs = [x, y]`` with ``x`` declared ``(N, 64)`` and ``y`` ``(N,)``, 65
columns — 64 for ``x``, then 1 for ``y``. (Order the model file's ``inputs`` as the table's columns
are: ``[y, x]`` for a table whose label comes first, as MNIST's CSV files have it.) An input of
several axes takes the product of its sizes, row-major: an image ``(N, 1, 8, 8)`` takes 64 columns,
reshaped to (1, 8, 8). An integer input (``sg.tensor(..., integer=True)``, ``sp.Symbol(...,
integer=True)``: class labels, indices) is read as integers, and a value that is no whole number in
its column is refused. A first row of names (text over the numbers of the next, or pandas' default
0, 1, 2, …) is a header and is skipped. The
separator is a comma (a tab in a ``.tsv``). A ``.csv.gz`` (``.tsv.gz``) is read as the table gzip
compressed, as pandas' ``to_csv("data.csv.gz")`` writes it.

>>> import sympy as sp, symgrad as sg
>>> N = sp.Symbol("N", integer=True, positive=True)
>>> columns_per_sample([sg.tensor("x", (N, 1, 8, 8)), sg.tensor("y", (N,), integer=True)])
[('x', (1, 8, 8), 64, False), ('y', (), 1, True)]
"""
from __future__ import annotations

import csv
import io
import math

import numpy as np
import sympy as sp

from ..compiling.training_missing import FILL_OR_DROP, is_missing_cell, missing_places
from ..errors import DataError, SymgradError
from ..frontend.tensor import Tensor

SUFFIXES = (".csv", ".tsv")
# read, not written: pandas' to_csv("train.csv.gz") compresses by the name (it was "not a .npz file")
GZIPPED = (".csv.gz", ".tsv.gz")
_GZIP_LIMIT = 64 << 20           # a gzipped table expands to at most this, or 100 times its bytes (a bomb)


def is_table(path: str, reading: bool = False) -> bool:
    """Whether ``path`` names a CSV (or TSV) table rather than a .npz; ``reading``: a gzipped one too."""
    return str(path).lower().endswith(SUFFIXES + (GZIPPED if reading else ()))


def columns_per_sample(inputs) -> list:
    """(name, per-sample shape, columns, integer) for each input, in order."""
    out = []
    for sym in inputs:
        if isinstance(sym, Tensor):
            shape = tuple(sym.shape)
            if shape and not sp.sympify(shape[0]).is_Integer:      # declared over the batch: N first
                shape = shape[1:]
            integer = bool(getattr(sym, "is_integer_tensor", False))
        elif isinstance(sym, sp.MatrixSymbol):
            m, n = (int(d) if sp.sympify(d).is_Integer else d for d in sym.shape)
            shape = (m,) if n == 1 else (n,) if m == 1 else (m, n)   # a column (n, 1) is (B, n), as Program takes it
            integer = False
        else:
            shape, integer = (), bool(getattr(sym, "is_integer", False))
        if not all(sp.sympify(d).is_Integer for d in shape):
            raise SymgradError(f"a table gives each input a fixed number of columns, but the input {sym.name!r} is "
                               f"declared with the symbolic size(s) {', '.join(str(d) for d in shape if not sp.sympify(d).is_Integer)} "
                               f"after its sample axis; write its arrays to a .npz instead "
                               f"(np.savez('data.npz', {sym.name}=...))")
        shape = tuple(int(d) for d in shape)
        out.append((sym.name, shape, math.prod(shape), integer))
    return out


class Table(dict):
    """The arrays of a table by input name, ``lines``: the file's line number of each sample, and
    ``header``: its first row's names (None without one), ``columns``: the header's names of each
    input read, by input name (None without a header)."""
    lines: list
    header: list | None = None
    columns: dict | None = None


def read_table(path: str, inputs, what: str = "--data", without=()) -> Table:
    """The arrays of the table ``path`` for each input (see the module), with each sample's line.
    ``without``: inputs the table may leave out (the labels, for ``symgrad predict``): a table with
    the columns of the other inputs only is read as theirs; one with every input's columns is read
    whole (a test file, its labels in it)."""
    layout = columns_per_sample(inputs)
    rows, lines, header = _rows(path, what)
    got = len(rows[0])
    short = [c for c, sym in zip(layout, inputs) if sym not in without]
    if without and got == sum(k for _, _, k, _ in short):
        layout = short
    want = sum(k for _, _, k, _ in layout)
    said = ", then ".join(f"{k} for {name!r}" for name, _, k, _ in layout)
    other = _other_separator(rows, path) if got == 1 and got != want else None   # np.savetxt's spaces
    if without and got != want:
        shorter = ", then ".join(f"{k} for {name!r}" for name, _, k, _ in short)
        raise SymgradError(f"{what} {path}: its rows have {got} columns, but the model's inputs take "
                           f"{sum(k for _, _, k, _ in short)} per sample without "
                           f"{', '.join(repr(s.name) for s in without)} ({shorter}), or {want} with "
                           f"{'it' if len(without) == 1 else 'them'} ({said}), in the order of the model "
                           f"file's inputs{other or ''}")
    if got != want:
        hint = ""
        if other is not None:
            hint = other
        elif got == want + 1:
            hint = (" (one column too many: an index column, as pandas' to_csv writes unless index=False? "
                    "or a target the model file does not list among its inputs)")
        elif any(k > 1 and got == want - k + 1 for _, _, k, _ in layout):
            name, _, k, _ = next(c for c in layout if c[2] > 1 and got == want - c[2] + 1)
            hint = (f" (one column where {name!r} takes {k}: if that column holds class labels, 0 … {k - 1}, where "
                    f"the model file declares one-hot rows, declare {name!r} an integer label instead — "
                    f"sp.Symbol({name!r}, integer=True), or sg.tensor({name!r}, (N,), integer=True) over the "
                    f"batch; sg.cross_entropy takes either)")
        elif got < want and got in _prefix_sums(layout):
            # the features alone (a file for symgrad predict given as --validation, the labels left out)
            kept = _prefix_sums(layout).index(got) + 1
            missing = ", ".join(repr(name) for name, _, _, _ in layout[kept:])
            hint = (f" (the columns of {', '.join(repr(name) for name, _, _, _ in layout[:kept])} alone: none for "
                    f"{missing}, which {what} needs too — a table of the features only, as symgrad predict takes?)")
        elif got < want:
            hint = " (fewer columns than the inputs take: does the model file declare more features than the table has?)"
        raise SymgradError(f"{what} {path}: its rows have {got} columns, but the model's inputs take {want} per "
                           f"sample, in the order of the model file's inputs: {said}{hint}")
    try:
        table = np.array(rows, dtype=float)        # NumPy's loop; a cell that is no number: found below
    except ValueError:
        _missing_cells(rows, lines, header, path, what)
        _not_a_number(rows, lines, layout, path, what)
        table = np.array([[float(c) for c in row] for row in rows])     # what Python reads and NumPy not ('1_000')
    if np.isnan(table).any():           # 'nan', 'NaN' cells: missing values, as pandas reads them
        _missing_cells(rows, lines, header, path, what, np.isnan(table))
    bad = np.argwhere(~np.isfinite(table))
    if len(bad):
        i, j = (int(v) for v in bad[0])
        count = len({int(r) for r in bad[:, 0]})
        raise SymgradError(f"{what} {path}: line {lines[i]}, column {j + 1} holds {rows[i][j].strip()!r} ({len(bad)} "
                           f"non-finite cell{'s' if len(bad) > 1 else ''} in {count} row{'s' if count > 1 else ''}); "
                           f"the cells must be finite numbers: drop or fill those rows")
    out, col = Table(), 0
    out.lines = lines
    if header is not None and len(header) == want:
        out.header = header
        out.columns, at = {}, 0
        for name, _, k, _ in layout:
            out.columns[name] = header[at:at + k]
            at += k
    for name, shape, k, integer in layout:
        block = table[:, col:col + k]
        if integer:
            bad = np.argwhere(block != np.round(block))
            if len(bad):
                i, j = (int(v) for v in bad[0])
                hint = ""
                first = table[:, :k]
                if col > 0 and np.all(first == np.round(first)):
                    # MNIST's CSV files put the label first: the model file lists it last
                    order = [name] + [c[0] for c in layout if c[0] != name]
                    hint = (f" (the table's first column{'s hold' if k > 1 else ' holds'} whole numbers on every "
                            f"row: if {'they are' if k > 1 else 'it is'} {name!r}, as MNIST's CSV files put the "
                            f"label first, list {name!r} first in the model file: inputs = [{', '.join(order)}])")
                raise SymgradError(f"{what} {path}: line {lines[i]}, column {col + j + 1} holds {rows[i][col + j].strip()!r}, "
                                   f"but the input {name!r} is declared integer (class labels or indices): whole "
                                   f"numbers only{hint}")
            block = block.astype(np.int64)
        out[name] = block.reshape((len(rows),) + shape)
        col += k
    return out


def columns_unlike(want, got, trained_by: str, theirs: str | None = None) -> str | None:
    """Why a table whose header names its columns ``got`` ({input name: [names]}) is not read as the
    training table's, ``want`` (a checkpoint's ``columns``), was (``trained_by``: the checkpoint's
    name; ``theirs``: how to say whose columns ``want`` are instead): reordered or renamed columns, which go to the inputs by position and would be read as
    other features, silently (scikit-learn checks feature names alike). None when they agree, or
    when either side has no header."""
    if not want or not got or any(name not in want for name in got):
        return None
    expected = [c for name in got for c in want[name]]
    have = [c for name in got for c in got[name]]
    if expected == have:
        return None
    how = (f"reorder them (pandas: df[{expected!r}])" if sorted(expected) == sorted(have) else
           "give the columns the training table had, in its order")
    theirs = theirs or f"{trained_by} was trained on a table whose columns were"
    return (f"its columns are {', '.join(have)}, but {theirs} {', '.join(expected)}, in that order; a table's columns go to the model's inputs by position, so "
            f"these would be read as other features: {how}")


def _missing_cells(rows, lines, header, path, what, where=None) -> None:
    """Raise the DataError naming every column with missing values (empty cells, NA, NaN, NULL ...:
    what pandas reads as missing; ``where``: a mask of them, else found in the cells' text) by its
    header name and the lines that hold them, when there are any; return otherwise."""
    if where is None:
        where = np.array([[is_missing_cell(c) for c in row] for row in rows])
    count = int(where.sum())
    if not count:
        return
    width = where.shape[1]

    def column(j):
        named = header[j] if header is not None and len(header) == width and header[j] else None
        return f"{j + 1} ({named!r})" if named else f"{j + 1}"
    places = missing_places(where, where, column=column, row=lambda i: lines[i], rows_word="line")
    raise DataError(f"{what} {path} has {count} missing value{'s' if count > 1 else ''} (empty or NA cells): "
                    f"{places}; every cell must be a number: {FILL_OR_DROP}, then write the table again")


def _not_a_number(rows, lines, layout, path, what):
    """Raise the SymgradError naming the first cell of ``rows`` that is no number, by line and column."""
    owner = [(name, integer) for name, _, k, integer in layout for _ in range(k)]     # each column's input
    for i, row in enumerate(rows):
        j = next((j for j, cell in enumerate(row) if not _number(cell)), None)
        if j is None:
            continue
        cell = row[j]
        name, integer = owner[j]
        hint = (" (an empty cell: fill it, or drop the row)" if not cell.strip() else
                " (semicolons between the numbers and commas for their decimal points, as a spreadsheet "
                "in a European locale writes CSV? a .csv here has '.' in its numbers and commas between "
                "them)" if ";" in cell else
                f" (the column of {name!r}, declared integer: class names are not read — write each class "
                f"as its number 0 … C − 1, as pandas' factorize gives them)" if integer else "")
        raise SymgradError(f"{what} {path}: line {lines[i]}, column {j + 1} holds {cell.strip()!r}, "
                           f"which is not a number{hint}")


SEPARATORS = {";": "semicolons", "\t": "tabs", " ": "spaces", "|": "bars"}


def _prefix_sums(layout) -> list:
    """The columns the first 1, 2, ... inputs of ``layout`` take (all but the last input's)."""
    sums, total = [], 0
    for _, _, k, _ in layout[:-1]:
        total += k
        sums.append(total)
    return sums


def _other_separator(rows, path) -> str | None:
    """The hint for a table read as one column because its cells are separated by something else:
    np.savetxt's default spaces, a spreadsheet's semicolons, tabs in a file named .csv."""
    cell = rows[-1][0].strip()
    sep = next((s for s in SEPARATORS if len(cell.split(s)) > 1 and all(_number(c) for c in cell.split(s) if c)),
               None)
    if sep is None:
        return None
    own = "tabs" if str(path).lower().endswith(".tsv") else "commas"
    fix = ("name the file .tsv, or write it with commas" if sep == "\t" else
           "write it with commas: np.savetxt(..., delimiter=','), which writes spaces without one; "
           "pandas' to_csv(); a spreadsheet's CSV export with commas")
    return (f" (each line reads as one column: its numbers are separated by {SEPARATORS[sep]}, where this "
            f"file's name says {own}; {fix})")


def _rows(path: str, what: str):
    """The rows of numbers of the table (blank lines and a header left out), and the line number of
    each in the file, for the messages."""
    delimiter = "\t" if str(path).lower().removesuffix(".gz").endswith(".tsv") else ","
    with open(path, "rb") as f:
        raw = f.read()
    if str(path).lower().endswith(".gz"):
        raw = _gunzipped(raw, path, what)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        # a header of a Windows spreadsheet's encoding (cp1252: "clé", "°C") over rows of numbers: the
        # header is skipped, so only the rows need be text (it was "not a text table")
        head, newline, body = raw.partition(b"\n")
        try:
            if raw.startswith(b"PK") or b"\x00" in head or not body.strip():     # a zip, binary: no header
                raise UnicodeDecodeError("cp1252", head, 0, 1, "no header")
            text = head.decode("cp1252") + newline.decode() + body.decode("utf-8")
        except UnicodeDecodeError:
            kind = " (a zip archive: an Excel workbook, or a .npz, under a table's name?)" if raw.startswith(b"PK") else ""
            raise SymgradError(f"{what} {path} is not a text table (its bytes are not UTF-8 text){kind}; a table is "
                               f"rows of numbers separated by {'tabs' if delimiter == chr(9) else 'commas'}") from None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        rows = list(reader)
    except csv.Error as e:      # a cell over csv's field limit (131072 characters): it was an internal error
        raise SymgradError(f"{what} {path}: line {reader.line_num} is not read as a row of numbers ({e}); a "
                           f"table is rows of numbers separated by {'tabs' if delimiter == chr(9) else 'commas'}, "
                           f"one number a cell") from None
    numbered = [(k + 1, row) for k, row in enumerate(rows) if any(c.strip() for c in row)]
    header = None
    if numbered and _header(numbered[0][1], numbered[1][1] if len(numbered) > 1 else None):
        header = [c.strip() for c in numbered[0][1]]
        numbered = numbered[1:]
    if not numbered:
        raise SymgradError(f"{what} {path} holds no rows of numbers")
    first = numbered[0][0]
    n = len(numbered[0][1])
    for line, row in numbered:
        if len(row) != n:
            raise SymgradError(f"{what} {path}: line {line} has {len(row)} columns, but line {first} has {n}; every "
                               f"row is one sample with the same columns")
    return [row for _, row in numbered], [line for line, _ in numbered], header


def _gunzipped(raw: bytes, path, what: str) -> bytes:
    """The bytes of a gzipped table, refused when they are no gzip stream or would expand more than
    100-fold to over 64 MiB (a gzip bomb: read until that, never whole), as a .npz member is."""
    import gzip
    import zlib
    limit = max(_GZIP_LIMIT, 100 * len(raw))
    out = bytearray()
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(raw)) as f:
            while chunk := f.read(1 << 20):
                out += chunk
                if len(out) > limit:
                    raise SymgradError(f"{what} {path}: its table would expand more than 100-fold to over "
                                       f"{_GZIP_LIMIT >> 20} MiB (a gzip bomb?); decompress it yourself if it is yours")
    except (OSError, EOFError, zlib.error) as e:
        raise SymgradError(f"{what} {path} is not a gzipped table ({e}); a name ending in .csv.gz is read as a .csv "
                           f"compressed with gzip, as pandas' to_csv('data.csv.gz') writes it") from None
    return bytes(out)


def _header(first: list, second) -> bool:
    """Whether the first row is a header: text where the next row has numbers (``x1,x2,label`` over
    ``0.5,1,3``; a row of class names ``...,cat`` over ``...,dog`` is data), or pandas' default column
    names 0, 1, 2, … (``pd.DataFrame(X).to_csv(index=False)``), which would otherwise be read as a sample."""
    if [c.strip() for c in first] == [str(k) for k in range(len(first))] and len(first) > 1:
        return True
    if all(_number(c) for c in first):
        return False
    # (an empty or NA cell is a missing number, not a column's name: a first row of data with one is data)
    return second is None or any(not _number(a) and not is_missing_cell(a) and _number(b)
                                 for a, b in zip(first, second))


def _number(cell: str) -> bool:
    """Whether Python reads ``cell`` as a number (the one test of a cell, for the header and the errors)."""
    try:
        float(cell)
        return True
    except ValueError:
        return False
