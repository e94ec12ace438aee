"""kinsim as a Python library: :func:`load_case`, :func:`run` and :func:`equilibrium`
(exported by the package: ``kinsim.run(...)``).

The functions do what the commands do and raise what the commands report: bad input is
a :class:`~kinsim.errors.CaseError` or :class:`~kinsim.errors.InputError` with the
message ``kinsim run`` / ``kinsim thermo`` print, a run that fails a
:class:`~kinsim.errors.ConvergenceError` naming node, composition and time.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .case import Case, apply_override, parse_case
from .case import load_case as _load_case_file
from .compositions import check_mole_fractions, point_fractions
from .errors import InputError, KinsimError, OutputRefusedError
from .storage import MemoryStore, Result, read_result

if TYPE_CHECKING:  # loaded when used: they import the numba kernels
    from .phase import PhaseModel
    from .phaseset import PhaseSetModel

# the name a case given as a dict goes by in messages (like "<stdin>")
DICT_CASE_NAME = "<dict>"


def load_case(case, *, overrides=None, base_dir=None) -> Case:
    """A validated :class:`~kinsim.case.Case` from ``case``: a Case, a dict with the
    structure of a case file, or the path of a TOML case file.

    ``overrides`` change keys before validation: a dict ``{"grid.nodes": 400,
    "conditions.duration": "2 h"}`` (values as in a case file) or a list of
    ``"section.key=value"`` strings (``kinsim run --set``).  Relative file names in a
    dict (the database, the output file) are taken relative to ``base_dir`` (default:
    the current directory); a file's are relative to its folder, as for ``kinsim run``.
    Dict values may be lists or tuples, numpy numbers and paths.

    Example::

        case = kinsim.load_case("cases/nicral-couple.toml", overrides={"grid.nodes": 50})
        case = kinsim.load_case({"title": "couple", "thermo": {...}, ...}, base_dir="cases")
    """
    texts = _override_texts(overrides)
    if isinstance(case, (str, Path)):
        _no_base_dir(base_dir, "a case file")
        return _load_case_file(case, overrides=texts)
    if isinstance(case, Case):
        _no_base_dir(base_dir, "a Case")
        if not texts:
            return case
        data, source = case.to_dict(), case.path
    elif isinstance(case, dict):
        data, source = _plain(case), (Path.cwd() if base_dir is None else Path(base_dir)) / DICT_CASE_NAME
    else:
        raise InputError(f"case must be a Case, a dict or the path of a case file (TOML), got {type(case).__name__}")
    for text in texts:
        apply_override(data, text)
    return parse_case(data, source, overrides=texts)


def _no_base_dir(base_dir, what):
    if base_dir is not None:
        raise InputError(f"base_dir applies to a case given as a dict; {what} keeps its own paths")


def _override_texts(overrides) -> list[str]:
    """Overrides as ``section.key=value`` strings (the form ``--set`` takes)."""
    if overrides is None:
        return []
    if isinstance(overrides, str):
        return [overrides]
    if isinstance(overrides, dict):
        return [f"{key}={_toml_value(value, key)}" for key, value in overrides.items()]
    if all(isinstance(text, str) for text in overrides):
        return list(overrides)
    raise InputError("overrides must be a dict {'section.key': value} or a list of 'section.key=value' strings")


def _toml_value(value, key) -> str:
    """``value`` written as a TOML value (inline)."""
    value = _plain(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)  # Python's spelling is TOML's, inf and nan included
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v, key) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_toml_key(str(k))} = {_toml_value(v, key)}" for k, v in value.items()) + "}"
    raise InputError(f"overrides[{key!r}]: a {type(value).__name__} cannot be a case value")


def _toml_key(name: str) -> str:
    """A TOML key: bare when it can be (as one writes a component name), else quoted."""
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else json.dumps(name)


def _plain(value):
    """A copy of ``value`` with Python values as a TOML file gives them: lists for tuples
    and arrays, Python numbers for numpy's, strings for paths."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    return value


