"""Global start of the multiphase equilibrium and the audit for composition sets (numba),
from a ``StartTable`` (kinsim.kernels.mptypes): samples of every phase's site fractions
and the lower convex hull of all of them at one temperature, computed once per
temperature and shared by all rows.

The lower hull is a convex piecewise-linear function of the composition, the maximum of
its facets' planes: the facet whose plane is highest at x is the facet over x.  Its
vertices, with the barycentric coordinates of x, give the starting phase set (vertices
of one phase are one composition set unless the phase's Gibbs energy between them rises
above the plane, i.e. a miscibility gap separates them), the amounts, and the plane
gives the starting chemical potentials.  The audit compares the potentials of an
equilibrium with every sample: a sample below the tangent plane (GM - mu.x < 0) is a
state the equilibrium has missed, a new composition set or an absent phase whose own
minimisation stopped in another minimum.  It visits only the vertices of each phase's
own lower hull, by descent: GM - mu.x over that hull is convex and piecewise linear, so
its lowest vertex is found by walking along edges, and every sample lies on or above
the hull (kinsim.global_start).

A table serves nodes at its own temperature exactly.  At another temperature (a node
following a T schedule between rebuilds of the table) it still gives starting points,
and the samples are evaluated at the node's T (their site fractions from the table):
the driving-force starts descend the hull graph with those values (a local search
there), and the audit compares every sample with the tangent plane (a scan of all
samples, about a microsecond per sample), so that it judges at the right temperature.
"""

from __future__ import annotations

import numpy as np

from .._jit import jit
from .codes import STATUS_OK, STATUS_OUTSIDE_PHASES
from .gibbs import R
from .linalg import lu_factor, lu_solve
from .mpphase import phase_eval, phase_moles

TOL_SPLIT = 1e-8  # vertices of one phase are two sets when G between them is this far (* RT) above the plane
TOL_AUDIT = 1e-8  # a sample this far (* RT, J/mol of atoms) below the tangent plane is a missed state
TOL_BARY = 1e-7  # barycentric coordinates of x in its facet may be this negative (hull round-off)

_u = np.uint64


@jit(inline="always")
def hull_facet(tab, x):
    """Index of the facet over x: of the facets listed for x's grid cell, the one whose
    plane is highest at x.  -1 if there are none."""
    n = x.shape[0]
    G = tab.grid_n
    cell = 0
    stride = 1
    for c in range(1, n):
        i = int(x[c] * G)
        cell += stride * min(max(i, 0), G - 1)
        stride *= G
    best = -np.inf
    fb = -1
    for e in range(tab.cell_ptr[cell], tab.cell_ptr[cell + 1]):
        f = tab.cell_fct[e]
        s = 0.0
        for c in range(n):
            s += tab.fct_mu[f, c] * x[c]
        if s > best:
            best = s
            fb = f
    return fb


@jit(_nrt=False)
def _sample_gm(ps, tab, T, s, ws):
    """GM (J/mol of atoms) of sample s at T (ws.mcs at T), from its site fractions: for a
    table of another temperature (the callers read tab.smp_gm at the table's own)."""
    b = tab.smp_phase[s]
    G = phase_eval(ps, b, T, tab.smp_y[s, : ps.n_y[b]], 0, ws)
    Nt = 0.0
    for c in range(ps.n_comp):
        Nt += ws.Nv[c]
    return G / Nt


@jit(inline="always")
def _descend(ps, tab, T, s, mu, ws):
    """From sample s along the edges of its phase's hull to the vertex of lowest
    GM - mu.x (the minimum over all the phase's samples at the table's temperature; at
    another T a local minimum along the same edges).  Returns (sample, value)."""
    n = mu.shape[0]
    own = T == tab.T
    d = tab.smp_gm[s] if own else _sample_gm(ps, tab, T, s, ws)
    for c in range(n):
        d -= mu[c] * tab.smp_x[s, c]
    while True:
        nb = -1
        best = d
        for e in range(tab.adj_ptr[s], tab.adj_ptr[s + 1]):
            u = tab.adj[e]
            du = tab.smp_gm[u] if own else _sample_gm(ps, tab, T, u, ws)
            for c in range(n):
                du -= mu[c] * tab.smp_x[u, c]
            if du < best:
                best = du
                nb = u
        if nb < 0:
            return s, d
        s = nb
        d = best


