"""Multiphase equilibrium at a node (numba): the stable phase set with its composition
sets, their amounts and site fractions, the chemical potentials, the driving forces of
the absent phases and the derivatives of the equilibrium dmu/dx.

Formulation (seed 004's Lagrangian with the phase amounts; Larsson & Jansson, Calphad 51
(2015) 220).  For one mole of atoms of overall composition x, composition set j (of
phase a_j) holds n_j formula units with site fractions y_j; G_j(y) is its Gibbs energy
per formula unit and N_j(y) its moles of each component per formula unit, linear in y
(N_jA = c_A + (E y)_A, E_Ak the site ratio of site variable k if it holds A).  The
Lagrangian

    L = sum_j n_j G_j(y_j) - sum_A mu_A (sum_j n_j N_jA(y_j) - x_A)
        - sum_j sum_s lambda_js (sum_{k in s} y_jk - 1)

is stationary at equilibrium:

    Z_j^T (g_j - E^T mu) = 0     each set at a minimum of G - mu.N on its sublattices
    G_j - mu . N_j = 0           each stable set touches the common tangent plane
    sum_j n_j N_j = x            mass balance

(Z_j: the directions that keep the site sums, kinsim.kernels.mpphase).  Newton on
(y, n, mu) with dy_j eliminated through the reduced Hessian Hr_j = Z^T H_j Z,

    dy_j = -v_j + W_j dmu,   v_j = Z Hr^-1 Z^T (g_j - E^T mu),   W_j = Z Hr^-1 Z^T E^T,

leaves n + P equations in (dmu, dn), the rows of the sets divided by RT:

    [ sum_j n_j E W_j     N_1 .. N_P ] [dmu]   [ x - sum_j n_j (N_j - E v_j)        ]
    [ (E v_j - N_j)^T     0          ] [dn ] = [ -(G_j - mu.N_j) + r_j.v_j  (each j) ]

At convergence (v_j = 0) this matrix is the sensitivity system of the equilibrium (the
"rate of change at equilibrium" of Larsson & Jansson): with all x_A independent,
d mu / d x_B solves it for e_B in the mass rows, giving ``partial_dmu_dx`` P (n x n,
P @ x = 0), and ``dmu_dx`` = (P[i, j] - P[i, 0]) - (P[0, j] - P[0, 0]) as for one phase.
With as many sets as components (an invariant field at fixed T and P) mu does not
depend on x: both are exactly zero.

Phase-set changes: the Newton iterations run on a fixed set (amounts may pass through
negative values); at convergence a set with a negative amount leaves, two sets of one
phase with the same site fractions merge, and otherwise the absent phase with the
largest positive driving force enters with amount zero (or, when the set is full,
replaces the set chosen by the simplex ratio test).  A global start
(kinsim.kernels.hull) is made for a cold row or after a warm start fails, and is
followed by the audit against the samples, which adds missed composition sets; a warm
start runs the audit on request (WARM_AUDIT).  A new composition set of a phase that is
present enters together with a move of the phase's nearest set to the far side of the
gap (``_move_across``), and a row whose audit still finds a missed state after
MAX_AUDIT additions fails (STATUS_PHASE_SET) instead of returning an unaudited set.

``mp_node`` is the per-node entry point for other kernels (its state lives in plain
arrays, see its docstring); ``mp_rows`` solves rows of one temperature and
``mp_driving_forces`` gives the driving forces of phases at given potentials.
"""

from __future__ import annotations

import numpy as np
from numba import typeof, types

from .._jit import INTERNAL, jit
from .codes import STATUS_BAD_COMPOSITION, STATUS_NAN, STATUS_OK, STATUS_PHASE_SET, STATUS_SINGULAR, STATUS_T_RANGE
from .gibbs import R
from .hull import audit_scan, global_start, sample_start
from .kernel_ref import KernelRef, call_ref
from .linalg import lu_factor, lu_solve, lu_solve_cols
from .mpphase import driving_force, minimize_phase, mp_coefs, phase_eval, phase_moles, reduce_phase

