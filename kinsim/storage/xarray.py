"""A :class:`~kinsim.storage.reader.Result` as an :class:`xarray.Dataset`.

Dimensions ``time`` (s), ``z`` (node positions, m), ``face`` (face positions, m),
``component`` (names, the dependent one first) and ``marker`` (index), each with its
coordinate, and those of the extras (``phase_set``, the composition-set names of a
homogenization result, with its coordinate; ``interface``, ``region``); data variables
``x``, ``mu``, ``flux``, ``markers`` and the per-snapshot extras (``temperature``,
``potential``...), each with ``units`` and ``long_name`` attributes (udunits spelling, as
in the result file).  The dataset attributes are the
result's root attributes (case TOML in ``case``, ``status``, ``stop_reason``, versions,
step counts, status information) without those that depend on when and how long the run
took or how the file was written (``created``, ``closed``, ``timings``, ``timing_*``,
``case_location``, ``extra_variables``; :attr:`Result.timings` has the timings), so that a
run held in memory and the same run read from its file give identical datasets.  Booleans
become 0/1 (netCDF attributes hold no booleans), so ``ds.to_netcdf(...)`` works.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from .layout import FLUX_FRAME, SERIES, UNITS, dimension_labels, extra_dimensions
from .reader import Result

# root attributes that say when or how a particular copy was written, not what was run
_VOLATILE = frozenset({"created", "closed", "timings", "case_location", "extra_variables"})


def _attrs(name: str) -> dict:
    units, long_name = UNITS[name]
    return {"units": units, "long_name": long_name}


def _dataset_attrs(r: Result) -> dict:
    out = {}
    for key, value in r.attrs.items():
        if key in _VOLATILE or key.startswith("timing_"):
            continue
        out[key] = int(value) if isinstance(value, (bool, np.bool_)) else value
    out["case"] = r.case_toml
    out["status"] = r.status
    return out


def to_dataset(r: Result) -> xr.Dataset:
    """The result ``r`` as a labelled dataset (see the module docstring)."""
    coords = {
        "time": ("time", r.time, _attrs("time")),
        "z": ("z", r.z, _attrs("z")),
        "face": ("face", r.faces, _attrs("face")),
        "component": ("component", np.array(r.components, dtype=str), _attrs("component")),
        "marker": ("marker", np.arange(r.markers.shape[1], dtype=np.int64), _attrs("marker")),
    }
    data = {name: (dims, getattr(r, name), _attrs(name)) for name, dims in SERIES.items()}
    data["flux"][2]["frame"] = FLUX_FRAME
    sizes = {"z": r.z.size, "face": r.faces.size, "component": len(r.components), "marker": r.markers.shape[1]}
    for name, arr in r.extra.items():
        dims = ("time", *extra_dimensions(name, arr.shape[1:], sizes))
        data[name] = (dims, arr, {"units": r.extra_units.get(name, ""), "long_name": name})
        for dim, n in zip(dims[1:], arr.shape[1:]):
            names = None if dim in coords else dimension_labels(dim, r.attrs, n)
            if names is not None:  # e.g. the composition-set names of phase_fraction
                label = {"units": "1", "long_name": dim.replace("_", " ") + " name"}
                coords[dim] = (dim, np.array(names, dtype=str), label)
    return xr.Dataset(data, coords=coords, attrs=_dataset_attrs(r))
