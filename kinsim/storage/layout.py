"""The layout of a kinsim result, shared by every store and reader: format names, the
datasets with their units and long names, the reserved names, and how root attributes
are encoded (HDF5 attributes hold scalars, strings and numeric arrays; anything else is
stored as JSON text).

Units follow the udunits spelling netCDF tools expect: ``s``, ``m``, ``J mol-1``,
``mol m-2 s-1``, and ``1`` for dimensionless values.
"""

from __future__ import annotations

import datetime as _dt
import functools
import json
import platform
from importlib import metadata
from pathlib import Path

import h5py
import numpy as np

FORMAT = "kinsim-result"
FORMAT_VERSION = 1
STATUSES = ("running", "completed", "failed", "interrupted")

# the installed packages whose versions a result records (read without importing them)
PACKAGES = ("numpy", "numba", "h5py", "pycalphad", "scipy", "xarray", "h5netcdf")

# names the core layout uses: extras and parameters must not take them
CORE_DATASETS = frozenset(
    {"time", "z", "face", "component", "marker", "x", "mu", "flux", "markers", "parameters", "case_toml", "checkpoint"}
)
CORE_ATTRS = frozenset(
    {
        "format",
        "format_version",
        "kinsim_version",
        "title",
        "phase",
        "components",
        "case",
        "case_location",
        "package_versions",
        "mobility_policy",
        "n_markers",
        "status",
        "stop_reason",
        "created",
        "closed",
        "timings",
        "extra_variables",
    }
)

# the dimensions of a result and the datasets that hold their coordinates
DIMENSIONS = ("time", "z", "face", "component", "marker")
# the per-snapshot arrays every result holds, with their dimensions
SERIES = {
    "x": ("time", "z", "component"),
    "mu": ("time", "z", "component"),
    "flux": ("time", "face", "component"),
    "markers": ("time", "marker"),
}

# (units, long name) of the core datasets
UNITS = {
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
FLUX_FRAME = "volume-fixed"


@functools.cache
def _installed_versions() -> tuple[tuple[str, str], ...]:
    out = {"python": platform.python_version(), "hdf5": h5py.version.hdf5_version}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return tuple(out.items())


def package_versions() -> dict[str, str]:
    """Installed versions of the packages a run depends on (without importing them;
    looked up once per process: reading the installed packages' metadata takes some
    milliseconds per package)."""
    return dict(_installed_versions())


def now() -> str:
    """The local time with its UTC offset, to the second (ISO 8601)."""
    return _dt.datetime.now(_dt.UTC).astimezone().isoformat(timespec="seconds")


def attr_value(value):
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


def decode(value):
    """An attribute value as read back -> plain Python (str instead of bytes, lists of str,
    Python scalars instead of numpy scalars; numeric arrays stay arrays)."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray) and value.dtype.kind in "OS":
        return [v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in value.ravel()]
    if isinstance(value, np.generic):
        return value.item()
    return value


def as_read_back(value):
    """What :func:`decode` gives for ``value`` after an HDF5 round trip (for stores that
    keep their attributes in memory): the attribute encoding, then numpy's types."""
    value = attr_value(value)
    if isinstance(value, str):
        return value
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, list):
        return list(value)
    return decode(np.asarray(value)[()])  # Python and numpy scalars come back as Python scalars


# per-snapshot extras whose dimensions are fixed by name (the moving-boundary and the
# homogenization model's)
NAMED_DIMENSIONS = {
    "phase_fraction": ("z", "phase_set"),
    "phase_composition": ("z", "phase_set", "component"),
    "node_position": ("z",),
    "face_position": ("face",),
    "interface_position": ("interface",),
    "interface_velocity": ("interface",),
    "interface_x_left": ("interface", "component"),
    "interface_x_right": ("interface", "component"),
    "interface_flux_left": ("interface", "component"),
    "interface_flux_right": ("interface", "component"),
    "region_width": ("region",),
}


# dimensions of extras whose coordinate is a list of names held in a root attribute
LABELLED_DIMENSIONS = {"phase_set": "phase_sets"}  # the homogenization model's composition sets


def dimension_labels(dim: str, attrs, n: int) -> list[str] | None:
    """The coordinate values (names) of the extra dimension ``dim`` of length ``n`` from
    the result's root attributes ``attrs``, or None (a dimension without coordinate)."""
    key = LABELLED_DIMENSIONS.get(dim)
    if key is None or key not in attrs:
        return None
    names = decode(attrs[key])
    if isinstance(names, str):
        names = json.loads(names)
    names = [str(v) for v in np.asarray(names).ravel()]
    return names if len(names) == n else None


def extra_dimensions(name: str, shape, sizes: dict[str, int]) -> list[str]:
    """Dimension names of a per-snapshot extra array of ``shape`` (without time): those of
    ``NAMED_DIMENSIONS`` for its name; else an axis whose length matches exactly one core
    dimension (``sizes``: z, face, component, marker) takes that name, any other axis is
    ``<name>_dim<i>``."""
    if name in NAMED_DIMENSIONS and len(NAMED_DIMENSIONS[name]) == len(shape):
        return list(NAMED_DIMENSIONS[name])
    dims = []
    for i, n in enumerate(shape):
        matches = [d for d, size in sizes.items() if size == n]
        dims.append(matches[0] if len(matches) == 1 else f"{name}_dim{i}")
    return dims
