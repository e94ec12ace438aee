"""Time stepping (numba): variable-step BDF2 with Newton on a block-tridiagonal Jacobian,
local error control; forward Euler as an explicit option.

One call advances the state until ``t_target`` or ``max_steps`` steps, so that Python
only runs between output times (and to refresh a progress bar).
"""

from __future__ import annotations

import math

import numpy as np

from .._jit import INNER, jit
from .codes import (ADV_BOUNDARY_FAILED, ADV_DT_UNDERFLOW, ADV_MAX_STEPS, ADV_NODE_FAILED, ADV_REACHED, ADV_T_RANGE,
                    BC_ACTIVITY, BC_COMPOSITION, BC_POTENTIAL, S_FAIL_NODE, S_FAIL_STATUS, S_NEWTON, S_REJECTED,
                    S_STEPS, STATUS_OK)
from .flux import (_potential_face, cross_coef, eval_nodes, face_fluxes, node_scratch, prepare_step, rates,
                   step_scratch)
from .gibbs import R
from .linalg import lu_factor, lu_solve


@jit
def _to_volume_frame(subst, ua, ub, Gp, Gm):
    """dJ = dJ' - u_f sum_subst dJ' for the derivative blocks of one face (u_f frozen)."""
    n = Gp.shape[0]
    for j in range(Gp.shape[1]):
        s1 = 0.0
        s2 = 0.0
        for a in range(n):
            s1 += subst[a] * Gp[a, j]
            s2 += subst[a] * Gm[a, j]
        for k in range(n):
            uf = 0.5 * (ua[k] + ub[k])
            Gp[k, j] -= uf * s1
            Gm[k, j] -= uf * s2


@jit(**INNER)
def _lab(sim, L, i, a, b):
    """L'_ab at node i (diagonal from the mobilities, cross terms from the case)."""
    if a == b:
        return L[i, a]
    if sim.cross_form == 0:
        return 0.0
    return cross_coef(sim, L, i, a, b)


@jit
def _jacobian_blocks(sim, U, MU, DMDU, L, Gm, Gp, T):
    """dJ_f/dU_{left node} (Gm[f]) and dJ_f/dU_{right node} (Gp[f]), n x m per face,
    with L' and the frame factor u_f frozen (a quasi-Newton Jacobian)."""
    N = U.shape[0]
    n = U.shape[1]
    m = n - 1
    Gm[:, :, :] = 0.0
    Gp[:, :, :] = 0.0
    ncross = n if sim.cross_form != 0 else 1
    for f in range(N + 1):
        if f == 0 or f == N:
            side = 0 if f == 0 else 1
            i = 0 if f == 0 else N - 1
            d = sim.bc_dist[side]
            G = Gp[f] if f == 0 else Gm[f]
            sgn = -1.0 if f == 0 else 1.0
            if sim.bc_kind[side, 0] == BC_COMPOSITION:
                for a in range(n):
                    for j in range(m):
                        v = 0.0
                        for bb in range(ncross):
                            b = a if ncross == 1 else bb
                            lb = sim.bc_L[side, a] if a == b else sim.cross[a, b]
                            if a != b and sim.cross_form == 2:
                                lb *= math.sqrt(sim.bc_L[side, a] * sim.bc_L[side, b])
                            v += 0.5 * (_lab(sim, L, i, a, b) + lb) * DMDU[i, b, j]
                        G[a, j] = sgn * v / d
                _to_volume_frame(sim.subst, U[i], sim.bc_u[side], Gp[f], Gm[f])
                continue
            RT = R * T
            for k in range(1, n):
                kind = sim.bc_kind[side, k]
                if kind != BC_POTENTIAL and kind != BC_ACTIVITY:
                    continue
                # J = sgn A (1 - e), A = RT L'_kk / d (proportional to u_k), e = exp(-(M_node - M_b) / RT)
                _, e, A = _potential_face(sim, L, MU, i, k, side, T)
                for j in range(m):
                    v = A * e * DMDU[i, k, j] / RT
                    if j == k - 1 and U[i, k] > 0.0:
                        v += (A / U[i, k]) * (1.0 - e)
                    G[k, j] = sgn * v
                for j in range(m):
                    G[0, j] -= sim.subst[k] * G[k, j]
            continue
        il = f - 1
        ir = f
        dz = sim.dz[il]
        for a in range(n):
            for j in range(m):
                vp = 0.0
                vm = 0.0
                for bb in range(ncross):
                    b = a if ncross == 1 else bb
                    lf = 0.5 * (_lab(sim, L, il, a, b) + _lab(sim, L, ir, a, b))
                    vp += lf * DMDU[ir, b, j]
                    vm += lf * DMDU[il, b, j]
                Gp[f, a, j] = -vp / dz
                Gm[f, a, j] = vm / dz
        _to_volume_frame(sim.subst, U[il], U[ir], Gp[f], Gm[f])


