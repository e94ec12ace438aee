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
from .codes import (
    STATUS_BAD_COMPOSITION,
    STATUS_NAN,
    STATUS_NEEDS_MINIMISE,
    STATUS_NOT_CONVERGED,
    STATUS_OK,
    STATUS_OUTSIDE_PHASE,
    STATUS_SINGULAR,
    STATUS_T_RANGE,
)
from .gibbs import R, eval_tfuncs, gibbs_workspace, gm_core, gm_eval, mono_coefs
from .linalg import lu_factor, lu_solve, lu_solve_cols, lu_solve_t_cols

MAX_NEWTON = 200
MINIMISE = True  # the ``minimise`` argument of equilibrium_batch for a phase with internal degrees of freedom

# indices read from the parameter tables are cast to unsigned (rules for per-node kernels:
# kinsim.kernels.gibbs)
_u = np.uint64


@jit(_nrt=False, forceinline=True, no_cpython_wrapper=True)
def _constraints(x, y_sub, y_comp, y_ratio, n_const, S, C, d):
    """Rows of C y = d: the site sums of the S free sublattices, then the mass balance of
    components 1..n-1 (per formula unit, relative to the total atoms)."""
    K = y_sub.shape[0]
    n = n_const.shape[0]
    N0 = 0.0
    for a in range(n):
        N0 += n_const[a]
    for r in range(S + n - 1):
        d[r] = 0.0
        for k in range(K):
            C[r, k] = 0.0
    for k in range(K):
        C[_u(y_sub[k]), k] = 1.0
    for s in range(S):
        d[s] = 1.0
    for a in range(1, n):
        r = S + a - 1
        for k in range(K):
            b = y_ratio[k] if y_comp[k] >= 0 else 0.0
            e = y_ratio[k] if y_comp[k] == a else 0.0
            C[r, k] = e - x[a] * b
        d[r] = x[a] * N0 - n_const[a]


@jit(_nrt=False, forceinline=True, no_cpython_wrapper=True)
def _direct_y(C, d, y, A, b, piv):
    """y from the square system C y = d (no internal degrees of freedom)."""
    K = y.shape[0]
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

    for _it in range(200):
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
def _newton_y(p, fnval, T, C, d, y, warm, gy, Hy, ytr, dy, gws):
    """Minimise GM over {C y = d, y > 0}; y holds the warm start (if warm) and the result.

    Not a per-node leaf (LAPACK, allocation): ``gm_eval`` on p and the workspace tuple is
    fine here."""
    K = p.n_y
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
    for _it in range(MAX_NEWTON):
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