MAX_NEWTON = 100  # Newton iterations per solve of the phase set, phase-set changes included
MAX_STALL = 30  # iterations on one set without convergence before its smallest set leaves
MAX_CHANGES = 16  # phase-set changes per solve
MAX_AUDIT = 4  # sets the audit may add per node
TOL_Y = 1e-10  # converged: largest site-fraction step (Newton: the error left is ~ its square)
TOL_N = 1e-10  # converged: largest amount step (formula units per mole of atoms)
TOL_MU = 1e-10  # converged: largest potential step / RT
R_FAST = 1e4  # a step this small (in tolerances) ends the iterations if the next is predicted below them
TOL_DF = 1e-9  # a driving force above TOL_DF * RT (J/mol of atoms) lets the phase enter
TOL_SAME = 1e-6  # sets of one phase whose site fractions differ by less are one set
TOL_DISTINCT = 1e-4  # the audit adds a set only this far (site fractions) from the phase's sets

# start modes of mp_node
WARM = 0  # from the node's state, a global start if that fails (or if there is no state)
COLD = 1  # global start, then the audit
WARM_AUDIT = 2  # warm, then the audit for new composition sets

_u = np.uint64


@jit(forceinline=True)
def _reduced_solves(ps, a, q, K, j, ws):
    """Newton pieces of set j from the reduced residual and Hessian (``reduce_phase``):
    u = Hr^-1 rr and U = Hr^-1 Z^T E^T (Hr need not be positive definite: a set in its
    spinodal is a saddle of the system, which the audit resolves), then the set's
    v = Z u, W = Z U, E v, E W and r.v = rr.u into ws.set_*[j] (all zero for a phase of
    fixed composition, q = 0).  False if Hr is singular."""
    n = ps.n_comp
    for i in range(q):
        ws.uq[i] = ws.rr[i]
        for i2 in range(q):
            ws.Lc[i, i2] = ws.Hr[i, i2]
    if q > 0 and lu_factor(ws.Lc, q, ws.pivq) != 0:
        return False
    lu_solve(ws.Lc, q, ws.pivq, ws.uq)
    lu_solve_cols(ws.Lc, q, ws.pivq, ws.ZE, n)
    rv = 0.0
    for i in range(q):
        rv += ws.rr[i] * ws.uq[i]
    ws.set_rv[j] = rv
    v = ws.set_v[j]
    W = ws.set_W[j]
    for k in range(K):
        v[k] = 0.0
        for c in range(n):
            W[k, c] = 0.0
    for i in range(q):
        fi = _u(ws.fidx[i])
        di = _u(ws.didx[i])
        v[fi] += ws.uq[i]
        v[di] -= ws.uq[i]
        for c in range(n):
            W[fi, c] += ws.ZE[i, c]
            W[di, c] -= ws.ZE[i, c]
    for c in range(n):
        ws.set_Ev[j, c] = 0.0
        for c2 in range(n):
            ws.set_EW[j, c, c2] = 0.0
    for k in range(K):
        c = ps.y_comp[a, k]
        if c >= 0:
            r = ps.y_ratio[a, k]
            ws.set_Ev[j, _u(c)] += r * v[k]
            for c2 in range(n):
                ws.set_EW[j, _u(c), c2] += r * W[k, c2]
    return True