@jit
def _solve_block_tridiag(sim, a0, dt, Gm, Gp, R, dU, X, Y, Dm, rhs, piv):
    """(a0 I - dt dF/dU) dU = -R for the independent components (block Thomas)."""
    N = R.shape[0]
    m = R.shape[1]
    Vs = sim.Vs
    for i in range(N):
        c = Vs / sim.volume[i]
        Al = sim.area[i]
        Ar = sim.area[i + 1]
        # diagonal block: a0 I + dt c (Ar Gm[i+1] - Al Gp[i]) (rows k+1 of the n x m blocks)
        for k in range(m):
            for j in range(m):
                Dm[k, j] = dt * c * (Ar * Gm[i + 1, k + 1, j] - Al * Gp[i, k + 1, j])
            Dm[k, k] += a0
            rhs[k] = -R[i, k]
        if i > 0:
            # lower block B = -dt c Al Gm[i]  ->  D' = D - B X[i-1], r' = r - B Y[i-1]
            for k in range(m):
                for j in range(m):
                    s = 0.0
                    for l in range(m):
                        s += (-dt * c * Al * Gm[i, k + 1, l]) * X[i - 1, l, j]
                    Dm[k, j] -= s
                s = 0.0
                for l in range(m):
                    s += (-dt * c * Al * Gm[i, k + 1, l]) * Y[i - 1, l]
                rhs[k] -= s
        if lu_factor(Dm, m, piv) != 0:
            return 1
        lu_solve(Dm, m, piv, rhs)
        for k in range(m):
            Y[i, k] = rhs[k]
        if i < N - 1:
            # X[i] = D'^-1 C with C = dt c Ar Gp[i+1]
            for j in range(m):
                for k in range(m):
                    rhs[k] = dt * c * Ar * Gp[i + 1, k + 1, j]
                lu_solve(Dm, m, piv, rhs)
                for k in range(m):
                    X[i, k, j] = rhs[k]
    for i in range(N - 1, -1, -1):
        for k in range(m):
            s = Y[i, k]
            if i < N - 1:
                for j in range(m):
                    s -= X[i, k, j] * dU[i + 1, j]
            dU[i, k] = s
    return 0


@jit
def _fill_dependent(sim, U):
    """u_0 = 1 - sum of the other substitutional u."""
    for i in range(U.shape[0]):
        s = 0.0
        for k in range(1, U.shape[1]):
            s += sim.subst[k] * U[i, k]
        U[i, 0] = 1.0 - s


@jit
def _move_markers(sim, zf, Jp, markers, dt):
    """Kirkendall markers move with the lattice velocity v = -V_s sum_subst J'."""
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
            v0 += sim.subst[k] * Jp[f, k]
            v1 += sim.subst[k] * Jp[f + 1, k]
        v = -sim.Vs * ((1.0 - w) * v0 + w * v1)
        markers[mk] = zm + dt * v


@jit
def _evaluate(p, fnval, bvals, sim, t, U, Y, MU, DMDU, L, Jp, J, scr, scr1, stats):
    """The state U at time t: T, potentials and boundary states, the node equilibria
    (MU, DMDU, L) and the face fluxes (Jp, J).  Returns (ADV_REACHED or a failure code
    with ``stats`` filled, T)."""
    pst, T = prepare_step(p, fnval, bvals, sim, t, scr1)
    if pst != STATUS_OK:
        return _prepare_failed(pst, stats), T
    st, node = eval_nodes(p, fnval, T, sim, U, Y, True, MU, DMDU, L, scr)
    if st != STATUS_OK:
        stats[S_FAIL_NODE] = node
        stats[S_FAIL_STATUS] = st
        return ADV_NODE_FAILED, T
    face_fluxes(sim, U, MU, L, Jp, J, T)
    return ADV_REACHED, T


@jit
def _prepare_failed(pst, stats):
    """Return code for a failed prepare_step (T range, or a boundary composition's status)."""
    if pst >= 1000:
        stats[S_FAIL_NODE] = pst - 1000  # the side
        stats[S_FAIL_STATUS] = 0
        return ADV_BOUNDARY_FAILED
    return ADV_T_RANGE


