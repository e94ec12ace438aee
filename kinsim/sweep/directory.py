"""The sweep directory: ``sweep.json`` (the record of the sweep) and the index of its runs.

The directory ``DIR``
    ``sweep.json`` (format ``kinsim-sweep``) records the case path, the resolved base case
    (TOML text and hash), the ``--vary`` spec, ``--zip`` and every run (id, file, values,
    overrides, hash).  A rerun into an existing DIR must use the same case (same resolved
    base case, wherever the file lives) and every run recorded there must be among the new
    runs: values (or keys) may be added, in which case the earlier runs keep their ids and
    the new runs get the next free numbers.  Anything else is an error (exit status 2); so
    is a DIR that is a file, or a non-empty directory without ``sweep.json``.

One sweep at a time
    A sweep holds the lock ``DIR/.kinsim-sweep.lock`` (:func:`locked_directory`, see
    :mod:`kinsim.storage.lock`) from before it writes anything in DIR until it ends; a
    second sweep into DIR is refused (exit status 2) naming the process that holds it.

The index, ``index.csv`` and ``index.h5``
    One row per run, in run-id order; both files are rewritten (atomically) after every
    finished run, so a killed sweep leaves a usable index.  Columns:

    - ``run``: run id (``run-000`` ...); ``file``: result file name, relative to DIR;
    - one column per varied key named exactly as given to ``--vary``, holding the value as
      given; when some given values are not plain numbers (``"1 h"``, ``"1050 degC"``) but
      every resolved value is a number, a column ``KEY (SI)`` holds the resolved values
      (s, K, m, ...);
    - ``status``: ``completed``, ``failed`` or ``pending`` (not finished yet: a sweep that
      was killed); a skipped finished run keeps ``completed``;
    - ``wall_s``: wall time of the run in its worker (loading the case, setting up, solving,
      writing; a skipped run keeps the time of the run that made its file);
    - ``error``: the failure, one line (empty otherwise); ``case_sha256``: the run's hash;
    - the metrics of :mod:`kinsim.sweep.metrics` (NaN, or empty in the CSV, for runs that
      did not complete).

    ``index.h5`` holds one dataset per column (float64, NaN for missing, or UTF-8 strings),
    named like the column, and root attributes ``format = "kinsim-sweep-index"``,
    ``columns`` and ``keys`` (JSON lists), ``case``, ``zip``; plain h5py reads it.
    ``index.csv`` holds the same table (numbers with full precision; missing numbers empty).
"""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from ..case import parse_value
from ..errors import InputError
from ..storage import WriterLock
from .metrics import TEXT_METRICS, metric_columns
from .plan import SweepPlan, SweepRun, given_as_number

__all__ = [
    "INDEX_CSV",
    "INDEX_H5",
    "STATUS_COMPLETED",
    "STATUS_FAILED",
    "STATUS_PENDING",
    "SWEEP_JSON",
    "SWEEP_LOCK",
    "SweepIndex",
    "assign_runs",
    "locked_directory",
    "one_line",
    "prepare_directory",
    "read_index",
    "write_index",
    "write_record",
]

SWEEP_JSON = "sweep.json"
SWEEP_LOCK = ".kinsim-sweep.lock"
INDEX_CSV = "index.csv"
INDEX_H5 = "index.h5"
SWEEP_FORMAT = "kinsim-sweep"
INDEX_FORMAT = "kinsim-sweep-index"
FORMAT_VERSION = 1

# the status column
STATUS_COMPLETED = "completed"
STATUS_FAILED = "failed"
STATUS_PENDING = "pending"


def one_line(exc: BaseException) -> str:
    """An error as one line (the index's ``error`` column, the CLI's messages)."""
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _load_sweep_json(directory: Path) -> dict:
    p = directory / SWEEP_JSON
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"{p} cannot be read as a kinsim sweep record ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != SWEEP_FORMAT:
        raise InputError(
            f"{p} is not a kinsim sweep record (format {data.get('format') if isinstance(data, dict) else None!r})"
        )
    return data


