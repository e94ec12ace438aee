"""The moving-boundary stepper (numba): single-phase regions whose nodes follow moving
sharp interfaces, stepped by variable-step BDF2 with Newton on one system for the
compositions, the interface states and the interface positions, and local error
control (``kinsim.kernels.step``'s coefficients and controller).

Conservative form on the moving grid (Landau coordinates, kinsim.kernels.regions).  For
every cell i and independent component k, with the content q = u V (u-fraction times
cell volume) and the transport T_f = dt V_s A_f J_f - u_f dVol_f through face f over the
step (J the volume-fixed face flux, u_f the mean of the two nodes, at a wall the wall's
state; dVol_f = a0 Vol(z_f) + a1 Vol(z_f^n) + a2 Vol(z_f^(n-1)) the BDF combination of the
volume coordinate of the moving face, i.e. dt A_f times its velocity), the residual is
the content balance

    R_i = a0 q_i + a1 q_i^n + a2 q_i^(n-1) + T_(i+1/2) - T_(i-1/2)

Every T appears once with + and once with - (the interfaces' through the shared exchange
e of kinsim.kernels.interface, the outer ends closed or their boundary condition), so
the contents telescope: with closed ends sum_i q_i is the same at every step.  The
Newton update, a linearisation of these content balances (not of R_i / V_i, whose
linearisation in the positions carries R_i dV_i), keeps the sum to second order in the
last correction, i.e. to round-off.  A uniform u stays uniform on any moving grid (the
volumes and the dVol come from the same face coordinates).

Newton system.  Unknowns in chain order: the nodes of each active region (m = n - 1
each), and between two regions the interface block [u^a, e, u^b] (3m), bordered by the
positions of the moving interfaces (one each; their dense columns are finite
differences of the residual in the position, which changes only the geometry).  The
bordered block-tridiagonal system is solved by ``kinsim.kernels.bordered``.  Converged
when the largest correction is below 1e-3 of atol + rtol |u| (u) and of
rtol min(adjacent widths) + atol L (positions, L the specimen's length), undamped.

The local error of a step is the BDF2 estimate of ``kinsim.kernels.step.bdf2_error`` over
the nodes of every region and over the interface positions (scaled the same way).
``advance_regions`` stops with ADV_REGION_VANISHED when a region has become narrower than
its vanishing width, for Python to remove it.

Compilation (kinsim._jit).  ``advance_regions`` calls ``moving_attempt`` (the Newton
iterations of a step attempt: the node evaluation, the residual, the Newton matrix and its
bordered solve) through a kernel reference (``MovingKernels``, made once per run by
``moving_kernels``): the two compile on their own, so ``advance_regions`` is not
optimised again with a copy of the whole Newton system, and a cold run compiles them in
parallel (kinsim.simulation.precompile, ``stage_kernels``).  One reference call per step
attempt.  Every other kernel here and in kinsim.kernels.regions is INTERNAL: only
``advance_regions`` is called from Python, and the Python wrappers of the others (which
unbox the problem's, state's and scratch's NamedTuples of arrays) would be optimised
again in every kernel that links them.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import types

from .._jit import INLINE, INTERNAL, LEAF, jit
from .bordered import bordered_solve
from .boundary import boundary_fluxes, boundary_jacobian
from .codes import (
    ADV_DT_UNDERFLOW,
    ADV_MAX_STEPS,
    ADV_REACHED,
    ADV_REGION_VANISHED,
    S_FAIL_NODE,
    S_FAIL_STATUS,
    S_NEWTON,
    S_REJECTED,
    S_STEPS,
    STATUS_OK,
    WALL_END,
)
from .flux import face_flux, face_flux_derivative, to_volume_frame
from .gibbs import R
from .interface import interface_equations, position_row
from .kernel_ref import KernelRef, call_ref
from .nodes import fill_dependent, kinetics_kernels, node_scratch, unstable_node
from .regions import (
    boundary_rows,
    conditions_at,
    evaluate_regions,
    face_volumes,
    first_last_active,
    next_active,
    outer_distances,
    region_extent,
    region_failure,
    row_positions,
    store_fixed_compositions,
)
from .step import MAX_NEWTON, bdf2_coefficients, bdf2_error, control_step


class RegionFields(NamedTuple):
    """What the kernels derive from the state, per row (faces: the row of the face, see
    kinsim.kernels.regions); after ``advance_regions`` they belong to its final state."""

    MU: np.ndarray  # f8[E, n] chemical potentials (J/mol)
    DMDU: np.ndarray  # f8[E, n, n-1] dmu_a/du_j (J/mol)
    L: np.ndarray  # f8[E, n] diagonal Onsager coefficients L' (mol^2/(J m s))
    Jp: np.ndarray  # f8[E, n] lattice-fixed face fluxes (mol m^-2 s^-1)
    J: np.ndarray  # f8[E, n] volume-fixed face fluxes (mol m^-2 s^-1)


class MovingWork(NamedTuple):
    """The scratch of ``advance_regions``, allocated once per run (``moving_workspace``)."""

    fnvals: tuple  # per region: its phase's T functions at the current temperature
    bvals: tuple  # per region: their basis terms
    scratch: tuple  # per region: kinsim.kernels.nodes.node_scratch of its rows
    Ys: tuple  # per region: (rows, n_y) views of the state's site fractions
    Ytr: tuple  # per region: views of Y_trial
    Y_trial: np.ndarray  # f8[*] the trial site fractions (flat, as the state's)
    warm: np.ndarray  # i8[E] all 1: the node equilibria start from their last site fractions
    U_trial: np.ndarray  # f8[E, n] the state a step tries
    walls_trial: np.ndarray  # f8[S + 1] its wall positions
    exch_trial: np.ndarray  # f8[S + 1, n] its interface exchange
    walls_fd: np.ndarray  # f8[S + 1] wall positions of a finite-difference column
    fixed: np.ndarray  # i8[2] 1 when a side has a fixed boundary composition
    bcU: np.ndarray  # f8[2, n] the fixed boundary compositions (u) at the step's time
    U1: np.ndarray  # f8[1, n] scratch of boundary_at
    zr: np.ndarray  # f8[E] row positions (m)
    VF: np.ndarray  # f8[3, E] volume coordinate of every face at t + dt, t, t - dt_prev
    area: np.ndarray  # f8[E] face areas at t + dt
    no_area: np.ndarray  # f8[0]
    dvol: np.ndarray  # f8[E] dVol of every face
    Vc: np.ndarray  # f8[3, E] cell volumes of every node row at t + dt, t, t - dt_prev
    Gm: np.ndarray  # f8[E, n, m] dJ_f / d(u of the face's left row)
    Gp: np.ndarray  # f8[E, n, m] dJ_f / d(u of its right row)
    U2: np.ndarray  # f8[2, n] the nodes next to the outer ends, as kinsim.kernels.boundary sees them
    L2: np.ndarray  # f8[2, n]
    M2: np.ndarray  # f8[2, n]
    DM2: np.ndarray  # f8[2, n, m]
    bJp: np.ndarray  # f8[3, n] outer face fluxes (rows 0 and 2)
    bJ: np.ndarray  # f8[3, n]
    bGm: np.ndarray  # f8[3, n, m]
    bGp: np.ndarray  # f8[3, n, m]
    bkind: np.ndarray  # i8[B] chain block: 0 a node, 1 an interface
    brow: np.ndarray  # i8[B] its row (node) or wall (interface)
    bra: np.ndarray  # i8[B] interface: the end row of its left region
    brb: np.ndarray  # i8[B] interface: the end row of its right region
    bsize: np.ndarray  # i8[B] unknowns of the block
    boff: np.ndarray  # i8[B] their offset in the flat vector
    counts: np.ndarray  # i8[3] blocks, flat unknowns, moving walls
    wcol: np.ndarray  # i8[S + 1] bordered column of a moving wall, -1 for others
    wrow: np.ndarray  # i8[S + 1] the local interface row of its position (-1: merged)
    wlist: np.ndarray  # i8[S + 1] the wall of each bordered column
    wleft: np.ndarray  # i8[S + 1] the region left of each interface
    wright: np.ndarray  # i8[S + 1] the region right of it
    vref: np.ndarray  # f8[S + 1] reference volume of each interface
    Fl: np.ndarray  # f8[3m + 1] interface residuals
    Jl: np.ndarray  # f8[3m + 1, 5m] their derivatives
    F: np.ndarray  # f8[X] residual of the chain unknowns
    Fs: np.ndarray  # f8[S + 1] residual of the position rows
    F1: np.ndarray  # f8[X] the same at perturbed positions
    Fs1: np.ndarray  # f8[S + 1]
    rhs: np.ndarray  # f8[X]
    rhs_s: np.ndarray  # f8[S + 1]
    Dg: np.ndarray  # f8[B, 3m, 3m] diagonal blocks
    Lo: np.ndarray  # f8[B, 3m, 3m] blocks below
    Up: np.ndarray  # f8[B, 3m, 3m] blocks above
    Bc: np.ndarray  # f8[X, S + 1] bordered columns
    Cr: np.ndarray  # f8[S + 1, X] bordered rows
    Ds: np.ndarray  # f8[S + 1, S + 1]
    X: np.ndarray  # f8[B, 3m, 3m] solver scratch
    W: np.ndarray  # f8[X, S + 2]
    A: np.ndarray  # f8[3m, 3m]
    piv: np.ndarray  # i8[3m]
    T: np.ndarray  # f8[3m, 3m + S + 2]
    S: np.ndarray  # f8[S + 1, S + 2]
    spiv: np.ndarray  # i8[S + 1]
    dx: np.ndarray  # f8[X] Newton correction of the chain
    ds: np.ndarray  # f8[S + 1] of the positions
    Pn: np.ndarray  # f8[S + 1, 2] scaled positions (error estimate: column 1)
    Pc: np.ndarray  # f8[S + 1, 2]
    Ph: np.ndarray  # f8[3, S + 1, 2]


def moving_workspace(params, layout, state) -> MovingWork:
    """The scratch of ``advance_regions`` for the regions' phases ``params`` (one
    ThermoParams per region slot)."""
    E, n = state.U.shape
    m = n - 1
    S = layout.start.shape[0]
    B = E
    X = E * m + 3 * m * S
    bm = 3 * m
    Ytr_flat = state.Y.copy()
    return MovingWork(
        fnvals=tuple(np.zeros(p.fn_coef.shape[0]) for p in params),
        bvals=tuple(np.zeros(p.basis_pow.shape[0]) for p in params),
        scratch=tuple(node_scratch(p, int(N) + 2) for p, N in zip(params, layout.nodes)),
        Ys=site_fraction_views(state.Y, params, layout),
        Ytr=site_fraction_views(Ytr_flat, params, layout),
        Y_trial=Ytr_flat,
        warm=np.ones(E, dtype=np.int64),
        U_trial=state.U.copy(),
        walls_trial=state.walls.copy(),
        exch_trial=state.exchange.copy(),
        walls_fd=state.walls.copy(),
        fixed=np.zeros(2, dtype=np.int64),
        bcU=np.zeros((2, n)),
        U1=np.zeros((1, n)),
        zr=np.zeros(E),
        VF=np.zeros((3, E)),
        area=np.zeros(E),
        no_area=np.zeros(0),
        dvol=np.zeros(E),
        Vc=np.ones((3, E)),
        Gm=np.zeros((E, n, m)),
        Gp=np.zeros((E, n, m)),
        U2=np.zeros((2, n)),
        L2=np.zeros((2, n)),
        M2=np.zeros((2, n)),
        DM2=np.zeros((2, n, m)),
        bJp=np.zeros((3, n)),
        bJ=np.zeros((3, n)),
        bGm=np.zeros((3, n, m)),
        bGp=np.zeros((3, n, m)),
        bkind=np.zeros(B, dtype=np.int64),
        brow=np.zeros(B, dtype=np.int64),
        bra=np.zeros(B, dtype=np.int64),
        brb=np.zeros(B, dtype=np.int64),
        bsize=np.zeros(B, dtype=np.int64),
        boff=np.zeros(B, dtype=np.int64),
        counts=np.zeros(3, dtype=np.int64),
        wcol=np.full(S + 1, -1, dtype=np.int64),
        wrow=np.full(S + 1, -1, dtype=np.int64),
        wlist=np.zeros(S + 1, dtype=np.int64),
        wleft=np.full(S + 1, -1, dtype=np.int64),
        wright=np.full(S + 1, -1, dtype=np.int64),
        vref=np.ones(S + 1),
        Fl=np.zeros(bm + 1),
        Jl=np.zeros((bm + 1, 5 * m)),
        F=np.zeros(X),
        Fs=np.zeros(S + 1),
        F1=np.zeros(X),
        Fs1=np.zeros(S + 1),
        rhs=np.zeros(X),
        rhs_s=np.zeros(S + 1),
        Dg=np.zeros((B, bm, bm)),
        Lo=np.zeros((B, bm, bm)),
        Up=np.zeros((B, bm, bm)),
        Bc=np.zeros((X, S + 1)),
        Cr=np.zeros((S + 1, X)),
        Ds=np.zeros((S + 1, S + 1)),
        X=np.zeros((B, bm, bm)),
        W=np.zeros((X, S + 2)),
        A=np.zeros((bm, bm)),
        piv=np.zeros(bm, dtype=np.int64),
        T=np.zeros((bm, bm + S + 2)),
        S=np.zeros((S + 1, S + 2)),
        spiv=np.zeros(S + 1, dtype=np.int64),
        dx=np.zeros(X),
        ds=np.zeros(S + 1),
        Pn=np.zeros((S + 1, 2)),
        Pc=np.zeros((S + 1, 2)),
        Ph=np.zeros((3, S + 1, 2)),
    )


class MovingKernels(NamedTuple):
    """The kernels ``advance_regions`` calls through kernel references
    (``kinsim.kernels.kernel_ref``) instead of linking them: each compiles on its own,
    so ``advance_regions`` compiles without it (in parallel with it on a cold start) and
    its cache file carries no copy of it."""

    attempt: KernelRef  # moving_attempt, one implicit step attempt (the Newton iterations)


ATTEMPT_RETURNS = types.Tuple((types.boolean, types.int64, types.int64))


def moving_kernels(problem, state, fields, work) -> MovingKernels:
    """The ``kernels`` argument of ``advance_regions`` for these arguments of it."""
    t = 0.0  # temperatures, times, step sizes and tolerances are float64
    attempt = KernelRef.for_values(moving_attempt, (problem, state, fields, work, t, t, t, t, t), ATTEMPT_RETURNS)
    return MovingKernels(attempt=attempt)


def is_referenced(kernel) -> bool:
    """Whether ``advance_regions`` calls ``kernel`` through a kernel reference
    (``MovingKernels``) rather than linking it."""
    return kernel is moving_attempt


def stage_kernels(problem, state, fields, work, vanish_width) -> list:
    """The kernels ``advance_regions`` calls besides the node equilibrium, each as
    (kernel, arguments of the types it calls them with) for these arguments of it, those
    it calls through references last (``kinsim.kernels.step.stage_kernels`` for the
    single-phase stepper; ``kinsim.simulation.precompile`` compiles them ahead, and
    tests/kernels/test_stage_kernels.py checks that the list is complete)."""
    t = 0.0  # times, temperatures, step sizes and tolerances are float64
    nh = state.nhist[0]
    lay = problem.layout
    p = problem.params[0]  # every region's parameters have the same type
    rows = state.U[0:2]  # a region's rows: a slice of the per-row arrays
    calls = [
        (conditions_at, (problem, work.fnvals, work.bvals, t, state.active, work.bcU, work.fixed, work.U1)),
        (control_step, (t, t)),
        (step_error, (problem, state, work, t, t, t, t)),
        (new_geometry, (lay, state, work, state.walls, t, t, t, nh)),
        (face_fluxes, (problem, state, work, fields, state.U, t)),
        (accept_regions, (state, work, t)),
        (vanished_region, (lay, state, vanish_width)),
        (place_outer_ends, (lay, state.active, work.fixed, work.bcU, state.U)),
        (store_fixed_compositions, (problem, state.active, work.fixed, state.U, fields.MU, fields.L)),
        (region_failure, (problem, state.active, work.fixed, nh, nh, state.stats)),
    ]
    # the node evaluation of evaluate_state, without the spinodal check (no such check here)
    kinetics = kinetics_kernels(
        p,
        work.fnvals[0],
        problem.material,
        problem.onsager,
        rows,
        work.Ys[0],
        fields.DMDU[0:2],
        fields.L[0:2],
        work.scratch[0],
    )
    calls += [c for c in kinetics if c[0] is not unstable_node]
    # the kernel of the reference last (a cold run, sharing the helper's list from its end,
    # starts with it); advance_regions does not link it
    return calls + [(moving_attempt, (problem, state, fields, work, t, t, t, t, t))]


def site_fraction_views(Y, params, layout) -> tuple:
    """Each region's (rows, n_y) block of the flat site fractions Y, as views."""
    out = []
    off = 0
    for p, N in zip(params, layout.nodes):
        size = (int(N) + 2) * p.n_y
        out.append(Y[off : off + size].reshape(int(N) + 2, p.n_y))
        off += size
    return tuple(out)