@jit
def advance(p, sim, zf, U, Y, hist_U, hist_t, nhist, t0, t_target, dt0, rtol, atol, max_steps, explicit,
            markers, MU, Jp, J, stats):
    """Advance U (N, n) from t0 towards t_target.

    hist_U (3, N, n) / hist_t (3) hold the last accepted states (newest first), nhist[0]
    how many are valid.  Returns (code, t, dt_next).  On return MU, Jp, J (and sim.PHI,
    the boundary state) hold the chemical potentials and fluxes of the final state.
    Temperature, boundary values and potentials follow their time tables in ``sim``:
    an implicit step evaluates them at its end time, an explicit step at its start.
    """
    N = U.shape[0]
    n = U.shape[1]
    m = n - 1
    fnval = np.empty(p.fn_coef.shape[0])
    bvals = np.empty(p.basis_pow.shape[0])
    scr1 = step_scratch(p, n)
    scr = node_scratch(p, N)
    DMDU = np.zeros((N, n, m))
    L = np.zeros((N, n))
    F = np.zeros((N, m))
    Rs = np.zeros((N, m))
    dU = np.zeros((N, m))
    Gm = np.zeros((N + 1, n, m))
    Gp = np.zeros((N + 1, n, m))
    X = np.zeros((N, m, m))
    Yb = np.zeros((N, m))
    Dm = np.zeros((m, m))
    rhs = np.zeros(m)
    piv = np.zeros(m, dtype=np.int64)
    Unew = U.copy()
    Ytr = Y.copy()
    t = t0
    dt = dt0
    steps = 0
    fresh = False  # MU, Jp, J belong to U (set by an accepted implicit step)
    while t < t_target * (1.0 - 1e-14):
        if steps >= max_steps:
            return ADV_MAX_STEPS, t, dt
        dt_natural = dt
        if dt > t_target - t:
            dt = t_target - t
        if explicit:
            code, T = _evaluate(p, fnval, bvals, sim, t, U, Y, MU, DMDU, L, Jp, J, scr, scr1, stats)
            if code != ADV_REACHED:
                return code, t, dt
            rates(sim, J, F)
            # stability: dt <= 0.4 min(dz^2) / max D, D ~ V_s L' dmu/du
            dmax = 0.0
            for i in range(N):
                for k in range(m):
                    d = abs(sim.Vs * L[i, k + 1] * DMDU[i, k + 1, k])
                    if d > dmax:
                        dmax = d
            dzmin = sim.dz[0]
            for i in range(sim.dz.shape[0]):
                if sim.dz[i] < dzmin:
                    dzmin = sim.dz[i]
            dts = 0.4 * dzmin * dzmin / dmax if dmax > 0 else t_target - t
            dt = min(t_target - t, dts)
            _move_markers(sim, zf, Jp, markers, dt)
            for i in range(N):
                for k in range(m):
                    U[i, k + 1] += dt * F[i, k]
            _fill_dependent(sim, U)
            t += dt
            steps += 1
            stats[S_STEPS] += 1
            fresh = False
            continue
        # ---- implicit BDF2 (BE for the first step)
        fresh = False  # the attempt overwrites MU, Jp, J
        pst, T = prepare_step(p, fnval, bvals, sim, t + dt, scr1)
        if pst != STATUS_OK:
            return _prepare_failed(pst, stats), t, dt
        nh = nhist[0]
        if nh >= 2:
            w = dt / (t - hist_t[1])
            a0 = (1.0 + 2.0 * w) / (1.0 + w)
            a1 = -(1.0 + w)
            a2 = w * w / (1.0 + w)
        else:
            w = 0.0
            a0 = 1.0
            a1 = -1.0
            a2 = 0.0
        # predictor: linear extrapolation
        for i in range(N):
            for k in range(n):
                if nh >= 2:
                    Unew[i, k] = U[i, k] + (U[i, k] - hist_U[1, i, k]) * w
                else:
                    Unew[i, k] = U[i, k]
                if Unew[i, k] <= 0.0 and k > 0:
                    Unew[i, k] = U[i, k]
        for i in range(N):
            for k in range(Y.shape[1]):
                Ytr[i, k] = Y[i, k]
        ok = False
        fail_st = 0
        fail_node = -1
        worst = -1  # node of the largest Newton correction (reported when Newton fails)
        for it in range(12):
            st, node = eval_nodes(p, fnval, T, sim, Unew, Ytr, True, MU, DMDU, L, scr)
            if st != STATUS_OK:
                fail_st = st
                fail_node = node
                break
            face_fluxes(sim, Unew, MU, L, Jp, J, T)
            rates(sim, J, F)
            for i in range(N):
                for k in range(m):
                    r = a0 * Unew[i, k + 1] + a1 * U[i, k + 1] - dt * F[i, k]
                    if nh >= 2:
                        r += a2 * hist_U[1, i, k + 1]
                    Rs[i, k] = r
            _jacobian_blocks(sim, Unew, MU, DMDU, L, Gm, Gp, T)
            if _solve_block_tridiag(sim, a0, dt, Gm, Gp, Rs, dU, X, Yb, Dm, rhs, piv) != 0:
                break
            stats[S_NEWTON] += 1
            # damping keeps every u positive
            lam = 1.0
            for i in range(N):
                for k in range(m):
                    if dU[i, k] < 0.0 and Unew[i, k + 1] + dU[i, k] <= 0.0:
                        l2 = 0.9 * Unew[i, k + 1] / (-dU[i, k])
                        if l2 < lam:
                            lam = l2
            corr = 0.0
            for i in range(N):
                for k in range(m):
                    Unew[i, k + 1] += lam * dU[i, k]
                    e = abs(lam * dU[i, k]) / (atol + rtol * abs(Unew[i, k + 1]))
                    if e > corr:
                        corr = e
                        worst = i
            _fill_dependent(sim, Unew)
            if corr < 1e-3 and lam == 1.0:
                ok = True
                break
        if ok:
            # final evaluation at the converged state (fluxes, markers, warm start)
            st, node = eval_nodes(p, fnval, T, sim, Unew, Ytr, True, MU, DMDU, L, scr)
            if st != STATUS_OK:
                ok = False
                fail_st = st
                fail_node = node
        if not ok:
            stats[S_REJECTED] += 1
            dt *= 0.25
            if dt < 1e-12 * max(t_target, 1.0):
                if fail_node >= 0:
                    stats[S_FAIL_NODE] = fail_node
                    stats[S_FAIL_STATUS] = fail_st
                    return ADV_NODE_FAILED, t, dt
                stats[S_FAIL_NODE] = worst
                stats[S_FAIL_STATUS] = 0
                return ADV_DT_UNDERFLOW, t, dt
            continue
        face_fluxes(sim, Unew, MU, L, Jp, J, T)
        # local error estimate from divided differences of the history
        err = 0.0
        tn = t + dt
        if nh >= 1:
            for i in range(N):
                for k in range(1, n):
                    d1a = (Unew[i, k] - U[i, k]) / dt
                    if nh >= 3:
                        d1b = (U[i, k] - hist_U[1, i, k]) / (t - hist_t[1])
                        d1c = (hist_U[1, i, k] - hist_U[2, i, k]) / (hist_t[1] - hist_t[2])
                        d2a = (d1a - d1b) / (tn - hist_t[1])
                        d2b = (d1b - d1c) / (t - hist_t[2])
                        d3 = (d2a - d2b) / (tn - hist_t[2])
                        e = (4.0 / 3.0) * dt * dt * dt * abs(d3)
                    elif nh >= 2:
                        d1b = (U[i, k] - hist_U[1, i, k]) / (t - hist_t[1])
                        d2a = (d1a - d1b) / (tn - hist_t[1])
                        e = dt * dt * abs(d2a)
                    else:
                        e = 0.0
                    e /= atol + rtol * abs(Unew[i, k])
                    if e > err:
                        err = e
        if err > 1.0:
            stats[S_REJECTED] += 1
            fac = 0.9 * err ** (-1.0 / 3.0)
            dt *= max(0.2, fac)
            continue
        # accept
        _move_markers(sim, zf, Jp, markers, dt)
        for h in range(2, 0, -1):
            hist_t[h] = hist_t[h - 1]
            for i in range(N):
                for k in range(n):
                    hist_U[h, i, k] = hist_U[h - 1, i, k]
        hist_t[0] = tn
        for i in range(N):
            for k in range(n):
                hist_U[0, i, k] = Unew[i, k]
                U[i, k] = Unew[i, k]
            for k in range(Y.shape[1]):
                Y[i, k] = Ytr[i, k]
        if nhist[0] < 3:
            nhist[0] += 1
        t = tn
        steps += 1
        stats[S_STEPS] += 1
        fresh = True
        if err > 0.0:
            fac = 0.9 * err ** (-1.0 / 3.0)
            dt *= min(2.5, max(0.2, fac))
        else:
            dt *= 2.0
        if dt < dt_natural and t >= t_target * (1.0 - 1e-14):
            dt = dt_natural  # the step was cut to land on the output time
    if fresh:
        return ADV_REACHED, t, dt
    # chemical potentials and fluxes of the final state
    code, _ = _evaluate(p, fnval, bvals, sim, t, U, Y, MU, DMDU, L, Jp, J, scr, scr1, stats)
    return code, t, dt
