"""Regions of the moving-boundary model (numba): their rows, the geometry of their moving
grids, the evaluation of their nodes and the specimen's outer boundaries.

Rows.  Every region r owns ``nodes[r] + 2`` consecutive rows of the per-row arrays (u,
chemical potentials, L'), from ``start[r]``: first the state at its left end, then its
nodes, then the state at its right end.  An end state at an interface is the region's
phase at the interface (an unknown of the interface, kinsim.kernels.interface); at an
outer end of the specimen it holds a fixed boundary composition, or a copy of the
nearest node.  The regions' phases differ, so each region is evaluated with its own
parameters (``params[r]``: every ThermoParams has the same numba type, so a tuple of them
is indexed at run time).

Faces.  Face j (0..nodes[r]) of region r lies between its rows start[r] + j and
start[r] + j + 1; the per-face arrays use the row start[r] + j for it.  Face 0 and face
nodes[r] lie on the region's walls.

Coordinates (Landau).  Region r spans [P[left_wall[r]], P[right_wall[r]]] (the wall
positions P, m); a row or face at the region's unit coordinate xi lies at
P_left + xi (P_right - P_left): the nodes follow the walls.  Cell volumes and face areas
per unit cross-section (planar), radian and unit height (cylindrical) or steradian
(spherical), from the volume coordinate Vol(z) = z^(m+1) / (m+1) (kinsim.grid).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._jit import INLINE, INTERNAL, jit
from .boundary import BoundaryParams, BoundaryState, boundary_at, boundary_drives, set_fixed_composition
from .codes import ADV_BOUNDARY_FAILED, ADV_NODE_FAILED, ADV_REACHED, ADV_T_RANGE, S_FAIL_NODE, S_FAIL_STATUS, STATUS_OK
from .flux import Grid
from .gibbs import eval_tfuncs
from .mobility import Material, Onsager
from .nodes import evaluate_nodes
from .schedule import Schedules, temperature_at


class RegionLayout(NamedTuple):
    """Where each region's rows are and where its rows and faces sit in it (fixed for a
    run).  Region slots beyond the case's regions have no nodes and stay inactive."""

    start: np.ndarray  # i8[S] first row of each region (its left end state)
    nodes: np.ndarray  # i8[S] nodes of each region
    xi_row: np.ndarray  # f8[E] unit coordinate of every row (0 and 1 for the end states)
    xi_face: np.ndarray  # f8[E] unit coordinate of face j of region r, at row start[r] + j
    geometry: int  # m: 0 planar, 1 cylindrical, 2 spherical


class RegionProblem(NamedTuple):
    """The kernel inputs of a moving-boundary run (one boundary stage)."""

    params: tuple  # ThermoParams of each region slot
    layout: RegionLayout
    material: Material
    onsager: Onsager
    schedules: Schedules
    boundary: BoundaryParams
    boundary_state: BoundaryState  # filled by the kernels
    faces: Grid  # the outer boundary faces as kinsim.kernels.boundary sees them (bnd_dist; filled)


class RegionState(NamedTuple):
    """Everything the moving-boundary stepper carries from one call to the next (what a
    checkpoint stores); scalars are one-element arrays.  The site fractions of all
    regions are one flat array (each region's (rows, n_y) block in turn)."""

    U: np.ndarray  # f8[E, n] u-fractions of every row at time t
    Y: np.ndarray  # f8[*] site fractions of every row, region by region
    hist_U: np.ndarray  # f8[3, E, n] the last accepted U, newest first
    hist_t: np.ndarray  # f8[3] their times (s)
    nhist: np.ndarray  # i8[1] how many are valid (1 after a start or a change of regions: backward Euler)
    walls: np.ndarray  # f8[S + 1] wall positions (m): the specimen's ends and the interfaces
    hist_walls: np.ndarray  # f8[3, S + 1] the wall positions of hist_U
    exchange: np.ndarray  # f8[S + 1, n] what crossed each interface in the last step, per its reference volume
    active: np.ndarray  # i8[S] 1 for a region that exists
    left_wall: np.ndarray  # i8[S] the wall at the left of each region
    right_wall: np.ndarray  # i8[S] the wall at its right
    wall_kind: np.ndarray  # i8[S + 1] WALL_* code of each wall
    markers: np.ndarray  # f8[0] (no Kirkendall markers across moving interfaces)
    stats: np.ndarray  # i8[5] steps, rejected steps, Newton iterations, failed row or region, its status
    t: np.ndarray  # f8[1] time (s)
    dt: np.ndarray  # f8[1] the next step size (s)
    t_last_snapshot: np.ndarray  # f8[1] time of the last stored snapshot (s; -1 before the first)


@jit(**INTERNAL)
def volume_coordinate(z, m):
    """Vol(z) = z^(m+1) / (m+1): the volume between 0 and z."""
    if m == 0:
        return z
    if m == 1:
        return 0.5 * z * z
    return z * z * z / 3.0


@jit(**INTERNAL)
def region_extent(state_walls, left_wall, right_wall, r):
    """(left end, width) of region r for the wall positions ``state_walls`` (m)."""
    lo = state_walls[left_wall[r]]
    return lo, state_walls[right_wall[r]] - lo


@jit(**INTERNAL)
def first_last_active(active):
    """The first and the last active region."""
    first = -1
    last = -1
    for r in range(active.shape[0]):
        if active[r] == 1:
            if first < 0:
                first = r
            last = r
    return first, last


@jit(**INTERNAL)
def next_active(active, r):
    """The next active region after r, or -1."""
    for q in range(r + 1, active.shape[0]):
        if active[q] == 1:
            return q
    return -1