@jit(_nrt=False)
def _newton_matrix(ps, T, x, nset, sp, sa, sy, mu, ws):
    """Build and factor the Newton matrix of the current sets (module docstring) and
    solve for its right-hand side: (dmu, dn) into ws.rhs[:n + nset].  Returns a status
    (STATUS_SINGULAR: no reduced Hessian factor or a singular matrix)."""
    n = x.shape[0]
    RT = R * T
    D = n + nset
    A = ws.A
    for i in range(D):
        ws.rhs[i] = 0.0
        for k in range(D):
            A[i, k] = 0.0
    for c in range(n):
        ws.rhs[c] = x[c]
    for j in range(nset):
        a = sp[j]
        K = ps.n_y[a]
        y = sy[j, :K]
        G = phase_eval(ps, a, T, y, 2, ws)
        if not np.isfinite(G):
            return STATUS_NAN
        q = reduce_phase(ps, a, y, mu, 0.0, ws)
        if not _reduced_solves(ps, a, q, K, j, ws):
            return STATUS_SINGULAR
        muN = 0.0
        for c in range(n):
            muN += mu[c] * ws.Nv[c]
        nj = sa[j]
        for c in range(n):
            ws.rhs[c] -= nj * (ws.Nv[c] - ws.set_Ev[j, c])
            A[c, n + j] = ws.Nv[c]
            A[n + j, c] = (ws.set_Ev[j, c] - ws.Nv[c]) / RT
            for c2 in range(n):
                A[c, c2] += nj * ws.set_EW[j, c, c2]
        ws.rhs[n + j] = (ws.set_rv[j] - (G - muN)) / RT
    if lu_factor(A, D, ws.piv) != 0:
        return STATUS_SINGULAR
    lu_solve(A, D, ws.piv, ws.rhs)
    return STATUS_OK


@jit(forceinline=True)
def _remove_set(j, nset, sp, sa, sy):
    """Remove set j (the later sets move up one slot); returns the new number of sets."""
    for i in range(j, nset - 1):
        sp[i] = sp[i + 1]
        sa[i] = sa[i + 1]
        for k in range(sy.shape[1]):
            sy[i, k] = sy[i + 1, k]
    sp[nset - 1] = -1
    sa[nset - 1] = 0.0
    return nset - 1


@jit(forceinline=True)
def _set_of(b, nset, sp):
    """The last set of phase b (-1 if none)."""
    for j in range(nset - 1, -1, -1):
        if sp[j] == b:
            return j
    return -1


@jit(forceinline=True)
def _smallest_set(ps, nset, sp, sa, sy, ws):
    """The set holding the fewest atoms."""
    jmin = 0
    fmin = np.inf
    for j in range(nset):
        f = sa[j] * phase_moles(ps, sp[j], sy[j, : ps.n_y[sp[j]]], ws.xb)
        if f < fmin:
            fmin = f
            jmin = j
    return jmin


@jit(forceinline=True)
def _merge_same(ps, nset, sp, sa, sy, tol):
    """Merge the first two sets of one phase whose site fractions differ by less than
    tol; returns the new number of sets (unchanged if none)."""
    for j in range(nset):
        for m in range(j + 1, nset):
            if sp[j] != sp[m]:
                continue
            dmax = 0.0
            for k in range(ps.n_y[sp[j]]):
                dmax = max(dmax, abs(sy[j, k] - sy[m, k]))
            if dmax < tol:
                sa[j] += sa[m]
                return _remove_set(m, nset, sp, sa, sy)
    return nset


@jit(forceinline=True)
def _enter(ps, b, yb, nset, sp, sa, sy, ws):
    """Phase b at site fractions yb enters as a new set: with amount zero if there is a
    free slot, otherwise in place of the set that the simplex ratio test removes (the
    set whose atoms run out first as b grows, at fixed set compositions).  Returns the
    new number of sets, or -1 if no set can leave."""
    n = ps.n_comp
    Kb = ps.n_y[b]
    if nset < sp.shape[0]:
        sp[nset] = b
        sa[nset] = 0.0
        for k in range(Kb):
            sy[nset, k] = yb[k]
        return nset + 1
    # x_b = sum_j c_j x_j (barycentric coordinates in the sets' compositions)
    Ntb = phase_moles(ps, b, yb[:Kb], ws.wb)
    for c in range(n):
        ws.wb[c] /= Ntb
    for j in range(nset):
        Ntj = phase_moles(ps, sp[j], sy[j, : ps.n_y[sp[j]]], ws.xb)
        ws.wsum[j] = Ntj
        for c in range(n):
            ws.Mb[c, j] = ws.xb[c] / Ntj
    if lu_factor(ws.Mb, n, ws.pivn) != 0:
        return -1
    lu_solve(ws.Mb, n, ws.pivn, ws.wb)
    leave = -1
    tmin = np.inf
    for j in range(nset):
        if ws.wb[j] > 1e-12:
            t = sa[j] * ws.wsum[j] / ws.wb[j]
            if t < tmin:
                tmin = t
                leave = j
    if leave < 0:
        return -1
    for j in range(nset):
        sa[j] = (sa[j] * ws.wsum[j] - tmin * ws.wb[j]) / ws.wsum[j]
    sp[leave] = b
    sa[leave] = tmin / Ntb
    for k in range(Kb):
        sy[leave, k] = yb[k]
    return nset


