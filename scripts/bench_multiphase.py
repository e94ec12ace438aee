"""Benchmark of the multiphase equilibrium (kinsim.phaseset) side by side with pycalphad.

Fe-Cr-Ni, FCC_A1 + BCC_A2 at 1373.15 K (tests/databases/fe-cr-ni.tdb, which pycalphad
reads too), random compositions x_Cr in (0.02, 0.6), x_Ni in (0.01, 0.3): one- and
two-phase rows.  One core.  Prints:

* compile (or numba disk-cache load) time and the start table's build time (sampling
  and lower hulls, once per temperature), separately from run time;
* rows per second solved from scratch (global start, Newton, audit), each row on its
  own, against pycalphad's ``equilibrium`` on the same kind of compositions in the same
  process: one call per point (the per-point cost, target ratio >= 1000) and, for
  reference, one call for a grid of points (pycalphad's best throughput per point);
* nodes per second of the warm-started re-solve after a small composition change (what
  a diffusion step does) on the two-phase rows (target >= 1e5 on one core);
* the largest differences from pycalphad on the grid points (phase sets, MU).

Usage: python scripts/bench_multiphase.py [--rows 20000] [--pycalphad-single 20] [--pycalphad-points 64]
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DB = REPO / "tests" / "databases" / "fe-cr-ni.tdb"
COMPS = ["FE", "CR", "NI"]
PHASES = ["FCC_A1", "BCC_A2"]
T = 1373.15


def random_compositions(rng, N):
    return np.column_stack([rng.uniform(0.02, 0.6, N), rng.uniform(0.01, 0.3, N)])


def best_time(fn, repeats):
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=20000)
    ap.add_argument("--pycalphad-single", type=int, default=20, help="points solved by one pycalphad call each")
    ap.add_argument("--pycalphad-points", type=int, default=64, help="points of the pycalphad grid (a square)")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    os.environ.setdefault("NUMBA_NUM_THREADS", "1")

    from kinsim.kernels.mpphase import mp_workspace
    from kinsim.kernels.multiphase import COLD, WARM, mp_node_ref, mp_rows
    from kinsim.phaseset import load_phases

    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    model = load_phases(DB, PHASES, COMPS)
    t_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    table = model.start_table(T)
    t_table = time.perf_counter() - t0
    t0 = time.perf_counter()
    model.equilibrium([[0.3, 0.1]], T)
    t_compile = time.perf_counter() - t0
    t0 = time.perf_counter()
    model.start_table(T + 1e-9)
    t_table2 = time.perf_counter() - t0

    # from scratch: every row cold, straight through the kernel (no Python per row)
    N = args.rows
    X = model.full_composition(random_compositions(rng, N))
    n, NP = len(COMPS), len(PHASES)

    def outputs(rows):
        return [
            np.empty((rows, NP)),
            np.empty((rows, n, n)),
            np.empty((rows, n - 1, n - 1)),
            np.empty(rows, dtype=np.int64),
        ]

    ws = mp_workspace(model.params)
    node = mp_node_ref(model.params, table, ws)
    state = model.empty_state(N)
    out = outputs(N)
    cold = np.full(N, COLD, dtype=np.int64)

    def solve_cold():
        mp_rows(model.params, T, X, table, cold, *state, *out, ws, node)

    dt_cold = best_time(solve_cold, args.repeats)
    status = out[3]
    nsets = (state.set_phase >= 0).sum(axis=1)
    # warm re-solve of the two-phase rows after a small composition change
    two = np.flatnonzero((nsets == 2) & (status == 0))
    dX = 1e-4 * rng.standard_normal((two.size, n - 1))
    X2 = model.full_composition(X[two, 1:] + dX)
    warm = np.full(two.size, WARM, dtype=np.int64)
    base = [np.ascontiguousarray(a[two]) for a in state]
    out2 = outputs(two.size)

    def solve_warm():
        st = [a.copy() for a in base]
        t0 = time.perf_counter()
        mp_rows(model.params, T, X2, table, warm, *st, *out2, ws, node)
        return time.perf_counter() - t0

    dt_warm = min(solve_warm() for _ in range(args.repeats))

    # pycalphad: one call per point (the per-point cost of the issue), and one call for a
    # grid of points (pycalphad's best throughput); set-up paid by a first call
    from pycalphad import Database, equilibrium
    from pycalphad import variables as v

    db = Database(str(DB))

    def pycalphad(xcr, xni):
        conds = {v.T: T, v.P: 101325.0, v.N: 1.0, v.X("CR"): xcr, v.X("NI"): xni}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return equilibrium(db, COMPS + ["VA"], PHASES, conds)

    t0 = time.perf_counter()
    pycalphad(0.3, 0.1)
    t_pc_first = time.perf_counter() - t0
    singles = random_compositions(rng, args.pycalphad_single)
    t0 = time.perf_counter()
    for xcr, xni in singles:
        pycalphad(float(xcr), float(xni))
    per_pc = (time.perf_counter() - t0) / len(singles)
    k = int(round(np.sqrt(args.pycalphad_points)))
    gx = random_compositions(rng, k)
    gcr, gni = np.sort(gx[:, 0]), np.sort(gx[:, 1])
    t0 = time.perf_counter()
    eq = pycalphad(gcr, gni)
    per_grid = (time.perf_counter() - t0) / k**2

    # agreement on the grid
    grid = np.array([(a, b) for a in gcr for b in gni])
    res = model.equilibrium(grid, T)
    order = [str(c) for c in eq.component.values]
    idx = [order.index(c) for c in COMPS]
    same, dmu = 0, 0.0
    for i in range(len(grid)):
        e = eq.isel(N=0, P=0, T=0, X_CR=i // k, X_NI=i % k)
        pc = sorted(str(p) for p in e.Phase.values if str(p))
        ks = sorted(s.name.split("#")[0] for s in res.stable(i))
        same += pc == ks
        mu = np.asarray(e.MU.values)[idx]
        dmu = max(dmu, float(np.max(np.abs(res.MU[i] - mu) / np.abs(mu))))

    per_cold = dt_cold / N
    print(f"kinsim multiphase: Fe-Cr-Ni {'+'.join(PHASES)}, {T} K, one core")
    print(f"  phase load (TDB conversion or cache)     {t_load:8.3f} s")
    print(f"  kernel compile / cache load              {t_compile:8.3f} s")
    print(f"  start table (sampling, hulls) per T      {t_table:8.3f} s (first), {t_table2:.3f} s (again)")
    print(
        f"  from scratch, {N} rows: {N / dt_cold:12,.0f} rows/s ({per_cold * 1e6:.2f} us/row); "
        f"{np.bincount(nsets)[1:].tolist()} rows with 1, 2 sets; {int((status != 0).sum())} failed"
    )
    print(
        f"  pycalphad equilibrium, one call a point: {per_pc * 1e3:8.2f} ms/point ({len(singles)} points; "
        f"first call {t_pc_first:.1f} s with set-up)"
    )
    print(f"  speed-up per row (from scratch)          {per_pc / per_cold:10,.0f} x   target >= 1000")
    print(f"  pycalphad equilibrium, {k * k}-point grid:  {per_grid * 1e3:8.2f} ms/point (its best throughput)")
    print(f"  speed-up per row against the grid        {per_grid / per_cold:10,.0f} x")
    print(
        f"  warm re-solve, {two.size} two-phase nodes: {two.size / dt_warm:12,.0f} nodes/s "
        f"({dt_warm / two.size * 1e6:.2f} us/node)   target >= 100,000"
    )
    print(f"  agreement with pycalphad on its grid: same phase set {same}/{k * k}, MU within {dmu:.1e} relative")


if __name__ == "__main__":
    main()
