"""Speed of the gradient-energy (Cahn-Hilliard) model, separately from compilation.

* the linear-stability case of tests/simulation/test_gradient.py: a regular solution (Omega = 20
  kJ/mol, 1000 K, x = 0.5) on a periodic grid of 256 nodes, eight cosine modes, to
  t = 2 / R_max (rtol 1e-7): the best of five warm runs in memory;
* cases/fe-cr-spinodal.toml (Fe-40Cr at 475 degC, 400 nodes, 24 h): warm, in memory;
* the late-time run of the tests (a step couple relaxing to the binodal and the
  equilibrium interface, 400 nodes, 1 s): the step size the stepper has reached at the
  end (the checkpoint's dt) against the stability limit of forward Euler for the same
  grid, 2 / |R_h(k_Nyquist)|.

The first call of each loads the kernels from numba's disk cache or compiles them; that
time is printed on its own.

Usage: python scripts/bench_gradient.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import h5py
import numpy as np

import kinsim

REPO = Path(__file__).resolve().parents[1]
DB = str(REPO / "tests" / "databases" / "regular-gap.tdb")
R_GAS, OMEGA, T, KAPPA = 8.3145, 20000.0, 1000.0, 1e-14


def _mt(x):
    m = [D0 * np.exp(-150000.0 / (R_GAS * T)) / (R_GAS * T) for D0 in (1e-5, 2e-5)]
    return x * (1 - x) * ((1 - x) * m[1] + x * m[0])


def _g2(x):
    return R_GAS * T / (x * (1 - x)) - 2 * OMEGA


def linear_case(nodes=256):
    kc = np.sqrt(-_g2(0.5) / KAPPA)
    L = 2 * np.pi * 5.5 / kc
    r_max = _mt(0.5) * _g2(0.5) ** 2 / (4 * KAPPA)
    return {
        "thermo": {"database": DB, "phase": "ALPHA", "components": ["A", "B"]},
        "conditions": {"temperature": T, "duration": 2.0 / r_max},
        "grid": {"length": L, "nodes": nodes},
        "initial": {
            "type": "uniform",
            "composition": {"B": 0.5},
            "perturbation": {"type": "cosine", "amplitude": {"B": 1e-4}, "wavelengths": [L / n for n in range(1, 9)]},
        },
        "boundary": {"left": {"type": "periodic"}, "right": {"type": "periodic"}},
        "gradient": {"kappa": KAPPA},
        "solver": {"rtol": 1e-7, "atol": 1e-12},
        "output": {"snapshots": 40},
    }


def late_case(nodes=400):
    L = 50e-9
    return {
        "thermo": {"database": DB, "phase": "ALPHA", "components": ["A", "B"]},
        "conditions": {"temperature": T, "duration": 1.0},
        "grid": {"length": L, "nodes": nodes},
        "initial": {"type": "step", "position": L / 2, "left": {"B": 0.2}, "right": {"B": 0.8}},
        "gradient": {"kappa": KAPPA},
        "solver": {"rtol": 1e-6, "atol": 1e-10},
        "output": {"snapshots": [1e-5, 1e-3, 1e-2, 0.1, 0.5, 1.0]},
    }


def timed(case, repeat=1):
    """(first run's compile-or-load seconds, best solve + io seconds, best wall seconds, result)."""
    first = kinsim.run(case)
    best_solve, best_wall = np.inf, np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        r = kinsim.run(case)
        best_wall = min(best_wall, time.perf_counter() - t0)
        best_solve = min(best_solve, r.timings["solve"] + r.timings["io"])
    return first.timings["compile"], best_solve, best_wall, r


def main():
    load, solve, wall, r = timed(linear_case(), repeat=5)
    print(
        f"linear stability, 256 nodes periodic: kernels compiled or loaded in {load:.2f} s (first run); "
        f"warm: stepper {solve:.3f} s, kinsim.run {wall:.3f} s, {r.steps} steps"
    )
    load, solve, wall, r = timed(REPO / "cases" / "fe-cr-spinodal.toml", repeat=2)
    print(
        f"cases/fe-cr-spinodal.toml, 400 nodes, 24 h: stepper {solve:.2f} s, kinsim.run {wall:.2f} s, "
        f"{r.steps} steps ({r.attrs.get('rejected_steps')} rejected)"
    )
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "late.h5"
        r = kinsim.run(late_case(), output=out)
        with h5py.File(out, "r") as f:
            dt_last = float(f["checkpoint/dt"][0])
    h = 50e-9 / 400
    k2 = 4.0 / h**2
    xb = r.x[-1, 0, 1]
    rate = _mt(xb) * k2 * (_g2(xb) + KAPPA * k2)  # the fastest decay of the plateaus' linearisation
    print(
        f"late times, 400 nodes, 1 s: {r.steps} steps; step size at the end {dt_last:.3g} s = "
        f"{dt_last / (2.0 / rate):.3g} x the forward-Euler limit 2/|R_h(k_Nyquist)| = {2.0 / rate:.3g} s"
    )


if __name__ == "__main__":
    main()