@jit(**INTERNAL)
def row_positions(layout, active, left_wall, right_wall, walls, zr):
    """Positions zr (m) of every row of the active regions."""
    for r in range(active.shape[0]):
        if active[r] == 0:
            continue
        lo, w = region_extent(walls, left_wall, right_wall, r)
        s = layout.start[r]
        for i in range(s, s + layout.nodes[r] + 2):
            zr[i] = lo + layout.xi_row[i] * w
        zr[s] = lo
        zr[s + layout.nodes[r] + 1] = lo + w


@jit(**INTERNAL)
def face_volumes(layout, active, left_wall, right_wall, walls, VF, area):
    """Vol(z_f) of every face of the active regions (VF) and, when ``area`` has entries,
    the face areas z_f^m."""
    m = layout.geometry
    for r in range(active.shape[0]):
        if active[r] == 0:
            continue
        lo, w = region_extent(walls, left_wall, right_wall, r)
        s = layout.start[r]
        N = layout.nodes[r]
        for f in range(s, s + N + 1):
            z = lo + layout.xi_face[f] * w
            if f == s:
                z = lo
            elif f == s + N:
                z = lo + w
            VF[f] = volume_coordinate(z, m)
            if area.shape[0] > 0:
                area[f] = 1.0 if m == 0 else z**m


@jit(**INTERNAL)
def copy_outer_ends(layout, active, U):
    """The outer end rows of the first and last active regions hold a copy of their
    nearest node (a state the equilibrium accepts; a fixed boundary composition replaces
    it)."""
    first, last = first_last_active(active)
    s = layout.start[first]
    e = layout.start[last] + layout.nodes[last] + 1
    for k in range(U.shape[1]):
        U[s, k] = U[s + 1, k]
        U[e, k] = U[e - 1, k]


@jit(**INLINE)
def evaluate_regions(problem, fnvals, T, active, U, Ys, warm, MU, DMDU, L, scratch):
    """Chemical potentials, dmu/du and L' of every row of the active regions, each with
    its phase (``kinsim.kernels.nodes.evaluate_nodes``, warm-started from the site
    fractions Ys[r]).  Returns (STATUS_OK, -1) or (the status, the row that failed).

    Inlined into its callers (``kinsim.kernels.moving.moving_attempt`` and
    ``evaluate_state``), which call the node equilibrium through its reference."""
    lay = problem.layout
    for r in range(active.shape[0]):
        if active[r] == 0:
            continue
        lo = lay.start[r]
        hi = lo + lay.nodes[r] + 2
        st, node = evaluate_nodes(
            problem.params[r],
            fnvals[r],
            T,
            problem.material,
            problem.onsager,
            U[lo:hi],
            Ys[r],
            warm,
            MU[lo:hi],
            DMDU[lo:hi],
            L[lo:hi],
            scratch[r],
        )
        if st != STATUS_OK:
            return st, lo + node
    return STATUS_OK, -1


@jit(**INTERNAL)
def boundary_rows(layout, active):
    """The rows of the left and right outer end states."""
    first, last = first_last_active(active)
    return layout.start[first], layout.start[last] + layout.nodes[last] + 1


@jit(**INTERNAL)
def conditions_at(problem, fnvals, bvals, t, active, bcU, fixed, U1):
    """T(t), every region's T functions and the outer boundary conditions at time t; a
    fixed boundary composition of side s goes to bcU[s] (``fixed[s]`` = 1), to be put in
    the outer end row and evaluated with the region's nodes
    (``store_fixed_compositions``).  Returns (ADV_REACHED or ADV_T_RANGE, T)."""
    T = temperature_at(problem.schedules, t)
    for r in range(active.shape[0]):
        if active[r] == 0:
            continue
        p = problem.params[r]
        if eval_tfuncs(T, p.t_breaks, p.basis_pow, p.basis_log, p.basis_exp, p.fn_coef, bvals[r], fnvals[r]) != 0:
            return ADV_T_RANGE, T
    for s in range(2):
        fixed[s] = 0
        if boundary_at(problem.boundary, problem.boundary_state, problem.material, s, t, T, U1):
            fixed[s] = 1
            for k in range(bcU.shape[1]):
                bcU[s, k] = U1[0, k]
    return ADV_REACHED, T


@jit(**INTERNAL)
def store_fixed_compositions(problem, active, fixed, U, MU, L):
    """After the rows are evaluated: the fixed boundary compositions into the boundary
    state, and the driving potentials of both sides."""
    rows = boundary_rows(problem.layout, active)
    for s in range(2):
        if fixed[s] == 1:
            i = rows[s]
            set_fixed_composition(problem.boundary_state, s, MU[i : i + 1], L[i : i + 1], U[i : i + 1])
    boundary_drives(problem.boundary_state)


@jit(**INTERNAL)
def region_failure(problem, active, fixed, row, status, stats):
    """The ADV_* code and statistics of a row whose evaluation failed: a fixed boundary
    composition (ADV_BOUNDARY_FAILED, its side) or a row (its status)."""
    rows = boundary_rows(problem.layout, active)
    for s in range(2):
        if fixed[s] == 1 and row == rows[s]:
            stats[S_FAIL_NODE] = s
            stats[S_FAIL_STATUS] = 0
            return ADV_BOUNDARY_FAILED
    stats[S_FAIL_NODE] = row
    stats[S_FAIL_STATUS] = status
    return ADV_NODE_FAILED


@jit(**INTERNAL)
def outer_distances(problem, active, zr):
    """The distance from each outer boundary face to its nearest node, into the
    boundary faces' Grid (``problem.faces.bnd_dist``)."""
    s, e = boundary_rows(problem.layout, active)
    problem.faces.bnd_dist[0] = zr[s + 1] - zr[s]
    problem.faces.bnd_dist[1] = zr[e] - zr[e - 1]