def site_fraction_size(params, layout) -> int:
    """Length of the flat site-fraction array of the regions."""
    return int(sum((int(N) + 2) * p.n_y for p, N in zip(params, layout.nodes)))


# ------------------------------------------------------------------------ geometry
@jit(**INTERNAL)
def history_geometry(layout, state, work):
    """Face volume coordinates (VF[1], VF[2]) and cell volumes (Vc[1], Vc[2]) at the two
    accepted times t and t - dt_prev (wall positions hist_walls[0], [1])."""
    for h in range(1, 3):
        face_volumes(
            layout, state.active, state.left_wall, state.right_wall, state.hist_walls[h - 1], work.VF[h], work.no_area
        )
        cell_volumes(layout, state.active, work.VF[h], work.Vc[h])


@jit(**INTERNAL)
def cell_volumes(layout, active, VF, Vc):
    """Cell volumes of the node rows from the face volume coordinates."""
    for r in range(active.shape[0]):
        if active[r] == 0:
            continue
        s = layout.start[r]
        for i in range(s + 1, s + layout.nodes[r] + 1):
            Vc[i] = VF[i] - VF[i - 1]


@jit(**INTERNAL)
def new_geometry(layout, state, work, walls, a0, a1, a2, nh):
    """Row positions, face volume coordinates, areas, cell volumes and dVol at the wall
    positions ``walls`` (t + dt) for the BDF coefficients a0, a1, a2 (a2 with nh >= 2)."""
    active = state.active
    row_positions(layout, active, state.left_wall, state.right_wall, walls, work.zr)
    face_volumes(layout, active, state.left_wall, state.right_wall, walls, work.VF[0], work.area)
    cell_volumes(layout, active, work.VF[0], work.Vc[0])
    VF = work.VF
    for r in range(active.shape[0]):
        if active[r] == 0:
            continue
        s = layout.start[r]
        N = layout.nodes[r]
        for f in range(s, s + N + 1):
            d = a0 * VF[0, f] + a1 * VF[1, f]
            if nh >= 2:
                d += a2 * VF[2, f]
            work.dvol[f] = d
        if state.wall_kind[state.left_wall[r]] == WALL_END:
            work.dvol[s] = 0.0
        if state.wall_kind[state.right_wall[r]] == WALL_END:
            work.dvol[s + N] = 0.0


