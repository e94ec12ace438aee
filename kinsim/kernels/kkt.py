"""Per-node single-phase equilibrium and thermodynamic factors (numba).

For one mole of atoms of composition x, the phase takes n formula units with site
fractions y.  With G(y) the Gibbs energy per formula unit and N_A(y) the moles of A per
formula unit (linear in y), the Lagrangian (Larsson & Jansson, Calphad 51 (2015) 220)

    L = n G(y) - sum_A mu_A (n N_A(y) - x_A) - sum_s lambda_s (sum_{i in s} y_i - 1)

is stationary at equilibrium; the multipliers mu_A are the chemical potentials.
Differentiating the stationarity conditions with respect to x_B, with every x_A
independent, gives the sensitivity system  Hess(L) dtheta/dx_B = -e_{mu_B}, whose mu rows
are ``partial_dmu_dx`` (n x n, symmetric, P @ x = 0).  ``dmu_dx`` follows seed 004 with
the reference (dependent) component first:
dmu_dx[i-1, j-1] = (P[i, j] - P[i, 0]) - (P[0, j] - P[0, 0]),  i, j >= 1.

Site fractions: where y follows from x (no internal degrees of freedom) it is one
linear solve.  Otherwise GM is minimised over the affine set {C y = d} (site sums and
mass balance are linear in y) by a damped Newton method in the null space of C, with a
modified Hessian (absolute eigenvalues) and a negative-curvature step, so that
stationary points that are not minima (the disordered state of an ordering phase) are
left; the start is the previous solution (warm start) projected onto the new
constraints, or the maximum-entropy point of the constraint set.
"""

from __future__ import annotations

import math

import numpy as np

from .._jit import jit
from ..thermo.params import (STATUS_BAD_COMPOSITION, STATUS_NAN, STATUS_NOT_CONVERGED, STATUS_OK,
                             STATUS_OUTSIDE_PHASE, STATUS_SINGULAR, STATUS_T_RANGE)
from .gibbs import R, eval_tfuncs, gibbs_workspace, gm_eval
from .linalg import lu_factor, lu_solve

MAX_NEWTON = 200


@jit
def kkt_workspace(p):
    K = p.n_y
    n = p.n_comp
    S = p.n_sub
    m = S + n - 1
    D = K + 1 + n + S
    return (
        np.zeros(K), np.zeros((K, K)),  # gy, Hy (GM level)
        np.zeros(K), np.zeros((K, K)),  # gf, Hf (formula unit)
        np.zeros((m, K)), np.zeros(m),  # C, d
        np.zeros((max(K, D), max(K, D))), np.zeros(max(K, D)), np.zeros(max(K, D), dtype=np.int64),  # A, b, piv
        np.zeros((K + 1, n + S)), np.zeros(K + 1),  # least squares
        np.zeros(K), np.zeros(K),  # ytrial, dy
    )


@jit
def _constraints(p, x, C, d):
    K = p.n_y
    S = p.n_sub
    n = p.n_comp
    N0 = 0.0
    for a in range(n):
        N0 += p.n_const[a]
    for r in range(S + n - 1):
        d[r] = 0.0
        for k in range(K):
            C[r, k] = 0.0
    for k in range(K):
        C[p.y_sub[k], k] = 1.0
    for s in range(S):
        d[s] = 1.0
    for a in range(1, n):
        r = S + a - 1
        for k in range(K):
            b = p.y_ratio[k] if p.y_comp[k] >= 0 else 0.0
            e = p.y_ratio[k] if p.y_comp[k] == a else 0.0
            C[r, k] = e - x[a] * b
        d[r] = x[a] * N0 - p.n_const[a]


@jit
def _direct_y(p, C, d, y, A, b, piv):
    K = p.n_y
    for i in range(K):
        b[i] = d[i]
        for j in range(K):
            A[i, j] = C[i, j]
    if lu_factor(A, K, piv) != 0:
        return STATUS_OUTSIDE_PHASE
    lu_solve(A, K, piv, b)
    for i in range(K):
        if not (b[i] > 0.0 and b[i] <= 1.0 + 1e-12):
            return STATUS_OUTSIDE_PHASE
        y[i] = b[i]
    return STATUS_OK


