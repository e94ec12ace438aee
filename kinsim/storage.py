"""The HDF5 result file of one diffusion run, written while the run goes.

Layout (one file per run; plain h5py reads it, and so does
``xarray.open_dataset(path, engine="h5netcdf")`` with named dimensions)::

    /                 root attributes: format='kinsim-result', format_version, kinsim_version,
                      title, phase, components, case (resolved case TOML), package_versions
                      (JSON), mobility_policy, n_markers, status, stop_reason, created,
                      closed, timings (JSON) + timing_<name>, status information
    /time      (time)                  s        dimension scale, grows with every snapshot
    /z         (z)                     m        node positions, dimension scale
    /face      (face)                  m        face positions, dimension scale
    /component (component)             names (variable-length UTF-8), dimension scale
    /marker    (marker)                marker index, dimension scale
    /x         (time, z, component)    1        mole fractions
    /mu        (time, z, component)    J mol-1  chemical potentials
    /flux      (time, face, component) mol m-2 s-1, volume-fixed frame
    /markers   (time, marker)          m        Kirkendall marker positions
    /<extra>   (time, ...)             per-snapshot extra arrays given to ``append``
    /parameters/<name>                 the parameter arrays the kernels used
    /checkpoint/<name>                 the complete stepper state at the last output time (or
                                       interruption), for ``kinsim run --resume``

Crash safety: every ``append`` writes the data arrays first and the new time last, then
flushes, so a process killed after an append leaves a file with every appended snapshot
(the number of snapshots is the length of /time).  The default (earliest) HDF5 format is
used on purpose: with ``libver='latest'`` or ``'v110'`` HDF5 marks the file "open for
write" in its superblock and refuses to open it again after the writer was killed.

A file whose status is still ``'running'`` after its writer ended was interrupted or
killed (or its writer is still running); :attr:`Result.finished` tells.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import time as _time
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np

from kinsim import __version__
from kinsim.errors import ResultFileError

__all__ = ["FORMAT", "FORMAT_VERSION", "STATUSES", "Result", "ResultWriter", "last_state", "read_checkpoint",
           "read_result"]

FORMAT = "kinsim-result"
FORMAT_VERSION = 1
STATUSES = ("running", "completed", "failed", "interrupted")

_PACKAGES = ("numpy", "numba", "h5py", "pycalphad", "scipy", "xarray", "h5netcdf")
# HDF5 attributes of the default (earliest) file format live in the object header (< 64 KiB)
_MAX_ATTR_BYTES = 60_000
_NC_DIM_ONLY = "This is a netCDF dimension but not a netCDF variable."

# names the core layout uses: extras and parameters must not take them
_CORE_DATASETS = frozenset({"time", "z", "face", "component", "marker", "x", "mu", "flux", "markers",
                            "parameters", "case_toml", "checkpoint"})
_CORE_ATTRS = frozenset({"format", "format_version", "kinsim_version", "title", "phase", "components",
                         "case", "case_location", "package_versions", "mobility_policy", "n_markers",
                         "status", "stop_reason", "created", "closed", "timings", "extra_variables"})

_UNITS = {
    "time": ("s", "time"),
    "z": ("m", "node position"),
    "face": ("m", "face position"),
    "component": ("1", "component name"),
    "marker": ("1", "marker index"),
    "x": ("1", "mole fraction"),
    "mu": ("J mol-1", "chemical potential"),
    "flux": ("mol m-2 s-1", "diffusion flux in the volume-fixed frame"),
    "markers": ("m", "Kirkendall marker position"),
}


def _package_versions() -> dict[str, str]:
    """Installed versions of the packages a run depends on (without importing them)."""
    from importlib import metadata
    import platform

    out = {"python": platform.python_version(), "hdf5": h5py.version.hdf5_version}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return out


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).astimezone().isoformat(timespec="seconds")


def _attr_value(value):
    """A value HDF5 can hold as an attribute: scalars, strings, numeric arrays; else JSON."""
    if value is None:
        return ""
    if isinstance(value, (str, bool, int, float, np.integer, np.floating, np.bool_)):
        return value
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (list, tuple, np.ndarray)):
        arr = np.asarray(value)
        if arr.dtype.kind in "biuf" and arr.ndim <= 2:
            return arr
        if arr.dtype.kind in "US" and arr.ndim == 1:
            return [str(v) for v in arr]
    return json.dumps(value, default=_json_default)


def _json_default(obj):
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    return str(obj)


def _decode(value):
    """h5py attribute value -> plain Python (str instead of bytes, lists of str)."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray) and value.dtype.kind in "OS":
        return [v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in value.ravel()]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _label(ds, name: str, units: str | None = None, long_name: str | None = None) -> None:
    u, ln = _UNITS.get(name, (None, None))
    ds.attrs["units"] = units if units is not None else u
    ds.attrs["long_name"] = long_name if long_name is not None else ln


