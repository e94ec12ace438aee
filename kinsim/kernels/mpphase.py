"""One phase of a phase set (numba): its Gibbs energy per formula unit, the reduced
Newton pieces at fixed chemical potentials, its minimum of G - mu.N and its driving
force.  The building blocks of kinsim.kernels.multiphase and kinsim.kernels.hull.

Conventions: phase a of a ``PhaseSetParams`` ps has n_y[a] site fractions y, grouped in
n_sub[a] free sublattices; G(y) (J per formula unit) = GM(y) N(y), with GM from
``gm_core`` (J per mole of atoms) and N(y) = sum_A N_A(y) the atoms per formula unit,
N_A = n_const[a, A] + sum_{k holds A} y_ratio[a, k] y_k.  Reduced coordinates keep the
site sums: on each sublattice the largest site fraction is the dependent one, and the
columns of Z are e_k - e_dep for the others.

Per-node rules of kinsim.kernels.gibbs: no allocation, no reference counting, inlined
(``INNER``) unless a function is large and called from several places (compiled once,
``_nrt=False``: numba compiles each inlined copy again); ``gm_core`` is compiled once,
in ``_gm_plain``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._jit import jit
from .codes import STATUS_NAN, STATUS_OK, STATUS_PHASE_SET, STATUS_SINGULAR
from .gibbs import R, eval_tfuncs, gm_core, mono_coefs

MAX_MIN = 60  # Newton iterations of one phase's minimisation
MAX_DINKELBACH = 30  # shifts of the driving-force iteration
TOL_DEC = 1e-12  # a minimisation has converged when the Newton decrement is below TOL_DEC * RT
# (the round-off floor of G - mu.N is about 1e-15 RT; y is then within ~1e-6 of the minimiser)

_u = np.uint64


class Workspace(NamedTuple):
    """Scratch of the multiphase kernels (``mp_workspace``): K = largest n_y, n
    components, SM = n composition sets at most (the phase rule), D = n + SM."""

    gy: np.ndarray  # (K,) per-atom gradient and (K, K) Hessian from gm_core
    Hy: np.ndarray
    gf: np.ndarray  # (K,) per-formula-unit gradient and (K, K) Hessian
    Hf: np.ndarray
    Nv: np.ndarray  # (n,) moles of each component per formula unit
    z: np.ndarray  # gm_core scratch
    pg: np.ndarray
    pH: np.ndarray
    fw: np.ndarray
    rk: np.ndarray  # (K,) g - E^T mu
    fidx: np.ndarray  # (K,) reduced coordinate i moves y[fidx[i]] up and y[didx[i]] down
    didx: np.ndarray
    Hr: np.ndarray  # (K, K) reduced Hessian and its factor (Cholesky or LU)
    Lc: np.ndarray
    rr: np.ndarray  # (K,) reduced residual
    pivq: np.ndarray  # (K,) pivots of the LU of Hr
    uq: np.ndarray  # (K,) Hr^-1 rr
    ZE: np.ndarray  # (K, n) Z^T E^T, then Hr^-1 Z^T E^T
    ydir: np.ndarray  # (K,) search direction of a minimisation
    ytr: np.ndarray  # (K,) trial site fractions
    yfar: np.ndarray  # (K,) site fractions of a set moved across a miscibility gap
    set_v: np.ndarray  # (SM, K) per set: v, (SM, K, n) W, (SM, n) E v, (SM, n, n) E W, (SM,) r.v
    set_W: np.ndarray
    set_Ev: np.ndarray
    set_EW: np.ndarray
    set_rv: np.ndarray
    A: np.ndarray  # (D, D) Newton matrix (LU), right-hand side, pivots, (D, n) sensitivity columns
    rhs: np.ndarray
    piv: np.ndarray
    Bc: np.ndarray
    dy: np.ndarray  # (SM, K) per set: site-fraction step
    wsum: np.ndarray  # (SM,) per set: weight in the global start
    Mb: np.ndarray  # (n, n) small system (barycentric coordinates), its right-hand side and pivots
    wb: np.ndarray
    pivn: np.ndarray
    xb: np.ndarray  # (n,) a composition
    mcs: np.ndarray  # (NP, M) monomial coefficients of every phase at T
    mqc: np.ndarray  # (NP, Mq) mobility monomial coefficients of every phase at T
    fnval: np.ndarray
    bvals: np.ndarray


@jit
def mp_workspace(ps):
    """A ``Workspace`` sized for the phase set ``ps``."""
    NP = ps.n_y.shape[0]
    n = ps.n_comp
    K = ps.y_comp.shape[1]
    Z = 1
    nb = 1
    nf = 1
    M = 1
    F = 1
    B = 1
    Mq = 1
    for a in range(NP):
        Mq = max(Mq, ps.mq_off[a + 1] - ps.mq_off[a])
        Z = max(Z, ps.z_off[a + 1] - ps.z_off[a])
        bz = ps.blk_z_ptr[ps.bz_off[a] : ps.bz_off[a + 1]]
        for b in range(bz.shape[0] - 1):
            nb = max(nb, bz[b + 1] - bz[b])
        mp = ps.mono_fac_ptr[ps.mp_off[a] : ps.mp_off[a + 1]]
        for m in range(mp.shape[0] - 1):
            nf = max(nf, mp[m + 1] - mp[m])
        M = max(M, ps.mo_off[a + 1] - ps.mo_off[a])
        F = max(F, ps.fn_off[a + 1] - ps.fn_off[a])
        B = max(B, ps.bs_off[a + 1] - ps.bs_off[a])
    SM = n
    D = n + SM
    return Workspace(
        np.zeros(K),
        np.zeros((K, K)),
        np.zeros(K),
        np.zeros((K, K)),
        np.zeros(n),
        np.zeros(Z),
        np.zeros((3, nb)),
        np.zeros((3, nb, nb)),
        np.zeros((3, nf)),
        np.zeros(K),
        np.zeros(K, np.int64),
        np.zeros(K, np.int64),
        np.zeros((K, K)),
        np.zeros((K, K)),
        np.zeros(K),
        np.zeros(K, np.int64),
        np.zeros(K),
        np.zeros((K, n)),
        np.zeros(K),
        np.zeros(K),
        np.zeros(K),
        np.zeros((SM, K)),
        np.zeros((SM, K, n)),
        np.zeros((SM, n)),
        np.zeros((SM, n, n)),
        np.zeros(SM),
        np.zeros((D, D)),
        np.zeros(D),
        np.zeros(D, np.int64),
        np.zeros((D, n)),
        np.zeros((SM, K)),
        np.zeros(SM),
        np.zeros((n, n)),
        np.zeros(n),
        np.zeros(n, np.int64),
        np.zeros(n),
        np.zeros((NP, M)),
        np.zeros((NP, Mq)),
        np.zeros(F),
        np.zeros(B),
    )


@jit(forceinline=True)
def mp_coefs(ps, T, ws):
    """Monomial coefficients of every phase at T into ws.mcs (Gibbs energy) and ws.mqc
    (mobilities).  Returns 0, or 1 if T is outside the range of some phase's parameters."""
    bad = 0
    for a in range(ps.n_y.shape[0]):
        b0 = ps.bs_off[a]
        b1 = ps.bs_off[a + 1]
        f0 = ps.fn_off[a]
        f1 = ps.fn_off[a + 1]
        m0 = ps.mo_off[a]
        m1 = ps.mo_off[a + 1]
        fv = ws.fnval[: f1 - f0]
        if (
            eval_tfuncs(
                T,
                ps.t_breaks[ps.tb_off[a] : ps.tb_off[a + 1]],
                ps.basis_pow[b0:b1],
                ps.basis_log[b0:b1],
                ps.basis_exp[b0:b1],
                ps.fn_coef[f0:f1],
                ws.bvals,
                fv,
            )
            != 0
        ):
            bad = 1
        mono_coefs(fv, ps.mono_fn[m0:m1], ps.mono_scale[m0:m1], ws.mcs[a])
        q0 = ps.mq_off[a]
        q1 = ps.mq_off[a + 1]
        mono_coefs(fv, ps.mq_fn[q0:q1], ps.mq_scale[q0:q1], ws.mqc[a])
    return bad