def prepare_directory(plan: SweepPlan, directory) -> SweepPlan:
    """Check (or create) the sweep directory, give every run its id and file, and write
    ``sweep.json``.  Returns the plan with ids; raises :class:`InputError` when the
    directory cannot hold this sweep (see the module docstring)."""
    plan = assign_runs(plan, directory)
    write_record(plan, directory)
    return plan


@contextmanager
def locked_directory(directory):
    """Create the sweep directory when needed and hold its lock for the block (another
    sweep into it is refused: :class:`~kinsim.errors.OutputBusyError`).  A directory
    created here is removed again when the block fails and leaves it empty."""
    d = Path(directory).expanduser()
    created = not d.exists()
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"-o {directory}: cannot create the directory ({exc.strerror or exc})") from None
    try:
        with WriterLock.acquire(d, d / SWEEP_LOCK, what="sweep directory"):
            yield d
    except BaseException:
        if created:
            try:
                d.rmdir()
            except OSError:
                pass
        raise


def assign_runs(plan: SweepPlan, directory) -> SweepPlan:
    """Check that the directory can hold this sweep and give every run its id and file
    (the ids of an earlier sweep into it are kept); writes nothing.  Raises
    :class:`InputError` (see the module docstring)."""
    d = Path(directory).expanduser()
    if d.exists() and not d.is_dir():
        raise InputError(f"-o {directory} is a file, not a directory")
    previous: dict[str, dict] = {}
    next_number = 0
    if d.exists() and (d / SWEEP_JSON).exists():
        old = _load_sweep_json(d)
        if old.get("base_sha256") != plan.base_sha256:
            raise InputError(
                f"{d} holds a sweep of a different case ({old.get('case', '?')}, or the same file "
                f"since changed); use a new directory"
            )
        new_hashes = {r.sha256 for r in plan.runs}
        for r in old.get("runs", []):
            previous[r["sha256"]] = r
            if r["sha256"] not in new_hashes:
                given = ", ".join(r.get("overrides", []))
                raise InputError(
                    f"{d} holds a different sweep: its run {r.get('id')} ({given}) is not among "
                    f"this sweep's runs; repeat all its values (more may be added) or use a new "
                    f"directory"
                )
            try:
                next_number = max(next_number, int(str(r["id"]).rsplit("-", 1)[1]) + 1)
            except (KeyError, ValueError, IndexError):
                raise InputError(f"{d / SWEEP_JSON}: malformed run entry {r!r}") from None
    elif d.exists() and any(p.name != SWEEP_LOCK for p in d.iterdir()):
        raise InputError(
            f"-o {directory} exists and is not a kinsim sweep directory (it has files but no "
            f"{SWEEP_JSON}); give a new or empty directory"
        )
    runs = []
    for r in plan.runs:
        earlier = previous.get(r.sha256)
        if earlier is not None:
            rid, rfile = earlier["id"], earlier["file"]
        else:
            rid = f"run-{next_number:03d}"
            rfile = f"{rid}.h5"
            next_number += 1
        runs.append(SweepRun(r.values, r.overrides, r.sha256, r.resolved, rid, rfile))
    runs.sort(key=lambda r: int(r.id.rsplit("-", 1)[1]))
    return dataclasses.replace(plan, runs=runs)


def write_record(plan: SweepPlan, directory) -> None:
    """Create the directory when needed and write ``sweep.json`` for ``plan`` (with ids)."""
    d = Path(directory).expanduser()
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"-o {directory}: cannot create the directory ({exc.strerror or exc})") from None
    runs = plan.runs
    record = {
        "format": SWEEP_FORMAT,
        "format_version": FORMAT_VERSION,
        "case": str(plan.case_path),
        "base_sha256": plan.base_sha256,
        "base_case": plan.base_toml,
        "vary": [{"key": k, "values": v} for k, v in zip(plan.keys, plan.values)],
        "zip": plan.zip,
        "set": plan.fixed,
        "runs": [
            {
                "id": r.id,
                "file": r.file,
                "values": dict(zip(plan.keys, r.values)),
                "overrides": list(r.overrides),
                "sha256": r.sha256,
            }
            for r in runs
        ],
    }
    _atomic_write_text(d / SWEEP_JSON, json.dumps(record, indent=1) + "\n")