@jit(forceinline=True)
def _apply_step(ps, T, n, nset, sp, sa, sy, mu, fresh, ws):
    """Apply the Newton step in ws.rhs (dmu, dn) and ws.set_v, ws.set_W (dy), cut back to
    keep the site fractions positive and, except for the set that has just entered
    (``fresh``, -1 if none), the amounts non-negative.  Returns (alpha, r, leave): the
    fraction of the step taken, its largest component relative to the tolerances, and
    the set whose amount the cut brought to zero (-1 if none)."""
    alpha = 1.0
    dymax = 0.0
    for j in range(nset):
        for k in range(ps.n_y[sp[j]]):
            d = -ws.set_v[j, k]
            for c in range(n):
                d += ws.set_W[j, k, c] * ws.rhs[c]
            ws.dy[j, k] = d
            dymax = max(dymax, abs(d))
            if d < 0.0 and 0.99 * sy[j, k] < -d * alpha:
                alpha = 0.99 * sy[j, k] / (-d)
    leave = -1
    for j in range(nset):
        dn = ws.rhs[n + j]
        if j != fresh and dn < 0.0 and sa[j] + alpha * dn < 0.0:
            alpha = max(sa[j], 0.0) / (-dn)
            leave = j
    r = dymax / TOL_Y
    for c in range(n):
        r = max(r, abs(ws.rhs[c]) / (TOL_MU * R * T))
        mu[c] += alpha * ws.rhs[c]
    for j in range(nset):
        r = max(r, abs(ws.rhs[n + j]) / TOL_N)
        sa[j] += alpha * ws.rhs[n + j]
        for k in range(ps.n_y[sp[j]]):
            sy[j, k] += alpha * ws.dy[j, k]
    if leave >= 0:
        sa[leave] = 0.0
    return alpha, r, leave


@jit(forceinline=True)
def _most_unstable(ps, T, nset, sp, mu, py, df, ws):
    """Driving forces (into df) of the phases without a set, and the phase with the
    largest one above TOL_DF RT (-1 if none).  Returns (phase, status)."""
    bb = -1
    best = TOL_DF * R * T
    for b in range(ps.n_y.shape[0]):
        present = False
        for j in range(nset):
            if sp[j] == b:
                present = True
        if present:
            df[b] = 0.0
            continue
        d, st = driving_force(ps, T, b, mu, py[b, : ps.n_y[b]], ws)
        if st != STATUS_OK:
            return -1, st
        df[b] = d
        if d > best:
            best = d
            bb = b
    return bb, STATUS_OK


