"""The global start of the multiphase equilibrium at one temperature: sample points of
every candidate phase's site fractions and lower convex hulls of them (the method of
pycalphad's starting point: the Gibbs energy surfaces replaced by sampled points, whose
lower convex hull is the equilibrium of that discrete system).  Built once per
temperature, in Python with qhull (scipy.spatial.ConvexHull), and shared by every row
or node; kinsim.kernels.hull reads it.

* The lower hull of all samples: its facets as planes G = mu . x, so that the facet over
  a composition is the one whose plane is highest there, and a uniform grid over
  composition space listing the facets whose projection meets each cell.
* The lower hull of each phase's samples, as a graph of its vertices.  For potentials
  mu, GM - mu.x over the hull is convex and piecewise linear, so a descent along the
  edges ends at its minimum over all the phase's samples (every sample lies on or above
  the hull); the audit and the start of a driving-force search use it.

Sampling: on each free sublattice a simplex lattice of site fractions (i_1, ..., i_m)/d,
sum i = d, with zeros replaced by 1e-9 (ln 0); the product over the sublattices; d is
the largest division that keeps a phase at no more than ``points`` samples.  A phase of
fixed composition is one sample (one point of the hull); a phase holding only some of
the components has its samples on a face of the composition simplex.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from .errors import InputError
from .kernels.gibbs import R, gm_batch
from .kernels.kkt import MINIMISE, equilibrium_batch
from .kernels.mptypes import StartTable

POINTS_PER_PHASE = 1000
Y_MIN = 1e-9
GRID_CELLS = 4000  # cells of the facet grid (at most)


def _simplex_lattice(m: int, d: int) -> np.ndarray:
    """All (i_1..i_m)/d with non-negative integers summing to d, zeros raised to Y_MIN."""
    pts = [c for c in itertools.product(range(d + 1), repeat=m - 1) if sum(c) <= d]
    a = np.array([list(c) + [d - sum(c)] for c in pts], dtype=float) / d
    a = np.maximum(a, Y_MIN)
    return a / a.sum(axis=1, keepdims=True)


def sample_phase(params, points: int = POINTS_PER_PHASE) -> np.ndarray:
    """Site fractions (S, n_y) spread over the phase's sublattices: the product of a
    lattice on each free sublattice (``points`` samples per reduced dimension beyond two,
    times 3 for each further one), and, where sublattices hold the same constituents
    (the ordering sublattices of an order/disorder phase), a finer lattice of states
    with equal site fractions on them (the disordered states)."""
    if params.n_y == 0:
        return np.zeros((1, 0))  # fixed composition: one state
    y_sub = np.asarray(params.y_sub)
    y_comp = np.asarray(params.y_comp)
    subs = [np.flatnonzero(y_sub == s) for s in range(params.n_sub)]
    sizes = [len(k) for k in subs]
    budget = points * 3 ** max(0, sum(sizes) - len(sizes) - 2)
    d = 1
    while math.prod(math.comb(d + m, m - 1) for m in sizes) <= budget:
        d += 1
    grids = [_simplex_lattice(m, d) for m in sizes]
    rows = [np.concatenate(p) for p in itertools.product(*grids)]
    # equal site fractions on sublattices with the same constituents
    groups: dict[tuple, list[int]] = {}
    for s, k in enumerate(subs):
        groups.setdefault(tuple(y_comp[k]), []).append(s)
    for same in (g for g in groups.values() if len(g) > 1):
        m = sizes[same[0]]
        dd = 1
        while math.comb(dd + m, m - 1) <= points:
            dd += 1
        others = [s for s in range(len(subs)) if s not in same]
        base = np.concatenate([grids[s][len(grids[s]) // 2] for s in others]) if others else np.zeros(0)
        for yv in _simplex_lattice(m, dd):
            row = np.empty(len(y_sub))
            for s in same:
                row[subs[s]] = yv
            if others:
                row[np.concatenate([subs[s] for s in others])] = base
            rows.append(row)
    return np.ascontiguousarray(np.array(rows))


def _relaxed_gibbs(params, T, Y, X):
    """GM (J/mol of atoms) of each sample; for a phase with internal degrees of freedom
    that holds every component, each sample first relaxes (in place) to the nearest
    minimum of GM at its own composition (the single-phase kernel, warm-started from the
    sample), so that the samples lie on the phase's Gibbs energy curves (ordered and
    disordered branches) instead of above them.  NaN where neither is finite."""
    S = Y.shape[0]
    GM = np.empty(S)
    st = np.empty(S, dtype=np.int64)
    Tn = np.full(S, float(T))
    gm_batch(params, Tn, Y, GM, st)
    if params.no_internal_dof == 0 and params.n_y > 0 and np.all(X.max(axis=0) > 0.0):
        n = params.n_comp
        Yr = Y.copy()
        MU, PD, DMU, GMr = np.empty((S, n)), np.empty((S, n, n)), np.empty((S, n - 1, n - 1)), np.empty(S)
        str_ = np.empty(S, dtype=np.int64)
        equilibrium_batch(
            params, Tn, np.ascontiguousarray(X), Yr, np.ones(S, dtype=np.int64), MU, PD, DMU, GMr, str_, MINIMISE
        )
        better = (str_ == 0) & (GMr < GM)
        Y[better] = Yr[better]
        GM[better] = GMr[better]
    GM[st != 0] = np.nan
    return GM


def _lower_hull(x: np.ndarray, gm: np.ndarray, RT: float):
    """Lower-hull facets of points (x, gm) in the affine hull of the compositions x:
    (simplices (k + 1 point indices each), k the dimension).  Of points with the same
    composition (within 1e-9) only the lowest takes part: the others would make vertical
    slivers, whose planes are steep."""
    order = np.argsort(gm, kind="stable")
    _, first = np.unique(np.round(x[order] * 1e9).astype(np.int64), axis=0, return_index=True)
    idx = np.sort(order[first])
    simplices, k = _lower_hull_distinct(x[idx], gm[idx], RT)
    return idx[simplices], k


def _lower_hull_distinct(x: np.ndarray, gm: np.ndarray, RT: float):
    """``_lower_hull`` of points of distinct compositions."""
    from scipy.spatial import ConvexHull, QhullError

    x0 = x - x.mean(axis=0)
    _, sv, vt = np.linalg.svd(x0, full_matrices=False)
    k = int((sv > 1e-9 * max(sv[0], 1e-300)).sum())
    if k == 0:
        return np.zeros((1, 1), dtype=np.int64) + int(np.argmin(gm)), k
    if len(x) == k + 1:  # a simplex (two points on a line, ...): its own only facet
        return np.arange(k + 1, dtype=np.int64)[None, :], k
    u = x0 @ vt[:k].T
    lin = np.linalg.lstsq(np.column_stack([np.ones(len(u)), u]), gm, rcond=None)[0]
    g = (gm - lin[0] - u @ lin[1:]) / RT  # sizes near 1 for qhull
    pts = np.column_stack([u, g])
    try:
        hull = ConvexHull(pts, qhull_options="Qt Qbb Qc")
    except QhullError:
        hull = ConvexHull(pts, qhull_options="QJ")
    return hull.simplices[hull.equations[:, k] < -1e-12].astype(np.int64), k


def _facet_grid(x: np.ndarray, verts: np.ndarray):
    """Cells per axis and the CSR lists of the facets whose projection (bounding box)
    meets each cell of a uniform grid over x_1 .. x_{n-1}."""
    n = x.shape[1]
    G = max(1, min(64, int(GRID_CELLS ** (1.0 / (n - 1)))))
    proj = x[verts][:, :, 1:]  # (F, n, n-1)
    lo = np.clip(np.floor((proj.min(axis=1) - 1e-9) * G).astype(int), 0, G - 1)
    hi = np.clip(np.floor((proj.max(axis=1) + 1e-9) * G).astype(int), 0, G - 1)
    strides = G ** np.arange(n - 1)
    cells: list[list[int]] = [[] for _ in range(G ** (n - 1))]
    for f in range(len(verts)):
        ranges = [range(lo[f, d], hi[f, d] + 1) for d in range(n - 1)]
        for idx in itertools.product(*ranges):
            cells[int(np.dot(idx, strides))].append(f)
    ptr = np.concatenate([[0], np.cumsum([len(c) for c in cells])]).astype(np.int64)
    flat = np.array([f for c in cells for f in c], dtype=np.int64)
    return G, ptr, flat


def _adjacency(ns: int, simplices_per_phase):
    """CSR of the edges of the phases' hulls (global sample indices)."""
    nbrs: list[set[int]] = [set() for _ in range(ns)]
    for simp in simplices_per_phase:
        for s in simp:
            for i in s:
                nbrs[i].update(int(j) for j in s if j != i)
    ptr = np.concatenate([[0], np.cumsum([len(b) for b in nbrs])]).astype(np.int64)
    adj = np.array([j for b in nbrs for j in sorted(b)], dtype=np.int64)
    return ptr, adj


