"""Resuming an interrupted run: which result files can be resumed (``check_resumable``)
and the stepper state restored from a file's checkpoint (``restore_state``)."""

from __future__ import annotations

import numpy as np

from ..errors import ResultFileError
from ..storage import read_checkpoint, read_result


def restore_state(path, state) -> None:
    """Fill the stepper state (kinsim.kernels.step.StepperState, shaped for the run's
    case) from the checkpoint of result file ``path``: every field, by name (a scalar
    stored as an attribute fills a one-element field)."""
    N, n = state.U.shape
    ny = state.Y.shape[1] if state.Y.ndim == 2 else None  # the moving-boundary model's are flat
    ck = read_checkpoint(path, N, n, ny, state.markers.shape[0])
    for name, arr in state._asdict().items():
        if name not in ck:
            raise ResultFileError(f"{path}: the checkpoint lacks '{name}'")
        value = np.asarray(ck[name])
        if value.size != arr.size:
            raise ResultFileError(
                f"{path}: the checkpoint's '{name}' has shape {value.shape}, the case needs "
                f"{arr.shape}; the file comes from another case"
            )
        arr[...] = value.reshape(arr.shape)


def check_resumable(path, case=None):
    """The Case of the interrupted run in result file ``path`` (for ``kinsim run --resume``).

    With ``case``, the file must come from the same case (the output file name aside).
    Raises ResultFileError for a file that is not resumable (completed, failed, no
    checkpoint) or comes from another case."""
    r = read_result(path)
    if r.status == "completed":
        raise ResultFileError(f"{path}: the run already completed; nothing to resume")
    if r.status == "failed":
        raise ResultFileError(
            f"{path}: the run failed ({r.attrs.get('stop_reason', '')}); a failed run cannot be "
            "resumed: change the case and run it again"
        )
    stored = r.case
    if case is not None:
        a = case.to_dict()
        b = stored.to_dict()
        a["output"].pop("file", None)
        b["output"].pop("file", None)
        if a != b:
            diff = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
            raise ResultFileError(
                f"{path} is a result of another case (it differs in {', '.join(diff)}); resume it "
                f"without a case file, or with the case it was run from"
            )
    return stored