@jit(_nrt=False, forceinline=True, no_cpython_wrapper=True)
def _potentials(
    y, GM, gy, Hy, S, y_sub, y_comp, y_ratio, n_const, gf, Hf, LS, lsb, A, b, piv, W, HW, MU, PD, DMU, i, minimise
):
    """Chemical potentials MU[i] and thermodynamic factors PD[i], DMU[i] at the equilibrium
    site fractions y, from GM and its y-derivatives gy, Hy (a leaf kernel).

    The stationarity conditions g_k = sum_A E_Ak mu_A + lambda_s(k), G = sum_A N_A mu_A
    form the system LS (mu, lambda) = (g, G), with LS of shape (K + 1) x (n + S).  The
    sensitivity system is the KKT matrix

        M = [[Hh, B^T], [B, 0]],  Hh = [[H, g'], [g'^T, 0]]  (rows/columns y, n),
        B = -diag(I_n / Nf, I_S) LS^T diag(I_K, Nf)         (rows mu, lambda),

    with H = Hf / Nf, g'_k = g_k - E_k . mu, and P = partial_dmu_dx solves M theta = -e_mu_B.
    Without internal degrees of freedom LS and B are square and invertible, and
    P = V^T Hh V with V = B^{-1}[:, :n]: one LU of LS gives mu and P.  Otherwise mu comes
    from the normal equations of LS and P from an LU of M.  With minimise None (a phase
    without internal degrees of freedom, ``minimise_flag``) only the square case is
    compiled.
    """
    n = n_const.shape[0]
    K = y.shape[0]
    for k in range(K):
        if not np.isfinite(gy[k]):
            return STATUS_NAN
        for l in range(K):
            if not np.isfinite(Hy[k, l]):
                return STATUS_NAN
    # formula-unit quantities: G = GM * Nf
    Nf = 0.0
    for a in range(n):
        Nf += n_const[a]
    for k in range(K):
        if y_comp[k] >= 0:
            Nf += y_ratio[k] * y[k]
    Gf = GM * Nf
    for k in range(K):
        bk = y_ratio[k] if y_comp[k] >= 0 else 0.0
        gf[k] = gy[k] * Nf + GM * bk
    for k in range(K):
        bk = y_ratio[k] if y_comp[k] >= 0 else 0.0
        for l in range(K):
            bl = y_ratio[l] if y_comp[l] >= 0 else 0.0
            Hf[k, l] = Hy[k, l] * Nf + gy[k] * bl + bk * gy[l]
    nu = n + S
    for r in range(K + 1):
        for j in range(nu):
            LS[r, j] = 0.0
    for k in range(K):
        if y_comp[k] >= 0:
            LS[k, _u(y_comp[k])] = y_ratio[k]
        LS[k, _u(n + y_sub[k])] = 1.0
        lsb[k] = gf[k]
    for a in range(n):
        LS[K, a] = n_const[a]
    for k in range(K):
        if y_comp[k] >= 0:
            LS[K, _u(y_comp[k])] += y_ratio[k] * y[k]
    lsb[K] = Gf
    if minimise is None or K + 1 == nu:
        # square: U = LS^-T [I_n; 0] (U[:, a] = row a of LS^-1), mu_a = U[:, a] . (g, G) and
        # P_ac = Nf (U_a^T Hf U_c + U_K,a (g'.U_c) + U_K,c (g'.U_a)) over the y rows of U
        for r in range(nu):
            for j in range(nu):
                A[r, j] = LS[r, j]
        if lu_factor(A, nu, piv) != 0:
            return STATUS_SINGULAR
        for r in range(nu):
            for c in range(n):
                W[r, c] = 0.0
        for c in range(n):
            W[c, c] = 1.0
        lu_solve_t_cols(A, nu, piv, W, n, b)
        for a in range(n):
            s = 0.0
            for r in range(nu):
                s += W[r, a] * lsb[r]
            MU[i, a] = s
        # g' (into lsb), g'.U_c (into b), Hf U (into HW)
        for k in range(K):
            c = y_comp[k]
            gk = gf[k]
            if c >= 0:
                gk -= y_ratio[k] * MU[i, _u(c)]
            lsb[k] = gk
        for c in range(n):
            s = 0.0
            for k in range(K):
                s += lsb[k] * W[k, c]
            b[c] = s
            for k in range(K):
                t = 0.0
                for l in range(K):
                    t += Hf[k, l] * W[l, c]
                HW[k, c] = t
        for a in range(n):
            for c in range(a, n):
                s = 0.0
                for k in range(K):
                    s += W[k, a] * HW[k, c]
                s = Nf * (s + W[K, a] * b[c] + W[K, c] * b[a])
                PD[i, a, c] = s
                PD[i, c, a] = s
    else:
        # normal equations of the least-squares system for mu
        for r in range(nu):
            b[r] = 0.0
            for q in range(K + 1):
                b[r] += LS[q, r] * lsb[q]
            for j in range(nu):
                s = 0.0
                for q in range(K + 1):
                    s += LS[q, r] * LS[q, j]
                A[r, j] = s
        if lu_factor(A, nu, piv) != 0:
            return STATUS_SINGULAR
        lu_solve(A, nu, piv, b)
        for a in range(n):
            MU[i, a] = b[a]
        # sensitivity system: M with theta = (y, n, mu, lambda)
        nph = 1.0 / Nf
        D = K + 1 + n + S
        for r in range(D):
            for j in range(D):
                A[r, j] = 0.0
        iN = K
        iM = K + 1
        iL = K + 1 + n
        for k in range(K):
            for l in range(K):
                A[k, l] = nph * Hf[k, l]
            c = y_comp[k]
            gk = gf[k]
            if c >= 0:
                gk -= y_ratio[k] * MU[i, _u(c)]
                A[k, _u(iM + c)] = -nph * y_ratio[k]
                A[_u(iM + c), k] = -nph * y_ratio[k]
            A[k, iN] = gk
            A[iN, k] = gk
            A[k, _u(iL + y_sub[k])] = -1.0
            A[_u(iL + y_sub[k]), k] = -1.0
        for a in range(n):
            Na = LS[K, a]
            A[iN, iM + a] = -Na
            A[iM + a, iN] = -Na
        if lu_factor(A, D, piv) != 0:
            return STATUS_SINGULAR
        for r in range(D):
            for c in range(n):
                W[r, c] = 0.0
        for c in range(n):
            W[iM + c, c] = -1.0
        lu_solve_cols(A, D, piv, W, n)
        for a in range(n):
            for c in range(n):
                PD[i, a, c] = W[iM + a, c]
    for r in range(1, n):
        for j in range(1, n):
            DMU[i, r - 1, j - 1] = (PD[i, r, j] - PD[i, r, 0]) - (PD[i, 0, j] - PD[i, 0, 0])
    for a in range(n):
        if not np.isfinite(MU[i, a]):
            return STATUS_NAN
        for c in range(n):
            if not np.isfinite(PD[i, a, c]):
                return STATUS_NAN
    return STATUS_OK


