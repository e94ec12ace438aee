"""Parameter sweeps: many runs of one case with some keys varied, on local processes or a
Dask cluster, with an index of the runs and their summary metrics.

``kinsim sweep CASE.toml --vary KEY=V1,V2,... [--vary ...] [--zip] [--workers N |
--scheduler tcp://HOST:PORT] -o DIR`` calls :func:`run_sweep`.

Values
    ``--vary KEY=V1,V2`` splits the values on the commas that are outside brackets,
    braces and quotes, so ``--vary "conditions.duration=1 h,2 h"``, ``--vary
    "initial.left={B=0.2},{B=0.3}"`` and ``--vary "solver.rtol=1e-4,1e-5"`` all work.
    Each value is read like ``kinsim run --set``: as a TOML value, or else as a bare string
    (``1 h``, ``1050 degC``).  The runs are the product of the value lists (the first
    ``--vary`` varies slowest) or, with ``--zip``, their pairing (the lists must be equally
    long).  Any key of the case schema can vary except ``output.file`` (each run writes
    ``DIR/run-NNN.h5``).  ``--set KEY=VALUE`` (repeatable, as for ``kinsim run``) changes
    the case for every run; the *base case* of the sweep is the case file with these.

Validation, before anything runs or any file is written
    The case file must load by itself.  Every key and every value is applied alone to the
    case and validated (unknown key, unparsable value: a :class:`CaseError` naming the key
    and value), then every run's full set of overrides is validated (a combination may be
    inconsistent, e.g. a first step longer than the duration).  Two runs that resolve to the
    same case are an error.  With ``--scheduler`` the scheduler is contacted (5 s timeout)
    before the directory is touched.  Problems that need the database (a temperature
    outside its range, a composition that is not a single-phase state) and numerical
    failures show up when a run starts: that run is recorded as failed, the sweep goes on.

Run identity and reruns
    Each run is identified by the SHA-256 of its resolved case (``Case.to_dict()`` without
    ``output.file``, as sorted JSON), stored as ``case_sha256`` in the index and in
    ``sweep.json``.  A run is *finished* when its result file exists, its status is
    ``completed`` and the resolved case stored in that file has the same hash; finished runs
    are skipped (their metrics are read back from the file).  Failed, interrupted, killed or
    missing runs are run again.

The directory ``DIR``
    ``sweep.json`` (format ``kinsim-sweep``) records the case path, the resolved base case
    (TOML text and hash), the ``--vary`` spec, ``--zip`` and every run (id, file, values,
    overrides, hash).  A rerun into an existing DIR must use the same case (same resolved
    base case, wherever the file lives) and every run recorded there must be among the new
    runs: values (or keys) may be added, in which case the earlier runs keep their ids and
    the new runs get the next free numbers.  Anything else is an error (exit status 2); so
    is a DIR that is a file, or a non-empty directory without ``sweep.json``.

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
    - the metrics below (NaN, or empty in the CSV, for runs that did not complete).

    ``index.h5`` holds one dataset per column (float64, NaN for missing, or UTF-8 strings),
    named like the column, and root attributes ``format = "kinsim-sweep-index"``,
    ``columns`` and ``keys`` (JSON lists), ``case``, ``zip``; plain h5py reads it.
    ``index.csv`` holds the same table (numbers with full precision; missing numbers empty).

Metrics (functions of a :class:`~kinsim.storage.Result`, defined precisely)
    Let ``x0 = x[0]`` (the stored initial profile), ``xf = x[-1]`` (the final one), and
    the *reference range* of component k: the minimum and maximum of ``x0[:, k]`` together
    with the mole fraction of k in every boundary composition the case fixes (every stage,
    every point of a time table) and, at an end whose boundary lets matter in without
    fixing a composition (fixed flux, activity or potential), the mole fraction of k at
    that end node in every snapshot.  The case is read from the resolved case TOML stored in
    the result file (``initial.type``, ``initial.position``, ``boundary.<side>``).

    ``penetration_<COMP>_m``  (one per component, m)
        ``d = |xf_k - x0_k|`` per node; the *jump* ``s_k`` is the larger of the initial
        range of k (``max x0_k - min x0_k``) and, for every composition in the reference
        range that comes from a boundary, ``|x_boundary,k - x0_k(end node)|`` (for a fixed
        activity, flux or potential: the largest change of the end node); if ``s_k`` is zero
        the largest
        change ``max d`` is used instead (a component that is uniform at first but moves
        uphill), and if that is below 1e-9 the depth is 0.  The *changed zone* is the set of
        nodes with ``d > 0.01 s_k``.  *Sources* are: the weld ``initial.position`` of a
        step start, and every domain end whose boundary is not ``closed`` (fixed
        composition, flux, activity or potential, in any stage); with neither
        (a table start between closed ends) the source is the midpoint of the neighbouring
        nodes where the initial profile (summed over the components) jumps most.  Every
        node of the changed zone belongs to its nearest source; where the zone ends (the
        next node away from that source is unchanged) the edge is located by linear
        interpolation of ``d`` to ``0.01 s_k`` between the two nodes, or is the domain end
        if the zone reaches it.  The depth is the largest distance from a source to one of
        its edges.  For an erfc couple it is ``2 sqrt(D t) erfcinv(0.02)`` on either side;
        for a uniform start with a fixed surface composition, ``2 sqrt(D t) erfcinv(0.01)``.

    ``uphill_excursion`` (mole fraction) and ``uphill_component``
        For each component, how far its mole fraction goes outside its reference range at
        any node in any stored snapshot after t = 0 (``max(x_k) - hi_k`` or ``lo_k -
        min(x_k)``, whichever is larger); the metric is the largest over the components,
        ``uphill_component`` names it.  Values below 1e-9 (round-off) are reported as 0
        with an empty component.  All snapshots count because the excursion of a closed
        couple peaks and then decays.

    ``kirkendall_shift_m`` (m)
        Final minus initial position of the Kirkendall marker (with several markers, the
        signed shift of the one that moved farthest; NaN without markers).

Executors
    One top-level function, :func:`_run_one`, runs a case and never raises for a failed run
    (it returns status, error, wall time and metrics).  Locally it runs in a
    ``concurrent.futures.ProcessPoolExecutor`` with the ``spawn`` start method (no fork of
    a process that has numba/h5py state; numba kernels load from the disk cache in every
    worker), ``--workers`` processes (default: the usable cores); a script that calls
    :func:`run_sweep` needs the usual ``if __name__ == "__main__":`` guard of spawned
    multiprocessing.  With ``--scheduler`` the
    same function goes to a ``distributed.Client`` (``submit`` + ``as_completed``); the
    workers must see the case, its database and DIR at the same paths (a shared file
    system).  A worker that dies fails its run (recorded), not the sweep.

Interrupting a sweep (Ctrl-C) stops the runs in progress and leaves their rows ``pending``
in the index; running the same command again continues it.

Exit status of ``kinsim sweep``: 0 when every run completed, 1 when some failed (they are
in the index with their error), 2 for bad input (nothing was run), 130 when interrupted.
"""

