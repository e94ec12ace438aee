"""The node models of the stepper, chosen by the type of its phase parameters ``p``
(numba dispatches on the type at compile time, so each model is its own compiled
stepper and the single-phase one is the same code as before):

- ``kinsim.thermo.params.ThermoParams``: one phase (``kinsim.kernels.nodes``);
- ``kinsim.kernels.homogenization.Homogenization``: several phases, the homogenization
  model.

``evaluate_nodes`` (the node evaluation), ``unstable_node`` (the spinodal check of the
sharp model), ``node_jacobian`` (the model's own terms of the Newton matrix) and
``thermo_at`` (the temperature functions at T, or the range check) are what the stepper
calls; ``node_scratch``,
``state_width`` and ``tfunc_sizes`` size its arrays (Python).  A new node model is one
branch in each.
"""

from __future__ import annotations

import numpy as np
from numba import types
from numba.extending import overload

from .._jit import JIT_OPTIONS
from ..thermo.params import ThermoParams
from . import homogenization as homog
from . import nodes as single
from .codes import STATUS_OK
from .gibbs import eval_tfuncs
from .kernel_ref import call_ref


def _is(p, cls) -> bool:
    """Whether the numba type p is the NamedTuple class cls."""
    return isinstance(p, types.BaseNamedTuple) and getattr(p, "instance_class", None) is cls


def evaluate_nodes(p, fnval, T, material, onsager, U, Y, warm, MU, DMDU, L, scratch):
    """MU, DMDU and L' of every node of U at T by the node model of p: see
    ``kinsim.kernels.nodes.evaluate_nodes`` and
    ``kinsim.kernels.homogenization.homogenization_nodes``.  Returns (status, node).
    (This body runs only without the JIT; jitted callers get the overload below.)"""
    if isinstance(p, homog.Homogenization):
        return homog.homogenization_nodes(p, fnval, T, material, onsager, U, Y, warm, MU, DMDU, L, scratch.work)
    return single.evaluate_nodes(p, fnval, T, material, onsager, U, Y, warm, MU, DMDU, L, scratch)


@overload(evaluate_nodes, inline="always", jit_options=JIT_OPTIONS)
def _evaluate_nodes(p, fnval, T, material, onsager, U, Y, warm, MU, DMDU, L, scratch):
    if _is(p, homog.Homogenization):
        return lambda p, fnval, T, material, onsager, U, Y, warm, MU, DMDU, L, scratch: call_ref(
            scratch.nodes, (p, fnval, T, material, onsager, U, Y, warm, MU, DMDU, L, scratch.work)
        )
    if _is(p, ThermoParams):
        return lambda p, fnval, T, material, onsager, U, Y, warm, MU, DMDU, L, scratch: single.evaluate_nodes(
            p, fnval, T, material, onsager, U, Y, warm, MU, DMDU, L, scratch
        )
    return None


def thermo_at(p, T, bvals, fnval):
    """The phase's T functions at T into fnval (one phase; the homogenization model
    evaluates its phases' own in the node evaluation and only checks the range).
    Returns 0, or 1 if T is outside the parameters' range.  (Without the JIT only.)"""
    if isinstance(p, homog.Homogenization):
        return homog.in_range(p, T)
    return eval_tfuncs(T, p.t_breaks, p.basis_pow, p.basis_log, p.basis_exp, p.fn_coef, bvals, fnval)


@overload(thermo_at, inline="always", jit_options=JIT_OPTIONS)
def _thermo_at(p, T, bvals, fnval):
    if _is(p, homog.Homogenization):
        return lambda p, T, bvals, fnval: homog.in_range(p, T)
    if _is(p, ThermoParams):
        return lambda p, T, bvals, fnval: eval_tfuncs(
            T, p.t_breaks, p.basis_pow, p.basis_log, p.basis_exp, p.fn_coef, bvals, fnval
        )
    return None


