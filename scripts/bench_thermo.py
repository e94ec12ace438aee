"""Benchmark of the per-node thermodynamic kernel (equilibrium + dmu_dx) and of
``kinsim thermo --batch``.

Ni-Cr-Al FCC_A1 at 1473.15 K (kinsim's cases/databases/ni-cr-al.tdb), random
compositions Cr 0.05-0.35, Al 0.03-0.07.  Prints:

* compile (or disk-cache load) time of the kernels, separately from run time;
* throughput of the serial kernel in nodes per second, one core (best of several repeats);
* side by side with kawin's local equilibrium + dMudX on the same compositions, when
  kawin is installed (pip install kawin), and the agreement of the two;
* ``kinsim thermo --batch`` end to end, for CSV and for .npy input: rows, seconds spent
  reading (and checking) the compositions, solving them (all cores), writing the .npz
  file, the total and rows per second (best of several repeats, in this process after a
  warm-up, so without start-up and kernel loading);
* ``kinsim thermo`` end to end in a new process (warm numba cache).

Usage: python scripts/bench_thermo.py [--nodes 100000] [--kawin-nodes 200] [--batch-rows 200000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

DB = REPO / "cases" / "databases" / "ni-cr-al.tdb"
COMPS = ["NI", "CR", "AL"]
T = 1473.15


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, default=100_000)
    ap.add_argument("--kawin-nodes", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--batch-rows", type=int, default=200_000)
    args = ap.parse_args()

    from kinsim.kernels.kkt import equilibrium_batch, minimise_flag
    from kinsim.phase import load_phase

    rng = np.random.default_rng(0)
    Xi = np.column_stack([rng.uniform(0.05, 0.35, args.nodes), rng.uniform(0.03, 0.07, args.nodes)])

    t0 = time.perf_counter()
    model = load_phase(DB, "FCC_A1", COMPS)
    t_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    model.equilibrium(Xi[:1], T)
    t_compile = time.perf_counter() - t0

    X = model.full_composition(Xi)
    N, n = X.shape
    K = model.params.n_y
    Tn = np.full(N, T)
    out = dict(
        Y=np.zeros((N, K)),
        warm=np.zeros(N, dtype=np.int64),
        MU=np.empty((N, n)),
        PD=np.empty((N, n, n)),
        DMU=np.empty((N, n - 1, n - 1)),
        GM=np.empty(N),
        status=np.empty(N, dtype=np.int64),
    )
    best = np.inf
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        equilibrium_batch(
            model.params,
            Tn,
            X,
            out["Y"],
            out["warm"],
            out["MU"],
            out["PD"],
            out["DMU"],
            out["GM"],
            out["status"],
            minimise_flag(model.params),
        )
        best = min(best, time.perf_counter() - t0)
    assert (out["status"] == 0).all()
    rate = N / best
    per_node = best / N
    print(f"kinsim: Ni-Cr-Al FCC_A1, {T} K, {N} nodes, one core")
    print(f"  phase load (TDB conversion or cache)  {t_load:8.3f} s")
    print(f"  kernel compile / cache load           {t_compile:8.3f} s")
    print(
        f"  equilibrium + dmu_dx                  {rate:12,.0f} nodes/s  ({per_node * 1e6:.3f} us/node)"
        f"   target >= 1,000,000"
    )

    try:
        from kawin_ref import kawin_available, kawin_thermo_batch
    except ImportError:
        kawin_available = lambda: False  # noqa: E731
    if args.kawin_nodes <= 0:
        print("kawin: --kawin-nodes 0 - side-by-side comparison skipped")
    elif kawin_available():
        m = min(args.kawin_nodes, N)
        kw = kawin_thermo_batch(str(DB), "FCC_A1", COMPS, T, Xi[:m])
        ratio = kw["seconds_per_node"] / per_node
        dmu = np.max(np.abs(kw["dmu_dx"] - out["DMU"][:m]) / np.abs(out["DMU"][:m]).max(axis=(1, 2))[:, None, None])
        dmuv = np.max(np.abs(kw["MU"] - out["MU"][:m]))
        print(f"kawin {kw.get('kawin_version', '')}: getLocalEq + FreeEnergyHessian.dMudX on the first {m} nodes")
        print(
            f"  {kw['seconds_per_node'] * 1e3:.3f} ms/node  ->  kinsim is {ratio:,.0f} x faster per node"
            f"   (target >= 1000 x)"
        )
        print(f"  agreement: max |MU diff| {dmuv:.2e} J/mol, max relative dmu_dx diff {dmu:.2e}")
    else:
        print("kawin: not installed (pip install kawin) - side-by-side comparison skipped")

    bench_batch(model, args.batch_rows, args.repeats)

    cmd = [
        sys.executable,
        "-m",
        "kinsim.cli",
        "thermo",
        str(DB),
        "--phase",
        "FCC_A1",
        "--components",
        ",".join(COMPS),
        "--T",
        str(T),
        "--x",
        "CR=0.21,AL=0.058",
        "--json",
    ]
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    print(f"kinsim thermo end to end, new process, warm cache: {min(times):.2f} s (best of 3; target < 3 s)")


def bench_batch(model, n_rows, repeats):
    """``kinsim thermo --batch``'s reading, solving and writing, for CSV and .npy input."""
    import numba

    from kinsim.compositions import read_compositions
    from kinsim.equilibria import Equilibrium, solve_rows

    rng = np.random.default_rng(1)
    Xi = np.column_stack([rng.uniform(0.05, 0.35, n_rows), rng.uniform(0.03, 0.07, n_rows)])
    indep = COMPS[1:]
    print(
        f"kinsim thermo --batch: {n_rows} rows, {numba.get_num_threads()} threads, best of {repeats} "
        f"(load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores before: other processes share them)"
    )
    print(f"  {'input':6} {'rows':>8} {'read s':>8} {'kernel s':>9} {'write s':>8} {'total s':>8} {'rows/s':>12}")
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "x.csv"
        np.savetxt(csv, Xi, delimiter=",", header=",".join(indep), comments="", fmt="%.17g")
        npy = Path(tmp) / "x.npy"
        np.save(npy, Xi)
        out = Path(tmp) / "out.npz"
        solve_rows(model, Xi[:1], T)  # load the parallel kernel
        read_compositions(csv, indep)  # import the CSV reader
        for name, path in (("CSV", csv), (".npy", npy)):
            best = None
            for _ in range(repeats):
                t0 = time.perf_counter()
                X = read_compositions(path, indep)
                t1 = time.perf_counter()
                eq = Equilibrium(DB, model, solve_rows(model, X, T), point=False)
                t2 = time.perf_counter()
                eq.save_npz(out)
                t3 = time.perf_counter()
                times = (t1 - t0, t2 - t1, t3 - t2, t3 - t0)
                if best is None or times[3] < best[3]:
                    best = times
            assert np.array_equal(X, Xi), "the compositions read back differ from those written"
            print(
                f"  {name:6} {n_rows:8d} {best[0]:8.3f} {best[1]:9.3f} {best[2]:8.3f} {best[3]:8.3f} "
                f"{n_rows / best[3]:12,.0f}   target >= 1,000,000"
            )


if __name__ == "__main__":
    main()
