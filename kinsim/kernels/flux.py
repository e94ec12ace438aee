"""Face fluxes, their derivatives and the frame of reference on the finite-volume grid
(numba).

Lattice-fixed fluxes (Andersson & Agren, J. Appl. Phys. 72 (1992) 1350):

    J'_k = -sum_j L'_kj dM_j/dz,   M_j = mu_j + Phi_j  (the driving potential, J/mol)

with L' from ``kinsim.kernels.mobility`` and Phi the external potentials.  At a face
between two states a and b (two nodes, or a node and a fixed boundary state) at the
signed distance dist = z_b - z_a the gradient is (M_b - M_a) / dist and L' is the mean
of the two states' coefficients: arithmetic, or geometric for the homogenization model
(``Material.face_mean``; its Gamma* vary exponentially with composition and jump by
orders of magnitude where a phase appears; kawin's homogenization model averages Gamma
the same way; cross terms are always averaged arithmetically).  The homogenization model
adds its ideal term
-eps R T L'_kk / u_k du_k/dz (DICTRA's and kawin's damping term, eps = material.ideal;
L'_kk = Gamma*_k / V_s), at a face -L'_f eps R T (u_b - u_a) / (u_f dist) with u_f the
mean of the two states' u.  Volume-fixed frame:

    J_k = J'_k - u_k sum_{j substitutional} J'_j    (u: the mean of the two states)
    du_k/dt = -V_s div J_k,   Kirkendall (lattice) velocity v = -V_s sum_{j subst} J'_j

Units: J in mol m^-2 s^-1, z in m, V_s in m^3/mol.  Faces are numbered 0..N (0 the left
boundary face), nodes 0..N-1; face f lies between nodes f-1 and f.  The boundary faces
are ``kinsim.kernels.boundary``'s.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .._jit import INLINE, INTERNAL, LEAF, jit
from .codes import FACE_GEOMETRIC, ONSAGER_DIAGONAL
from .gibbs import R
from .mobility import onsager_coef


class Grid(NamedTuple):
    """The finite-volume grid as the kernels see it (SI units; see kinsim.grid)."""

    z: np.ndarray  # f8[N] node positions (m)
    dz: np.ndarray  # f8[N-1] distances between neighbouring nodes (m)
    faces: np.ndarray  # f8[N+1] face positions (m)
    area: np.ndarray  # f8[N+1] face areas r^m
    volume: np.ndarray  # f8[N] cell volumes
    bnd_dist: np.ndarray  # f8[2] distance from the left / right boundary face to the first / last node (m)


@jit(**LEAF)
def driving_potential(MU, PHI, M):
    """M = mu + Phi at every node (J/mol): computed once per evaluation of the state."""
    for i in range(MU.shape[0]):
        for k in range(MU.shape[1]):
            M[i, k] = MU[i, k] + PHI[i, k]


@jit(**INLINE)
def face_mean(mean, La, Lb):
    """The face value of a diagonal L' between states a and b: their arithmetic mean
    (FACE_ARITHMETIC) or geometric mean (FACE_GEOMETRIC)."""
    if mean == FACE_GEOMETRIC:
        return math.sqrt(La * Lb)
    return 0.5 * (La + Lb)


@jit(**INLINE)
def face_mean_slope(mean, La, Lb, sign):
    """d face_mean / dL of state a (sign +1) or b (sign -1); 0 for a geometric mean where
    that state's L' is 0."""
    if mean == FACE_GEOMETRIC:
        own = La if sign > 0.0 else Lb
        return 0.5 * math.sqrt(La * Lb) / own if own > 0.0 else 0.0
    return 0.5


@jit(**INLINE)
def ideal_difference(ideal_RT, ua, ub):
    """The ideal term's potential difference across a face, eps R T (u_b - u_a) / u_f
    (J/mol), u_f = (u_a + u_b) / 2; ideal_RT = eps R T."""
    return ideal_RT * (ub - ua) / (0.5 * (ua + ub))


@jit(**LEAF)
def face_flux(onsager, material, La, Lb, Ma, Mb, ua, ub, dist, T, Jp_f, J_f):
    """Lattice-fixed J' and volume-fixed J (along +z) at the face between state a (L'
    diagonal La, driving potential Ma, u-fractions ua) and state b, dist = z_b - z_a, at
    temperature T (the ideal term's eps R T)."""
    n = La.shape[0]
    subst = material.subst
    ideal_RT = material.ideal * R * T
    s = 0.0
    for k in range(n):
        lf = face_mean(material.face_mean, La[k], Lb[k])
        v = -lf * (Mb[k] - Ma[k]) / dist
        if ideal_RT != 0.0:
            v -= lf * ideal_difference(ideal_RT, ua[k], ub[k]) / dist
        if onsager.form != ONSAGER_DIAGONAL:
            for b in range(n):
                if b != k:
                    lc = 0.5 * (onsager_coef(onsager, La[k], La[b], k, b) + onsager_coef(onsager, Lb[k], Lb[b], k, b))
                    v -= lc * (Mb[b] - Ma[b]) / dist
        Jp_f[k] = v
        s += subst[k] * v
    for k in range(n):
        J_f[k] = Jp_f[k] - 0.5 * (ua[k] + ub[k]) * s


@jit(**INTERNAL)
def interior_fluxes(grid, material, onsager, U, L, M, T, Jp, J):
    """J' and J at the interior faces 1..N-1 at temperature T."""
    for f in range(1, U.shape[0]):
        i = f - 1
        face_flux(onsager, material, L[i], L[i + 1], M[i], M[i + 1], U[i], U[i + 1], grid.dz[i], T, Jp[f], J[f])


@jit(**LEAF)
def face_flux_derivative(onsager, mean, La, Lb, DM, dist, sign, G):
    """G[a, j] = sign sum_b L'_ab dM_b/du_j / dist (n x n-1): the derivative of the
    lattice-fixed face flux with respect to the unknowns of one of its states (DM: that
    state's dmu/du; sign -1 for state b, +1 for state a), L' and u frozen (a quasi-Newton
    Jacobian); mean: the material's face mean of the diagonal L'."""
    n = G.shape[0]
    ncross = n if onsager.form != ONSAGER_DIAGONAL else 1
    for a in range(n):
        for j in range(G.shape[1]):
            v = 0.0
            for bb in range(ncross):
                b = a if ncross == 1 else bb
                if b == a:
                    lf = face_mean(mean, La[a], Lb[a])
                else:
                    lf = 0.5 * (onsager_coef(onsager, La[a], La[b], a, b) + onsager_coef(onsager, Lb[a], Lb[b], a, b))
                v += lf * DM[b, j]
            G[a, j] = sign * v / dist


@jit(**LEAF)
def ideal_derivative(material, La, Lb, ua, ub, dist, T, sign, G):
    """Add the derivative of the ideal term of the lattice-fixed face flux (``face_flux``)
    with respect to the unknowns of one of its states (sign +1 state a, -1 state b) to
    G (n x n-1), L' and u_f frozen as in ``face_flux_derivative``:
    sign L'_f eps R T u_other / u_f^2 du_k/du_j / dist (u_other: the other state's u)."""
    n = G.shape[0]
    ideal_RT = material.ideal * R * T
    for k in range(n):
        lf = face_mean(material.face_mean, La[k], Lb[k])
        uf = 0.5 * (ua[k] + ub[k])
        other = ub[k] if sign > 0.0 else ua[k]
        c = sign * lf * ideal_RT * other / (uf * uf) / dist
        for j in range(G.shape[1]):
            if k == 0:
                G[k, j] -= c * material.subst[j + 1]  # u_0 = 1 - sum of the other substitutional u
            elif k == j + 1:
                G[k, j] += c


@jit(**LEAF)
def coefficient_derivative(material, La, Lb, dL, Ma, Mb, ua, ub, dist, T, sign, E, G):
    """Add to G (n x n-1, volume-fixed) the derivative of the face flux between states a
    and b through the L' of one of them (sign +1 state a, -1 state b; the face's L' is
    the material's mean of the two): dL (n, n-1) is that state's dL'_kk/du_j, and
    dJ'_k = -(d face L'/d L'_kk) dL_kj (Mb_k - Ma_k + the ideal term's difference) / dist,
    taken to the volume-fixed frame with u_f frozen (E: n x n-1 scratch).  For node
    models whose L' depends on the state beyond u_k (the homogenization model); the
    single-phase Jacobian keeps L' frozen."""
    n = E.shape[0]
    ideal_RT = material.ideal * R * T
    for k in range(n):
        d = Mb[k] - Ma[k]
        if ideal_RT != 0.0:
            d += ideal_difference(ideal_RT, ua[k], ub[k])
        w = face_mean_slope(material.face_mean, La[k], Lb[k], sign)
        for j in range(E.shape[1]):
            E[k, j] = -w * dL[k, j] * d / dist
    to_volume_frame(material.subst, ua, ub, E)
    for k in range(n):
        for j in range(E.shape[1]):
            G[k, j] += E[k, j]


@jit(**LEAF)
def to_volume_frame(subst, ua, ub, G):
    """dJ = dJ' - u_f sum_subst dJ' for one derivative block of a face (u_f, the mean of
    ua and ub, frozen)."""
    n = G.shape[0]
    for j in range(G.shape[1]):
        s = 0.0
        for a in range(n):
            s += subst[a] * G[a, j]
        for k in range(n):
            uf = 0.5 * (ua[k] + ub[k])
            G[k, j] -= uf * s


@jit(**INLINE)
def interior_jacobian(grid, material, onsager, U, DMDU, L, T, Gm, Gp):
    """dJ_f/dU_{f-1} (Gm[f]) and dJ_f/dU_f (Gp[f]) at the interior faces 1..N-1 at
    temperature T."""
    for f in range(1, U.shape[0]):
        il = f - 1
        ir = f
        face_flux_derivative(onsager, material.face_mean, L[il], L[ir], DMDU[ir], grid.dz[il], -1.0, Gp[f])
        face_flux_derivative(onsager, material.face_mean, L[il], L[ir], DMDU[il], grid.dz[il], 1.0, Gm[f])
        if material.ideal != 0.0:
            ideal_derivative(material, L[il], L[ir], U[il], U[ir], grid.dz[il], T, -1.0, Gp[f])
            ideal_derivative(material, L[il], L[ir], U[il], U[ir], grid.dz[il], T, 1.0, Gm[f])
        to_volume_frame(material.subst, U[il], U[ir], Gp[f])
        to_volume_frame(material.subst, U[il], U[ir], Gm[f])


@jit(**INTERNAL)
def rates(grid, material, J, F):
    """du_k/dt = -V_s div J at every node for the independent components (F: N x n-1)."""
    for i in range(F.shape[0]):
        for k in range(F.shape[1]):
            F[i, k] = -material.Vs * (grid.area[i + 1] * J[i + 1, k + 1] - grid.area[i] * J[i, k + 1]) / grid.volume[i]


@jit(**LEAF)
def rate_blocks(grid, material, periodic, dt, Gm, Gp, Lo, Di, Up, col):
    """-dt d(du/dt)/dV of the rates of the independent components (``rates``) as blocks
    of a block-tridiagonal Newton matrix, from the face derivatives Gm (dJ_f/dV_{f-1})
    and Gp (dJ_f/dV_f) of per-node unknowns V: rows 0..n-2 and columns col..col+n-2 of
    Lo (node i-1; on periodic grids node N-1 for i = 0), Di (node i) and Up (node i+1;
    node 0 for i = N-1 if periodic).  Other rows and columns are left as they are."""
    N = Di.shape[0]
    m = Gm.shape[2]
    for i in range(N):
        c = dt * material.Vs / grid.volume[i]
        Al = grid.area[i]
        Ar = grid.area[i + 1]
        has_lo = i > 0 or periodic
        has_up = i < N - 1 or periodic
        for k in range(m):
            for j in range(m):
                Di[i, k, col + j] = c * (Ar * Gm[i + 1, k + 1, j] - Al * Gp[i, k + 1, j])
                Lo[i, k, col + j] = -c * Al * Gm[i, k + 1, j] if has_lo else 0.0
                Up[i, k, col + j] = c * Ar * Gp[i + 1, k + 1, j] if has_up else 0.0


@jit(**INTERNAL)
def move_markers(grid, material, Jp, markers, dt):
    """Kirkendall markers move for dt with the lattice velocity v = -V_s sum_subst J'
    (interpolated linearly between the faces)."""
    zf = grid.faces
    nf = zf.shape[0]
    n = Jp.shape[1]
    for mk in range(markers.shape[0]):
        zm = markers[mk]
        f = 0
        while f < nf - 2 and zf[f + 1] < zm:
            f += 1
        w = (zm - zf[f]) / (zf[f + 1] - zf[f])
        if w < 0.0:
            w = 0.0
        if w > 1.0:
            w = 1.0
        v0 = 0.0
        v1 = 0.0
        for k in range(n):
            v0 += material.subst[k] * Jp[f, k]
            v1 += material.subst[k] * Jp[f + 1, k]
        v = -material.Vs * ((1.0 - w) * v0 + w * v1)
        markers[mk] = zm + dt * v