from __future__ import annotations

import copy
import dataclasses
import csv
import hashlib
import itertools
import json
import math
import os
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import CaseError, InputError, KinsimError

__all__ = [
    "INDEX_CSV",
    "INDEX_H5",
    "SWEEP_JSON",
    "SweepPlan",
    "SweepRun",
    "SweepSummary",
    "kirkendall_shift",
    "parse_vary",
    "penetration_depths",
    "plan_sweep",
    "plot_metric",
    "prepare_directory",
    "read_index",
    "run_metrics",
    "run_sweep",
    "split_values",
    "uphill_excursion",
]

SWEEP_JSON = "sweep.json"
INDEX_CSV = "index.csv"
INDEX_H5 = "index.h5"
SWEEP_FORMAT = "kinsim-sweep"
INDEX_FORMAT = "kinsim-sweep-index"
FORMAT_VERSION = 1

PENETRATION_FRACTION = 0.01   # of the component's composition jump
NOISE = 1e-9                  # mole fraction: changes below this are round-off
CONNECT_TIMEOUT = 5.0         # s, to reach a Dask scheduler

STATUS_COMPLETED = "completed"
STATUS_FAILED = "failed"
STATUS_PENDING = "pending"

_zip = zip  # the builtin: ``plan_sweep`` and ``run_sweep`` take an argument named ``zip`` (the CLI's)

_SI_UNITS = {"temperature": "K", "duration": "s", "initial_step": "s", "length": "m", "position": "m",
             "inner_radius": "m", "molar_volume": "m^3/mol"}


# ======================================================================================
# Planning: --vary specs -> validated runs
# ======================================================================================
def split_values(text: str, where: str = "--vary") -> list[str]:
    """Split ``text`` on the commas outside brackets, braces and quotes; strip each value."""
    out, buf, depth, quote = [], [], 0, ""
    for ch in text:
        if quote:
            buf.append(ch)
            if ch == quote:
                quote = ""
            continue
        if ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
            if depth < 0:
                raise CaseError(f"{where}: unbalanced '{ch}' in {text!r}")
        elif ch == "," and depth == 0:
            out.append("".join(buf).strip())
            buf = []
            continue
        buf.append(ch)
    if quote or depth:
        raise CaseError(f"{where}: unterminated {'quote' if quote else 'bracket'} in {text!r}")
    out.append("".join(buf).strip())
    if any(not v for v in out):
        raise CaseError(f"{where}: empty value in {text!r} (values are separated by commas)")
    return out


