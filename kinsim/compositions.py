"""Compositions for the equilibrium calculation (``kinsim thermo``, :func:`kinsim.equilibrium`):
mole fractions checked in bulk, and tables of them read from files.

A composition is given by the mole fractions of the independent components (every
component but the first, dependent one); each must lie in (0, 1) and their sum below 1.
The checks run on whole arrays; an error names the first bad row (a file: its line) and
value.

Tables (:func:`read_compositions`), chosen by the file's suffix:

- ``.npy``: one array (N, n-1), columns in the order of the independent components;
- ``.npz``: an array ``X`` (N, n-1) as for ``.npy``, or else one 1D array (N,) per
  independent component, named after it;
- anything else: CSV text, a header line naming the independent components (any order,
  any case) and one composition per line; blank lines are skipped.  The numbers are
  parsed by pandas' C reader (correctly rounded, as Python's ``float``); a file it
  cannot read, or one that fails a check, is read again line by line to name the first
  bad line and value.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from .errors import InputError


def _bad_rows(X):
    """(value outside (0, 1) per entry, row sums, bad row) of compositions X (N, n-1)."""
    outside = ~((X > 0.0) & (X < 1.0))
    sums = X.sum(axis=1)
    return outside, sums, outside.any(axis=1) | (sums >= 1.0)


def check_mole_fractions(X, independent, where) -> None:
    """Check the rows of ``X`` (N, n-1), mole fractions of the ``independent`` components:
    each in (0, 1) (NaN is not), each row's sum below 1.  ``where(i)`` says where row i
    comes from ("--x", "line 7 of x.csv"); it is called for the first bad row only."""
    X = np.asarray(X, dtype=np.float64)
    outside, sums, bad = _bad_rows(X)
    if not bad.any():
        return
    i = int(np.argmax(bad))
    if outside[i].any():
        j = int(np.argmax(outside[i]))
        raise InputError(f"{where(i)}: mole fraction of {independent[j]} = {X[i, j]:g} is outside (0, 1)")
    raise InputError(
        f"{where(i)}: the mole fractions of {', '.join(independent)} sum to {sums[i]:g}; "
        "they must leave a positive amount of the dependent component"
    )


def x_pairs(text: str) -> list[tuple[str, str]]:
    """``--x CR=0.21,AL=0.058`` -> [("CR", "0.21"), ("AL", "0.058")]."""
    pairs = []
    for item in filter(None, (t.strip() for t in text.split(","))):
        if "=" not in item:
            raise InputError(f"--x: expected COMPONENT=value, got '{item}'")
        k, v = item.split("=", 1)
        pairs.append((k, v))
    return pairs


def point_fractions(values, independent, where: str) -> list[float]:
    """The mole fractions of one composition given by component name (any case), as a
    dict or (name, value) pairs: every independent component once, no other."""
    out = {}
    for key, value in values.items() if isinstance(values, dict) else values:
        name = str(key).strip().upper()
        if name in out:
            raise InputError(f"{where}: {name} given twice")
        out[name] = value
    unknown = set(out) - set(independent)
    if unknown:
        raise InputError(
            f"{where}: {', '.join(sorted(unknown))} not among the independent components "
            f"{', '.join(independent)} (the first component is the dependent one)"
        )
    missing = [c for c in independent if c not in out]
    if missing:
        raise InputError(f"{where}: give the mole fraction of {', '.join(missing)}")
    fractions = []
    for c in independent:
        try:
            fractions.append(float(out[c]))
        except (TypeError, ValueError):
            raise InputError(f"{where}: {str(out[c]).strip()!r} is not a number (for {c})") from None
    return fractions


def read_compositions(path, independent, where: str = "--batch") -> np.ndarray:
    """The checked compositions (N, n-1) in a ``.npy``, ``.npz`` or CSV file (see the
    module docstring), columns in the order of ``independent``.  Errors are
    :class:`InputError` starting with ``where``."""
    path = Path(path)
    independent = [str(c).upper() for c in independent]
    suffix = path.suffix.lower()
    if suffix not in (".npy", ".npz"):
        return _read_csv(path, independent, where)
    data = _load_numpy(path, where)
    if suffix == ".npy":
        if not isinstance(data, np.ndarray):
            raise InputError(f"{where}: {path} is not an .npy file (it holds an .npz archive)")
        X = _array(data, path, "the array", independent, where)
    else:
        if not isinstance(data, np.lib.npyio.NpzFile):
            raise InputError(f"{where}: {path} is not an .npz archive")
        with data:
            X = _read_npz(data, path, independent, where)
    check_mole_fractions(X, independent, lambda i: f"{where} {path} row {i}")
    return X


def _load_numpy(path, where):
    try:
        return np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise InputError(f"{where}: file not found: {path}") from None
    except (OSError, ValueError, EOFError) as exc:  # not a numpy file, a pickled object...
        raise InputError(f"{where}: cannot read {path}: {exc}") from None


def _array(arr, path, what, independent, where) -> np.ndarray:
    """A numeric (N, n-1) array with N >= 1, as float64."""
    m = len(independent)
    if arr.dtype.kind not in "iuf":
        raise InputError(f"{where}: {what} in {path} holds {arr.dtype} values, not numbers")
    if arr.ndim != 2 or arr.shape[1] != m or arr.shape[0] == 0:
        raise InputError(
            f"{where}: {what} in {path} has shape {arr.shape}; expected (N, {m}) with N >= 1: the "
            f"mole fractions of {', '.join(independent)}, one composition per row"
        )
    return np.ascontiguousarray(arr, dtype=np.float64)


def _read_npz(npz, path, independent, where) -> np.ndarray:
    names = {name.upper(): name for name in npz.files}
    if "X" in names:
        return _array(npz[names["X"]], path, "the array X", independent, where)
    missing = [c for c in independent if c not in names]
    if missing:
        raise InputError(
            f"{where}: {path} holds neither an array X nor arrays named {', '.join(missing)} "
            f"(it holds {', '.join(npz.files) or 'no array'})"
        )
    columns = [npz[names[c]] for c in independent]
    shapes = {c: col.shape for c, col in zip(independent, columns)}
    if any(len(s) != 1 for s in shapes.values()) or len(set(shapes.values())) != 1:
        raise InputError(
            f"{where}: the arrays {', '.join(independent)} in {path} must be 1D and equally long; "
            f"their shapes are {', '.join(f'{c} {s}' for c, s in shapes.items())}"
        )
    return _array(np.column_stack(columns), path, f"the arrays {', '.join(independent)}", independent, where)


# --------------------------------------------------------------------------- CSV
def _csv_rows(fh):
    """(line number, cells) of the non-blank rows of a CSV file."""
    reader = csv.reader(fh)
    for row in reader:
        if any(cell.strip() for cell in row):
            yield reader.line_num, row


def _open_text(path, where):
    try:
        return open(path, newline="", encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"{where}: file not found: {path}") from None
    except OSError as exc:
        raise InputError(f"{where}: cannot read {path}: {exc}") from None


def _read_csv(path, independent, where) -> np.ndarray:
    try:
        with _open_text(path, where) as fh:
            first = next(_csv_rows(fh), None)
    except UnicodeDecodeError as exc:
        raise InputError(f"{where}: cannot read {path}: {exc}") from None
    if first is None:
        raise InputError(f"{where}: {path} needs a header and at least one row")
    header = [h.strip().upper() for h in first[1]]
    if sorted(header) != sorted(independent):
        raise InputError(
            f"{where}: the header of {path} must name the independent components "
            f"{', '.join(independent)}; it names {', '.join(header)}"
        )
    X = _parse_fast(path, len(header))
    if X is None or X.shape[0] == 0 or _bad_rows(X)[2].any():
        X = _parse_by_line(path, header, where)  # names the first bad line
    return np.ascontiguousarray(X[:, [header.index(c) for c in independent]])


def _parse_fast(path, n_columns) -> np.ndarray | None:
    """The numbers below the header as an (N, n_columns) array, or None when pandas'
    reader finds anything it cannot convert (the line-by-line reader then says what)."""
    import pandas as pd  # the C CSV reader; imported only for a CSV file (pandas is slow to import)

    try:
        frame = pd.read_csv(
            path,
            header=0,
            dtype=np.float64,
            index_col=False,
            na_filter=False,
            skipinitialspace=True,
            encoding="utf-8-sig",
            engine="c",
            **_exact_numbers(pd),
        )
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError):
        return None
    if frame.shape[1] != n_columns:
        return None
    return frame.to_numpy(dtype=np.float64)


def _exact_numbers(pd) -> dict:
    """pandas >= 3.1 converts every number with fast_float (correctly rounded, as Python's
    float) and deprecates ``float_precision``; earlier versions need 'round_trip'."""
    major, minor = (int(part) for part in pd.__version__.split(".")[:2])
    return {} if (major, minor) >= (3, 1) else {"float_precision": "round_trip"}


def _parse_by_line(path, header, where) -> np.ndarray:
    """The reference reader: every row checked in order; raises at the first bad line."""
    rows, lines = [], []
    with _open_text(path, where) as fh:
        data = _csv_rows(fh)
        next(data)  # the header
        for line, row in data:
            if len(row) != len(header):
                raise InputError(f"{where}: {path} line {line} has {len(row)} values, expected {len(header)}")
            values = []
            for cell in row:
                try:
                    values.append(float(cell))
                except ValueError:
                    raise InputError(f"{where}: {path} line {line}: '{cell}' is not a number") from None
            rows.append(values)
            lines.append(line)
    if not rows:
        raise InputError(f"{where}: {path} needs a header and at least one row")
    X = np.array(rows, dtype=np.float64)
    check_mole_fractions(X, header, lambda i: f"{where} {path} line {lines[i]}")
    return X
