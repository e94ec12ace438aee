"""Reading results: :class:`Result` (the arrays, the case, the status of one run),
:func:`read_result` and :func:`last_state` for result files, and the checks that a file
is a complete-enough kinsim result (:func:`open_result`)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import h5py
import numpy as np

from kinsim import __version__
from kinsim.case import Case, from_toml
from kinsim.errors import CaseError, ResultFileError

from .layout import FORMAT, FORMAT_VERSION, SERIES, decode

# the datasets every result file holds
_REQUIRED = ("time", "z", "face", "component", *SERIES)


@dataclass
class Result:
    """One run's result: its arrays, the resolved case and the status, from a result file
    (:func:`read_result`) or from memory (``kinsim.run(case)`` without ``output``).

    Arrays (SI units): ``time`` (nt,) s; ``z`` (nz,) node and ``faces`` (nf,) face
    positions, m; ``x`` (nt, nz, nc) mole fractions; ``mu`` (nt, nz, nc) chemical
    potentials, J/mol; ``flux`` (nt, nf, nc) volume-fixed fluxes, mol m^-2 s^-1;
    ``markers`` (nt, n_markers) Kirkendall marker positions, m; components ordered as
    ``components`` (the dependent one first).  ``extra`` holds the further per-snapshot
    arrays (``temperature``, ``potential``...) with their units in ``extra_units``;
    ``parameters`` the arrays the kernels used; ``attrs`` the root attributes (the status
    information, timings, versions...).  ``path`` is None for a result held in memory.

    Example::

        r = kinsim.read_result("cases/darken.h5")
        r.x[-1, :, r.components.index("C")]               # the last carbon profile
        r.to_xarray().x.sel(component="C").isel(time=-1)  # the same, labelled
    """

    path: Path | None
    time: np.ndarray  # (nt,) s
    z: np.ndarray  # (nz,) m
    faces: np.ndarray  # (nf,) m
    components: list[str]
    x: np.ndarray  # (nt, nz, nc)
    mu: np.ndarray  # (nt, nz, nc) J/mol
    flux: np.ndarray  # (nt, nf, nc) mol m^-2 s^-1, volume-fixed frame
    markers: np.ndarray  # (nt, n_markers) m
    attrs: dict
    status: str
    case_toml: str
    parameters: dict[str, np.ndarray] = field(default_factory=dict)
    extra: dict[str, np.ndarray] = field(default_factory=dict)
    extra_units: dict[str, str] = field(default_factory=dict)

    @property
    def n_snapshots(self) -> int:
        return int(self.time.size)

    @property
    def temperature(self) -> np.ndarray | None:
        """(nt,) K: the temperature at each snapshot (None in results without it)."""
        return self.extra.get("temperature")

    @property
    def potential(self) -> np.ndarray | None:
        """(nt, nz, nc) J/mol: the external potential Phi_k at each node, or None for a
        run without ``[[potential]]``."""
        return self.extra.get("potential")

    def node_positions(self, it: int) -> np.ndarray:
        """(nz,) m: the node positions at snapshot ``it``; they move with the interfaces of
        a moving-boundary run (``/node_position``), else they are ``z``."""
        moving = self.extra.get("node_position")
        return self.z if moving is None else moving[it]

    def face_positions(self, it: int) -> np.ndarray:
        """(nf,) m: the face positions at snapshot ``it`` (see :meth:`node_positions`)."""
        moving = self.extra.get("face_position")
        return self.faces if moving is None else moving[it]

    @property
    def interfaces(self) -> np.ndarray | None:
        """(nt, n_interfaces) m: the interface positions of a moving-boundary run (NaN
        once an interface is gone), None for other runs."""
        return self.extra.get("interface_position")

    @property
    def stop_reason(self) -> str:
        """Why the run stopped ('reached t = ... s', the failure, the interruption)."""
        return str(self.attrs.get("stop_reason", ""))

    @property
    def steps(self) -> int | None:
        """Time steps taken (accepted), None when the run recorded no count."""
        steps = self.attrs.get("steps")
        return None if steps is None else int(steps)

    @property
    def closed_cleanly(self) -> bool:
        """True when the writer closed the file (False: killed, or still writing)."""
        return bool(self.attrs.get("closed", False))

    @property
    def finished(self) -> bool:
        """True when the run completed."""
        return self.status == "completed"

    @property
    def status_description(self) -> str:
        if self.status == "running":
            return (
                "running: the writer has not recorded an end (the run was interrupted or killed, or is still running)"
            )
        reason = self.attrs.get("stop_reason", "")
        return f"{self.status} ({reason})" if reason else self.status

    @property
    def package_versions(self) -> dict:
        try:
            return json.loads(self.attrs.get("package_versions", "{}"))
        except ValueError:
            return {}

    @property
    def timings(self) -> dict:
        """Seconds spent: compile (or cache load), solve, io, wall."""
        try:
            return json.loads(self.attrs.get("timings", "{}"))
        except ValueError:
            return {}

    @property
    def stability(self):
        """The stability check of the starting compositions
        (:class:`kinsim.simulation.start_stability.StartStability`: the phases more stable
        than the run's phase, or than the local equilibrium of its phases, with driving
        force, composition and z, and the phases not checked), or None when the case turned
        it off (``thermo.candidates = []``) or the result predates it."""
        from kinsim.simulation.start_stability import StartStability

        text = self.attrs.get("stability")
        return None if text in (None, "null") else StartStability.from_json(str(text))

    @property
    def stability_end(self):
        """The stability check of the final state of a completed run
        (:class:`kinsim.simulation.start_stability.EndStability`: the start check's
        candidates at every node's potentials at the end, with the range of nodes where each
        is more stable; in a run with regions, each region's nodes), or None when the case
        turned the checks off, or for a result that predates it or did not complete."""
        from kinsim.simulation.start_stability import EndStability

        text = self.attrs.get("stability_end")
        return None if text in (None, "null") else EndStability.from_json(str(text))

    @property
    def stability_run(self):
        """The stability checks of the states the run stored after its start, the final
        state included (:class:`kinsim.simulation.start_stability.RunStability`: per
        candidate the state where it was most stable, and from when to when it was more
        stable than the run's phase), or None when the case turned the checks off, for a
        result that predates them, or before a state after the start was stored."""
        from kinsim.simulation.start_stability import RunStability

        return RunStability.from_attribute(self.attrs.get("stability_run"))

    @cached_property
    def case(self) -> Case:
        """The run's resolved case, parsed once from the case text the result stores: the
        one reader of it (weld, boundaries, grid, schedule, potentials ...).  Raises
        :class:`ResultFileError` when the result stores no case, one that does not
        validate, or one of other components.  The database need not exist any more."""
        source = self.path if self.path is not None else "an in-memory result"
        if not self.case_toml:
            raise ResultFileError(f"result file {source} stores no case")
        try:
            case = from_toml(self.case_toml, source)
        except CaseError as exc:
            raise ResultFileError(str(exc)) from None
        if list(case.components) != list(self.components):
            raise ResultFileError(
                f"result file {source} is inconsistent: its case has the components "
                f"{', '.join(case.components)}, its profiles {', '.join(self.components)}"
            )
        return case

    def to_xarray(self):
        """An :class:`xarray.Dataset` with dimensions time, z, face, component, marker (see
        :func:`kinsim.storage.xarray.to_dataset`)."""
        from .xarray import to_dataset  # imports xarray (and pandas): only when asked for

        return to_dataset(self)


def open_result(path) -> h5py.File:
    """Open a result file read-only, with clear errors for the ways it can be wrong."""
    p = Path(path)
    if not p.exists():
        raise ResultFileError(f"result file {p} does not exist")
    if not p.is_file():
        raise ResultFileError(f"result file {p} is not a file")
    try:
        hdf5 = h5py.is_hdf5(os.fspath(p))
    except OSError as e:  # pragma: no cover - unreadable file
        raise ResultFileError(f"result file {p} cannot be read: {e}") from e
    if not hdf5:
        raise ResultFileError(f"{p} is not an HDF5 file, so not a kinsim result file")
    try:
        f = h5py.File(p, "r")
    except OSError as e:
        if "lock" not in str(e).lower():
            raise ResultFileError(f"result file {p} cannot be opened: {e}") from e
        # the writer still holds it (run in progress): read the last flushed state
        try:
            f = h5py.File(p, "r", locking=False)
        except OSError as e2:
            raise ResultFileError(f"result file {p} cannot be opened: {e2}") from e2
    try:
        fmt = decode(f.attrs.get("format"))
        if fmt is None:
            raise ResultFileError(f"{p} is an HDF5 file but not a kinsim result file (no 'format' attribute)")
        if fmt != FORMAT:
            raise ResultFileError(
                f"{p} is an HDF5 file but not a kinsim result file (format {fmt!r}, expected {FORMAT!r})"
            )
        version = decode(f.attrs.get("format_version"))
        if not isinstance(version, int) or version > FORMAT_VERSION:
            raise ResultFileError(
                f"{p} has result format version {version!r}; this kinsim ({__version__}) "
                f"reads versions up to {FORMAT_VERSION}"
            )
        missing = [n for n in _REQUIRED if n not in f]
        if missing:
            raise ResultFileError(f"result file {p} is incomplete: datasets {missing} are missing")
    except BaseException:
        f.close()
        raise
    return f


def n_complete_or_zero(f) -> int:
    """Number of complete snapshots (time is written last; guard against a torn append)."""
    return min(f[name].shape[0] for name in ("time", *SERIES))


def _n_complete(f, p) -> int:
    """Like :func:`n_complete_or_zero`, but a file without a snapshot is an error."""
    n = n_complete_or_zero(f)
    if n == 0:
        status = decode(f.attrs.get("status", "?"))
        raise ResultFileError(
            f"result file {p} has no snapshot (status {status!r}): the run stopped before its first output"
        )
    return n


def _case_text(f) -> str:
    """The resolved case TOML stored in the open result file ``f`` ('' when none)."""
    if decode(f.attrs.get("case_location")) == "/case_toml" and "case_toml" in f:
        return str(decode(f["case_toml"][()]))
    return str(decode(f.attrs.get("case", "")))


def read_attribute(path, name: str):
    """A root attribute of a result file (decoded; None when absent), without reading its
    arrays."""
    with open_result(path) as f:
        return decode(f.attrs.get(name))


def read_case_text(path) -> str:
    """The resolved case TOML a result file stores, without reading its arrays."""
    with open_result(path) as f:
        return _case_text(f)


def read_result(path) -> Result:
    """Read a whole result file.  Raises :class:`ResultFileError` when it is missing, not
    HDF5, not a kinsim result, or holds no snapshot.

    Example::

        r = kinsim.read_result("cases/darken.h5")
        print(r.status, r.time[-1], r.components)
    """
    p = Path(path)
    with open_result(p) as f:
        n = _n_complete(f, p)
        attrs = {k: decode(v) for k, v in f.attrs.items()}
        case = _case_text(f)
        parameters = {}
        if "parameters" in f:
            for name, ds in f["parameters"].items():
                if isinstance(ds, h5py.Dataset) and not ds.is_scale:
                    parameters[name] = ds.asstr()[()] if h5py.check_string_dtype(ds.dtype) else ds[()]
        extra = {}
        extra_units = {}
        try:
            extra_names = json.loads(attrs.get("extra_variables", "[]"))
        except ValueError:
            extra_names = []
        for name in extra_names:
            if name in f:
                extra[name] = f[name][:n]
                extra_units[name] = str(decode(f[name].attrs.get("units", "")))
        return Result(
            path=p,
            time=f["time"][:n],
            z=f["z"][()],
            faces=f["face"][()],
            components=[str(c) for c in f["component"].asstr()[()]],
            x=f["x"][:n],
            mu=f["mu"][:n],
            flux=f["flux"][:n],
            markers=f["markers"][:n],
            attrs=attrs,
            status=str(attrs.get("status", "running")),
            case_toml=str(case),
            parameters=parameters,
            extra=extra,
            extra_units=extra_units,
        )


def last_state(path) -> tuple[float, np.ndarray, np.ndarray]:
    """(t, x (nz, nc), markers (n_markers,)) of the last complete snapshot, for resuming."""
    p = Path(path)
    with open_result(p) as f:
        k = _n_complete(f, p) - 1
        return float(f["time"][k]), f["x"][k], f["markers"][k]