def parse_vary(spec) -> tuple[str, list[str]]:
    """``"section.key=v1,v2"`` (or a ``(key, values)`` pair) -> ``(key, [v1, v2])``."""
    if isinstance(spec, str):
        key, sep, values = spec.partition("=")
        key = key.strip()
        if not sep or not key:
            raise CaseError(f"--vary {spec!r}: expected section.key=value1,value2,... "
                            f"e.g. conditions.temperature=1273,1323")
        where = f"--vary {key}"
        if not values.strip():
            raise CaseError(f"{where}: no values given")
        return key, split_values(values, where)
    key, values = spec
    key = str(key).strip()
    values = [str(v).strip() for v in values]
    if not key or not values or any(not v for v in values):
        raise CaseError(f"--vary {key}: give a key and at least one non-empty value")
    return key, values


@dataclass(frozen=True)
class SweepRun:
    """One run of a sweep; ``id`` and ``file`` are assigned by :func:`prepare_directory`."""

    values: tuple[str, ...]          # as given, one per key
    overrides: tuple[str, ...]       # "key=value"
    sha256: str                      # hash of the resolved case (run identity)
    resolved: tuple                  # resolved value per key (float or None)
    id: str = ""
    file: str = ""


@dataclass
class SweepPlan:
    case_path: Path
    keys: list[str]
    values: list[list[str]]
    zip: bool
    fixed: list[str]                 # --set overrides applied to every run
    runs: list[SweepRun]
    base_toml: str
    base_sha256: str
    components: list[str]


def _strip_location(msg: str, fname: str) -> str:
    return msg[len(fname) + 2:] if msg.startswith(f"{fname}: ") else msg


def _case_identity(case_dict: dict) -> str:
    d = copy.deepcopy(case_dict)
    d.get("output", {}).pop("file", None)
    return hashlib.sha256(json.dumps(d, sort_keys=True, default=str).encode()).hexdigest()


def _result_identity(case_toml: str) -> str | None:
    try:
        return _case_identity(tomllib.loads(case_toml))
    except (tomllib.TOMLDecodeError, TypeError):
        return None


def _lookup_resolved(case_dict: dict, key: str):
    node = case_dict
    for part in key.split("."):
        if not isinstance(node, dict):
            return None
        match = [k for k in node if k == part] or [k for k in node if k.upper() == part.upper()]
        if not match:
            return None
        node = node[match[0]]
    if isinstance(node, bool) or not isinstance(node, (int, float)):
        return None
    return float(node)


def _is_number(text: str) -> bool:
    from .case import _parse_value

    v = _parse_value(text)
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def plan_sweep(case, vary, zip: bool = False, sets=()) -> SweepPlan:  # noqa: A002 - the CLI's name
    """Validate a sweep: the case (with the fixed ``sets`` overrides, ``"key=value"`` as in
    ``kinsim run --set``), every varied key and value, and every run (see the module
    docstring).  Raises :class:`CaseError` naming the first problem."""
    from .case import _apply_override, load_case, parse_case

    path = Path(case).expanduser()
    fixed = tuple(str(t) for t in (sets or ()))
    base = load_case(path, overrides=fixed)  # file, base-case and --set errors, already one line
    fname = path.name
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    for text in fixed:
        _apply_override(raw, text)
    specs = [parse_vary(v) for v in vary]
    if not specs:
        raise CaseError("give at least one --vary KEY=VALUES")
    keys = [k for k, _ in specs]
    fixed_keys = {t.partition("=")[0].strip() for t in fixed}
    for k in keys:
        if keys.count(k) > 1:
            raise CaseError(f"--vary {k} is given more than once (give all its values in one --vary)")
        if k in fixed_keys:
            raise CaseError(f"{k} is given both in --set and in --vary")
        if k.strip().lower() == "output.file":
            raise CaseError("--vary output.file: every run writes its own DIR/run-NNN.h5; output.file cannot vary")
    if not zip:  # in a product a repeated value only repeats runs (with --zip the pairs decide)
        for k, values in specs:
            for i, v in enumerate(values):
                if v in values[:i]:
                    raise CaseError(f"--vary {k}: value {v!r} is given twice")

    def resolve(overrides, where):
        data = copy.deepcopy(raw)
        for text in overrides:
            try:
                _apply_override(data, text)
            except CaseError as exc:
                msg = str(exc)
                raise CaseError("--vary " + msg[len("--set "):] if msg.startswith("--set ") else msg) from None
        try:
            return parse_case(data, path)
        except CaseError as exc:
            raise CaseError(f"{where}: {_strip_location(str(exc), fname)}") from None

    # each key and value alone
    for k, values in specs:
        for v in values:
            resolve([f"{k}={v}"], f"--vary {k}={v}")
    # the runs
    if zip:
        lengths = {k: len(v) for k, v in specs}
        if len(set(lengths.values())) > 1:
            raise CaseError("--zip pairs the values, so every --vary needs as many values: "
                            + ", ".join(f"{k} has {n}" for k, n in lengths.items()))
        combos = list(_zip(*[v for _, v in specs]))
    else:
        combos = list(itertools.product(*[v for _, v in specs]))
    runs = []
    by_hash: dict[str, tuple] = {}
    for combo in combos:
        overrides = tuple(f"{k}={v}" for k, v in _zip(keys, combo))
        desc = ", ".join(overrides)
        c = resolve(overrides, f"sweep run with {desc}")
        d = c.to_dict()
        h = _case_identity(d)
        if h in by_hash:
            raise CaseError(f"the runs with {', '.join(by_hash[h])} and {desc} are the same case")
        by_hash[h] = overrides
        runs.append(SweepRun(values=tuple(combo), overrides=fixed + overrides, sha256=h,
                             resolved=tuple(_lookup_resolved(d, k) for k in keys)))
    base_toml = base.to_toml()
    return SweepPlan(case_path=path.resolve(), keys=keys, values=[v for _, v in specs], zip=bool(zip),
                     fixed=list(fixed), runs=runs, base_toml=base_toml, base_sha256=_case_identity(base.to_dict()),
                     components=list(base.components))