@jit
def _max_entropy_point(p, C, d, y):
    """A strictly positive point of {C y = d}: infeasible-start Newton on sum y ln y."""
    K = p.n_y
    m = C.shape[0]
    # uniform start per sublattice
    cnt = np.zeros(p.n_sub)
    for k in range(K):
        cnt[p.y_sub[k]] += 1.0
    for k in range(K):
        y[k] = 1.0 / cnt[p.y_sub[k]]
    nu = np.zeros(m)
    D = K + m
    M = np.zeros((D, D))
    rhs = np.zeros(D)
    piv = np.zeros(D, dtype=np.int64)
    yn = np.zeros(K)
    nun = np.zeros(m)

    def_res = 0.0
    for it in range(200):
        # residual norm
        res = 0.0
        for k in range(K):
            rd = 1.0 + math.log(y[k])
            for r in range(m):
                rd += C[r, k] * nu[r]
            res += rd * rd
        for r in range(m):
            rp = -d[r]
            for k in range(K):
                rp += C[r, k] * y[k]
            res += rp * rp
        res = math.sqrt(res)
        if res < 1e-12:
            return STATUS_OK
        for i in range(D):
            rhs[i] = 0.0
            for j in range(D):
                M[i, j] = 0.0
        for k in range(K):
            M[k, k] = 1.0 / y[k]
            rd = 1.0 + math.log(y[k])
            for r in range(m):
                M[k, K + r] = C[r, k]
                M[K + r, k] = C[r, k]
                rd += C[r, k] * nu[r]
            rhs[k] = -rd
        for r in range(m):
            rp = -d[r]
            for k in range(K):
                rp += C[r, k] * y[k]
            rhs[K + r] = -rp
        if lu_factor(M, D, piv) != 0:
            return STATUS_OUTSIDE_PHASE
        lu_solve(M, D, piv, rhs)
        t = 1.0
        for _ in range(60):
            ok = True
            for k in range(K):
                yn[k] = y[k] + t * rhs[k]
                if not yn[k] > 0.0:
                    ok = False
            if ok:
                for r in range(m):
                    nun[r] = nu[r] + t * rhs[K + r]
                rn = 0.0
                for k in range(K):
                    rd = 1.0 + math.log(yn[k])
                    for r in range(m):
                        rd += C[r, k] * nun[r]
                    rn += rd * rd
                for r in range(m):
                    rp = -d[r]
                    for k in range(K):
                        rp += C[r, k] * yn[k]
                    rn += rp * rp
                if math.sqrt(rn) <= (1.0 - 0.01 * t) * res:
                    break
            t *= 0.5
        else:
            return STATUS_OUTSIDE_PHASE
        for k in range(K):
            y[k] = yn[k]
        for r in range(m):
            nu[r] = nun[r]
    return STATUS_OUTSIDE_PHASE


