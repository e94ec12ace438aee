"""Per-node kinetics and face fluxes (numba).

State: u-fractions u_k = x_k / sum_{j substitutional} x_j of all n components; the
unknowns are u_1..u_{n-1} (the dependent component 0 is substitutional and
u_0 = 1 - sum of the other substitutional u).

Lattice-fixed fluxes (Andersson & Agren, J. Appl. Phys. 72 (1992) 1350):
    J'_k = -sum_j L'_kj d(mu_j + Phi_j)/dz,  L'_kk = u_k M_k / V_s (substitutional),
    L'_kk = u_k y_VA M_k / V_s (interstitial, y_VA on its sublattice),
    L'_kj (k != j) = the case's cross terms (absolute, or relative r_kj sqrt(L'_kk L'_jj)),
    Phi_k(z, t) = sum of the case's external potentials of species k,
volume-fixed:  J_k = J'_k - u_k sum_{j subst} J'_j,  du_k/dt = -V_s div J_k,
Kirkendall velocity v = -V_s sum_{j subst} J'_j.
Mobility  M_k = scale_k * exp(Q_k / RT) / RT,  Q_k = sum(MQ_k) + sum(MF_k) as CEF sums.

Boundary faces (per side and component, ``bc_kind``): closed (J = 0); fixed composition
(the whole side: a boundary state at the face, evaluated like a node); fixed flux (J into
the specimen given); fixed potential or activity (mu_b = G_ref(T) + RT ln a).  At a
fixed-potential face the flux of component k uses the node's L'_kk with exponential
fitting, J = -(RT L'_kk / d)(1 - exp(-(M_node - M_b)/RT)) on the left (M = mu + Phi, d the
node-face distance): exact for an ideal dilute solute with constant D (where
L' = D c / RT), the ordinary difference quotient when M_node - M_b is small.  Components a
boundary does not fix are closed there; the dependent substitutional component takes
up the substitutional balance.

Time tables (boundary values, T(t), potential multipliers) are piecewise linear and
evaluated in the kernels at the time of each step, so Python does no work per step.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .._jit import INNER, jit
from .codes import BC_ACTIVITY, BC_COMPOSITION, BC_FLUX, BC_POTENTIAL, STATUS_NAN, STATUS_OK, STATUS_ONSAGER, STATUS_T_RANGE
from .gibbs import R, eval_tfuncs
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
    # temperature T(t): a piecewise-linear table (one row: constant)
    T_tt: np.ndarray  # f8[m]
    T_tv: np.ndarray  # f8[m]
    # boundaries (side 0 left, 1 right) per component: BC_* kinds
    bc_kind: np.ndarray  # i8[2, n]
    bc_ptr: np.ndarray  # i8[2 n + 1] value table of (side, k) = rows bc_ptr[s n + k] .. bc_ptr[s n + k + 1]
    bc_tt: np.ndarray  # f8[*] table times
    bc_tv: np.ndarray  # f8[*] table values (mole fraction, flux, mu or activity)
    ref_ptr: np.ndarray  # i8[2 n + 1] reference-phase G(T) table of (side, k) (activities)
    ref_T: np.ndarray  # f8[*]
    ref_G: np.ndarray  # f8[*] J per mole of k
    bc_dist: np.ndarray  # f8[2] distance boundary face -> first/last node
    # boundary state at the current step (filled by the kernels)
    bc_mu: np.ndarray  # f8[2, n] chemical potential (fixed composition / potential / activity)
    bc_L: np.ndarray  # f8[2, n] L' of the boundary state (fixed composition)
    bc_u: np.ndarray  # f8[2, n] u-fractions of the boundary state (fixed composition)
    bc_val: np.ndarray  # f8[2, n] fixed flux into the specimen
    bc_Y: np.ndarray  # f8[2, n_y] site fractions of the boundary state (warm start)
    bc_warm: np.ndarray  # i8[2]
    # external potentials Phi(z, t) = factor(t) * phi_node
    phi_species: np.ndarray  # i8[E]
    phi_node: np.ndarray  # f8[E, N]
    phi_bnd: np.ndarray  # f8[E, 2] at the boundary faces
    phi_ptr: np.ndarray  # i8[E + 1] time-factor table rows
    phi_tt: np.ndarray  # f8[*]
    phi_tv: np.ndarray  # f8[*]
    PHI: np.ndarray  # f8[N, n] at the current step (filled by the kernels)
    PHIB: np.ndarray  # f8[2, n]
    # Onsager cross terms: 0 none, 1 absolute, 2 relative
    cross_form: int
    cross: np.ndarray  # f8[n, n], zero diagonal




@jit(**INNER)
def table_at(tt, tv, lo, hi, t):
    """Piecewise-linear table rows lo..hi-1 at t (constant outside)."""
    if hi - lo == 1 or t <= tt[lo]:
        return tv[lo]
    if t >= tt[hi - 1]:
        return tv[hi - 1]
    i = lo
    while tt[i + 1] < t:
        i += 1
    w = (t - tt[i]) / (tt[i + 1] - tt[i])
    return (1.0 - w) * tv[i] + w * tv[i + 1]


@jit(**INNER)
def temperature_at(sim, t):
    return table_at(sim.T_tt, sim.T_tv, 0, sim.T_tt.shape[0], t)


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
            np.zeros(N), np.ones(N, dtype=np.int64), np.zeros(n), np.zeros(p.z_c.shape[0]), np.zeros((n, n)))


@jit(**INNER)
def cross_coef(sim, L, i, a, b):
    """Off-diagonal L'_ab at node i (L: diagonal values per node)."""
    if sim.cross_form == 1:
        return sim.cross[a, b]
    return sim.cross[a, b] * math.sqrt(L[i, a] * L[i, b])


