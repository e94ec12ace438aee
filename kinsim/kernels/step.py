"""Time stepping (numba): variable-step BDF2 with Newton on a block-tridiagonal Jacobian
and local error control; forward Euler as an explicit option.

``advance`` is the loop: an implicit step is one ``bdf2_attempt`` (the Newton
iterations at the step's end time), ``bdf2_error`` (the local error estimate from the
divided differences of the history) and ``control_step`` (accept or reject, the next
step size).  One call advances the state until ``t_target`` or ``max_steps`` steps, so
that Python only runs between output times (and to refresh a progress bar).

Variable-step BDF2 with w = dt_n / dt_{n-1}:
    a0 u_{n+1} + a1 u_n + a2 u_{n-1} = dt_n f(u_{n+1}),
    a0 = (1 + 2w) / (1 + w),  a1 = -(1 + w),  a2 = w^2 / (1 + w);
the first step after a start (or a boundary-stage switch) is backward Euler.

With gradient energy (``gradient``, see ``kinsim.kernels.gradient``) the unknowns of
Newton's method are u and the gradient part psi of the exchange potentials per node (the
mixed form), the error control stays on u; without it (``gradient`` None: numba compiles
that case apart, without the mixed form) every accepted state must be outside the
spinodal.

Paths a run does not take are not compiled: ``advance`` takes the optional parts of the
method as arguments that are None when unused (``explicit``, ``gradient``, ``cyclic``),
and numba compiles a specialisation of it in which their branches are pruned before
typing (a None argument, or ``x is None`` on one, is a compile-time constant).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import types

from .._jit import INLINE, INTERNAL, LEAF, jit
from .blocksolve import BlockWork, block_work, solve_block_tridiagonal
from .boundary import boundary_at, boundary_jacobian, is_periodic
from .codes import (
    ADV_DT_UNDERFLOW,
    ADV_MAX_STEPS,
    ADV_NODE_FAILED,
    ADV_REACHED,
    S_FAIL_NODE,
    S_FAIL_STATUS,
    S_NEWTON,
    S_REJECTED,
    S_STEPS,
    STATUS_OK,
)
from .evaluate import evaluate_at, fixed_composition_scratch, state_fluxes, update_to_time
from .flux import interior_jacobian, move_markers, rate_blocks, rates
from .gradient import (
    gradient_fluxes,
    gradient_jacobian,
    gradient_potential,
    mixed_blocks,
    mixed_rhs,
    psi_residual,
    update_psi,
)
from .kernel_ref import KernelRef, call_ref
from .linalg import lu_factor, lu_solve
from .node_models import (
    evaluate_nodes,
    kinetics_kernels,
    node_jacobian,
    node_scratch,
    state_width,
    tfunc_kernels,
    tfunc_sizes,
    unstable_node,
)
from .nodes import fill_dependent
from .schedule import potentials_at

MAX_NEWTON = 12  # Newton iterations per implicit step attempt
NEWTON_TOL = 1e-3  # the Newton iterations' error, scaled by atol + rtol |u| (newton_converged)


class StepperState(NamedTuple):
    """Everything the stepper carries from one call to the next: what ``advance`` takes
    and updates, what a checkpoint stores and what resuming restores.  Scalars are
    one-element arrays so that the kernels can update them."""

    U: np.ndarray  # f8[N, n] u-fractions at time t
    Y: np.ndarray  # f8[N, n_y] site fractions at t (the warm start of the node equilibria; the packed
    #                multiphase state of the homogenization model, kinsim.kernels.homogenization)
    hist_U: np.ndarray  # f8[3, N, n] the last accepted states, newest first (hist_U[0] = U)
    hist_t: np.ndarray  # f8[3] their times (s)
    nhist: np.ndarray  # i8[1] how many of them are valid (1 after a start: backward Euler)
    markers: np.ndarray  # f8[n_markers] Kirkendall marker positions (m)
    stats: np.ndarray  # i8[5] steps, rejected steps, Newton iterations, failed node, its status (S_* slots)
    t: np.ndarray  # f8[1] time (s)
    dt: np.ndarray  # f8[1] the next step size (s)
    t_last_snapshot: np.ndarray  # f8[1] time of the last stored snapshot (s; -1 before the first)
    bc_Y: np.ndarray  # f8[2, n_y] site fractions of the fixed boundary compositions (warm start)
    bc_warm: np.ndarray  # i8[2] 1 when bc_Y of the side holds a solution


class Workspace(NamedTuple):
    """The scratch arrays of ``advance``, allocated once per run (``workspace``)."""

    fnval: np.ndarray  # f8[nfn] the phase's T functions at the current temperature
    bvals: np.ndarray  # f8[nb] their basis terms
    nodes: tuple  # scratch of evaluate_nodes for the N nodes (kinsim.kernels.node_models.node_scratch)
    boundary: tuple  # scratch of a fixed boundary composition (kinsim.kernels.evaluate.fixed_composition_scratch)
    F: np.ndarray  # f8[N, n-1] du/dt of the independent components
    R: np.ndarray  # f8[N, n-1] Newton residual
    dU: np.ndarray  # f8[N, n-1] Newton correction
    Gm: np.ndarray  # f8[N+1, n, n-1] dJ_f/dU_{f-1}
    Gp: np.ndarray  # f8[N+1, n, n-1] dJ_f/dU_f
    X: np.ndarray  # f8[N, n-1, n-1] block Thomas: D'^-1 C per node
    Yb: np.ndarray  # f8[N, n-1] block Thomas: the forward-substituted right-hand side
    Dm: np.ndarray  # f8[n-1, n-1] a diagonal block
    rhs: np.ndarray  # f8[n-1]
    piv: np.ndarray  # i8[n-1]
    U_trial: np.ndarray  # f8[N, n] the state an implicit step tries
    Y_trial: np.ndarray  # f8[N, n_y] its site fractions
    warm: np.ndarray  # i8[N] all 1: every node equilibrium starts from its last site fractions


class CyclicWork(NamedTuple):
    """The scratch of the Newton solve on a periodic grid (``solve_cyclic``; ``cyclic_work``)."""

    Lo: np.ndarray  # f8[N, n-1, n-1] the Newton matrix as cyclic blocks (node i-1)
    Di: np.ndarray  # f8[N, n-1, n-1] ... (node i)
    Up: np.ndarray  # f8[N, n-1, n-1] ... (node i+1)
    blocks: BlockWork  # scratch of the cyclic block solve


class StepKernels(NamedTuple):
    """The kernels ``advance`` calls through kernel references (``kinsim.kernels.kernel_ref``)
    instead of linking them: each compiles on its own, so ``advance`` compiles without it
    (in parallel with it on a cold start) and its cache file carries no copy of it."""

    newton: KernelRef  # newton_step, one Newton step of the sharp model


NEWTON_RETURNS = types.Tuple((types.int64, types.float64, types.float64, types.int64))


def step_kernels(p, problem, fields, work, cyclic) -> StepKernels:
    """The ``kernels`` argument of ``advance`` for these arguments of it."""
    t = 0.0
    newton = KernelRef.for_values(
        newton_step, (p, problem, work.U_trial, fields, t, t, t, work.R, work, cyclic, t, t), NEWTON_RETURNS
    )
    return StepKernels(newton=newton)


def workspace(p, N: int, n: int) -> Workspace:
    """The scratch of ``advance`` for N nodes of n components of the phase (or phases) p."""
    m = n - 1
    nfn, nb = tfunc_sizes(p)
    return Workspace(
        fnval=np.zeros(nfn),
        bvals=np.zeros(nb),
        nodes=node_scratch(p, N),
        boundary=fixed_composition_scratch(p, n),
        F=np.zeros((N, m)),
        R=np.zeros((N, m)),
        dU=np.zeros((N, m)),
        Gm=np.zeros((N + 1, n, m)),
        Gp=np.zeros((N + 1, n, m)),
        X=np.zeros((N, m, m)),
        Yb=np.zeros((N, m)),
        Dm=np.zeros((m, m)),
        rhs=np.zeros(m),
        piv=np.zeros(m, dtype=np.int64),
        U_trial=np.zeros((N, n)),
        Y_trial=np.zeros((N, state_width(p))),
        warm=np.ones(N, dtype=np.int64),
    )


def cyclic_work(N: int, n: int) -> CyclicWork:
    """The ``cyclic`` argument of ``advance`` on a periodic grid of N nodes of n components."""
    m = n - 1
    return CyclicWork(Lo=np.zeros((N, m, m)), Di=np.zeros((N, m, m)), Up=np.zeros((N, m, m)), blocks=block_work(N, m))


def explicit_flag(method: str):
    """The ``explicit`` argument of ``advance`` for the case's ``solver.method``: None for
    the implicit BDF2 (numba then compiles the stepper without forward Euler), True for
    forward Euler."""
    return True if method == "explicit" else None


def is_referenced(kernel) -> bool:
    """Whether ``advance`` calls ``kernel`` through a kernel reference (``StepKernels``)
    rather than linking it."""
    return kernel is newton_step


def stage_kernels(p, problem, state, fields, work, gradient, cyclic) -> list:
    """The kernels ``advance`` calls besides the node equilibrium, each as (kernel,
    arguments of the types ``advance`` calls it with) for these arguments of ``advance``:
    compiled ahead, in a process of their own while a cold run compiles the node
    equilibrium (``kinsim.simulation.precompile``), they leave ``advance`` only its own
    compilation.  (tests/kernels/test_stage_kernels.py checks that the list is complete.)"""
    t = 0.0  # times, temperatures, step sizes, coefficients and tolerances are float64
    nh = state.nhist[0]
    U, Unew, Ytr = state.U, work.U_trial, work.Y_trial
    grid, material = problem.grid, problem.material
    calls = [
        (bdf2_coefficients, (t, t, state.hist_t, nh)),
        (bdf2_predictor, (U, state.Y, state.hist_U, t, nh, Unew, Ytr)),
        (rates, (grid, material, fields.J, work.F)),
        (bdf2_residual, (U, Unew, state.hist_U, work.F, t, t, t, t, nh, work.R)),
        (fill_dependent, (material, Unew)),
        (bdf2_error, (Unew, U, state.hist_U, state.hist_t, nh, t, t, t, t)),
        (control_step, (t, t)),
        (move_markers, (grid, material, fields.Jp, state.markers, t)),
        (accept_step, (state, Unew, Ytr, t)),
        (potentials_at, (problem.schedules, t, fields.PHI, problem.boundary_state.phi)),
        (boundary_at, (problem.boundary, problem.boundary_state, material, 0, t, t, work.boundary[0])),
    ]
    # the sharp model's stages: numba prunes a branch on ``x is None`` only where x is None,
    # so the stepper of the gradient-energy model calls them too
    calls += [(state_fluxes, (problem, U, fields, t))]
    if gradient is not None:
        calls += [
            (gradient_potential, (grid, problem.boundary, gradient.kappa, U, gradient.psi)),
            (gradient_fluxes, (problem, gradient, U, fields, t)),
            (mixed_newton_step, (problem, gradient, Unew, fields, t, t, t, work.R, work, t, t)),
        ]
    calls += kinetics_kernels(p, work.fnval, problem, U, state.Y, fields, work.nodes)
    calls += tfunc_kernels(p, work.bvals, work.fnval)
    # the kernels of references last (a cold run, sharing the helper's list from its end,
    # starts with the largest); advance does not link them, they are called all the same
    return calls + [(newton_step, (p, problem, Unew, fields, t, t, t, work.R, work, cyclic, t, t))]


@jit(**LEAF)
def bdf2_coefficients(dt, t, hist_t, nh):
    """(w, a0, a1, a2) of a step of size dt from t: BDF2 with the previous step
    t - hist_t[1] when two states are known (nh >= 2), backward Euler otherwise."""
    if nh >= 2:
        w = dt / (t - hist_t[1])
        return w, (1.0 + 2.0 * w) / (1.0 + w), -(1.0 + w), w * w / (1.0 + w)
    return 0.0, 1.0, -1.0, 0.0


@jit(**INLINE)
def jacobian_blocks(problem, U, fields, T, Gm, Gp):
    """dJ_f/dU_{f-1} (Gm[f]) and dJ_f/dU_f (Gp[f]), n x n-1 per face, of the state U
    whose nodes ``fields`` holds, with L' and the frame factor frozen."""
    pr = problem
    Gm[:, :, :] = 0.0
    Gp[:, :, :] = 0.0
    interior_jacobian(pr.grid, pr.material, pr.onsager, U, fields.DMDU, fields.L, T, Gm, Gp)
    boundary_jacobian(
        pr.grid, pr.material, pr.onsager, pr.boundary, pr.boundary_state, U, fields.DMDU, fields.L, fields.M, T, Gm, Gp
    )