@jit(_nrt=False)
def _gm_plain(
    mc,
    T,
    y,
    order,
    gy,
    Hy,
    z,
    pg,
    pH,
    fw,
    blk_sign,
    blk_z_ptr,
    blk_kind_ptr,
    blk_idmix,
    blk_mag,
    blk_afm,
    blk_p,
    z_M,
    z_c,
    z_ratio,
    z_natoms,
    mono_fac_ptr,
    fac_var,
    fac_exp,
):
    """``gm_core`` compiled once for the multiphase kernels (not inlined: its many call
    sites share one copy)."""
    return gm_core(
        mc,
        T,
        y,
        order,
        gy,
        Hy,
        z,
        pg,
        pH,
        fw,
        blk_sign,
        blk_z_ptr,
        blk_kind_ptr,
        blk_idmix,
        blk_mag,
        blk_afm,
        blk_p,
        z_M,
        z_c,
        z_ratio,
        z_natoms,
        mono_fac_ptr,
        fac_var,
        fac_exp,
    )


@jit(forceinline=True)
def phase_eval(ps, a, T, y, order, ws):
    """G of phase a per formula unit at site fractions y (length n_y[a]); for order 1 and
    2 its gradient and Hessian in y into ws.gf, ws.Hf; the moles of each component per
    formula unit into ws.Nv.  NaN if anything is not finite."""
    b0 = ps.bk_off[a]
    b1 = ps.bk_off[a + 1]
    z0 = ps.z_off[a]
    z1 = ps.z_off[a + 1]
    f0 = ps.fc_off[a]
    f1 = ps.fc_off[a + 1]
    GM = _gm_plain(
        ws.mcs[a],
        T,
        y,
        order,
        ws.gy,
        ws.Hy,
        ws.z,
        ws.pg,
        ws.pH,
        ws.fw,
        ps.blk_sign[b0:b1],
        ps.blk_z_ptr[ps.bz_off[a] : ps.bz_off[a + 1]],
        ps.blk_kind_ptr[b0:b1],
        ps.blk_idmix[b0:b1],
        ps.blk_mag[b0:b1],
        ps.blk_afm[b0:b1],
        ps.blk_p[b0:b1],
        ps.z_M[z0:z1],
        ps.z_c[z0:z1],
        ps.z_ratio[z0:z1],
        ps.z_natoms[z0:z1],
        ps.mono_fac_ptr[ps.mp_off[a] : ps.mp_off[a + 1]],
        ps.fac_var[f0:f1],
        ps.fac_exp[f0:f1],
    )
    K = y.shape[0]
    Nt = phase_moles(ps, a, y, ws.Nv)
    G = GM * Nt
    if not np.isfinite(G):
        return np.nan
    if order >= 1:
        for k in range(K):
            bk = ps.y_ratio[a, k] if ps.y_comp[a, k] >= 0 else 0.0
            ws.gf[k] = ws.gy[k] * Nt + GM * bk
            if not np.isfinite(ws.gf[k]):
                return np.nan
    if order >= 2:
        for k in range(K):
            bk = ps.y_ratio[a, k] if ps.y_comp[a, k] >= 0 else 0.0
            for m in range(K):
                bm = ps.y_ratio[a, m] if ps.y_comp[a, m] >= 0 else 0.0
                h = ws.Hy[k, m] * Nt + ws.gy[k] * bm + bk * ws.gy[m]
                if not np.isfinite(h):
                    return np.nan
                ws.Hf[k, m] = h
    return G