def build_start_table(ps, phase_params, T: float, points: int = POINTS_PER_PHASE, names=None) -> StartTable:
    """Samples and hulls at T (K) of the phase set ``ps`` (PhaseSetParams) made of the
    phases ``phase_params`` (their ThermoParams, in the same order; ``names`` for
    messages)."""
    n = ps.n_comp
    RT = R * T
    Kmax = ps.y_comp.shape[1]
    ys, xs, gs, ph = [], [], [], []
    for a, p in enumerate(phase_params):
        Y = sample_phase(p, points)
        N = np.tile(ps.n_const[a], (Y.shape[0], 1))
        for k in range(p.n_y):
            if ps.y_comp[a, k] >= 0:
                N[:, ps.y_comp[a, k]] += ps.y_ratio[a, k] * Y[:, k]
        GM = _relaxed_gibbs(p, T, Y, N / N.sum(axis=1, keepdims=True))
        ok = np.isfinite(GM)
        if not ok.any():
            raise InputError(f"no finite Gibbs energy of candidate phase {names[a] if names else a} at T = {T:g} K")
        Yp = np.zeros((int(ok.sum()), Kmax))
        Yp[:, : Y.shape[1]] = Y[ok]
        ys.append(Yp)
        xs.append((N / N.sum(axis=1, keepdims=True))[ok])
        gs.append(GM[ok])
        ph.append(np.full(int(ok.sum()), a, dtype=np.int64))
    smp_x = np.ascontiguousarray(np.concatenate(xs))
    smp_gm = np.ascontiguousarray(np.concatenate(gs))
    offs = np.concatenate([[0], np.cumsum([len(p) for p in ph])])
    # each phase's hull graph
    per_phase, start = [], []
    for a in range(len(phase_params)):
        simp, _ = _lower_hull(xs[a], gs[a], RT)
        per_phase.append(simp + offs[a])
        start.append(offs[a] + int(np.argmin(gs[a])))
    adj_ptr, adj = _adjacency(len(smp_gm), per_phase)
    # the hull of all samples, its facets as planes, and the grid over them
    verts, k = _lower_hull(smp_x, smp_gm, RT)
    if k < n - 1:
        raise InputError(
            f"the candidate phases together hold compositions of dimension {k} only; {n} components need {n - 1}"
        )
    Xv = smp_x[verts]
    keep = np.abs(np.linalg.det(Xv)) > 1e-14
    verts = verts[keep]
    mu = np.linalg.solve(Xv[keep], smp_gm[verts][..., None])[..., 0]
    G, cell_ptr, cell_fct = _facet_grid(smp_x, verts)
    return StartTable(
        float(T),
        np.concatenate(ph),
        np.ascontiguousarray(np.concatenate(ys)),
        smp_x,
        smp_gm,
        np.ascontiguousarray(mu),
        np.ascontiguousarray(verts),
        G,
        cell_ptr,
        cell_fct,
        adj_ptr,
        adj,
        np.array(start, dtype=np.int64),
    )
