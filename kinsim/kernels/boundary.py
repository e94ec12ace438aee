"""Boundary conditions (numba): every boundary type in one place, dispatched on the BC_*
codes of ``kinsim.kernels.codes`` per side (0 left, 1 right) and component.

For each type: its state at the time of a step (``boundary_at``; a fixed composition is
evaluated like a node by the caller, ``kinsim.kernels.evaluate.update_to_time``, and
stored with ``set_fixed_composition``), its face fluxes (``boundary_fluxes``, positive
along +z) and its blocks of the Newton Jacobian (``boundary_jacobian``).

- closed: J = 0;
- fixed composition (the whole side): a boundary state at the face, evaluated like a
  node (equilibrium, L'), and the face flux between it and the first / last node as at
  an interior face (``kinsim.kernels.flux.face_flux``, the ideal term included);
- fixed flux: J into the specimen given (mol m^-2 s^-1, volume-fixed frame);
- periodic (both sides): the boundary faces 0 and N are one face, between the last node
  (its left state, at z_{N-1} - length) and the first, across the distance
  bnd_dist[0] + bnd_dist[1]: an interior face (planar grids);
- fixed potential or activity: mu_b given, or mu_b = G_ref(T) + RT ln a with G_ref the
  pure component in a reference phase (J/mol).  The flux of component k uses the node's
  L'_kk with exponential fitting, J = -(RT L'_kk / d)(1 - exp(-(M_node - M_b)/RT)) on the
  left (M = mu + Phi, d the node-face distance): exact for an ideal dilute solute with
  constant D (where L' = D c / RT), the ordinary difference quotient when M_node - M_b
  is small.

The homogenization model's ideal term (kinsim.kernels.flux) acts at fixed-composition
faces as at interior ones, not at fixed-potential/-activity faces (they fix mu, not u).
Components a fixed-flux/-potential/-activity side does not fix are closed there; the
dependent substitutional component takes up the substitutional balance.  Values follow
their time tables (``kinsim.kernels.schedule.table_at``); a new boundary type is a new
BC_* code and its branches here.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .._jit import INLINE, INTERNAL, LEAF, jit
from .codes import BC_ACTIVITY, BC_CLOSED, BC_COMPOSITION, BC_FLUX, BC_PERIODIC, BC_POTENTIAL
from .flux import face_flux, face_flux_derivative, ideal_derivative, to_volume_frame
from .gibbs import R
from .schedule import table_at

#: the case's boundary types (kinsim.case) and their codes
BOUNDARY_CODES = {
    "closed": BC_CLOSED,
    "fixed-composition": BC_COMPOSITION,
    "fixed-flux": BC_FLUX,
    "fixed-potential": BC_POTENTIAL,
    "fixed-activity": BC_ACTIVITY,
    "periodic": BC_PERIODIC,
}


class BoundaryParams(NamedTuple):
    """The boundary conditions of both sides (one stage of each)."""

    kind: np.ndarray  # i8[2, n] BC_* code per side and component
    value_ptr: np.ndarray  # i8[2 n + 1] the value table of (side s, component k) is rows value_ptr[s n + k] ..
    value_time: np.ndarray  # f8[*] table times (s)
    value: np.ndarray  # f8[*] mole fraction, flux into the specimen (mol m^-2 s^-1), mu (J/mol) or activity
    ref_ptr: np.ndarray  # i8[2 n + 1] the reference G(T) table of (side, k) (fixed activity)
    ref_T: np.ndarray  # f8[*] temperatures (K)
    ref_G: np.ndarray  # f8[*] G of pure k in its reference phase (J/mol)


class BoundaryState(NamedTuple):
    """The boundary state at the time of the current step (filled by the kernels)."""

    mu: np.ndarray  # f8[2, n] chemical potential (fixed composition, potential, activity; J/mol)
    phi: np.ndarray  # f8[2, n] external potential at the face (J/mol)
    drive: np.ndarray  # f8[2, n] driving potential mu + phi (J/mol)
    L: np.ndarray  # f8[2, n] diagonal L' of a fixed composition
    u: np.ndarray  # f8[2, n] u-fractions of a fixed composition
    flux: np.ndarray  # f8[2, n] fixed flux into the specimen (mol m^-2 s^-1)


@jit(**INLINE)
def is_periodic(bparams):
    """Whether the two ends are joined (periodic boundaries)."""
    return bparams.kind[0, 0] == BC_PERIODIC


@jit(**INTERNAL)
def boundary_at(bparams, bstate, material, s, t, T, U1):
    """The boundary condition of side s at time t and temperature T: the fixed flux,
    potential or activity of each component into bstate; for a fixed composition its
    u-fractions into U1[0] and True: the caller evaluates it like a node and stores the
    result with ``set_fixed_composition``."""
    n = bparams.kind.shape[1]
    ptr = bparams.value_ptr
    if bparams.kind[s, 0] == BC_COMPOSITION:
        tot = 0.0
        for k in range(1, n):
            lo, hi = ptr[s * n + k], ptr[s * n + k + 1]
            U1[0, k] = table_at(bparams.value_time[lo:hi], bparams.value[lo:hi], t)
            tot += U1[0, k]
        U1[0, 0] = 1.0 - tot
        ss = 0.0
        for k in range(n):
            ss += material.subst[k] * U1[0, k]
        for k in range(n):
            U1[0, k] /= ss
        return True
    RT = R * T
    for k in range(n):
        kind = bparams.kind[s, k]
        lo, hi = ptr[s * n + k], ptr[s * n + k + 1]
        if kind == BC_FLUX:
            bstate.flux[s, k] = table_at(bparams.value_time[lo:hi], bparams.value[lo:hi], t)
        elif kind == BC_POTENTIAL:
            bstate.mu[s, k] = table_at(bparams.value_time[lo:hi], bparams.value[lo:hi], t)
        elif kind == BC_ACTIVITY:
            a = table_at(bparams.value_time[lo:hi], bparams.value[lo:hi], t)
            rlo, rhi = bparams.ref_ptr[s * n + k], bparams.ref_ptr[s * n + k + 1]
            g = table_at(bparams.ref_T[rlo:rhi], bparams.ref_G[rlo:rhi], T)
            bstate.mu[s, k] = g + RT * math.log(a)
    return False


@jit(**INLINE)
def set_fixed_composition(bstate, s, MU, L, U):
    """Store the evaluated fixed composition of side s (its chemical potentials MU, L' and
    u-fractions U, one node each)."""
    for k in range(bstate.mu.shape[1]):
        bstate.mu[s, k] = MU[0, k]
        bstate.L[s, k] = L[0, k]
        bstate.u[s, k] = U[0, k]


@jit(**INLINE)
def boundary_drives(bstate):
    """The driving potential mu + phi at both boundary faces (after ``boundary_at`` and
    ``set_fixed_composition``)."""
    for s in range(2):
        for k in range(bstate.mu.shape[1]):
            bstate.drive[s, k] = bstate.mu[s, k] + bstate.phi[s, k]


@jit(**INLINE)
def _node_and_face(N, side):
    """(the node next to the boundary face, the face, the sign of the node -> face direction)."""
    if side == 0:
        return 0, 0, -1.0
    return N - 1, N, 1.0


@jit(**INLINE)
def _potential_face(grid, bstate, L, M, i, k, s, T):
    """Fixed-potential/activity flux of component k at the boundary face of side s (node
    i next to it), positive along +z, and its factors: returns (J, e, A) with
    J = sgn A (1 - e), A = RT L'_kk / d, e = exp(-(M_node - M_b)/RT)."""
    RT = R * T
    d = grid.bnd_dist[s]
    delta = M[i, k] - bstate.drive[s, k]
    x = -delta / RT
    if x > 600.0:
        x = 600.0
    e = math.exp(x)
    A = RT * L[i, k] / d
    sgn = -1.0 if s == 0 else 1.0
    return sgn * A * (1.0 - e), e, A