def minimise_flag(p):
    """The ``minimise`` argument of :func:`equilibrium_batch` for the phase p: None when its
    site fractions follow from the composition (no internal degrees of freedom, one
    linear solve), ``MINIMISE`` when they are found by minimising GM.

    numba compiles the kernel for the type of this argument, and for None it leaves out
    what such a phase never runs (the constrained minimisation ``_newton_y`` with its
    maximum-entropy start and LAPACK calls, and the general sensitivity system of
    ``_potentials``): about half the cold compile of the kernel and of the stepper that
    links it."""
    return None if p.no_internal_dof == 1 else MINIMISE


@jit(_nrt=False, forceinline=True)
def _fill_nan(MU, PD, DMU, i):
    for a in range(MU.shape[1]):
        MU[i, a] = np.nan
        for b in range(PD.shape[2]):
            PD[i, a, b] = np.nan
    for a in range(DMU.shape[1]):
        for b in range(DMU.shape[2]):
            DMU[i, a, b] = np.nan


@jit
def equilibrium_batch(p, T, X, Y, warm, MU, PD, DMU, GM, status, minimise):
    """Single-phase equilibrium at every node. T[i], X[i, :] (all components), Y[i, :]
    (site fractions, in/out), warm[i] != 0 to start from Y[i]. Status code per node.
    minimise: ``minimise_flag(p)`` (None compiles the kernel for phases without internal
    degrees of freedom only; such a kernel given another phase returns
    STATUS_NEEDS_MINIMISE for every row).

    For one node: the composition check; y from x (one linear solve, or the constrained
    minimisation ``_newton_y``); GM and its derivatives (``gm_core``); mu and dmu/dx
    (``_potentials``).  The ThermoParams fields and the workspace are hoisted here, once
    per batch, so that the per-node calls pass plain arrays and do no reference counting
    (see kinsim.kernels.gibbs)."""
    n = p.n_comp
    K = p.n_y
    S = p.n_sub
    direct = p.no_internal_dof == 1
    m = S + n - 1
    D = K + 1 + n + S
    Dm = max(K, D)
    # workspace
    x = np.zeros(n)
    y = np.zeros(K)
    gy = np.zeros(K)
    Hy = np.zeros((K, K))
    gf = np.zeros(K)
    Hf = np.zeros((K, K))
    C = np.zeros((m, K))
    d = np.zeros(m)
    A = np.zeros((Dm, Dm))
    b = np.zeros(Dm)
    piv = np.zeros(Dm, dtype=np.int64)
    LS = np.zeros((K + 1, n + S))
    lsb = np.zeros(K + 1)
    W = np.zeros((Dm, n))
    HW = np.zeros((K, n))
    ytr = np.zeros(K)
    dy = np.zeros(K)
    gws = gibbs_workspace(p)
    z, pg, pH, fw, mc = gws
    fnval = np.empty(p.fn_coef.shape[0])
    bvals = np.empty(p.basis_pow.shape[0])
    # parameters
    t_breaks, basis_pow, basis_log, basis_exp, fn_coef = p.t_breaks, p.basis_pow, p.basis_log, p.basis_exp, p.fn_coef
    y_sub, y_comp, y_ratio, n_const = p.y_sub, p.y_comp, p.y_ratio, p.n_const
    blk_sign, blk_z_ptr, blk_kind_ptr, blk_idmix = p.blk_sign, p.blk_z_ptr, p.blk_kind_ptr, p.blk_idmix
    blk_mag, blk_afm, blk_p = p.blk_mag, p.blk_afm, p.blk_p
    z_M, z_c, z_ratio, z_natoms = p.z_M, p.z_c, p.z_ratio, p.z_natoms
    mono_fn, mono_scale, mono_fac_ptr, fac_var, fac_exp = p.mono_fn, p.mono_scale, p.mono_fac_ptr, p.fac_var, p.fac_exp
    last = np.nan
    st_t = 0
    for i in range(X.shape[0]):
        if minimise is None and not direct:
            status[i] = STATUS_NEEDS_MINIMISE
            GM[i] = np.nan
            _fill_nan(MU, PD, DMU, i)
            continue
        Ti = T[i]
        if Ti != last:
            st_t = eval_tfuncs(Ti, t_breaks, basis_pow, basis_log, basis_exp, fn_coef, bvals, fnval)
            mono_coefs(fnval, mono_fn, mono_scale, mc)
            last = Ti
        if st_t != 0:
            status[i] = STATUS_T_RANGE
            GM[i] = np.nan
            _fill_nan(MU, PD, DMU, i)
            continue
        # composition check
        st = STATUS_OK
        tot = 0.0
        for a in range(n):
            xa = X[i, a]
            if not (xa > 0.0 and xa < 1.0):
                st = STATUS_BAD_COMPOSITION
            x[a] = xa
            tot += xa
        if st == STATUS_OK and abs(tot - 1.0) > 1e-9:
            st = STATUS_BAD_COMPOSITION
        g = np.nan
        if st == STATUS_OK:
            for k in range(K):
                y[k] = Y[i, k]
            _constraints(x, y_sub, y_comp, y_ratio, n_const, S, C, d)
            if minimise is None or direct:
                st = _direct_y(C, d, y, A, b, piv)
            else:
                st = _newton_y(p, fnval, Ti, C, d, y, warm[i] != 0, gy, Hy, ytr, dy, gws)
            for k in range(K):
                Y[i, k] = y[k]
        if st == STATUS_OK:
            g = gm_core(
                mc,
                Ti,
                y,
                np.int64(2),
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
            if not np.isfinite(g):
                st = STATUS_NAN
        if st == STATUS_OK:
            st = _potentials(
                y,
                g,
                gy,
                Hy,
                S,
                y_sub,
                y_comp,
                y_ratio,
                n_const,
                gf,
                Hf,
                LS,
                lsb,
                A,
                b,
                piv,
                W,
                HW,
                MU,
                PD,
                DMU,
                i,
                minimise,
            )
        status[i] = st
        if st == STATUS_OK:
            GM[i] = g
        else:
            GM[i] = np.nan
            _fill_nan(MU, PD, DMU, i)
