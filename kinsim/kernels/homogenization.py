"""Node evaluation of the homogenization model (numba): every node a local equilibrium of
the candidate phases, the fluxes from an average of the phases' mobilities (DICTRA's
model: Larsson & Engstrom, Acta Mater. 54 (2006) 2431; Larsson & Hoglund, Calphad 33
(2009) 495).

Per node: the multiphase equilibrium (``kinsim.kernels.multiphase.mp_node``) at the
node's mole fractions x = u / sum(u), warm-started from the node's state, with the
audit for new composition sets; then for every stable composition set j

    f_j       = its volume fraction: its share of the substitutional atoms (one molar
                volume V_s per mole of substitutional atoms serves every phase, so with
                no interstitials f_j is the set's mole fraction of atoms);
    u_k^j     = x_k^j / sum_{subst} x^j, its own u-fractions;
    Gamma_k^j = M_k^j u_k^j (times the vacancy fraction of the sublattice of an
                interstitial k), M_k^j the set's mobility at its own site fractions,
                times the case's scale factor; zero for a phase that carries no flux;

Gamma*_k = the average of the Gamma_k^j (``kinsim.kernels.averaging``), and

    L'_kk = Gamma*_k / V_s,    dmu_a/du_j from the equilibrium's partial_dmu_dx P,

so that for one set the coefficients are the single-phase ones
(``kinsim.kernels.mobility``).  The Jacobian takes dmu/du of the equilibrium: zero
inside a binary two-phase field (the Newton matrix of the step stays a0 I there, no
regularisation needed).

The node state (``mp_node``'s sets, amounts, site fractions, potentials and the starts
of the driving-force searches) is packed into one row of floats per node, the ``Y`` of
the stepper (``kinsim.kernels.step.StepperState``), so that the stepper keeps, copies
and checkpoints it like the single-phase site fractions; ``state_layout`` gives its
slices.  A node with warm == 0 (or an empty state) starts from the global start.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._jit import LEAF, jit
from .averaging import average
from .codes import STATUS_NAN, STATUS_OK, STATUS_T_RANGE
from .mpphase import mp_coefs, mp_workspace, phase_moles
from .mptypes import PhaseSetParams, StartTable
from .multiphase import COLD, WARM_AUDIT, mp_node
from .nodes import dmu_du
from .standin_mobility import standin_set_mobilities, standin_tfuncs


class Homogenization(NamedTuple):
    """The node model of a case with several phases (the ``p`` of the stepper)."""

    ps: PhaseSetParams  # the candidate phases
    tab: StartTable  # the global start at the run's temperature
    scheme: int  # AVG_* code of the averaging (kinsim.kernels.codes)
    matrix: int  # candidate index of the matrix phase (AVG_HS_MATRIX, AVG_LABYRINTH), -1 otherwise
    exponent: float  # labyrinth exponent
    flux: np.ndarray  # f8[NP] 1.0 for a phase that carries flux, 0.0 for an excluded one
    t_range: np.ndarray  # f8[2] the temperatures every phase's parameters cover (K)
    mob: tuple  # STAND-IN: the ThermoParams of every phase (their mobility tables)


def state_layout(n: int, NP: int, K: int):
    """Offsets of the packed node state: (sets, amounts, site fractions, potentials,
    phase starts, size) for n components (n composition sets at most), NP candidate
    phases and K site fractions at most per phase."""
    SM = n
    o_sa = SM
    o_sy = o_sa + SM
    o_mu = o_sy + SM * K
    o_py = o_mu + n
    size = o_py + NP * K
    return o_sa, o_sy, o_mu, o_py, size


def state_size(hp: Homogenization) -> int:
    """Floats per node of the packed state."""
    return state_layout(hp.ps.n_comp, hp.ps.n_y.shape[0], hp.ps.y_comp.shape[1])[4]


def empty_state(hp: Homogenization, N: int) -> np.ndarray:
    """The packed state of N nodes without a solution (no composition set)."""
    Y = np.zeros((N, state_size(hp)))
    Y[:, :hp.ps.n_comp] = -1.0
    return Y


class NodeScratch(NamedTuple):
    """Work arrays of ``homogenization_nodes`` (``node_scratch``); SM = n set slots."""

    ws: tuple  # the multiphase workspace (kinsim.kernels.mpphase.Workspace)
    sp: np.ndarray  # i8[SM] one node's state, unpacked: phase of each set,
    sa: np.ndarray  # f8[SM] its amount (formula units per mole of atoms),
    sy: np.ndarray  # f8[SM, K] its site fractions,
    mu: np.ndarray  # f8[n] the potentials (J/mol),
    py: np.ndarray  # f8[NP, K] the starts of the driving-force searches
    df: np.ndarray  # f8[NP] driving forces
    PD: np.ndarray  # f8[n, n] partial_dmu_dx of the equilibrium
    DMU: np.ndarray  # f8[n-1, n-1] dmu_dx of the equilibrium
    x: np.ndarray  # f8[n] the node's mole fractions
    Nv: np.ndarray  # f8[n] moles of each component per formula unit of a set
    Mk: np.ndarray  # f8[n] mobilities of a set
    yva: np.ndarray  # f8[n] vacancy factors of a set
    f: np.ndarray  # f8[SM] volume fraction of each set
    G: np.ndarray  # f8[SM, n] Gamma_k of each set
    Gk: np.ndarray  # f8[SM] Gamma of one component
    T: np.ndarray  # f8[1] the temperature of the coefficients in ws (NaN: none yet)
    fnv: np.ndarray  # f8[NP, F] STAND-IN: each phase's T functions
    bvals: np.ndarray  # f8[B] STAND-IN
    zb: np.ndarray  # f8[Z] STAND-IN


def node_scratch(hp: Homogenization, N: int) -> NodeScratch:
    """Work arrays of ``homogenization_nodes`` (allocated once per run; N unused: the
    nodes are solved one after the other)."""
    ps = hp.ps
    n = ps.n_comp
    NP = ps.n_y.shape[0]
    K = ps.y_comp.shape[1]
    SM = n
    m = max(n - 1, 1)
    zmax = max(int(ps.z_off[a + 1] - ps.z_off[a]) for a in range(NP))
    fmax = max(p.fn_coef.shape[0] for p in hp.mob)
    bmax = max(p.basis_pow.shape[0] for p in hp.mob)
    return NodeScratch(ws=mp_workspace(ps), sp=np.full(SM, -1, dtype=np.int64), sa=np.zeros(SM), sy=np.zeros((SM, K)),
                       mu=np.zeros(n), py=np.zeros((NP, K)), df=np.zeros(NP), PD=np.zeros((n, n)),
                       DMU=np.zeros((m, m)), x=np.zeros(n), Nv=np.zeros(n), Mk=np.zeros(n), yva=np.zeros(n),
                       f=np.zeros(SM), G=np.zeros((SM, n)), Gk=np.zeros(SM), T=np.array([np.nan]),
                       fnv=np.zeros((NP, fmax)), bvals=np.zeros(bmax), zb=np.zeros(zmax))


@jit(**LEAF)
def in_range(hp, T):
    """0 if every phase's parameters cover T, else 1 (the stepper's T-range check)."""
    return 0 if (T >= hp.t_range[0] and T <= hp.t_range[1]) else 1


@jit(**LEAF)
def _unpack(Yi, lay, sp, sa, sy, mu, py):
    o_sa, o_sy, o_mu, o_py, _ = lay
    SM = sp.shape[0]
    K = sy.shape[1]
    for j in range(SM):
        sp[j] = np.int64(Yi[j])
        sa[j] = Yi[o_sa + j]
        for k in range(K):
            sy[j, k] = Yi[o_sy + j * K + k]
    for c in range(mu.shape[0]):
        mu[c] = Yi[o_mu + c]
    for a in range(py.shape[0]):
        for k in range(K):
            py[a, k] = Yi[o_py + a * K + k]


@jit(**LEAF)
def _pack(Yi, lay, sp, sa, sy, mu, py):
    o_sa, o_sy, o_mu, o_py, _ = lay
    SM = sp.shape[0]
    K = sy.shape[1]
    for j in range(SM):
        Yi[j] = float(sp[j])
        Yi[o_sa + j] = sa[j]
        for k in range(K):
            Yi[o_sy + j * K + k] = sy[j, k]
    for c in range(mu.shape[0]):
        Yi[o_mu + c] = mu[c]
    for a in range(py.shape[0]):
        for k in range(K):
            Yi[o_py + a * K + k] = py[a, k]


@jit(**LEAF)
def _set_gammas(hp, material, T, nset, sc):
    """The volume fraction sc.f[j] and Gamma_k^j (sc.G[j, k]) of every set of the node
    state in sc.  Returns a status."""
    ps = hp.ps
    n = ps.n_comp
    tot = 0.0
    for j in range(nset):
        a = sc.sp[j]
        y = sc.sy[j, :ps.n_y[a]]
        phase_moles(ps, a, y, sc.Nv)
        nsub = 0.0
        for c in range(n):
            nsub += material.subst[c] * sc.Nv[c]
        sc.f[j] = sc.sa[j] * nsub
        tot += sc.f[j]
        st = standin_set_mobilities(hp.mob, sc.fnv, T, a, y, sc.zb, sc.Mk, sc.yva)
        if st != STATUS_OK:
            return st
        for c in range(n):
            g = (sc.Nv[c] / nsub) * sc.Mk[c] * material.mob_scale[c]
            sc.G[j, c] = g * sc.yva[c] * hp.flux[a]
    for j in range(nset):
        sc.f[j] /= tot
    return STATUS_OK


@jit(**LEAF)
def _matrix_set(hp, nset, sp, f):
    """The set of the matrix phase (of the largest fraction if it has several), -1 if none."""
    m = -1
    for j in range(nset):
        if sp[j] == hp.matrix and (m < 0 or f[j] > f[m]):
            m = j
    return m


@jit(**LEAF)
def homogenization_nodes(hp, fnval, T, material, onsager, U, Y, warm, MU, DMDU, L, scratch):
    """Chemical potentials MU (N, n; J/mol), dmu/du DMDU (N, n, n-1; J/mol) and the
    diagonal L' (N, n) of the homogenization model at every node of U at temperature T,
    the node states in Y (in/out, packed; warm-started where warm[i] == 1, from the
    global start where warm[i] == 0).  fnval and onsager are unused (the phases' T
    functions are evaluated here; the case has no cross terms).  Returns (status, node):
    STATUS_OK and -1, or the status of the first node that failed."""
    sc = scratch
    ps = hp.ps
    N = U.shape[0]
    n = U.shape[1]
    lay = state_layout(n, ps.n_y.shape[0], sc.sy.shape[1])
    if sc.T[0] != T:
        if mp_coefs(ps, T, sc.ws) != 0 or standin_tfuncs(hp.mob, T, sc.fnv, sc.bvals) != 0:
            return STATUS_T_RANGE, 0
        sc.T[0] = T
    for i in range(N):
        su = 0.0
        for k in range(n):
            su += U[i, k]
        for k in range(n):
            sc.x[k] = U[i, k] / su
        _unpack(Y[i], lay, sc.sp, sc.sa, sc.sy, sc.mu, sc.py)
        mode = COLD if warm[i] == 0 else WARM_AUDIT
        st = mp_node(ps, T, sc.x, hp.tab, mode, sc.sp, sc.sa, sc.sy, sc.mu, sc.py, sc.df, sc.PD, sc.DMU, sc.ws)
        if st != STATUS_OK:
            return st, i
        _pack(Y[i], lay, sc.sp, sc.sa, sc.sy, sc.mu, sc.py)
        nset = 0
        while nset < sc.sp.shape[0] and sc.sp[nset] >= 0:
            nset += 1
        st = _set_gammas(hp, material, T, nset, sc)
        if st != STATUS_OK:
            return st, i
        m = _matrix_set(hp, nset, sc.sp, sc.f)
        for k in range(n):
            for j in range(nset):
                sc.Gk[j] = sc.G[j, k]
            g, st = average(hp.scheme, sc.f, sc.Gk, nset, m, hp.exponent)
            if st != STATUS_OK:
                return st, i
            L[i, k] = g / material.Vs
            if not np.isfinite(L[i, k]):
                return STATUS_NAN, i
            MU[i, k] = sc.mu[k]
        dmu_du(sc.PD, material.subst, su, DMDU[i])
    return STATUS_OK, -1