@jit(**INNER)
def _is_psd(W, n):
    """In-place LDL' test of a symmetric n x n matrix: True when positive semi-definite."""
    scale = 0.0
    for k in range(n):
        if abs(W[k, k]) > scale:
            scale = abs(W[k, k])
    tol = 1e-12 * scale
    for k in range(n):
        d = W[k, k]
        if d < -tol:
            return False
        if d <= tol:
            for i in range(k + 1, n):
                if abs(W[i, k]) > 1e-6 * scale:
                    return False
            continue
        for i in range(k + 1, n):
            f = W[i, k] / d
            for j in range(k + 1, i + 1):
                W[i, j] -= f * W[j, k]
                W[j, i] = W[i, j]
    return True


@jit
def eval_nodes(p, fnval, T, sim, U, Y, warm, MU, DMDU, L, scratch):
    """Chemical potentials, dmu/du (n x n-1) and L' at every node; returns (status, node).

    The equilibrium of all nodes is one batched kernel call (warm-started from Y)."""
    N = U.shape[0]
    n = U.shape[1]
    X, PD, DMU, GM, status, Tn, wflag, Mk, zb, W = scratch
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
        mobilities(p, fnval, T, Y[i], zb, W[0], Mk)
        for k in range(n):
            lk = U[i, k] * Mk[k] * sim.mob_scale[k] / sim.Vs
            if p.interstitial[k] == 1 and p.va_y[k] >= 0:
                lk *= Y[i, p.va_y[k]]
            L[i, k] = lk
            if not np.isfinite(lk):
                return STATUS_NAN, i
        if sim.cross_form == 1:
            for a in range(n):
                for b in range(n):
                    W[a, b] = L[i, a] if a == b else sim.cross[a, b]
            if not _is_psd(W, n):
                return STATUS_ONSAGER, i
        # d mu_a / d u_j (j independent) = (P[a, j] - [j subst] P[a, 0]) / sum(u)
        for a in range(n):
            for j in range(1, n):
                v = PD[i, a, j]
                if sim.subst[j] == 1.0:
                    v -= PD[i, a, 0]
                DMDU[i, a, j - 1] = v / su
    return STATUS_OK, -1


