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

import json
import math
from pathlib import Path

import h5py
import numpy as np

from kinsim.errors import OutputRefusedError, ResultFileError
from kinsim.resources import CHUNK_CACHE_BYTES, check_disk, run_disk_advice, snapshots_per_chunk

from .checkpoint import checkpoint_bytes, write_checkpoint_group
from .existing import inspect, keep
from .layout import DIMENSIONS, FLUX_FRAME, SERIES, UNITS, decode, dimension_labels, extra_dimensions
from .lock import WriterLock
from .reader import n_complete_or_zero
from .room import Reservation
from .store import RunStore

# HDF5 attributes of the default (earliest) file format live in the object header (< 64 KiB)
_MAX_ATTR_BYTES = 60_000
_NC_DIM_ONLY = "This is a netCDF dimension but not a netCDF variable."


def _label(ds, name: str, units: str | None = None, long_name: str | None = None) -> None:
    u, ln = UNITS.get(name, (None, None))
    ds.attrs["units"] = units if units is not None else u
    ds.attrs["long_name"] = long_name if long_name is not None else ln


class ResultWriter(RunStore):
    """Writes one run's result file snapshot by snapshot (see the module docstring);
    every method flushes the file, so a reader sees each snapshot as soon as it is
    appended and a killed run leaves a readable file."""

    # ------------------------------------------------------------------ creating
    def _create(self, z, faces, attrs, parameters):
        # one writer: the lock comes before anything at the path is looked at or touched
        self._lock = WriterLock.acquire(self.path)
        self._reservation: Reservation | None = None
        try:
            existing = inspect(self.path, attrs["case"])
            if self.size is not None:
                reclaim = existing.size if existing.replace else 0
                check_disk(
                    self.size.file_bytes,
                    self.path,
                    f"the result file {self.path}",
                    run_disk_advice(self.size, self.path, reclaim),
                    reclaim=reclaim,
                )
            keep(existing)
            try:
                self._f = h5py.File(self.path, "w", rdcc_nbytes=CHUNK_CACHE_BYTES)
                self._checkpoint_held: dict = {}  # the checkpoint's datasets (write_checkpoint_group)
            except OSError as exc:
                raise ResultFileError(f"result file {self.path} cannot be created: {exc}") from None
            self._fill(z, faces, attrs, parameters)
            self._reserve(created=True)
        except BaseException:
            self._abandon()
            raise

    def _reserve(self, created: bool) -> None:
        """Reserve the file's blocks up to the run's estimated size (none without an
        estimate; see :mod:`.room`); a refusal removes a file just ``created`` and raises
        :class:`OutputRefusedError`."""
        self._reservation = Reservation(self.path, self._f.id.get_vfd_handle())
        if self.size is None or self.size.file_bytes <= 0:
            return
        try:
            self._reservation.reserve(self.size.file_bytes)
        except OSError as exc:
            self._f.close()
            if created:
                self.path.unlink(missing_ok=True)
            raise OutputRefusedError(
                f"result file {self.path}: {exc.strerror or exc}; {run_disk_advice(self.size, self.path)}"
            ) from None

    def _abandon(self) -> None:
        """Close the file and give the lock back after a failed creation or reopening."""
        f = getattr(self, "_f", None)
        if f is not None and f.id.valid:
            f.close()
        self._lock.release()

    def _fill(self, z, faces, attrs, parameters):
        """The layout of a new result file (see the module docstring)."""
        f = self._f
        case_toml = attrs["case"]
        if len(case_toml.encode("utf-8")) > _MAX_ATTR_BYTES:  # too large for an attribute
            f.create_dataset("case_toml", data=case_toml, dtype=h5py.string_dtype())
            attrs["case"] = "(stored in dataset /case_toml: too large for an attribute)"
            attrs["case_location"] = "/case_toml"
        self._set_attrs(attrs)

        # coordinates (dimension scales)
        self._chunk_t = chunk_t = snapshots_per_chunk(self.nz, self.nf, self.nc)
        self._time = f.create_dataset(
            "time", shape=(0,), maxshape=(None,), chunks=(max(chunk_t, 64),), dtype=np.float64
        )
        scales = {
            "time": self._time,
            "z": f.create_dataset("z", data=z),
            "face": f.create_dataset("face", data=faces),
            "component": f.create_dataset("component", data=self.components, dtype=h5py.string_dtype("utf-8")),
            "marker": f.create_dataset("marker", data=np.arange(self.nm, dtype=np.int64)),
        }
        for name in DIMENSIONS:
            _label(scales[name], name)
            scales[name].make_scale(name)

        # time-dependent data
        sizes = self.dimension_sizes
        self._series_ds = {
            name: self._series(name, [sizes[d] for d in dims[1:]], [scales[d] for d in dims])
            for name, dims in SERIES.items()
        }
        self._series_ds["flux"].attrs["frame"] = FLUX_FRAME
        self._extras: dict[str, h5py.Dataset] = {}

        if parameters:
            self._write_parameters(parameters)
        f.flush()

    def _series(self, name, shape, scales, units=None, long_name=None):
        shape = tuple(int(s) for s in shape)
        # a chunk may not exceed a fixed dimension, and must be >= 1 everywhere: zero-size
        # dimensions are declared resizable (their dimension scale still fixes their length)
        maxshape = (None,) + tuple(s if s > 0 else None for s in shape)
        chunks = (self._chunk_t,) + tuple(max(1, s) for s in shape)
        ds = self._f.create_dataset(
            name, shape=(self._n,) + shape, maxshape=maxshape, chunks=chunks, dtype=np.float64, fillvalue=np.nan
        )
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

    def _extra_scale(self, dim, n):
        """The dimension scale of an extra's dimension ``dim`` (length n): a coordinate of
        names where the root attributes hold them (``dimension_labels``), else a dimension
        without coordinate values."""
        names = dimension_labels(dim, self._f.attrs, n)
        if names is None or dim in self._f:
            return self._dim_only_scale(self._f, dim, n) if names is None else self._f[dim]
        ds = self._f.create_dataset(dim, data=names, dtype=h5py.string_dtype("utf-8"))
        _label(ds, dim, "1", dim.replace("_", " ") + " name")
        ds.make_scale(dim)
        return ds

    def _write_parameters(self, parameters):
        g = self._f.create_group("parameters")
        g.attrs["long_name"] = "parameter arrays the kernels used"
        for name, arr in parameters.items():
            if arr.dtype.kind in "US":
                arr = np.asarray(arr, dtype=object)
                ds = g.create_dataset(name, data=arr.astype(str).tolist(), dtype=h5py.string_dtype("utf-8"))
            else:
                ds = g.create_dataset(name, data=arr)
            ds.attrs["units"] = ""
            ds.attrs["long_name"] = name
            for i, n in enumerate(arr.shape):
                ds.dims[i].attach_scale(self._dim_only_scale(g, f"_dim_{name}_{i}", n))

    def _extra_dataset(self, name, shape):
        scales = [self._time]
        sizes = self.dimension_sizes
        for dim, n in zip(extra_dimensions(name, shape, sizes), shape):
            scales.append(self._f[dim] if dim in sizes else self._extra_scale(dim, n))
        ds = self._series(name, shape, scales, units=self._extra_units.get(name, ""), long_name=name)
        self._extras[name] = ds
        return ds

    # ------------------------------------------------------------------ the RunStore backend
    def _taken(self, name):
        return name in self._f

    def _extra_shape(self, name):
        ds = self._extras.get(name)
        return None if ds is None else ds.shape[1:]

    def _snapshot_room(self, k, arrays, extra) -> int:
        """Bytes snapshot ``k`` may add to the file: a new chunk (chunk_t snapshots) of
        every per-snapshot dataset when it opens one, every chunk up to ``k`` of an extra
        variable it brings for the first time, a new chunk of the time coordinate."""
        c, new_chunk = self._chunk_t, k % self._chunk_t == 0
        need = 0
        if new_chunk:
            need += c * sum(a.nbytes for a in arrays.values())
            need += c * sum(ds.dtype.itemsize * int(np.prod(ds.shape[1:])) for ds in self._extras.values())
        need += sum(-(-(k + 1) // c) * c * a.nbytes for name, a in extra.items() if name not in self._extras)
        time_chunk = max(c, 64)
        if k % time_chunk == 0:
            need += 8 * time_chunk
        return need

    @property
    def _open_reservation(self) -> Reservation:
        """The blocks reserved for the open file (made when it was created or reopened)."""
        assert self._reservation is not None, "an open result file has its reservation"
        return self._reservation

    def _write_snapshot(self, k, t, arrays, extra):
        self._open_reservation.ensure(self._f.id.get_filesize(), self._snapshot_room(k, arrays, extra))
        for name, arr in extra.items():
            if name not in self._extras:
                self._extra_dataset(name, arr.shape)  # filled with NaN for the earlier snapshots
        n = k + 1
        for name, arr in arrays.items():
            ds = self._series_ds[name]
            ds.resize(n, axis=0)
            ds[k] = arr
        for name, ds in self._extras.items():
            ds.resize(n, axis=0)  # extras missing from this snapshot keep the NaN fill value
            if name in extra:
                ds[k] = extra[name]
        # the time coordinate is written last: its length is the number of complete snapshots
        self._time.resize(n, axis=0)
        self._time[k] = t

    def _write_checkpoint(self, state):
        g = self._f.require_group("checkpoint")
        held = self._checkpoint_held
        # datasets of an earlier checkpoint are overwritten in place: only new ones take room
        need = checkpoint_bytes(g, state, held)
        if need:
            self._open_reservation.ensure(self._f.id.get_filesize(), need)
        write_checkpoint_group(g, state, held)

    def _set_attrs(self, attrs):
        a = self._f.attrs
        for key, value in attrs.items():
            a[key] = value

    def _flush(self):
        self._f.flush()

    def _close(self):
        try:
            self._f.close()
            if self._write_error is None and self._reservation is not None and self._reservation.reserved:
                trim_reserved(self.path)
        finally:
            self._lock.release()

    # ------------------------------------------------------------------ resuming
    @classmethod
    def reopen(cls, path) -> ResultWriter:
        """Open an interrupted run's result file to continue writing it (status running)."""
        self = cls.__new__(cls)
        self.path = Path(path)
        self._lock = WriterLock.acquire(self.path)
        try:
            self._reopen()
        except BaseException:
            self._abandon()
            raise
        return self

    def _reopen(self):
        if self.size is not None:
            try:
                written = self.path.stat().st_size
            except OSError:
                written = 0
            need = max(0, self.size.file_bytes - written)
            check_disk(
                need,
                self.path,
                f"the rest of the result file {self.path}",
                run_disk_advice(self.size, self.path, written),
                reclaim=0,
            )
        try:
            self._f = f = h5py.File(self.path, "r+", rdcc_nbytes=CHUNK_CACHE_BYTES)
            self._checkpoint_held = {}
        except OSError as exc:
            raise ResultFileError(f"result file {self.path} cannot be opened for writing: {exc}") from None
        a = f.attrs
        self.components = [str(c) for c in f["component"].asstr()[()]]
        self.nz, self.nf, self.nc = f["z"].shape[0], f["face"].shape[0], len(self.components)
        self.nm = f["marker"].shape[0]
        self._extra_units = {}
        self._time = f["time"]
        self._series_ds = {name: f[name] for name in SERIES}
        try:
            names = json.loads(decode(a.get("extra_variables", "[]")))
        except ValueError:
            names = []
        self._extras = {name: f[name] for name in names if name in f}
        n = n_complete_or_zero(f)
        for ds in (self._time, *self._series_ds.values(), *self._extras.values()):
            if ds.shape[0] != n:  # a torn append: drop the partial snapshot
                ds.resize(n, axis=0)
        x = self._series_ds["x"]
        self._chunk_t = x.chunks[0] if x.chunks else 1
        # a resumed run adds its own time to the earlier run's
        try:
            before = {k: float(v) for k, v in json.loads(decode(a.get("timings", "{}"))).items()}
        except ValueError:
            before = {}
        self._start_bookkeeping(n, float(self._time[n - 1]) if n else -math.inf, before)
        self._extra_names = list(self._extras)
        a["status"] = "running"
        a["stop_reason"] = ""
        a["closed"] = False
        a["resumed"] = int(decode(a.get("resumed", 0)) or 0) + 1
        f.flush()  # (this also gives back what the interrupted writer had reserved)
        self._reserve(created=False)

    def __del__(self):  # pragma: no cover - best effort when the caller forgot close()
        try:
            if not self._closed:
                self._f.close()
                self._lock.release()
        except Exception:
            pass


def trim_reserved(path) -> None:
    """Give back the blocks reserved beyond the end of a closed result file: HDF5
    truncates a file to its end of allocation when it flushes a file it opened for
    writing.  Best effort (a file another program holds open stays as it is)."""
    try:
        with h5py.File(path, "r+", locking=False):
            pass
    except (OSError, RuntimeError):
        pass