# ======================================================================================
# The directory
# ======================================================================================
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
        raise InputError(f"{p} is not a kinsim sweep record (format {data.get('format') if isinstance(data, dict) else None!r})")
    return data


def prepare_directory(plan: SweepPlan, directory) -> SweepPlan:
    """Check (or create) the sweep directory, give every run its id and file, and write
    ``sweep.json``.  Returns the plan with ids; raises :class:`InputError` when the
    directory cannot hold this sweep (see the module docstring)."""
    d = Path(directory).expanduser()
    if d.exists() and not d.is_dir():
        raise InputError(f"-o {directory} is a file, not a directory")
    previous: dict[str, dict] = {}
    next_number = 0
    if d.exists() and (d / SWEEP_JSON).exists():
        old = _load_sweep_json(d)
        if old.get("base_sha256") != plan.base_sha256:
            raise InputError(f"{d} holds a sweep of a different case ({old.get('case', '?')}, or the same file "
                             f"since changed); use a new directory")
        new_hashes = {r.sha256 for r in plan.runs}
        for r in old.get("runs", []):
            previous[r["sha256"]] = r
            if r["sha256"] not in new_hashes:
                given = ", ".join(r.get("overrides", []))
                raise InputError(f"{d} holds a different sweep: its run {r.get('id')} ({given}) is not among "
                                 f"this sweep's runs; repeat all its values (more may be added) or use a new "
                                 f"directory")
            try:
                next_number = max(next_number, int(str(r["id"]).rsplit("-", 1)[1]) + 1)
            except (KeyError, ValueError, IndexError):
                raise InputError(f"{d / SWEEP_JSON}: malformed run entry {r!r}") from None
    elif d.exists() and any(d.iterdir()):
        raise InputError(f"-o {directory} exists and is not a kinsim sweep directory (it has files but no "
                         f"{SWEEP_JSON}); give a new or empty directory")
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"-o {directory}: cannot create the directory ({exc.strerror or exc})") from None
    runs = []
    for r in plan.runs:
        old = previous.get(r.sha256)
        if old is not None:
            rid, rfile = old["id"], old["file"]
        else:
            rid = f"run-{next_number:03d}"
            rfile = f"{rid}.h5"
            next_number += 1
        runs.append(SweepRun(r.values, r.overrides, r.sha256, r.resolved, rid, rfile))
    runs.sort(key=lambda r: int(r.id.rsplit("-", 1)[1]))
    plan = dataclasses.replace(plan, runs=runs)
    record = {
        "format": SWEEP_FORMAT,
        "format_version": FORMAT_VERSION,
        "case": str(plan.case_path),
        "base_sha256": plan.base_sha256,
        "base_case": plan.base_toml,
        "vary": [{"key": k, "values": v} for k, v in _zip(plan.keys, plan.values)],
        "zip": plan.zip,
        "set": plan.fixed,
        "runs": [{"id": r.id, "file": r.file, "values": dict(_zip(plan.keys, r.values)),
                  "overrides": list(r.overrides), "sha256": r.sha256} for r in runs],
    }
    _atomic_write_text(d / SWEEP_JSON, json.dumps(record, indent=1) + "\n")
    return plan


# ======================================================================================
# Metrics
# ======================================================================================
def _case_of(result) -> dict:
    try:
        return tomllib.loads(result.case_toml or "")
    except tomllib.TOMLDecodeError:
        return {}


def _stage_compositions(stage: dict, comps: list[str]) -> list[np.ndarray]:
    """Mole-fraction vectors (all components) a boundary stage fixes: one per distinct time
    of its tables (a value may be a number or a table [[t, x], ...])."""
    given = stage.get("composition")
    if not isinstance(given, dict) or stage.get("unit", "mole-fraction") != "mole-fraction":
        return []
    up = {str(k).upper(): v for k, v in given.items()}
    tables = {}
    for c in comps[1:]:
        v = up.get(c)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            tables[c] = ([0.0], [float(v)])
        elif isinstance(v, list) and v and all(isinstance(p, list) and len(p) == 2 for p in v):
            tables[c] = ([float(p[0]) for p in v], [float(p[1]) for p in v])
        else:
            return []
    times = sorted({t for ts, _ in tables.values() for t in ts})
    out = []
    for t in times:
        xi = [float(np.interp(t, *tables[c])) for c in comps[1:]]
        out.append(np.array([1.0 - sum(xi)] + xi))
    return out


