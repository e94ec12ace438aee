"""The ``kinsim`` command ends without the interpreter's teardown (kinsim.cli.entry): its
exit status is main's, atexit handlers run, the standard streams are flushed, and the
result file is complete; with an HDF5 file left open it takes the normal exit, which
closes it."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from conftest import REPO

CASE = REPO / "cases" / "ideal-binary-erf.toml"


def _entry(tmp_path, argv, before=""):
    code = textwrap.dedent(
        f"""
        import atexit, sys
        atexit.register(lambda: print("atexit ran", flush=False))
        class Marker:  # finalized by the interpreter's teardown only
            def __del__(self):
                print("teardown")
        marker = Marker()
        {before}
        from kinsim.cli import entry
        sys.argv = ["kinsim"] + {argv!r}
        entry()
        print("not reached")
        """
    )
    return subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=600)


def test_a_run_exits_with_its_status_and_a_complete_file(tmp_path):
    from kinsim.storage import read_result

    out = tmp_path / "r.h5"
    p = _entry(tmp_path, ["run", str(CASE), "--set", "grid.nodes=30", "-o", str(out)])
    assert p.returncode == 0, p.stderr
    assert "not reached" not in p.stdout and p.stdout.rstrip().endswith("atexit ran")
    assert "teardown" not in p.stdout
    assert "wrote" in p.stderr + p.stdout
    r = read_result(out)
    assert r.status == "completed" and r.time.size == r.x.shape[0]


def test_an_error_keeps_its_status_and_its_one_line(tmp_path):
    p = _entry(tmp_path, ["run", str(tmp_path / "missing.toml")])
    assert p.returncode == 2 and p.stderr.startswith("kinsim: error:") and p.stderr.count("\n") == 1
    assert p.stdout.strip() == "atexit ran"


def test_an_open_hdf5_file_takes_the_normal_exit(tmp_path):
    before = "import h5py; f = h5py.File('open.h5', 'w'); f['a'] = [1.0, 2.0]"
    p = _entry(tmp_path, ["--version"], before)
    assert p.returncode == 0 and "kinsim" in p.stdout and "atexit ran" in p.stdout
    assert p.stdout.rstrip().endswith("teardown")
    import h5py

    with h5py.File(tmp_path / "open.h5", "r") as f:  # closed, hence written, by the teardown
        assert list(f["a"][()]) == [1.0, 2.0]
