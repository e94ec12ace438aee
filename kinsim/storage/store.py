"""What every store of a run checks and records, whatever holds the data.

:class:`RunStore` validates the run's description and every snapshot, keeps the time
order, the status and the timings, and hands the writing to its subclass: the HDF5 file
(:class:`~kinsim.storage.writer.ResultWriter`) or memory
(:class:`~kinsim.storage.memory.MemoryStore`).  A subclass implements ``_create``,
``_taken``, ``_extra_shape``, ``_write_snapshot``, ``_write_checkpoint``, ``_set_attrs``,
``_flush`` and ``_close``; the simulation sees only the public methods below.

Write errors: when the backend cannot write (disk full, file too large, an I/O error:
h5py raises OSError, or RuntimeError for a failed flush), the public method raises
:class:`~kinsim.errors.ResultWriteError` naming the file, what was being written and why,
and the store is marked failed: recording the status, the timings and closing are then
best effort and never raise again, so the run can stop as failed with that reason.  A
store made by :meth:`RunStore.sized` knows the estimated size of its run
(:class:`~kinsim.resources.RunSize`) and checks, before writing anything, that the
result fits (the disk of a file, the memory for a result held in memory).
"""

from __future__ import annotations

import json
import math
import re
import time as _time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from kinsim import __version__
from kinsim.errors import KinsimError, ResultWriteError
from kinsim.resources import RunSize

from .layout import CORE_ATTRS, CORE_DATASETS, FORMAT, FORMAT_VERSION, STATUSES, attr_value, now, package_versions


