"""The simulation package's contracts: the stepper state is what a checkpoint stores, the
result goes to any store with ResultWriter's interface, the run starts from the case's
initial profile, and compiling the kernels is announced exactly when numba's disk cache
lacks them."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import REPO

from kinsim.case import load_case
from kinsim.kernels.step import StepperState
from kinsim.simulation import Simulation, runner
from kinsim.storage import read_result

IDEAL = REPO / "cases" / "ideal-binary-erf.toml"
SMALL = ["grid.nodes=20", "output.snapshots=2", "conditions.duration=1 h"]


class MemoryStore:
    """A result store kept in memory, with ResultWriter's constructor and methods."""

    last = None

    def __init__(
        self,
        path,
        *,
        components,
        z,
        faces,
        phase,
        case_toml,
        title,
        n_markers,
        mobility_policy,
        extra_attrs=None,
        parameters=None,
        extra_units=None,
    ):
        self.path, self.components, self.parameters = path, list(components), dict(parameters)
        self.snapshots, self.checkpoint, self.status, self.timings, self.closed = [], None, "running", {}, False
        MemoryStore.last = self

    def append(self, t, x, mu, flux, markers, extra=None):
        self.snapshots.append((t, np.array(x), np.array(mu), np.array(flux), np.array(markers)))

    def write_checkpoint(self, **state):
        self.checkpoint = {k: np.array(v) for k, v in state.items()}

    def set_status(self, status, stop_reason="", **info):
        self.status = status

    def set_timings(self, **seconds):
        self.timings.update(seconds)

    def close(self):
        self.closed = True

    @classmethod
    def reopen(cls, path):
        return cls.last


def test_a_store_of_our_own_gets_the_result_and_the_complete_state(tmp_path):
    case = load_case(IDEAL, overrides=SMALL)
    out = tmp_path / "not-written.h5"
    summary = Simulation(case).run(output=out, progress=False, storage=MemoryStore)
    store = MemoryStore.last
    assert not out.exists()
    assert summary.status == "completed" and store.status == "completed" and store.closed
    assert "compile" in store.timings and "solve" in store.timings
    # the same snapshots as the HDF5 file of the same run
    ref = tmp_path / "ref.h5"
    Simulation(case).run(output=ref, progress=False)
    r = read_result(ref)
    assert len(store.snapshots) == r.n_snapshots == 3
    for i, (t, x, _mu, flux, _markers) in enumerate(store.snapshots):
        assert t == r.time[i]
        np.testing.assert_array_equal(x, r.x[i])
        np.testing.assert_array_equal(flux, r.flux[i])
    # the checkpoint is the stepper state, field by field, at the end of the run
    assert set(store.checkpoint) == set(StepperState._fields)
    assert store.checkpoint["t"][0] == r.time[-1] == store.checkpoint["t_last_snapshot"][0]
    np.testing.assert_array_equal(store.checkpoint["U"] / store.checkpoint["U"].sum(axis=1, keepdims=True), r.x[-1])
    assert store.checkpoint["stats"][0] == r.attrs["steps"]


def test_the_run_starts_from_the_cases_initial_profile(tmp_path):
    # a table profile: interpolated per component and renormalised (InitialSpec.profile)
    case = load_case(IDEAL, overrides=[*SMALL, 'initial={type="table", z=[0, "0.3 mm", "1 mm"], B=[0.1, 0.7, 0.3]}'])
    out = tmp_path / "table.h5"
    Simulation(case).run(output=out, progress=False)
    r = read_result(out)
    x0 = case.initial.profile(r.z)
    np.testing.assert_allclose(x0.sum(axis=1), 1.0, rtol=0, atol=1e-15)
    np.testing.assert_allclose(r.x[0], x0, rtol=0, atol=1e-15)
    assert r.x[0, 0, 1] == pytest.approx(0.1 + 0.6 * r.z[0] / 3e-4, rel=1e-12)


def test_compiling_is_announced_only_when_the_cache_lacks_the_kernels(tmp_path, capsys, monkeypatch):
    case = load_case(IDEAL, overrides=SMALL)
    Simulation(case).run(output=tmp_path / "warm-up.h5", progress=False)  # compiles or loads them
    capsys.readouterr()
    Simulation(case).run(output=tmp_path / "warm.h5", progress=True)
    assert "compiling kernels" not in capsys.readouterr().err
    monkeypatch.setattr(runner, "needs_compile", lambda dispatcher, *args, **kw: True)
    Simulation(case).run(output=tmp_path / "cold.h5", progress=True)
    err = capsys.readouterr().err
    assert "kinsim: compiling kernels (first run only) ..." in err
    assert "kinsim: kernels compiled in" in err
    assert err.index("compiling kernels") < err.index("kernels compiled in")
    # quiet runs (progress=False, kinsim run --quiet) say nothing
    Simulation(case).run(output=tmp_path / "quiet.h5", progress=False)
    assert capsys.readouterr().err == ""


def test_needs_compile_reads_numbas_disk_cache(tmp_path):
    """True before a signature was ever compiled, False once it is in memory or in the
    disk cache (a new process), True again after the source file changed."""
    src = tmp_path / "cached_kernel.py"
    src.write_text("from kinsim._jit import jit\n\n\n@jit\ndef twice(x):\n    return 2.0 * x\n")
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); from cached_kernel import twice; "
        "from kinsim._jit import needs_compile; before = needs_compile(twice, 1.0); twice(1.0); "
        "print(before, needs_compile(twice, 1.0), needs_compile(twice, 1))"
    )
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba-cache")}

    def run():
        p = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, env=env)
        assert p.returncode == 0, p.stderr
        return p.stdout.split()

    assert run() == ["True", "False", "True"]
    assert run() == ["False", "False", "True"]  # loaded from the disk cache; an int argument never compiled
    src.write_text(src.read_text().replace("2.0 * x", "3.0 * x  # changed"))
    assert run() == ["True", "False", "True"]


def test_state_restores_from_a_checkpoint_with_scalar_attributes(tmp_path):
    """Checkpoints of earlier versions store t, dt, nhist and t_last_snapshot as scalar
    attributes: they fill the one-element fields of the state."""
    import h5py

    from kinsim.simulation.resume import restore_state
    from kinsim.simulation.setup import initial_state

    case = load_case(IDEAL, overrides=SMALL)
    out = tmp_path / "run.h5"
    sim = Simulation(case)
    sim.run(output=out, progress=False)
    with h5py.File(out, "r+") as f:
        g = f["checkpoint"]
        expect = {k: np.array(v) for k, v in g.items()}
        for k in ("t", "dt", "nhist", "t_last_snapshot"):
            value = g[k][0]
            del g[k]
            g.attrs[k] = value
    state = initial_state(case, sim.grid, sim.x0, sim.subst, sim.model.params)
    restore_state(out, state)
    for k, v in state._asdict().items():
        np.testing.assert_array_equal(v, expect[k].reshape(v.shape))
    assert state.t[0] == 3600.0 and state.nhist[0] == 3