@jit(**INLINE)
def solve_block_tridiag(grid, material, a0, dt, Gm, Gp, R, dU, X, Y, Dm, rhs, piv):
    """(a0 I - dt dF/dU) dU = -R for the independent components (block Thomas); 1 when a
    diagonal block is singular."""
    N = R.shape[0]
    m = R.shape[1]
    Vs = material.Vs
    for i in range(N):
        c = Vs / grid.volume[i]
        Al = grid.area[i]
        Ar = grid.area[i + 1]
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


@jit(**LEAF)
def solve_cyclic(problem, a0, dt, Gm, Gp, R, dU, cyclic):
    """``solve_block_tridiag`` on a periodic grid, (a0 I - dt dF/dU) dU = -R with the
    corner blocks of the face that joins the ends (``kinsim.kernels.blocksolve``; the
    scratch ``cyclic`` from ``cyclic_work``); 1 when a block of the elimination is
    singular."""
    rate_blocks(
        problem.grid,
        problem.material,
        is_periodic(problem.boundary),
        dt,
        Gm,
        Gp,
        cyclic.Lo,
        cyclic.Di,
        cyclic.Up,
        0,
    )
    for i in range(R.shape[0]):
        for k in range(R.shape[1]):
            cyclic.Di[i, k, k] += a0
            dU[i, k] = -R[i, k]
    return solve_block_tridiagonal(cyclic.Lo, cyclic.Di, cyclic.Up, dU, cyclic.blocks)