@jit
def _newton_y(p, fnval, T, C, d, y, warm, kws, gws):
    """Minimise GM over {C y = d, y > 0}; y holds the warm start (if warm) and the result."""
    K = p.n_y
    gy, Hy = kws[0], kws[1]
    ytr, dy = kws[11], kws[12]
    U, sv, Vt = np.linalg.svd(C)
    m = C.shape[0]
    smax = sv[0] if sv.shape[0] > 0 else 1.0
    r = 0
    for i in range(sv.shape[0]):
        if sv[i] > 1e-12 * smax:
            r += 1
    q = K - r
    Z = np.ascontiguousarray(Vt[r:, :].T)  # K x q
    st = STATUS_OUTSIDE_PHASE
    if warm:
        # project the previous solution onto the new constraints (min-norm correction)
        res = C @ y - d
        corr = np.zeros(K)
        for i in range(r):
            ui = 0.0
            for j in range(m):
                ui += U[j, i] * res[j]
            ui /= sv[i]
            for k in range(K):
                corr[k] += Vt[i, k] * ui
        ok = True
        for k in range(K):
            ytr[k] = y[k] - corr[k]
            if not ytr[k] > 1e-14:
                ok = False
        if ok:
            for k in range(K):
                y[k] = ytr[k]
            st = STATUS_OK
    if st != STATUS_OK:
        st = _max_entropy_point(p, C, d, y)
        if st != STATUS_OK:
            return st
    if q == 0:
        return STATUS_OK
    RT = R * T
    F = gm_eval(p, fnval, T, y, 2, gy, Hy, gws)
    if not np.isfinite(F):
        return STATUS_NAN
    for it in range(MAX_NEWTON):
        gr = Z.T @ gy
        Hr = Z.T @ Hy @ Z
        w, V = np.linalg.eigh(Hr)
        delta = 1e-10 * RT
        wmin = w[0]
        # modified Newton step
        dw = np.zeros(q)
        dec = 0.0
        for i in range(q):
            c = 0.0
            for j in range(q):
                c += V[j, i] * gr[j]
            lam = abs(w[i])
            if lam < delta:
                lam = delta
            dec += c * c / lam
            for j in range(q):
                dw[j] -= V[j, i] * c / lam
        stationary = dec < 1e-20 * RT
        if stationary:
            if wmin > -1e-8 * RT:
                return STATUS_OK
            # saddle: step along the direction of most negative curvature
            for j in range(q):
                dw[j] = V[j, 0]
            slope = 0.0
            for j in range(q):
                slope += dw[j] * gr[j]
            if slope > 0.0:
                for j in range(q):
                    dw[j] = -dw[j]
        for k in range(K):
            s = 0.0
            for j in range(q):
                s += Z[k, j] * dw[j]
            dy[k] = s
        if stationary:
            # scale the curvature step to a sizeable change of the site fractions
            big = 0.0
            for k in range(K):
                if abs(dy[k]) > big:
                    big = abs(dy[k])
            for k in range(K):
                dy[k] *= 0.25 / big
        amax = 1.0
        for k in range(K):
            if dy[k] < 0.0:
                a = 0.99 * y[k] / (-dy[k])
                if a < amax:
                    amax = a
        slope = 0.0
        for k in range(K):
            slope += gy[k] * dy[k]
        alpha = amax
        accepted = False
        for _ in range(60):
            for k in range(K):
                ytr[k] = y[k] + alpha * dy[k]
            Ft = gm_eval(p, fnval, T, ytr, 0, gy, Hy, gws)
            if np.isfinite(Ft) and (Ft <= F + 1e-4 * alpha * slope or (stationary and Ft < F)):
                accepted = True
                break
            alpha *= 0.5
        step = 0.0
        for k in range(K):
            if abs(alpha * dy[k]) > step:
                step = abs(alpha * dy[k])
        if not accepted:
            # no decrease possible at machine precision: converged if stationary enough
            F = gm_eval(p, fnval, T, y, 2, gy, Hy, gws)
            if dec < 1e-12 * RT and wmin > -1e-8 * RT:
                return STATUS_OK
            return STATUS_NOT_CONVERGED
        for k in range(K):
            y[k] = ytr[k]
        F = gm_eval(p, fnval, T, y, 2, gy, Hy, gws)
        if not np.isfinite(F):
            return STATUS_NAN
        if step < 1e-14 and not stationary:
            return STATUS_OK
    return STATUS_NOT_CONVERGED