# ------------------------------------------------------------------------ fluxes
@jit(**INTERNAL)
def face_fluxes(problem, state, work, fields, U, T):
    """J' and J at every face of the active regions (after ``new_geometry``): between
    the face's two rows, and at the outer ends the boundary condition of the side."""
    lay = problem.layout
    pr = problem
    active = state.active
    zr = work.zr
    for r in range(active.shape[0]):
        if active[r] == 0:
            continue
        s = lay.start[r]
        for f in range(s, s + lay.nodes[r] + 1):
            face_flux(
                pr.onsager,
                pr.material,
                fields.L[f],
                fields.L[f + 1],
                fields.MU[f],
                fields.MU[f + 1],
                U[f],
                U[f + 1],
                zr[f + 1] - zr[f],
                T,
                fields.Jp[f],
                fields.J[f],
            )
    s, e = boundary_rows(lay, active)
    outer_distances(problem, active, zr)
    outer_proxies(U, fields, s, e, work)
    boundary_fluxes(
        pr.faces,
        pr.material,
        pr.onsager,
        pr.boundary,
        pr.boundary_state,
        work.U2,
        work.L2,
        work.M2,
        T,
        work.bJp,
        work.bJ,
    )
    n = U.shape[1]
    for k in range(n):
        fields.Jp[s, k] = work.bJp[0, k]
        fields.J[s, k] = work.bJ[0, k]
        fields.Jp[e - 1, k] = work.bJp[2, k]
        fields.J[e - 1, k] = work.bJ[2, k]


