"""Cold and warm start of a run: how long numba compiles the kernels.

Runs a case twice in fresh processes sharing one new, empty numba cache directory:

* cold: the node-equilibrium kernel (compiled for the phase model, which checks the
  compositions), the stability check of the starting compositions against the
  database's other phases (kinsim.simulation.start_stability) and then the stepper
  (``advance`` with everything it calls), wall and CPU seconds of each, and the whole run;
* warm: the same run loading the kernels from the disk cache.

Usage: python scripts/bench_compile.py [CASE.toml]   (default: cases/darken-fe-si-c.toml)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

_CHILD = r"""
import json, sys, time, warnings
w0, c0 = time.perf_counter(), time.process_time()
import numpy as np
from kinsim.case import load_case
from kinsim.simulation import Simulation
case = load_case(sys.argv[1], overrides=["output.snapshots=1"])
sim = Simulation(case)
w1, c1 = time.perf_counter(), time.process_time()
sim.model.equilibrium(sim.x0[:1, 1:], sim.T)
w2, c2 = time.perf_counter(), time.process_time()
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    sim.check_stability()
    w3, c3 = time.perf_counter(), time.process_time()
    summary = sim.run(output=sys.argv[2], progress=False)
w4, c4 = time.perf_counter(), time.process_time()
print(json.dumps({"set-up": [w1 - w0, c1 - c0], "equilibrium kernel": [w2 - w1, c2 - c1],
                  "stability check": [w3 - w2, c3 - c2],
                  "stepper": [summary.timings["compile"], None], "run": [w4 - w3, c4 - c3],
                  "solve": [summary.timings["solve"], None], "process": [w4 - w0, c4 - c0]}))
"""


def _run(case, out, cache):
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache)}
    p = subprocess.run([sys.executable, "-c", _CHILD, str(case), str(out)], capture_output=True, text=True, env=env)
    if p.returncode != 0:
        raise SystemExit(p.stderr)
    return json.loads(p.stdout.strip().splitlines()[-1])


def main():
    case = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "cases" / "darken-fe-si-c.toml"
    import numba

    print(
        f"{case.name}, numba {numba.__version__}, LLVM optimisation level {int(numba.config.OPT)} (NUMBA_OPT), "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "numba-cache"
        for label in ("cold", "warm"):
            r = _run(case, Path(tmp) / f"{label}.h5", cache)
            parts = []
            for key in ("equilibrium kernel", "stability check", "stepper", "solve", "process"):
                wall, cpu = r[key]
                parts.append(f"{key} {wall:.2f} s" + (f" ({cpu:.2f} s CPU)" if cpu is not None else ""))
            print(f"  {label}: " + ", ".join(parts) + f"  [load average {os.getloadavg()[0]:.2f}]")
    print(
        "  (stepper: compile or load of advance and everything it calls, plus the first evaluation of the state; "
        "the run repeats the stability check, already loaded)"
    )


if __name__ == "__main__":
    main()
