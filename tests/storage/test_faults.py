"""Results that cannot be lost: the everyday mistakes of issue 14, each checked for its
exit status, its one-line message and the state of the files afterwards.

- a second writer of a result file (``kinsim run``, ``--resume``, ``kinsim.run``) while
  the first runs: refused, naming the file and the process; the first file byte for byte
  unchanged, the first run completes with the result of an undisturbed run;
- a lock left by a killed writer blocks nobody;
- a second sweep into a directory a sweep is writing: refused, the directory unchanged;
- a result of another case at the output path is kept (``NAME.~N~.h5``), a rerun of the
  same case overwrites;
- a run too large for the memory or the disk (a typo in grid.nodes, too many snapshots,
  a file-size limit), and sweep runs that cannot run: refused before anything is written;
- a write error or a full file-size limit during a run: the run stops as failed with that
  reason, and the file keeps its last complete snapshot and checkpoint.
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from conftest import REPO, one_error_line

import kinsim
from kinsim import resources
from kinsim.case import load_case
from kinsim.cli import main
from kinsim.errors import InputError, OutputBusyError, ResultFileError
from kinsim.simulation import Simulation
from kinsim.storage import ResultWriter, read_checkpoint, read_result

IDEAL = REPO / "cases" / "ideal-binary-erf.toml"
CARB = REPO / "cases" / "fe-c-carburizing.toml"
ROD = REPO / "cases" / "stressed-rod.toml"
# a run of a few seconds that writes 41 snapshots
LONG = ["grid.nodes=1000", "solver.rtol=1e-8", "solver.atol=1e-10", "output.snapshots=40"]
SMALL = ["grid.nodes=40", "output.snapshots=4"]


def _kinsim(*args):
    return [sys.executable, "-m", "kinsim.cli", *args]


def _sets(sets):
    return [a for s in sets for a in ("--set", s)]


def _wait_for(condition, proc, what, timeout=180.0):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if proc.poll() is not None:
            raise AssertionError(f"the first process ended before {what}: {proc.stderr.read()}")
        try:
            if condition():
                return
        except (ResultFileError, OSError, KeyError, ValueError):  # not there yet, or read mid-write
            pass
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _tree(d):
    """Every file under ``d`` with its bytes."""
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


# --------------------------------------------------------------------------------------
# one writer per result file
# --------------------------------------------------------------------------------------
@pytest.mark.slow
def test_a_second_writer_and_a_resume_are_refused_while_the_first_run_completes(tmp_path, capsys):
    out = tmp_path / "run.h5"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    first = subprocess.Popen(
        _kinsim("run", str(IDEAL), "-o", str(out), "--quiet", *_sets(LONG)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        _wait_for(lambda: read_result(out).n_snapshots >= 2, first, "its second snapshot")
        os.kill(first.pid, signal.SIGSTOP)  # hold it still, so that its file can be compared byte for byte
        try:
            before = out.read_bytes()
            # a re-launch of another case to the same file
            code = main(["run", str(IDEAL), "-o", str(out), "--quiet", *_sets(SMALL)])
            one_error_line(code, capsys.readouterr().err, str(out), f"process {first.pid}", "being written")
            assert out.read_bytes() == before
            # --resume of the file being written
            code = main(["run", "--resume", str(out), "--quiet"])
            one_error_line(code, capsys.readouterr().err, str(out), f"process {first.pid}")
            assert out.read_bytes() == before
            # the library: refused before anything is written, no partial result read from the other's file
            with pytest.raises(OutputBusyError, match=f"process {first.pid}") as exc:
                kinsim.run(IDEAL, output=out, overrides=SMALL)
            assert exc.value.result is None
            assert out.read_bytes() == before
        finally:
            os.kill(first.pid, signal.SIGCONT)
        _, err = first.communicate(timeout=600)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == 0, err
    # the first run: complete, and the result of an undisturbed run
    ref = tmp_path / "ref.h5"
    Simulation(load_case(IDEAL, overrides=LONG)).run(output=ref, progress=False)
    a, b = read_result(out), read_result(ref)
    assert a.status == "completed" and a.closed_cleanly and a.n_snapshots == 41
    np.testing.assert_array_equal(a.time, b.time)
    np.testing.assert_array_equal(a.x, b.x)
    assert not (tmp_path / "run.h5.lock").exists()


@pytest.mark.slow
def test_a_lock_left_by_a_killed_writer_blocks_nobody(tmp_path):
    out = tmp_path / "killed.h5"
    first = subprocess.Popen(
        _kinsim("run", str(IDEAL), "-o", str(out), "--quiet", *_sets(LONG)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _wait_for(lambda: read_result(out).n_snapshots >= 2, first, "its second snapshot")
    first.kill()  # SIGKILL: no chance to clean up
    first.communicate(timeout=60)
    lock = tmp_path / "killed.h5.lock"
    assert lock.exists() and str(first.pid) in lock.read_text()  # left behind, naming the dead writer
    assert main(["run", "--resume", str(out), "--quiet"]) == 0
    r = read_result(out)
    assert r.status == "completed" and r.n_snapshots == 41 and not lock.exists()
    # a lock file that is not even a record: locked and replaced all the same
    other = tmp_path / "other.h5"
    (tmp_path / "other.h5.lock").write_bytes(b"\x00garbage")
    assert main(["run", str(IDEAL), "-o", str(other), "--quiet", *_sets(SMALL)]) == 0
    assert read_result(other).status == "completed" and not (tmp_path / "other.h5.lock").exists()


def test_writers_in_one_process_are_refused_too(tmp_path):
    # flock locks belong to open files, not processes: two writers in one process exclude each other
    out = tmp_path / "a.h5"
    args = dict(
        components=["A", "B"],
        z=np.linspace(0, 1, 5),
        faces=np.linspace(-0.125, 1.125, 6),
        phase="P",
        case_toml="# a",
        title="t",
        n_markers=1,
        mobility_policy="error",
    )
    with ResultWriter(out, **args):
        with pytest.raises(OutputBusyError, match=f"process {os.getpid()}"):
            ResultWriter(out, **args)
    with ResultWriter(out, **args):  # released on close
        pass


# --------------------------------------------------------------------------------------
# one sweep per directory
# --------------------------------------------------------------------------------------
@pytest.mark.slow
def test_a_second_sweep_into_a_directory_being_written_is_refused(tmp_path, capsys):
    d = tmp_path / "sweep"
    args = [
        "sweep",
        str(IDEAL),
        "--vary",
        "conditions.duration=1 h,2 h,3 h",
        *_sets(["grid.nodes=300"]),
        "--workers",
        "1",
        "-o",
        str(d),
        "--quiet",
    ]
    first = subprocess.Popen(
        _kinsim(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )  # its own process group: the sweep and its worker
    try:
        _wait_for(lambda: (d / "sweep.json").is_file() and (d / "index.csv").is_file(), first, "its index")
        os.killpg(first.pid, signal.SIGSTOP)
        try:
            before = _tree(d)
            code = main(args)
            one_error_line(code, capsys.readouterr().err, str(d), f"process {first.pid}", "sweep directory")
            assert _tree(d) == before
        finally:
            os.killpg(first.pid, signal.SIGCONT)
        out, err = first.communicate(timeout=600)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    assert first.returncode == 0, err
    assert "3 runs: 3 completed" in out
    assert all(read_result(d / f"run-00{i}.h5").status == "completed" for i in range(3))
    assert not (d / ".kinsim-sweep.lock").exists()


# --------------------------------------------------------------------------------------
# a file of another case is kept
# --------------------------------------------------------------------------------------
def test_a_result_of_another_case_is_kept_and_the_same_case_overwritten(tmp_path, capsys):
    out = tmp_path / "out.h5"
    assert main(["run", str(IDEAL), "-o", str(out), "--quiet", *_sets(SMALL)]) == 0
    first = out.read_bytes()
    capsys.readouterr()
    # another case (another temperature) to the same file: the first result is kept
    assert main(["run", str(IDEAL), "-o", str(out), "--quiet", *_sets(SMALL + ["conditions.temperature=1100"])]) == 0
    err = capsys.readouterr().err
    kept = tmp_path / "out.~1~.h5"
    assert err.strip() == f"kinsim: note: {out} held a result of another case; it is kept as {kept}"
    assert kept.read_bytes() == first
    assert read_result(out).case.conditions.temperature == 1100
    # the same case again: overwritten, nothing more kept
    assert main(["run", str(IDEAL), "-o", str(out), "--quiet", *_sets(SMALL + ["conditions.temperature=1100"])]) == 0
    assert capsys.readouterr().err == "" and sorted(p.name for p in tmp_path.iterdir()) == ["out.h5", "out.~1~.h5"]
    # a file that is not a kinsim result is kept too (the next free number), by the library as well
    notes = tmp_path / "notes.h5"
    notes.write_text("my notes")
    with pytest.warns(kinsim.errors.KinsimNotice, match="not a readable kinsim result"):
        kinsim.run(IDEAL, output=notes, overrides=SMALL)
    assert (tmp_path / "notes.~1~.h5").read_text() == "my notes"
    # a directory in the way: one line, exit 2
    (tmp_path / "dir.h5").mkdir()
    code = main(["run", str(IDEAL), "-o", str(tmp_path / "dir.h5"), "--quiet", *_sets(SMALL)])
    one_error_line(code, capsys.readouterr().err, "dir.h5", "not a file")


# --------------------------------------------------------------------------------------
# sizes checked before anything runs
# --------------------------------------------------------------------------------------
def test_an_oversize_run_is_refused_before_anything_is_written(tmp_path, capsys, monkeypatch):
    out = tmp_path / "out.h5"
    assert main(["run", str(IDEAL), "-o", str(out), "--quiet", *_sets(SMALL)]) == 0
    capsys.readouterr()
    before = out.read_bytes()
    # grid.nodes a few zeros too many: terabytes of memory, refused by the case reader
    t0 = time.monotonic()
    code = main(["run", str(IDEAL), "-o", str(out), "--quiet", "--set", "grid.nodes=100000000000"])
    one_error_line(code, capsys.readouterr().err, "grid.nodes = 100000000000", "memory", "at most about")
    assert time.monotonic() - t0 < 60
    # snapshots: terabytes of file, refused before the file is touched (the case is otherwise the same)
    code = main(
        [
            "run",
            str(IDEAL),
            "-o",
            str(out),
            "--quiet",
            "--set",
            "grid.nodes=100000",
            "--set",
            "output.snapshots=1000000",
        ]
    )
    line = one_error_line(code, capsys.readouterr().err, str(out), "free on the disk", "output.snapshots")
    assert "4.8 TB" in line
    assert out.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["out.h5"]
    # the memory of the run's arrays as the run will make them (Simulation: the phase's site
    # fractions, the external potential of the stressed rod), more than the case reader's
    # least estimate: with the memory available between the two, the run is refused
    rod = load_case(ROD, overrides=["grid.nodes=100000"])
    from kinsim.phase import load_phase

    params = load_phase(rod.thermo.database, rod.thermo.phase, rod.components).params
    least = resources.estimate(100_000, 2, 2, 1).memory_bytes
    full = resources.run_size(rod, params).memory_bytes
    assert full > least
    monkeypatch.setattr(resources, "available_memory", lambda: (least + full) / 2 / resources.MEMORY_FRACTION)
    with pytest.raises(InputError, match=r"the run needs about .* of memory .* grid.nodes \(at most about \d+\)"):
        kinsim.run(ROD, output=tmp_path / "big.h5", overrides=["grid.nodes=100000"])
    # a result held in memory: its snapshots count
    monkeypatch.setattr(resources, "available_memory", lambda: 60_000_000)
    with pytest.raises(InputError, match=r"result held in memory.*output.snapshots.*write the result to a file") as e:
        kinsim.run(IDEAL, overrides=["grid.nodes=2000", "output.snapshots=3000"])
    assert e.value.result is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.h5"]


def test_a_file_size_limit_below_the_estimate_is_refused_up_front(tmp_path):
    out = tmp_path / "limited.h5"
    script = textwrap.dedent(f"""
        import resource, signal, sys
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))
        from kinsim.cli import main
        sys.exit(main(["run", {str(IDEAL)!r}, "-o", {str(out)!r}, "--quiet", "--set", "grid.nodes=2000"]))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    one_error_line(done.returncode, done.stderr, str(out), "file-size limit (ulimit -f)")
    assert not out.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_sweep_runs_that_cannot_run_are_refused_before_the_first_starts(tmp_path, capsys):
    d = tmp_path / "sweep"
    cases = [
        # a temperature outside the database's range (6000 K here)
        (IDEAL, ["--vary", "conditions.temperature=1000,9000"], ["conditions.temperature=9000", "outside the range"]),
        # a composition the phase cannot hold (x_C > 0.5 in (Fe)1(C,Va)1)
        (CARB, ["--vary", "initial.composition={C=0.2},{C=40}"], ["initial.composition={C=40}", "not a valid"]),
        # too many nodes for the memory (refused while the runs are planned)
        (IDEAL, ["--vary", "grid.nodes=40,100000000000"], ["grid.nodes=100000000000", "memory"]),
        # the files of all runs together do not fit on the disk
        (
            IDEAL,
            ["--vary", "output.snapshots=10,1000000", "--set", "grid.nodes=100000"],
            ["result files of 2 sweep runs", "free on the disk"],
        ),
    ]
    for case, args, words in cases:
        code = main(["sweep", str(case), *args, "-o", str(d), "--quiet"])
        one_error_line(code, capsys.readouterr().err, *words)
        assert not d.exists(), args  # nothing created, nothing run


