"""Averaging functions of the homogenization model (numba): the effective Gamma*_k of a
node from the volume fractions f_j and the Gamma_k^j = M_k^j u_k^j of its stable
composition sets (Larsson & Engstrom, Acta Mater. 54 (2006) 2431; Larsson & Hoglund,
Calphad 33 (2009) 495).  One function per scheme, dispatched on the AVG_* code of
``kinsim.kernels.codes`` by :func:`average`.  Units: Gamma in m^2 mol J^-1 s^-1 (a
mobility times a fraction), f dimensionless and summing to 1.

- Wiener upper bound (layers parallel to the flux):  Gamma* = sum f Gamma;
- Wiener lower bound (layers across the flux):       Gamma* = 1 / sum (f / Gamma),
  zero when a phase of zero Gamma is present (it blocks the flux);
- Hashin-Shtrikman bound with the matrix phase m:
      Gamma* = Gamma^m + A / (1 - A / (3 Gamma^m)),
      A = sum f / (1 / (Gamma - Gamma^m) + 1 / (3 Gamma^m))
        = sum f (Gamma - Gamma^m) 3 Gamma^m / (2 Gamma^m + Gamma)   (the form used: no
          division by zero for the matrix itself);
  the general upper / lower bounds take as m the set of highest / lowest Gamma (per
  component, among the sets of positive fraction); a matrix of zero Gamma gives zero;
- labyrinth factor: Gamma* = f_m^n Gamma^m with the given matrix phase m.

Every scheme gives Gamma^j exactly (up to rounding) for a node of one set j.
"""

from __future__ import annotations

from .._jit import LEAF, jit
from .codes import (
    AVG_HS_LOWER,
    AVG_HS_MATRIX,
    AVG_HS_UPPER,
    AVG_WIENER_LOWER,
    AVG_WIENER_UPPER,
    STATUS_NO_MATRIX,
    STATUS_OK,
)


@jit(**LEAF)
def wiener_upper(f, G, nset):
    s = 0.0
    for j in range(nset):
        s += f[j] * G[j]
    return s


@jit(**LEAF)
def wiener_lower(f, G, nset):
    s = 0.0
    for j in range(nset):
        if f[j] > 0.0:
            if not G[j] > 0.0:
                return 0.0
            s += f[j] / G[j]
    return 1.0 / s


@jit(**LEAF)
def hashin_shtrikman(f, G, nset, Gm):
    """The Hashin-Shtrikman bound with a matrix of Gamma Gm."""
    if not Gm > 0.0:
        return 0.0
    A = 0.0
    for j in range(nset):
        A += f[j] * (G[j] - Gm) * 3.0 * Gm / (2.0 * Gm + G[j])
    return Gm + A / (1.0 - A / (3.0 * Gm))


@jit(**LEAF)
def extreme_set(f, G, nset, highest):
    """The set of highest (``highest``) or lowest Gamma among the sets of positive
    fraction (the first set if none has)."""
    m = 0
    found = False
    for j in range(nset):
        if f[j] > 0.0 and (not found or (G[j] > G[m] if highest else G[j] < G[m])):
            m = j
            found = True
    return m


@jit(**LEAF)
def labyrinth(f, G, m, exponent):
    """f_m^exponent Gamma^m; zero without the matrix set (m < 0)."""
    if m < 0:
        return 0.0
    return f[m] ** exponent * G[m]


@jit(**LEAF)
def average(scheme, f, G, nset, m, exponent):
    """Gamma* of one component from f[:nset] and G[:nset] by the scheme of code
    ``scheme``; m: the set of the case's matrix phase (-1 if it is absent; only
    AVG_HS_MATRIX and AVG_LABYRINTH read it).  Returns (Gamma*, status): STATUS_NO_MATRIX
    for AVG_HS_MATRIX where several sets coexist without the matrix phase."""
    if scheme == AVG_WIENER_UPPER:
        return wiener_upper(f, G, nset), STATUS_OK
    if scheme == AVG_WIENER_LOWER:
        return wiener_lower(f, G, nset), STATUS_OK
    if scheme == AVG_HS_UPPER or scheme == AVG_HS_LOWER:
        return hashin_shtrikman(f, G, nset, G[extreme_set(f, G, nset, scheme == AVG_HS_UPPER)]), STATUS_OK
    if scheme == AVG_HS_MATRIX:
        if m < 0:
            if nset == 1:
                return G[0], STATUS_OK
            return 0.0, STATUS_NO_MATRIX
        return hashin_shtrikman(f, G, nset, G[m]), STATUS_OK
    return labyrinth(f, G, m, exponent), STATUS_OK  # AVG_LABYRINTH
