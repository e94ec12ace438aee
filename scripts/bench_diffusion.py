"""End-to-end diffusion benchmarks.

* Ni-Cr-Al couple (cases/nicral-couple.toml, 100 nodes, 100 h): kinsim warm (numba disk
  cache loaded) against kawin's SinglePhaseModel on the same case in the same process,
  when kawin is installed; the ratio of wall times and the largest difference of the
  final profiles.
* Darken's Fe-Si-C couple, 13 days, at two grids (the result changes < 1 % between
  them): wall time, steps, rejected steps, compile/load time.

Usage: python scripts/bench_diffusion.py [--no-kawin]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))


def run_case(path, out, *sets):
    from kinsim.case import load_case
    from kinsim.simulation import Simulation
    from kinsim.storage import read_result

    t0 = time.perf_counter()
    case = load_case(path, overrides=list(sets))
    sim = Simulation(case)
    summary = sim.run(output=out, progress=False)
    wall = time.perf_counter() - t0
    return wall, summary, read_result(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-kawin", action="store_true")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())

    nicral = REPO / "cases" / "nicral-couple.toml"
    run_case(nicral, tmp / "warmup.h5", "conditions.duration=1 h", "output.snapshots=1")  # load kernels
    wall, s, r = run_case(nicral, tmp / "nicral.h5", "output.snapshots=1")
    print(
        f"kinsim Ni-Cr-Al couple, {s.nodes} nodes, 100 h: {wall:.3f} s end to end "
        f"(solve {s.timings['solve']:.3f} s, compile/load {s.timings['compile']:.3f} s), "
        f"{s.steps} steps, {s.rejected} rejected"
    )
    if not args.no_kawin:
        from kawin_ref import kawin_available, kawin_nicral_couple

        if kawin_available():
            kw = kawin_nicral_couple(str(REPO / "cases" / "databases" / "ni-cr-al.tdb"), nodes=s.nodes)
            diff = np.abs(r.x[-1] - kw["x"]).max()
            print(
                f"kawin  Ni-Cr-Al couple, {s.nodes} nodes, 100 h: {kw['wall_s']:.2f} s solve "
                f"(+{kw['build_s']:.2f} s set-up), {kw['steps']} steps"
            )
            print(
                f"  kinsim is {kw['wall_s'] / wall:,.0f} x faster end to end (target >= 100 x); "
                f"max |x_kinsim - x_kawin| = {diff:.2e} (target < 5e-4)"
            )
        else:
            print("kawin: not installed (pip install kawin) - side-by-side comparison skipped")

    darken = REPO / "cases" / "darken-fe-si-c.toml"
    res = {}
    for nodes in (120, 240):
        wall, s, r = run_case(darken, tmp / f"darken{nodes}.h5", f"grid.nodes={nodes}", "output.snapshots=1")
        res[nodes] = r
        print(
            f"kinsim Darken Fe-Si-C, 13 d, {nodes} nodes: {wall:.3f} s end to end (solve "
            f"{s.timings['solve']:.3f} s, compile/load {s.timings['compile']:.3f} s), {s.steps} steps, "
            f"{s.rejected} rejected, {s.newton} Newton iterations   (target < 2 s)"
        )
    a, b = res[120], res[240]
    xa = np.interp(b.z, a.z, a.x[-1, :, 2])
    far = np.abs(b.z - 25e-3) > 0.5e-3
    rng = np.ptp(b.x[-1, :, 2])
    print(
        f"  grid check: carbon profile 120 vs 240 nodes differs by "
        f"{np.abs(xa - b.x[-1, :, 2])[far].max() / rng * 100:.2f} % of its range"
    )


if __name__ == "__main__":
    main()