@jit(**INTERNAL)
def newton_step(p, problem, Unew, fields, T, a0, dt, Rs, work, cyclic, rtol, atol):
    """One Newton step of the sharp model on the trial state Unew, whose nodes ``fields``
    holds, with the BDF2 residual Rs: the Jacobian blocks of the face fluxes (the
    workspace's Gm, Gp, with the node model's own terms), the block solve (cyclic on a
    periodic grid: ``cyclic`` its scratch, None otherwise), the damped update.  Returns
    (1 when the Newton matrix is singular, else 0; the largest scaled correction of u;
    the damping factor; its node), like ``mixed_newton_step``."""
    jacobian_blocks(problem, Unew, fields, T, work.Gm, work.Gp)
    node_jacobian(p, work.nodes, problem, Unew, fields, T, work.Gm, work.Gp)
    if cyclic is not None:
        if solve_cyclic(problem, a0, dt, work.Gm, work.Gp, Rs, work.dU, cyclic) != 0:
            return 1, 0.0, 0.0, -1
    elif (
        solve_block_tridiag(
            problem.grid,
            problem.material,
            a0,
            dt,
            work.Gm,
            work.Gp,
            Rs,
            work.dU,
            work.X,
            work.Yb,
            work.Dm,
            work.rhs,
            work.piv,
        )
        != 0
    ):
        return 1, 0.0, 0.0, -1
    corr, lam, node = newton_update(Unew, work.dU, rtol, atol)
    return 0, corr, lam, node