@jit(forceinline=True)
def phase_moles(ps, a, y, N):
    """Moles of each component per formula unit of phase a at y into N; returns the
    atoms per formula unit."""
    for c in range(ps.n_comp):
        N[c] = ps.n_const[a, c]
    for k in range(y.shape[0]):
        c = ps.y_comp[a, k]
        if c >= 0:
            N[_u(c)] += ps.y_ratio[a, k] * y[k]
    Nt = 0.0
    for c in range(ps.n_comp):
        Nt += N[c]
    return Nt


@jit(forceinline=True)
def reduce_phase(ps, a, y, mu, shift, ws):
    """Reduced residual and Hessian of G - (mu + shift).N at y, from ws.gf and ws.Hf: the
    coordinate pairs into ws.fidx/ws.didx, Z^T (g - E^T (mu + shift)) into ws.rr, Hr into
    ws.Hr and Z^T E^T into ws.ZE.  Returns q, the number of reduced coordinates."""
    n = ps.n_comp
    K = y.shape[0]
    q = 0
    for s in range(ps.n_sub[a]):
        p0 = ps.sub_ptr[a, s]
        p1 = ps.sub_ptr[a, s + 1]
        dep = p0
        for k in range(p0 + 1, p1):
            if y[k] > y[dep]:
                dep = k
        for k in range(p0, p1):
            if k != dep:
                ws.fidx[q] = k
                ws.didx[q] = dep
                q += 1
    for k in range(K):
        c = ps.y_comp[a, k]
        r = ws.gf[k]
        if c >= 0:
            r -= ps.y_ratio[a, k] * (mu[_u(c)] + shift)
        ws.rk[k] = r
    for i in range(q):
        fi = _u(ws.fidx[i])
        di = _u(ws.didx[i])
        ws.rr[i] = ws.rk[fi] - ws.rk[di]
        for j in range(q):
            fj = _u(ws.fidx[j])
            dj = _u(ws.didx[j])
            ws.Hr[i, j] = ws.Hf[fi, fj] - ws.Hf[fi, dj] - ws.Hf[di, fj] + ws.Hf[di, dj]
        for c in range(n):
            e = 0.0
            if ps.y_comp[a, fi] == c:
                e += ps.y_ratio[a, fi]
            if ps.y_comp[a, di] == c:
                e -= ps.y_ratio[a, di]
            ws.ZE[i, c] = e
    return q


