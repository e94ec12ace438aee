"""Gradient energy (Cahn-Hilliard) on the finite-volume grid (numba).

Free energy per unit cross-section (planar; per radian / steradian in cylinders and
spheres), with the molar volume V_s (substitutional components only, so x = u):

    F = integral of ( G_m(x) + 1/2 grad(x)^T kappa grad(x) ) / V_s  dV

kappa (J m^2/mol) is a symmetric positive definite (n-1) x (n-1) matrix over the
independent components.  The exchange potentials of the functional gain the gradient part

    psi_k = -sum_j kappa_kj lap(x_j)          (J/mol, k = 1 .. n-1)

and the driving potential of every flux (``kinsim.kernels.flux``) takes it on with the
Gibbs-Duhem split sum_a x_a dM_a = 0 (the reference component takes -sum_j x_j psi_j):

    M_0 = mu_0 + Phi_0 - s,   M_k = mu_k + Phi_k + psi_k - s,   s = sum_j x_j psi_j,

so that M_k - M_0 = mu_k - mu_0 + psi_k and the fluxes keep their mobilities, frames,
cross terms and external potentials.  For a binary the volume-fixed flux is then
J_B = -(Mt / V_s) d(mu_B - mu_A + psi_B)/dz with Mt = x_A x_B (x_A M_B + x_B M_A).

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
from .boundary import is_periodic
from .flux import rate_blocks


class Gradient(NamedTuple):
    """The gradient-energy model of a run (``kappa``) and the scratch of its mixed form."""

    kappa: np.ndarray  # f8[m, m] gradient-energy coefficients over components[1:] (J m^2/mol), SPD
    psi: np.ndarray  # f8[N, m] gradient part of the exchange potentials of the state being evaluated (J/mol)
    Rpsi: np.ndarray  # f8[N, m] residual psi + kappa lap(x)
    DM: np.ndarray  # f8[N, n, m] dM/du at fixed psi (dmu/du plus the derivative of the split)
    E: np.ndarray  # f8[N, n, m] dM/dpsi (the split)
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
    return Gradient(kappa=np.ascontiguousarray(kappa, dtype=np.float64), psi=np.zeros((N, m)), Rpsi=np.zeros((N, m)),
                    DM=np.zeros((N, n, m)), E=np.zeros((N, n, m)), Gm=np.zeros((N + 1, n, m)),
                    Gp=np.zeros((N + 1, n, m)), Lo=np.zeros((N, b, b)), Di=np.zeros((N, b, b)),
                    Up=np.zeros((N, b, b)), sol=np.zeros((N, b)), blocks=block_work(N, b))


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
def gradient_drive(MU, PHI, U, psi, M):
    """The driving potential M = mu + Phi plus the gradient part psi, split so that
    sum_a x_a (M_a - mu_a - Phi_a) = 0 (J/mol)."""
    m = psi.shape[1]
    for i in range(MU.shape[0]):
        s = 0.0
        for j in range(m):
            s += U[i, j + 1] * psi[i, j]
        M[i, 0] = MU[i, 0] + PHI[i, 0] - s
        for k in range(1, MU.shape[1]):
            M[i, k] = MU[i, k] + PHI[i, k] + psi[i, k - 1] - s


@jit(**LEAF)
def drive_derivatives(U, DMDU, psi, DM, E):
    """dM/du at fixed psi (DM = dmu/du - psi_l in every row a) and dM/dpsi (E[a, j] =
    [a = j + 1] - x_{j+1}) of every node."""
    n = DMDU.shape[1]
    m = DMDU.shape[2]
    for i in range(U.shape[0]):
        for a in range(n):
            for j in range(m):
                DM[i, a, j] = DMDU[i, a, j] - psi[i, j]
                E[i, a, j] = (1.0 if a == j + 1 else 0.0) - U[i, j + 1]


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