@jit(**INTERNAL)
def outer_proxies(U, fields, s, e, work):
    """The nodes next to the outer ends (rows s + 1 and e - 1) as the two nodes of
    kinsim.kernels.boundary's arrays."""
    for k in range(U.shape[1]):
        work.U2[0, k] = U[s + 1, k]
        work.U2[1, k] = U[e - 1, k]
        work.L2[0, k] = fields.L[s + 1, k]
        work.L2[1, k] = fields.L[e - 1, k]
        work.M2[0, k] = fields.MU[s + 1, k]
        work.M2[1, k] = fields.MU[e - 1, k]
        for j in range(U.shape[1] - 1):
            work.DM2[0, k, j] = fields.DMDU[s + 1, k, j]
            work.DM2[1, k, j] = fields.DMDU[e - 1, k, j]


@jit(**INTERNAL)
def place_outer_ends(layout, active, fixed, bcU, U):
    """The outer end rows: the fixed boundary composition of the side, or a copy of the
    nearest node (any state of the phase would do: it carries no flux)."""
    s, e = boundary_rows(layout, active)
    for k in range(U.shape[1]):
        U[s, k] = bcU[0, k] if fixed[0] == 1 else U[s + 1, k]
        U[e, k] = bcU[1, k] if fixed[1] == 1 else U[e - 1, k]


# ------------------------------------------------------------------------ the chain
@jit(**INTERNAL)
def build_chain(layout, state, work):
    """The blocks of the Newton system in chain order, the moving walls (bordered
    columns), each interface's reference volume (the smaller neighbouring cell at t) and
    the row of its position."""
    m = state.U.shape[1] - 1
    active = state.active
    for w in range(work.wcol.shape[0]):
        work.wcol[w] = -1
        work.wrow[w] = -1
        work.wleft[w] = -1
        work.wright[w] = -1
    nb = 0
    off = 0
    nw = 0
    r, _ = first_last_active(active)
    while r >= 0:
        s = layout.start[r]
        N = layout.nodes[r]
        for j in range(N):
            work.bkind[nb] = 0
            work.brow[nb] = s + 1 + j
            work.bsize[nb] = m
            work.boff[nb] = off
            off += m
            nb += 1
        q = next_active(active, r)
        if q >= 0:
            w = state.right_wall[r]
            ra = s + N + 1
            rb = layout.start[q]
            work.bkind[nb] = 1
            work.brow[nb] = w
            work.bra[nb] = ra
            work.brb[nb] = rb
            work.bsize[nb] = 3 * m
            work.boff[nb] = off
            off += 3 * m
            nb += 1
            work.vref[w] = min(work.VF[1, s + N] - work.VF[1, s + N - 1], work.VF[1, rb + 1] - work.VF[1, rb])
            work.wleft[w] = r
            work.wright[w] = q
            srow = position_row(state.wall_kind[w], state.U, ra, rb)
            work.wrow[w] = srow
            if srow >= 0:
                work.wcol[w] = nw
                work.wlist[nw] = w
                nw += 1
        r = q
    work.counts[0] = nb
    work.counts[1] = off
    work.counts[2] = nw


# ------------------------------------------------------------------------ residual
@jit(**INTERNAL)
def _transport(state, work, fields, U, EX, s, N, f, k, r, c):
    """T_f of component k (module docstring) through face row f of region r (first face
    row s, N nodes); c = dt V_s."""
    if f == s or f == s + N:
        w = state.left_wall[r] if f == s else state.right_wall[r]
        if state.wall_kind[w] != WALL_END:
            return work.vref[w] * EX[w, k]
        return c * work.area[f] * fields.J[f, k]
    return c * work.area[f] * fields.J[f, k] - 0.5 * (U[f, k] + U[f + 1, k]) * work.dvol[f]