@jit(**LEAF)
def boundary_fluxes(grid, material, onsager, bparams, bstate, U, L, M, T, Jp, J):
    """J' and J at the two boundary faces (0 and N) from the boundary state and the node
    next to each (L: diagonal L', M: driving potential of the nodes)."""
    N = U.shape[0]
    n = U.shape[1]
    for side in range(2):
        i, f, sgn = _node_and_face(N, side)
        if is_periodic(bparams):
            if side == 0:
                face_flux(
                    onsager,
                    material,
                    L[N - 1],
                    L[0],
                    M[N - 1],
                    M[0],
                    U[N - 1],
                    U[0],
                    grid.bnd_dist[0] + grid.bnd_dist[1],
                    T,
                    Jp[0],
                    J[0],
                )
                for k in range(n):
                    Jp[N, k] = Jp[0, k]
                    J[N, k] = J[0, k]
            continue
        if bparams.kind[side, 0] == BC_COMPOSITION:
            # the boundary state is state a, the node state b: dist = z_node - z_face
            face_flux(
                onsager,
                material,
                bstate.L[side],
                L[i],
                bstate.drive[side],
                M[i],
                bstate.u[side],
                U[i],
                -sgn * grid.bnd_dist[side],
                T,
                Jp[f],
                J[f],
            )
            continue
        s = 0.0
        for k in range(1, n):
            kind = bparams.kind[side, k]
            v = 0.0
            if kind == BC_FLUX:
                v = bstate.flux[side, k] if side == 0 else -bstate.flux[side, k]
            elif kind == BC_POTENTIAL or kind == BC_ACTIVITY:
                v, _, _ = _potential_face(grid, bstate, L, M, i, k, side, T)
            J[f, k] = v
            Jp[f, k] = v
            s += material.subst[k] * v
        J[f, 0] = -s
        Jp[f, 0] = -s