@jit
def prepare_step(p, fnval, bvals, sim, t, scr1):
    """Everything that follows time at time t: T, the T functions, the external potentials
    and the boundary states.  Returns (status, T): status 0, STATUS_T_RANGE, or the
    status of a fixed boundary composition's equilibrium (1000 + side)."""
    T = temperature_at(sim, t)
    if eval_tfuncs(T, p.t_breaks, p.basis_pow, p.basis_log, p.basis_exp, p.fn_coef, bvals, fnval) != 0:
        return STATUS_T_RANGE, T
    n = sim.subst.shape[0]
    N = sim.PHI.shape[0]
    for i in range(N):
        for k in range(n):
            sim.PHI[i, k] = 0.0
    for s in range(2):
        for k in range(n):
            sim.PHIB[s, k] = 0.0
    for e in range(sim.phi_species.shape[0]):
        f = table_at(sim.phi_tt, sim.phi_tv, sim.phi_ptr[e], sim.phi_ptr[e + 1], t)
        k = sim.phi_species[e]
        for i in range(N):
            sim.PHI[i, k] += f * sim.phi_node[e, i]
        for s in range(2):
            sim.PHIB[s, k] += f * sim.phi_bnd[e, s]
    RT = R * T
    U1, Y1, MU1, DM1, L1, sc = scr1
    for s in range(2):
        if sim.bc_kind[s, 0] == BC_COMPOSITION:
            tot = 0.0
            for k in range(1, n):
                r = s * n + k
                U1[0, k] = table_at(sim.bc_tt, sim.bc_tv, sim.bc_ptr[r], sim.bc_ptr[r + 1], t)
                tot += U1[0, k]
            U1[0, 0] = 1.0 - tot
            ss = 0.0
            for k in range(n):
                ss += sim.subst[k] * U1[0, k]
            for k in range(n):
                U1[0, k] /= ss
            for k in range(Y1.shape[1]):
                Y1[0, k] = sim.bc_Y[s, k]
            st, _ = eval_nodes(p, fnval, T, sim, U1, Y1, sim.bc_warm[s] == 1, MU1, DM1, L1, sc)
            if st != STATUS_OK:
                return 1000 + s, T
            sim.bc_warm[s] = 1
            for k in range(Y1.shape[1]):
                sim.bc_Y[s, k] = Y1[0, k]
            for k in range(n):
                sim.bc_mu[s, k] = MU1[0, k]
                sim.bc_L[s, k] = L1[0, k]
                sim.bc_u[s, k] = U1[0, k]
            continue
        for k in range(n):
            kind = sim.bc_kind[s, k]
            r = s * n + k
            if kind == BC_FLUX:
                sim.bc_val[s, k] = table_at(sim.bc_tt, sim.bc_tv, sim.bc_ptr[r], sim.bc_ptr[r + 1], t)
            elif kind == BC_POTENTIAL:
                sim.bc_mu[s, k] = table_at(sim.bc_tt, sim.bc_tv, sim.bc_ptr[r], sim.bc_ptr[r + 1], t)
            elif kind == BC_ACTIVITY:
                a = table_at(sim.bc_tt, sim.bc_tv, sim.bc_ptr[r], sim.bc_ptr[r + 1], t)
                g = table_at(sim.ref_T, sim.ref_G, sim.ref_ptr[r], sim.ref_ptr[r + 1], T)
                sim.bc_mu[s, k] = g + RT * math.log(a)
    return STATUS_OK, T


@jit
def step_scratch(p, n):
    """One-node work arrays of prepare_step."""
    return (np.zeros((1, n)), np.zeros((1, p.n_y)), np.zeros((1, n)), np.zeros((1, n, max(n - 1, 1))),
            np.zeros((1, n)), node_scratch(p, 1))


