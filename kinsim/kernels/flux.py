"""Per-node kinetics and face fluxes (numba).

State: u-fractions u_k = x_k / sum_{j substitutional} x_j of all n components; the
unknowns are u_1..u_{n-1} (the dependent component 0 is substitutional and
u_0 = 1 - sum of the other substitutional u).

Lattice-fixed fluxes (Andersson & Agren, J. Appl. Phys. 72 (1992) 1350):
    J'_k = -L'_kk d(mu_k + Phi_k)/dz,  L'_kk = u_k M_k / V_s (substitutional),
    L'_kk = u_k y_VA M_k / V_s (interstitial, y_VA on its sublattice),
volume-fixed:  J_k = J'_k - u_k sum_{j subst} J'_j,  du_k/dt = -V_s div J_k,
Kirkendall velocity v = -V_s sum_{j subst} J'_j.
Mobility  M_k = scale_k * exp(Q_k / RT) / RT,  Q_k = sum(MQ_k) + sum(MF_k) as CEF sums.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .._jit import jit
from ..thermo.params import STATUS_NAN, STATUS_OK
from .gibbs import R
from .kkt import equilibrium_batch


class SimArrays(NamedTuple):
    # grid (finite volume)
    z: np.ndarray  # f8[N] node positions
    dz: np.ndarray  # f8[N-1] node spacing
    area: np.ndarray  # f8[N+1] face areas (r**m)
    volume: np.ndarray  # f8[N] cell volumes
    # material
    Vs: float  # m^3 per mole of substitutional atoms
    mob_scale: np.ndarray  # f8[n]
    subst: np.ndarray  # f8[n] 1.0 substitutional, 0.0 interstitial
    # boundaries: 0 closed, 1 fixed composition (left, right)
    bc_type: np.ndarray  # i8[2]
    bc_mu: np.ndarray  # f8[2, n]
    bc_L: np.ndarray  # f8[2, n]
    bc_u: np.ndarray  # f8[2, n]
    bc_dist: np.ndarray  # f8[2] distance boundary face -> first/last node


@jit
def mobilities(p, fnval, T, y, zb, fv, out):
    """M_k (m^2 mol / (J s)) of every component at site fractions y into ``out``."""
    K = y.shape[0]
    zlo = p.blk_z_ptr[0]
    zhi = p.blk_z_ptr[1]
    for i in range(zlo, zhi):
        s = p.z_c[i]
        for k in range(K):
            s += p.z_M[i, k] * y[k]
        zb[i] = s
    RT = R * T
    for c in range(out.shape[0]):
        q = 0.0
        for m in range(p.mq_ptr[c], p.mq_ptr[c + 1]):
            v = fnval[p.mq_fn[m]] * p.mq_scale[m]
            for f in range(p.mq_fac_ptr[m], p.mq_fac_ptr[m + 1]):
                zz = zb[p.mq_fac_var[f]]
                for _ in range(p.mq_fac_exp[f]):
                    v *= zz
            q += v
        out[c] = math.exp(q / RT) / RT


@jit
def node_scratch(p, N):
    """Work arrays of eval_nodes for N nodes (allocated once per stepper call)."""
    n = p.n_comp
    m = max(n - 1, 1)
    return (np.zeros((N, n)), np.zeros((N, n, n)), np.zeros((N, m, m)), np.zeros(N), np.zeros(N, dtype=np.int64),
            np.zeros(N), np.ones(N, dtype=np.int64), np.zeros(n), np.zeros(p.z_c.shape[0]), np.zeros(8))


@jit
def eval_nodes(p, fnval, T, sim, U, Y, warm, MU, DMDU, L, scratch):
    """Chemical potentials, dmu/du (n x n-1) and L' at every node; returns (status, node).

    The equilibrium of all nodes is one batched kernel call (warm-started from Y)."""
    N = U.shape[0]
    n = U.shape[1]
    X, PD, DMU, GM, status, Tn, wflag, Mk, zb, fv = scratch
    for i in range(N):
        su = 0.0
        for k in range(n):
            su += U[i, k]
        for k in range(n):
            X[i, k] = U[i, k] / su
        Tn[i] = T
        wflag[i] = 1 if warm else 0
    equilibrium_batch(p, Tn, X, Y, wflag, MU, PD, DMU, GM, status)
    for i in range(N):
        if status[i] != STATUS_OK:
            return status[i], i
    for i in range(N):
        su = 0.0
        for k in range(n):
            su += U[i, k]
        mobilities(p, fnval, T, Y[i], zb, fv, Mk)
        for k in range(n):
            lk = U[i, k] * Mk[k] * sim.mob_scale[k] / sim.Vs
            if p.interstitial[k] == 1 and p.va_y[k] >= 0:
                lk *= Y[i, p.va_y[k]]
            L[i, k] = lk
            if not np.isfinite(lk):
                return STATUS_NAN, i
        # d mu_a / d u_j (j independent) = (P[a, j] - [j subst] P[a, 0]) / sum(u)
        for a in range(n):
            for j in range(1, n):
                v = PD[i, a, j]
                if sim.subst[j] == 1.0:
                    v -= PD[i, a, 0]
                DMDU[i, a, j - 1] = v / su
    return STATUS_OK, -1


@jit
def face_fluxes(sim, U, MU, L, Jp, J):
    """Lattice-fixed J' and volume-fixed J at the N+1 faces (boundary faces per BC)."""
    N = U.shape[0]
    n = U.shape[1]
    for f in range(N + 1):
        for k in range(n):
            Jp[f, k] = 0.0
            J[f, k] = 0.0
    for f in range(1, N):
        i = f - 1
        s = 0.0
        for k in range(n):
            lf = 0.5 * (L[i, k] + L[i + 1, k])
            Jp[f, k] = -lf * (MU[i + 1, k] - MU[i, k]) / sim.dz[i]
            s += sim.subst[k] * Jp[f, k]
        for k in range(n):
            J[f, k] = Jp[f, k] - 0.5 * (U[i, k] + U[i + 1, k]) * s
    for side in range(2):
        if sim.bc_type[side] != 1:
            continue
        f = 0 if side == 0 else N
        i = 0 if side == 0 else N - 1
        sgn = 1.0 if side == 0 else -1.0  # gradient direction: (mu_node - mu_b) / d * sgn
        s = 0.0
        for k in range(n):
            lf = 0.5 * (L[i, k] + sim.bc_L[side, k])
            Jp[f, k] = -lf * sgn * (MU[i, k] - sim.bc_mu[side, k]) / sim.bc_dist[side]
            s += sim.subst[k] * Jp[f, k]
        for k in range(n):
            J[f, k] = Jp[f, k] - 0.5 * (U[i, k] + sim.bc_u[side, k]) * s


@jit
def rates(sim, J, F):
    """du_k/dt at every node for the independent components: -V_s div J."""
    N = F.shape[0]
    m = F.shape[1]
    for i in range(N):
        for k in range(m):
            F[i, k] = -sim.Vs * (sim.area[i + 1] * J[i + 1, k + 1] - sim.area[i] * J[i, k + 1]) / sim.volume[i]