@jit(**LEAF)
def mixed_newton_step(problem, gradient, Unew, fields, T, a0, dt, Rs, work, rtol, atol):
    """One Newton step of the mixed form (``kinsim.kernels.gradient``) on the trial state
    Unew, gradient.psi with the BDF2 residual Rs of u: the residual of psi, the Jacobian
    blocks of u (the workspace's Gm, Gp) and psi, the block solve, the damped update.
    Returns (1 when the Newton matrix is singular, else 0; the largest scaled correction
    of u; the damping factor; its node)."""
    pr = problem
    m = Rs.shape[1]
    psi_residual(pr.grid, pr.boundary, gradient.kappa, Unew, gradient.psi, gradient.Rpsi)
    gradient_jacobian(pr, gradient, Unew, fields.DMDU, fields.L, work.Gm, work.Gp)
    mixed_blocks(
        pr.grid,
        pr.material,
        pr.boundary,
        gradient.kappa,
        a0,
        dt,
        work.Gm,
        work.Gp,
        gradient.Gm,
        gradient.Gp,
        gradient.Lo,
        gradient.Di,
        gradient.Up,
    )
    mixed_rhs(Rs, gradient.Rpsi, gradient.sol)
    if solve_block_tridiagonal(gradient.Lo, gradient.Di, gradient.Up, gradient.sol, gradient.blocks) != 0:
        return 1, 0.0, 0.0, -1
    corr, lam, node = newton_update(Unew, gradient.sol[:, :m], rtol, atol)
    update_psi(gradient.psi, gradient.sol, lam)
    return 0, corr, lam, node


