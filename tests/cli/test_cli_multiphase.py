"""`kinsim thermo --phases`: JSON and text output, --batch, and bad input (one line on
stderr naming the value, exit status 2)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import CASES_DB, TESTS_DB, one_error_line

from kinsim.cli import main
from kinsim.phaseset import load_phases

FECRNI = str(TESTS_DB / "fe-cr-ni.tdb")
BASE = ["thermo", FECRNI, "--phases", "FCC_A1,BCC_A2", "--components", "FE,CR,NI", "--T", "1373.15"]


def run(capsys, argv):
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own errors (one line, exit 2, see cli._Parser)
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def test_json_output_of_a_two_phase_point(capsys):
    code, out, err = run(capsys, BASE + ["--x", "CR=0.33,NI=0.12", "--json"])
    assert code == 0, err
    d = json.loads(out)
    assert d["components"] == ["FE", "CR", "NI"] and d["T"] == 1373.15 and d["status"] == 0
    assert [p["name"] for p in d["phases"]] == ["FCC_A1", "BCC_A2"]
    assert d["driving_forces"] == {}
    assert np.shape(d["dmu_dx"]) == (2, 2)
    for p in d["phases"]:
        assert set(p) == {"name", "fraction", "x", "site_fractions"}
        assert set(p["x"]) == {"FE", "CR", "NI"} and p["site_fractions"][1] == {"VA": 1.0}
    x = sum(p["fraction"] * np.array([p["x"][c] for c in d["components"]]) for p in d["phases"])
    np.testing.assert_allclose(x, [0.55, 0.33, 0.12], atol=1e-12)
    res = load_phases(FECRNI, ["FCC_A1", "BCC_A2"], ["FE", "CR", "NI"]).equilibrium([[0.33, 0.12]], 1373.15)
    np.testing.assert_allclose(d["MU"], res.MU[0], rtol=1e-14)
    np.testing.assert_allclose(d["dmu_dx"], res.dmu_dx[0], rtol=1e-14)


def test_json_driving_force_of_the_absent_phase(capsys):
    code, out, err = run(capsys, BASE + ["--x", "CR=0.1,NI=0.1", "--json"])
    assert code == 0, err
    d = json.loads(out)
    assert [p["name"] for p in d["phases"]] == ["FCC_A1"] and d["phases"][0]["fraction"] == pytest.approx(1.0)
    assert set(d["driving_forces"]) == {"BCC_A2"} and d["driving_forces"]["BCC_A2"] < 0


def test_text_output(capsys):
    code, out, err = run(capsys, BASE + ["--x", "NI=0.1,CR=0.1"])
    assert code == 0, err
    assert "FCC_A1: fraction 1" in out and "BCC_A2: absent, driving force -" in out and "dmu_dx" in out


def test_composition_sets_are_named(capsys):
    code, out, err = run(
        capsys,
        [
            "thermo",
            str(TESTS_DB / "miscibility-ab.tdb"),
            "--phases",
            "ALPHA",
            "--components",
            "A,B",
            "--T",
            "1000",
            "--x",
            "B=0.4",
            "--json",
        ],
    )
    assert code == 0, err
    assert [p["name"] for p in json.loads(out)["phases"]] == ["ALPHA", "ALPHA#2"]


def test_batch(tmp_path, capsys):
    rng = np.random.default_rng(3)
    X = np.column_stack([rng.uniform(0.05, 0.5, 30), rng.uniform(0.02, 0.25, 30)])
    csv = tmp_path / "x.csv"
    csv.write_text("NI,CR\n" + "\n".join(f"{b},{a}" for a, b in X))
    out_npz = tmp_path / "out.npz"
    code, out, err = run(capsys, BASE + ["--batch", str(csv), "-o", str(out_npz)])
    assert code == 0, err
    assert "rows/s" in out and "30 converged" in out
    d = np.load(out_npz)
    for key in ("MU", "dmu_dx", "status", "phase_names", "fractions", "compositions", "driving_forces"):
        assert key in d.files
    assert (d["status"] == 0).all()
    res = load_phases(FECRNI, ["FCC_A1", "BCC_A2"], ["FE", "CR", "NI"]).equilibrium(X, 1373.15)
    np.testing.assert_allclose(d["MU"], res.MU, rtol=1e-12)
    assert (d["phase_names"] == res.set_names).all()
    np.testing.assert_allclose(np.nansum(d["fractions"], axis=1), 1.0, atol=1e-12)
    assert {int((n != "").sum()) for n in d["phase_names"]} == {1, 2}


BAD = [
    (BASE[:3] + ["FCC_A1,NOSUCH"] + BASE[4:] + ["--x", "CR=0.3,NI=0.1"], ["NOSUCH"]),
    (
        [
            "thermo",
            str(CASES_DB / "fe-mn-si-c.tdb"),
            "--phases",
            "FCC_A1,GRAPHITE_A9",
            "--components",
            "FE,SI",
            "--T",
            "1200",
            "--x",
            "SI=0.05",
        ],
        ["GRAPHITE_A9", "holds none of the components FE, SI"],
    ),
    (BASE + ["--x", "CR=0.7,NI=0.4"], ["sum to 1.1"]),
    (BASE + ["--x", "CR=-0.1,NI=0.1"], ["CR", "-0.1"]),
    (BASE[:-1] + ["100", "--x", "CR=0.3,NI=0.1"], ["100", "273"]),
    (BASE + ["--phase", "FCC_A1", "--x", "CR=0.3,NI=0.1"], ["--phase", "--phases"]),
    (["thermo", FECRNI, "--components", "FE,CR,NI", "--T", "1373", "--x", "CR=0.3,NI=0.1"], ["--phase", "--phases"]),
    (BASE[:3] + [" , "] + BASE[4:] + ["--x", "CR=0.3,NI=0.1"], ["--phases"]),
    (BASE + ["--batch", "nonexistent.csv", "-o", "o.npz"], ["nonexistent.csv"]),
]


@pytest.mark.parametrize("argv,words", BAD, ids=[str(i) for i in range(len(BAD))])
def test_bad_input_one_clear_line(capsys, argv, words):
    code, out, err = run(capsys, argv)
    one_error_line(code, err, *words)


def test_single_phase_output_unchanged(capsys):
    """--phase keeps today's output (the single-phase keys)."""
    code, out, err = run(
        capsys,
        [
            "thermo",
            FECRNI,
            "--phase",
            "FCC_A1",
            "--components",
            "FE,CR,NI",
            "--T",
            "1373.15",
            "--x",
            "CR=0.1,NI=0.1",
            "--json",
        ],
    )
    assert code == 0, err
    assert set(json.loads(out)) == {
        "database",
        "phase",
        "components",
        "T",
        "X",
        "site_fractions",
        "GM",
        "MU",
        "partial_dmu_dx",
        "dmu_dx",
        "status",
    }