@jit(forceinline=True)
def factor_shifted(q, ws):
    """Cholesky factor of Hr + tau I into ws.Lc, with tau = 0 where Hr is positive
    definite (a descent direction elsewhere).  Returns tau, or -1 if none was found."""
    dmax = 0.0
    for i in range(q):
        dmax = max(dmax, abs(ws.Hr[i, i]))
    tau = 0.0
    for _ in range(40):
        if _cholesky(ws.Hr, ws.Lc, q, tau):
            return tau
        tau = 1e-10 * dmax if tau == 0.0 else 10.0 * tau
    return -1.0


@jit(forceinline=True)
def _cholesky(H, L, q, tau):
    """L L^T = H[:q, :q] + tau I; False if that is not safely positive definite."""
    for i in range(q):
        for j in range(i + 1):
            s = H[i, j]
            if i == j:
                s += tau
            for k in range(j):
                s -= L[i, k] * L[j, k]
            if i == j:
                if not s > 1e-13 * (abs(H[i, i]) + tau):
                    return False
                L[i, i] = np.sqrt(s)
            else:
                L[i, j] = s / L[j, j]
    return True


@jit(forceinline=True)
def chol_solve_vec(L, q, b):
    """Solve (L L^T) x = b[:q] in place."""
    for i in range(q):
        s = b[i]
        for k in range(i):
            s -= L[i, k] * b[k]
        b[i] = s / L[i, i]
    for i in range(q - 1, -1, -1):
        s = b[i]
        for k in range(i + 1, q):
            s -= L[k, i] * b[k]
        b[i] = s / L[i, i]