@jit(**INLINE)
def newton_converged(corr, lam, last):
    """Whether the Newton iterate after an undamped (lam = 1) correction of scaled size
    corr is within NEWTON_TOL of the solution (in units of the tolerances): corr itself
    is, or, converging at the rate r = corr / last < 1 from the previous correction
    ``last`` (inf: none), the corrections still to come sum to at most
    r / (1 - r) corr = corr^2 / (last - corr) (Hairer & Wanner, Solving ODEs II,
    section IV.8): one iteration fewer where Newton converges fast."""
    if lam != 1.0:
        return False
    if corr < NEWTON_TOL:
        return True
    return corr < last < np.inf and corr * corr < NEWTON_TOL * (last - corr)


@jit(**INLINE)
def bdf2_attempt(p, T, problem, state, t, dt, rtol, atol, fields, work, gradient, cyclic, kernels):
    """One implicit step of size dt from state.t = t at temperature T (the boundary
    states already at t + dt): the predictor, then Newton iterations on the BDF2 residual
    until they are within NEWTON_TOL of the solution (``newton_converged``), then the
    nodes of the solution.  The trial state is work's (U_trial, Y_trial) and, with gradient energy,
    gradient.psi (started from the predictor's); on a periodic grid the Newton matrix is
    solved with the scratch ``cyclic`` (None otherwise); the sharp model's Newton step is
    the kernel of ``kernels.newton``.  Returns (converged, failed status, failed node,
    node of the largest Newton correction)."""
    F, Rs, Unew, Ytr = work.F, work.R, work.U_trial, work.Y_trial
    U = state.U
    hist_U = state.hist_U
    nh = state.nhist[0]
    w, a0, a1, a2 = bdf2_coefficients(dt, t, state.hist_t, nh)
    bdf2_predictor(U, state.Y, hist_U, w, nh, Unew, Ytr)
    if gradient is not None:
        gradient_potential(problem.grid, problem.boundary, gradient.kappa, Unew, gradient.psi)
    ok = False
    converged = False
    fail_st = 0
    fail_node = -1
    worst = -1  # node of the largest Newton correction (reported when Newton fails)
    last = np.inf  # the previous undamped scaled correction
    for it in range(MAX_NEWTON + 1):
        if it == MAX_NEWTON and not converged:
            break
        st, node = evaluate_nodes(
            p,
            work.fnval,
            T,
            problem.material,
            problem.onsager,
            Unew,
            Ytr,
            work.warm,
            fields.MU,
            fields.DMDU,
            fields.L,
            work.nodes,
        )
        if st != STATUS_OK:
            fail_st = st
            fail_node = node
            break
        if converged:
            ok = True  # and the nodes of the converged state are evaluated (fluxes, markers, warm start)
            break
        if gradient is None:
            state_fluxes(problem, Unew, fields, T)
        else:
            gradient_fluxes(problem, gradient, Unew, fields, T)
        rates(problem.grid, problem.material, fields.J, F)
        bdf2_residual(U, Unew, hist_U, F, a0, a1, a2, dt, nh, Rs)
        if gradient is None:
            singular, corr, lam, node = call_ref(
                kernels.newton, (p, problem, Unew, fields, T, a0, dt, Rs, work, cyclic, rtol, atol)
            )
        else:
            singular, corr, lam, node = mixed_newton_step(
                problem, gradient, Unew, fields, T, a0, dt, Rs, work, rtol, atol
            )
        if singular != 0:
            break
        state.stats[S_NEWTON] += 1
        if node >= 0:
            worst = node
        fill_dependent(problem.material, Unew)
        converged = newton_converged(corr, lam, last)
        last = corr if lam == 1.0 else np.inf
    return ok, fail_st, fail_node, worst


