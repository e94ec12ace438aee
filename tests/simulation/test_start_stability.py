"""The stability check at the start of a run: an FCC_A1-only Fe-Cr-Ni couple whose
Cr-rich side lies where BCC_A2 is stable (pycalphad's equilibrium says so, and its Gibbs
energies give the driving force) is warned about; a couple inside the FCC_A1 field is
not; thermo.candidates limits the check and [] turns it off; the result attribute
round-trips; the command prints one warning line per phase.  Runs of several phases (the
homogenization model) are checked against the phases outside their local equilibrium,
at its potentials (pycalphad's equilibrium of the same phases gives them); the report is
read back from the disk cache."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from conftest import CASES_DB, pycalphad_point

from kinsim import run
from kinsim.cli import main
from kinsim.errors import CaseError, ConvergenceError, StabilityWarning
from kinsim.simulation.start_stability import StartStability
from kinsim.storage import read_result

DB = CASES_DB / "fe-cr-ni.tdb"
REPO_CASES = CASES_DB.parent
T = 1373.15
COMPS = ["FE", "CR", "NI"]
FCC_SIDE = {"CR": 0.10, "NI": 0.10}
BCC_SIDE = {"CR": 0.50, "NI": 0.05}  # Fe-50Cr-5Ni: BCC_A2 is stable at 1373.15 K


def _case(right, candidates=None):
    thermo = {"database": str(DB), "phase": "FCC_A1", "components": COMPS}
    if candidates is not None:
        thermo["candidates"] = candidates
    return {
        "title": "Fe-Cr-Ni FCC couple",
        "thermo": thermo,
        "conditions": {"temperature": T, "duration": "10 min"},
        "grid": {"length": "1 mm", "nodes": 16},
        "initial": {"type": "step", "position": "0.5 mm", "left": FCC_SIDE, "right": right},
        "output": {"file": "out.h5", "snapshots": 1},
    }


def _toml(tmp_path, right, candidates=None):
    import tomli_w

    p = tmp_path / "case.toml"
    p.write_text(tomli_w.dumps(_case(right, candidates)))
    return p


def _pycalphad_bcc_driving_force(x, phases="FCC_A1"):
    """max over x' of mu . x' - GM_BCC(x') with mu pycalphad's potentials at x of the
    equilibrium of ``phases`` (FCC_A1 alone by default):
    pycalphad's Gibbs energies of BCC_A2 (CR,FE,NI)1(VA)3 on grids refined around the
    maximum (J/mol of atoms)."""
    from pycalphad import Database, calculate

    db = Database(str(DB))
    _, mu, _ = pycalphad_point(DB, COMPS, phases, T, [x["CR"], x["NI"]])
    mu_by = dict(zip(COMPS, mu))
    center, half = np.array([0.5, 0.1]), 0.45  # (x_CR, x_NI)
    for _ in range(6):
        g = np.linspace(-half, half, 41)
        cr, ni = np.meshgrid(center[0] + g, center[1] + g, indexing="ij")
        cr, ni = cr.ravel(), ni.ravel()
        keep = (cr > 1e-6) & (ni > 1e-6) & (cr + ni < 1 - 1e-6)
        cr, ni = cr[keep], ni[keep]
        pts = np.column_stack([cr, 1.0 - cr - ni, ni, np.ones_like(cr)])  # CR, FE, NI : VA
        res = calculate(db, COMPS + ["VA"], "BCC_A2", T=T, P=101325, N=1, points=pts)
        gm = np.asarray(res.GM.values).reshape(-1)
        df = mu_by["CR"] * cr + mu_by["FE"] * (1 - cr - ni) + mu_by["NI"] * ni - gm
        i = int(np.argmax(df))
        center, half = np.array([cr[i], ni[i]]), half / 8
    return float(df[i])


def test_fcc_couple_with_a_bcc_side_warns_naming_bcc(tmp_path):
    with pytest.warns(StabilityWarning, match="BCC_A2 has a driving force of") as rec:
        r = run(_case(BCC_SIDE, ["BCC_A2"]), output=tmp_path / "r.h5")
    assert r.status == "completed"  # a warning: the run goes on
    msgs = [str(w.message) for w in rec if issubclass(w.category, StabilityWarning)]
    # the start, then the end (after 10 min the Cr-rich side is still where BCC_A2 is stable)
    assert len(msgs) == 2 and "CR=0.5" in msgs[0] and "FCC_A1 is not the stable phase at the start" in msgs[0]
    assert "FCC_A1 is not the stable phase at the end of the run: BCC_A2" in msgs[1]
    assert [u.phase for u in r.stability_end.unstable] == ["BCC_A2"]
    s = r.stability
    assert s.checked == ["FCC_A1#2", "BCC_A2"] and s.not_checked == {}
    (u,) = s.unstable
    assert u.phase == "BCC_A2" and u.where == "the initial profile"
    assert u.composition["CR"] == pytest.approx(0.5) and u.composition["NI"] == pytest.approx(0.05)
    assert u.z[0] > 0.5e-3 and u.z[1] < 1e-3  # the right half
    # pycalphad's potentials of FCC_A1 and Gibbs energies of BCC_A2
    assert u.driving_force == pytest.approx(_pycalphad_bcc_driving_force(BCC_SIDE), rel=1e-5, abs=1e-3)
    assert u.driving_force > 100.0


def test_bcc_is_in_pycalphads_stable_set_on_the_cr_rich_side():
    from pycalphad import Database, equilibrium
    from pycalphad import variables as v

    eq = equilibrium(
        Database(str(DB)),
        COMPS + ["VA"],
        ["FCC_A1", "BCC_A2"],
        {v.T: T, v.P: 101325, v.N: 1, v.X("CR"): 0.5, v.X("NI"): 0.05},
    )
    assert "BCC_A2" in {str(p) for p in np.asarray(eq.Phase.values).ravel()}


def test_stable_couple_does_not_warn_and_lists_what_it_checked():
    with warnings.catch_warnings():
        warnings.simplefilter("error", StabilityWarning)
        r = run(_case({"CR": 0.15, "NI": 0.12}))
    s = r.stability
    assert s.unstable == [] and s.checked == ["FCC_A1#2", "BCC_A2", "SIGMA"] and s.not_checked == {}


def test_candidates_limit_the_check_and_empty_turns_it_off():
    with warnings.catch_warnings():
        warnings.simplefilter("error", StabilityWarning)
        r = run(_case(BCC_SIDE, []))
    assert r.stability is None and r.attrs["stability"] == "null"
    with pytest.warns(StabilityWarning) as rec:
        r = run(_case(BCC_SIDE, ["bcc_a2"]))
    assert r.stability.checked == ["FCC_A1#2", "BCC_A2"]
    assert [u.phase for u in r.stability.unstable] == ["BCC_A2"] and len(rec) == 2  # the start and the end


def test_unknown_candidate_is_a_case_error():
    with pytest.raises(CaseError, match="thermo.candidates: LIQUID not in fe-cr-ni.tdb"):
        run(_case(BCC_SIDE, ["BCC_A2", "LIQUID"]))
    with pytest.raises(CaseError, match="thermo.candidates must be an array of phase names"):
        run(_case(BCC_SIDE, "BCC_A2"))


def test_stored_attribute_round_trips(tmp_path):
    with pytest.warns(StabilityWarning):
        mem = run(_case(BCC_SIDE, ["BCC_A2"]))
    with pytest.warns(StabilityWarning):
        f = run(_case(BCC_SIDE, ["BCC_A2"]), output=tmp_path / "r.h5")
    assert read_result(tmp_path / "r.h5").stability == mem.stability == f.stability
    assert StartStability.from_json(mem.stability.to_json()) == mem.stability
    assert f.case.thermo.candidates == ("BCC_A2",)


def test_cli_prints_one_warning_line_per_phase(tmp_path, capsys):
    case = _toml(tmp_path, BCC_SIDE, ["BCC_A2"])
    assert main(["run", str(case), "-o", str(tmp_path / "r.h5"), "--quiet"]) == 0
    _, err = capsys.readouterr()
    lines = [ln for ln in err.splitlines() if ln.startswith("kinsim: warning:")]
    assert len(lines) == 2 and all("BCC_A2" in ln and "J/mol" in ln for ln in lines)
    assert "at the start" in lines[0] and "at the end of the run" in lines[1]
    case = _toml(tmp_path, BCC_SIDE, ["BCC_A2", "NOPE"])
    assert main(["run", str(case), "-o", str(tmp_path / "s.h5"), "--quiet"]) == 2
    _, err = capsys.readouterr()
    assert err.count("\n") == 1 and err.startswith("kinsim: error: thermo.candidates: NOPE not in")


def test_phase_names_without_pycalphad_match_its_parser():
    """kinsim.thermo.names reads the PHASE commands only; pycalphad parses the whole file."""
    from conftest import SHARED_DB, TESTS_DB

    from kinsim.thermo.names import phase_names
    from kinsim.thermo.tdb import load_database

    files = sorted(CASES_DB.glob("*.tdb")) + sorted(TESTS_DB.glob("*.tdb")) + sorted(SHARED_DB.glob("*.tdb"))
    for f in files:
        assert phase_names(f) == sorted(p.upper() for p in load_database(f).phases), f


def _regular_gap_case(x_b, gradient):
    """A uniform A-B alloy of tests/databases/regular-gap.tdb at 1000 K (binodal 0.169144
    / 0.830856, spinodal 0.294726 / 0.705274), x_B = x_b."""
    from conftest import TESTS_DB

    case = {
        "title": "regular solution",
        "thermo": {"database": str(TESTS_DB / "regular-gap.tdb"), "phase": "ALPHA", "components": ["A", "B"]},
        "conditions": {"temperature": 1000, "duration": 1e-6},
        "grid": {"length": "60 nm", "nodes": 16},
        "initial": {"type": "uniform", "composition": {"B": x_b}},
        "output": {"snapshots": 1},
    }
    if gradient:
        case["gradient"] = {"kappa": 1e-14}
    return case


def test_a_metastable_alloy_inside_the_binodal_warns_of_the_second_composition_set():
    """x_B = 0.25: between binodal and spinodal, the sharp model runs (dmu_dx > 0) but the
    alloy is metastable: the check names ALPHA#2."""
    with pytest.warns(StabilityWarning, match="ALPHA#2"):
        r = run(_regular_gap_case(0.25, gradient=False))
    assert [u.phase for u in r.stability.unstable] == ["ALPHA#2"]


def test_gradient_energy_resolves_the_gap_of_its_own_phase_without_a_warning():
    """With gradient energy the decomposition of the phase itself is the model: no warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", StabilityWarning)
        r = run(_regular_gap_case(0.25, gradient=True))
    assert r.stability.unstable == [] and "ALPHA#2" not in r.stability.checked


def test_the_warning_points_at_the_line_that_runs_the_simulation(tmp_path):
    from kinsim import load_case
    from kinsim.simulation import Simulation

    sim = Simulation(load_case(_case(BCC_SIDE, ["BCC_A2"]), overrides=["grid.nodes=20", "output.snapshots=2"]))
    with pytest.warns(StabilityWarning) as rec:
        sim.run(output=tmp_path / "r.h5", progress=False)
    # the start and the end of the run
    assert [w.filename for w in rec if issubclass(w.category, StabilityWarning)] == [__file__] * 2


# ------------------------------------------------------------ runs of several phases


def _multiphase_case(right, phases, **homogenization):
    data = _case(right)
    del data["thermo"]["phase"]
    data["thermo"]["phases"] = phases
    data["homogenization"] = homogenization
    return data


def test_a_run_of_several_phases_warns_of_a_phase_outside_them():
    """FCC_A1 + SIGMA (SIGMA excluded from the flux): at Fe-50Cr-5Ni their equilibrium is
    SIGMA alone (pycalphad agrees), but BCC_A2 is more stable: named, with the driving
    force at the potentials of pycalphad's FCC_A1 + SIGMA equilibrium there."""
    from pycalphad import Database, equilibrium
    from pycalphad import variables as v

    from kinsim import load_case
    from kinsim.simulation import Simulation

    case = load_case(_multiphase_case(BCC_SIDE, ["FCC_A1", "SIGMA"], excluded=["SIGMA"]))
    with pytest.warns(StabilityWarning, match="BCC_A2 has a driving force of") as rec:
        s = Simulation(case).check_stability()
    (msg,) = [str(w.message) for w in rec]
    assert msg.startswith("the equilibrium of FCC_A1, SIGMA is not the stable state at the start")
    assert msg.endswith("the run goes on without BCC_A2 (not in thermo.phases)")
    assert s.multiphase and s.phase == "FCC_A1+SIGMA" and s.checked == ["BCC_A2"] and s.not_checked == {}
    (u,) = s.unstable
    assert u.phase == "BCC_A2" and u.composition["CR"] == pytest.approx(0.5) and u.z[0] > 0.5e-3
    eq = equilibrium(
        Database(str(DB)),
        COMPS + ["VA"],
        ["FCC_A1", "SIGMA"],
        {v.T: T, v.P: 101325, v.N: 1, v.X("CR"): 0.5, v.X("NI"): 0.05},
    )
    assert {str(p) for p in np.asarray(eq.Phase.values).ravel() if str(p)} == {"SIGMA"}
    oracle = _pycalphad_bcc_driving_force(BCC_SIDE, ["FCC_A1", "SIGMA"])
    assert u.driving_force == pytest.approx(oracle, rel=1e-5, abs=1e-3)
    assert u.driving_force > 100.0


def test_kawins_couple_checks_sigma_and_stores_the_report(tmp_path):
    """kawin's Fe-Cr-Ni couple with FCC_A1 + BCC_A2: SIGMA (the database's other phase)
    has a negative driving force on both sides, as pycalphad's equilibrium of all three
    phases has no SIGMA there; the report is stored and read back."""
    from pycalphad import Database, equilibrium
    from pycalphad import variables as v

    left, right = {"CR": 0.257, "NI": 0.065}, {"CR": 0.423, "NI": 0.276}
    data = _multiphase_case(right, ["FCC_A1", "BCC_A2"], averaging="hashin-shtrikman-lower")
    data["initial"]["left"] = left
    with warnings.catch_warnings():
        warnings.simplefilter("error", StabilityWarning)
        r = run(data, output=tmp_path / "r.h5")
    s = r.stability
    assert s.multiphase and s.checked == ["SIGMA"] and s.unstable == [] and s.not_checked == {}
    assert read_result(tmp_path / "r.h5").stability == s
    for x in (left, right):
        eq = equilibrium(
            Database(str(DB)),
            COMPS + ["VA"],
            ["FCC_A1", "BCC_A2", "SIGMA"],
            {v.T: T, v.P: 101325, v.N: 1, v.X("CR"): x["CR"], v.X("NI"): x["NI"]},
        )
        assert "SIGMA" not in {str(p) for p in np.asarray(eq.Phase.values).ravel()}


@pytest.mark.parametrize("T_K, ferrite", [(1073.15, True), (1223.15, False)])
def test_carbide_case_at_800C_warns_that_ferrite_forms(T_K, ferrite):
    """The shipped carbide case (austenite + three carbides) at 950 degC starts stable; at
    800 degC its Fe-5Cr-0.1C lies where pycalphad's equilibrium of all the database's
    phases holds BCC_A2: the check names BCC_A2, with the initial profile as the place."""
    from conftest import REPO
    from pycalphad import Database, equilibrium
    from pycalphad import variables as v

    from kinsim import load_case
    from kinsim.simulation import Simulation

    case = load_case(REPO / "cases" / "fe-cr-c-carbide-carburizing.toml", overrides=[f"conditions.temperature={T_K}"])
    s = Simulation(case).check_stability(warn=False)
    assert s.checked == ["BCC_A2", "GRAPHITE_A9"]
    assert [u.phase for u in s.unstable] == (["BCC_A2"] if ferrite else [])
    x = {c: float(v_) for c, v_ in zip(case.components, case.initial.profile(np.zeros(1), np.ones(1))[0])}
    if ferrite:
        assert s.unstable[0].where == "the initial profile" and s.unstable[0].composition == pytest.approx(x)
    db = Database(str(case.thermo.database))
    eq = equilibrium(
        db,
        ["FE", "CR", "C", "VA"],
        sorted(db.phases),
        {v.T: T_K, v.P: 101325, v.N: 1, v.X("CR"): x["CR"], v.X("C"): x["C"]},
    )
    assert ("BCC_A2" in {str(p) for p in np.asarray(eq.Phase.values).ravel()}) == ferrite


def test_the_report_is_read_from_the_disk_cache(tmp_path, monkeypatch):
    """A second check of the same start reads the report (the search is not run); another
    candidate list, or KINSIM_NO_CACHE, searches again."""
    import kinsim.stability
    from kinsim import load_case
    from kinsim.simulation import Simulation

    monkeypatch.setenv("KINSIM_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("KINSIM_NO_CACHE", raising=False)
    case = load_case(_case({"CR": 0.15, "NI": 0.12}))
    first = Simulation(case).check_stability()
    assert len(list(tmp_path.glob("check-*.pkl"))) == 1

    def searched(*args, **kwargs):
        raise AssertionError("searched again")

    monkeypatch.setattr(kinsim.stability, "stability_report", searched)
    assert Simulation(case).check_stability() == first
    with pytest.raises(AssertionError, match="searched again"):
        Simulation(load_case(_case({"CR": 0.15, "NI": 0.12}, ["BCC_A2"]))).check_stability()
    monkeypatch.setenv("KINSIM_NO_CACHE", "1")
    with pytest.raises(AssertionError, match="searched again"):
        Simulation(case).check_stability()


# ------------------------------------------------------------ runs with regions

FEC = CASES_DB / "fe-c-alpha-gamma.tdb"
T_FERRITE = 1073.15


def _regions_case(x_c_austenite, candidates=None):
    data = {
        "title": "ferrite | austenite",
        "thermo": {"database": str(FEC), "components": ["FE", "C"]},
        "conditions": {"temperature": T_FERRITE, "duration": "1 s"},
        "grid": {"geometry": "planar"},
        "region": [
            {"phase": "BCC_A2", "width": "5 um", "nodes": 10, "composition": {"C": 0.0005}},
            {"phase": "FCC_A1", "width": "50 um", "nodes": 20, "composition": {"C": x_c_austenite}},
        ],
        "mobility": {"missing": "solvent"},  # as the shipped ferrite case
        "output": {"snapshots": 1},
    }
    if candidates is not None:
        data["thermo"]["candidates"] = candidates
    return data


def _pycalphad_fc_driving_forces(x_c):
    """Driving forces (J/mol of atoms) of cementite (FE)3(C)1 and graphite at pycalphad's
    FCC_A1 potentials at x_C: both phases of one composition, mu . x - G."""
    from pycalphad import Database, calculate

    db = Database(str(FEC))
    _, mu, _ = pycalphad_point(FEC, ["FE", "C"], "FCC_A1", T_FERRITE, [x_c])
    out = {}
    for phase, x in (("CEMENTITE_D011", (0.75, 0.25)), ("GRAPHITE_A9", (0.0, 1.0))):
        res = calculate(db, ["FE", "C", "VA"], phase, T=T_FERRITE, P=101325, N=1)
        gm = float(np.asarray(res.GM.values).reshape(-1)[0])
        out[phase] = mu[0] * x[0] + mu[1] * x[1] - gm
    return out


def test_regions_are_checked_against_the_phases_that_are_no_regions():
    """Ferrite | austenite with 1.3 wt% C (x_C = 0.0575) in the austenite at 800 degC: above
    the solubility of graphite and of cementite (pycalphad's equilibrium holds graphite),
    so both are named, with pycalphad's driving forces at the austenite's potentials and
    the austenite region as the place; ferrite, the other region's phase, is not checked
    against the austenite (the interface is the model)."""
    from pycalphad import Database, equilibrium
    from pycalphad import variables as v

    from kinsim import load_case
    from kinsim.simulation import Simulation

    x_c = 0.0575
    with pytest.warns(StabilityWarning) as rec:
        s = Simulation(load_case(_regions_case(x_c))).check_stability()
    assert s.regions and s.phase == "BCC_A2 | FCC_A1"
    assert s.checked == ["BCC_A2#2", "CEMENTITE_D011", "GRAPHITE_A9", "FCC_A1#2"] and s.not_checked == {}
    oracle = _pycalphad_fc_driving_forces(x_c)
    assert [u.phase for u in s.unstable] == ["GRAPHITE_A9", "CEMENTITE_D011"]
    for u in s.unstable:
        assert u.where == "region[1] (FCC_A1)" and u.composition["C"] == pytest.approx(x_c)
        assert 5e-6 < u.z[0] <= u.z[1] < 55e-6
        assert u.driving_force == pytest.approx(oracle[u.phase], rel=1e-6, abs=1e-3)
    msgs = [str(w.message) for w in rec]
    assert len(msgs) == 2 and msgs[0].startswith("a region's phase (BCC_A2 | FCC_A1) is not the stable one")
    assert "(region[1] (FCC_A1), z = " in msgs[0] and msgs[0].endswith("without GRAPHITE_A9 (no region's phase)")
    eq = equilibrium(
        Database(str(FEC)),
        ["FE", "C", "VA"],
        ["FCC_A1", "CEMENTITE_D011", "GRAPHITE_A9"],
        {v.T: T_FERRITE, v.P: 101325, v.N: 1, v.X("C"): x_c},
    )
    assert "GRAPHITE_A9" in {str(p) for p in np.asarray(eq.Phase.values).ravel()}


def test_regions_inside_their_fields_do_not_warn_and_candidates_apply():
    from kinsim import load_case
    from kinsim.simulation import Simulation

    with warnings.catch_warnings():
        warnings.simplefilter("error", StabilityWarning)
        s = Simulation(load_case(_regions_case(0.01))).check_stability()
        assert s.unstable == [] and s.checked == ["BCC_A2#2", "CEMENTITE_D011", "GRAPHITE_A9", "FCC_A1#2"]
        s = Simulation(load_case(_regions_case(0.0575, ["CEMENTITE_D011"]))).check_stability(warn=False)
    assert [u.phase for u in s.unstable] == ["CEMENTITE_D011"]
    assert Simulation(load_case(_regions_case(0.0575, []))).check_stability() is None
    with pytest.raises(CaseError, match=r"thermo.candidates: FCC_A1 \(region\[1\]\) is a region's phase"):
        Simulation(load_case(_regions_case(0.01, ["FCC_A1"])))


def test_the_shipped_ferrite_case_stores_its_check(tmp_path):
    """Fe-0.1C austenite at 800 degC: inside the austenite field for cementite and graphite;
    the report is stored in the result file."""
    from kinsim import load_case
    from kinsim.simulation import Simulation

    sets = ["conditions.duration=1 s", "output.snapshots=1"]
    case = load_case(REPO_CASES / "ferrite-growth-fe-c.toml", overrides=sets)
    with warnings.catch_warnings():
        warnings.simplefilter("error", StabilityWarning)
        r = run(case, output=tmp_path / "f.h5")
    assert r.stability.regions and r.stability.unstable == []
    assert read_result(tmp_path / "f.h5").stability == r.stability == Simulation(case).check_stability()
    e = r.stability_end  # the regions at the end: the same candidates, none more stable
    assert e.regions and e.phase == "BCC_A2 | FCC_A1" and e.unstable == [] and e.not_checked == {}
    assert e.checked == r.stability.checked == ["BCC_A2#2", "CEMENTITE_D011", "GRAPHITE_A9", "FCC_A1#2"]
    assert read_result(tmp_path / "f.h5").stability_end == e


def test_regions_are_checked_at_the_end_at_their_nodes():
    """The austenite of ferrite | austenite above the solubility of graphite and cementite
    (x_C = 0.0575 at 800 degC) is still there after 1 s: the end check names both, in the
    austenite region, at the potentials of its nodes (pycalphad's driving forces at the
    composition reported), over the austenite's nodes only (the ferrite is checked too:
    its second composition set)."""
    with pytest.warns(StabilityWarning) as rec:
        r = run(_regions_case(0.0575))
    e = r.stability_end
    assert e.regions and e.checked == ["BCC_A2#2", "CEMENTITE_D011", "GRAPHITE_A9", "FCC_A1#2"]
    assert [u.phase for u in e.unstable] == ["GRAPHITE_A9", "CEMENTITE_D011"]
    wall = r.interfaces[-1, 0]
    z = r.node_positions(-1)
    for u in e.unstable:
        assert u.where == "the state at t = 1 s, region[1] (FCC_A1)"
        oracle = _pycalphad_fc_driving_forces(u.composition["C"])
        assert u.driving_force == pytest.approx(oracle[u.phase], rel=1e-6, abs=1e-3)
        assert wall < u.z[0] < u.z[1] == pytest.approx(z[-1], rel=1e-12)
    ends = [str(w.message) for w in rec if "at the end of the run" in str(w.message)]
    assert len(ends) == 2 and ends[0].startswith("a region's phase (BCC_A2 | FCC_A1) is not the stable one at the end")
    assert "(the state at t = 1 s, region[1] (FCC_A1), z = " in ends[0]


# ------------------------------------------------------------ fixed-activity faces


def _carburizing_case(activity, candidates=None, phases=None):
    thermo = {"database": str(CASES_DB / "fe-c.tdb"), "components": ["FE", "C"]}
    thermo.update({"phases": phases} if phases else {"phase": "FCC_A1"})
    if candidates is not None:
        thermo["candidates"] = candidates
    return {
        "title": "carburizing",
        "thermo": thermo,
        "conditions": {"temperature": 1200.0, "duration": "1 h"},
        "grid": {"length": "1 mm", "nodes": 16},
        "initial": {"type": "uniform", "composition": {"C": 0.01}},
        "boundary": {
            "left": {
                "stages": [
                    {"type": "fixed-activity", "activity": {"C": 0.8}, "reference": {"C": "GRAPHITE_A9"}, "until": 30},
                    {"type": "fixed-activity", "activity": {"C": activity}, "reference": {"C": "GRAPHITE_A9"}},
                ]
            },
            "right": {"type": "closed"},
        },
        "output": {"snapshots": 1},
    }


def test_a_carbon_activity_above_one_names_graphite_at_the_face():
    """a_C = 1.3 against graphite in the second stage: graphite (pure C, the reference
    phase) has a driving force of at least RT ln 1.3 at the surface; the face's own
    composition is not known before the run, so the bound is what is reported, with the
    stage that imposes it (for graphite, pure carbon, the bound is the driving force).
    The run bears it out: after an hour of the second stage the austenite at the surface
    node holds carbon at a potential above pycalphad's G of graphite."""
    from kinsim import load_case
    from kinsim.simulation import Simulation

    with pytest.warns(StabilityWarning, match="GRAPHITE_A9 has a driving force of at least") as rec:
        s = Simulation(load_case(_carburizing_case(1.3))).check_stability()
    (u,) = s.unstable
    assert u.phase == "GRAPHITE_A9" and u.composition == {} and u.z == (0.0, 0.0) and u.T == 1200.0
    assert u.where == "boundary.left.stages[1].activity: C = 1.3 against GRAPHITE_A9"
    from kinsim.kernels.gibbs import R  # the gas constant of the TDB files, which define the activity's mu

    assert u.driving_force == pytest.approx(R * 1200.0 * np.log(1.3), rel=1e-12)
    (msg,) = [str(w.message) for w in rec]
    assert "at least +2618 J/mol (boundary.left.stages[1].activity: C = 1.3 against GRAPHITE_A9, z = 0 m" in msg
    assert StartStability.from_json(s.to_json()) == s
    from pycalphad import Database, calculate

    with pytest.warns(StabilityWarning):
        r = run(_carburizing_case(1.3))
    graphite = calculate(Database(str(CASES_DB / "fe-c.tdb")), ["C"], "GRAPHITE_A9", T=1200.0, P=101325, N=1)
    df = r.mu[-1, :, 1] - float(np.asarray(graphite.GM.values).reshape(-1)[0])  # graphite is pure C
    assert df[0] > 100.0
    # the end check names it too, with pycalphad's driving force at the surface node and
    # the range of nodes where graphite is more stable
    (u,) = r.stability_end.unstable
    assert u.phase == "GRAPHITE_A9" and u.where == "the state at t = 3600 s"
    assert u.driving_force == pytest.approx(df.max(), rel=1e-9)
    above = r.z[df > 1e-6 * 8.3145 * 1200.0]
    assert u.z == pytest.approx((above.min(), above.max()))


@pytest.mark.parametrize(
    "activity, candidates, phases",
    [(0.9, None, None), (1.3, ["BCC_A2"], None), (1.3, None, ["FCC_A1", "GRAPHITE_A9"])],
    ids=["below one", "graphite not a candidate", "graphite in thermo.phases"],
)
def test_no_bound_below_one_or_when_the_reference_is_not_checked(activity, candidates, phases):
    from kinsim import load_case
    from kinsim.simulation import Simulation

    case = _carburizing_case(activity, candidates, phases)
    if candidates == ["BCC_A2"]:
        case["thermo"]["database"] = str(CASES_DB / "fe-mn-si-c.tdb")  # a database with BCC_A2
    if phases:
        case["homogenization"] = {"excluded": ["GRAPHITE_A9"]}
    s = Simulation(load_case(case)).check_stability(warn=False)
    assert [u.phase for u in s.unstable if not u.composition] == []


# ------------------------------------------------------------ the end of the run


def test_darkens_couple_ends_with_ferrite_more_stable_on_the_silicon_side(tmp_path):
    """Darken's Fe-Si-C couple starts barely inside austenite (BCC_A2 +1.8 J/mol on the
    Si side); as carbon leaves that side for the other, the Si side moves into the
    alpha + gamma field (pycalphad's equilibrium there holds BCC_A2): the end check
    names BCC_A2 with the driving force the start check's search gives from that node's
    composition, the Si side as its range, and the command prints it after the bar."""
    from conftest import REPO
    from pycalphad import Database, equilibrium
    from pycalphad import variables as v

    from kinsim.stability import stability_report

    case = REPO / "cases" / "darken-fe-si-c.toml"
    with pytest.warns(StabilityWarning) as rec:
        r = run(case, overrides=["grid.nodes=40"], output=tmp_path / "d.h5")
    msgs = [str(w.message) for w in rec]
    assert len(msgs) == 2 and "at the start" in msgs[0]
    assert msgs[1].startswith("FCC_A1 is not the stable phase at the end of the run: BCC_A2 has a driving force of")
    assert msgs[1].endswith("the run went on with FCC_A1 alone")
    e = r.stability_end
    assert e.checked == ["FCC_A1#2", "BCC_A2", "GRAPHITE_A9"] and read_result(tmp_path / "d.h5").stability_end == e
    (u,) = e.unstable
    assert u.phase == "BCC_A2" and u.driving_force > 30.0 and u.z[1] < 0.025  # the Si side (z < 25 mm)
    x = np.array([u.composition[c] for c in ("FE", "SI", "C")])
    db = r.case.thermo.database
    again = stability_report(db, "FCC_A1", ["FE", "SI", "C"], u.T, x[None, 1:], candidates=["BCC_A2"])
    assert u.driving_force == pytest.approx(again.driving_forces[0, 1], rel=1e-6)
    eq = equilibrium(
        Database(str(db)),
        ["FE", "SI", "C", "VA"],
        ["FCC_A1", "BCC_A2"],
        {v.T: u.T, v.P: 101325, v.N: 1, v.X("SI"): x[1], v.X("C"): x[2]},
    )
    assert "BCC_A2" in {str(p) for p in np.asarray(eq.Phase.values).ravel()}


def test_no_end_check_when_the_checks_are_off(tmp_path):
    r = run(_case({"CR": 0.15, "NI": 0.12}, []))
    assert r.stability_end is None and r.attrs["stability_end"] == "null"
    r = run(_regions_case(0.0575, []))
    assert r.stability_end is None and r.attrs["stability_end"] == "null"


def test_a_failed_end_search_is_said_and_the_run_stays_completed(monkeypatch):
    """The end check is a check of a completed run: a search that does not converge is
    listed as not checked (a warning), never a failed run or a silent pass."""
    import kinsim.stability as st
    import kinsim.tangent_plane as tp

    real = tp.tangent_plane_maximum

    def half_failed(model, MU, T):
        DF, X = real(model, MU, T)
        DF[::2] = np.nan
        return DF, X

    monkeypatch.setattr(tp, "tangent_plane_maximum", half_failed)
    with pytest.warns(StabilityWarning, match="not checked against FCC_A1#2: the search did not converge at"):
        r = run(_case({"CR": 0.15, "NI": 0.12}))
    assert r.status == "completed" and "FCC_A1#2" in r.stability_end.not_checked
    monkeypatch.setattr(tp, "tangent_plane_maximum", real)

    def refused(*args, **kwargs):
        raise ConvergenceError("driving forces of FCC_A1+SIGMA at row 0: no convergence")

    monkeypatch.setattr(st, "candidate_driving_forces", refused)
    with pytest.warns(StabilityWarning, match=r"not checked against \(the candidates\): driving forces"):
        r = run(_case({"CR": 0.15, "NI": 0.12}))
    assert r.status == "completed" and r.stability_end.checked == []


def test_a_failed_end_search_in_a_region_is_said_with_the_region(monkeypatch):
    """As for one phase: in a run with regions a search that does not converge at some
    nodes names the candidate and the region; one that fails names the region; the run
    stays completed and the other regions are still checked."""
    import kinsim.stability as st
    import kinsim.tangent_plane as tp

    real = tp.tangent_plane_maximum

    def half_failed(model, MU, T):
        DF, X = real(model, MU, T)
        if model.phase == "BCC_A2":
            DF[::2] = np.nan
        return DF, X

    monkeypatch.setattr(tp, "tangent_plane_maximum", half_failed)
    with pytest.warns(StabilityWarning, match=r"not checked against BCC_A2#2: the search did not converge at 5 of"):
        r = run(_regions_case(0.01))
    e = r.stability_end
    assert r.status == "completed" and list(e.not_checked) == ["BCC_A2#2"]
    assert e.not_checked["BCC_A2#2"].endswith("nodes of region[0]")
    assert e.checked == ["BCC_A2#2", "CEMENTITE_D011", "GRAPHITE_A9", "FCC_A1#2"]
    monkeypatch.setattr(tp, "tangent_plane_maximum", real)

    calls = []
    fixed = st.candidate_driving_forces

    def refused_in_austenite(database, own, *args, **kwargs):
        calls.append(list(own))
        if own == ["FCC_A1"]:
            raise ConvergenceError("driving forces at row 0: no convergence")
        return fixed(database, own, *args, **kwargs)

    monkeypatch.setattr(st, "candidate_driving_forces", refused_in_austenite)
    with pytest.warns(StabilityWarning, match=r"not checked against \(the candidates in region\[1\] \(FCC_A1\)\)"):
        r = run(_regions_case(0.01))
    e = r.stability_end
    assert r.status == "completed" and ["BCC_A2"] in calls and ["FCC_A1"] in calls
    assert list(e.not_checked) == ["(the candidates in region[1] (FCC_A1))"]
    assert e.checked == ["BCC_A2#2", "CEMENTITE_D011", "GRAPHITE_A9"]  # the ferrite's, checked