class ResultWriter:
    """Writes one run's result file snapshot by snapshot (see the module docstring).

    ``parameters`` maps names to the arrays the kernels used (stored under /parameters);
    ``extra_attrs`` are further root attributes (e.g. the temperature schedule);
    ``extra_units`` gives the units of per-snapshot ``extra`` arrays passed to
    :meth:`append` by name.
    """

    def __init__(self, path, *, components, z, faces, phase, case_toml: str, title: str,
                 n_markers: int, mobility_policy: str, extra_attrs: dict | None = None,
                 parameters: dict[str, np.ndarray] | None = None,
                 extra_units: dict[str, str] | None = None):
        self.path = Path(path)
        self.components = [str(c) for c in components]
        z = np.asarray(z, dtype=np.float64)
        faces = np.asarray(faces, dtype=np.float64)
        if z.ndim != 1 or z.size == 0:
            raise ValueError(f"z must be a non-empty 1D array of node positions, got shape {z.shape}")
        if faces.ndim != 1:
            raise ValueError(f"faces must be a 1D array of face positions, got shape {faces.shape}")
        if not self.components:
            raise ValueError("components must name at least one component")
        if len(set(self.components)) != len(self.components):
            raise ValueError(f"components must be distinct, got {self.components}")
        n_markers = int(n_markers)
        if n_markers < 0:
            raise ValueError(f"n_markers must be >= 0, got {n_markers}")
        self.nz, self.nf, self.nc, self.nm = z.size, faces.size, len(self.components), n_markers
        self._extra_units = dict(extra_units or {})
        self._extras: dict[str, h5py.Dataset] = {}
        self._n = 0
        self._t_last = -math.inf
        self._io = 0.0
        self._t0 = _time.perf_counter()
        self._timings: dict[str, float] = {}
        self._status = "running"
        self._closed = False

        t_start = _time.perf_counter()
        self._f = f = h5py.File(self.path, "w")
        try:
            a = f.attrs
            a["format"] = FORMAT
            a["format_version"] = FORMAT_VERSION
            a["kinsim_version"] = __version__
            a["title"] = str(title)
            a["phase"] = str(phase)
            a["components"] = self.components
            case_toml = str(case_toml)
            if len(case_toml.encode("utf-8")) <= _MAX_ATTR_BYTES:
                a["case"] = case_toml
                a["case_location"] = "attribute"
            else:  # too large for an attribute of the default file format
                f.create_dataset("case_toml", data=case_toml, dtype=h5py.string_dtype())
                a["case"] = "(stored in dataset /case_toml: too large for an attribute)"
                a["case_location"] = "/case_toml"
            a["package_versions"] = json.dumps(_package_versions(), sort_keys=True)
            a["mobility_policy"] = str(mobility_policy)
            a["n_markers"] = n_markers
            a["status"] = "running"
            a["stop_reason"] = ""
            a["created"] = _now()
            a["closed"] = False
            a["timings"] = "{}"
            a["extra_variables"] = "[]"
            for key, value in (extra_attrs or {}).items():
                if key in _CORE_ATTRS:
                    raise ValueError(f"extra attribute {key!r} would overwrite a core attribute of the result file")
                a[key] = _attr_value(value)

            # coordinates (dimension scales)
            chunk_t = max(1, min(1024, (1 << 17) // (8 * max(1, max(self.nz, self.nf) * self.nc))))
            self._chunk_t = chunk_t
            self._time = f.create_dataset("time", shape=(0,), maxshape=(None,), chunks=(max(chunk_t, 64),),
                                          dtype=np.float64)
            zs = f.create_dataset("z", data=z)
            fs = f.create_dataset("face", data=faces)
            cs = f.create_dataset("component", data=self.components, dtype=h5py.string_dtype("utf-8"))
            ms = f.create_dataset("marker", data=np.arange(n_markers, dtype=np.int64))
            for name, ds in (("time", self._time), ("z", zs), ("face", fs), ("component", cs), ("marker", ms)):
                _label(ds, name)
                ds.make_scale(name)

            # time-dependent data
            self._x = self._series("x", (self.nz, self.nc), (self._time, zs, cs))
            self._mu = self._series("mu", (self.nz, self.nc), (self._time, zs, cs))
            self._flux = self._series("flux", (self.nf, self.nc), (self._time, fs, cs))
            self._flux.attrs["frame"] = "volume-fixed"
            self._markers = self._series("markers", (self.nm,), (self._time, ms))

            if parameters:
                self._write_parameters(parameters)
            f.flush()
        except BaseException:
            f.close()
            raise
        self._io += _time.perf_counter() - t_start

    # ------------------------------------------------------------------ helpers
    def _series(self, name, shape, scales, units=None, long_name=None):
        shape = tuple(int(s) for s in shape)
        # a chunk may not exceed a fixed dimension, and must be >= 1 everywhere: zero-size
        # dimensions are declared resizable (their dimension scale still fixes their length)
        maxshape = (None,) + tuple(s if s > 0 else None for s in shape)
        chunks = (self._chunk_t,) + tuple(max(1, s) for s in shape)
        ds = self._f.create_dataset(name, shape=(self._n,) + shape, maxshape=maxshape, chunks=chunks,
                                    dtype=np.float64, fillvalue=np.nan)
        _label(ds, name, units, long_name)
        for i, scale in enumerate(scales):
            if scale is not None:
                ds.dims[i].attach_scale(scale)
        return ds

    def _dim_only_scale(self, group, name, n):
        """A netCDF dimension without coordinate values (so xarray names the axis ``name``)."""
        if name in group:
            return group[name]
        ds = group.create_dataset(name, data=np.zeros(n, dtype=np.float32))
        ds.make_scale(f"{_NC_DIM_ONLY}{n:10d}")
        return ds

    def _write_parameters(self, parameters):
        g = self._f.create_group("parameters")
        g.attrs["long_name"] = "parameter arrays the kernels used"
        for name, value in parameters.items():
            name = str(name)
            if not name or "/" in name or name.startswith("_dim_"):
                raise ValueError(f"invalid parameter name {name!r}")
            arr = np.asarray(value)
            if arr.dtype.kind in "US":
                arr = np.asarray(arr, dtype=object)
                ds = g.create_dataset(name, data=arr.astype(str).tolist(), dtype=h5py.string_dtype("utf-8"))
            elif arr.dtype.kind in "biuf":
                ds = g.create_dataset(name, data=arr)
            else:
                raise ValueError(f"parameter {name!r} has dtype {arr.dtype}; only numbers and strings can be stored")
            ds.attrs["units"] = ""
            ds.attrs["long_name"] = name
            for i, n in enumerate(arr.shape):
                ds.dims[i].attach_scale(self._dim_only_scale(g, f"_dim_{name}_{i}", n))

    def _check(self, name, arr, shape):
        arr = np.asarray(arr, dtype=np.float64)
        if arr.shape != shape:
            raise ValueError(f"{name} must have shape {shape}, got {arr.shape}")
        return arr

    def _extra_dataset(self, name, shape):
        known = {"z": (self.nz, self._f["z"]), "face": (self.nf, self._f["face"]),
                 "component": (self.nc, self._f["component"]), "marker": (self.nm, self._f["marker"])}
        scales = [self._time]
        for i, n in enumerate(shape):
            matches = [ds for (size, ds) in known.values() if size == n]
            scales.append(matches[0] if len(matches) == 1 else self._dim_only_scale(self._f, f"{name}_dim{i}", n))
        ds = self._series(name, shape, scales, units=self._extra_units.get(name, ""), long_name=name)
        self._extras[name] = ds
        self._f.attrs["extra_variables"] = json.dumps(sorted(self._extras))
        return ds

    def _flush(self):
        self._f.flush()

    def _require_open(self):
        if self._closed:
            raise ValueError(f"result file {self.path} is closed")

    # ------------------------------------------------------------------ API
    @property
    def n_snapshots(self) -> int:
        return self._n

    @property
    def status(self) -> str:
        return self._status

    def append(self, t: float, x: np.ndarray, mu: np.ndarray, flux: np.ndarray, markers: np.ndarray,
               extra: dict[str, np.ndarray] | None = None) -> None:
        """Add one snapshot at time ``t`` (s) and flush the file."""
        self._require_open()
        t = float(t)
        if not math.isfinite(t):
            raise ValueError(f"snapshot time must be finite, got {t}")
        if t <= self._t_last:
            raise ValueError(f"snapshot times must increase: got t={t!r} after t={self._t_last!r}")
        x = self._check("x", x, (self.nz, self.nc))
        mu = self._check("mu", mu, (self.nz, self.nc))
        flux = self._check("flux", flux, (self.nf, self.nc))
        markers = self._check("markers", markers, (self.nm,))
        extra = {str(k): np.asarray(v, dtype=np.float64) for k, v in (extra or {}).items()}
        for name, arr in extra.items():
            ds = self._extras.get(name)
            if ds is None:
                if not name or "/" in name or name in _CORE_DATASETS or name in self._f:
                    raise ValueError(f"extra array name {name!r} is invalid or taken by the result file")
            elif ds.shape[1:] != arr.shape:
                raise ValueError(f"extra array {name!r} must have shape {ds.shape[1:]}, got {arr.shape}")

        t_start = _time.perf_counter()
        for name, arr in extra.items():
            if name not in self._extras:
                self._extra_dataset(name, arr.shape)  # filled with NaN for the earlier snapshots
        k = self._n
        n = k + 1
        for ds, arr in ((self._x, x), (self._mu, mu), (self._flux, flux), (self._markers, markers)):
            ds.resize(n, axis=0)
            ds[k] = arr
        for name, ds in self._extras.items():
            ds.resize(n, axis=0)  # extras missing from this snapshot keep the NaN fill value
            if name in extra:
                ds[k] = extra[name]
        # the time coordinate is written last: its length is the number of complete snapshots
        self._time.resize(n, axis=0)
        self._time[k] = t
        self._flush()
        self._n = n
        self._t_last = t
        self._io += _time.perf_counter() - t_start

    def write_checkpoint(self, **state) -> None:
        """Store the complete stepper state (arrays and scalars) in /checkpoint, replacing
        the previous one, and flush.  Scalars go to attributes, arrays to datasets; the
        attribute ``complete`` is set last so that a torn write is recognised."""
        self._require_open()
        t_start = _time.perf_counter()
        g = self._f.require_group("checkpoint")
        g.attrs["complete"] = False
        for key, value in state.items():
            arr = np.asarray(value)
            if arr.ndim == 0:
                g.attrs[key] = arr.item()
                continue
            if key in g and g[key].shape == arr.shape and g[key].dtype == arr.dtype:
                g[key][...] = arr
            else:
                if key in g:
                    del g[key]
                g.create_dataset(key, data=arr)
        g.attrs["complete"] = True
        self._flush()
        self._io += _time.perf_counter() - t_start

    @classmethod
    def reopen(cls, path) -> ResultWriter:
        """Open an interrupted run's result file to continue writing it (status running)."""
        self = cls.__new__(cls)
        self.path = Path(path)
        try:
            self._f = f = h5py.File(self.path, "r+")
        except OSError as exc:
            raise ResultFileError(f"result file {self.path} cannot be opened for writing: {exc}") from None
        a = f.attrs
        self.components = [str(c) for c in f["component"].asstr()[()]]
        self.nz, self.nf, self.nc = f["z"].shape[0], f["face"].shape[0], len(self.components)
        self.nm = f["marker"].shape[0]
        self._extra_units = {}
        self._time = f["time"]
        self._x, self._mu, self._flux, self._markers = f["x"], f["mu"], f["flux"], f["markers"]
        try:
            names = json.loads(_decode(a.get("extra_variables", "[]")))
        except ValueError:
            names = []
        self._extras = {name: f[name] for name in names if name in f}
        n = _n_complete_or_zero(f)
        for ds in (self._time, self._x, self._mu, self._flux, self._markers, *self._extras.values()):
            if ds.shape[0] != n:  # a torn append: drop the partial snapshot
                ds.resize(n, axis=0)
        self._chunk_t = self._x.chunks[0] if self._x.chunks else 1
        self._n = n
        self._t_last = float(self._time[n - 1]) if n else -math.inf
        self._io = 0.0
        self._t0 = _time.perf_counter()
        # a resumed run adds its own time to the earlier run's
        try:
            self._timings_before = {k: float(v) for k, v in json.loads(_decode(a.get("timings", "{}"))).items()}
        except ValueError:
            self._timings_before = {}
        self._timings = {}
        self._status = "running"
        self._closed = False
        a["status"] = "running"
        a["stop_reason"] = ""
        a["closed"] = False
        a["resumed"] = int(_decode(a.get("resumed", 0)) or 0) + 1
        f.flush()
        return self

    def set_status(self, status: str, stop_reason: str = "", **info) -> None:
        """Record the run's status (and e.g. node, time, composition, message, steps) and flush."""
        self._require_open()
        if status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {status!r}")
        for key in info:
            if key in _CORE_ATTRS:
                raise ValueError(f"status information {key!r} would overwrite a core attribute of the result file")
        a = self._f.attrs
        a["status"] = status
        a["stop_reason"] = str(stop_reason)
        for key, value in info.items():
            a[key] = _attr_value(value)
        self._status = status
        self._flush()

    def set_timings(self, **seconds) -> None:
        """Record timings in seconds (e.g. compile=, solve=, io=): JSON ``timings`` + ``timing_<name>``."""
        self._require_open()
        for key, value in seconds.items():
            self._timings[key] = float(value)
        self._write_timings()
        self._flush()

    def _write_timings(self):
        a = self._f.attrs
        total = dict(self._timings)
        for key, value in getattr(self, "_timings_before", {}).items():
            total[key] = total.get(key, 0.0) + value
        a["timings"] = json.dumps(total, sort_keys=True)
        for key, value in total.items():
            a[f"timing_{key}"] = value

    def close(self) -> None:
        """Fill the timings (``io`` spent writing and ``wall`` since creation unless given) and close."""
        if self._closed:
            return
        try:
            self._timings.setdefault("io", self._io)
            self._timings.setdefault("wall", _time.perf_counter() - self._t0)
            self._write_timings()
            self._f.attrs["closed"] = True
            self._f.flush()
        finally:
            self._f.close()
            self._closed = True

    def __enter__(self) -> ResultWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is not None and not self._closed and self._status == "running":
                message = f"{exc_type.__name__}: {exc}" if str(exc) else exc_type.__name__
                if issubclass(exc_type, (KeyboardInterrupt, SystemExit)):
                    self.set_status("interrupted", stop_reason=exc_type.__name__, message=message)
                else:
                    self.set_status("failed", stop_reason="exception", message=message)
        finally:
            self.close()

    def __del__(self):  # pragma: no cover - best effort when the caller forgot close()
        try:
            if not self._closed:
                self._f.close()
        except Exception:
            pass


# ---------------------------------------------------------------------- reading
@dataclass
class Result:
    """Contents of a result file; ``status`` as stored (see :attr:`finished`)."""

    path: Path
    time: np.ndarray          # (nt,) s
    z: np.ndarray             # (nz,) m
    faces: np.ndarray         # (nf,) m
    components: list[str]
    x: np.ndarray             # (nt, nz, nc)
    mu: np.ndarray            # (nt, nz, nc) J/mol
    flux: np.ndarray          # (nt, nf, nc) mol m^-2 s^-1, volume-fixed frame
    markers: np.ndarray       # (nt, n_markers) m
    attrs: dict
    status: str
    case_toml: str
    parameters: dict[str, np.ndarray] = field(default_factory=dict)
    extra: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def n_snapshots(self) -> int:
        return int(self.time.size)

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
            return ("running: the writer has not recorded an end (the run was interrupted or killed, "
                    "or is still running)")
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
        try:
            return json.loads(self.attrs.get("timings", "{}"))
        except ValueError:
            return {}


def _open(path) -> h5py.File:
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
        fmt = _decode(f.attrs.get("format"))
        if fmt is None:
            raise ResultFileError(f"{p} is an HDF5 file but not a kinsim result file (no 'format' attribute)")
        if fmt != FORMAT:
            raise ResultFileError(f"{p} is an HDF5 file but not a kinsim result file (format {fmt!r}, "
                                  f"expected {FORMAT!r})")
        version = _decode(f.attrs.get("format_version"))
        if not isinstance(version, int) or version > FORMAT_VERSION:
            raise ResultFileError(f"{p} has result format version {version!r}; this kinsim ({__version__}) "
                                  f"reads versions up to {FORMAT_VERSION}")
        missing = [n for n in ("time", "z", "face", "component", "x", "mu", "flux", "markers") if n not in f]
        if missing:
            raise ResultFileError(f"result file {p} is incomplete: datasets {missing} are missing")
    except BaseException:
        f.close()
        raise
    return f


def _n_complete(f, p) -> int:
    """Number of complete snapshots (time is written last; guard against a torn append)."""
    n = min(f[name].shape[0] for name in ("time", "x", "mu", "flux", "markers"))
    if n == 0:
        status = _decode(f.attrs.get("status", "?"))
        raise ResultFileError(f"result file {p} has no snapshot (status {status!r}): the run stopped "
                              "before its first output")
    return n


def _n_complete_or_zero(f) -> int:
    return min(f[name].shape[0] for name in ("time", "x", "mu", "flux", "markers"))


def read_checkpoint(path, nz=None, nc=None, ny=None, nm=None) -> dict:
    """The stepper state stored by :meth:`ResultWriter.write_checkpoint` (for resuming);
    checks the array shapes against the run's when given."""
    p = Path(path)
    with _open(p) as f:
        g = f.get("checkpoint")
        if g is None or not bool(g.attrs.get("complete", False)):
            raise ResultFileError(f"{p} has no complete checkpoint (written by kinsim >= 0.1 at each output "
                                  "time); it cannot be resumed")
        out = {k: _decode(v) for k, v in g.attrs.items()}
        for k, ds in g.items():
            out[k] = ds[()]
    expect = {"U": (nz, nc), "Y": (nz, ny), "hist_U": (3, nz, nc), "markers": (nm,)}
    for k, shape in expect.items():
        if k not in out:
            raise ResultFileError(f"{p}: the checkpoint lacks '{k}'")
        if all(s is not None for s in shape) and tuple(out[k].shape) != shape:
            raise ResultFileError(f"{p}: the checkpoint's '{k}' has shape {tuple(out[k].shape)}, the case needs "
                                  f"{shape}; the file comes from another case")
    return out


def read_result(path) -> Result:
    """Read a whole result file.  Raises :class:`ResultFileError` when it is missing, not
    HDF5, not a kinsim result, or holds no snapshot."""
    p = Path(path)
    with _open(p) as f:
        n = _n_complete(f, p)
        attrs = {k: _decode(v) for k, v in f.attrs.items()}
        case = attrs.get("case", "")
        if attrs.get("case_location") == "/case_toml" and "case_toml" in f:
            case = _decode(f["case_toml"][()])
        parameters = {}
        if "parameters" in f:
            for name, ds in f["parameters"].items():
                if isinstance(ds, h5py.Dataset) and not ds.is_scale:
                    parameters[name] = (ds.asstr()[()] if h5py.check_string_dtype(ds.dtype) else ds[()])
        extra = {}
        try:
            extra_names = json.loads(attrs.get("extra_variables", "[]"))
        except ValueError:
            extra_names = []
        for name in extra_names:
            if name in f:
                extra[name] = f[name][:n]
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
        )


def last_state(path) -> tuple[float, np.ndarray, np.ndarray]:
    """(t, x (nz, nc), markers (n_markers,)) of the last complete snapshot, for resuming."""
    p = Path(path)
    with _open(p) as f:
        k = _n_complete(f, p) - 1
        return float(f["time"][k]), f["x"][k], f["markers"][k]