@jit(**INTERNAL)
def bdf2_predictor(U, Y, hist_U, w, nh, Unew, Ytr):
    """The trial state of a step: u linearly extrapolated from the last two states (w:
    the ratio of the step sizes; no extrapolation after a start, nh < 2, and none that
    would make an independent u non-positive), the site fractions of the current state."""
    N = U.shape[0]
    n = U.shape[1]
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


@jit(**INTERNAL)
def bdf2_residual(U, Unew, hist_U, F, a0, a1, a2, dt, nh, R):
    """The BDF2 residual a0 u_{n+1} + a1 u_n + a2 u_{n-1} - dt f(u_{n+1}) of the
    independent components (a2 only when two states are known, nh >= 2)."""
    for i in range(R.shape[0]):
        for k in range(R.shape[1]):
            r = a0 * Unew[i, k + 1] + a1 * U[i, k + 1] - dt * F[i, k]
            if nh >= 2:
                r += a2 * hist_U[1, i, k + 1]
            R[i, k] = r


@jit(**INLINE)
def newton_update(Unew, dU, rtol, atol):
    """Apply the Newton correction dU to the independent components of Unew, damped so
    that every u stays positive.  Returns (the largest correction scaled by
    atol + rtol |u|, the damping factor, its node or -1 when every correction is 0)."""
    N = dU.shape[0]
    m = dU.shape[1]
    lam = 1.0
    for i in range(N):
        for k in range(m):
            if dU[i, k] < 0.0 and Unew[i, k + 1] + dU[i, k] <= 0.0:
                l2 = 0.9 * Unew[i, k + 1] / (-dU[i, k])
                if l2 < lam:
                    lam = l2
    corr = 0.0
    worst = -1
    for i in range(N):
        for k in range(m):
            Unew[i, k + 1] += lam * dU[i, k]
            e = abs(lam * dU[i, k]) / (atol + rtol * abs(Unew[i, k + 1]))
            if e > corr:
                corr = e
                worst = i
    return corr, lam, worst


