"""Cold and warm start of a run: how long numba compiles the kernels.

Runs a case in fresh processes, as ``kinsim run`` does:

* cold, with the helper process (``kinsim.simulation.precompile``: it compiles the
  stepper's kernels while the run compiles the node equilibrium and checks its start;
  KINSIM_PRECOMPILE=1), in a new, empty numba cache directory;
* cold without it (KINSIM_PRECOMPILE=0), in another empty cache directory;
* warm: the same run loading the kernels from the first cache.

For each: the wall time of the whole process, its CPU time and that of the helper, the
compile seconds of the run (start checks with the equilibrium kernel, waiting for the
helper, the stepper), the stability check and the solve.  Wall time on a shared machine
depends on its load (printed); CPU time much less.

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
import json, resource, sys, time, warnings
w0, c0 = time.perf_counter(), time.process_time()
from kinsim.case import load_case
from kinsim.simulation import Simulation
case = load_case(sys.argv[1], overrides=["output.snapshots=1"])
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    summary = Simulation(case).run(output=sys.argv[2], progress=False)
children = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"wall": time.perf_counter() - w0, "cpu": time.process_time() - c0,
                  "helper cpu": children.ru_utime + children.ru_stime, **summary.timings}))
"""


def _run(case, out, cache, helper):
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache), "KINSIM_PRECOMPILE": helper}
    p = subprocess.run([sys.executable, "-c", _CHILD, str(case), str(out)], capture_output=True, text=True, env=env)
    if p.returncode != 0:
        raise SystemExit(p.stderr)
    return json.loads(p.stdout.strip().splitlines()[-1])


def main():
    case = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "cases" / "darken-fe-si-c.toml"
    import numba

    print(
        f"{case.name}, numba {numba.__version__}, LLVM optimisation level {int(numba.config.OPT)} (NUMBA_OPT), "
        f"{os.cpu_count()} CPUs"
    )
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        runs = (("cold, helper", "a", "1"), ("cold, no helper", "b", "0"), ("warm", "a", "0"))
        for label, cache, helper in runs:
            load = os.getloadavg()[0]
            r = _run(case, tmp / "out.h5", tmp / cache, helper)
            print(
                f"  {label + ':':<17} process {r['wall']:6.2f} s wall, {r['cpu']:6.2f} s CPU (+ helper "
                f"{r['helper cpu']:5.2f} s); compile {r['compile']:6.2f} s, stability check "
                f"{r.get('stability', 0.0):5.2f} s, solve {r['solve']:5.2f} s  [load average {load:.2f}]"
            )
    print(
        "  (compile: the start checks with the equilibrium kernel, the wait for the helper, the stepper "
        "and the first evaluation of the state)"
    )


if __name__ == "__main__":
    main()