@jit(**INLINE)
def boundary_jacobian(grid, material, onsager, bparams, bstate, U, DMDU, L, M, T, Gm, Gp):
    """The derivative of the boundary face fluxes with respect to the unknowns of the node
    next to each face: Gp[0] (left) and Gm[N] (right), n x n-1 each (zero rows for closed
    and fixed-flux components); L' and the frame factor frozen.  Periodic: the face
    between the last node and the first, dJ/dU_{N-1} in Gm[0] = Gm[N] and dJ/dU_0 in
    Gp[0] = Gp[N]."""
    N = U.shape[0]
    n = U.shape[1]
    m = n - 1
    RT = R * T
    for side in range(2):
        i, f, sgn = _node_and_face(N, side)
        if is_periodic(bparams):
            if side == 0:
                dist = grid.bnd_dist[0] + grid.bnd_dist[1]
                face_flux_derivative(onsager, material.face_mean, L[N - 1], L[0], DMDU[N - 1], dist, 1.0, Gm[0])
                face_flux_derivative(onsager, material.face_mean, L[N - 1], L[0], DMDU[0], dist, -1.0, Gp[0])
                if material.ideal != 0.0:
                    ideal_derivative(material, L[N - 1], L[0], U[N - 1], U[0], dist, T, 1.0, Gm[0])
                    ideal_derivative(material, L[N - 1], L[0], U[N - 1], U[0], dist, T, -1.0, Gp[0])
                to_volume_frame(material.subst, U[N - 1], U[0], Gm[0])
                to_volume_frame(material.subst, U[N - 1], U[0], Gp[0])
                for a in range(n):
                    for j in range(m):
                        Gm[N, a, j] = Gm[0, a, j]
                        Gp[N, a, j] = Gp[0, a, j]
            continue
        G = Gp[f] if side == 0 else Gm[f]
        if bparams.kind[side, 0] == BC_COMPOSITION:
            face_flux_derivative(
                onsager, material.face_mean, bstate.L[side], L[i], DMDU[i], -sgn * grid.bnd_dist[side], -1.0, G
            )
            if material.ideal != 0.0:
                ideal_derivative(
                    material, bstate.L[side], L[i], bstate.u[side], U[i], -sgn * grid.bnd_dist[side], T, -1.0, G
                )
            to_volume_frame(material.subst, U[i], bstate.u[side], G)
            continue
        for k in range(1, n):
            kind = bparams.kind[side, k]
            if kind != BC_POTENTIAL and kind != BC_ACTIVITY:
                continue
            # J = sgn A (1 - e), A = RT L'_kk / d (proportional to u_k), e = exp(-(M_node - M_b) / RT)
            _, e, A = _potential_face(grid, bstate, L, M, i, k, side, T)
            for j in range(m):
                v = A * e * DMDU[i, k, j] / RT
                if j == k - 1 and U[i, k] > 0.0:
                    v += (A / U[i, k]) * (1.0 - e)
                G[k, j] = sgn * v
            for j in range(m):
                G[0, j] -= material.subst[k] * G[k, j]