def run(case, *, output=None, overrides=None, progress=False, base_dir=None) -> Result:
    """Run a diffusion case and return its :class:`~kinsim.storage.Result`.

    ``case``, ``overrides`` and ``base_dir`` as for :func:`load_case`.  Without
    ``output`` the run is held in memory and writes no file (``Result.path`` is None);
    with ``output`` it writes that HDF5 file exactly as ``kinsim run -o OUTPUT`` does and
    returns what :func:`~kinsim.storage.read_result` reads from it.  ``progress`` shows a
    progress bar.

    A run that fails raises :class:`~kinsim.errors.ConvergenceError` (or
    :class:`~kinsim.errors.ResultWriteError` when its file cannot be written), an
    interrupted one (Ctrl-C) :class:`KeyboardInterrupt`; a file keeps its failed or
    interrupted status and last good state as with ``kinsim run``, and the exception
    carries the result so far as ``exc.result`` (None when the run stopped before its
    first output).  An ``output`` that another process is writing, or whose disk cannot
    hold the result, raises :class:`~kinsim.errors.OutputRefusedError` before anything is
    written; a file there of another case is kept under a new name (see the README).

    Example::

        r = kinsim.run("cases/nicral-couple.toml", overrides={"grid.nodes": 60})
        r.x[-1]                # the final mole fractions (nz, nc)
        ds = r.to_xarray()     # the same, labelled
    """
    from .simulation import Simulation  # loads the numba kernels: only when a run starts

    resolved = load_case(case, overrides=overrides, base_dir=base_dir)
    sim = Simulation(resolved)
    if output is not None:
        try:
            sim.run(output=str(output), progress=progress)
        except OutputRefusedError as exc:  # nothing was written: the file there is not this run's
            _carry(exc, None)
            raise
        except (KinsimError, KeyboardInterrupt) as exc:
            _carry(exc, _partial(lambda: read_result(output)))
            raise
        return read_result(output)
    stores: list[MemoryStore] = []
    try:
        sim.run(progress=progress, storage=MemoryStore.collecting(stores))
    except (KinsimError, KeyboardInterrupt) as exc:
        _carry(exc, _partial(lambda: stores[0].result()) if stores else None)
        raise
    return stores[0].result()


def _carry(exc: BaseException, result: Result | None) -> None:
    """Attach the result so far to the exception a run raised, as ``exc.result``.  It
    is set on the instance because a KeyboardInterrupt carries it too, a class kinsim
    cannot declare it on."""
    setattr(exc, "result", result)  # noqa: B010 - an attribute no exception class declares


def _partial(read) -> Result | None:
    """The result of a run that stopped, or None when it holds no snapshot."""
    try:
        return read()
    except KinsimError:
        return None


def equilibrium(database, phase, components, T, x, *, raise_on_failure: bool = True):
    """The equilibrium of one phase (``kinsim thermo --phase``) or among several
    (``kinsim thermo --phases``), its chemical potentials and dmu/dx.

    ``database``: a TDB file; ``phase``: a phase name (or a list of one), or a list of
    candidate phases; ``components``: names, the dependent (reference) one first; ``T``:
    K, a scalar or one per row; ``x``: a dict {component: mole fraction} of the
    independent components for one point, or an array of rows (N, n-1) over
    ``components[1:]`` (or (N, n) over all components, rows summing to 1).

    One phase: an :class:`~kinsim.equilibria.Equilibrium` whose attributes carry the
    names of ``kinsim thermo --json`` (components, T, X, MU, dmu_dx, partial_dmu_dx, GM,
    site_fractions, status).  Several: a
    :class:`~kinsim.mpequilibrium.MultiphaseEquilibrium` with those of ``kinsim thermo
    --phases --json`` (components, T, X, MU, phases, driving_forces, dmu_dx,
    partial_dmu_dx, status; for many rows also phase_names, fractions, compositions).
    Both have ``.to_xarray()``.  A point that does not converge raises
    (:class:`~kinsim.errors.ConvergenceError`) unless ``raise_on_failure`` is False;
    then its ``status`` is non-zero and its values NaN.

    Example::

        eq = kinsim.equilibrium("cases/databases/ni-cr-al.tdb", "FCC_A1", ["NI", "CR", "AL"],
                                1473.15, {"CR": 0.21, "AL": 0.058})
        eq.MU, eq.dmu_dx, eq.site_fractions
        eq = kinsim.equilibrium("cases/databases/fe-cr-c.tdb", ["FCC_A1", "M7C3_D101"], ["FE", "CR", "C"],
                                1223.0, {"CR": 0.05, "C": 0.03})
        eq.phases, eq.MU, eq.driving_forces
    """
    phases = _phase_list(phase)
    comps = [str(c).strip().upper() for c in components]
    if len(comps) < 2:
        raise InputError("components: give at least two, the dependent (reference) one first")
    point = isinstance(x, dict)
    if len(phases) > 1:
        from .mpequilibrium import MultiphaseEquilibrium  # numba kernels and pycalphad: only when called
        from .phaseset import load_phases

        candidates = load_phases(database, phases, comps)
        rows, Trows = _equilibrium_rows(candidates, comps, T, x)
        return MultiphaseEquilibrium(
            database, candidates, candidates.equilibrium(rows, Trows, raise_on_failure=raise_on_failure), point
        )
    from .equilibria import Equilibrium, solve_rows
    from .phase import load_phase

    model = load_phase(database, phases[0], comps)
    rows, Trows = _equilibrium_rows(model, comps, T, x)
    return Equilibrium(database, model, solve_rows(model, rows, Trows, raise_on_failure), point)