@jit(**LEAF)
def bdf2_error(Unew, U, hist_U, hist_t, nh, t, dt, rtol, atol):
    """Local error estimate of the step t -> t + dt (U -> Unew), scaled by
    atol + rtol |u| (accept when <= 1): (4/3) dt^3 |third divided difference| over the
    history (BDF2), dt^2 |second divided difference| after a backward-Euler step, 0 for
    the first step."""
    N = U.shape[0]
    n = U.shape[1]
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
    return err


@jit(**LEAF)
def control_step(err, dt):
    """The step-size controller: (accept, the next step size) after a step of size dt
    with scaled error estimate err.  Rejected when err > 1 (shrunk by at most 5x);
    accepted steps grow by 0.9 err^(-1/3) within [0.2, 2.5], or double when err = 0."""
    if err > 1.0:
        fac = 0.9 * err ** (-1.0 / 3.0)
        return False, dt * max(0.2, fac)
    if err > 0.0:
        fac = 0.9 * err ** (-1.0 / 3.0)
        return True, dt * min(2.5, max(0.2, fac))
    return True, dt * 2.0


@jit(**INTERNAL)
def accept_step(state, Unew, Ytr, tn):
    """Make the trial state (Unew, Ytr) at tn the state: push it onto the history."""
    U = state.U
    Y = state.Y
    hist_U = state.hist_U
    hist_t = state.hist_t
    N = U.shape[0]
    n = U.shape[1]
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
    if state.nhist[0] < 3:
        state.nhist[0] += 1


@jit(**INLINE)
def explicit_step(p, t, t_target, problem, state, fields, work):
    """One forward-Euler step from t with the largest stable step (at most to t_target):
    dt <= 0.4 min(dz)^2 / max D with D ~ V_s L' dmu/du.  Returns (code, dt)."""
    grid = problem.grid
    material = problem.material
    U = state.U
    N = U.shape[0]
    m = U.shape[1] - 1
    F = work.F
    code, T = evaluate_at(
        p,
        work.fnval,
        work.bvals,
        t,
        problem,
        state.bc_Y,
        state.bc_warm,
        work.boundary,
        U,
        state.Y,
        work.warm,
        fields,
        work.nodes,
        state.stats,
        None,
    )
    if code != ADV_REACHED:
        return code, 0.0
    rates(grid, material, fields.J, F)
    dmax = 0.0
    for i in range(N):
        for k in range(m):
            d = abs(material.Vs * fields.L[i, k + 1] * fields.DMDU[i, k + 1, k])
            if d > dmax:
                dmax = d
    dzmin = grid.dz[0]
    for i in range(grid.dz.shape[0]):
        if grid.dz[i] < dzmin:
            dzmin = grid.dz[i]
    dts = 0.4 * dzmin * dzmin / dmax if dmax > 0 else t_target - t
    dt = min(t_target - t, dts)
    move_markers(grid, material, fields.Jp, state.markers, dt)
    for i in range(N):
        for k in range(m):
            U[i, k + 1] += dt * F[i, k]
    fill_dependent(material, U)
    return ADV_REACHED, dt


