"""`kinsim thermo`: output for people and machines, batch mode, and bad input.

Every bad input must end in exit status 2 and one line on stderr naming the problem,
never a traceback.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from conftest import CASES_DB, TESTS_DB
from kinsim.cli import main
from kinsim.phase import load_phase

NICRAL = str(CASES_DB / "ni-cr-al.tdb")
BASE = ["thermo", NICRAL, "--phase", "FCC_A1", "--components", "NI,CR,AL", "--T", "1473.15"]


def run(capsys, argv):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_json_output(capsys):
    code, out, err = run(capsys, BASE + ["--x", "CR=0.21,AL=0.058", "--json"])
    assert code == 0, err
    d = json.loads(out)
    assert d["components"] == ["NI", "CR", "AL"]
    assert d["T"] == 1473.15
    for key in ("site_fractions", "GM", "MU", "partial_dmu_dx", "dmu_dx"):
        assert key in d
    assert len(d["MU"]) == 3
    assert np.shape(d["partial_dmu_dx"]) == (3, 3)
    assert np.shape(d["dmu_dx"]) == (2, 2)
    assert d["site_fractions"][0] == pytest.approx({"AL": 0.058, "CR": 0.21, "NI": 0.732})
    assert d["site_fractions"][1] == {"VA": 1.0}
    # consistent with the library call
    res = load_phase(NICRAL, "FCC_A1", ["NI", "CR", "AL"]).equilibrium([[0.21, 0.058]], 1473.15)
    np.testing.assert_allclose(d["MU"], res.MU[0], rtol=1e-14)
    np.testing.assert_allclose(d["dmu_dx"], res.dmu_dx[0], rtol=1e-14)
    # dmu_dx rows/cols over components[1:]: d(mu_i - mu_ref)/dx_j, x_ref dependent
    P = np.array(d["partial_dmu_dx"])
    assert d["dmu_dx"][0][1] == pytest.approx(P[1, 2] - P[1, 0] - P[0, 2] + P[0, 0], rel=1e-12)


def test_text_output(capsys):
    code, out, err = run(capsys, BASE + ["--x", "AL=0.058,CR=0.21"])
    assert code == 0, err
    assert "GM =" in out and "dmu_dx" in out and "NI" in out
    assert "-207658.7683" in out  # mu_AL


def test_batch(tmp_path, capsys):
    rng = np.random.default_rng(1)
    X = np.column_stack([rng.uniform(0.05, 0.35, 200), rng.uniform(0.03, 0.07, 200)])
    csv = tmp_path / "x.csv"
    # columns in another order than --components: matched by name
    np.savetxt(csv, X[:, ::-1], delimiter=",", header="AL,CR", comments="")
    out_npz = tmp_path / "out.npz"
    code, out, err = run(capsys, BASE + ["--batch", str(csv), "-o", str(out_npz)])
    assert code == 0, err
    assert "rows/s" in out
    d = np.load(out_npz)
    assert d["MU"].shape == (200, 3) and d["dmu_dx"].shape == (200, 2, 2)
    assert d["partial_dmu_dx"].shape == (200, 3, 3) and d["site_fractions"].shape == (200, 3)
    assert (d["status"] == 0).all()
    res = load_phase(NICRAL, "FCC_A1", ["NI", "CR", "AL"]).equilibrium(X, 1473.15)
    np.testing.assert_allclose(d["MU"], res.MU, rtol=1e-13)
    np.testing.assert_allclose(d["dmu_dx"], res.dmu_dx, rtol=1e-12)


MALFORMED = "ELEMENT NI FCC_A1 58.69 0 0 !\nPHASE FCC_A1 % 2 1 1 !\nCONSTITUENT FCC_A1 :NI:VA !!!\nPARAMETER G(FCC_A1 298.15 +1; 6000 N !\n"

BAD = [
    # argv tail, words the message must contain
    (["thermo", "nope.tdb", "--phase", "FCC_A1", "--components", "NI,CR", "--T", "1000", "--x", "CR=0.1"],
     ["not found", "nope.tdb"]),
    (BASE[:3] + ["FCC_XX"] + BASE[4:] + ["--x", "CR=0.21,AL=0.058"], ["FCC_XX", "not in"]),
    (BASE[:5] + ["NI,CR,ZR"] + BASE[6:] + ["--x", "CR=0.21,ZR=0.058"], ["ZR", "not an element"]),
    (BASE + ["--x", "CR=0.21,AL=1.2"], ["AL", "outside (0, 1)"]),
    (BASE + ["--x", "CR=0.61,AL=0.5"], ["sum"]),
    (BASE + ["--x", "CR=0.21,AL=-0.1"], ["AL", "outside"]),
    (BASE + ["--x", "CR=0.21"], ["AL"]),
    (BASE + ["--x", "CR=0.21,AL=abc"], ["abc", "not a number"]),
    (BASE + ["--x", "CR=0.21,AL=0.05,FE=0.1"], ["FE"]),
    (BASE[:7] + ["150"] + ["--x", "CR=0.21,AL=0.058"], ["150", "outside the range"]),
    (BASE[:7] + ["20000"] + ["--x", "CR=0.21,AL=0.058"], ["20000", "outside the range"]),
    (BASE, ["--x"]),
    (["thermo", str(TESTS_DB / "fe-cr-ni.tdb"), "--phase", "SIGMA", "--components", "CR,NI", "--T", "1000",
      "--x", "NI=0.1"], ["SIGMA", "cannot be represented"]),
]


@pytest.mark.parametrize("argv,words", BAD, ids=[str(i) for i in range(len(BAD))])
def test_bad_input_one_clear_line(capsys, argv, words):
    code, out, err = run(capsys, argv)
    assert code == 2
    lines = [ln for ln in err.strip().splitlines() if ln]
    assert len(lines) == 1, err
    assert lines[0].startswith("kinsim: error:")
    for w in words:
        assert w in lines[0], (w, lines[0])
    assert "Traceback" not in err


def test_component_the_phase_cannot_hold(tmp_path, capsys):
    code, out, err = run(capsys, ["thermo", str(CASES_DB / "fe-mn-si-c.tdb"), "--phase", "GRAPHITE_A9",
                                  "--components", "C,FE", "--T", "1000", "--x", "FE=0.1"])
    assert code == 2
    assert "cannot hold component FE" in err and "Traceback" not in err


def test_malformed_and_unreadable_tdb(tmp_path, capsys):
    bad = tmp_path / "bad.tdb"
    bad.write_text(MALFORMED)
    code, out, err = run(capsys, ["thermo", str(bad), "--phase", "FCC_A1", "--components", "NI,CR",
                                  "--T", "1000", "--x", "CR=0.1"])
    assert code == 2 and "bad.tdb" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    d = tmp_path / "dir.tdb"
    d.mkdir()
    code, out, err = run(capsys, ["thermo", str(d), "--phase", "FCC_A1", "--components", "NI,CR",
                                  "--T", "1000", "--x", "CR=0.1"])
    assert code == 2 and "dir.tdb" in err


def test_point_that_does_not_converge(tmp_path, capsys):
    """A Gibbs energy that overflows to infinity at the requested T: the kernel reports
    a status code, the command names the phase, composition and temperature."""
    db = tmp_path / "inf.tdb"
    db.write_text((TESTS_DB / "regular-ab.tdb").read_text().replace(
        "PARAMETER G(LIQUID,A,B;1) 298.15 +3000; 3000 N !",
        "PARAMETER G(LIQUID,A,B;1) 298.15 +1E300*EXP(T); 3000 N !"))
    code, out, err = run(capsys, ["thermo", str(db), "--phase", "LIQUID", "--components", "A,B",
                                  "--T", "1000", "--x", "B=0.3"])
    assert code == 2
    assert "LIQUID" in err and "B=0.3" in err and "T=1000" in err and "Traceback" not in err


def test_console_script_in_a_new_process():
    """The installed entry point; a second process loads kernels from numba's disk cache."""
    p = subprocess.run([sys.executable, "-m", "kinsim.cli"] + BASE + ["--x", "CR=0.21,AL=0.058", "--json"],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["components"] == ["NI", "CR", "AL"]