@jit(inline="always")
def _solve_sets(ps, T, x, nset, sp, sa, sy, mu, py, df, ws):
    """Newton on the composition sets with the phase-set changes of the module
    docstring, until the set is stable: every amount >= 0 and every absent phase's
    driving force (into df; 0 for present phases) <= TOL_DF RT.  On success ws.A holds
    the factored matrix of the last iteration.  Returns (number of sets, status)."""
    n = x.shape[0]
    changes = 0
    stall = 0
    r_prev = np.inf
    fresh = -1  # the set that entered last, until its first full step
    for _ in range(MAX_NEWTON):
        drop = -1  # the set that leaves (-2: the one holding the fewest atoms)
        merge = 0.0  # two sets of one phase closer than this (site fractions) merge
        st = _newton_matrix(ps, T, x, nset, sp, sa, sy, mu, ws)
        if st == STATUS_NAN:
            return nset, st
        if st != STATUS_OK:
            # two sets of one phase have become one, or one set is superfluous
            merge = TOL_DISTINCT
            drop = -2
        else:
            alpha, r, leave = _apply_step(ps, T, n, nset, sp, sa, sy, mu, fresh, ws)
            stall += 1
            if alpha == 1.0:
                fresh = -1
            # converged: a full step within the tolerances (r <= 1), or a small one (r <= R_FAST)
            # so much smaller than the previous that the next would be (quadratic
            # convergence: r_next = r^3 / r_prev^2)
            done = alpha == 1.0 and (r <= 1.0 or (r <= R_FAST and r < 0.1 * r_prev and r * (r / r_prev) ** 2 <= 1e-2))
            r_prev = r if alpha == 1.0 else np.inf
            if leave >= 0 and nset > 1:
                drop = leave  # its amount has run out
            elif not done:
                if stall <= MAX_STALL:
                    continue
                drop = -2
            else:
                # converged on this set: a set with a negative amount leaves, two sets of
                # one phase that have become one merge, or the most unstable phase enters
                jmin = _smallest_set(ps, nset, sp, sa, sy, ws)
                if sa[jmin] < -TOL_N and nset > 1:
                    drop = jmin
                else:
                    for j in range(nset):
                        sa[j] = max(sa[j], 0.0)
                    merge = TOL_SAME
        m = nset
        if merge > 0.0:
            m = _merge_same(ps, nset, sp, sa, sy, merge)
        entered = -1
        if m == nset:
            if drop != -1:
                if nset == 1:
                    return nset, STATUS_SINGULAR if st != STATUS_OK else STATUS_PHASE_SET
                if drop == -2:
                    drop = _smallest_set(ps, nset, sp, sa, sy, ws)
                m = _remove_set(drop, nset, sp, sa, sy)
            else:
                bb, st = _most_unstable(ps, T, nset, sp, mu, py, df, ws)
                if st != STATUS_OK:
                    return nset, st
                if bb < 0:
                    return nset, STATUS_OK
                m = _enter(ps, bb, py[bb], nset, sp, sa, sy, ws)
                if m < 0:
                    return nset, STATUS_PHASE_SET
                entered = _set_of(bb, m, sp)
        nset = m
        fresh = entered
        changes += 1
        stall = 0
        r_prev = np.inf
        if changes > MAX_CHANGES:
            return nset, STATUS_PHASE_SET
    return nset, STATUS_PHASE_SET


@jit(forceinline=True)
def _nearest_set(ps, b, yb, nset, sp, sy):
    """The set of phase b whose site fractions are nearest yb (largest difference), and
    that difference; (-1, inf) if b has no set."""
    jb = -1
    dbest = np.inf
    for j in range(nset):
        if sp[j] != b:
            continue
        dmax = 0.0
        for k in range(ps.n_y[b]):
            dmax = max(dmax, abs(sy[j, k] - yb[k]))
        if dmax < dbest:
            dbest = dmax
            jb = j
    return jb, dbest


@jit(forceinline=True)
def _move_across(ps, T, b, j, shift, mu, yb, sy, ws):
    """Before a new composition set of phase b enters at yb (a minimum of
    G - (mu + shift).N), move set j of the same phase to the minimum of that plane on
    the other side: a minimisation from the mirror image of yb through set j.  Without
    the move the Newton method, started from set j near x and the new set at zero
    amount, tends to pull set j onto the new one (it would have to cross the phase's
    spinodal).  Set j stays where it is if that minimisation ends at yb again."""
    K = ps.n_y[b]
    t = 1.0
    for k in range(K):
        d = sy[j, k] - yb[k]
        if d < 0.0 and sy[j, k] + t * d < 0.01 * sy[j, k]:
            t = 0.99 * sy[j, k] / (-d)
    y = ws.yfar[:K]
    for k in range(K):
        y[k] = sy[j, k] + t * (sy[j, k] - yb[k])
    h, st = minimize_phase(ps, T, b, mu, shift, y, ws)
    if st != STATUS_OK:
        return
    dmax = 0.0
    for k in range(K):
        dmax = max(dmax, abs(y[k] - yb[k]))
    if dmax >= TOL_DISTINCT:
        for k in range(K):
            sy[j, k] = y[k]