@jit(**INNER)
def _potential_face(sim, L, MU, i, k, s, T):
    """Fixed-potential/activity flux of component k at the boundary face of side s
    (positive along +z) and d(flux)/d(ln-ish) factors: returns (J, e, A) with
    J = sgn A (1 - e), A = RT L / d, e = exp(-(M_node - M_b)/RT)."""
    RT = R * T
    d = sim.bc_dist[s]
    delta = (MU[i, k] + sim.PHI[i, k]) - (sim.bc_mu[s, k] + sim.PHIB[s, k])
    x = -delta / RT
    if x > 600.0:
        x = 600.0
    e = math.exp(x)
    A = RT * L[i, k] / d
    sgn = -1.0 if s == 0 else 1.0
    return sgn * A * (1.0 - e), e, A


@jit
def face_fluxes(sim, U, MU, L, Jp, J, T):
    """Lattice-fixed J' and volume-fixed J at the N+1 faces (boundary faces per BC)."""
    N = U.shape[0]
    n = U.shape[1]
    PHI = sim.PHI
    for f in range(N + 1):
        for k in range(n):
            Jp[f, k] = 0.0
            J[f, k] = 0.0
    for f in range(1, N):
        i = f - 1
        dz = sim.dz[i]
        s = 0.0
        for k in range(n):
            lf = 0.5 * (L[i, k] + L[i + 1, k])
            v = -lf * ((MU[i + 1, k] + PHI[i + 1, k]) - (MU[i, k] + PHI[i, k])) / dz
            if sim.cross_form != 0:
                for b in range(n):
                    if b != k:
                        lc = 0.5 * (cross_coef(sim, L, i, k, b) + cross_coef(sim, L, i + 1, k, b))
                        v -= lc * ((MU[i + 1, b] + PHI[i + 1, b]) - (MU[i, b] + PHI[i, b])) / dz
            Jp[f, k] = v
            s += sim.subst[k] * v
        for k in range(n):
            J[f, k] = Jp[f, k] - 0.5 * (U[i, k] + U[i + 1, k]) * s
    for side in range(2):
        f = 0 if side == 0 else N
        i = 0 if side == 0 else N - 1
        if sim.bc_kind[side, 0] == BC_COMPOSITION:
            sgn = 1.0 if side == 0 else -1.0  # gradient direction: (M_node - M_b) / d * sgn
            d = sim.bc_dist[side]
            s = 0.0
            for k in range(n):
                lf = 0.5 * (L[i, k] + sim.bc_L[side, k])
                v = -lf * sgn * ((MU[i, k] + PHI[i, k]) - (sim.bc_mu[side, k] + sim.PHIB[side, k])) / d
                if sim.cross_form != 0:
                    for b in range(n):
                        if b != k:
                            lb = sim.cross[k, b]
                            if sim.cross_form == 2:
                                lb *= math.sqrt(sim.bc_L[side, k] * sim.bc_L[side, b])
                            lc = 0.5 * (cross_coef(sim, L, i, k, b) + lb)
                            v -= lc * sgn * ((MU[i, b] + PHI[i, b]) - (sim.bc_mu[side, b] + sim.PHIB[side, b])) / d
                Jp[f, k] = v
                s += sim.subst[k] * v
            for k in range(n):
                J[f, k] = Jp[f, k] - 0.5 * (U[i, k] + sim.bc_u[side, k]) * s
            continue
        s = 0.0
        for k in range(1, n):
            kind = sim.bc_kind[side, k]
            v = 0.0
            if kind == BC_FLUX:
                v = sim.bc_val[side, k] if side == 0 else -sim.bc_val[side, k]
            elif kind == BC_POTENTIAL or kind == BC_ACTIVITY:
                v, _, _ = _potential_face(sim, L, MU, i, k, side, T)
            J[f, k] = v
            Jp[f, k] = v
            s += sim.subst[k] * v
        J[f, 0] = -s
        Jp[f, 0] = -s


@jit
def rates(sim, J, F):
    """du_k/dt at every node for the independent components: -V_s div J."""
    N = F.shape[0]
    m = F.shape[1]
    for i in range(N):
        for k in range(m):
            F[i, k] = -sim.Vs * (sim.area[i + 1] * J[i + 1, k + 1] - sim.area[i] * J[i, k + 1]) / sim.volume[i]
