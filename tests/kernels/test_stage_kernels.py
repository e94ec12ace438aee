"""The stage lists of the steppers (``kinsim.kernels.step.stage_kernels``, and for moving
regions ``kinsim.kernels.moving.stage_kernels``; a simulation's ``_stage_kernels``) list
every kernel the stepper calls besides the node equilibrium, with the argument types the
stepper calls it with: once they are compiled, compiling the stepper compiles no other
kinsim function but the node model's overloads that numba compiles while it types them
(``kinsim.kernels.node_models``) - not the node equilibrium, nor the kernels it calls
through kernel references (``kinsim.kernels.kernel_ref``: the Newton step, the moving
regions' step attempt, which the lists hold last).  What the helper process of a cold
run, ``kinsim.simulation.precompile``, relies on: it compiles the stepper while the run
compiles the equilibrium and the referenced kernels.

Each case runs in a fresh process whose numba cache holds a copy of the suite's, without
the stepper: the stepper compiles, and every other kernel it needs is either compiled or
loaded from the copy.  Both add a specialisation to the kernel's dispatcher, and those are
what the test counts (a cache load fires no compile event), so a kernel missing from the
stage list is seen either way; only the stepper is compiled from scratch (a copy of a
cold cache compiles the rest, as before, only slower).  The Darken case is then run,
which compiles the node equilibrium once: the start checks and the stepper's reference
use the same types."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

_CHILD = r"""
import json, os, shutil, sys, warnings
warnings.simplefilter("ignore")
from numba.core.dispatcher import Dispatcher
import kinsim
import kinsim.kernels.step

# the suite's numba cache, without the stepper (``seed``, ``stepper file prefix``): the
# index files first, then the data they name (numba writes a data file before its index)
seed, skip = sys.argv[3], sys.argv[4]
mine = kinsim.kernels.step.advance._cache._cache_path
os.makedirs(mine, exist_ok=True)
if os.path.isdir(seed):
    for suffix in (".nbi", ".nbc"):
        for f in sorted(os.listdir(seed)):
            if f.endswith(suffix) and not f.startswith(skip):
                shutil.copy2(os.path.join(seed, f), mine)
from kinsim._jit import compile_for
from kinsim.case import load_case
from kinsim.kernels.kkt import equilibrium_batch
from kinsim.simulation import Simulation

case = load_case(sys.argv[1])
sim = Simulation(case)  # (moving regions: the tie-lines of the interfaces, by the multiphase equilibrium)
state, fields, work = sim._stepper_arrays()
before_stages = len(equilibrium_batch.overloads)
failed = 0
stages = sim._stage_kernels(state, fields, work)
for kernel, args in stages:
    try:
        compile_for(kernel, *args)
    except Exception:
        failed += 1
kernel, args = sim._advance_call(state, fields, work, 0.0, 1)
# every specialisation added while the stepper compiles, compiled or loaded from the cache
seen = []
add_overload = Dispatcher.add_overload

def recording(self, cres):
    seen.append(self)
    return add_overload(self, cres)

Dispatcher.add_overload = recording
compile_for(kernel, *args)
Dispatcher.add_overload = add_overload
# (numba also tries the other node model's functions while it prunes their branches:
# those attempts fail and add no specialisation)
compiled = sorted(
    f"{d.py_func.__module__}.{d.py_func.__qualname__}" for d in seen if d.py_func.__module__.startswith("kinsim")
)
before_run = len(equilibrium_batch.overloads) - before_stages
# then a run of the case: its start checks (PhaseModel.equilibrium) and the stepper's
# reference (kinsim.kernels.nodes.equilibrium_ref) call the equilibrium with the same
# types, so it compiles once
if sys.argv[2] == "run":
    kinsim.run(sys.argv[1], overrides={"grid.nodes": 20, "output.snapshots": 2})
name = lambda d: f"{d.py_func.__module__}.{d.py_func.__qualname__}"
print(json.dumps({"failed": failed, "compiled": compiled, "equilibria": before_run,
                  "after_run": [str(s) for s in equilibrium_batch.overloads],
                  "stepper": name(kernel), "referenced": [name(k) for k, _ in stages if sim._is_referenced(k)],
                  "last": [name(k) for k, _ in stages[-1:]]}))
"""


@pytest.mark.slow
@pytest.mark.parametrize(
    "name,run,stepper,referenced",
    [
        ("darken-fe-si-c", True, "kinsim.kernels.step.advance", "kinsim.kernels.step.newton_step"),
        ("fe-cr-spinodal", False, "kinsim.kernels.step.advance", "kinsim.kernels.step.newton_step"),
        # moving regions: advance_regions calls its step attempt (the Newton iterations) through a reference
        (
            "ferrite-growth-fe-c",
            False,
            "kinsim.kernels.moving.advance_regions",
            "kinsim.kernels.moving.moving_attempt",
        ),
    ],
)
def test_advance_compiles_only_itself_after_the_stage_kernels(tmp_path, name, run, stepper, referenced):
    import kinsim.kernels.step

    seed = kinsim.kernels.step.advance._cache._cache_path  # the suite's cache of kinsim.kernels
    skip = stepper.removeprefix("kinsim.kernels.") + "-"  # its files: "<module>.<function>-<line>..."
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba-cache"), "KINSIM_PRECOMPILE": "0"}
    p = subprocess.run(
        [sys.executable, "-c", _CHILD, str(REPO / "cases" / f"{name}.toml"), "run" if run else "-", seed, skip],
        capture_output=True,
        text=True,
        env=env,
        timeout=1800,
    )
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout.strip().splitlines()[-1])
    assert out["failed"] == 0
    others = [f for f in out["compiled"] if not f.startswith("kinsim.kernels.node_models.")]
    assert out["stepper"] == stepper
    assert others == [stepper]  # not the kernel it calls through a reference, which it compiles without
    assert out["referenced"] == out["last"] == [referenced]  # listed last: a cold run compiles it first
    assert out["equilibria"] == 0  # the stepper and its stages compiled without the node equilibrium
    if run:  # a run compiles the equilibrium once
        assert len(out["after_run"]) == 1, out["after_run"]