@jit(**INTERNAL)
def assemble_residual(problem, state, work, fields, U, EX, walls, a0, a1, a2, nh, dt, T, F, Fs):
    """The residual of the chain unknowns (F) and of the position rows (Fs) at the
    trial state (U, EX, walls), whose rows ``fields`` holds (MU, DMDU, L)."""
    lay = problem.layout
    new_geometry(lay, state, work, walls, a0, a1, a2, nh)
    face_fluxes(problem, state, work, fields, U, T)
    c = dt * problem.material.Vs
    RT = R * T
    m = U.shape[1] - 1
    hist = state.hist_U
    for b in range(work.counts[0]):
        o = work.boff[b]
        if work.bkind[b] == 0:
            i = work.brow[b]
            r = _region_of_row(lay, state.active, i)
            s = lay.start[r]
            N = lay.nodes[r]
            V = work.Vc[0, i]
            for k in range(1, m + 1):
                q = a0 * U[i, k] * V + a1 * hist[0, i, k] * work.Vc[1, i]
                if nh >= 2:
                    q += a2 * hist[1, i, k] * work.Vc[2, i]
                tr = _transport(state, work, fields, U, EX, s, N, i, k, r, c)
                tl = _transport(state, work, fields, U, EX, s, N, i - 1, k, r, c)
                F[o + k - 1] = q + tr - tl
        else:
            w = work.brow[b]
            ra = work.bra[b]
            rb = work.brb[b]
            interface_equations(
                state.wall_kind[w],
                problem.material.subst,
                ra,
                rb,
                ra - 1,
                rb,
                U,
                fields.MU,
                fields.DMDU,
                fields.J,
                work.Gm,
                work.Gp,
                work.area,
                work.dvol,
                EX[w],
                work.vref[w],
                dt,
                problem.material.Vs,
                RT,
                work.Fl,
                work.Jl,
            )
            skip = work.wrow[w] if work.wrow[w] >= 0 else m
            q = 0
            for row in range(3 * m + 1):
                if row == skip:
                    continue
                F[o + q] = work.Fl[row]
                q += 1
            if work.wcol[w] >= 0:
                Fs[work.wcol[w]] = work.Fl[work.wrow[w]]


@jit(**INTERNAL)
def _region_of_row(layout, active, i):
    """The active region that owns row i."""
    for r in range(active.shape[0]):
        if active[r] == 1 and layout.start[r] <= i <= layout.start[r] + layout.nodes[r] + 1:
            return r
    return -1


# ------------------------------------------------------------------------ Jacobian
@jit(**INTERNAL)
def face_derivatives(problem, state, work, fields, U, T):
    """dJ_f/du of both rows of every face (Gm: left row, Gp: right row), L' and the frame
    factor frozen; at the outer ends the boundary condition's (after ``face_fluxes``)."""
    lay = problem.layout
    pr = problem
    active = state.active
    zr = work.zr
    for r in range(active.shape[0]):
        if active[r] == 0:
            continue
        s = lay.start[r]
        for f in range(s, s + lay.nodes[r] + 1):
            d = zr[f + 1] - zr[f]
            mean = pr.material.face_mean
            face_flux_derivative(pr.onsager, mean, fields.L[f], fields.L[f + 1], fields.DMDU[f], d, 1.0, work.Gm[f])
            face_flux_derivative(
                pr.onsager, mean, fields.L[f], fields.L[f + 1], fields.DMDU[f + 1], d, -1.0, work.Gp[f]
            )
            _coefficient_terms(pr.material.subst, fields.L, fields.MU, U, f, f, f + 1, d, work.Gm[f])
            _coefficient_terms(pr.material.subst, fields.L, fields.MU, U, f + 1, f, f + 1, d, work.Gp[f])
            to_volume_frame(pr.material.subst, U[f], U[f + 1], work.Gm[f])
            to_volume_frame(pr.material.subst, U[f], U[f + 1], work.Gp[f])
    s, e = boundary_rows(lay, active)
    work.bGm[:, :, :] = 0.0
    work.bGp[:, :, :] = 0.0
    boundary_jacobian(
        pr.faces,
        pr.material,
        pr.onsager,
        pr.boundary,
        pr.boundary_state,
        work.U2,
        work.DM2,
        work.L2,
        work.M2,
        T,
        work.bGm,
        work.bGp,
    )
    for k in range(U.shape[1]):
        for j in range(U.shape[1] - 1):
            work.Gm[s, k, j] = 0.0
            work.Gp[s, k, j] = work.bGp[0, k, j]
            work.Gm[e - 1, k, j] = work.bGm[2, k, j]
            work.Gp[e - 1, k, j] = 0.0


@jit(**INTERNAL)
def _coefficient_terms(subst, L, MU, U, s, a, b, d, G):
    """Add to G (dJ'/du of row s, at the face between rows a and b at distance d) the
    part of the diagonal L' that is proportional to u_k (L'_kk = u_k M_k / V_s): with
    J'_k = -(L'_a,k + L'_b,k) (M_b,k - M_a,k) / (2 d), dJ'_k/du_s,j gains
    -(M_b,k - M_a,k) / (2 d) L'_s,k / u_s,k du_s,k/du_s,j (u_0 = 1 - sum of the other
    substitutional u).  The cross terms and the composition dependence of M stay frozen."""
    n = G.shape[0]
    for k in range(n):
        if U[s, k] <= 0.0:
            continue
        g = -0.5 * (MU[b, k] - MU[a, k]) / d * L[s, k] / U[s, k]
        if k == 0:
            for j in range(n - 1):
                G[0, j] -= g * subst[j + 1]
        else:
            G[k, k - 1] += g