@jit(forceinline=True)
def _missed_state(ps, T, tab, nset, sp, sy, mu, py, ws):
    """Compare mu with every sample; if one lies below the tangent plane, minimise its
    phase from it (into py) and confirm a positive driving force away from the phase's
    sets.  Returns (phase, driving force), phase -1 if nothing was missed."""
    s = audit_scan(ps, tab, T, mu, ws)
    if s < 0:
        return -1, 0.0
    b = tab.smp_phase[s]
    K = ps.n_y[b]
    yb = py[b, :K]
    for k in range(K):
        yb[k] = tab.smp_y[s, k]
    d, st = driving_force(ps, T, b, mu, yb, ws)
    if st != STATUS_OK or not d > TOL_DF * R * T:
        return -1, 0.0
    if _nearest_set(ps, b, yb, nset, sp, sy)[1] < TOL_DISTINCT:
        return -1, 0.0
    return b, d


@jit(inline="always")
def _audit(ps, T, tab, nset, sp, sa, sy, mu, py, ws):
    """The audit against the samples (``_missed_state``); a state it finds enters as a
    new set (a new composition set of a present phase after ``_move_across``).  Returns
    (number of sets, whether a set entered)."""
    b, d = _missed_state(ps, T, tab, nset, sp, sy, mu, py, ws)
    if b < 0:
        return nset, False
    j, _ = _nearest_set(ps, b, py[b], nset, sp, sy)
    if j >= 0:
        _move_across(ps, T, b, j, -d, mu, py[b], sy, ws)
    m = _enter(ps, b, py[b], nset, sp, sa, sy, ws)
    if m < 0:
        return nset, False
    return m, True


@jit(forceinline=True)
def _sensitivity(n, nset, ws, PD, DMU):
    """partial_dmu_dx (PD) and dmu_dx (DMU) from the factored matrix in ws.A, that of
    the last Newton iteration (its step at most R_FAST times the tolerances: PD is
    exact to ~1e-8 relative), and in ws.Bc the derivatives of the potentials and of the
    sets' amounts with respect to x (all x independent; rows mu, then the sets, with
    ws.set_W giving those of the site fractions: dy_j = W_j dmu), for callers that
    follow the equilibrium (kinsim.kernels.homogenization).  With as many sets as
    components mu does not depend on x: PD and DMU are exactly zero (the amounts do)."""
    D = n + nset
    for r in range(D):
        for c in range(n):
            ws.Bc[r, c] = 0.0
    for c in range(n):
        ws.Bc[c, c] = 1.0
    lu_solve_cols(ws.A, D, ws.piv, ws.Bc, n)
    for a in range(n):
        for c in range(n):
            PD[a, c] = 0.0 if nset == n else ws.Bc[a, c]
    for r in range(1, n):
        for j in range(1, n):
            DMU[r - 1, j - 1] = (PD[r, j] - PD[r, 0]) - (PD[0, j] - PD[0, 0])


@jit(forceinline=True)
def _sort_sets(ps, nset, sp, sa, sy, ws):
    """Order the sets by phase and, within a phase, by decreasing amount of atoms (the
    order of a global start; warm starts keep the order, so a set keeps its name), with
    their derivatives (``_sensitivity``: the rows of ws.Bc, ws.set_W)."""
    n = ps.n_comp
    for j in range(nset):
        ws.wsum[j] = sa[j] * phase_moles(ps, sp[j], sy[j, : ps.n_y[sp[j]]], ws.xb)
    for j in range(1, nset):
        m = j
        while m > 0 and (sp[m - 1] > sp[m] or (sp[m - 1] == sp[m] and ws.wsum[m - 1] < ws.wsum[m])):
            sp[m - 1], sp[m] = sp[m], sp[m - 1]
            sa[m - 1], sa[m] = sa[m], sa[m - 1]
            ws.wsum[m - 1], ws.wsum[m] = ws.wsum[m], ws.wsum[m - 1]
            for k in range(sy.shape[1]):
                sy[m - 1, k], sy[m, k] = sy[m, k], sy[m - 1, k]
                for c in range(n):
                    ws.set_W[m - 1, k, c], ws.set_W[m, k, c] = ws.set_W[m, k, c], ws.set_W[m - 1, k, c]
            for c in range(n):
                ws.Bc[n + m - 1, c], ws.Bc[n + m, c] = ws.Bc[n + m, c], ws.Bc[n + m - 1, c]
            m -= 1