@jit(forceinline=True)
def minimize_phase(ps, T, a, mu, shift, y, ws):
    """Minimise h(y) = G(y) - (mu + shift).N(y) (J per formula unit) over the site
    fractions of phase a, from y (overwritten by the minimiser): Newton in the reduced
    coordinates, with a shifted Cholesky factor where the Hessian is not positive
    definite, the fraction-to-the-boundary rule and an Armijo line search.  It stops at
    a stationary point (a saddle only when started on one, e.g. exactly disordered: the
    audit against the samples then finds the lower state).
    Returns (h, status); ws.Nv holds N at the minimiser."""
    RT = R * T
    n = ps.n_comp
    K = y.shape[0]
    G = phase_eval(ps, a, T, y, 2, ws)
    if not np.isfinite(G):
        return np.nan, STATUS_NAN
    h = G
    for c in range(n):
        h -= (mu[c] + shift) * ws.Nv[c]
    for _ in range(MAX_MIN):
        q = reduce_phase(ps, a, y, mu, shift, ws)
        if factor_shifted(q, ws) < 0.0:
            return np.nan, STATUS_SINGULAR
        for i in range(q):
            ws.uq[i] = ws.rr[i]
        chol_solve_vec(ws.Lc, q, ws.uq)
        dec = 0.0
        for i in range(q):
            dec += ws.rr[i] * ws.uq[i]
        if dec < TOL_DEC * RT:
            return h, STATUS_OK
        for k in range(K):
            ws.ydir[k] = 0.0
        for i in range(q):
            ws.ydir[_u(ws.fidx[i])] -= ws.uq[i]
            ws.ydir[_u(ws.didx[i])] += ws.uq[i]
        alpha = 1.0
        for k in range(K):
            if ws.ydir[k] < 0.0:
                t = 0.99 * y[k] / (-ws.ydir[k])
                if t < alpha:
                    alpha = t
        ok = False
        for _ in range(50):
            for k in range(K):
                ws.ytr[k] = y[k] + alpha * ws.ydir[k]
            ht = phase_eval(ps, a, T, ws.ytr[:K], 0, ws)
            for c in range(n):
                ht -= (mu[c] + shift) * ws.Nv[c]
            if np.isfinite(ht) and ht <= h - 1e-4 * alpha * dec:
                ok = True
                break
            alpha *= 0.5
        if not ok:
            # no decrease at machine precision: a minimum if the decrement is small
            phase_eval(ps, a, T, y, 0, ws)
            if dec < 1e-9 * RT:
                return h, STATUS_OK
            return h, STATUS_PHASE_SET
        for k in range(K):
            y[k] = ws.ytr[k]
        G = phase_eval(ps, a, T, y, 2, ws)
        if not np.isfinite(G):
            return np.nan, STATUS_NAN
        h = G
        for c in range(n):
            h -= (mu[c] + shift) * ws.Nv[c]
    return h, STATUS_PHASE_SET


@jit(_nrt=False)
def driving_force(ps, T, a, mu, y, ws):
    """Driving force of phase a at the potentials mu, J per mole of atoms (> 0: the phase
    would lower the Gibbs energy of the system): -d, with d the uniform shift of all
    potentials at which min_y G - (mu + d).N is zero, i.e. the largest
    (mu.N - G) / N_atoms over the phase's site fractions (Dinkelbach's iteration, from
    y; y is overwritten by the maximiser).  Returns (DF, status)."""
    RT = R * T
    shift = 0.0
    for _ in range(MAX_DINKELBACH):
        h, st = minimize_phase(ps, T, a, mu, shift, y, ws)
        if st != STATUS_OK:
            return np.nan, st
        Nt = 0.0
        for c in range(ps.n_comp):
            Nt += ws.Nv[c]
        step = h / Nt
        shift += step
        if ps.fixed_atoms[a] == 1 or abs(step) < 1e-12 * RT:
            return -shift, STATUS_OK
    return np.nan, STATUS_PHASE_SET