# --------------------------------------------------------------------------------------
# write errors during a run
# --------------------------------------------------------------------------------------
def _failing_on(call: int, error):
    """A replacement of ResultWriter._write_snapshot that raises ``error(self, k, arrays)``
    at its ``call``-th call."""
    real = ResultWriter._write_snapshot
    calls = []

    def write(self, k, t, arrays, extra):
        calls.append(k)
        if len(calls) == call:
            error(self, k, arrays)
        return real(self, k, t, arrays, extra)

    return write


def _disk_full(self, k, arrays):
    raise OSError(errno.ENOSPC, "No space left on device")


def _torn(self, k, arrays):
    # x of snapshot k is written, then the device fails: a torn snapshot
    ds = self._series_ds["x"]
    ds.resize(k + 1, axis=0)
    ds[k] = arrays["x"]
    raise OSError(errno.EIO, "Input/output error")


@pytest.mark.parametrize(
    "error,reason",
    [(_disk_full, "No space left on device"), (_torn, "Input/output error")],
    ids=["disk full", "torn snapshot"],
)
def test_a_write_error_stops_the_run_as_failed_and_keeps_the_last_complete_state(
    tmp_path, capsys, monkeypatch, error, reason
):
    out = tmp_path / "out.h5"
    monkeypatch.setattr(ResultWriter, "_write_snapshot", _failing_on(4, error))
    code = main(["run", str(IDEAL), "-o", str(out), "--quiet", *_sets(["grid.nodes=40", "output.snapshots=10"])])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kinsim: failed: cannot write the snapshot at t = "), err
    assert reason in lines[0] and str(out) in lines[0] and "keeps its 3 complete snapshots" in lines[0]
    r = read_result(out)
    assert r.status == "failed" and reason in r.stop_reason and r.closed_cleanly
    assert r.n_snapshots == 3 and np.all(np.isfinite(r.x))
    # the checkpoint of the last complete snapshot, intact
    ck = read_checkpoint(out)
    assert ck["t"] == r.time[-1] == ck["t_last_snapshot"]
    np.testing.assert_allclose(ck["U"] / ck["U"].sum(axis=1, keepdims=True), r.x[-1], rtol=0, atol=1e-15)
    assert not (tmp_path / "out.h5.lock").exists()