@jit(**INTERNAL)
def assemble_jacobian(problem, state, work, fields, U, EX, a0, dt, T):
    """The block-tridiagonal part (Dg, Lo, Up) and the bordered rows (Cr) of the Newton
    matrix at the trial state (after ``assemble_residual`` at unperturbed positions)."""
    lay = problem.layout
    face_derivatives(problem, state, work, fields, U, T)
    c = dt * problem.material.Vs
    RT = R * T
    m = U.shape[1] - 1
    nb = work.counts[0]
    nx = work.counts[1]
    for b in range(nb):
        for i in range(3 * m):
            for j in range(3 * m):
                work.Dg[b, i, j] = 0.0
                work.Lo[b, i, j] = 0.0
                work.Up[b, i, j] = 0.0
    for w in range(work.counts[2]):
        for i in range(nx):
            work.Cr[w, i] = 0.0
    for b in range(nb):
        if work.bkind[b] == 0:
            i = work.brow[b]
            r = _region_of_row(lay, state.active, i)
            s = lay.start[r]
            N = lay.nodes[r]
            fl = i - 1
            fr = i
            wl = state.left_wall[r] if fl == s else -1
            wr = state.right_wall[r] if fr == s + N else -1
            iface_l = wl >= 0 and state.wall_kind[wl] != WALL_END
            iface_r = wr >= 0 and state.wall_kind[wr] != WALL_END
            for k in range(m):
                work.Dg[b, k, k] = a0 * work.Vc[0, i]
                for j in range(m):
                    v = 0.0
                    if not iface_r:
                        v += c * work.area[fr] * work.Gm[fr, k + 1, j]
                    if not iface_l:
                        v -= c * work.area[fl] * work.Gp[fl, k + 1, j]
                    work.Dg[b, k, j] += v
                if wr < 0:
                    work.Dg[b, k, k] -= 0.5 * work.dvol[fr]
                if wl < 0:
                    work.Dg[b, k, k] += 0.5 * work.dvol[fl]
                # the block before: the node before, or the interface on the left (its e)
                if wl < 0:
                    for j in range(m):
                        work.Lo[b, k, j] = -c * work.area[fl] * work.Gm[fl, k + 1, j]
                    work.Lo[b, k, k] += 0.5 * work.dvol[fl]
                elif iface_l:
                    work.Lo[b, k, m + k] = -work.vref[wl]
                # the block after: the next node, or the interface on the right (its e)
                if wr < 0:
                    for j in range(m):
                        work.Up[b, k, j] = c * work.area[fr] * work.Gp[fr, k + 1, j]
                    work.Up[b, k, k] -= 0.5 * work.dvol[fr]
                elif iface_r:
                    work.Up[b, k, m + k] = work.vref[wr]
        else:
            w = work.brow[b]
            ra = work.bra[b]
            rb = work.brb[b]
            interface_equations(
                state.wall_kind[w],
                problem.material.subst,
                ra,
                rb,
                ra - 1,
                rb,
                U,
                fields.MU,
                fields.DMDU,
                fields.J,
                work.Gm,
                work.Gp,
                work.area,
                work.dvol,
                EX[w],
                work.vref[w],
                dt,
                problem.material.Vs,
                RT,
                work.Fl,
                work.Jl,
            )
            skip = work.wrow[w] if work.wrow[w] >= 0 else m
            q = 0
            for row in range(3 * m + 1):
                if row == skip:
                    continue
                for j in range(m):
                    work.Lo[b, q, j] = work.Jl[row, j]
                    work.Up[b, q, j] = work.Jl[row, 4 * m + j]
                for j in range(3 * m):
                    work.Dg[b, q, j] = work.Jl[row, m + j]
                q += 1
            col = work.wcol[w]
            if col >= 0:
                row = work.wrow[w]
                for j in range(m):
                    work.Cr[col, work.boff[b - 1] + j] = work.Jl[row, j]
                    work.Cr[col, work.boff[b + 1] + j] = work.Jl[row, 4 * m + j]
                for j in range(3 * m):
                    work.Cr[col, work.boff[b] + j] = work.Jl[row, m + j]


@jit(**INTERNAL)
def wall_columns(problem, state, work, fields, U, EX, walls, a0, a1, a2, nh, dt, T):
    """The bordered columns (Bc) and corner (Ds) of the Newton matrix: forward
    differences of the residual in each moving wall's position (only the geometry
    changes: rows, volumes, areas, dVol, distances)."""
    nx = work.counts[1]
    nw = work.counts[2]
    for c in range(nw):
        w = work.wlist[c]
        _, wa = region_extent(walls, state.left_wall, state.right_wall, work.wleft[w])
        _, wb = region_extent(walls, state.left_wall, state.right_wall, work.wright[w])
        h = 1e-7 * min(wa, wb)
        for v in range(walls.shape[0]):
            work.walls_fd[v] = walls[v]
        work.walls_fd[w] = walls[w] + h
        h = work.walls_fd[w] - walls[w]  # the step as represented
        assemble_residual(problem, state, work, fields, U, EX, work.walls_fd, a0, a1, a2, nh, dt, T, work.F1, work.Fs1)
        for i in range(nx):
            work.Bc[i, c] = (work.F1[i] - work.F[i]) / h
        for i in range(nw):
            work.Ds[i, c] = (work.Fs1[i] - work.Fs[i]) / h


# ------------------------------------------------------------------------ Newton
@jit(**INTERNAL)
def wall_scale(state, work, walls, w, rtol, atol):
    """The accuracy asked of the position of interface w (m): rtol times the narrower
    of its two regions plus atol times the specimen's length."""
    _, wa = region_extent(walls, state.left_wall, state.right_wall, work.wleft[w])
    _, wb = region_extent(walls, state.left_wall, state.right_wall, work.wright[w])
    length = walls[state.wall_kind.shape[0] - 1] - walls[0]
    return rtol * min(wa, wb) + atol * length


@jit(**INTERNAL)
def newton_update_regions(state, work, U, EX, walls, rtol, atol):
    """Apply the Newton correction (dx, ds), damped so that every u stays positive and
    no region loses more than half its width.  Returns (the largest correction scaled by
    atol + rtol |u| or by ``wall_scale``, the damping factor, the row or -1)."""
    m = U.shape[1] - 1
    nb = work.counts[0]
    nw = work.counts[2]
    dx = work.dx
    lam = 1.0
    for b in range(nb):
        o = work.boff[b]
        if work.bkind[b] == 0:
            lam = _positive(U, work.brow[b], dx, o, m, lam)
        else:
            lam = _positive(U, work.bra[b], dx, o, m, lam)
            lam = _positive(U, work.brb[b], dx, o + 2 * m, m, lam)
    for r in range(state.active.shape[0]):
        if state.active[r] == 0:
            continue
        lo, wd = region_extent(walls, state.left_wall, state.right_wall, r)
        d = 0.0
        cl = work.wcol[state.left_wall[r]]
        cr = work.wcol[state.right_wall[r]]
        if cr >= 0:
            d += work.ds[cr]
        if cl >= 0:
            d -= work.ds[cl]
        if d < 0.0 and wd + d < 0.5 * wd:
            lam = min(lam, 0.5 * wd / (-d))
    corr = 0.0
    worst = -1
    for b in range(nb):
        o = work.boff[b]
        if work.bkind[b] == 0:
            corr, worst = _apply(U, work.brow[b], dx, o, m, lam, rtol, atol, corr, worst)
        else:
            w = work.brow[b]
            corr, worst = _apply(U, work.bra[b], dx, o, m, lam, rtol, atol, corr, worst)
            corr, worst = _apply(U, work.brb[b], dx, o + 2 * m, m, lam, rtol, atol, corr, worst)
            for k in range(m):
                EX[w, k + 1] += lam * dx[o + m + k]
    for c in range(nw):
        w = work.wlist[c]
        scale = wall_scale(state, work, walls, w, rtol, atol)
        walls[w] += lam * work.ds[c]
        e = abs(lam * work.ds[c]) / scale
        if e > corr:
            corr = e
            worst = -1
    return corr, lam, worst


