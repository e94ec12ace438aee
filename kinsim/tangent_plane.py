"""Driving force of one phase at given chemical potentials, from the kernels a one-phase
run compiles anyway (the single-phase equilibrium ``equilibrium_batch`` and ``gm_batch``),
so that checking a run's start costs no compilation of the multiphase kernels.

The driving force of phase b at potentials mu (J/mol of atoms) is the largest
``mu . x - GM_b(x)`` over the compositions x the phase can take (GM_b per mole of atoms,
at the minimum over its internal degrees of freedom): minus the smallest tangent-plane
distance.  For a phase that holds every component with a free composition
(:func:`tangent_plane_maximum`) it is found by Newton's method on the independent mole
fractions: the gradient of GM_b - mu.x is (MU_b,j - MU_b,ref) - (mu_j - mu_ref) and its
Hessian ``dmu_dx``, both from the single-phase kernel, started from the phase's sample
(``kinsim.global_start.sample_phase``) of lowest GM - mu.x, with the
fraction-to-the-boundary rule and an Armijo line search.  For a phase of fixed
composition (:func:`fixed_driving_force`) it is mu.x - GM at its one state.  This is the
definition of ``kinsim.kernels.mpphase.driving_force`` (which maximises over site
fractions) and gives its numbers to rounding.
"""

from __future__ import annotations

import numpy as np

from .global_start import sample_phase
from .kernels.codes import STATUS_OK
from .kernels.gibbs import R
from .kernels.kkt import equilibrium_batch, minimise_flag
from .phaseset_cache import cached_samples

MAX_NEWTON = 100
TOL_DEC = 1e-13  # Newton decrement at convergence, in units of RT
ARMIJO = 1e-4
MAX_HALVINGS = 40


def phase_compositions(params, Y) -> np.ndarray:
    """Mole fractions (S, n) of the states with site fractions Y (S, n_y) of a phase."""
    Y = np.atleast_2d(Y)
    N = np.tile(np.asarray(params.n_const, dtype=float), (Y.shape[0], 1))
    for k in range(params.n_y):
        if params.y_comp[k] >= 0:
            N[:, params.y_comp[k]] += params.y_ratio[k] * Y[:, k]
    return N / N.sum(axis=1, keepdims=True)


def fixed_driving_force(model, MU, T: float) -> np.ndarray:
    """mu . x - GM (J/mol of atoms) of a phase of fixed composition (no site variables)
    at each row of the potentials MU (N, n)."""
    p = model.params
    x = phase_compositions(p, np.zeros((1, p.n_y)))[0]
    gm = model.gibbs_energy(np.zeros((1, p.n_y)), T)[0]
    return np.asarray(MU) @ x - gm


def _evaluate(params, T, X, Y):
    """GM, MU, dmu_dx and status of the single-phase equilibrium at X (from Y, updated)."""
    N, n = X.shape
    MU, PD, DMU = np.empty((N, n)), np.empty((N, n, n)), np.empty((N, n - 1, n - 1))
    GM, status = np.empty(N), np.empty(N, dtype=np.int64)
    equilibrium_batch(
        params,
        np.full(N, T),
        np.ascontiguousarray(X),
        Y,
        np.ones(N, dtype=np.int64),
        MU,
        PD,
        DMU,
        GM,
        status,
        minimise_flag(params),
    )
    return GM, MU, DMU, status


def relaxed_samples(params, T: float) -> tuple:
    """(X, Y, GM, ok): the samples of the phase (``sample_phase``), their mole fractions,
    their site fractions relaxed at fixed composition and GM by the single-phase
    equilibrium at T, and which of them converged."""
    Ys = np.ascontiguousarray(sample_phase(params))
    Xs = phase_compositions(params, Ys)
    GMs, _, _, sts = _evaluate(params, T, Xs, Ys)
    return Xs, Ys, GMs, sts == STATUS_OK


