"""Turning the stepper's return codes into exceptions that say what failed, where and
when: the node, its position and composition, the time and the temperature."""

from __future__ import annotations

import numpy as np

from ..errors import ConvergenceError, InputError
from ..kernels.codes import (ADV_BOUNDARY_FAILED, ADV_DT_UNDERFLOW, ADV_NODE_FAILED, ADV_T_RANGE, S_FAIL_NODE,
                             S_FAIL_STATUS, STATUS_ONSAGER, STATUS_TEXT)
from .setup import to_x


def _composition(components, u) -> str:
    return ", ".join(f"{c}={v:.6g}" for c, v in zip(components, to_x(u)))


def raise_failure(code: int, stats: np.ndarray, U: np.ndarray, t: float, *, components, z: np.ndarray, phase: str,
                  T: float, at_start: bool = False):
    """Raise the exception for an ``advance`` return code other than ADV_REACHED /
    ADV_MAX_STEPS.  At the start of a run (``at_start``) a case that cannot work (a
    non-positive-definite Onsager matrix, an invalid fixed boundary composition) is an
    InputError; otherwise a ConvergenceError whose ``info`` goes to the result file."""
    if code == ADV_NODE_FAILED:
        i = int(stats[S_FAIL_NODE])
        comp = _composition(components, U[i])
        why = STATUS_TEXT.get(int(stats[S_FAIL_STATUS]), f"status {stats[S_FAIL_STATUS]}")
        msg = f"{why} at node {i} (z = {z[i]:.6g} m; {comp}) at t = {t:.6g} s, T = {T:g} K"
        if at_start and int(stats[S_FAIL_STATUS]) == STATUS_ONSAGER:
            raise InputError(f"onsager.matrix: {msg}; reduce the cross terms (or use form = 'relative')")
        exc = ConvergenceError(msg)
        exc.info = {"node": i, "z": float(z[i]), "composition": comp, "reason": why}
        raise exc
    if code == ADV_BOUNDARY_FAILED:
        side = "left" if int(stats[S_FAIL_NODE]) == 0 else "right"
        msg = (f"boundary.{side}: the fixed boundary composition is not a valid {phase} state at "
               f"t = {t:.6g} s, T = {T:g} K")
        if at_start:
            raise InputError(msg)
        exc = ConvergenceError(msg)
        exc.info = {"reason": msg}
        raise exc
    if code == ADV_T_RANGE:
        raise ConvergenceError(f"temperature {T:g} K at t = {t:.6g} s is outside the database's range")
    if code == ADV_DT_UNDERFLOW:
        why = "time step underflow: the implicit solver cannot converge"
        i = int(stats[S_FAIL_NODE])
        if 0 <= i < U.shape[0]:
            comp = _composition(components, U[i])
            exc = ConvergenceError(f"{why}; the largest Newton correction at node {i} (z = {z[i]:.6g} m; "
                                   f"{comp}) at t = {t:.6g} s, T = {T:g} K")
            exc.info = {"node": i, "z": float(z[i]), "composition": comp, "reason": why}
            raise exc
        exc = ConvergenceError(f"{why} at t = {t:.6g} s, T = {T:g} K")
        exc.info = {"reason": why}
        raise exc
    raise ConvergenceError(f"stepper returned code {code} at t = {t:.6g} s")