def _boundary_info(result, case: dict):
    """[(side, end node index, end face position, [compositions it fixes])] of the sides
    whose boundary is not closed (a side with stages counts if any stage is not closed).
    A stage that lets matter in without fixing a composition (flux, activity, potential)
    adds the compositions of the end node in every snapshot instead."""
    comps = list(result.components)
    out = []
    bnd = case.get("boundary", {}) if isinstance(case.get("boundary"), dict) else {}
    for side, node, face in (("left", 0, float(result.faces[0])), ("right", -1, float(result.faces[-1]))):
        b = bnd.get(side, {})
        if not isinstance(b, dict):
            continue
        stages = [st for st in b["stages"] if isinstance(st, dict)] if isinstance(b.get("stages"), list) else [b]
        if all(st.get("type", "closed") == "closed" for st in stages):
            continue
        fixed = [x for st in stages for x in _stage_compositions(st, comps)]
        if any(st.get("type", "closed") not in ("closed", "fixed-composition") for st in stages):
            fixed.extend(np.asarray(result.x[:, node, :], dtype=float))
        out.append((side, node, face, fixed))
    return out


def _sources(result, case: dict, sides) -> list[float]:
    ini = case.get("initial", {}) if isinstance(case.get("initial"), dict) else {}
    src = []
    if ini.get("type") == "step" and isinstance(ini.get("position"), (int, float)):
        src.append(float(ini["position"]))
    src.extend(face for _, _, face, _ in sides)
    if not src:
        x0 = result.x[0]
        jumps = np.abs(np.diff(x0, axis=0)).sum(axis=1)
        i = int(np.argmax(jumps)) if jumps.size else 0
        z = result.z
        src.append(float(0.5 * (z[i] + z[min(i + 1, z.size - 1)])))
    return src


def penetration_depths(result) -> dict[str, float]:
    """``{component: depth in m}``, the 1 % penetration depth (module docstring)."""
    case = _case_of(result)
    sides = _boundary_info(result, case)
    sources = np.array(_sources(result, case, sides))
    z = np.asarray(result.z, dtype=float)
    lo_end, hi_end = float(result.faces[0]), float(result.faces[-1])
    x0, xf = result.x[0], result.x[-1]
    out = {}
    for k, comp in enumerate(result.components):
        d = np.abs(xf[:, k] - x0[:, k])
        s = float(x0[:, k].max() - x0[:, k].min())
        for _, node, _, fixed in sides:
            for xb in fixed:
                s = max(s, abs(float(xb[k] - x0[node, k])))
        if not s > 0.0:
            s = float(d.max()) if d.size else 0.0
        if not s > NOISE or not d.max() > NOISE:
            out[comp] = 0.0
            continue
        thr = PENETRATION_FRACTION * s
        changed = d > thr
        depth = 0.0
        for i in np.flatnonzero(changed):
            dist = np.abs(sources - z[i])
            p = float(sources[int(np.argmin(dist))])
            directions = [1, -1] if z[i] == p else [1 if z[i] > p else -1]
            for step in directions:
                j = i + step
                if j < 0 or j >= z.size:
                    edge = hi_end if step > 0 else lo_end
                elif changed[j]:
                    continue
                else:
                    edge = z[i] + (z[j] - z[i]) * (d[i] - thr) / (d[i] - d[j])
                depth = max(depth, abs(edge - p))
        out[comp] = float(depth)
    return out


def uphill_excursion(result) -> tuple[float, str]:
    """(largest excursion outside the reference range, component) (module docstring)."""
    case = _case_of(result)
    sides = _boundary_info(result, case)
    x0 = result.x[0]
    if result.x.shape[0] < 2:
        return 0.0, ""
    later = result.x[1:]
    best, who = 0.0, ""
    for k, comp in enumerate(result.components):
        lo, hi = float(x0[:, k].min()), float(x0[:, k].max())
        for _, _, _, fixed in sides:
            for xb in fixed:
                lo, hi = min(lo, float(xb[k])), max(hi, float(xb[k]))
        xk = later[:, :, k]
        exc = max(float(np.nanmax(xk)) - hi, lo - float(np.nanmin(xk)))
        if exc > best:
            best, who = exc, comp
    if not best > NOISE:
        return 0.0, ""
    return float(best), who


def kirkendall_shift(result) -> float:
    """Final minus initial marker position, m (the marker that moved farthest); NaN if none."""
    m = np.asarray(result.markers, dtype=float)
    if m.ndim != 2 or m.shape[1] == 0 or m.shape[0] == 0:
        return math.nan
    shift = m[-1] - m[0]
    if not np.isfinite(shift).any():
        return math.nan
    return float(shift[int(np.nanargmax(np.abs(shift)))])