@jit(**INTERNAL)
def _positive(U, row, dx, o, m, lam):
    """The damping factor that keeps the u of ``row`` positive."""
    for k in range(m):
        d = dx[o + k]
        if d < 0.0 and U[row, k + 1] + d <= 0.0:
            l2 = 0.9 * U[row, k + 1] / (-d)
            if l2 < lam:
                lam = l2
    return lam


@jit(**INTERNAL)
def _apply(U, row, dx, o, m, lam, rtol, atol, corr, worst):
    """Add lam dx to the u of ``row``; the largest scaled correction so far and its row."""
    for k in range(m):
        U[row, k + 1] += lam * dx[o + k]
        e = abs(lam * dx[o + k]) / (atol + rtol * abs(U[row, k + 1]))
        if e > corr:
            corr = e
            worst = row
    return corr, worst


@jit(**INTERNAL)
def predict(state, work, w, nh):
    """The trial state of a step: u and the wall positions extrapolated linearly from the
    last two states (none after a start, nh < 2; none that would make an independent u
    non-positive or a region narrower than half its width), the site fractions and the
    exchange of the current state."""
    U = state.U
    Un = work.U_trial
    for i in range(U.shape[0]):
        for k in range(U.shape[1]):
            Un[i, k] = U[i, k] + (U[i, k] - state.hist_U[1, i, k]) * w if nh >= 2 else U[i, k]
            if Un[i, k] <= 0.0 and k > 0:
                Un[i, k] = U[i, k]
    P = state.walls
    for v in range(P.shape[0]):
        work.walls_trial[v] = P[v] + (P[v] - state.hist_walls[1, v]) * w if nh >= 2 else P[v]
    for r in range(state.active.shape[0]):
        if state.active[r] == 0:
            continue
        _, w0 = region_extent(P, state.left_wall, state.right_wall, r)
        _, w1 = region_extent(work.walls_trial, state.left_wall, state.right_wall, r)
        if w1 < 0.5 * w0:
            for v in range(P.shape[0]):
                work.walls_trial[v] = P[v]
            break
    for i in range(work.Y_trial.shape[0]):
        work.Y_trial[i] = state.Y[i]
    for v in range(state.exchange.shape[0]):
        for k in range(state.exchange.shape[1]):
            work.exch_trial[v, k] = state.exchange[v, k]


@jit(**INTERNAL)
def moving_attempt(problem, state, fields, work, T, t, dt, rtol, atol):
    """One implicit step of size dt from t at temperature T (the conditions already at
    t + dt): the predictor, then Newton iterations on the whole system until the scaled
    correction is below 1e-3 undamped, then the rows of the solution.  The trial state
    is work's (U_trial, Y_trial, walls_trial, exch_trial).  Returns (converged, failure
    code (ADV_*, 0 for none), the row of the largest Newton correction).

    Compiled on its own: ``advance_regions`` calls it through its kernel reference
    (``MovingKernels.attempt``), once per step attempt."""
    Un = work.U_trial
    EX = work.exch_trial
    walls = work.walls_trial
    nh = state.nhist[0]
    w, a0, a1, a2 = bdf2_coefficients(dt, t, state.hist_t, nh)
    predict(state, work, w, nh)
    history_geometry(problem.layout, state, work)
    build_chain(problem.layout, state, work)
    nx = work.counts[1]
    nw = work.counts[2]
    ok = False
    converged = False
    fail = 0
    worst = -1
    for it in range(MAX_NEWTON + 1):
        if it == MAX_NEWTON and not converged:
            break
        place_outer_ends(problem.layout, state.active, work.fixed, work.bcU, Un)
        st, row = evaluate_regions(
            problem,
            work.fnvals,
            T,
            state.active,
            Un,
            work.Ytr,
            work.warm,
            fields.MU,
            fields.DMDU,
            fields.L,
            work.scratch,
        )
        if st != STATUS_OK:
            fail = region_failure(problem, state.active, work.fixed, row, st, state.stats)
            break
        store_fixed_compositions(problem, state.active, work.fixed, Un, fields.MU, fields.L)
        if converged:
            ok = True
            break
        assemble_residual(problem, state, work, fields, Un, EX, walls, a0, a1, a2, nh, dt, T, work.F, work.Fs)
        assemble_jacobian(problem, state, work, fields, Un, EX, a0, dt, T)
        wall_columns(problem, state, work, fields, Un, EX, walls, a0, a1, a2, nh, dt, T)
        for i in range(nx):
            work.rhs[i] = -work.F[i]
        for i in range(nw):
            work.rhs_s[i] = -work.Fs[i]
        if (
            bordered_solve(
                work.counts[0],
                work.bsize,
                work.boff,
                work.Dg,
                work.Lo,
                work.Up,
                work.Bc,
                work.Cr,
                work.Ds,
                work.rhs,
                work.rhs_s,
                nw,
                work.X,
                work.W,
                work.A,
                work.piv,
                work.T,
                work.S,
                work.spiv,
                work.dx,
                work.ds,
            )
            != 0
        ):
            break
        state.stats[S_NEWTON] += 1
        corr, lam, node = newton_update_regions(state, work, Un, EX, walls, rtol, atol)
        if node >= 0:
            worst = node
        fill_dependent(problem.material, Un)
        # not the single-phase stepper's rate-based test (kinsim.kernels.step.newton_converged):
        # here the sum of u is kept only to second order in the last correction (the
        # positions' terms), and stopping one iteration earlier loses conservation to
        # round-off (tried: the ferrite case took 29 % fewer iterations, but its carbon
        # content drifted by 3e-11 in 2 min)
        converged = corr < 1e-3 and lam == 1.0
    return ok, fail, worst


