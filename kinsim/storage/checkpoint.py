"""The stepper state stored with a result (``/checkpoint``), for ``kinsim run --resume``.

Scalars are attributes of the group, arrays its datasets; the attribute ``complete`` is
cleared first and set last, so that a write torn by a kill is recognised.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from kinsim.errors import ResultFileError

from .layout import decode
from .reader import open_result


def write_checkpoint_group(g, state: dict) -> None:
    """Store ``state`` (name -> array or scalar) in the HDF5 group ``g``, replacing what
    it held."""
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
