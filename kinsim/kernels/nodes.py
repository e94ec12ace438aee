"""Node evaluation (numba): at every node, the single-phase equilibrium, the derivatives of
the chemical potentials with respect to the unknowns, and the Onsager coefficients L'.

Composition variable: u-fractions u_k = x_k / sum_{j substitutional} x_j of all n
components.  The unknowns are u_1..u_{n-1}; the dependent component 0 is substitutional
and u_0 = 1 - sum of the other substitutional u (``fill_dependent``).
"""

from __future__ import annotations

import numpy as np
from numba import typeof, types

from .._jit import INLINE, INTERNAL, LEAF, jit
from .codes import ONSAGER_ABSOLUTE, STATUS_NAN, STATUS_OK, STATUS_ONSAGER, STATUS_SPINODAL
from .kernel_ref import KernelRef, call_ref
from .kkt import equilibrium_batch, minimise_flag
from .mobility import diagonal_onsager, mobilities, onsager_is_psd


def scratch_floats(p) -> int:
    """8-byte numbers per node of the per-node arrays of ``node_scratch`` (for the size
    estimate of a run, kinsim.resources)."""
    n = p.n_comp
    m = max(n - 1, 1)
    return n + n * n + m * m + 3


def node_scratch(p, N):
    """Work arrays of ``evaluate_nodes`` for N nodes (allocated once per run), the
    ``minimise`` argument of the equilibrium kernel for the phase p and the reference
    to the equilibrium kernel (``equilibrium_ref``)."""
    n = p.n_comp
    m = max(n - 1, 1)
    minimise = minimise_flag(p)
    return (
        np.zeros((N, n)),
        np.zeros((N, n, n)),
        np.zeros((N, m, m)),
        np.zeros(N),
        np.zeros(N, dtype=np.int64),
        np.zeros(N),
        np.zeros(n),
        np.zeros(p.z_c.shape[0]),
        np.zeros((n, n)),
        minimise,
        equilibrium_ref(p, minimise),
    )


def equilibrium_ref(p, minimise) -> KernelRef:
    """The equilibrium kernel ``equilibrium_batch`` for the phase p as the node
    evaluation calls it (C-contiguous float64 rows, int64 flags): a reference, so that
    the kernels that evaluate nodes (the steppers, the start evaluation) call the one
    compiled equilibrium instead of each linking a copy of it (kinsim.kernels.kernel_ref).
    These are also the types ``kinsim.phase.PhaseModel.equilibrium`` calls it with, so a
    run compiles it once."""
    rows1 = types.float64[::1]
    rows2 = types.float64[:, ::1]
    rows3 = types.float64[:, :, ::1]
    flags = types.int64[::1]
    args = (
        typeof(p),
        rows1,  # T
        rows2,  # X
        rows2,  # Y
        flags,  # warm
        rows2,  # MU
        rows3,  # PD
        rows3,  # DMU
        rows1,  # GM
        flags,  # status
        typeof(minimise),
    )
    return KernelRef(equilibrium_batch, args)


def scratch_gibbs(scratch):
    """The molar Gibbs energies (N,; J per mole of atoms) of the nodes of the last
    ``evaluate_nodes`` call with this scratch."""
    return scratch[3]


def kinetics_kernels(p, fnval, material, onsager, U, Y, DMDU, L, scratch) -> list:
    """The kernels of ``evaluate_nodes`` and ``unstable_node`` besides the equilibrium
    batch, each as (kernel, arguments of the types they are called with); Python, for
    ``kinsim.kernels.step.stage_kernels``."""
    X, Tn = scratch[0], scratch[5]
    return [
        (_equilibrium_inputs, (U, 0.0, X, Tn)),
        (_node_kinetics, (p, fnval, 0.0, material, onsager, U, Y, DMDU, L, scratch)),
        (unstable_node, (scratch,)),
    ]


@jit(**INTERNAL)
def _equilibrium_inputs(U, T, X, Tn):
    """Mole fractions X = U / sum(U) and the temperature Tn of every node (the inputs of
    the equilibrium batch)."""
    N = U.shape[0]
    n = U.shape[1]
    for i in range(N):
        su = 0.0
        for k in range(n):
            su += U[i, k]
        for k in range(n):
            X[i, k] = U[i, k] / su
        Tn[i] = T