# ------------------------------------------------------------------------ steps
@jit(**INTERNAL)
def step_error(problem, state, work, t, dt, rtol, atol):
    """The scaled local error estimate of the trial state: the BDF2 estimate of
    kinsim.kernels.step over every node of the active regions (atol + rtol |u|) and over
    the moving interfaces' positions (``wall_scale``)."""
    lay = problem.layout
    nh = state.nhist[0]
    err = 0.0
    for r in range(state.active.shape[0]):
        if state.active[r] == 0:
            continue
        lo = lay.start[r] + 1
        hi = lo + lay.nodes[r]
        e = bdf2_error(work.U_trial[lo:hi], state.U[lo:hi], state.hist_U[:, lo:hi], state.hist_t, nh, t, dt, rtol, atol)
        if e > err:
            err = e
    for v in range(work.Pn.shape[0]):
        for h in range(3):
            work.Ph[h, v, 1] = 0.0
        work.Pn[v, 1] = 0.0
        work.Pc[v, 1] = 0.0
    for c in range(work.counts[2]):
        w = work.wlist[c]
        scale = wall_scale(state, work, state.walls, w, rtol, atol)
        work.Pn[w, 1] = work.walls_trial[w] / scale
        work.Pc[w, 1] = state.walls[w] / scale
        for h in range(3):
            work.Ph[h, w, 1] = state.hist_walls[h, w] / scale
    e = bdf2_error(work.Pn, work.Pc, work.Ph, state.hist_t, nh, t, dt, 0.0, 1.0)
    return max(err, e)


@jit(**INTERNAL)
def accept_regions(state, work, tn):
    """Make the trial state at tn the state: push it onto the history."""
    for h in range(2, 0, -1):
        state.hist_t[h] = state.hist_t[h - 1]
        for i in range(state.U.shape[0]):
            for k in range(state.U.shape[1]):
                state.hist_U[h, i, k] = state.hist_U[h - 1, i, k]
        for v in range(state.walls.shape[0]):
            state.hist_walls[h, v] = state.hist_walls[h - 1, v]
    state.hist_t[0] = tn
    for i in range(state.U.shape[0]):
        for k in range(state.U.shape[1]):
            state.U[i, k] = work.U_trial[i, k]
            state.hist_U[0, i, k] = work.U_trial[i, k]
    for v in range(state.walls.shape[0]):
        state.walls[v] = work.walls_trial[v]
        state.hist_walls[0, v] = work.walls_trial[v]
        for k in range(state.exchange.shape[1]):
            state.exchange[v, k] = work.exch_trial[v, k]
    for i in range(state.Y.shape[0]):
        state.Y[i] = work.Y_trial[i]
    if state.nhist[0] < 3:
        state.nhist[0] += 1


@jit(**INTERNAL)
def vanished_region(layout, state, vanish_width):
    """An active region narrower than its vanishing width, or -1."""
    for r in range(state.active.shape[0]):
        if state.active[r] == 0:
            continue
        _, w = region_extent(state.walls, state.left_wall, state.right_wall, r)
        if w < vanish_width[r]:
            return r
    return -1


@jit(**INLINE)
def evaluate_state(problem, state, fields, work, t):
    """The rows and the face fluxes of the state at time t (no step).  Returns an ADV_*
    code (failures with ``state.stats`` filled)."""
    code, T = conditions_at(problem, work.fnvals, work.bvals, t, state.active, work.bcU, work.fixed, work.U1)
    if code != ADV_REACHED:
        return code
    place_outer_ends(problem.layout, state.active, work.fixed, work.bcU, state.U)
    st, row = evaluate_regions(
        problem,
        work.fnvals,
        T,
        state.active,
        state.U,
        work.Ys,
        work.warm,
        fields.MU,
        fields.DMDU,
        fields.L,
        work.scratch,
    )
    if st != STATUS_OK:
        return region_failure(problem, state.active, work.fixed, row, st, state.stats)
    store_fixed_compositions(problem, state.active, work.fixed, state.U, fields.MU, fields.L)
    # (no dVol: the BDF coefficients are 0, whatever the history count; not the constant
    # 1, with which new_geometry would compile once more, kinsim._jit)
    new_geometry(problem.layout, state, work, state.walls, 0.0, 0.0, 0.0, state.nhist[0])
    face_fluxes(problem, state, work, fields, state.U, T)
    return ADV_REACHED


@jit(**LEAF)
def advance_regions(problem, state, fields, work, vanish_width, t_target, rtol, atol, max_steps, kernels):
    """Advance the regions from state.t towards t_target, by at most max_steps steps,
    with the relative / absolute tolerances rtol / atol of the u-fractions (and of the
    interface positions, ``wall_scale``).  Returns an ADV_* code: ADV_REGION_VANISHED
    (the region in stats[S_FAIL_NODE]) after a step that left a region narrower than its
    ``vanish_width`` (m).  ``kernels``: the kernels it calls through references
    (``moving_kernels``).  state.t, state.dt and the rest of the state are updated;
    ``fields`` hold the rows and fluxes of the final state."""
    stats = state.stats
    t = state.t[0]
    dt = state.dt[0]
    steps = 0
    code = ADV_REACHED
    fresh = False
    while t < t_target * (1.0 - 1e-14):
        if steps >= max_steps:
            code = ADV_MAX_STEPS
            break
        dt_natural = dt
        if dt > t_target - t:
            dt = t_target - t
        fresh = False
        code, T = conditions_at(problem, work.fnvals, work.bvals, t + dt, state.active, work.bcU, work.fixed, work.U1)
        if code != ADV_REACHED:
            break
        ok, fail, worst = call_ref(kernels.attempt, (problem, state, fields, work, T, t, dt, rtol, atol))
        if not ok:
            stats[S_REJECTED] += 1
            dt *= 0.25
            if dt < 1e-12 * max(t_target, 1.0):
                if fail != 0:
                    code = fail
                else:
                    stats[S_FAIL_NODE] = worst
                    stats[S_FAIL_STATUS] = 0
                    code = ADV_DT_UNDERFLOW
                break
            continue
        err = step_error(problem, state, work, t, dt, rtol, atol)
        accepted, dt_next = control_step(err, dt)
        if not accepted:
            stats[S_REJECTED] += 1
            dt = dt_next
            continue
        # (no dVol, as in evaluate_state)
        new_geometry(problem.layout, state, work, work.walls_trial, 0.0, 0.0, 0.0, state.nhist[0])
        face_fluxes(problem, state, work, fields, work.U_trial, T)
        tn = t + dt
        accept_regions(state, work, tn)
        t = tn
        steps += 1
        stats[S_STEPS] += 1
        fresh = True
        dt = dt_next
        if dt < dt_natural and t >= t_target * (1.0 - 1e-14):
            dt = dt_natural  # the step was cut to land on the output time
        r = vanished_region(problem.layout, state, vanish_width)
        if r >= 0:
            stats[S_FAIL_NODE] = r
            code = ADV_REGION_VANISHED
            break
    if code == ADV_REACHED and not fresh:
        code = evaluate_state(problem, state, fields, work, t)
    state.t[0] = t
    state.dt[0] = dt
    return code
