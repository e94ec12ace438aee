"""The stepper state stored with a result (``/checkpoint``), for ``kinsim run --resume``.

Scalars are attributes of the group, arrays its datasets; the attribute ``complete`` is
cleared first and set last, so that a write torn by a kill is recognised.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from h5py import h5s

from kinsim.errors import ResultFileError

from .layout import decode
from .reader import open_result


def write_checkpoint_group(g, state: dict, held: dict | None = None) -> None:
    """Store ``state`` (name -> array or scalar) in the HDF5 group ``g``, replacing what
    it held.  ``held``: the group's datasets with their shape and dtype, by name, from
    earlier calls on ``g`` (kept up to date here; None: looked up): a run writes the same
    arrays at every output time, and looking a dataset up in the file costs more than
    writing a small one."""
    held = {} if held is None else held
    g.attrs["complete"] = False
    for key, value in state.items():
        arr = np.asarray(value)
        if arr.ndim == 0:
            g.attrs[key] = arr.item()
            continue
        if key not in held and key in g:
            ds = g[key]
            held[key] = (ds, ds.shape, ds.dtype)
        ds, shape, dtype = held.get(key, (None, None, None))
        if ds is not None and shape == arr.shape and dtype == arr.dtype:
            # the whole dataset in one call of the HDF5 library
            ds.id.write(h5s.ALL, h5s.ALL, np.ascontiguousarray(arr))
        else:
            if ds is not None:
                del g[key]
            ds = g.create_dataset(key, data=arr)
            held[key] = (ds, ds.shape, ds.dtype)
    g.attrs["complete"] = True


def checkpoint_bytes(g, state: dict, held: dict) -> int:
    """Bytes writing ``state`` into the checkpoint group ``g`` adds to the file: the arrays
    not yet stored there with their shape (``held`` as for :func:`write_checkpoint_group`)."""
    need = 0
    for key, value in state.items():
        if not np.ndim(value):
            continue
        shape = held[key][1] if key in held else (g[key].shape if key in g else None)
        if shape != np.shape(value):
            need += np.asarray(value).nbytes
    return need


def read_checkpoint(path, nz=None, nc=None, ny=None, nm=None) -> dict:
    """The stepper state stored by :meth:`ResultWriter.write_checkpoint` (for resuming);
    checks the array shapes against the run's when given."""
    p = Path(path)
    with open_result(p) as f:
        g = f.get("checkpoint")
        if g is None or not bool(g.attrs.get("complete", False)):
            raise ResultFileError(
                f"{p} has no complete checkpoint (written by kinsim >= 0.1 at each output time); it cannot be resumed"
            )
        out = {k: decode(v) for k, v in g.attrs.items()}
        for k, ds in g.items():
            out[k] = ds[()]
    expect = {"U": (nz, nc), "Y": (nz, ny), "hist_U": (3, nz, nc), "markers": (nm,)}
    for k, shape in expect.items():
        if k not in out:
            raise ResultFileError(f"{p}: the checkpoint lacks '{k}'")
        if all(s is not None for s in shape) and tuple(out[k].shape) != shape:
            raise ResultFileError(
                f"{p}: the checkpoint's '{k}' has shape {tuple(out[k].shape)}, the case needs "
                f"{shape}; the file comes from another case"
            )
    return out
