"""Benchmarks of the moving-boundary model ([[region]] cases), warm (numba disk cache
loaded by a first run that is not timed).

* The ferrite-growth case (cases/ferrite-growth-fe-c.toml: a ferrite nucleus growing
  into 100 um of Fe-0.1 wt% C austenite for 30 min, 240 nodes), in memory:
  best wall and CPU time of --repeats runs (target < 1 s), steps, rejected steps, Newton
  iterations, and the final ferrite width.
* The exact Stefan test (tests/simulation/test_moving_boundary.py: two ideal phases, constant D,
  10 h), its coarse (2 x 20 nodes) and fine (2 x 40 nodes) runs: best wall and CPU time of each
  (target < 0.5 s for the test) and the error of the interface displacement 2k sqrt(t).

Usage: python scripts/bench_moving.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))


def best_run(case, repeats):
    """(best wall time in s, best CPU time of the process in s, the last result) of
    ``repeats`` in-memory runs of ``case`` (the CPU time tells what a loaded machine's
    wall time hides)."""
    import kinsim

    wall = cpu = float("inf")
    r = None
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        r = kinsim.run(case)
        wall, cpu = min(wall, time.perf_counter() - t0), min(cpu, time.process_time() - c0)
    return wall, cpu, r


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    from test_moving_boundary import _stefan_case, _stefan_errors

    import kinsim

    ferrite = kinsim.load_case(REPO / "cases" / "ferrite-growth-fe-c.toml")
    kinsim.run(ferrite, overrides={"conditions.duration": "1 s", "output.snapshots": 1})  # load the kernels
    wall, cpu, r = best_run(ferrite, args.repeats)
    print(
        f"ferrite growth Fe-C, {r.x.shape[1]} nodes, 30 min: {wall:.3f} s warm ({cpu:.3f} s CPU; target < 1 s), "
        f"{r.steps} steps, "
        f"{r.attrs['rejected_steps']} rejected, {r.attrs['newton_iterations']} Newton iterations; "
        f"ferrite {r.interfaces[-1, 0] * 1e6:.2f} um"
    )

    total = total_cpu = 0.0
    for label, nodes, ratio in (("coarse", 20, 1.14), ("fine", 40, 1.07)):
        wall, cpu, r = best_run(_stefan_case(nodes, ratio), args.repeats)
        total, total_cpu = total + wall, total_cpu + cpu
        pos, prof = _stefan_errors(r)
        print(
            f"Stefan {label}, 2 x {nodes} nodes, 10 h: {wall:.3f} s warm ({cpu:.3f} s CPU), {r.steps} steps, "
            f"{r.attrs['rejected_steps']} rejected; interface displacement error {pos * 100:.4f} %, "
            f"profile error {prof:.2e}"
        )
    print(f"Stefan test's two runs: {total:.3f} s ({total_cpu:.3f} s CPU; target < 0.5 s)")


if __name__ == "__main__":
    main()
