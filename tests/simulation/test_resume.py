"""Runs that survive faults: a killed run leaves a readable file whose status says
interrupted and ``kinsim run --resume`` finishes it with the uninterrupted result; a run
that cannot converge says where and why and never writes NaN."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import REPO

from kinsim.case import load_case
from kinsim.cli import main
from kinsim.errors import ResultFileError
from kinsim.simulation import Simulation
from kinsim.storage import read_result

IDEAL = REPO / "cases" / "ideal-binary-erf.toml"
CARB = REPO / "cases" / "fe-c-carburizing.toml"
SETS = ["grid.nodes=1000", "solver.rtol=1e-8", "solver.atol=1e-10", "output.snapshots=40"]


def _kinsim(*args):
    return [sys.executable, "-m", "kinsim.cli", *args]


def _wait_for_snapshots(path, n, proc, timeout=120.0):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if proc.poll() is not None:
            raise AssertionError(f"the run ended before it could be killed: {proc.stderr.read()}")
        try:
            if read_result(path).n_snapshots >= n:
                return
        except (ResultFileError, OSError, KeyError, ValueError):  # not there yet, or read mid-write
            pass
        time.sleep(0.05)
    raise AssertionError("the run did not write its snapshots in time")


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_killed_run_resumes_to_the_uninterrupted_result(tmp_path, sig):
    ref = tmp_path / "ref.h5"
    Simulation(load_case(IDEAL, overrides=SETS)).run(output=ref, progress=False)
    out = tmp_path / "run.h5"
    sets = [a for s in SETS for a in ("--set", s)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        _kinsim("run", str(IDEAL), "-o", str(out), "--quiet", *sets),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    _wait_for_snapshots(out, 3, proc)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "--resume" in err
    r = read_result(out)
    assert r.status == "interrupted"
    assert "kinsim run --resume" in r.attrs["stop_reason"]
    assert 3 <= r.n_snapshots < 41
    assert np.all(np.isfinite(r.x)) and np.all(np.isfinite(r.mu))
    # resume (no case file needed: the file carries it)
    done = subprocess.run(_kinsim("run", "--resume", str(out), "--quiet"), capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    a, b = read_result(out), read_result(ref)
    assert a.status == "completed" and a.attrs["resumed"] == 1
    np.testing.assert_allclose(a.time, b.time, rtol=1e-14)
    np.testing.assert_allclose(a.x, b.x, rtol=0, atol=1e-11)
    np.testing.assert_allclose(a.markers, b.markers, rtol=0, atol=1e-15)
    assert a.attrs["steps"] == b.attrs["steps"]
    assert a.stability_end == b.stability_end and a.stability_end.checked == ["FCC_A1#2"]  # of the final state
    # the states checked before the interruption are kept, none is counted twice
    assert a.stability_run == b.stability_run and a.stability_run.states == a.n_snapshots - 1


def _interrupt_in_process(tmp_path, case_path, sets, name):
    """Run in this process and deliver SIGINT after the first few snapshots."""
    out = tmp_path / name
    sim = Simulation(load_case(case_path, overrides=sets))
    import threading

    def fire():
        while True:
            try:
                if read_result(out).n_snapshots >= 2:
                    break
            except Exception:  # noqa: BLE001 - the file may not exist yet
                pass
            time.sleep(0.02)
        os.kill(os.getpid(), signal.SIGINT)

    th = threading.Thread(target=fire, daemon=True)
    th.start()
    with pytest.raises(KeyboardInterrupt):
        sim.run(output=out, progress=False)
    th.join(5)
    return out


@pytest.mark.slow
def test_resume_across_a_boundary_stage_switch(tmp_path):
    # the carburizing case switches its surface from fixed activity to closed at 2 h
    sets = ["grid.nodes=400", "solver.rtol=1e-7", "output.snapshots=24"]
    ref = tmp_path / "ref.h5"
    Simulation(load_case(CARB, overrides=sets)).run(output=ref, progress=False)
    out = _interrupt_in_process(tmp_path, CARB, sets, "carb.h5")
    r = read_result(out)
    assert r.status == "interrupted" and r.n_snapshots < 25
    assert main(["run", "--resume", str(out), "--quiet"]) == 0
    a, b = read_result(out), read_result(ref)
    np.testing.assert_allclose(a.time, b.time, rtol=1e-14)
    np.testing.assert_allclose(a.x, b.x, rtol=0, atol=1e-11)


def test_resume_refuses_another_case_and_finished_runs(tmp_path, capsys):
    out = tmp_path / "small.h5"
    sets = ["grid.nodes=30", "output.snapshots=2"]
    Simulation(load_case(IDEAL, overrides=sets)).run(output=out, progress=False)
    assert main(["run", "--resume", str(out), "--quiet"]) == 2
    assert "already completed" in capsys.readouterr().err
    # mark it interrupted by hand, then resume it with a different case file
    import h5py

    with h5py.File(out, "r+") as f:
        f.attrs["status"] = "interrupted"
    code = main(["run", str(CARB), "--resume", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "is a result of another case" in err and len(err.strip().splitlines()) == 1
    # the same case with a different grid is another case too
    other = tmp_path / "other.toml"
    other.write_text(
        IDEAL.read_text()
        .replace("nodes = 200", "nodes = 31")
        .replace('database = "databases/ideal-ab.tdb"', f'database = "{REPO / "cases" / "databases" / "ideal-ab.tdb"}"')
    )
    assert main(["run", str(other), "--resume", str(out), "--quiet"]) == 2
    assert "differs in grid" in capsys.readouterr().err
    # -o or --set with --resume: refused
    assert main(["run", "--resume", str(out), "-o", "x.h5"]) == 2
    assert main(["run", "--resume", str(out), "--set", "grid.nodes=5"]) == 2
    # a file that is not a result
    junk = tmp_path / "junk.h5"
    junk.write_text("not hdf5")
    assert main(["run", "--resume", str(junk)]) == 2
    assert "not an HDF5 file" in capsys.readouterr().err


def test_failed_run_says_where_and_writes_no_nan(tmp_path, capsys):
    # a surface chemical potential of carbon far above graphite's drives the surface node
    # out of the austenite's composition range: the run must stop cleanly
    out = tmp_path / "fail.h5"
    code = main(
        [
            "run",
            str(CARB),
            "-o",
            str(out),
            "--quiet",
            "--set",
            "grid.nodes=40",
            "--set",
            'boundary.left={type="fixed-potential", mu={C=2e5}}',
            "--set",
            "output.snapshots=4",
        ]
    )
    err = capsys.readouterr().err
    assert code == 1
    line = [ln for ln in err.splitlines() if ln.startswith("kinsim: failed:")]
    assert len(line) == 1 and "node 0" in line[0] and "C=" in line[0] and "t = " in line[0]
    r = read_result(out)
    assert r.status == "failed"
    assert r.attrs["node"] == 0 and "C=" in r.attrs["composition"] and r.attrs["reason"]
    assert np.all(np.isfinite(r.x)) and np.all(np.isfinite(r.mu)) and np.all(np.isfinite(r.flux))
