"""Phase sets with candidates that hold only some of the components (graphite) or have
a fixed composition (cementite FE3C), against pycalphad's ``equilibrium`` with the same
phases: the same stable phases, fractions and compositions within 1e-5, MU within 1e-6
relative, dmu_dx exactly zero in binary two-phase fields and three-phase fields of a
ternary and within 1e-4 of pycalphad's central differences in a ternary two-phase field,
the phase rule and mass balance to round-off.  Alone, such a phase is refused with the
reason."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from conftest import CASES_DB, one_error_line, pycalphad_point
from mp_oracles import assert_phase_rule_and_mass_balance, assert_same_equilibrium, pycalphad_grid

from kinsim.cli import main
from kinsim.errors import InputError
from kinsim.kernels.codes import STATUS_OUTSIDE_PHASES
from kinsim.phase import load_phase
from kinsim.phaseset import load_phases

pytest.importorskip("pycalphad")

FEC = CASES_DB / "fe-c.tdb"
FEC_AG = CASES_DB / "fe-c-alpha-gamma.tdb"
FECRC = CASES_DB / "fe-cr-c.tdb"


def check_against_pycalphad(db, phases, comps, T, grids):
    """kinsim's equilibria on the grid against pycalphad's; returns kinsim's result."""
    ref = pycalphad_grid(db, comps, phases, T, grids)
    res = load_phases(db, phases, comps).equilibrium(list(itertools.product(*grids)), T)
    for i, r in enumerate(ref):
        assert_same_equilibrium(res, i, r)
    assert_phase_rule_and_mass_balance(res)
    return res, ref


def test_austenite_and_graphite():
    """Fe-C at 1200 K: austenite up to its carbon solubility, then austenite + graphite
    (graphite holds no iron); in the binary two-phase field dmu_dx is exactly zero."""
    res, ref = check_against_pycalphad(
        FEC, ["FCC_A1", "GRAPHITE_A9"], ["FE", "C"], 1200.0, [[0.01, 0.05, 0.1, 0.3, 0.9]]
    )
    assert [sorted(r[0]) for r in ref] == [["FCC_A1"]] * 2 + [["FCC_A1", "GRAPHITE_A9"]] * 3
    for i in range(2, 5):
        assert res.dmu_dx[i, 0, 0] == 0.0 and np.all(res.partial_dmu_dx[i] == 0.0)
        np.testing.assert_allclose(res.MU[i], res.MU[2], rtol=1e-12)  # the tie-line's potentials
    single = load_phase(FEC, "FCC_A1", ["FE", "C"]).equilibrium([[0.01]], 1200.0)
    np.testing.assert_allclose(res.dmu_dx[0], single.dmu_dx[0], rtol=1e-8)


@pytest.mark.parametrize(
    "phases,T,grid,found",
    [
        (["FCC_A1", "CEMENTITE_D011"], 1100.0, [0.01, 0.05, 0.2, 0.24], {"FCC_A1", "CEMENTITE_D011+FCC_A1"}),
        (["BCC_A2", "CEMENTITE_D011"], 900.0, [1e-4, 0.01, 0.2], {"BCC_A2", "BCC_A2+CEMENTITE_D011"}),
        (["BCC_A2", "FCC_A1", "CEMENTITE_D011"], 980.0, [2e-4, 0.02, 0.1], {"BCC_A2", "BCC_A2+CEMENTITE_D011"}),
        (
            ["BCC_A2", "FCC_A1", "CEMENTITE_D011"],
            1020.0,
            [2e-4, 0.005, 0.035, 0.1],
            {"BCC_A2", "BCC_A2+FCC_A1", "FCC_A1", "CEMENTITE_D011+FCC_A1"},
        ),
    ],
    ids=["fcc+cem", "bcc+cem", "below-eutectoid", "above-eutectoid"],
)
def test_cementite_with_ferrite_and_austenite(phases, T, grid, found):
    """Stoichiometric Fe3C (magnetic, G of T only) with ferrite and austenite, carbon
    interstitial in both, on both sides of the eutectoid."""
    res, ref = check_against_pycalphad(FEC_AG, phases, ["FE", "C"], T, [grid])
    assert {"+".join(sorted(r[0])) for r in ref} == found
    for i in range(len(grid)):
        if len(res.stable(i)) == 2:
            assert res.dmu_dx[i, 0, 0] == 0.0


def test_the_eutectoid_three_phase_equilibrium():
    """The eutectoid temperature T_e, where ferrite, austenite and cementite share one
    tangent, from kinsim's driving forces alone: austenite's driving force at the
    ferrite + cementite equilibrium crosses zero at T_e.  There the austenite + ferrite
    equilibrium leaves cementite at zero driving force too (the same three-phase
    tangent), and pycalphad puts ferrite + cementite just below T_e and austenite on
    either side of the eutectoid composition just above it."""
    from scipy.optimize import brentq

    phases = ["BCC_A2", "FCC_A1", "CEMENTITE_D011"]
    model = load_phases(FEC_AG, phases, ["FE", "C"])
    ferrite_cementite = load_phases(FEC_AG, ["BCC_A2", "CEMENTITE_D011"], ["FE", "C"])
    austenite = load_phases(FEC_AG, ["FCC_A1"], ["FE", "C"])

    def df_fcc(T):  # at the ferrite + cementite tie-line
        return austenite.driving_forces(ferrite_cementite.equilibrium([[0.02]], T).MU, T)[0, 0]

    Te = brentq(df_fcc, 980.0, 1020.0, xtol=1e-9)
    assert 990.0 < Te < 1010.0  # about 727 degC
    below = model.equilibrium([[0.02]], Te - 1e-6)
    assert [s.name for s in below.stable(0)] == ["BCC_A2", "CEMENTITE_D011"]
    above = model.equilibrium([[0.005]], Te + 1e-6)
    assert [s.name for s in above.stable(0)] == ["BCC_A2", "FCC_A1"]
    assert abs(above.driving_forces[0, 2]) < 1e-3  # J/mol: cementite on the same tangent
    xe = above.stable(0)[1].x["C"]  # austenite at the eutectoid
    assert 0.03 < xe < 0.04
    for T, grid in [(Te - 2.0, [0.005, xe, 0.05]), (Te + 2.0, [0.005, 0.05])]:
        check_against_pycalphad(FEC_AG, phases, ["FE", "C"], T, [grid])