def run_metrics(result) -> dict:
    """Every summary metric of a result: ``penetration_<C>_m`` per component,
    ``uphill_excursion``, ``uphill_component``, ``kirkendall_shift_m``."""
    out = {f"penetration_{c}_m": v for c, v in penetration_depths(result).items()}
    exc, comp = uphill_excursion(result)
    out["uphill_excursion"] = exc
    out["uphill_component"] = comp
    out["kirkendall_shift_m"] = kirkendall_shift(result)
    return out


# ======================================================================================
# One run (in a worker)
# ======================================================================================
def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def _run_one(case_path, overrides, out_file, expected_sha256=None) -> dict:
    """Run one case with ``overrides`` into ``out_file``; never raises for a failed run.

    Returns ``{"status": "completed"|"failed", "error": str, "wall_s": float,
    "metrics": dict, "steps": int}``.  Top level and picklable: the local process pool
    and Dask workers both call it.
    """
    t0 = time.perf_counter()
    out = {"status": STATUS_FAILED, "error": "", "wall_s": math.nan, "metrics": {}, "steps": 0}
    try:
        from .case import load_case
        from .simulation import Simulation
        from .storage import read_result

        case = load_case(case_path, overrides=list(overrides))
        if expected_sha256 and _case_identity(case.to_dict()) != expected_sha256:
            raise InputError(f"the case file {case_path} changed during the sweep")
        summary = Simulation(case).run(output=str(out_file), progress=False)
        out["steps"] = int(summary.steps)
        out["status"] = STATUS_COMPLETED
        try:
            out["metrics"] = run_metrics(read_result(out_file))
        except Exception as exc:  # a bug in a metric must not lose the run
            out["error"] = f"metrics: {type(exc).__name__}: {_one_line(exc)}"
    except KinsimError as exc:  # ConvergenceError included: the result file says failed
        out["error"] = _one_line(exc)
    except Exception as exc:  # an unexpected error fails this run, not the sweep
        out["error"] = f"internal error: {type(exc).__name__}: {_one_line(exc)}"
    out["wall_s"] = time.perf_counter() - t0
    return out


def _finished(directory: Path, run: SweepRun):
    """The Result of a finished run (completed, same resolved case), else None."""
    from .storage import read_result

    p = directory / run.file
    if not p.is_file():
        return None
    try:
        r = read_result(p)
    except (KinsimError, OSError):
        return None
    if r.status != STATUS_COMPLETED or _result_identity(r.case_toml) != run.sha256:
        return None
    return r


