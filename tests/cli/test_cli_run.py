"""`kinsim run` and `kinsim plot`: a completed run, and bad cases that end in one clear
line, exit status 2, and no result file claiming success."""

from __future__ import annotations

import pytest
from conftest import REPO, one_error_line

from kinsim.cli import main
from kinsim.storage import read_result

IDEAL = REPO / "cases" / "ideal-binary-erf.toml"
DB = REPO / "cases" / "databases" / "ideal-ab.tdb"


def test_run_and_plot(tmp_path, capsys):
    out = tmp_path / "r.h5"
    code = main(["run", str(IDEAL), "-o", str(out), "--set", "output.snapshots=3", "--set", "grid.nodes=60"])
    o, e = capsys.readouterr()
    assert code == 0, e
    assert "completed" in o and "steps" in o
    r = read_result(out)
    assert r.status == "completed" and len(r.time) == 4
    assert "grid" in r.case_toml and r.attrs["phase"] == "FCC_A1"
    for key in ("timing_compile", "timing_solve", "timing_io"):
        assert key in r.attrs
    fig = tmp_path / "f.png"
    assert main(["plot", str(out), "-o", str(fig)]) == 0
    assert fig.stat().st_size > 10_000


def _case(tmp_path, old, new, name="c.toml"):
    text = IDEAL.read_text().replace('database = "databases/ideal-ab.tdb"', f'database = "{DB}"')
    assert old in text, old
    p = tmp_path / name
    p.write_text(text.replace(old, new))
    return p


BAD = [
    ("nodes = 200", "nodes = 200\nnodez = 3", "grid.nodez"),
    ('length = "1 mm"', 'length = "1 mx"', "grid.length"),
    ("left = { B = 0.2 }", "left = { B = 1.2 }", "initial.left"),
    ("left = { B = 0.2 }", "left = { C = 0.2 }", "C"),
    ('database = "', 'database = "/nonexistent/', "not found"),
    ("nodes = 200", "nodes = 1", "grid.nodes"),
    ('duration = "10 h"', 'duration = "-10 h"', "conditions.duration"),
    (
        '[boundary.right]\ntype = "closed"',
        '[boundary.right]\ntype = "fixed-composition"\ncomposition = { Q = 0.5 }',
        "Q",
    ),
    ('phase = "FCC_A1"', 'phase = "BCC_A2"', "BCC_A2"),
    ("temperature = 1000", "temperature = 100", "outside the range"),
]


@pytest.mark.parametrize("old,new,word", BAD, ids=[b[2] for b in BAD])
def test_bad_case_one_line_exit_2_no_result(tmp_path, capsys, old, new, word):
    case = _case(tmp_path, old, new)
    out = tmp_path / "r.h5"
    code = main(["run", str(case), "-o", str(out), "--quiet"])
    one_error_line(code, capsys.readouterr().err, word)
    assert not out.exists() or read_result(out).status != "completed"


def test_unknown_set_key(tmp_path, capsys):
    code = main(["run", str(IDEAL), "-o", str(tmp_path / "r.h5"), "--set", "grid.colour=3", "--quiet"])
    assert code == 2
    assert "grid.colour" in capsys.readouterr().err


def test_plot_of_a_file_that_is_not_a_result(tmp_path, capsys):
    p = tmp_path / "x.h5"
    p.write_text("not hdf5")
    assert main(["plot", str(p)]) == 2
    assert "x.h5" in capsys.readouterr().err


def test_failed_run_leaves_a_readable_file_saying_so(tmp_path, capsys):
    out = tmp_path / "r.h5"
    code = main(["run", str(IDEAL), "-o", str(out), "--set", "solver.max_steps=5", "--quiet"])
    e = capsys.readouterr().err
    assert code == 1
    assert "max_steps" in e and "Traceback" not in e
    r = read_result(out)
    assert r.status == "failed" and "max_steps" in r.attrs["stop_reason"]
    assert len(r.time) >= 1 and (r.x[-1] > 0).all()
