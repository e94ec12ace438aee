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
from conftest import CASES_DB, TESTS_DB, one_error_line

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


MALFORMED = (
    "ELEMENT NI FCC_A1 58.69 0 0 !\nPHASE FCC_A1 % 2 1 1 !\n"
    "CONSTITUENT FCC_A1 :NI:VA !!!\nPARAMETER G(FCC_A1 298.15 +1; 6000 N !\n"
)

BAD = [
    # argv tail, words the message must contain
    (
        ["thermo", "nope.tdb", "--phase", "FCC_A1", "--components", "NI,CR", "--T", "1000", "--x", "CR=0.1"],
        ["not found", "nope.tdb"],
    ),
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
    (
        [
            "thermo",
            str(TESTS_DB / "fe-cr-ni.tdb"),
            "--phase",
            "SIGMA",
            "--components",
            "CR,NI",
            "--T",
            "1000",
            "--x",
            "NI=0.1",
        ],
        ["SIGMA", "cannot be represented"],
    ),
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
    code, out, err = run(
        capsys,
        [
            "thermo",
            str(CASES_DB / "fe-mn-si-c.tdb"),
            "--phase",
            "GRAPHITE_A9",
            "--components",
            "C,FE",
            "--T",
            "1000",
            "--x",
            "FE=0.1",
        ],
    )
    assert code == 2
    assert "cannot hold component FE" in err and "Traceback" not in err


def test_malformed_and_unreadable_tdb(tmp_path, capsys):
    bad = tmp_path / "bad.tdb"
    bad.write_text(MALFORMED)
    code, out, err = run(
        capsys, ["thermo", str(bad), "--phase", "FCC_A1", "--components", "NI,CR", "--T", "1000", "--x", "CR=0.1"]
    )
    assert code == 2 and "bad.tdb" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    d = tmp_path / "dir.tdb"
    d.mkdir()
    code, out, err = run(
        capsys, ["thermo", str(d), "--phase", "FCC_A1", "--components", "NI,CR", "--T", "1000", "--x", "CR=0.1"]
    )
    assert code == 2 and "dir.tdb" in err


def test_point_that_does_not_converge(tmp_path, capsys):
    """A Gibbs energy that overflows to infinity at the requested T: the kernel reports
    a status code, the command names the phase, composition and temperature."""
    db = tmp_path / "inf.tdb"
    db.write_text(
        (TESTS_DB / "regular-ab.tdb")
        .read_text()
        .replace(
            "PARAMETER G(LIQUID,A,B;1) 298.15 +3000; 3000 N !",
            "PARAMETER G(LIQUID,A,B;1) 298.15 +1E300*EXP(T); 3000 N !",
        )
    )
    code, out, err = run(
        capsys, ["thermo", str(db), "--phase", "LIQUID", "--components", "A,B", "--T", "1000", "--x", "B=0.3"]
    )
    assert code == 2
    assert "LIQUID" in err and "B=0.3" in err and "T=1000" in err and "Traceback" not in err


def test_console_script_in_a_new_process():
    """The installed entry point; a second process loads kernels from numba's disk cache."""
    p = subprocess.run(
        [sys.executable, "-m", "kinsim.cli"] + BASE + ["--x", "CR=0.21,AL=0.058", "--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["components"] == ["NI", "CR", "AL"]


# ------------------------------------------------------------------ --batch inputs: CSV, .npy, .npz
def batch(capsys, path, out):
    code = main(BASE + ["--batch", str(path), "-o", str(out)])
    o, e = capsys.readouterr()
    return code, o, e


def test_batch_csv_npy_npz_give_the_same_file(tmp_path, capsys):
    rng = np.random.default_rng(3)
    X = np.column_stack([rng.uniform(0.05, 0.35, 700), rng.uniform(0.03, 0.07, 700)])
    csv = tmp_path / "x.csv"
    lines = [f"{float(al)!r}, {float(cr)!r}" for cr, al in X]  # AL first, a space after the comma
    csv.write_text("\ufeffal,Cr\r\n\r\n" + "\r\n".join(lines[:300]) + "\r\n   \r\n" + "\r\n".join(lines[300:]) + "\r\n")
    np.save(tmp_path / "x.npy", X)
    np.savez(tmp_path / "cols.npz", Al=X[:, 1], CR=X[:, 0], other=np.zeros(3))
    np.savez(tmp_path / "table.npz", X=X)
    results = []
    for name in ("x.csv", "x.npy", "cols.npz", "table.npz"):
        code, out, err = batch(capsys, tmp_path / name, tmp_path / f"{name}.out.npz")
        assert code == 0, err
        assert "700 rows" in out and "rows/s" in out and "read" in out and "write" in out
        results.append(np.load(tmp_path / f"{name}.out.npz"))
    ref = load_phase(NICRAL, "FCC_A1", ["NI", "CR", "AL"]).equilibrium(X, 1473.15)
    for d in results:
        np.testing.assert_array_equal(d["X"], ref.X)  # every number read exactly
        for key in ("MU", "dmu_dx", "partial_dmu_dx", "GM", "site_fractions", "status"):
            np.testing.assert_array_equal(d[key], getattr(ref, key), err_msg=key)
        assert list(d["components"]) == ["NI", "CR", "AL"] and len(d["site_names"]) == 3


def test_csv_numbers_are_read_as_float_reads_them(tmp_path, monkeypatch):
    from kinsim import compositions
    from kinsim.compositions import read_compositions

    by_line = compositions._parse_by_line
    calls = []
    monkeypatch.setattr(compositions, "_parse_by_line", lambda *a: calls.append(a) or by_line(*a))

    rng = np.random.default_rng(4)
    values = np.column_stack([rng.uniform(0.0, 0.5, 3000), 10 ** rng.uniform(-12, -0.4, 3000)])
    for fmt in ("%.17g", "%.18e", "%.6f", "%.25g", "%.3e"):
        lines = [f"{fmt % a},{fmt % b}" for a, b in values]
        lines = [ln for ln in lines if all(float(v) > 0 for v in ln.split(","))]  # %.6f rounds 1e-9 to 0
        path = tmp_path / "v.csv"
        path.write_text("CR,AL\n" + "\n".join(lines) + "\n")
        expect = np.array([[float(v) for v in ln.split(",")] for ln in lines])
        np.testing.assert_array_equal(read_compositions(path, ["CR", "AL"]), expect, err_msg=fmt)
    assert not calls  # the vectorised reader took every clean file
    # what it does not take (here a digit separator) is read line by line, the same way
    path.write_text('CR,AL\n"0.25",0.0_5\n0.1,"0.02"\n')
    np.testing.assert_array_equal(read_compositions(path, ["CR", "AL"]), [[0.25, 0.05], [0.1, 0.02]])
    assert len(calls) == 1


def _write(path, content):
    if isinstance(content, str):
        path.write_text(content)
    elif isinstance(content, dict):
        np.savez(path, **content)
    else:
        np.save(path, content)
    return path


BATCH_BAD = [
    # (file name, content, words the error line must hold)
    ("x.csv", None, ["not found", "x.csv"]),
    ("x.csv", "CR,FE\n0.1,0.05\n", ["header", "CR, AL", "FE"]),
    ("x.csv", "CR,AL\n", ["needs a header and at least one row"]),
    ("x.csv", "CR,AL\n0.1,0.05\n0.2,0.05\nabc,0.05\n", ["x.csv line 4", "'abc'", "not a number"]),
    ("x.csv", "CR,AL\n0.1,0.05\n0.2,0.05,0.1\n", ["x.csv line 3", "3 values, expected 2"]),
    ("x.csv", "CR,AL\n0.1,0.05\n0.2\n0.2,0.05\n", ["x.csv line 3", "1 values, expected 2"]),
    ("x.csv", "CR,AL\n0.1,0.05\n0.2,\n", ["x.csv line 3", "''", "not a number"]),
    ("x.csv", "AL,CR\n\n0.05,0.1\n\n0.05,0.2\n1.2,0.1\n", ["x.csv line 6", "AL = 1.2", "outside (0, 1)"]),
    ("x.csv", "CR,AL\n0.1,0.05\n\n\n0.6,0.5\n", ["x.csv line 5", "sum to 1.1"]),
    ("x.csv", "CR,AL\n0.1,nan\n", ["x.csv line 2", "AL = nan"]),
    ("x.npy", np.full((4, 3), 0.1), ["x.npy", "shape (4, 3)", "(N, 2)"]),
    ("x.npy", np.full(4, 0.1), ["shape (4,)"]),
    ("x.npy", np.zeros((0, 2)), ["shape (0, 2)"]),
    ("x.npy", np.array([["a", "b"]]), ["not numbers"]),
    ("x.npy", "not a numpy file", ["cannot read", "x.npy"]),
    ("x.npy", np.array([[0.1, 0.05], [0.2, 0.05], [np.nan, 0.1]]), ["x.npy row 2", "CR = nan"]),
    ("x.npz", {"CR": np.full(3, 0.1)}, ["neither an array X nor arrays named AL", "CR"]),
    ("x.npz", {"CR": np.full(3, 0.1), "AL": np.full(2, 0.05)}, ["equally long", "AL (2,)"]),
    ("x.npz", {"X": np.array([[0.1, 0.05], [0.2, 0.05], [1.5, 0.05]])}, ["x.npz row 2", "CR = 1.5"]),
    ("x.npz", {"X": np.full((2, 2, 2), 0.1)}, ["the array X", "shape (2, 2, 2)"]),
]


@pytest.mark.parametrize("name,content,words", BATCH_BAD, ids=[f"{i}-{b[0]}" for i, b in enumerate(BATCH_BAD)])
def test_batch_bad_input_one_line(tmp_path, capsys, name, content, words):
    path = tmp_path / name if content is None else _write(tmp_path / name, content)
    code, out, err = batch(capsys, path, tmp_path / "out.npz")
    one_error_line(code, err, *words)
    assert not (tmp_path / "out.npz").exists()
