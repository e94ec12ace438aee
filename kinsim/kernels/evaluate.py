"""The diffusion state at one time (numba): everything that follows time (temperature,
T functions, external potentials, boundary states), then the nodes (equilibrium, dmu/du,
L'), the driving potential and the face fluxes.

The stepper evaluates an implicit step at its end time and an explicit step at its
start (``kinsim.kernels.step``).  ``gradient`` is None for the sharp model, whose nodes
must be outside the spinodal (``kinsim.kernels.node_models.unstable_node``), or the
gradient-energy model (``kinsim.kernels.gradient``), whose fluxes are driven by the
exchange potentials with their gradient part.  numba compiles the two apart: a None argument
prunes the branches of the other model.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._jit import INLINE, INTERNAL, jit
from .boundary import (
    BoundaryParams,
    BoundaryState,
    boundary_at,
    boundary_drives,
    boundary_fluxes,
    set_fixed_composition,
)
from .codes import ADV_BOUNDARY_FAILED, ADV_NODE_FAILED, ADV_REACHED, ADV_T_RANGE, S_FAIL_NODE, S_FAIL_STATUS, STATUS_OK
from .flux import Grid, driving_potential, interior_fluxes
from .gradient import gradient_fluxes, gradient_potential
from .mobility import Material, Onsager
from .node_models import evaluate_nodes, node_scratch, state_width, thermo_at, unstable_node
from .schedule import Schedules, potentials_at, temperature_at


class Problem(NamedTuple):
    """The kernel inputs of one boundary stage of a run, grouped by concern."""

    grid: Grid
    material: Material
    onsager: Onsager
    schedules: Schedules
    boundary: BoundaryParams
    boundary_state: BoundaryState  # the boundary state at the current step (filled by the kernels)


class Fields(NamedTuple):
    """What the kernels derive from the state at one time (filled by the kernels; after
    ``advance`` they belong to its final state)."""

    MU: np.ndarray  # f8[N, n] chemical potentials (J/mol)
    DMDU: np.ndarray  # f8[N, n, n-1] dmu_a/du_j for the independent u_j (J/mol)
    L: np.ndarray  # f8[N, n] diagonal Onsager coefficients L' (mol^2/(J m s))
    PHI: np.ndarray  # f8[N, n] external potentials (J/mol)
    M: np.ndarray  # f8[N, n] driving potentials mu + Phi (J/mol)
    Jp: np.ndarray  # f8[N+1, n] lattice-fixed face fluxes (mol m^-2 s^-1)
    J: np.ndarray  # f8[N+1, n] volume-fixed face fluxes (mol m^-2 s^-1)


def fixed_composition_scratch(p, n):
    """Work arrays of ``update_to_time`` for evaluating a fixed boundary composition like a
    node (allocated once per run): one node's U, Y, MU, DMDU, L and node scratch."""
    return (
        np.zeros((1, n)),
        np.zeros((1, state_width(p))),
        np.zeros((1, n)),
        np.zeros((1, n, n - 1)),
        np.zeros((1, n)),
        node_scratch(p, 1),
    )


@jit(**INLINE)
def update_to_time(p, fnval, bvals, t, problem, bc_Y, bc_warm, bscratch, PHI, stats):
    """T(t), the T functions (fnval, bvals), the external potentials PHI and the boundary
    states at time t; a fixed boundary composition is evaluated like a node, warm-started
    from its site fractions bc_Y[side] when bc_warm[side] == 1.  Returns (ADV_REACHED, or
    ADV_T_RANGE / ADV_BOUNDARY_FAILED with the failed side in ``stats``, T)."""
    T = temperature_at(problem.schedules, t)
    if thermo_at(p, T, bvals, fnval) != 0:
        return ADV_T_RANGE, T
    potentials_at(problem.schedules, t, PHI, problem.boundary_state.phi)
    U1, Y1, MU1, DM1, L1, sc = bscratch
    for s in range(2):
        if boundary_at(problem.boundary, problem.boundary_state, problem.material, s, t, T, U1):
            for k in range(Y1.shape[1]):
                Y1[0, k] = bc_Y[s, k]
            st, _ = evaluate_nodes(
                p, fnval, T, problem.material, problem.onsager, U1, Y1, bc_warm[s : s + 1], MU1, DM1, L1, sc
            )
            if st != STATUS_OK:
                stats[S_FAIL_NODE] = s
                stats[S_FAIL_STATUS] = 0
                return ADV_BOUNDARY_FAILED, T
            bc_warm[s] = 1
            for k in range(Y1.shape[1]):
                bc_Y[s, k] = Y1[0, k]
            set_fixed_composition(problem.boundary_state, s, MU1, L1, U1)
    boundary_drives(problem.boundary_state)
    return ADV_REACHED, T


@jit(**INTERNAL)
def state_fluxes(problem, U, fields, T):
    """The driving potential at the nodes and the face fluxes (interior and boundary) of
    the state U whose node values ``fields`` holds (MU, L; PHI at the same time)."""
    pr = problem
    driving_potential(fields.MU, fields.PHI, fields.M)
    interior_fluxes(pr.grid, pr.material, pr.onsager, U, fields.L, fields.M, T, fields.Jp, fields.J)
    boundary_fluxes(
        pr.grid, pr.material, pr.onsager, pr.boundary, pr.boundary_state, U, fields.L, fields.M, T, fields.Jp, fields.J
    )


@jit(**INLINE)
def evaluate_at(p, fnval, bvals, t, problem, bc_Y, bc_warm, bscratch, U, Y, warm, fields, nscratch, stats, gradient):
    """The state U at time t: ``update_to_time``, the nodes (warm-started from Y where
    warm[i] == 1) and the fluxes into ``fields``; without gradient energy (``gradient``
    None) every node must be outside the spinodal.  Returns (ADV_REACHED or a failure
    code with ``stats`` filled, T)."""
    code, T = update_to_time(p, fnval, bvals, t, problem, bc_Y, bc_warm, bscratch, fields.PHI, stats)
    if code != ADV_REACHED:
        return code, T
    st, node = evaluate_nodes(
        p, fnval, T, problem.material, problem.onsager, U, Y, warm, fields.MU, fields.DMDU, fields.L, nscratch
    )
    if gradient is None and st == STATUS_OK:
        st, node = unstable_node(p, nscratch)
    if st != STATUS_OK:
        stats[S_FAIL_NODE] = node
        stats[S_FAIL_STATUS] = st
        return ADV_NODE_FAILED, T
    if gradient is None:
        state_fluxes(problem, U, fields, T)
    else:
        gradient_potential(problem.grid, problem.boundary, gradient.kappa, U, gradient.psi)
        gradient_fluxes(problem, gradient, U, fields, T)
    return ADV_REACHED, T