@jit(forceinline=True)
def _fail(st, sp, sa, mu, df, PD, DMU):
    """NaN outputs and an empty state for a node that failed with status st."""
    for j in range(sp.shape[0]):
        sp[j] = -1
        sa[j] = np.nan
    for c in range(mu.shape[0]):
        mu[c] = np.nan
        for c2 in range(PD.shape[1]):
            PD[c, c2] = np.nan
    for r in range(DMU.shape[0]):
        for c in range(DMU.shape[1]):
            DMU[r, c] = np.nan
    for b in range(df.shape[0]):
        df[b] = np.nan
    return st


@jit(inline="always")
def _solve_node(ps, T, x, tab, mode, sp, sa, sy, mu, py, df, ws):
    """``mp_node`` up to its outputs: global start where needed, the phase set, the
    audit.  Returns (number of sets, whether the result comes from a global start,
    status)."""
    nset = 0
    while nset < sp.shape[0] and sp[nset] >= 0:
        nset += 1
    has_table = tab.fct_mu.shape[0] > 0
    cold = mode == COLD or nset == 0
    start = cold
    audits = 0
    while True:
        if start:
            if not has_table:
                return nset, cold, STATUS_PHASE_SET
            nset, st = global_start(ps, T, x, tab, sp, sa, sy, mu, py, ws)
            if st != STATUS_OK:
                return nset, cold, st
            start = False
        nset, st = _solve_sets(ps, T, x, nset, sp, sa, sy, mu, py, df, ws)
        if st != STATUS_OK:
            if cold or not has_table:
                return nset, cold, st
            cold = True  # a failed warm start: once more from a global start
            start = True
            continue
        if (cold or mode == WARM_AUDIT) and has_table:
            if audits == MAX_AUDIT:  # the last sets found must pass the audit too
                if _missed_state(ps, T, tab, nset, sp, sy, mu, py, ws)[0] < 0:
                    return nset, cold, STATUS_OK
                if cold:
                    return nset, cold, STATUS_PHASE_SET
                cold = True  # a warm start the audit keeps correcting: once more from a global start
                start = True
                audits = 0
                continue
            nset, added = _audit(ps, T, tab, nset, sp, sa, sy, mu, py, ws)
            if added:
                audits += 1
                continue
        return nset, cold, STATUS_OK


@jit(inline="always")
def mp_node(ps, T, x, tab, mode, sp, sa, sy, mu, py, df, PD, DMU, ws):
    """Multiphase equilibrium at one node.  Returns a status code.

    ws is a workspace (``mp_workspace(ps)``) whose ws.mcs holds the coefficients at T
    (``mp_coefs(ps, T, ws)`` after each change of T).  x (n,) mole fractions, reference
    first; tab the StartTable, best built at T: one built at another temperature still
    gives global starts, and the audit then evaluates the samples it visits at T (slower,
    and a descent along the hull of the table's T); a table without facets allows warm
    starts only; mode WARM, COLD or WARM_AUDIT (the caller decides how often to audit).
    The node's state, read for a warm start and written back:
      sp (SM,) i8    phase of each composition set (-1: empty slot; sets come first)
      sa (SM,)       amount of each set, formula units per mole of atoms
      sy (SM, Kmax)  site fractions of each set
      mu (n,)        chemical potentials, J/mol
      py (NP, Kmax)  site fractions of each phase's last driving-force search
    and the outputs df (NP,) driving forces (J/mol of atoms; 0 for present phases),
    PD (n, n) partial_dmu_dx and DMU (n-1, n-1) dmu_dx, J/mol.  On failure: NaN and an
    empty state (the next call starts cold)."""
    n = x.shape[0]
    tot = 0.0
    st = STATUS_OK
    nset = 0
    cold = False
    for c in range(n):
        if not (x[c] > 0.0 and x[c] < 1.0):
            st = STATUS_BAD_COMPOSITION
        tot += x[c]
    if abs(tot - 1.0) > 1e-9:
        st = STATUS_BAD_COMPOSITION
    if st == STATUS_OK:
        nset, cold, st = _solve_node(ps, T, x, tab, mode, sp, sa, sy, mu, py, df, ws)
    if st != STATUS_OK:
        return _fail(st, sp, sa, mu, df, PD, DMU)
    _sensitivity(n, nset, ws, PD, DMU)
    if cold:
        _sort_sets(ps, nset, sp, sa, sy, ws)
    return STATUS_OK


