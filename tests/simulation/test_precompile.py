"""The helper process of a cold run (kinsim.simulation.precompile): when it starts, and
that the run can always stop it.  (That what it compiles is what the stepper needs:
tests/kernels/test_stage_kernels.py.)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kinsim.case import load_case
from kinsim.simulation import precompile

REPO = Path(__file__).resolve().parents[2]


def test_switch_turns_the_helper_off_or_on_whatever_the_load(monkeypatch):
    monkeypatch.setenv(precompile.ENV_SWITCH, "0")
    assert not precompile.worthwhile()
    assert precompile.start(load_case(REPO / "cases" / "darken-fe-si-c.toml")) is None
    monkeypatch.setenv(precompile.ENV_SWITCH, "1")
    assert precompile.worthwhile()


def test_no_helper_on_a_busy_or_single_cpu_machine(monkeypatch):
    monkeypatch.delenv(precompile.ENV_SWITCH, raising=False)
    monkeypatch.setattr(precompile, "_cpus", lambda: 2)
    monkeypatch.setattr(precompile, "_idle_cpus", lambda: 0.4)
    assert not precompile.worthwhile()
    monkeypatch.setattr(precompile, "_idle_cpus", lambda: 1.3)
    assert precompile.worthwhile()
    # without /proc/stat: the load average
    monkeypatch.setattr(precompile, "_idle_cpus", lambda: None)
    monkeypatch.setattr(os, "getloadavg", lambda: (1.5, 1.0, 1.0))
    assert not precompile.worthwhile()
    monkeypatch.setattr(os, "getloadavg", lambda: (0.5, 1.0, 1.0))
    assert precompile.worthwhile()
    monkeypatch.setattr(precompile, "_cpus", lambda: 1)
    monkeypatch.setattr(precompile, "_idle_cpus", lambda: 1.0)
    assert not precompile.worthwhile()


def test_idle_cpus_are_measured_between_none_and_all():
    idle = precompile._idle_cpus(0.05)
    if idle is None:
        pytest.skip("no /proc/stat here")
    assert 0.0 <= idle <= (os.cpu_count() or 1) + 1e-9


def test_a_helper_for_moving_regions_too(monkeypatch):
    """Their stepper (kinsim.kernels.moving.advance_regions) compiles apart from its step
    attempt, which it calls through a kernel reference: the helper compiles the one while
    the run compiles the other.  (Stopped at once: this test compiles nothing.)"""
    monkeypatch.setenv(precompile.ENV_SWITCH, "1")
    helper = precompile.start(load_case(REPO / "cases" / "ferrite-growth-fe-c.toml"))
    assert helper is not None
    path = helper.case_path
    assert load_case(path).regions  # the helper's case file is the region case
    helper.stop()
    assert helper.process.poll() is not None and not os.path.exists(path)


def _cached_after(monkeypatch, calls: int):
    """needs_compile says the stepper is missing from the cache for the first ``calls``
    questions, then there (the helper has compiled it)."""
    asked = []

    def needs_compile(kernel, *args):
        asked.append(kernel)
        return len(asked) <= calls

    monkeypatch.setattr(precompile, "needs_compile", needs_compile)
    return asked


def test_stop_ends_the_helper_and_removes_its_case_file(tmp_path, monkeypatch):
    _cached_after(monkeypatch, 10**9)
    path = tmp_path / "case.toml"
    path.write_text("")
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    helper = precompile.Precompile(proc, str(path))
    assert not helper.wait(("stepper", ()), timeout=0.1)  # still running, no stepper: stopped
    assert proc.poll() is not None
    assert not path.exists()
    helper.stop()  # a second stop does nothing


def test_wait_ends_when_the_stepper_is_cached_or_the_helper_stopped(tmp_path, monkeypatch):
    path = tmp_path / "case.toml"
    # the stepper appears in the cache while the helper still works (on the kernels the
    # stepper calls through references): the run goes on and the helper is stopped
    _cached_after(monkeypatch, 3)
    path.write_text("")
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    assert precompile.Precompile(proc, str(path)).wait(("stepper", ()))
    assert proc.poll() is not None and not path.exists()
    # the helper failed without the stepper: the run compiles it itself
    _cached_after(monkeypatch, 10**9)
    path.write_text("")
    proc = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    assert not precompile.Precompile(proc, str(path)).wait(("stepper", ()))


def test_the_run_shares_the_list_from_its_end_until_it_meets_the_helper(tmp_path, monkeypatch):
    cached = {"a", "b"}  # the helper, working from the start, has compiled these
    monkeypatch.setattr(precompile, "needs_compile", lambda kernel, *args: kernel not in cached)
    compiled = []

    def compile_for(kernel, *args):
        compiled.append(kernel)
        cached.add(kernel)

    monkeypatch.setattr(precompile, "compile_for", compile_for)
    path = tmp_path / "case.toml"
    path.write_text("")
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    share = [(k, ()) for k in ("a", "b", "c", "d", "newton")]
    cached.add("stepper")
    assert precompile.Precompile(proc, str(path)).wait(("stepper", ()), share=share)
    assert compiled == ["newton", "d", "c"]


def test_a_helper_that_cannot_start_is_no_helper(monkeypatch):
    """start writes the resolved case to a file for the helper; when the helper cannot
    start (here: no such interpreter), the run has none and no file is left behind."""
    monkeypatch.setenv(precompile.ENV_SWITCH, "1")
    monkeypatch.setattr(sys, "executable", "/nonexistent/python")
    written = []
    real_mkstemp = precompile.tempfile.mkstemp

    def mkstemp(**kw):
        fd, path = real_mkstemp(**kw)
        written.append(path)
        return fd, path

    monkeypatch.setattr(precompile.tempfile, "mkstemp", mkstemp)
    assert precompile.start(load_case(REPO / "cases" / "darken-fe-si-c.toml")) is None
    assert written and not os.path.exists(written[0])


@pytest.mark.parametrize(
    "cold,started",
    [
        ({"equilibrium"}, 1),  # a first run: the helper starts at the start check, once
        ({"stepper", "newton_step"}, 1),  # the equilibrium cached (another case ran before), the stepper not
        ({"stepper"}, 0),  # the Newton step cached: nothing for the run to compile meanwhile
        (set(), 0),  # all cached
    ],
)
def test_a_helper_whenever_the_stepper_and_its_referenced_kernel_are_cold(monkeypatch, cold, started):
    """The run starts the helper when its node equilibrium is not in numba's cache, or,
    with the equilibrium cached, when its stepper and the kernel the stepper calls through
    a reference (the Newton step) are not: then the helper compiles the one while the run
    compiles the other.  (needs_compile is told which are cold; the helper is not started:
    everything is in the suite's cache, and the run loads it.)"""
    import kinsim
    from kinsim.kernels.kkt import equilibrium_batch
    from kinsim.kernels.step import advance, newton_step
    from kinsim.simulation import runner

    names = {equilibrium_batch: "equilibrium", advance: "stepper", newton_step: "newton_step"}
    monkeypatch.setattr(runner, "needs_compile", lambda kernel, *args, **kw: names.get(kernel) in cold)
    calls = []
    monkeypatch.setattr(precompile, "start", lambda case: calls.append(case) or None)
    r = kinsim.run(REPO / "cases" / "ideal-binary-erf.toml", overrides={"grid.nodes": 20, "output.snapshots": 2})
    assert r.finished
    assert len(calls) == started