def test_chromium_steel_austenite_and_carbides():
    """Fe-Cr-C at 1223 K: austenite with M7C3, M23C6, cementite (carbides with a fixed
    carbon sublattice mixing Cr and Fe), ferrite and graphite (carbon only) as
    candidates; two- and three-phase fields, where the potentials do not depend on x."""
    phases = ["FCC_A1", "BCC_A2", "M7C3_D101", "M23C6_D84", "CEMENTITE_D011", "GRAPHITE_A9"]
    grids = [[0.05, 0.2], [0.01, 0.03, 0.06]]
    res, ref = check_against_pycalphad(FECRC, phases, ["FE", "CR", "C"], 1223.0, grids)
    found = {"+".join(sorted(r[0])) for r in ref}
    assert {"FCC_A1", "FCC_A1+M7C3_D101", "BCC_A2+FCC_A1+M23C6_D84", "FCC_A1+M23C6_D84+M7C3_D101"} <= found
    three = [i for i in range(len(ref)) if len(ref[i][0]) == 3]
    for i in three:
        assert np.all(res.dmu_dx[i] == 0.0)


def test_dmu_dx_austenite_and_m7c3_against_central_differences():
    """Fe-5Cr-3C at 1223 K, austenite + M7C3: the derivative of the equilibrium has
    rank 1; pycalphad's central differences of MU are the oracle."""
    phases, comps, x = ["FCC_A1", "M7C3_D101"], ["FE", "CR", "C"], (0.05, 0.03)
    res = load_phases(FECRC, phases, comps).equilibrium([x], 1223.0)
    assert [s.name for s in res.stable(0)] == ["FCC_A1", "M7C3_D101"]
    _, mu, fd = pycalphad_point(FECRC, comps, phases, 1223.0, x)
    np.testing.assert_allclose(res.MU[0], mu, rtol=1e-6)
    D = res.dmu_dx[0]
    assert np.max(np.abs(D - fd)) <= 1e-4 * np.max(np.abs(fd)), (D, fd)
    sv = np.linalg.svd(D, compute_uv=False)
    assert sv[1] <= 1e-9 * sv[0]


def test_only_stoichiometric_phases():
    """Cementite + graphite: no site variables anywhere; the potentials follow from the
    two Gibbs energies, compositions outside [x(Fe3C), 1] cannot be held."""
    phases = ["CEMENTITE_D011", "GRAPHITE_A9"]
    model = load_phases(FEC_AG, phases, ["FE", "C"])
    res = model.equilibrium([[0.5], [0.1]], 800.0, raise_on_failure=False)
    assert res.status[1] == STATUS_OUTSIDE_PHASES and np.isnan(res.MU[1]).all()
    ref = pycalphad_grid(FEC_AG, ["FE", "C"], phases, 800.0, [[0.5]])
    assert_same_equilibrium(res, 0, ref[0])
    assert res.fractions[0].tolist() == pytest.approx([2 / 3, 1 / 3], abs=1e-14)


def test_warm_start_across_the_graphite_solubility():
    model = load_phases(FEC, ["FCC_A1", "GRAPHITE_A9"], ["FE", "C"])
    X = np.array([[0.04], [0.1]])
    cold = model.equilibrium(X, 1200.0)
    assert [len(cold.stable(i)) for i in range(2)] == [1, 2]
    X2 = X[::-1].copy()  # each row crosses the solubility limit the other way
    warm = model.equilibrium(X2, 1200.0, state=cold.state)
    again = model.equilibrium(X2, 1200.0)
    np.testing.assert_allclose(warm.MU, again.MU, rtol=1e-12)
    assert [[s.name for s in warm.stable(i)] for i in range(2)] == [["FCC_A1", "GRAPHITE_A9"], ["FCC_A1"]]


def test_fixed_composition_phase_alone_is_refused_with_the_reason(capsys):
    with pytest.raises(InputError, match=r"CEMENTITE_D011 has a fixed composition \(FE 0.75, C 0.25\)"):
        load_phase(FEC_AG, "CEMENTITE_D011", ["FE", "C"])
    code = main(
        ["thermo", str(FEC_AG), "--phase", "CEMENTITE_D011", "--components", "FE,C", "--T", "1000", "--x", "C=0.25"]
    )
    one_error_line(
        code,
        capsys.readouterr().err,
        "CEMENTITE_D011",
        "fixed composition",
        "no unique chemical potentials",
        "--phases",
    )


def test_cli_phases_with_graphite(capsys):
    code = main(
        ["thermo", str(FEC), "--phases", "FCC_A1,GRAPHITE_A9", "--components", "FE,C", "--T", "1200", "--x", "C=0.1"]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "GRAPHITE_A9: fraction" in out and "site fractions: C 1" in out