@jit(**INTERNAL)
def mp_node_kernel(ps, T, x, tab, mode, sp, sa, sy, mu, py, df, PD, DMU, ws):
    """``mp_node`` compiled on its own: the node equilibrium that ``mp_rows`` and the
    homogenization model's node evaluation call through a reference (``mp_node_ref``),
    so that it compiles once for both instead of once inside each."""
    return mp_node(ps, T, x, tab, mode, sp, sa, sy, mu, py, df, PD, DMU, ws)


def mp_node_ref(ps, tab, ws) -> KernelRef:
    """``mp_node_kernel`` for the phase set ps, start table tab and workspace ws, called
    with C-contiguous float64 arrays (int64 for the set phases sp) and an int64 mode:
    the types of ``mp_rows``'s rows and of the homogenization model's node scratch
    (kinsim.kernels.kernel_ref)."""
    f1 = types.float64[::1]
    f2 = types.float64[:, ::1]
    args = (typeof(ps), types.float64, f1, typeof(tab), types.int64, types.int64[::1], f1, f2, f1, f2, f1, f2, f2)
    return KernelRef(mp_node_kernel, (*args, typeof(ws)), types.int64)


@jit(_nrt=False)
def mp_rows(ps, T, X, tab, mode, SP, SA, SY, MU, PY, DF, PD, DMU, status, ws, node):
    """``mp_node`` for every row of X (N, n) at one temperature T, with mode (N,) per row;
    the state and output arrays are those of ``mp_node`` with a leading row dimension
    (C-contiguous), ws a workspace from ``mp_workspace(ps)``, node its ``mp_node_ref``."""
    bad = mp_coefs(ps, T, ws)
    for i in range(X.shape[0]):
        if bad != 0:
            status[i] = _fail(STATUS_T_RANGE, SP[i], SA[i], MU[i], DF[i], PD[i], DMU[i])
            continue
        status[i] = call_ref(
            node, (ps, T, X[i], tab, mode[i], SP[i], SA[i], SY[i], MU[i], PY[i], DF[i], PD[i], DMU[i], ws)
        )


@jit(_nrt=False)
def mp_driving_forces(ps, T, MU, tab, PY, DF, status, ws):
    """Driving force (J/mol of atoms, into DF (N, NP)) of every phase of ps at the
    chemical potentials MU (N, n) of each row, e.g. those of one phase's own equilibrium:
    a positive value says that phase (or, for that phase itself, a second composition set
    of it) would lower the Gibbs energy.  Each search starts from the phase's sample of
    lowest GM - mu.x (site fractions into PY (N, NP, Kmax)).  status (N,) per row."""
    bad = mp_coefs(ps, T, ws)
    for i in range(MU.shape[0]):
        status[i] = STATUS_T_RANGE if bad != 0 else STATUS_OK
        for b in range(ps.n_y.shape[0]):
            DF[i, b] = np.nan
            if bad != 0:
                continue
            sample_start(ps, tab, T, b, MU[i], PY[i, b], ws)
            d, st = driving_force(ps, T, b, MU[i], PY[i, b, : ps.n_y[b]], ws)
            if st != STATUS_OK:
                status[i] = st
            else:
                DF[i, b] = d