@jit(inline="always")
def sample_start(ps, tab, T, b, mu, y, ws):
    """Site fractions (into y) of the sample of phase b with the lowest GM - mu.x at T,
    the start of its driving-force search."""
    s, d = _descend(ps, tab, T, tab.phase_start[b], mu, ws)
    for k in range(ps.n_y[b]):
        y[k] = tab.smp_y[s, k]


@jit(inline="always")
def audit_scan(ps, tab, T, mu, ws):
    """The sample with the most negative GM - mu.x at T, if below -TOL_AUDIT RT; else -1.
    By descent on each phase's hull at the table's temperature, by a scan of every
    sample at another."""
    best = -TOL_AUDIT * R * T
    sb = -1
    if T != tab.T:
        for s in range(tab.smp_phase.shape[0]):
            d = _sample_gm(ps, tab, T, s, ws)
            for c in range(mu.shape[0]):
                d -= mu[c] * tab.smp_x[s, c]
            if d < best:
                best = d
                sb = s
        return sb
    for b in range(tab.phase_start.shape[0]):
        s, d = _descend(ps, tab, T, tab.phase_start[b], mu, ws)
        if d < best:
            best = d
            sb = s
    return sb


@jit(_nrt=False)
def global_start(ps, T, x, tab, sp, sa, sy, mu, py, ws):
    """Starting composition sets (phase sp[j], amount sa[j] in formula units, site
    fractions sy[j]), potentials mu and, for every phase, the start py[a] of its
    driving-force search, from the facet of the lower hull over x.  Unused slots get
    sp = -1.  Returns (number of sets, status)."""
    n = x.shape[0]
    RT = R * T
    SM = sp.shape[0]
    for j in range(SM):
        sp[j] = -1
    fb = hull_facet(tab, x)
    if fb < 0:
        return 0, STATUS_OUTSIDE_PHASES
    for c in range(n):
        ws.wb[c] = x[c]
        mu[c] = tab.fct_mu[fb, c]
        for v in range(n):
            ws.Mb[c, v] = tab.smp_x[_u(tab.fct_vert[fb, v]), c]
    if lu_factor(ws.Mb, n, ws.pivn) != 0:
        return 0, STATUS_OUTSIDE_PHASES
    lu_solve(ws.Mb, n, ws.pivn, ws.wb)
    for v in range(n):
        if not ws.wb[v] > -TOL_BARY:
            return 0, STATUS_OUTSIDE_PHASES
    # vertices -> composition sets (sets of one phase merge unless a gap separates them)
    nset = 0
    for v in range(n):
        s = _u(tab.fct_vert[fb, v])
        b = tab.smp_phase[s]
        K = ps.n_y[b]
        w = max(ws.wb[v], 0.0)
        into = -1
        for j in range(nset):
            if sp[j] != b:
                continue
            # G midway between the set's first vertex (kept in ws.dy[j]) and this one
            for k in range(K):
                ws.ytr[k] = 0.5 * (ws.dy[j, k] + tab.smp_y[s, k])
            G = phase_eval(ps, b, T, ws.ytr[:K], 0, ws)
            d = G
            Nt = 0.0
            for c in range(n):
                d -= mu[c] * ws.Nv[c]
                Nt += ws.Nv[c]
            if d / Nt <= TOL_SPLIT * RT:
                into = j
                break
        if into < 0:
            into = nset
            nset += 1
            sp[into] = b
            ws.wsum[into] = 0.0
            for k in range(K):
                ws.dy[into, k] = tab.smp_y[s, k]
                sy[into, k] = 0.0
        ws.wsum[into] += w
        for k in range(K):
            sy[into, k] += w * tab.smp_y[s, k]
    for j in range(nset):
        b = sp[j]
        K = ps.n_y[b]
        if ws.wsum[j] > 0.0:
            for k in range(K):
                sy[j, k] /= ws.wsum[j]
        else:
            for k in range(K):
                sy[j, k] = ws.dy[j, k]
        Nt = phase_moles(ps, b, sy[j, :K], ws.xb)
        sa[j] = ws.wsum[j] / Nt
    for b in range(ps.n_y.shape[0]):
        sample_start(ps, tab, T, b, mu, py[b], ws)
    return nset, STATUS_OK