class RunStore:
    """The result of one run, snapshot by snapshot.

    ``path`` is where the result goes (a file name); ``components`` are the component
    names (the dependent one first), ``z`` the node and ``faces`` the face positions (m),
    ``case_toml`` the resolved case text, ``n_markers`` the number of Kirkendall markers.
    ``parameters`` maps names to the arrays the kernels used; ``extra_attrs`` are further
    root attributes (e.g. the temperature schedule); ``extra_units`` gives the units of
    per-snapshot ``extra`` arrays passed to :meth:`append` by name.
    """

    #: the estimated size of the run (a :class:`~kinsim.resources.RunSize`), set on the
    #: class by :meth:`sized`; None: nothing is checked before writing
    size: RunSize | None = None

    @classmethod
    def sized(cls, size) -> type[RunStore]:
        """This store class for a run of estimated ``size``: before it writes anything,
        the result is checked to fit (see the module docstring)."""
        return type(cls.__name__, (cls,), {"size": size, "__doc__": cls.__doc__, "__module__": cls.__module__})

    def __init__(
        self,
        path,
        *,
        components,
        z,
        faces,
        phase,
        case_toml: str,
        title: str,
        n_markers: int,
        mobility_policy: str,
        extra_attrs: dict | None = None,
        parameters: dict[str, np.ndarray] | None = None,
        extra_units: dict[str, str] | None = None,
    ):
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
        self._start_bookkeeping()
        self._extra_units = dict(extra_units or {})
        attrs = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "kinsim_version": __version__,
            "title": str(title),
            "phase": str(phase),
            "components": self.components,
            "case": str(case_toml),
            "case_location": "attribute",
            "package_versions": json.dumps(package_versions(), sort_keys=True),
            "mobility_policy": str(mobility_policy),
            "n_markers": n_markers,
            "status": "running",
            "stop_reason": "",
            "created": now(),
            "closed": False,
            "timings": "{}",
            "extra_variables": "[]",
        }
        for key, value in (extra_attrs or {}).items():
            if key in CORE_ATTRS:
                raise ValueError(f"extra attribute {key!r} would overwrite a core attribute of the result file")
            attrs[key] = attr_value(value)
        params = {}
        for name, value in (parameters or {}).items():
            name = str(name)
            if not name or "/" in name or name.startswith("_dim_"):
                raise ValueError(f"invalid parameter name {name!r}")
            arr = np.asarray(value)
            if arr.dtype.kind not in "USbiuf":
                raise ValueError(f"parameter {name!r} has dtype {arr.dtype}; only numbers and strings can be stored")
            params[name] = arr
        t_start = _time.perf_counter()
        self._create(z, faces, attrs, params)
        self._io += _time.perf_counter() - t_start

    def _start_bookkeeping(self, n: int = 0, t_last: float = -math.inf, timings_before: dict | None = None):
        """The state of a store with ``n`` snapshots up to ``t_last``, running, open.
        ``timings_before`` are the timings of an earlier part of the run (resumed)."""
        self._n = n
        self._t_last = t_last
        self._io = 0.0
        self._t0 = _time.perf_counter()
        self._timings: dict[str, float] = {}
        self._timings_before = dict(timings_before or {})
        self._status = "running"
        self._closed = False
        self._extra_names: list[str] = []
        self._write_error: ResultWriteError | None = None

    # ------------------------------------------------------------------ the backend's part
    def _create(self, z, faces, attrs: dict, parameters: dict[str, np.ndarray]) -> None:
        raise NotImplementedError

    def _taken(self, name: str) -> bool:
        """Whether ``name`` is already used by the store (besides the core datasets)."""
        raise NotImplementedError

    def _extra_shape(self, name: str) -> tuple | None:
        """The per-snapshot shape of extra array ``name``, None when it is new."""
        raise NotImplementedError

    def _write_snapshot(self, k: int, t: float, arrays: dict[str, np.ndarray], extra: dict[str, np.ndarray]):
        """Store snapshot ``k`` (arrays x, mu, flux, markers; extras by name, new ones
        first seen now are NaN at the earlier snapshots, missing ones NaN now); the time
        is written last."""
        raise NotImplementedError

    def _write_checkpoint(self, state: dict) -> None:
        raise NotImplementedError

    def _set_attrs(self, attrs: dict) -> None:
        """Set root attributes (values already encoded by :func:`~kinsim.storage.layout.attr_value`)."""
        raise NotImplementedError

    def _flush(self) -> None:
        raise NotImplementedError

    def _close(self) -> None:
        raise NotImplementedError

    # ------------------------------------------------------------------ write errors
    @contextmanager
    def _writing(self, what: str):
        """Turn an error of the backend's writing into :class:`ResultWriteError` and
        mark the store failed (see the module docstring)."""
        try:
            yield
        except KinsimError:
            raise
        except (OSError, RuntimeError) as exc:
            kept = (
                f"the file keeps its {self._n} complete snapshots (to t = {self._t_last:g} s)"
                if self._n
                else "the file holds no snapshot"
            )
            self._write_error = ResultWriteError(f"cannot write {what} to {self.path}: {_os_reason(exc)}; {kept}")
            raise self._write_error from exc

    @contextmanager
    def _best_effort(self, what: str):
        """After a write error: try, and never raise for the backend's errors."""
        if self._write_error is None:
            with self._writing(what):
                yield
            return
        try:
            yield
        except (OSError, RuntimeError):
            pass

    # ------------------------------------------------------------------ checks
    def _require_open(self):
        if self._closed:
            raise ValueError(f"result file {self.path} is closed")

    def _require_unbroken(self):
        if self._write_error is not None:
            raise self._write_error

    @staticmethod
    def _check(name, arr, shape):
        arr = np.asarray(arr, dtype=np.float64)
        if arr.shape != shape:
            raise ValueError(f"{name} must have shape {shape}, got {arr.shape}")
        return arr

    # ------------------------------------------------------------------ API
    @property
    def n_snapshots(self) -> int:
        return self._n

    @property
    def status(self) -> str:
        return self._status

    @property
    def dimension_sizes(self) -> dict[str, int]:
        """Lengths of the dimensions besides time: z, face, component, marker."""
        return {"z": self.nz, "face": self.nf, "component": self.nc, "marker": self.nm}

    @property
    def extra_units(self) -> dict[str, str]:
        return dict(self._extra_units)

    def append(
        self,
        t: float,
        x: np.ndarray,
        mu: np.ndarray,
        flux: np.ndarray,
        markers: np.ndarray,
        extra: dict[str, np.ndarray] | None = None,
    ) -> None:
        """Add one snapshot at time ``t`` (s): x and mu (nz, nc), flux (nf, nc), markers
        (n_markers,) and optional further arrays by name (each keeps its shape)."""
        self._require_open()
        t = float(t)
        if not math.isfinite(t):
            raise ValueError(f"snapshot time must be finite, got {t}")
        if t <= self._t_last:
            raise ValueError(f"snapshot times must increase: got t={t!r} after t={self._t_last!r}")
        arrays = {
            "x": self._check("x", x, (self.nz, self.nc)),
            "mu": self._check("mu", mu, (self.nz, self.nc)),
            "flux": self._check("flux", flux, (self.nf, self.nc)),
            "markers": self._check("markers", markers, (self.nm,)),
        }
        extra = {str(k): np.asarray(v, dtype=np.float64) for k, v in (extra or {}).items()}
        for name, arr in extra.items():
            shape = self._extra_shape(name)
            if shape is None:
                if not name or "/" in name or name in CORE_DATASETS or self._taken(name):
                    raise ValueError(f"extra array name {name!r} is invalid or taken by the result file")
            elif shape != arr.shape:
                raise ValueError(f"extra array {name!r} must have shape {shape}, got {arr.shape}")
        self._require_unbroken()
        t_start = _time.perf_counter()
        new = [name for name in extra if name not in self._extra_names]
        with self._writing(f"the snapshot at t = {t:g} s"):
            if new:
                self._set_attrs({"extra_variables": json.dumps(sorted(self._extra_names + new))})
            self._write_snapshot(self._n, t, arrays, extra)
            self._flush()
        self._extra_names.extend(new)
        self._n += 1
        self._t_last = t
        self._io += _time.perf_counter() - t_start

    def write_checkpoint(self, **state) -> None:
        """Store the complete stepper state (arrays and scalars), replacing the previous one."""
        self._require_open()
        self._require_unbroken()
        t_start = _time.perf_counter()
        with self._writing("the checkpoint"):
            self._write_checkpoint(state)
            self._flush()
        self._io += _time.perf_counter() - t_start

    def set_status(self, status: str, stop_reason: str = "", **info) -> None:
        """Record the run's status (and e.g. node, time, composition, message, steps)."""
        self._require_open()
        if status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {status!r}")
        for key in info:
            if key in CORE_ATTRS:
                raise ValueError(f"status information {key!r} would overwrite a core attribute of the result file")
        attrs = {"status": status, "stop_reason": str(stop_reason)}
        attrs.update((key, attr_value(value)) for key, value in info.items())
        self._status = status
        with self._best_effort("the status"):
            self._set_attrs(attrs)
            self._flush()

    def set_timings(self, **seconds) -> None:
        """Record timings in seconds (e.g. compile=, solve=, io=): JSON ``timings`` + ``timing_<name>``."""
        self._require_open()
        for key, value in seconds.items():
            self._timings[key] = float(value)
        with self._best_effort("the timings"):
            self._write_timings()
            self._flush()

    def _write_timings(self):
        total = dict(self._timings)
        for key, value in self._timings_before.items():
            total[key] = total.get(key, 0.0) + value
        attrs: dict[str, object] = {"timings": json.dumps(total, sort_keys=True)}
        attrs.update((f"timing_{key}", value) for key, value in total.items())
        self._set_attrs(attrs)

    def close(self) -> None:
        """Fill the timings (``io`` spent writing and ``wall`` since creation unless given) and close."""
        if self._closed:
            return
        try:
            self._timings.setdefault("io", self._io)
            self._timings.setdefault("wall", _time.perf_counter() - self._t0)
            with self._best_effort("the end of the run"):
                self._write_timings()
                self._set_attrs({"closed": True})
                self._flush()
        finally:
            self._closed = True
            with self._best_effort("the end of the run"):
                self._close()

    def __enter__(self):
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


def _os_reason(exc: BaseException) -> str:
    """Why the operating system refused a write, in a few words: the errno text of an
    OSError, the 'error message' HDF5 quotes in its long messages, else the first line."""
    text = str(exc)
    found = re.search(r"error message = '([^']*)'", text)
    if found:
        return found.group(1)
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror if not exc.filename else f"{exc.strerror} ({exc.filename})"
    return text.splitlines()[0][:200] if text else type(exc).__name__