@jit(**INTERNAL)
def _node_kinetics(p, fnval, T, material, onsager, U, Y, DMDU, L, scratch):
    """After the equilibrium batch: its status, then L' and dmu/du at every node."""
    N = U.shape[0]
    n = U.shape[1]
    X, PD, DMU, GM, status, Tn, Mk, zb, W, _, _ = scratch
    for i in range(N):
        if status[i] != STATUS_OK:
            return status[i], i
    for i in range(N):
        su = 0.0
        for k in range(n):
            su += U[i, k]
        mobilities(p, fnval, T, Y[i], zb, Mk)
        if not diagonal_onsager(p, material, U[i], Y[i], Mk, L[i]):
            return STATUS_NAN, i
        if onsager.form == ONSAGER_ABSOLUTE and not onsager_is_psd(onsager, L[i], W):
            return STATUS_ONSAGER, i
        dmu_du(PD[i], material.subst, su, DMDU[i])
    return STATUS_OK, -1


@jit(**LEAF)
def dmu_du(P, subst, su, out):
    """d mu_a / d u_j of one node (j independent, into out (n, n-1); J/mol) from its
    partial_dmu_dx P (n x n, all x independent) and sum(u) = su:
    (P[a, j] - [j substitutional] P[a, 0]) / su."""
    n = P.shape[0]
    for a in range(n):
        for j in range(1, n):
            v = P[a, j]
            if subst[j] == 1.0:
                v -= P[a, 0]
            out[a, j - 1] = v / su


@jit(**INLINE)
def evaluate_nodes(p, fnval, T, material, onsager, U, Y, warm, MU, DMDU, L, scratch):
    """Chemical potentials MU (N, n; J/mol), dmu/du DMDU (N, n, n-1; J/mol) and the
    diagonal L' (N, n) at every node of U at temperature T (fnval: the T functions at T).
    The equilibria of all nodes are one batched kernel call, warm-started from the site
    fractions Y (in/out) where warm[i] == 1.  Returns (status, node): STATUS_OK and -1,
    or the status of the first node that failed.

    The equilibrium kernel is called through its reference in the scratch (compiled
    once, not linked into the callers); everything else is in the two helpers."""
    X, PD, DMU, GM, status, Tn, Mk, zb, W, minimise, equilibrium = scratch
    _equilibrium_inputs(U, T, X, Tn)
    call_ref(equilibrium, (p, Tn, X, Y, warm, MU, PD, DMU, GM, status, minimise))
    return _node_kinetics(p, fnval, T, material, onsager, U, Y, DMDU, L, scratch)


@jit(**LEAF)
def unstable_node(scratch):
    """After ``evaluate_nodes``: (STATUS_SPINODAL, the first node whose reduced Hessian
    dmu_dx (the thermodynamic factor, (n-1) x (n-1) over the independent mole fractions)
    is not positive definite), or (STATUS_OK, -1).  Such a node is inside the spinodal,
    where diffusion without gradient energy is ill-posed.  The test is an LDL'
    factorisation of the symmetric part of dmu_dx on the scratch W: every pivot must be
    positive."""
    DMU = scratch[2]
    W = scratch[8]
    m = DMU.shape[1]
    for i in range(DMU.shape[0]):
        for a in range(m):
            for b in range(m):
                W[a, b] = 0.5 * (DMU[i, a, b] + DMU[i, b, a])
        for k in range(m):
            d = W[k, k]
            if not d > 0.0:
                return STATUS_SPINODAL, i
            for r in range(k + 1, m):
                f = W[r, k] / d
                for c in range(k + 1, r + 1):
                    W[r, c] -= f * W[c, k]
                    W[c, r] = W[r, c]
    return STATUS_OK, -1


@jit(**INTERNAL)
def fill_dependent(material, U):
    """u_0 = 1 - sum of the other substitutional u, at every node of U."""
    for i in range(U.shape[0]):
        s = 0.0
        for k in range(1, U.shape[1]):
            s += material.subst[k] * U[i, k]
        U[i, 0] = 1.0 - s