def unstable_node(p, scratch):
    """After ``evaluate_nodes``: (STATUS_SPINODAL, the first node inside the spinodal) or
    (STATUS_OK, -1) (``kinsim.kernels.nodes.unstable_node``).  The homogenization
    model's nodes are multiphase equilibria, stable by construction (a miscibility gap
    splits into composition sets): always (STATUS_OK, -1).  (Without the JIT only.)"""
    if isinstance(p, homog.Homogenization):
        return STATUS_OK, -1
    return single.unstable_node(scratch)


@overload(unstable_node, inline="always", jit_options=JIT_OPTIONS)
def _unstable_node(p, scratch):
    if _is(p, homog.Homogenization):
        return lambda p, scratch: (STATUS_OK, -1)
    if _is(p, ThermoParams):
        return lambda p, scratch: single.unstable_node(scratch)
    return None


def node_jacobian(p, scratch, problem, U, fields, T, Gm, Gp):
    """Add the node model's own terms to the Jacobian blocks of the face fluxes (after
    ``kinsim.kernels.step.jacobian_blocks``, for the state of the last
    ``evaluate_nodes``): none for one phase (L' frozen), the derivatives through L' for
    the homogenization model.  (Without the JIT only.)"""
    if isinstance(p, homog.Homogenization):
        homog.homogenization_jacobian(p, scratch.work, problem, U, fields, T, Gm, Gp)


@overload(node_jacobian, inline="always", jit_options=JIT_OPTIONS)
def _node_jacobian(p, scratch, problem, U, fields, T, Gm, Gp):
    if _is(p, homog.Homogenization):
        return lambda p, scratch, problem, U, fields, T, Gm, Gp: homog.homogenization_jacobian(
            p, scratch.work, problem, U, fields, T, Gm, Gp
        )
    if _is(p, ThermoParams):
        return lambda p, scratch, problem, U, fields, T, Gm, Gp: None
    return None


def kinetics_kernels(p, fnval, problem, U, Y, fields, scratch) -> list:
    """The node model's kernels that the stepper calls besides its node equilibria, each
    as (kernel, arguments of the types the stepper calls it with): for
    ``kinsim.kernels.step.stage_kernels``.  None for the homogenization model (its node
    evaluation is its multiphase equilibrium)."""
    if isinstance(p, homog.Homogenization):
        return []
    return single.kinetics_kernels(p, fnval, problem.material, problem.onsager, U, Y, fields.DMDU, fields.L, scratch)


def tfunc_kernels(p, bvals, fnval) -> list:
    """The kernel of ``thermo_at`` for p as (kernel, arguments of the types the stepper
    calls it with), for ``kinsim.kernels.step.stage_kernels``: the phase's T functions
    (one phase), none for the homogenization model (its check is inlined)."""
    if isinstance(p, homog.Homogenization):
        return []
    return [(eval_tfuncs, (0.0, p.t_breaks, p.basis_pow, p.basis_log, p.basis_exp, p.fn_coef, bvals, fnval))]


def node_scratch(p, N: int):
    """Work arrays of ``evaluate_nodes`` for N nodes (allocated once per run)."""
    if isinstance(p, homog.Homogenization):
        return homog.stepper_scratch(p, N)
    return single.node_scratch(p, N)


def scratch_floats(p) -> int:
    """8-byte numbers per node of the node model's scratch (``node_scratch``)."""
    if isinstance(p, homog.Homogenization):
        return homog.scratch_floats(p)
    return single.scratch_floats(p)


def state_width(p) -> int:
    """Floats per node of the state the node equilibria warm-start from (the stepper's
    Y): the site fractions of one phase, or the packed multiphase state."""
    if isinstance(p, homog.Homogenization):
        return homog.state_size(p)
    return p.n_y


def empty_states(p, N: int) -> np.ndarray:
    """The Y of N nodes before their first equilibrium."""
    if isinstance(p, homog.Homogenization):
        return homog.empty_state(p, N)
    return np.zeros((N, p.n_y))


def tfunc_sizes(p) -> tuple[int, int]:
    """(T functions, basis terms): the sizes of the stepper's fnval and bvals."""
    if isinstance(p, homog.Homogenization):
        return 1, 1
    return p.fn_coef.shape[0], p.basis_pow.shape[0]
