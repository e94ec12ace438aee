"""Shared test helpers: paths, the reference-data folder, pycalphad oracles."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
CASES_DB = REPO / "cases" / "databases"
TESTS_DB = REPO / "tests" / "databases"
SHARED_DB = REPO.parent / "shared" / "databases"

# keep the converted-phase cache out of the user's home during tests
os.environ.setdefault("KINSIM_CACHE_DIR", str(REPO / ".pytest_cache" / "kinsim-phases"))


# Test files that compile the same large kernels from an empty numba cache.  Under
# pytest-xdist each group runs in one worker, one file after the other, instead of two
# workers compiling the same kernels at the same time (which the suite did: about 200 s
# of a 790 s run on two cores); every other file is its own unit, as with --dist loadfile.
# - "multiphase": the multiphase node equilibrium (kinsim.kernels.multiphase.mp_node_kernel,
#   about 140 s) and the homogenization stepper built on it;
# - "moving": the moving-boundary stepper (about 80 s), whose runs start from the
#   multiphase equilibrium's tie-lines, so it must not start before that equilibrium is
#   compiled (else both workers compile it): it goes to the other worker, after the
#   memory-estimate file (about 160 s of runs in fresh processes).
KERNEL_GROUPS = {
    "multiphase": [
        "tests/phase/test_multiphase.py",
        "tests/phase/test_multiphase_mobility.py",
        "tests/phase/test_multiphase_temperature.py",
        "tests/phase/test_phase_members.py",
        "tests/phase/test_phaseset_cache.py",
        "tests/phase/test_stability.py",
        "tests/cli/test_cli_multiphase.py",
        "tests/api/test_api_multiphase.py",
        "tests/case/test_homogenization_case.py",
        "tests/comparisons/test_homogenization_kawin.py",
        "tests/simulation/test_carbide_carburizing.py",
        "tests/simulation/test_homogenization_outputs.py",
        "tests/simulation/test_homogenization_single.py",
        "tests/simulation/test_homogenization_stefan.py",
        "tests/simulation/test_homogenization_tangents.py",
        "tests/storage/test_resources_homogenization.py",
    ],
    "moving": [
        "tests/simulation/test_moving_boundary.py",
        "tests/simulation/test_moving_vs_homogenization.py",
    ],
}
# the units handed out first, in this order: the longest (from an empty cache, on two
# cores: the two groups about 300 and 200 s, the others 40-230 s), so that no long unit
# is left for the end while the other worker idles; the rest follow, most tests first
FIRST_UNITS = [
    "multiphase",
    # the homogenization stepper, compiled without the node equilibrium (about 130 s
    # from an empty cache): on the other worker, while the first compiles the equilibrium;
    # it holds one test, so that worker takes the next unit at once
    "tests/simulation/test_homogenization_stepper_compile.py",
    "tests/storage/test_resources.py",
    "moving",
    "tests/kernels/test_stage_kernels.py",
    "tests/comparisons/test_kawin_compare.py",
    "tests/simulation/test_resume.py",
    "tests/storage/test_faults.py",
    "tests/simulation/test_diffusion.py",
]
# a unit not handed to a worker that still runs the other one (unless nothing else is left)
NOT_WITH = {"moving": "multiphase"}
# a unit not handed out before the other one has finished: the stage-kernel test compiles
# its steppers in a copy of the suite's numba cache, which then holds every other kernel
# they call (the moving regions' last: from an empty cache, about 330 s of compilation
# on two cores; from a full one, about 60 s); the test of the stability of stored states
# runs regions and several phases, whose kernels the groups compile
AFTER = {"tests/kernels/test_stage_kernels.py": "moving", "tests/simulation/test_run_stability.py": "moving"}
_GROUP_OF = {path: group for group, paths in KERNEL_GROUPS.items() for path in paths}


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """--dist loadfile with the files of each KERNEL_GROUPS entry as one unit, the
    FIRST_UNITS handed out first (see NOT_WITH and AFTER).  It builds on pytest-xdist's private
    scheduler internals: where they are not as expected, xdist's own scheduler runs
    (the suite is the same, only slower)."""
    from xdist.scheduler import LoadScopeScheduling

    if config.getoption("dist") != "loadfile" or not all(
        hasattr(LoadScopeScheduling, name) for name in ("_split_scope", "_assign_work_unit")
    ):
        return None

    class KernelGroupScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return _GROUP_OF.get(path, path)

        def _finished(self, unit: str) -> bool:
            """Whether ``unit`` is handed out and all its tests have run (or it is not in
            this session at all)."""
            if unit in self.workqueue:
                return False
            return all(all(work.get(unit, {}).values()) for work in self.assigned_work.values())

        def _assign_work_unit(self, node) -> None:
            queue = self.workqueue
            for unit in reversed(FIRST_UNITS):
                if unit in queue:
                    queue.move_to_end(unit, last=False)
            held = self.assigned_work.get(node, {})
            # a unit waits for another unless that one has finished, or is held by this
            # worker, which runs it first (a worker keeps the last test it was sent until
            # it gets more work or is shut down: waiting for that test would never end)
            waiting = [u for u in queue if u in AFTER and not (self._finished(AFTER[u]) or AFTER[u] in held)]
            ready = [u for u in queue if u not in waiting]
            if not ready:  # the other worker finishes what they wait for, then takes them
                return
            free = [u for u in ready if not (u in NOT_WITH and not all(held.get(NOT_WITH[u], {}).values()))]
            queue.move_to_end((free or ready)[0], last=False)
            super()._assign_work_unit(node)

    return KernelGroupScheduling(config, log)


def run_case(case, directory, *sets, name="out.h5"):
    """Run ``case`` (a path, dict or Case) through the public :func:`kinsim.run` with the
    ``section.key=value`` overrides ``sets``, writing ``directory/name``; returns the
    :class:`~kinsim.Result` read back from that file (``r.case`` is the parsed case)."""
    import kinsim

    return kinsim.run(case, output=Path(directory) / name, overrides=list(sets))


def shared_db(name: str) -> Path:
    """A reference database of ../shared, or skip the test when that folder is absent."""
    p = SHARED_DB / name
    if not p.is_file():
        pytest.skip(f"reference database {p} not available")
    return p


def pycalphad_point(db_path, comps, phase, T, x, rel_h=1e-4):
    """pycalphad's equilibrium of one phase (or of a list of phases) at x and central
    differences of its MU.

    Returns (GM, MU (n,), fd (n-1, n-1)) with fd[i, j] = d(mu_i - mu_ref)/dx_j, where
    i, j run over comps[1:] and x_ref is dependent.  One pycalphad call evaluates
    the whole stencil (a grid of x_j - h_j, x_j, x_j + h_j).
    """
    from pycalphad import Database, equilibrium
    from pycalphad import variables as v

    db = Database(str(db_path))
    x = np.asarray(x, dtype=float)
    x_ref = 1.0 - x.sum()
    h = rel_h * np.minimum(x, x_ref)
    conds = {v.T: T, v.P: 101325.0, v.N: 1.0}
    for c, xv, hv in zip(comps[1:], x, h):
        conds[v.X(c)] = [xv - hv, xv, xv + hv]
    eq = equilibrium(db, list(comps) + ["VA"], [phase] if isinstance(phase, str) else list(phase), conds)
    order = [str(c) for c in eq.component.values]
    idx = [order.index(c) for c in comps]
    n1 = len(comps) - 1

    def at(offsets):
        sel = {"N": 0, "P": 0, "T": 0, "vertex": 0}
        sel.update({f"X_{c}": 1 + o for c, o in zip(comps[1:], offsets)})
        sel = {k: v for k, v in sel.items() if k in eq.MU.dims}
        return eq.isel(sel)

    center = at([0] * n1)
    MU = np.asarray(center.MU.values).reshape(-1)[idx]
    GM = float(np.asarray(center.GM.values).reshape(-1)[0])
    fd = np.zeros((n1, n1))
    for j in range(n1):
        off = [0] * n1
        off[j] = 1
        mu_hi = np.asarray(at(off).MU.values).reshape(-1)[idx]
        off[j] = -1
        mu_lo = np.asarray(at(off).MU.values).reshape(-1)[idx]
        d = (mu_hi - mu_lo) / (2 * h[j])
        fd[:, j] = d[1:] - d[0]
    return GM, MU, fd


def graphite_gibbs(T: float) -> float:
    """G of graphite (J/mol), GHSERCC of the SGTE unary database (A.T. Dinsdale, Calphad 15
    (1991) 317): the reference of a carbon activity."""
    return (
        -17368.441
        + 170.73 * T
        - 24.3 * T * math.log(T)
        - 4.723e-4 * T**2
        + 2562600.0 / T
        - 2.643e8 / T**2
        + 1.2e10 / T**3
    )


def one_error_line(code, err, *words):
    """Assert a CLI call ended in exit status 2 with one line ``kinsim: error: ...``
    naming every word, and no traceback; return the line."""
    assert code == 2, err
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("kinsim: error:"), err
    for w in words:
        assert w in lines[0], lines[0]
    assert "Traceback" not in err
    return lines[0]
