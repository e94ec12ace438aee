"""stability_report: is one phase the stable state at given compositions?  Checked
against the multiphase equilibrium and pycalphad's stable phases."""

from __future__ import annotations

import pytest
from conftest import CASES_DB, TESTS_DB

from kinsim.errors import InputError
from kinsim.phaseset import load_phases
from kinsim.stability import stability_report

FECRNI = TESTS_DB / "fe-cr-ni.tdb"
COMPS = ["FE", "CR", "NI"]


def test_fcc_couple_crossing_into_bcc_is_reported():
    """At 1373.15 K, Fe-10Cr-10Ni is FCC_A1; Fe-50Cr-5Ni is BCC_A2: the FCC_A1 case is
    warned about at the second composition, naming BCC_A2 and its driving force."""
    X = [[0.1, 0.1], [0.5, 0.05]]
    rep = stability_report(FECRNI, "FCC_A1", COMPS, 1373.15, X, candidates=["BCC_A2"])
    assert rep.checked == ["FCC_A1", "BCC_A2"]
    assert rep.unstable(0) == []
    ((name, df),) = rep.unstable(1)
    assert name == "BCC_A2" and df > 0
    assert not rep.stable
    (msg,) = rep.messages()
    assert "FCC_A1 is not the stable phase" in msg and "BCC_A2" in msg and "CR=0.5" in msg
    # the multiphase equilibrium agrees: BCC_A2 is part of the stable set there, not at row 0
    res = load_phases(FECRNI, ["FCC_A1", "BCC_A2"], COMPS).equilibrium(X, 1373.15)
    assert [s.name for s in res.stable(0)] == ["FCC_A1"]
    assert "BCC_A2" in [s.name for s in res.stable(1)]


def test_driving_force_equals_the_multiphase_one_where_the_phase_is_stable():
    """Where FCC_A1 alone is stable, its potentials are the equilibrium's, so the
    driving force of BCC_A2 is the multiphase result's."""
    rep = stability_report(FECRNI, "FCC_A1", COMPS, 1373.15, [[0.1, 0.1]], candidates=["BCC_A2"])
    res = load_phases(FECRNI, ["FCC_A1", "BCC_A2"], COMPS).equilibrium([[0.1, 0.1]], 1373.15)
    assert rep.driving_forces[0, 1] == pytest.approx(res.driving_forces[0, 1], rel=1e-9)


def test_second_composition_set_of_the_phase_itself():
    """Inside the miscibility gap the phase would split: reported as ALPHA#2."""
    db = TESTS_DB / "miscibility-ab.tdb"
    rep = stability_report(db, "ALPHA", ["A", "B"], 1000.0, [[0.05], [0.4]], candidates=[])
    assert rep.unstable(0) == []
    assert [n for n, _ in rep.unstable(1)] == ["ALPHA#2"]


def test_all_other_phases_of_the_database_by_default():
    """Without candidates every other phase is checked, graphite (which holds carbon
    only) included; the ones kinsim cannot model with these components (graphite in
    Fe-Si: it holds none of them) are listed, not hidden."""
    rep = stability_report(CASES_DB / "fe-mn-si-c.tdb", "FCC_A1", ["FE", "SI", "C"], 1323.15, [[0.07, 0.02]])
    assert rep.checked == ["FCC_A1", "BCC_A2", "GRAPHITE_A9"] and rep.skipped == {}
    rep = stability_report(CASES_DB / "fe-mn-si-c.tdb", "FCC_A1", ["FE", "SI"], 1323.15, [[0.02]])
    assert rep.checked == ["FCC_A1", "BCC_A2"]
    assert "holds none of the components" in rep.skipped["GRAPHITE_A9"]


def test_graphite_against_austenite_saturated_in_carbon():
    """Fe-C austenite at 1200 K: the driving force of graphite at the potentials of
    FCC_A1 alone is negative below the carbon solubility and positive above it, where
    the multiphase equilibrium holds FCC_A1 + GRAPHITE_A9 (whose FCC_A1 is then at the
    solubility limit, so graphite's driving force there is zero)."""
    db = CASES_DB / "fe-c.tdb"
    rep = stability_report(db, "FCC_A1", ["FE", "C"], 1200.0, [[0.03], [0.12]], candidates=["GRAPHITE_A9"])
    assert rep.driving_forces[0, 1] < 0 < rep.driving_forces[1, 1]
    assert [n for n, _ in rep.unstable(1)] == ["GRAPHITE_A9"] and rep.unstable(0) == []
    res = load_phases(db, ["FCC_A1", "GRAPHITE_A9"], ["FE", "C"]).equilibrium([[0.03], [0.12]], 1200.0)
    assert [s.name for s in res.stable(0)] == ["FCC_A1"]
    assert [s.name for s in res.stable(1)] == ["FCC_A1", "GRAPHITE_A9"]
    assert res.driving_forces[0, 1] == pytest.approx(rep.driving_forces[0, 1], rel=1e-9)


def test_a_named_candidate_that_cannot_be_modelled_is_an_error():
    with pytest.raises(InputError, match="GRAPHITE_A9"):
        stability_report(
            CASES_DB / "fe-mn-si-c.tdb", "FCC_A1", ["FE", "SI"], 1323.15, [[0.02]], candidates=["GRAPHITE_A9"]
        )