def _equilibrium_rows(model: PhaseModel | PhaseSetModel, comps, T, x) -> tuple[np.ndarray, np.ndarray]:
    """The compositions (N, n-1) of ``x`` (a dict: one point) and the temperatures (N,)
    of ``T``, checked, also against the temperature range of ``model``."""
    if isinstance(x, dict):
        if np.ndim(T) != 0:
            raise InputError("T: give one temperature for one composition (a dict x)")
        rows = np.array([point_fractions(x, comps[1:], "x")])
        check_mole_fractions(rows, comps[1:], lambda i: "x")
    else:
        rows = _composition_rows(x, comps)
        check_mole_fractions(rows, comps[1:], lambda i: f"x row {i}")
    Trows = _temperatures(T, rows.shape[0])
    model.check_temperature(Trows, "T")
    return rows, Trows


def _phase_list(phase) -> list[str]:
    """The phase names of ``phase``: one name, or a list of names."""
    if isinstance(phase, str):
        return [phase]
    try:
        phases = list(phase)
    except TypeError:
        raise InputError(f"phase: give a phase name or a list of names, got {type(phase).__name__}") from None
    if not phases or not all(isinstance(p, str) for p in phases):
        raise InputError(f"phase: give a phase name or a list of names, got {phases!r}")
    return phases


def _composition_rows(x, comps) -> np.ndarray:
    """(N, n-1) mole fractions of comps[1:] from an array (N, n-1) or (N, n)."""
    try:
        X = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError("x: give a dict {component: mole fraction} or an array of numbers (N, n-1)") from None
    n = len(comps)
    if X.ndim != 2 or X.shape[1] not in (n - 1, n) or X.shape[0] == 0:
        raise InputError(
            f"x has shape {X.shape}; give (N, {n - 1}) rows of mole fractions of "
            f"{', '.join(comps[1:])} (or (N, {n}) over {', '.join(comps)}), or a dict for one point"
        )
    if X.shape[1] == n:
        off = np.abs(X.sum(axis=1) - 1.0) > 1e-12 * n
        if off.any():
            i = int(np.argmax(off))
            raise InputError(f"x row {i}: the mole fractions of {', '.join(comps)} sum to {X[i].sum():.15g}, not 1")
        X = X[:, 1:]
    return np.ascontiguousarray(X)


def _temperatures(T, n_rows) -> np.ndarray:
    """T (K) as one value per row."""
    try:
        T = np.asarray(T, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError("T: give a temperature in K (a number, or one per row)") from None
    if T.ndim > 1 or (T.ndim == 1 and T.shape[0] != n_rows):
        raise InputError(f"T has shape {T.shape}; give one temperature or one per row ({n_rows})")
    return np.broadcast_to(T, (n_rows,)).copy()
