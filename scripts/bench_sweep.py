"""Sweep speed-up: the same sweep of 8 runs on 1 worker and on 2 workers.

    python scripts/bench_sweep.py [--runs 8] [--nodes 2000] [--repeat 1] [--dask]

The runs are the Ni-Cr-Al couple (cases/nicral-couple.toml, 100 h) on a fine grid
(--nodes, default 2000: a few seconds of solve time per run) at --runs temperatures
between 1180 and 1215 C; each sweep writes into a fresh directory, so nothing is skipped.
Before timing, one run in this process compiles the numba kernels or loads them from the
disk cache, so the timed sweeps measure what a user's second sweep costs: starting the
worker processes (each imports kinsim and loads the kernels from the cache) plus the runs.
With --dask the 2-worker sweep is repeated on a distributed.LocalCluster (2 worker
processes, 1 thread each; the cluster's start-up is not timed).

Prints the wall time of each sweep, the speed-up 1 worker / 2 workers (target: >= 1.7),
the sum of the runs' own wall times, and the load average before and after (the machine
may be shared: a load near or above the number of cores makes the ratio meaningless).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

CASE = REPO / "cases" / "nicral-couple.toml"


def _load() -> str:
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:  # pragma: no cover - not on every OS
        return "?"


def _temperatures(n: int) -> str:
    lo, hi = 1180.0, 1215.0
    return ",".join(f"{lo + (hi - lo) * i / max(n - 1, 1):.4g} degC" for i in range(n))


def _sweep(tmp: Path, tag: str, vary, sets, **kw):
    from kinsim.sweep import run_sweep

    out = tmp / tag
    t0 = time.perf_counter()
    s = run_sweep(CASE, vary, out, sets=sets, progress=False, **kw)
    wall = time.perf_counter() - t0
    if s.failed or s.completed != s.total:
        raise SystemExit(f"{tag}: {s.failed} of {s.total} runs failed: {s.failed_rows[0]['error']}")
    run_sum = sum(float(r["wall_s"]) for r in s.rows)
    return wall, run_sum


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=8)
    ap.add_argument("--nodes", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=1, help="repeat the pair of sweeps (report median and best)")
    ap.add_argument("--dask", action="store_true", help="also time 2 workers on a distributed.LocalCluster")
    args = ap.parse_args()

    from kinsim.case import load_case
    from kinsim.simulation import Simulation

    sets = [f"grid.nodes={args.nodes}", "output.snapshots=2"]
    vary = [f"conditions.temperature={_temperatures(args.runs)}"]
    print(f"case {CASE.name}, {args.nodes} nodes, {args.runs} runs (temperatures 1180..1215 C), {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory(prefix="kinsim-bench-sweep-") as tmpdir:
        tmp = Path(tmpdir)
        t0 = time.perf_counter()
        Simulation(load_case(CASE, ["grid.nodes=20", "output.snapshots=1", "conditions.duration=1 h"])).run(
            tmp / "warm.h5", progress=False
        )
        print(f"warm-up (compile or load the kernels): {time.perf_counter() - t0:.2f} s")
        t0 = time.perf_counter()
        Simulation(load_case(CASE, sets + ["conditions.temperature=1200 degC"])).run(tmp / "one.h5", progress=False)
        print(f"one run in this process: {time.perf_counter() - t0:.2f} s")

        ones, twos, dasks = [], [], []
        for k in range(args.repeat):
            load0 = _load()
            w1, s1 = _sweep(tmp, f"w1-{k}", vary, sets, workers=1)
            w2, s2 = _sweep(tmp, f"w2-{k}", vary, sets, workers=2)
            ones.append(w1)
            twos.append(w2)
            print(
                f"[{k + 1}/{args.repeat}] 1 worker {w1:6.2f} s (runs' own wall times sum to {s1:.2f} s), "
                f"2 workers {w2:6.2f} s (sum {s2:.2f} s): speed-up {w1 / w2:.2f}x   "
                f"load average {load0} -> {_load()}"
            )
            if args.dask:
                from distributed import LocalCluster

                with LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as cl:
                    wd, sd = _sweep(tmp, f"dask-{k}", vary, sets, scheduler=cl.scheduler_address)
                dasks.append(wd)
                print(
                    f"        Dask LocalCluster, 2 workers {wd:6.2f} s (sum {sd:.2f} s): "
                    f"speed-up {w1 / wd:.2f}x over 1 local worker"
                )
    m1, m2 = statistics.median(ones), statistics.median(twos)
    print(
        f"median: 1 worker {m1:.2f} s, 2 workers {m2:.2f} s, speed-up {m1 / m2:.2f}x "
        f"(best pair {max(a / b for a, b in zip(ones, twos)):.2f}x); target >= 1.7x"
    )
    if dasks:
        print(
            f"median Dask LocalCluster (2 workers): {statistics.median(dasks):.2f} s, "
            f"speed-up {m1 / statistics.median(dasks):.2f}x"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