# ======================================================================================
# The index
# ======================================================================================
def _columns(plan: SweepPlan) -> tuple[list[str], set[str]]:
    """(column names in order, the numeric ones)."""
    cols, numeric = ["run"], {"wall_s"}
    si = []
    for i, k in enumerate(plan.keys):
        cols.append(k)
        if all(given_as_number(r.values[i]) for r in plan.runs):
            numeric.add(k)
        elif all(r.resolved[i] is not None for r in plan.runs):
            si.append(f"{k} (SI)")
    cols += si
    numeric.update(si)
    metrics = metric_columns(plan.components, plan.phases)
    numeric.update(m for m in metrics if m not in TEXT_METRICS)
    cols += ["status", "file", "wall_s", "error", "case_sha256"] + metrics
    return cols, numeric


def _as_float(v) -> float:
    if v is None or v == "":
        return math.nan
    try:
        return float(v)
    except ValueError:  # a TOML number Python does not read, e.g. 0x10
        return float(parse_value(str(v)))


def write_index(directory: Path, plan: SweepPlan, rows: list[dict]) -> None:
    """Rewrite ``index.csv`` and ``index.h5`` (each atomically) with ``rows`` (one dict
    per run, keyed by column)."""
    cols, numeric = _columns(plan)
    # CSV
    tmp = directory / (INDEX_CSV + ".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(cols)
        for row in rows:
            out = []
            for c in cols:
                v = row.get(c)
                if c in numeric and c not in plan.keys:
                    out.append("" if v is None or not math.isfinite(float(v)) else repr(float(v)))
                else:
                    out.append("" if v is None else str(v))
            w.writerow(out)
    os.replace(tmp, directory / INDEX_CSV)
    # HDF5
    tmp = directory / (INDEX_H5 + ".tmp")
    with h5py.File(tmp, "w") as f:
        f.attrs["format"] = INDEX_FORMAT
        f.attrs["format_version"] = FORMAT_VERSION
        f.attrs["columns"] = json.dumps(cols)
        f.attrs["keys"] = json.dumps(plan.keys)
        f.attrs["case"] = str(plan.case_path)
        f.attrs["zip"] = plan.zip
        for c in cols:
            vals = [row.get(c) for row in rows]
            if c in numeric:
                data = np.array([_as_float(v) for v in vals], dtype=np.float64)
                ds = f.create_dataset(c, data=data)
            else:
                ds = f.create_dataset(
                    c, data=["" if v is None else str(v) for v in vals], dtype=h5py.string_dtype("utf-8")
                )
            ds.attrs["column"] = c
    os.replace(tmp, directory / INDEX_H5)


@dataclass
class SweepIndex:
    """The index of a sweep directory: ``columns`` (name -> numpy array), ``order`` of the
    columns, the varied ``keys``."""

    directory: Path
    order: list[str]
    keys: list[str]
    columns: dict[str, np.ndarray]

    def __len__(self):
        return len(self.columns["run"]) if "run" in self.columns else 0


def read_index(directory) -> SweepIndex:
    """Read ``DIR/index.h5``; :class:`InputError` if DIR holds no sweep index."""
    d = Path(directory)
    p = d / INDEX_H5
    if not d.is_dir():
        raise InputError(f"{d} is not a sweep directory (not a directory)")
    if not p.is_file():
        raise InputError(f"{d} holds no sweep index ({INDEX_H5}); run kinsim sweep -o {d} first")
    try:
        with h5py.File(p, "r") as f:
            if f.attrs.get("format") != INDEX_FORMAT:
                raise InputError(f"{p} is not a kinsim sweep index")
            order = json.loads(f.attrs["columns"])
            keys = json.loads(f.attrs["keys"])
            cols = {}
            for c in order:
                ds = f[c]
                cols[c] = ds.asstr()[()] if h5py.check_string_dtype(ds.dtype) else ds[()]
    except (OSError, KeyError, ValueError) as exc:
        raise InputError(f"{p} cannot be read as a kinsim sweep index ({one_line(exc)})") from None
    return SweepIndex(d, order, keys, {c: np.asarray(v) for c, v in cols.items()})
