"""Gradient energy (Cahn-Hilliard) on the finite-volume grid (numba).

Free energy per unit cross-section (planar; per radian / steradian in cylinders and
spheres), with the molar volume V_s (substitutional components only, so x = u):

    F = integral of ( G_m(x) + 1/2 grad(x)^T kappa grad(x) ) / V_s  dV

kappa (J m^2/mol) is a symmetric positive definite (n-1) x (n-1) matrix over the
independent components.  The exchange potentials of the functional are

    w_k = mu_k - mu_0 + psi_k,   psi_k = -sum_j kappa_kj lap(x_j)     (J/mol, k = 1 .. n-1)

and they drive the fluxes: at a face f the differences of the driving potentials that
``kinsim.kernels.flux.face_flux`` takes are those of the Gibbs-Duhem split of dw at the
face composition x_f (the mean of the two nodes),

    dM_a = sum_j E_aj dw_j + dPhi_a,   E_aj = [a = j] - x_f,j   (so sum_a x_f,a (dM_a - dPhi_a) = 0),

which keeps the mobilities, the frame of reference, cross terms and external potentials
of the sharp model.  As the frame change of the face is E^T, the volume-fixed fluxes are
J = -E^T L' E dw / dz (plus the potentials): every face dissipates, the semi-discrete F
never increases, and w is uniform at equilibrium.  For a binary,
J_B = -(Mt / V_s) dw_B/dz with Mt = x_A x_B (x_A M_B + x_B M_A).

Discretisation: the Laplacian of the finite-volume grid,

    lap(x)_i = ( A_{i+1} (x_{i+1} - x_i) / dz_i - A_i (x_i - x_{i-1}) / dz_{i-1} ) / V_i,

the exact variational derivative of the discrete gradient energy (face areas A, cell
volumes V_i).  At a closed or fixed-flux end the boundary face carries no gradient (the
natural condition grad x = 0); periodic grids wrap across the boundary face.

Mixed form: psi is an unknown next to u at every node, with the algebraic equation
psi + kappa lap(x) = 0.  The BDF2 Newton matrix over (u, psi) per node stays
block-tridiagonal (blocks 2m x 2m, m = n-1; cyclic on periodic grids) and is solved by
``kinsim.kernels.blocksolve``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._jit import LEAF, jit
from .blocksolve import BlockWork, block_work
from .boundary import boundary_fluxes, is_periodic
from .flux import driving_potential, face_flux, face_flux_derivative, rate_blocks, to_volume_frame


class Gradient(NamedTuple):
    """The gradient-energy model of a run (``kappa``) and the scratch of its mixed form."""

    kappa: np.ndarray  # f8[m, m] gradient-energy coefficients over components[1:] (J m^2/mol), SPD
    psi: np.ndarray  # f8[N, m] gradient part of the exchange potentials of the state being evaluated (J/mol)
    Rpsi: np.ndarray  # f8[N, m] residual psi + kappa lap(x)
    E: np.ndarray  # f8[n, m] the split of one face
    D: np.ndarray  # f8[n, m] E dw/du of one node at one face
    Ma: np.ndarray  # f8[n] the driving potentials of one face's left state
    Mb: np.ndarray  # f8[n] ... right state
    Gm: np.ndarray  # f8[N+1, n, m] dJ_f/dpsi_{f-1}
    Gp: np.ndarray  # f8[N+1, n, m] dJ_f/dpsi_f
    Lo: np.ndarray  # f8[N, 2m, 2m] Newton matrix: coupling of node i to node i-1 (row 0: to N-1 if periodic)
    Di: np.ndarray  # f8[N, 2m, 2m] ... diagonal blocks
    Up: np.ndarray  # f8[N, 2m, 2m] ... coupling to node i+1 (row N-1: to node 0 if periodic)
    sol: np.ndarray  # f8[N, 2m] right-hand side, then the Newton correction (du, dpsi)
    blocks: BlockWork  # scratch of the block solve


def gradient_model(kappa: np.ndarray, N: int, n: int) -> Gradient:
    """The model with coefficients kappa ((n-1) x (n-1), J m^2/mol) and its scratch for N nodes."""
    m = n - 1
    b = 2 * m
    return Gradient(
        kappa=np.ascontiguousarray(kappa, dtype=np.float64),
        psi=np.zeros((N, m)),
        Rpsi=np.zeros((N, m)),
        E=np.zeros((n, m)),
        D=np.zeros((n, m)),
        Ma=np.zeros(n),
        Mb=np.zeros(n),
        Gm=np.zeros((N + 1, n, m)),
        Gp=np.zeros((N + 1, n, m)),
        Lo=np.zeros((N, b, b)),
        Di=np.zeros((N, b, b)),
        Up=np.zeros((N, b, b)),
        sol=np.zeros((N, b)),
        blocks=block_work(N, b),
    )


@jit(**LEAF)
def laplacian_weights(grid, bparams, i):
    """(wl, wr, il, ir) of node i: lap(x)_i = wl (x_il - x_i) + wr (x_ir - x_i) (m^-2), with
    il / ir the left / right neighbours (wrapped on periodic grids; a weight is 0 across
    a boundary face that carries no gradient)."""
    N = grid.z.shape[0]
    vol = grid.volume[i]
    periodic = is_periodic(bparams)
    wrap = grid.bnd_dist[0] + grid.bnd_dist[1]
    if i > 0:
        wl = grid.area[i] / (grid.dz[i - 1] * vol)
        il = i - 1
    elif periodic:
        wl = grid.area[0] / (wrap * vol)
        il = N - 1
    else:
        wl = 0.0
        il = 0
    if i < N - 1:
        wr = grid.area[i + 1] / (grid.dz[i] * vol)
        ir = i + 1
    elif periodic:
        wr = grid.area[N] / (wrap * vol)
        ir = 0
    else:
        wr = 0.0
        ir = N - 1
    return wl, wr, il, ir


@jit(**LEAF)
def psi_residual(grid, bparams, kappa, U, psi, R):
    """R = psi + kappa lap(x) at every node (J/mol); x_j = U[:, j] for j >= 1."""
    N = U.shape[0]
    m = kappa.shape[0]
    for i in range(N):
        wl, wr, il, ir = laplacian_weights(grid, bparams, i)
        for k in range(m):
            s = psi[i, k]
            for j in range(m):
                lap = wl * (U[il, j + 1] - U[i, j + 1]) + wr * (U[ir, j + 1] - U[i, j + 1])
                s += kappa[k, j] * lap
            R[i, k] = s


@jit(**LEAF)
def gradient_potential(grid, bparams, kappa, U, psi):
    """psi = -kappa lap(x) at every node (J/mol): the gradient part of the exchange
    potentials of the state U."""
    psi[:, :] = 0.0
    psi_residual(grid, bparams, kappa, U, psi, psi)
    for i in range(psi.shape[0]):
        for k in range(psi.shape[1]):
            psi[i, k] = -psi[i, k]


@jit(**LEAF)
def _faces(grid, bparams, N):
    """The faces whose fluxes and derivatives the gradient model computes itself: the
    interior faces 1..N-1 and, on periodic grids, face 0 (= N) between node N-1 and node
    0.  Returns (the number of them, whether the last is the periodic face)."""
    if is_periodic(bparams):
        return N, True
    return N - 1, False


@jit(**LEAF)
def _face(grid, N, q):
    """(face index, left node, right node, distance) of the q-th face of ``_faces``."""
    if q < N - 1:
        return q + 1, q, q + 1, grid.dz[q]
    return 0, N - 1, 0, grid.bnd_dist[0] + grid.bnd_dist[1]


@jit(**LEAF)
def face_split(U, ia, ib, E):
    """E[a, j] = [a = j + 1] - x_f,j+1 at the face between nodes ia and ib (x_f their
    mean): the Gibbs-Duhem split of the exchange-potential differences."""
    for a in range(E.shape[0]):
        for j in range(E.shape[1]):
            E[a, j] = (1.0 if a == j + 1 else 0.0) - 0.5 * (U[ia, j + 1] + U[ib, j + 1])


@jit(**LEAF)
def _face_drive(MU, PHI, psi, E, p, M):
    """M_a = Phi_a + sum_j E_aj w_j of node p (w_j = mu_j - mu_0 + psi_j): a driving
    potential whose difference between the two nodes of the face of E is the split."""
    n = MU.shape[1]
    for a in range(n):
        v = PHI[p, a]
        for j in range(n - 1):
            v += E[a, j] * (MU[p, j + 1] - MU[p, 0] + psi[p, j])
        M[a] = v


@jit(**LEAF)
def gradient_fluxes(problem, gradient, U, fields, T):
    """The face fluxes of the gradient-energy model of the state U (its nodes in
    ``fields``, its gradient part in gradient.psi): split exchange-potential differences
    at the interior (and periodic) faces, ``boundary_fluxes`` at closed and fixed-flux
    ends.  fields.M gets the nodes' mu + Phi."""
    pr = problem
    N = U.shape[0]
    n = U.shape[1]
    driving_potential(fields.MU, fields.PHI, fields.M)
    nf, periodic = _faces(pr.grid, pr.boundary, N)
    if not periodic:
        boundary_fluxes(
            pr.grid,
            pr.material,
            pr.onsager,
            pr.boundary,
            pr.boundary_state,
            U,
            fields.L,
            fields.M,
            T,
            fields.Jp,
            fields.J,
        )
    for q in range(nf):
        f, ia, ib, dist = _face(pr.grid, N, q)
        face_split(U, ia, ib, gradient.E)
        _face_drive(fields.MU, fields.PHI, gradient.psi, gradient.E, ia, gradient.Ma)
        _face_drive(fields.MU, fields.PHI, gradient.psi, gradient.E, ib, gradient.Mb)
        face_flux(
            pr.onsager,
            pr.material,
            fields.L[ia],
            fields.L[ib],
            gradient.Ma,
            gradient.Mb,
            U[ia],
            U[ib],
            dist,
            T,
            fields.Jp[f],
            fields.J[f],
        )
    if periodic:
        for k in range(n):
            fields.Jp[N, k] = fields.Jp[0, k]
            fields.J[N, k] = fields.J[0, k]


