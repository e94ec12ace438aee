"""The case stored in result files (kinsim.case.from_toml, kinsim.storage.Result.case) and
the one builder of the initial profile (InitialSpec.profile)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import REPO, one_error_line
from scipy.special import erfc, erfcinv

from kinsim.analysis import analyze, weld_position
from kinsim.case import BoundaryStage, InitialSpec, from_toml, load_case
from kinsim.cli import main
from kinsim.errors import CaseError, ResultFileError
from kinsim.storage import ResultWriter, read_result
from kinsim.sweep import penetration_depths

CASES = sorted((REPO / "cases").glob("*.toml"))
IDEAL = REPO / "cases" / "ideal-binary-erf.toml"
D0 = 1e-14  # m^2/s, the diffusivity of cases/databases/ideal-ab.tdb


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_from_toml_gives_back_the_case(path, tmp_path):
    case = load_case(path)
    stored = from_toml(case.to_toml(), tmp_path / "run.h5")
    assert stored == case
    assert stored.path == tmp_path / "run.h5"


def test_a_stored_case_needs_no_database(tmp_path):
    """A result file says which database its run used; reading it elsewhere must not
    depend on that file (a case file still must name an existing one: test_case)."""
    text = load_case(IDEAL).to_toml().replace(str(REPO / "cases" / "databases"), "/nowhere")
    stored = from_toml(text, tmp_path / "run.h5")
    assert str(stored.thermo.database) == "/nowhere/ideal-ab.tdb"


def test_from_toml_errors_name_the_source():
    text = load_case(IDEAL).to_toml()
    with pytest.raises(CaseError, match=r"the case stored in out/run\.h5: grid\.nodes = 2"):
        from_toml(text.replace("nodes = 200", "nodes = 2"), "out/run.h5")
    with pytest.raises(CaseError, match=r"the case stored in out/run\.h5: TOML syntax error"):
        from_toml(text.replace('phase = "FCC_A1"', "phase = FCC_A1"), "out/run.h5")


def _erfc_result(path, case_toml, t=3600.0):
    """A result file of the ideal couple written by hand: the step and its erfc at t."""
    case = load_case(IDEAL, ["grid.nodes=2000"])
    g = case.make_grid()
    x0 = case.initial.profile(g.z)
    xb = 0.2 + 0.2 * erfc(-(g.z - 0.5e-3) / (2 * math.sqrt(D0 * t)))
    xt = np.stack([1 - xb, xb], axis=1)
    zero = np.zeros_like(x0)
    with ResultWriter(
        path,
        components=case.components,
        z=g.z,
        faces=g.faces,
        phase="FCC_A1",
        case_toml=case_toml or case.to_toml(),
        title="hand",
        n_markers=0,
        mobility_policy="error",
        extra_attrs={"molar_volume": 1e-5},
    ) as w:
        w.append(0.0, x0, zero, np.zeros((g.faces.size, 2)), np.zeros(0))
        w.append(t, xt, zero, np.zeros((g.faces.size, 2)), np.zeros(0))
        w.set_status("completed", "test")
    return path


def test_analysis_and_metrics_read_the_stored_case(tmp_path):
    p = _erfc_result(tmp_path / "ok.h5", None)
    r = read_result(p)
    assert r.case == load_case(IDEAL, ["grid.nodes=2000"])
    assert weld_position(r) == 0.5e-3
    assert analyze(p).weld == 0.5e-3
    depth = 2 * math.sqrt(D0 * 3600.0) * erfcinv(0.02)
    assert penetration_depths(r)["B"] == pytest.approx(depth, rel=1e-3)


def test_a_broken_stored_case_is_one_error_line(tmp_path, capsys):
    text = load_case(IDEAL, ["grid.nodes=2000"]).to_toml().replace("nodes = 2000", "nodes = 2")
    p = _erfc_result(tmp_path / "broken.h5", text)
    with pytest.raises(ResultFileError, match="broken.h5.*grid.nodes"):
        _ = read_result(p).case
    for argv in (["analyze", str(p)], ["plot", str(p), "-o", str(tmp_path / "f.png")]):
        code = main(argv)
        one_error_line(code, capsys.readouterr().err, "broken.h5", "grid.nodes")
    assert not (tmp_path / "f.png").exists()


def test_profile_columns_follow_the_components_not_the_dict_order():
    ini = InitialSpec(
        "step", position=0.5, left={"B": 0.2, "A": 0.8}, right={"B": 0.6, "A": 0.4}, components=("A", "B")
    )
    np.testing.assert_array_equal(ini.profile([0.25, 0.75]), [[0.8, 0.2], [0.4, 0.6]])
    uniform = InitialSpec("uniform", composition={"B": 0.3, "A": 0.7}, components=("A", "B"))
    np.testing.assert_array_equal(uniform.profile([0.1]), [[0.7, 0.3]])
    with pytest.raises(CaseError, match="initial.left: no mole fraction for C"):
        InitialSpec(
            "step", position=0.5, left={"A": 0.8, "B": 0.2}, right={"A": 0.4, "B": 0.6}, components=("A", "B", "C")
        ).profile([0.1])


def test_a_table_profile_is_renormalised_row_by_row():
    ini = InitialSpec("table", z=(0.0, 1.0), x=((0.5, 0.6), (0.3, 0.3)), components=("A", "B"))
    x = ini.profile([0.0, 0.5, 1.0])
    np.testing.assert_allclose(x, [[0.5 / 1.1, 0.6 / 1.1], [0.4 / 0.85, 0.45 / 0.85], [0.5, 0.5]], rtol=1e-15)
    assert np.all(np.abs(x.sum(axis=1) - 1.0) <= 2 * np.finfo(float).eps)
    # exactly the interpolation per component divided by its row sum
    raw = np.column_stack(
        [np.interp([0.0, 0.5, 1.0], [0.0, 1.0], [0.5, 0.3]), np.interp([0.0, 0.5, 1.0], [0.0, 1.0], [0.6, 0.3])]
    )
    np.testing.assert_array_equal(x, raw / raw.sum(axis=1, keepdims=True))


def test_the_compositions_a_stage_fixes():
    st = BoundaryStage("fixed-composition", {"B": ((0.0, 0.2), (3600.0, 0.4)), "C": ((0.0, 0.1),)}, dependent="A")
    got = st.fixed_compositions()
    assert [list(x) for x in got] == [["A", "B", "C"]] * 2
    assert got[0] == pytest.approx({"A": 0.7, "B": 0.2, "C": 0.1})
    assert got[1] == pytest.approx({"A": 0.5, "B": 0.4, "C": 0.1})
    assert BoundaryStage("fixed-flux", {"B": ((0.0, 1e-9),)}).fixed_compositions() == []