@pytest.mark.slow
def test_a_file_size_limit_reached_during_the_run_stops_it_as_failed(tmp_path):
    # the estimate is made short (as if the run had been planned for 3 snapshots), so that the
    # reservation of the file runs into the file-size limit in the middle of the run
    out = tmp_path / "limited.h5"
    script = textwrap.dedent(f"""
        import resource, signal, sys
        import kinsim.simulation.runner
        from kinsim.resources import resized
        real = kinsim.simulation.runner.run_size
        kinsim.simulation.runner.run_size = lambda case, params, **kw: resized(real(case, params, **kw), snapshots=3)
        from kinsim.case import load_case
        from kinsim.phase import load_phase
        case = load_case({str(IDEAL)!r}, overrides=["grid.nodes=2000", "output.snapshots=20"])
        model = load_phase(case.thermo.database, case.thermo.phase, case.components)
        limit = kinsim.simulation.runner.run_size(case, model.params).file_bytes + 100_000
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        from kinsim.cli import main
        sys.exit(main(["run", {str(IDEAL)!r}, "-o", {str(out)!r}, "--quiet", "--set", "grid.nodes=2000",
                       "--set", "output.snapshots=20"]))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 1 and len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert lines[0].startswith("kinsim: failed: cannot write the ") and "file-size limit (ulimit -f)" in lines[0]
    r = read_result(out)
    assert r.status == "failed" and "file-size limit" in r.stop_reason
    assert 3 <= r.n_snapshots < 21 and np.all(np.isfinite(r.x))
    ck = read_checkpoint(out)
    assert ck["t"] in r.time[-2:]
    k = int(np.flatnonzero(r.time == ck["t"])[0])
    np.testing.assert_allclose(ck["U"] / ck["U"].sum(axis=1, keepdims=True), r.x[k], rtol=0, atol=1e-15)