@jit(**LEAF)
def _exchange_derivative(DMDU, p, E, D):
    """D = E dw/du of node p: D[a, l] = sum_j E_aj (dmu_{j+1}/du_l - dmu_0/du_l)."""
    for a in range(E.shape[0]):
        for l in range(E.shape[1]):
            v = 0.0
            for j in range(E.shape[1]):
                v += E[a, j] * (DMDU[p, j + 1, l] - DMDU[p, 0, l])
            D[a, l] = v


@jit(**LEAF)
def gradient_jacobian(problem, gradient, U, DMDU, L, Gm, Gp):
    """The face-flux derivatives of the gradient-energy model: with respect to u (Gm:
    dJ_f/du_{f-1}, Gp: dJ_f/du_f) and to psi (gradient.Gm, gradient.Gp), with L', the
    frame factor and the face split frozen (zero at closed and fixed-flux ends)."""
    pr = problem
    N = U.shape[0]
    Gm[:, :, :] = 0.0
    Gp[:, :, :] = 0.0
    gradient.Gm[:, :, :] = 0.0
    gradient.Gp[:, :, :] = 0.0
    E = gradient.E
    D = gradient.D
    subst = pr.material.subst
    nf, periodic = _faces(pr.grid, pr.boundary, N)
    for q in range(nf):
        f, ia, ib, dist = _face(pr.grid, N, q)
        face_split(U, ia, ib, E)
        _exchange_derivative(DMDU, ia, E, D)
        face_flux_derivative(pr.onsager, pr.material.face_mean, L[ia], L[ib], D, dist, 1.0, Gm[f])
        _exchange_derivative(DMDU, ib, E, D)
        face_flux_derivative(pr.onsager, pr.material.face_mean, L[ia], L[ib], D, dist, -1.0, Gp[f])
        face_flux_derivative(pr.onsager, pr.material.face_mean, L[ia], L[ib], E, dist, 1.0, gradient.Gm[f])
        face_flux_derivative(pr.onsager, pr.material.face_mean, L[ia], L[ib], E, dist, -1.0, gradient.Gp[f])
        to_volume_frame(subst, U[ia], U[ib], Gm[f])
        to_volume_frame(subst, U[ia], U[ib], Gp[f])
        to_volume_frame(subst, U[ia], U[ib], gradient.Gm[f])
        to_volume_frame(subst, U[ia], U[ib], gradient.Gp[f])
    if periodic:
        for a in range(Gm.shape[1]):
            for j in range(Gm.shape[2]):
                Gm[N, a, j] = Gm[0, a, j]
                Gp[N, a, j] = Gp[0, a, j]
                gradient.Gm[N, a, j] = gradient.Gm[0, a, j]
                gradient.Gp[N, a, j] = gradient.Gp[0, a, j]