@jit
def node_equilibrium(p, fnval, T, x, y, warm, mu, P, dmu, kws, gws):
    """Equilibrium site fractions, chemical potentials and thermodynamic factors at one node.

    Returns (status, GM).  On failure the outputs are NaN, never zeros.
    """
    n = p.n_comp
    K = p.n_y
    S = p.n_sub
    gy, Hy, gf, Hf, C, d, A, b, piv, LS, lsb, ytr, dy = kws
    # composition check
    tot = 0.0
    for a in range(n):
        if not (x[a] > 0.0 and x[a] < 1.0):
            return STATUS_BAD_COMPOSITION, np.nan
        tot += x[a]
    if abs(tot - 1.0) > 1e-9:
        return STATUS_BAD_COMPOSITION, np.nan
    _constraints(p, x, C, d)
    if p.no_internal_dof == 1:
        st = _direct_y(p, C, d, y, A, b, piv)
    else:
        st = _newton_y(p, fnval, T, C, d, y, warm, kws, gws)
    if st != STATUS_OK:
        return st, np.nan
    GM = gm_eval(p, fnval, T, y, 2, gy, Hy, gws)
    if not np.isfinite(GM):
        return STATUS_NAN, np.nan
    # formula-unit quantities: G = GM * Nf
    Nf = 0.0
    for a in range(n):
        Nf += p.n_const[a]
    for k in range(K):
        if p.y_comp[k] >= 0:
            Nf += p.y_ratio[k] * y[k]
    Gf = GM * Nf
    for k in range(K):
        bk = p.y_ratio[k] if p.y_comp[k] >= 0 else 0.0
        gf[k] = gy[k] * Nf + GM * bk
    for k in range(K):
        bk = p.y_ratio[k] if p.y_comp[k] >= 0 else 0.0
        for l in range(K):
            bl = p.y_ratio[l] if p.y_comp[l] >= 0 else 0.0
            Hf[k, l] = Hy[k, l] * Nf + gy[k] * bl + bk * gy[l]
    # chemical potentials and sublattice multipliers from the stationarity conditions:
    #   g_k = sum_A E_Ak mu_A + lambda'_s(k),  G = sum_A N_A mu_A
    nu = n + S
    for i in range(K + 1):
        for j in range(nu):
            LS[i, j] = 0.0
    for k in range(K):
        if p.y_comp[k] >= 0:
            LS[k, p.y_comp[k]] = p.y_ratio[k]
        LS[k, n + p.y_sub[k]] = 1.0
        lsb[k] = gf[k]
    for a in range(n):
        LS[K, a] = p.n_const[a]
    for k in range(K):
        if p.y_comp[k] >= 0:
            LS[K, p.y_comp[k]] += p.y_ratio[k] * y[k]
    lsb[K] = Gf
    # normal equations (square and exact when there is no internal freedom)
    for i in range(nu):
        b[i] = 0.0
        for r in range(K + 1):
            b[i] += LS[r, i] * lsb[r]
        for j in range(nu):
            s = 0.0
            for r in range(K + 1):
                s += LS[r, i] * LS[r, j]
            A[i, j] = s
    if lu_factor(A, nu, piv) != 0:
        return STATUS_SINGULAR, np.nan
    lu_solve(A, nu, piv, b)
    for a in range(n):
        mu[a] = b[a]
    # sensitivity system: Hess(L) with theta = (y, n, mu, lambda)
    nph = 1.0 / Nf
    D = K + 1 + n + S
    for i in range(D):
        for j in range(D):
            A[i, j] = 0.0
    iN = K
    iM = K + 1
    iL = K + 1 + n
    for k in range(K):
        for l in range(K):
            A[k, l] = nph * Hf[k, l]
        c = p.y_comp[k]
        gk = gf[k]
        if c >= 0:
            gk -= p.y_ratio[k] * mu[c]
            A[k, iM + c] = -nph * p.y_ratio[k]
            A[iM + c, k] = -nph * p.y_ratio[k]
        A[k, iN] = gk
        A[iN, k] = gk
        A[k, iL + p.y_sub[k]] = -1.0
        A[iL + p.y_sub[k], k] = -1.0
    for a in range(n):
        Na = LS[K, a]
        A[iN, iM + a] = -Na
        A[iM + a, iN] = -Na
    if lu_factor(A, D, piv) != 0:
        return STATUS_SINGULAR, np.nan
    for bcol in range(n):
        for i in range(D):
            b[i] = 0.0
        b[iM + bcol] = -1.0
        lu_solve(A, D, piv, b)
        for a in range(n):
            P[a, bcol] = b[iM + a]
    for i in range(1, n):
        for j in range(1, n):
            dmu[i - 1, j - 1] = (P[i, j] - P[i, 0]) - (P[0, j] - P[0, 0])
    for a in range(n):
        if not np.isfinite(mu[a]):
            return STATUS_NAN, np.nan
        for bb in range(n):
            if not np.isfinite(P[a, bb]):
                return STATUS_NAN, np.nan
    return STATUS_OK, GM


@jit
def _fill_nan(mu, P, dmu):
    mu[:] = np.nan
    P[:, :] = np.nan
    dmu[:, :] = np.nan


@jit
def equilibrium_batch(p, T, X, Y, warm, MU, PD, DMU, GM, status):
    """Single-phase equilibrium at every node. T[i], X[i, :] (all components), Y[i, :]
    (site fractions, in/out), warm[i] != 0 to start from Y[i]. Status code per node."""
    kws = kkt_workspace(p)
    gws = gibbs_workspace(p)
    fnval = np.empty(p.fn_coef.shape[0])
    bvals = np.empty(p.basis_pow.shape[0])
    last = np.nan
    st_t = 0
    for i in range(X.shape[0]):
        if T[i] != last:
            st_t = eval_tfuncs(T[i], p.t_breaks, p.basis_pow, p.basis_log, p.basis_exp, p.fn_coef, bvals, fnval)
            last = T[i]
        if st_t != 0:
            status[i] = STATUS_T_RANGE
            GM[i] = np.nan
            _fill_nan(MU[i], PD[i], DMU[i])
            continue
        st, g = node_equilibrium(p, fnval, T[i], X[i], Y[i], warm[i] != 0, MU[i], PD[i], DMU[i], kws, gws)
        status[i] = st
        GM[i] = g
        if st != STATUS_OK:
            _fill_nan(MU[i], PD[i], DMU[i])
