"""Turning the stepper's return codes into exceptions that say what failed, where and
when: the node, its position and composition, the time and the temperature."""

from __future__ import annotations

import numpy as np

from ..errors import ConvergenceError, InputError
from ..kernels.codes import (
    ADV_BOUNDARY_FAILED,
    ADV_DT_UNDERFLOW,
    ADV_NODE_FAILED,
    ADV_T_RANGE,
    S_FAIL_NODE,
    S_FAIL_STATUS,
    STATUS_ONSAGER,
    STATUS_SPINODAL,
    STATUS_TEXT,
)
from .setup import to_x


def _composition(components, u) -> str:
    return ", ".join(f"{c}={v:.6g}" for c, v in zip(components, to_x(u)))


def _spinodal_message(where: str, phase: str, components, direction, at_start: bool) -> str:
    """The message of a node inside the spinodal: where, the unstable direction (the
    eigenvector of dmu_dx with the most negative eigenvalue, over the independent mole
    fractions) and the two ways out."""
    text = f"{where} is inside the spinodal of {phase}"
    if direction is not None:
        value, vector = direction
        vector = vector * np.sign(vector[np.argmax(np.abs(vector))])
        along = ", ".join(f"{c} {v:+.3g}" for c, v in zip(components[1:], vector))
        text += (
            f": the thermodynamic factor dmu_dx has the eigenvalue {value:.4g} J/mol along the composition "
            f"direction dx = ({along})"
        )
    text += (
        "; without gradient energy, diffusion is ill-posed there (the profile would split at the grid scale). "
        "Add gradient energy (a [gradient] table with kappa, the Cahn-Hilliard model) or make every node a "
        "local equilibrium of its candidate phases (thermo.phases, the homogenization model: a miscibility "
        "gap splits into composition sets)"
    )
    if not at_start:
        text += "; the result file keeps the last snapshot before it"
    return text


def raise_failure(
    code: int,
    stats: np.ndarray,
    U: np.ndarray,
    t: float,
    *,
    components,
    z: np.ndarray,
    phase: str,
    T: float,
    at_start: bool = False,
    unstable_direction=None,
):
    """Raise the exception for an ``advance`` return code other than ADV_REACHED /
    ADV_MAX_STEPS.  At the start of a run (``at_start``) a case that cannot work (a
    non-positive-definite Onsager matrix, an invalid fixed boundary composition, a node
    inside the spinodal without gradient energy) is an InputError; otherwise a
    ConvergenceError whose ``info`` goes to the result file.  ``unstable_direction(i)``
    gives (eigenvalue, eigenvector) of the most unstable direction of dmu_dx at node i
    for a node inside the spinodal."""
    if code == ADV_NODE_FAILED:
        i = int(stats[S_FAIL_NODE])
        comp = _composition(components, U[i])
        status = int(stats[S_FAIL_STATUS])
        why = STATUS_TEXT.get(status, f"status {stats[S_FAIL_STATUS]}")
        msg = f"{why} at node {i} (z = {z[i]:.6g} m; {comp}) at t = {t:.6g} s, T = {T:g} K"
        if status == STATUS_SPINODAL:
            where = (
                f"{'the initial profile: ' if at_start else ''}node {i} (z = {z[i]:.6g} m; {comp}) at "
                f"t = {t:.6g} s, T = {T:g} K"
            )
            direction = unstable_direction(i) if unstable_direction is not None else None
            msg = _spinodal_message(where, phase, components, direction, at_start)
            if at_start:
                raise InputError(msg)
            exc = ConvergenceError(msg)
            exc.info = {"node": i, "z": float(z[i]), "composition": comp, "reason": STATUS_TEXT[STATUS_SPINODAL]}
            raise exc
        if at_start and status == STATUS_ONSAGER:
            raise InputError(f"onsager.matrix: {msg}; reduce the cross terms (or use form = 'relative')")
        exc = ConvergenceError(msg)
        exc.info = {"node": i, "z": float(z[i]), "composition": comp, "reason": why}
        raise exc
    if code == ADV_BOUNDARY_FAILED:
        side = "left" if int(stats[S_FAIL_NODE]) == 0 else "right"
        msg = (
            f"boundary.{side}: the fixed boundary composition is not a valid {phase} state at "
            f"t = {t:.6g} s, T = {T:g} K"
        )
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
            exc = ConvergenceError(
                f"{why}; the largest Newton correction at node {i} (z = {z[i]:.6g} m; "
                f"{comp}) at t = {t:.6g} s, T = {T:g} K"
            )
            exc.info = {"node": i, "z": float(z[i]), "composition": comp, "reason": why}
            raise exc
        exc = ConvergenceError(f"{why} at t = {t:.6g} s, T = {T:g} K")
        exc.info = {"reason": why}
        raise exc
    raise ConvergenceError(f"stepper returned code {code} at t = {t:.6g} s")
