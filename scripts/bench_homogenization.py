"""Benchmark of the homogenization model: kawin's own example (the Fe-Cr-Ni alpha/gamma
couple, cases/fe-cr-ni-alpha-gamma.toml) for both Hashin-Shtrikman bounds, kinsim and
kawin's ``HomogenizationModel.solve`` side by side in one process.

Prints per bound: kinsim's solve time (the run with the numba cache loaded, model and
files included), kawin's solve time (its model built beforehand), their ratio, the
largest difference of the final profiles, and the wall time of a whole ``kinsim run``
process with a warm cache (Python start, imports, case, kernels from the disk cache,
the run and its result file).  kinsim runs with ideal_term = eps / 2 against kawin's eps
(kawin's face value of 1/u is half the mean: tests/comparisons/test_homogenization_kawin.py).
Targets: ratio >= 100 for both bounds; the process < 1 s.

Usage: python scripts/bench_homogenization.py [--no-kawin]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
CASE = REPO / "cases" / "fe-cr-ni-alpha-gamma.toml"
KAWIN_EPS = 0.01  # kawin's example; its ideal term is half its formula (tests/comparisons/test_homogenization_kawin.py)
sys.path.insert(0, str(REPO / "scripts"))


def kinsim_solve(bound: str):
    """(seconds, result) of kinsim.run on the case with the given bound (warm cache)."""
    import kinsim

    overrides = {
        "homogenization.averaging": f"hashin-shtrikman-{bound}",
        "output.snapshots": 1,
        "homogenization.ideal_term": 0.5 * KAWIN_EPS,
    }
    kinsim.run(CASE, overrides=overrides)  # loads the kernels from the disk cache (or compiles them)
    t0 = time.perf_counter()
    res = kinsim.run(CASE, overrides=overrides)
    return time.perf_counter() - t0, res


def process_time(bound: str) -> float:
    """Wall time of a whole ``kinsim run`` process writing its result file."""
    kinsim_exe = Path(sys.executable).parent / "kinsim"
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [
            str(kinsim_exe),
            "run",
            str(CASE),
            "-o",
            str(Path(tmp) / "r.h5"),
            "--quiet",
            "--set",
            f"homogenization.averaging=hashin-shtrikman-{bound}",
            "--set",
            f"homogenization.ideal_term={0.5 * KAWIN_EPS}",
        ]
        subprocess.run(cmd, check=True)  # warm the cache
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True)
        return time.perf_counter() - t0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-kawin", action="store_true", help="kinsim only")
    args = ap.parse_args(argv)
    import kawin_ref

    use_kawin = not args.no_kawin and kawin_ref.kawin_available()
    print(
        f"{'bound':6s} {'kinsim s':>9s} {'steps':>6s} {'kawin s':>9s} {'steps':>6s} {'ratio':>8s} "
        f"{'max |dx|':>9s} {'process s':>9s}"
    )
    for bound in ("lower", "upper"):
        t_k, res = kinsim_solve(bound)
        steps = int(res.attrs.get("steps", -1))
        t_proc = process_time(bound)
        if use_kawin:
            kw = kawin_ref.kawin_homogenization(bound, eps=KAWIN_EPS)
            diff = float(np.abs(res.x[-1] - kw["x"]).max())
            print(
                f"{bound:6s} {t_k:9.3f} {steps:6d} {kw['wall_s']:9.2f} {kw['steps']:6d} {kw['wall_s'] / t_k:8.0f} "
                f"{diff:9.2e} {t_proc:9.3f}"
            )
        else:
            print(f"{bound:6s} {t_k:9.3f} {steps:6d} {'-':>9s} {'-':>6s} {'-':>8s} {'-':>9s} {t_proc:9.3f}")


if __name__ == "__main__":
    main()
