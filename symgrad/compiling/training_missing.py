"""Missing values in training data, said where they are: the columns and the samples (or a table's
lines) that hold them, as ``df.isna()`` would show them, rather than only the first one found.

A data scientist's table has a few empty cells; NaN in a training step is a NaN loss after the first
minibatch that holds one. `train` (and ``symgrad train --data table.csv``) refuse such data before
the first step with a `TrainingDataError` (a `DataError`, and a `TrainingArgumentError` as before)
that names every column with missing values and the first samples of each.

>>> import numpy as np
>>> X = np.ones((200, 4)); X[5, 1] = X[77, 1] = X[123, 0] = np.nan
>>> missing_places(X)
'column 0 at sample 123; column 1 at samples 5 and 77'
"""
from __future__ import annotations

import numpy as np

# the cell texts pandas' read_csv reads as missing by default (its documented na_values): a table
# written by pandas (NaN as ''), R (NA), a database export (NULL) or a spreadsheet (#N/A)
MISSING_CELLS = frozenset(("", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND",
                           "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"))

FILL_OR_DROP = ("fill them (pandas: df.fillna(df.median()); scikit-learn: SimpleImputer) or drop those rows "
                "(df.dropna())")


def is_missing_cell(cell: str) -> bool:
    """Whether a table's cell means a missing value (empty, NA, NaN, NULL, ...: pandas' defaults)."""
    return cell.strip() in MISSING_CELLS


def _listed(items: list, limit: int = 4) -> str:
    """``5``, ``5 and 77``, ``5, 77 and 90``, ``5, 77, 90, 91 and 12 more``."""
    items = [str(i) for i in items]
    if len(items) > limit:
        return f"{', '.join(items[:limit])} and {len(items) - limit} more"
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def missing_places(a: np.ndarray, where=None, *, column=None, row=None, rows_word="sample") -> str:
    """Where ``where`` (default: NaN in ``a``) holds, by column: ``column 1 at samples 5 and 77;
    column 0 at sample 123``. ``column(j)`` and ``row(i)`` name a column and a row (default: their
    0-based indices; a table's header name and line number instead); ``rows_word``: what a row is
    (``sample``, ``line``). An array of one value per sample names the samples only; one of more axes
    per sample, each sample's entries flattened row-major."""
    mask = np.isnan(a) if where is None else where
    mask = mask.reshape(len(mask), -1) if mask.ndim else mask.reshape(1, 1)
    column = column or str
    row = row or (lambda i: i)
    bad_rows, bad_cols = np.nonzero(mask)
    if mask.shape[1] == 1:
        rows = [row(int(i)) for i in bad_rows]
        return f"{rows_word}{'s' if len(rows) > 1 else ''} {_listed(rows)}"
    parts = []
    for j in sorted(set(int(c) for c in bad_cols)):
        rows = [row(int(i)) for i in bad_rows[bad_cols == j]]
        parts.append(f"column {column(j)} at {rows_word}{'s' if len(rows) > 1 else ''} {_listed(rows)}")
    if len(parts) > 6:
        parts = parts[:6] + [f"and {len(parts) - 6} more columns"]
    return "; ".join(parts)


def missing_message(a: np.ndarray) -> str | None:
    """``has 3 missing values (NaN): column 0 at sample 123; column 1 at samples 5 and 77`` for an
    array holding NaN, said after its name (``data['x']``); None when it holds none."""
    if a.dtype.kind not in "fc":
        return None
    mask = np.isnan(a)
    count = int(mask.sum())
    if not count:
        return None
    entries = "entries" if a.ndim > 1 else "values"
    return (f" has {count} missing value{'s' if count > 1 else ''} (NaN) among its {a.size} {entries}: "
            f"{missing_places(a, mask)} (0-based{', as X[sample, column]' if a.ndim > 1 else ''})")