# ======================================================================================
# Executors
# ======================================================================================
def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _local_results(jobs, workers):
    """Yield (run, result dict) as the local process pool finishes them."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    ctx = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=ctx)
    finished = False
    try:
        futures = {pool.submit(_run_one, *args): run for run, args in jobs}
        for fut in as_completed(futures):
            run = futures[fut]
            try:
                res = fut.result()
            except Exception as exc:  # the worker died (BrokenProcessPool) or could not unpickle
                res = {"status": STATUS_FAILED, "error": f"worker failed: {type(exc).__name__}: {_one_line(exc)}",
                       "wall_s": math.nan, "metrics": {}}
            yield run, res
        finished = True
    finally:
        if not finished:  # interrupted (Ctrl-C, an error in the caller): stop the runs in progress too
            for proc in list((getattr(pool, "_processes", None) or {}).values()):
                proc.terminate()
        pool.shutdown(wait=True, cancel_futures=True)


def _connect(address: str, timeout: float):
    try:
        from distributed import Client
    except ImportError as exc:  # pragma: no cover - a dependency
        raise InputError(f"--scheduler needs the 'distributed' package ({exc})") from None
    try:
        return Client(address, timeout=timeout, set_as_default=False)
    except Exception as exc:
        raise InputError(f"--scheduler {address}: cannot reach a Dask scheduler within {timeout:g} s "
                         f"({type(exc).__name__}: {_one_line(exc)})") from None


def _dask_results(jobs, client):
    from distributed import as_completed

    futures = {}
    for run, args in jobs:
        fut = client.submit(_run_one, *args, pure=False, key=f"kinsim-{run.id}-{os.urandom(4).hex()}")
        futures[fut] = run
    try:
        with client.as_current():  # as_completed finds the client of the futures this way
            done = as_completed(list(futures))
        for fut in done:
            run = futures[fut]
            try:
                res = fut.result()
            except Exception as exc:  # worker lost, task killed
                res = {"status": STATUS_FAILED, "error": f"worker failed: {type(exc).__name__}: {_one_line(exc)}",
                       "wall_s": math.nan, "metrics": {}}
            yield run, res
    finally:
        for fut in futures:
            fut.cancel()


# ======================================================================================
# The index
# ======================================================================================
def _metric_columns(components) -> list[str]:
    return [f"penetration_{c}_m" for c in components] + ["uphill_excursion", "uphill_component",
                                                         "kirkendall_shift_m"]


def _columns(plan: SweepPlan) -> tuple[list[str], set[str]]:
    """(column names in order, the numeric ones)."""
    cols, numeric = ["run"], {"wall_s"}
    si = []
    for i, k in enumerate(plan.keys):
        cols.append(k)
        given_numbers = all(_is_number(r.values[i]) for r in plan.runs)
        if given_numbers:
            numeric.add(k)
        elif all(r.resolved[i] is not None for r in plan.runs):
            si.append(f"{k} (SI)")
    cols += si
    numeric.update(si)
    metrics = _metric_columns(plan.components)
    numeric.update(m for m in metrics if m != "uphill_component")
    cols += ["status", "file", "wall_s", "error", "case_sha256"] + metrics
    return cols, numeric


def _as_float(v) -> float:
    if v is None or v == "":
        return math.nan
    try:
        return float(v)
    except ValueError:  # a TOML number Python does not read, e.g. 0x10
        from .case import _parse_value

        return float(_parse_value(str(v)))


def _write_index(directory: Path, plan: SweepPlan, rows: list[dict]) -> None:
    import h5py

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
                ds = f.create_dataset(c, data=["" if v is None else str(v) for v in vals],
                                      dtype=h5py.string_dtype("utf-8"))
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
    import h5py

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
        raise InputError(f"{p} cannot be read as a kinsim sweep index ({_one_line(exc)})") from None
    return SweepIndex(d, order, keys, {c: np.asarray(v) for c, v in cols.items()})


# ======================================================================================
# The sweep
# ======================================================================================
@dataclass
class SweepSummary:
    directory: Path
    total: int
    completed: int
    failed: int
    skipped: int            # finished runs found in DIR and not run again
    ran: int
    rows: list[dict] = field(default_factory=list)

    @property
    def failed_rows(self) -> list[dict]:
        return [r for r in self.rows if r["status"] == STATUS_FAILED]


def _row(plan: SweepPlan, run: SweepRun) -> dict:
    row = {"run": run.id, "file": run.file, "status": STATUS_PENDING, "wall_s": None, "error": "",
           "case_sha256": run.sha256}
    for k, v, res in _zip(plan.keys, run.values, run.resolved):
        row[k] = v
        row[f"{k} (SI)"] = res
    for m in _metric_columns(plan.components):
        row[m] = "" if m == "uphill_component" else None
    return row


def _previous_wall(directory: Path) -> dict[str, float]:
    try:
        idx = read_index(directory)
        return {h: float(w) for h, w in _zip(idx.columns["case_sha256"], idx.columns["wall_s"])}
    except (KinsimError, KeyError):
        return {}


def run_sweep(case, vary, out_dir, *, zip: bool = False, sets=(), workers: int | None = None,  # noqa: A002
              scheduler: str | None = None, progress: bool = True,
              connect_timeout: float | None = None) -> SweepSummary:
    """Run a sweep (see the module docstring).  ``vary``: ``"key=v1,v2"`` strings or
    ``(key, [values])`` pairs; ``sets`` (``--set``): ``"key=value"`` overrides for every run.  ``workers``: local processes (default: all usable cores);
    ``scheduler``: address of a Dask scheduler instead.  Bad input raises a
    :class:`KinsimError` before anything runs; failed runs are recorded, not raised."""
    if scheduler is not None and workers is not None:
        raise InputError("give either --workers (local processes) or --scheduler (a Dask cluster), not both")
    if workers is not None:
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise InputError(f"--workers must be a whole number of at least 1, got {workers!r}")
    if scheduler is not None and not str(scheduler).strip():
        raise InputError("--scheduler: give an address such as tcp://HOST:8786")
    plan = plan_sweep(case, vary, zip=zip, sets=sets)
    timeout = CONNECT_TIMEOUT if connect_timeout is None else float(connect_timeout)
    client = _connect(str(scheduler).strip(), timeout) if scheduler is not None else None
    try:
        plan = prepare_directory(plan, out_dir)
        # absolute paths for the workers (a Dask worker need not share our working directory)
        return _execute(plan, Path(out_dir).expanduser().resolve(), workers or default_workers(), client, progress)
    finally:
        if client is not None:
            client.close()


def _execute(plan: SweepPlan, directory: Path, workers: int, client, progress: bool) -> SweepSummary:
    walls = _previous_wall(directory)
    rows = {r.id: _row(plan, r) for r in plan.runs}
    jobs, skipped = [], 0
    for run in plan.runs:
        res = _finished(directory, run)
        row = rows[run.id]
        if res is not None:
            skipped += 1
            row["status"] = STATUS_COMPLETED
            row["wall_s"] = walls.get(run.sha256, res.timings.get("wall", math.nan))
            try:
                row.update(run_metrics(res))
            except Exception as exc:  # pragma: no cover - a metric bug
                row["error"] = f"metrics: {type(exc).__name__}: {_one_line(exc)}"
        else:
            jobs.append((run, (str(plan.case_path), list(run.overrides), str(directory / run.file), run.sha256)))

    def ordered():
        return [rows[r.id] for r in plan.runs]

    _write_index(directory, plan, ordered())
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(plan.runs), initial=skipped, unit="run", desc="sweep", dynamic_ncols=True)
    failed = 0
    results = None
    try:
        if jobs:
            results = _dask_results(jobs, client) if client is not None else _local_results(jobs, workers)
            for run, res in results:
                row = rows[run.id]
                row["status"] = res["status"]
                row["error"] = res.get("error", "")
                row["wall_s"] = res.get("wall_s")
                row.update(res.get("metrics", {}))
                if res["status"] != STATUS_COMPLETED:
                    failed += 1
                _write_index(directory, plan, ordered())
                if bar is not None:
                    bar.update(1)
                    if failed:
                        bar.set_postfix_str(f"failed={failed}")
    finally:
        if results is not None:
            results.close()  # at once: stops (local) or cancels (Dask) what is still running
        if bar is not None:
            bar.close()
        _write_index(directory, plan, ordered())
    all_rows = ordered()
    done = sum(r["status"] == STATUS_COMPLETED for r in all_rows)
    return SweepSummary(directory=directory, total=len(all_rows), completed=done,
                        failed=sum(r["status"] == STATUS_FAILED for r in all_rows), skipped=skipped,
                        ran=len(jobs), rows=all_rows)


# ======================================================================================
# Plot
# ======================================================================================
def _axis_label(key: str, si: bool) -> str:
    if not si:
        return key
    unit = _SI_UNITS.get(key.rsplit(".", 1)[-1])
    return f"{key} ({unit})" if unit else f"{key} (SI)"


def _metric_label(metric: str) -> str:
    if metric.startswith("penetration_") and metric.endswith("_m"):
        return f"penetration depth of {metric[len('penetration_'):-2]} (m)"
    return {"uphill_excursion": "largest uphill excursion (mole fraction)",
            "kirkendall_shift_m": "Kirkendall marker shift (m)",
            "wall_s": "wall time per run (s)"}.get(metric, metric)


def plot_metric(directory, metric: str, against: str, ax=None):
    """Plot summary ``metric`` of the completed runs of the sweep in ``directory`` against
    the varied key ``against``; one line per combination of the other varied keys.
    Returns the matplotlib Axes.  Raises :class:`InputError` for a directory without an
    index, an unknown metric or a key the sweep does not vary."""
    idx = read_index(directory)
    cols = idx.columns
    if against not in idx.keys:
        raise InputError(f"--against {against}: not a key of this sweep; it varies {', '.join(idx.keys)}")
    metrics = [c for c in idx.order if c.startswith("penetration_") or c in
               ("uphill_excursion", "kirkendall_shift_m", "wall_s")]
    if metric not in metrics:
        raise InputError(f"--metric {metric}: unknown metric; choose from {', '.join(metrics)}")
    y = np.asarray(cols[metric], dtype=float)
    ok = (cols["status"] == STATUS_COMPLETED) & np.isfinite(y)
    given = cols[against]
    si = f"{against} (SI)" in cols
    if np.asarray(given).dtype.kind in "fiu":
        xs, categorical = np.asarray(given, dtype=float), None
    elif si:
        xs, categorical = np.asarray(cols[f"{against} (SI)"], dtype=float), None
    else:
        labels = list(dict.fromkeys(str(v) for v in given))
        xs = np.array([labels.index(str(v)) for v in given], dtype=float)
        categorical = labels
    if ax is None:
        from matplotlib.figure import Figure

        ax = Figure(figsize=(4.5, 3.2), layout="constrained").add_subplot()
    others = [k for k in idx.keys if k != against]
    groups: dict[tuple, list[int]] = {}
    for i in range(len(idx)):
        groups.setdefault(tuple(str(cols[k][i]) for k in others), []).append(i)
    for g, members in groups.items():
        members = [i for i in members if ok[i]]
        if not members:
            continue
        members.sort(key=lambda i: xs[i])
        label = ", ".join(f"{k}={v}" for k, v in _zip(others, g)) or None
        ax.plot(xs[members], y[members], "o-", label=label)
    if categorical is not None:
        ax.set_xticks(range(len(categorical)), categorical)
    ax.set_xlabel(_axis_label(against, si and categorical is None and np.asarray(given).dtype.kind not in "fiu"))
    ax.set_ylabel(_metric_label(metric))
    if others and ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize="small")
    n_bad = int((~ok).sum())
    ax.set_title(f"{Path(directory).name}: {int(ok.sum())} runs" + (f" ({n_bad} not completed)" if n_bad else ""),
                 fontsize="small")
    return ax