@jit(**LEAF)
def advance(p, problem, state, fields, work, t_target, rtol, atol, max_steps, explicit, gradient, cyclic, kernels):
    """Advance the state from state.t towards t_target, by at most max_steps steps, with
    the relative / absolute tolerances rtol / atol of the u-fractions (implicit,
    ``explicit`` None) or forward Euler (``explicit`` True; ``explicit_flag``), with the
    scratch ``work`` (``workspace``).  ``gradient``: None (no gradient energy: a node
    inside the spinodal stops the run with ADV_NODE_FAILED and STATUS_SPINODAL), or the
    gradient-energy model with its scratch (``kinsim.kernels.gradient.gradient_model``;
    implicit steps only: the case layer refuses explicit ones).  ``cyclic``: None, or on
    a periodic grid the scratch of its Newton solve (``cyclic_work``).  ``kernels``: the
    kernels it calls through references (``step_kernels``).  Returns an ADV_*
    code; state.t, state.dt and the rest of the state are updated, and ``fields`` (and
    problem.boundary_state) hold the chemical potentials, external potentials and fluxes
    of the final state.  Temperature, boundary values and potentials follow their time
    tables: an implicit step evaluates them at its end time, an explicit step at its
    start."""
    U = state.U
    stats = state.stats
    Unew = work.U_trial
    t = state.t[0]
    dt = state.dt[0]
    steps = 0
    code = ADV_REACHED
    fresh = False  # fields belong to U (set by an accepted implicit step)
    while t < t_target * (1.0 - 1e-14):
        if steps >= max_steps:
            code = ADV_MAX_STEPS
            break
        dt_natural = dt
        if dt > t_target - t:
            dt = t_target - t
        if explicit is not None and gradient is None:
            code, dt_stable = explicit_step(p, t, t_target, problem, state, fields, work)
            if code != ADV_REACHED:
                break
            dt = dt_stable
            t += dt
            steps += 1
            stats[S_STEPS] += 1
            fresh = False
            continue
        # ---- implicit BDF2 (backward Euler for the first step)
        fresh = False  # the attempt overwrites the fields
        code, T = update_to_time(
            p, work.fnval, work.bvals, t + dt, problem, state.bc_Y, state.bc_warm, work.boundary, fields.PHI, stats
        )
        if code != ADV_REACHED:
            break
        ok, fail_st, fail_node, worst = bdf2_attempt(
            p, T, problem, state, t, dt, rtol, atol, fields, work, gradient, cyclic, kernels
        )
        if not ok:
            stats[S_REJECTED] += 1
            dt *= 0.25
            if dt < 1e-12 * max(t_target, 1.0):
                if fail_node >= 0:
                    stats[S_FAIL_NODE] = fail_node
                    stats[S_FAIL_STATUS] = fail_st
                    code = ADV_NODE_FAILED
                else:
                    stats[S_FAIL_NODE] = worst
                    stats[S_FAIL_STATUS] = 0
                    code = ADV_DT_UNDERFLOW
                break
            continue
        if gradient is None:
            state_fluxes(problem, Unew, fields, T)
        else:
            gradient_fluxes(problem, gradient, Unew, fields, T)
        err = bdf2_error(Unew, U, state.hist_U, state.hist_t, state.nhist[0], t, dt, rtol, atol)
        accepted, dt_next = control_step(err, dt)
        if not accepted:
            stats[S_REJECTED] += 1
            dt = dt_next
            continue
        move_markers(problem.grid, problem.material, fields.Jp, state.markers, dt)
        tn = t + dt
        accept_step(state, Unew, work.Y_trial, tn)
        t = tn
        steps += 1
        stats[S_STEPS] += 1
        fresh = True
        dt = dt_next
        if dt < dt_natural and t >= t_target * (1.0 - 1e-14):
            dt = dt_natural  # the step was cut to land on the output time
        if gradient is None:
            # the accepted state's nodes (the last evaluation of the attempt) must be
            # outside the spinodal
            st, node = unstable_node(p, work.nodes)
            if st != STATUS_OK:
                stats[S_FAIL_NODE] = node
                stats[S_FAIL_STATUS] = st
                code = ADV_NODE_FAILED
                break
    if code == ADV_REACHED and not fresh:
        # chemical potentials and fluxes of the final state
        code, _ = evaluate_at(
            p,
            work.fnval,
            work.bvals,
            t,
            problem,
            state.bc_Y,
            state.bc_warm,
            work.boundary,
            U,
            state.Y,
            work.warm,
            fields,
            work.nodes,
            stats,
            gradient,
        )
    state.t[0] = t
    state.dt[0] = dt
    return code