def tangent_plane_maximum(model, MU, T: float):
    """The largest mu . x - GM(x) (J/mol of atoms) over the compositions of ``model`` (a
    PhaseModel of a phase holding every component, free composition) for each row of the
    potentials MU (N, n), and the compositions (N, n) where it is reached.  NaN where the
    search fails (no sample of the phase evaluates, or the line search finds no
    decrease above rounding)."""
    p = model.params
    MU = np.atleast_2d(np.asarray(MU, dtype=np.float64))
    N, n = MU.shape
    RT = R * T
    dmu = MU[:, 1:] - MU[:, :1]
    # start: the sample of lowest GM - mu.x
    Xs, Ys, GMs, ok = cached_samples(p, T, relaxed_samples)
    if not ok.any():
        return np.full(N, np.nan), np.full((N, n), np.nan)
    # the sample of lowest tangent-plane distance per row, in blocks of rows that keep the
    # (rows, samples) matrix, the one temporary, near 128 kB (a noisy initial profile has
    # a row per node, the end check of a run a row per node: its scratch stays small next
    # to the run's arrays)
    best = np.empty(N, dtype=np.int64)
    block = max(1, (1 << 14) // max(1, Xs.shape[0]))
    bad = ~ok
    for lo in range(0, N, block):
        tpd = MU[lo : lo + block] @ Xs.T
        np.subtract(GMs[None, :], tpd, out=tpd)
        if bad.any():
            tpd[:, bad] = np.inf
        best[lo : lo + block] = np.argmin(tpd, axis=1)
    X, Y = Xs[best].copy(), Ys[best].copy()
    GM, MUb, H, st = _evaluate(p, T, X, Y)
    f = GM - np.einsum("ij,ij->i", MU, X)
    done = st != STATUS_OK
    failed = done.copy()
    for _ in range(MAX_NEWTON):
        act = np.flatnonzero(~done)
        if act.size == 0:
            break
        g = (MUb[act, 1:] - MUb[act, :1]) - dmu[act]
        # Newton direction with the Hessian shifted to positive definite where it is not
        lam, V = np.linalg.eigh(H[act])
        lam = np.maximum(np.abs(lam), 1e-8 * RT)
        d = -np.einsum("rij,rj,rkj,rk->ri", V, 1.0 / lam, V, g)
        dec = -np.einsum("ri,ri->r", g, d)
        conv = dec < TOL_DEC * RT
        done[act[conv]] = True
        act, d, dec = act[~conv], d[~conv], dec[~conv]
        if act.size == 0:
            break
        dx = np.column_stack([-d.sum(axis=1), d])
        # fraction to the boundary: every mole fraction stays positive
        with np.errstate(divide="ignore", invalid="ignore"):
            lim = np.where(dx < 0.0, 0.99 * X[act] / -dx, np.inf).min(axis=1)
        alpha = np.minimum(1.0, lim)
        pending = np.ones(act.size, dtype=bool)
        for _ in range(MAX_HALVINGS):
            rows = act[pending]
            Xt = X[rows] + alpha[pending, None] * dx[pending]
            Yt = Y[rows].copy()
            GMt, MUt, Ht, stt = _evaluate(p, T, Xt, Yt)
            ft = GMt - np.einsum("ij,ij->i", MU[rows], Xt)
            acc = (stt == STATUS_OK) & np.isfinite(ft) & (ft <= f[rows] - ARMIJO * alpha[pending] * dec[pending])
            r = rows[acc]
            X[r], Y[r], GM[r], MUb[r], H[r], f[r] = Xt[acc], Yt[acc], GMt[acc], MUt[acc], Ht[acc], ft[acc]
            idx = np.flatnonzero(pending)
            pending[idx[acc]] = False
            alpha[idx[~acc]] *= 0.5
            if not pending.any():
                break
        # no decrease: converged to rounding if the decrement is tiny, else a failure
        stuck = act[pending]
        small = dec[pending] < 1e-9 * RT
        done[stuck] = True
        failed[stuck[~small]] = True
    failed |= ~done
    out = np.where(failed, np.nan, -f)
    return out, np.where(failed[:, None], np.nan, X)
