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
of the driving-force searches, and the count of solves since its last audit for new
composition sets) is packed into one row of floats per node, the ``Y`` of
the stepper (``kinsim.kernels.step.StepperState``), so that the stepper keeps, copies
and checkpoints it like the single-phase site fractions; ``state_layout`` gives its
slices.  A node with warm == 0 (or an empty state) starts from the global start.

Between solves.  A node whose u has moved by at most TANGENT_STEP (in every
component) since its last solve is not solved again: its state, MU and L' follow the
tangent of that solve (the equilibrium's derivatives with respect to x from the
factored matrix of its last Newton iteration, and dL'/du), its dmu/du stays; by at
most REUSE_TOL it keeps that result as it is.  The error is quadratic in the move:
measured on the Fe-Cr-Ni couple, |mu - tangent| <= 1.5e2 RT |dx|^2 (1.4e-10 RT at
|dx| = 1e-6), so below 2e-12 RT at TANGENT_STEP, far below the tolerance of the solve
(1e-10 RT), whose single Newton step from a warm start is the same linearisation.
Always from the last solve, so the errors do not add up.  A node solves again when a
set's amount or a site fraction would not stay positive, or when an absent phase's
driving force could reach TOL_DF RT (it changes by at most max |dmu|): a phase-set
change is always a solve.  A node that moved further solves from the tangent's
prediction (where it keeps amounts and site fractions positive), one Newton iteration
closer than its last state.  The audit for new composition sets runs every
AUDIT_EVERY-th solve of a node; a node that follows tangents has moved by less than
TANGENT_STEP since its last solve.

dL'/du enters only the Newton matrix of the step (and the tangents' L'): it is computed
from the stored derivatives of a solve when one of them asks for it, and serves the
node's later solves within DL_KEEP of it.  The solution does not depend on it, and the
Newton iterations of kawin's Fe-Cr-Ni couple stay as many as with dL'/du at every solve
(529 and 1167 for the two Hashin-Shtrikman bounds; 1214 for the upper one with 1e-3).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import typeof, types

from .._jit import LEAF, jit
from .averaging import average
from .codes import BC_COMPOSITION, STATUS_NAN, STATUS_OK, STATUS_T_RANGE
from .flux import coefficient_derivative
from .gibbs import R
from .kernel_ref import KernelRef, call_ref
from .mobility import Material, Onsager
from .mpmobility import set_mobilities
from .mpphase import mp_coefs, mp_workspace, phase_moles
from .mptypes import PhaseSetParams, StartTable
from .multiphase import COLD, TOL_DF, WARM, WARM_AUDIT, mp_node_ref
from .nodes import dmu_du

H = 1e-7  # step (in u) of the forward difference of L' along the state's derivatives
AUDIT_EVERY = 4  # a node's equilibrium is audited for new composition sets every AUDIT_EVERY-th solve
REUSE_TOL = 1e-12  # a node whose u moved by at most this (every component) keeps the result of its last solve
TANGENT_STEP = 1e-7  # ... by at most this: follows the tangent of its last solve
DL_KEEP = 1e-4  # dL'/du (the Newton matrix only) serves a node's solves within this move of u from where it was taken

# slots of NodeScratch.counts (what the node evaluations did, for benchmarks)
COUNT_EVALUATIONS = 0  # calls of homogenization_nodes
COUNT_SOLVES = 1  # node equilibria solved
COUNT_TANGENTS = 2  # nodes updated along the tangent of their last solve
COUNT_KEPT = 3  # nodes that kept the result of their last solve
COUNT_PREDICTED = 4  # solves started from the tangent of the node's last solve
COUNT_AUDITS = 5  # solves with the audit for new composition sets
COUNT_GLOBAL = 6  # solves from the global start
COUNT_DERIVATIVES = 7  # dL'/du of a solved node computed
N_COUNTS = 8


class Homogenization(NamedTuple):
    """The node model of a case with several phases (the ``p`` of the stepper)."""

    ps: PhaseSetParams  # the candidate phases
    tab: StartTable  # the global start at the run's temperature
    scheme: int  # AVG_* code of the averaging (kinsim.kernels.codes)
    matrix: int  # candidate index of the matrix phase (AVG_HS_MATRIX, AVG_LABYRINTH), -1 otherwise
    exponent: float  # labyrinth exponent
    flux: np.ndarray  # f8[NP] 1.0 for a phase that carries flux, 0.0 for an excluded one
    t_range: np.ndarray  # f8[2] the temperatures every phase's parameters cover (K)


@jit(**LEAF)
def state_layout(n, NP, K):
    """Offsets of the packed node state: (amounts, site fractions, potentials, phase
    starts, evaluations since the last audit, size) for n components (n composition sets
    at most, their phases first), NP candidate phases and K site fractions at most per
    phase."""
    SM = n
    o_sa = SM
    o_sy = o_sa + SM
    o_mu = o_sy + SM * K
    o_py = o_mu + n
    o_audit = o_py + NP * K
    return o_sa, o_sy, o_mu, o_py, o_audit, o_audit + 1


def state_size(hp: Homogenization) -> int:
    """Floats per node of the packed state."""
    return state_layout(hp.ps.n_comp, hp.ps.n_y.shape[0], hp.ps.y_comp.shape[1])[5]


def empty_state(hp: Homogenization, N: int) -> np.ndarray:
    """The packed state of N nodes without a solution (no composition set)."""
    Y = np.zeros((N, state_size(hp)))
    Y[:, : hp.ps.n_comp] = -1.0
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
    DL: np.ndarray  # f8[N, n, n-1] dL'_kk/du_j of every node (the Jacobian's term through L')
    dx: np.ndarray  # f8[n] dx/du_j of a node
    dmu: np.ndarray  # f8[n] dmu/du_j of a node
    sa_h: np.ndarray  # f8[SM] the node's state moved along d/du_j: amounts,
    sy_h: np.ndarray  # f8[SM, K] site fractions,
    L_h: np.ndarray  # f8[n] and L'
    E: np.ndarray  # f8[n, n-1] a Jacobian block
    dxt: np.ndarray  # f8[n] dx of a tangent update
    # the last solve of each node (the origin of its tangent updates)
    U_last: np.ndarray  # f8[N, n] u at the last solve (NaN: none)
    Y_last: np.ndarray  # f8[N, width] its packed state
    MU_last: np.ndarray  # f8[N, n]
    DMDU_last: np.ndarray  # f8[N, n, n-1]
    L_last: np.ndarray  # f8[N, n]
    S_last: np.ndarray  # f8[N, n + SM, n] d(mu, set amounts)/dx (all x independent)
    W_last: np.ndarray  # f8[N, SM, K, n] dy/dmu of each set
    DF_last: np.ndarray  # f8[N] largest driving force of an absent phase (J/mol of atoms; -inf: none)
    DL_ok: np.ndarray  # i8[N] 1 where DL serves the last solve (taken within DL_KEEP of it)
    U_dl: np.ndarray  # f8[N, n] u where DL was taken (NaN: nowhere)
    counts: np.ndarray  # i8[N_COUNTS] what the evaluations did (COUNT_* slots)
    node: KernelRef  # the node equilibrium (kinsim.kernels.multiphase.mp_node_ref)


class StepperScratch(NamedTuple):
    """The node scratch of the stepper for the homogenization model
    (``kinsim.kernels.node_models.node_scratch``): the stepper calls
    ``homogenization_nodes`` through a reference, so that it compiles once, on its own,
    instead of inside every kernel that evaluates nodes."""

    work: NodeScratch
    nodes: KernelRef  # homogenization_nodes (``nodes_ref``)


def stepper_scratch(hp: Homogenization, N: int) -> StepperScratch:
    """The stepper's node scratch for N nodes."""
    work = node_scratch(hp, N)
    return StepperScratch(work, nodes_ref(hp, work))


def nodes_ref(hp: Homogenization, work: NodeScratch) -> KernelRef:
    """``homogenization_nodes`` for hp and the scratch ``work`` as the stepper calls it:
    fnval (one float per T function, unused), the case's Material and Onsager terms, and
    C-contiguous float64 arrays U, Y, MU, DMDU, L and int64 warm (kinsim.kernels.step)."""
    f1 = types.float64[::1]
    f2 = types.float64[:, ::1]
    material = typeof(Material(1.0, np.ones(1), np.ones(1), 0.0, 0))
    onsager = typeof(Onsager(0, np.zeros((1, 1))))
    f3 = types.float64[:, :, ::1]
    args = (typeof(hp), f1, types.float64, material, onsager, f2, f2, types.int64[::1], f2, f3, f2, typeof(work))
    return KernelRef(homogenization_nodes, args, types.UniTuple(types.int64, 2))


def scratch_floats(hp: Homogenization) -> int:
    """8-byte numbers per node of the per-node arrays of ``node_scratch`` (for the size
    estimate of a run, kinsim.resources; tests/storage/test_resources.py checks it against
    the arrays ``node_scratch`` makes)."""
    n = hp.ps.n_comp
    m = max(n - 1, 1)
    SM, K = n, hp.ps.y_comp.shape[1]
    # DL, DMDU_last; U_last, MU_last, L_last, U_dl; Y_last; S_last; W_last; DF_last, DL_ok
    return 2 * n * m + 4 * n + state_size(hp) + (n + SM) * n + SM * K * n + 2


def node_scratch(hp: Homogenization, N: int) -> NodeScratch:
    """Work arrays of ``homogenization_nodes`` for N nodes (allocated once per run)."""
    ps = hp.ps
    n = ps.n_comp
    NP = ps.n_y.shape[0]
    K = ps.y_comp.shape[1]
    SM = n
    m = max(n - 1, 1)
    ws = mp_workspace(ps)
    return NodeScratch(
        ws=ws,
        sp=np.full(SM, -1, dtype=np.int64),
        sa=np.zeros(SM),
        sy=np.zeros((SM, K)),
        mu=np.zeros(n),
        py=np.zeros((NP, K)),
        df=np.zeros(NP),
        PD=np.zeros((n, n)),
        DMU=np.zeros((m, m)),
        x=np.zeros(n),
        Nv=np.zeros(n),
        Mk=np.zeros(n),
        yva=np.zeros(n),
        f=np.zeros(SM),
        G=np.zeros((SM, n)),
        Gk=np.zeros(SM),
        T=np.array([np.nan]),
        DL=np.zeros((N, n, m)),
        dx=np.zeros(n),
        dmu=np.zeros(n),
        sa_h=np.zeros(SM),
        sy_h=np.zeros((SM, K)),
        L_h=np.zeros(n),
        E=np.zeros((n, m)),
        dxt=np.zeros(n),
        U_last=np.full((N, n), np.nan),
        Y_last=empty_state(hp, N),
        MU_last=np.zeros((N, n)),
        DMDU_last=np.zeros((N, n, m)),
        L_last=np.zeros((N, n)),
        S_last=np.zeros((N, n + SM, n)),
        W_last=np.zeros((N, SM, K, n)),
        DF_last=np.zeros(N),
        DL_ok=np.zeros(N, dtype=np.int64),
        U_dl=np.full((N, n), np.nan),
        counts=np.zeros(N_COUNTS, dtype=np.int64),
        node=mp_node_ref(ps, hp.tab, ws),
    )


@jit(**LEAF)
def in_range(hp, T):
    """0 if every phase's parameters cover T, else 1 (the stepper's T-range check)."""
    return 0 if (T >= hp.t_range[0] and T <= hp.t_range[1]) else 1


@jit(**LEAF)
def _unpack(Yi, lay, sp, sa, sy, mu, py):
    o_sa, o_sy, o_mu, o_py, _, _ = lay
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
    o_sa, o_sy, o_mu, o_py, _, _ = lay
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
def _set_gammas(hp, material, T, nset, sp, sa, sy, sc):
    """The volume fraction sc.f[j] and Gamma_k^j (sc.G[j, k]) of every set of the node
    state (sp, sa, sy).  Returns a status."""
    ps = hp.ps
    n = ps.n_comp
    tot = 0.0
    for j in range(nset):
        a = sp[j]
        y = sy[j, : ps.n_y[a]]
        phase_moles(ps, a, y, sc.Nv)
        nsub = 0.0
        for c in range(n):
            nsub += material.subst[c] * sc.Nv[c]
        sc.f[j] = sa[j] * nsub
        tot += sc.f[j]
        st = set_mobilities(ps, T, a, y, sc.ws, sc.Mk, sc.yva)
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
def _coefficients(hp, material, T, nset, sp, sa, sy, sc, out):
    """L'_kk = Gamma*_k / V_s (into out, n) of the node state (sp, sa, sy).  Returns a
    status."""
    st = _set_gammas(hp, material, T, nset, sp, sa, sy, sc)
    if st != STATUS_OK:
        return st
    m = _matrix_set(hp, nset, sp, sc.f)
    for k in range(out.shape[0]):
        for j in range(nset):
            sc.Gk[j] = sc.G[j, k]
        g, st = average(hp.scheme, sc.f, sc.Gk, nset, m, hp.exponent)
        if st != STATUS_OK:
            return st
        out[k] = g / material.Vs
        if not np.isfinite(out[k]):
            return STATUS_NAN
    return STATUS_OK


@jit(**LEAF)
def _dx_du(material, x, su, j, dx):
    """dx_c/du_j (into dx, n) at mole fractions x with sum(u) = su: u_0 = 1 - the sum of
    the other substitutional u, x = u / sum(u)."""
    sj = material.subst[j]
    for c in range(x.shape[0]):
        v = -x[c] * (1.0 - sj)
        if c == j:
            v += 1.0
        if c == 0:
            v -= sj
        dx[c] = v / su


@jit(**LEAF)
def _coefficient_derivatives(hp, material, T, nset, x, su, L, S, W, sc, DL):
    """dL'_kk/du_j (into DL, n x n-1) of a converged node in sc.sp, sc.sa, sc.sy, from
    the derivatives of its state with respect to x (Larsson & Jansson's rate of change
    at equilibrium, ``_store_derivatives``): S = d(mu, n)/dx, dy_s = W_s dmu; L' at the
    state moved by H along them (a forward difference in the state, no new
    equilibrium)."""
    ps = hp.ps
    n = x.shape[0]
    for j in range(1, n):
        _dx_du(material, x, su, j, sc.dx)
        for c in range(n):
            v = 0.0
            for b in range(n):
                v += S[c, b] * sc.dx[b]
            sc.dmu[c] = v
        for s in range(nset):
            dn = 0.0
            for b in range(n):
                dn += S[n + s, b] * sc.dx[b]
            sc.sa_h[s] = sc.sa[s] + H * dn
            for k in range(ps.n_y[sc.sp[s]]):
                dy = 0.0
                for c in range(n):
                    dy += W[s, k, c] * sc.dmu[c]
                sc.sy_h[s, k] = sc.sy[s, k] + H * dy
        if _coefficients(hp, material, T, nset, sc.sp, sc.sa_h, sc.sy_h, sc, sc.L_h) != STATUS_OK:
            for k in range(n):
                DL[k, j - 1] = 0.0  # the derivative is not defined there: L' frozen
            continue
        for k in range(n):
            DL[k, j - 1] = (sc.L_h[k] - L[k]) / H


@jit(**LEAF)
def _store_derivatives(hp, i, nset, sc):
    """Keep the derivatives of node i's solve that its tangent updates and dL'/du need
    (mp_node leaves them in sc.ws: d(mu, n)/dx in Bc, dy/dmu of each set in set_W), and
    the largest driving force of an absent phase."""
    ws = sc.ws
    n = sc.x.shape[0]
    D = n + nset
    S = sc.S_last[i]
    for r in range(D):
        for c in range(n):
            S[r, c] = ws.Bc[r, c]
    W = sc.W_last[i]
    for s in range(nset):
        for k in range(hp.ps.n_y[sc.sp[s]]):
            for c in range(n):
                W[s, k, c] = ws.set_W[s, k, c]
    dfmax = -np.inf
    for b in range(sc.df.shape[0]):
        present = False
        for s in range(nset):
            if sc.sp[s] == b:
                present = True
        if not present and sc.df[b] > dfmax:
            dfmax = sc.df[b]
    sc.DF_last[i] = dfmax


@jit(**LEAF)
def _last_solve(sc, i, lay):
    """Unpack node i's last solve into sc.sp, sc.sa, sc.sy, its mole fractions into sc.x;
    returns (number of sets, sum(u))."""
    _unpack(sc.Y_last[i], lay, sc.sp, sc.sa, sc.sy, sc.mu, sc.py)
    n = sc.x.shape[0]
    su = 0.0
    for k in range(n):
        su += sc.U_last[i, k]
    for k in range(n):
        sc.x[k] = sc.U_last[i, k] / su
    nset = 0
    while nset < sc.sp.shape[0] and sc.sp[nset] >= 0:
        nset += 1
    return nset, su


@jit(**LEAF)
def _ensure_derivatives(hp, material, T, i, lay, sc):
    """dL'/du of node i's last solve into sc.DL[i], unless DL serves it already."""
    if sc.DL_ok[i] == 1:
        return
    nset, su = _last_solve(sc, i, lay)
    _coefficient_derivatives(hp, material, T, nset, sc.x, su, sc.L_last[i], sc.S_last[i], sc.W_last[i], sc, sc.DL[i])
    sc.DL_ok[i] = 1
    for k in range(sc.x.shape[0]):
        sc.U_dl[i, k] = sc.U_last[i, k]
    sc.counts[COUNT_DERIVATIVES] += 1


@jit(**LEAF)
def _moved(i, U, sc):
    """The largest move of node i's u since its last solve (inf without one)."""
    if not np.isfinite(sc.U_last[i, 0]):
        return np.inf
    d = 0.0
    for k in range(U.shape[1]):
        d = max(d, abs(U[i, k] - sc.U_last[i, k]))
    return d


@jit(**LEAF)
def _tangent_move(hp, material, i, U, lay, sc):
    """Node i's last solve moved along its tangent to U[i]: the state into sc.sp, sc.sa,
    sc.sy, sc.mu (packable), the move of the potentials into sc.dmu.  Returns (whether
    every amount and site fraction stays positive, max |dmu|)."""
    nset, su = _last_solve(sc, i, lay)
    n = U.shape[1]
    for c in range(n):
        sc.dxt[c] = 0.0
    for j in range(1, n):
        _dx_du(material, sc.x, su, j, sc.dx)
        d = U[i, j] - sc.U_last[i, j]
        for c in range(n):
            sc.dxt[c] += sc.dx[c] * d
    S = sc.S_last[i]
    W = sc.W_last[i]
    dmu_max = 0.0
    for c in range(n):
        v = 0.0
        for b in range(n):
            v += S[c, b] * sc.dxt[b]
        sc.dmu[c] = v
        sc.mu[c] += v
        dmu_max = max(dmu_max, abs(v))
    positive = True
    for s in range(nset):
        dn = 0.0
        for b in range(n):
            dn += S[n + s, b] * sc.dxt[b]
        if not (sc.sa[s] > 0.0 and sc.sa[s] + dn > 0.0):
            positive = False
        sc.sa[s] += dn
        for k in range(hp.ps.n_y[sc.sp[s]]):
            dy = 0.0
            for c in range(n):
                dy += W[s, k, c] * sc.dmu[c]
            sc.sy[s, k] += dy
            if not sc.sy[s, k] > 0.0:
                positive = False
    return positive, dmu_max


@jit(**LEAF)
def _tangent(hp, material, T, i, U, Y, MU, DMDU, L, lay, sc):
    """Node i at U[i] from the tangent of its last solve (module docstring) if the phase
    set stays; returns whether it did.  Otherwise Y[i] becomes the tangent's prediction
    where it keeps amounts and site fractions positive (the start of the solve)."""
    n = U.shape[1]
    moved = _moved(i, U, sc)
    if moved == np.inf:  # no solve (at this T) to follow
        return False
    near = moved <= TANGENT_STEP
    if near:
        _ensure_derivatives(hp, material, T, i, lay, sc)  # first: it uses the scratch of the move
    positive, dmu_max = _tangent_move(hp, material, i, U, lay, sc)
    if not positive:
        return False
    for k in range(Y.shape[1]):
        Y[i, k] = sc.Y_last[i, k]  # the last solve's count of solves since its audit
    _pack(Y[i], lay, sc.sp, sc.sa, sc.sy, sc.mu, sc.py)
    if not (near and sc.DF_last[i] + dmu_max < TOL_DF * R * T):
        sc.counts[COUNT_PREDICTED] += 1
        return False
    for c in range(n):
        MU[i, c] = sc.mu[c]
        v = sc.L_last[i, c]
        for j in range(1, n):
            v += sc.DL[i, c, j - 1] * (U[i, j] - sc.U_last[i, j])
        L[i, c] = v
        for j in range(n - 1):
            DMDU[i, c, j] = sc.DMDU_last[i, c, j]
    sc.counts[COUNT_TANGENTS] += 1
    return True


@jit(**LEAF)
def _copy_node(Y, MU, DMDU, L, i, Y2, MU2, DMDU2, L2):
    """Node i's Y, MU, DMDU and L into Y2, MU2, DMDU2, L2."""
    for k in range(Y.shape[1]):
        Y2[i, k] = Y[i, k]
    for k in range(MU.shape[1]):
        MU2[i, k] = MU[i, k]
        L2[i, k] = L[i, k]
        for j in range(DMDU.shape[2]):
            DMDU2[i, k, j] = DMDU[i, k, j]


@jit(**LEAF)
def _solve_node(hp, T, i, warm, Y, lay, sc):
    """The multiphase equilibrium of node i (mole fractions sc.x) from its packed state
    Y[i], with the audit every AUDIT_EVERY-th solve; the state is packed back.  Returns
    (status, number of sets)."""
    _unpack(Y[i], lay, sc.sp, sc.sa, sc.sy, sc.mu, sc.py)
    o_audit = lay[4]
    mode = WARM
    if warm[i] == 0:
        mode = COLD
    elif Y[i, o_audit] + 1.0 >= AUDIT_EVERY:
        mode = WARM_AUDIT
    args = (hp.ps, T, sc.x, hp.tab, mode, sc.sp, sc.sa, sc.sy, sc.mu, sc.py, sc.df, sc.PD, sc.DMU, sc.ws)
    st = call_ref(sc.node, args)
    sc.counts[COUNT_SOLVES] += 1
    if mode == WARM_AUDIT:
        sc.counts[COUNT_AUDITS] += 1
    if st != STATUS_OK:
        return st, 0
    nset = 0
    while nset < sc.sp.shape[0] and sc.sp[nset] >= 0:
        nset += 1
    _pack(Y[i], lay, sc.sp, sc.sa, sc.sy, sc.mu, sc.py)
    Y[i, o_audit] = 0.0 if mode != WARM else Y[i, o_audit] + 1.0
    return STATUS_OK, nset


@jit(**LEAF)
def homogenization_nodes(hp, fnval, T, material, onsager, U, Y, warm, MU, DMDU, L, scratch):
    """Chemical potentials MU (N, n; J/mol), dmu/du DMDU (N, n, n-1; J/mol) and the
    diagonal L' (N, n) of the homogenization model at every node of U at temperature T,
    the node states in Y (in/out, packed; warm-started where warm[i] == 1, from the
    global start where warm[i] == 0).  A node whose u has moved by at most TANGENT_STEP
    since its last solve (with the same scratch, at the same T) follows the tangent of
    that solve, further it solves from that tangent's prediction (module docstring).
    dL'/du is left to ``homogenization_jacobian``.
    fnval and onsager are unused (the phases' T functions are evaluated here; the case
    has no cross terms).  Returns (status, node): STATUS_OK and -1, or the status of the
    first node that failed."""
    sc = scratch
    N = U.shape[0]
    n = U.shape[1]
    lay = state_layout(n, hp.ps.n_y.shape[0], sc.sy.shape[1])
    sc.counts[COUNT_EVALUATIONS] += 1
    if sc.T[0] != T:
        if mp_coefs(hp.ps, T, sc.ws) != 0:
            return STATUS_T_RANGE, 0
        sc.T[0] = T
        for i in range(N):
            sc.U_last[i, 0] = np.nan
            sc.U_dl[i, 0] = np.nan
    for i in range(N):
        if warm[i] == 1 and _moved(i, U, sc) <= REUSE_TOL:
            _copy_node(sc.Y_last, sc.MU_last, sc.DMDU_last, sc.L_last, i, Y, MU, DMDU, L)
            sc.counts[COUNT_KEPT] += 1
            continue
        if warm[i] == 1 and _tangent(hp, material, T, i, U, Y, MU, DMDU, L, lay, sc):
            continue
        su = 0.0
        for k in range(n):
            su += U[i, k]
        for k in range(n):
            sc.x[k] = U[i, k] / su
        if warm[i] == 0 or Y[i, 0] < 0.0:  # without a state to continue from: a global start
            sc.counts[COUNT_GLOBAL] += 1
        st, nset = _solve_node(hp, T, i, warm, Y, lay, sc)
        if st != STATUS_OK:
            return st, i
        st = _coefficients(hp, material, T, nset, sc.sp, sc.sa, sc.sy, sc, L[i])
        if st != STATUS_OK:
            return st, i
        for k in range(n):
            MU[i, k] = sc.mu[k]
        dmu_du(sc.PD, material.subst, su, DMDU[i])
        for k in range(n):
            sc.U_last[i, k] = U[i, k]
        _copy_node(Y, MU, DMDU, L, i, sc.Y_last, sc.MU_last, sc.DMDU_last, sc.L_last)
        _store_derivatives(hp, i, nset, sc)
        keep = True
        for k in range(n):
            if not abs(U[i, k] - sc.U_dl[i, k]) <= DL_KEEP:
                keep = False
        sc.DL_ok[i] = 1 if keep else 0
    return STATUS_OK, -1


@jit(**LEAF)
def homogenization_jacobian(hp, sc, problem, U, fields, T, Gm, Gp):
    """Add the derivatives of the face fluxes through the nodes' L' (sc.DL, computed here
    for the nodes of the last ``homogenization_nodes`` of the state U) to the Jacobian blocks Gm, Gp
    (kinsim.kernels.step.jacobian_blocks): interior faces and fixed-composition boundary
    faces (a fixed potential's face keeps the L' ~ u_k of kinsim.kernels.boundary)."""
    grid = problem.grid
    material = problem.material
    bp = problem.boundary
    bs = problem.boundary_state
    N = U.shape[0]
    M = fields.M
    L = fields.L
    lay = state_layout(U.shape[1], hp.ps.n_y.shape[0], sc.sy.shape[1])
    for i in range(N):
        _ensure_derivatives(hp, material, T, i, lay, sc)
    for f in range(1, N):
        il = f - 1
        coefficient_derivative(
            material, L[il], L[f], sc.DL[f], M[il], M[f], U[il], U[f], grid.dz[il], T, -1.0, sc.E, Gp[f]
        )
        coefficient_derivative(
            material, L[il], L[f], sc.DL[il], M[il], M[f], U[il], U[f], grid.dz[il], T, 1.0, sc.E, Gm[f]
        )
    # a fixed boundary composition is state a of its face, the node next to it state b
    if bp.kind[0, 0] == BC_COMPOSITION:
        coefficient_derivative(
            material, bs.L[0], L[0], sc.DL[0], bs.drive[0], M[0], bs.u[0], U[0], grid.bnd_dist[0], T, -1.0, sc.E, Gp[0]
        )
    if bp.kind[1, 0] == BC_COMPOSITION:
        coefficient_derivative(
            material,
            bs.L[1],
            L[N - 1],
            sc.DL[N - 1],
            bs.drive[1],
            M[N - 1],
            bs.u[1],
            U[N - 1],
            -grid.bnd_dist[1],
            T,
            -1.0,
            sc.E,
            Gm[N],
        )