@jit(**LEAF)
def mixed_blocks(grid, material, bparams, kappa, a0, dt, Gm, Gp, Gms, Gps, Lo, Di, Up):
    """The Newton matrix of the mixed BDF2 system over (u, psi) per node:

        rows u:   a0 du + dt V_s div(dJ)  (dJ from Gm, Gp: d/du; Gms, Gps: d/dpsi)
        rows psi: dpsi + kappa lap(dx)

    into the blocks Lo (node i-1), Di (node i), Up (node i+1); on periodic grids Lo[0]
    couples to node N-1 and Up[N-1] to node 0 (``kinsim.kernels.blocksolve``)."""
    N = Di.shape[0]
    m = kappa.shape[0]
    periodic = is_periodic(bparams)
    rate_blocks(grid, material, periodic, dt, Gm, Gp, Lo, Di, Up, 0)
    rate_blocks(grid, material, periodic, dt, Gms, Gps, Lo, Di, Up, m)
    for i in range(N):
        wl, wr, _, _ = laplacian_weights(grid, bparams, i)
        for k in range(m):
            for j in range(m):
                Di[i, m + k, j] = -kappa[k, j] * (wl + wr)
                Di[i, m + k, m + j] = 0.0
                Lo[i, m + k, j] = kappa[k, j] * wl
                Lo[i, m + k, m + j] = 0.0
                Up[i, m + k, j] = kappa[k, j] * wr
                Up[i, m + k, m + j] = 0.0
            Di[i, k, k] += a0
            Di[i, m + k, m + k] = 1.0


@jit(**LEAF)
def mixed_rhs(R, Rpsi, sol):
    """The right-hand side -(R, Rpsi) of the Newton system into sol (N, 2m)."""
    m = R.shape[1]
    for i in range(R.shape[0]):
        for k in range(m):
            sol[i, k] = -R[i, k]
            sol[i, m + k] = -Rpsi[i, k]


@jit(**LEAF)
def update_psi(psi, sol, lam):
    """psi += lam dpsi (the psi part of the Newton correction in sol)."""
    m = psi.shape[1]
    for i in range(psi.shape[0]):
        for k in range(m):
            psi[i, k] += lam * sol[i, m + k]
