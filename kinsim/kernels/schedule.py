"""Time tables (numba): what follows time in a run, evaluated in the kernels at the time
of each step so that Python does no work per step.

A time table is a piecewise-linear function given by rows (time, value), constant before
its first and after its last row.  Several tables share one pair of arrays: table ``r``
holds the rows ``ptr[r] .. ptr[r + 1] - 1``, i.e. ``table_at(tt[lo:hi], tv[lo:hi], t)``
with lo, hi = ptr[r], ptr[r + 1].

- temperature T(t) (K): one table (a single row: constant T);
- external potentials Phi_k(z, t) (J/mol): potential ``e`` acts on species
  ``phi_species[e]`` with the field ``phi_node[e]`` at the nodes (``phi_face[e]`` at the
  left and right boundary faces) times the factor table ``e`` (dimensionless).  Several
  potentials of one species add up.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._jit import INLINE, INTERNAL, jit


class Schedules(NamedTuple):
    """Temperature and external-potential tables of a run (SI units)."""

    T_time: np.ndarray  # f8[m] times of the temperature schedule (s)
    T_value: np.ndarray  # f8[m] temperatures (K)
    phi_species: np.ndarray  # i8[E] component index of each potential
    phi_node: np.ndarray  # f8[E, N] field of each potential at the nodes (J/mol)
    phi_face: np.ndarray  # f8[E, 2] ... at the left and right boundary faces (J/mol)
    phi_ptr: np.ndarray  # i8[E + 1] rows of each potential's time-factor table
    phi_time: np.ndarray  # f8[*] times of the factor tables (s)
    phi_factor: np.ndarray  # f8[*] factors (1)


@jit(**INLINE)
def table_at(tt, tv, t):
    """The piecewise-linear table with times tt and values tv at t (constant outside)."""
    m = tt.shape[0]
    if m == 1 or t <= tt[0]:
        return tv[0]
    if t >= tt[m - 1]:
        return tv[m - 1]
    i = 0
    while tt[i + 1] < t:
        i += 1
    w = (t - tt[i]) / (tt[i + 1] - tt[i])
    return (1.0 - w) * tv[i] + w * tv[i + 1]


@jit(**INLINE)
def temperature_at(sched, t):
    """T(t) in K."""
    return table_at(sched.T_time, sched.T_value, t)


@jit(**INTERNAL)
def potentials_at(sched, t, PHI, PHI_face):
    """External potentials at time t: PHI (N, n) at the nodes and PHI_face (2, n) at the
    left and right boundary faces, J/mol (zero for species no potential acts on)."""
    N = PHI.shape[0]
    n = PHI.shape[1]
    for i in range(N):
        for k in range(n):
            PHI[i, k] = 0.0
    for s in range(2):
        for k in range(n):
            PHI_face[s, k] = 0.0
    for e in range(sched.phi_species.shape[0]):
        lo, hi = sched.phi_ptr[e], sched.phi_ptr[e + 1]
        f = table_at(sched.phi_time[lo:hi], sched.phi_factor[lo:hi], t)
        k = sched.phi_species[e]
        for i in range(N):
            PHI[i, k] += f * sched.phi_node[e, i]
        for s in range(2):
            PHI_face[s, k] += f * sched.phi_face[e, s]
