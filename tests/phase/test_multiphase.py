"""Multiphase equilibrium (kinsim.phaseset) against oracles nobody here wrote.

pycalphad's ``equilibrium`` with the same candidate phases: the same stable phases,
phase fractions and compositions within 1e-5, MU within 1e-6 relative; pycalphad's
central differences of MU for dmu_dx inside a two-phase field (within 1e-4 of the
matrix); pycalphad's ``calculate`` for the Gibbs energy of composition sets that
pycalphad's own equilibrium misses; the analytical binodal of a symmetric regular
solution; the Gibbs phase rule and mass balance to round-off; continuity of MU across a
phase boundary.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from conftest import CASES_DB, TESTS_DB, pycalphad_point, shared_db
from mp_oracles import assert_phase_rule_and_mass_balance, assert_same_equilibrium, gibbs_of_sets, pycalphad_grid

from kinsim.errors import InputError
from kinsim.kernels.codes import STATUS_BAD_COMPOSITION, STATUS_T_RANGE
from kinsim.phase import load_phase
from kinsim.phaseset import load_phases

pytest.importorskip("pycalphad")

R = 8.3145
FECRNI = TESTS_DB / "fe-cr-ni.tdb"
GAP = TESTS_DB / "miscibility-ab.tdb"


def test_fecrni_fcc_bcc_one_and_two_phase_fields():
    comps, phases, T = ["FE", "CR", "NI"], ["FCC_A1", "BCC_A2"], 1373.15
    grids = [[0.1, 0.33, 0.5], [0.05, 0.12, 0.25]]
    ref = pycalphad_grid(FECRNI, comps, phases, T, grids)
    res = load_phases(FECRNI, phases, comps).equilibrium(list(itertools.product(*grids)), T)
    assert {len(r[0]) for r in ref} == {1, 2}
    for i, r in enumerate(ref):
        assert_same_equilibrium(res, i, r)
    assert_phase_rule_and_mass_balance(res)


def test_fecrni_with_sigma_and_a_three_phase_field():
    """FCC_A1 + BCC_A2 + SIGMA at 1000 K; (Cr 0.54, Ni 0.154) lies in the three-phase
    triangle, where the potentials do not depend on x (dmu_dx exactly zero)."""
    comps, phases, T = ["FE", "CR", "NI"], ["FCC_A1", "BCC_A2", "SIGMA"], 1000.0
    grids = [[0.3, 0.45, 0.54], [0.05, 0.154]]
    ref = pycalphad_grid(FECRNI, comps, phases, T, grids)
    pts = list(itertools.product(*grids))
    res = load_phases(FECRNI, phases, comps).equilibrium(pts, T)
    for i, r in enumerate(ref):
        assert_same_equilibrium(res, i, r)
    assert_phase_rule_and_mass_balance(res)
    k = pts.index((0.54, 0.154))
    assert len(res.stable(k)) == 3 and "SIGMA" in ref[k][0]
    assert np.all(res.dmu_dx[k] == 0.0) and np.all(res.partial_dmu_dx[k] == 0.0)
    assert {len(r[0]) for r in ref} >= {1, 2, 3}


@pytest.mark.parametrize("db", [CASES_DB / "ni-cr-al.tdb", "NiCrAl.tdb"], ids=["kinsim-db", "shared-db"])
def test_gamma_gamma_prime_composition_sets(db):
    """Ni-Cr-Al FCC_L12 (order/disorder partitioned) at 1273 K: gamma and gamma' are two
    composition sets of one phase.  Where pycalphad's equilibrium reaches the same
    Gibbs energy, everything agrees; nowhere is kinsim's energy higher; where it is
    lower (pycalphad's sampling missed a set), pycalphad's own Gibbs energies of
    kinsim's sets confirm it."""
    db = shared_db(db) if isinstance(db, str) else db
    comps, T = ["NI", "CR", "AL"], 1273.0
    grids = [[0.02, 0.06, 0.1], [0.0456, 0.1478, 0.25]]
    ref = pycalphad_grid(db, comps, ["FCC_L12"], T, grids)
    res = load_phases(db, ["FCC_L12"], comps).equilibrium(list(itertools.product(*grids)), T)
    assert_phase_rule_and_mass_balance(res)
    agree = 0
    for i, r in enumerate(ref):
        G = float(res.MU[i] @ res.X[i])
        assert G <= r[4] + 1e-9 * abs(r[4]), (res.X[i], G, r[4])
        if G >= r[4] - 1e-9 * abs(r[4]):
            assert_same_equilibrium(res, i, r)
            agree += 1
        else:
            assert gibbs_of_sets(db, res, i) == pytest.approx(G, rel=1e-9)
    assert agree >= 7
    two = [res.stable(i) for i in range(len(ref)) if len(res.stable(i)) == 2]
    assert len(two) >= 3
    for sets in two:
        assert [s.name for s in sets] == ["FCC_L12", "FCC_L12#2"]
        y = [s.site_fractions for s in sets]  # one disordered (gamma), one ordered (gamma')
        order = [max(abs(a[c] - b[c]) for c in a) for a, b, _ in y]
        assert min(order) < 1e-6 and max(order) > 0.1


def test_fecrc_austenite_with_carbides():
    """Fe-Cr-C at 1273 K with interstitial carbon in FCC_A1 and the carbides M7C3,
    M23C6 and cementite (shared FeCrC.tdb)."""
    db = shared_db("FeCrC.tdb")
    comps, T = ["FE", "CR", "C"], 1273.0
    phases = ["FCC_A1", "M7C3_D101", "M23C6_D84", "CEMENTITE_D011"]
    grids = [[0.03, 0.12, 0.25], [0.01, 0.06, 0.12]]
    ref = pycalphad_grid(db, comps, phases, T, grids)
    res = load_phases(db, phases, comps).equilibrium(list(itertools.product(*grids)), T)
    for i, r in enumerate(ref):
        assert_same_equilibrium(res, i, r)
    assert_phase_rule_and_mass_balance(res)
    found = {"+".join(sorted(r[0])) for r in ref}
    assert {"FCC_A1", "CEMENTITE_D011+FCC_A1", "FCC_A1+M7C3_D101", "FCC_A1+M23C6_D84"} <= found


def test_miscibility_gap_against_the_analytical_binodal():
    """Symmetric regular solution, L = 20000 J/mol: below L/2R the coexisting sets are x
    and 1 - x with ln(x / (1 - x)) = (L / RT)(2x - 1); dmu_dx is zero in the gap."""
    from scipy.optimize import brentq

    L, T = 20000.0, 1000.0
    xb = brentq(lambda x: np.log(x / (1 - x)) - L / (R * T) * (2 * x - 1), 1e-6, 0.45, xtol=1e-15)
    model = load_phases(GAP, ["ALPHA"], ["A", "B"])
    res = model.equilibrium([[0.3], [0.5], [0.8], [0.05]], T)
    for i, xB in enumerate([0.3, 0.5, 0.8]):
        sets = res.stable(i)
        assert [s.name for s in sets] == ["ALPHA", "ALPHA#2"]
        assert sorted(s.x["B"] for s in sets) == pytest.approx([xb, 1 - xb], abs=1e-12)
        lever = (xB - xb) / (1 - 2 * xb)  # fraction of the B-rich set
        assert max(s.fraction for s in sets if s.x["B"] > 0.5) == pytest.approx(lever, abs=1e-12)
        assert res.dmu_dx[i, 0, 0] == 0.0
        np.testing.assert_allclose(res.MU[i], res.MU[0], rtol=1e-13)
    assert [s.name for s in res.stable(3)] == ["ALPHA"]
    # outside the gap: the single-phase thermodynamic factor
    single = load_phase(GAP, "ALPHA", ["A", "B"]).equilibrium([[0.05]], T)
    np.testing.assert_allclose(res.dmu_dx[3], single.dmu_dx[0], rtol=1e-10)
    # above the critical temperature L / 2R = 1202.7 K: one phase everywhere
    hot = model.equilibrium([[0.3], [0.5]], 1250.0)
    assert all(len(hot.stable(i)) == 1 for i in range(2))


DMU_POINTS = [
    # id, database, candidate phases, components, T, x of components[1:]
    ("FCC+BCC-a", FECRNI, ["FCC_A1", "BCC_A2"], ["FE", "CR", "NI"], 1373.15, (0.33, 0.12)),
    ("FCC+BCC-b", FECRNI, ["FCC_A1", "BCC_A2"], ["FE", "CR", "NI"], 1373.15, (0.35, 0.08)),
    ("gamma+gamma'", CASES_DB / "ni-cr-al.tdb", ["FCC_L12"], ["NI", "CR", "AL"], 1273.0, (0.06, 0.1478)),
    (
        "FCC+M7C3",
        "FeCrC.tdb",
        ["FCC_A1", "M7C3_D101", "M23C6_D84", "CEMENTITE_D011"],
        ["FE", "CR", "C"],
        1273.0,
        (0.12, 0.06),
    ),
]


@pytest.mark.parametrize("db,phases,comps,T,x", [p[1:] for p in DMU_POINTS], ids=[p[0] for p in DMU_POINTS])
def test_dmu_dx_in_a_two_phase_field_against_central_differences(db, phases, comps, T, x):
    """Inside a two-phase field of a ternary the derivative of the equilibrium (not of
    one phase) has rank 1; pycalphad's central differences of MU are the oracle."""
    db = shared_db(db) if isinstance(db, str) else db
    res = load_phases(db, phases, comps).equilibrium([x], T)
    assert len(res.stable(0)) == 2
    _, mu, fd = pycalphad_point(db, comps, phases, T, x)
    np.testing.assert_allclose(res.MU[0], mu, rtol=1e-6)
    D = res.dmu_dx[0]
    assert np.max(np.abs(D - fd)) <= 1e-4 * np.max(np.abs(fd)), (D, fd)
    sv = np.linalg.svd(D, compute_uv=False)
    assert sv[1] <= 1e-9 * sv[0]
    # symmetric and homogeneous (P @ x = 0) to the Newton tolerance: P comes from the
    # matrix of the last iteration, whose step was at most ~1e-6 in the site fractions
    P = res.partial_dmu_dx[0]
    assert np.max(np.abs(P - P.T)) <= 1e-7 * np.max(np.abs(P))
    assert np.max(np.abs(P @ res.X[0])) <= 1e-7 * np.max(np.abs(P))


def test_one_phase_field_reproduces_the_single_phase_kernel():
    comps, T = ["FE", "CR", "NI"], 1373.15
    X = [[0.1, 0.1], [0.05, 0.25], [0.55, 0.05]]
    res = load_phases(FECRNI, ["FCC_A1", "BCC_A2"], comps).equilibrium(X, T)
    for i, phase in enumerate(["FCC_A1", "FCC_A1", "BCC_A2"]):
        assert [s.name for s in res.stable(i)] == [phase]
        one = load_phase(FECRNI, phase, comps).equilibrium([X[i]], T)
        np.testing.assert_allclose(res.MU[i], one.MU[0], rtol=1e-12)
        np.testing.assert_allclose(res.dmu_dx[i], one.dmu_dx[0], rtol=1e-8)
        np.testing.assert_allclose(res.partial_dmu_dx[i], one.partial_dmu_dx[0], rtol=1e-8, atol=1e-8)


def test_continuity_across_a_phase_boundary():
    """Along x_Cr at x_Ni = 0.12 the path leaves FCC_A1 for FCC_A1 + BCC_A2: MU is
    continuous (changes in proportion to the step), the BCC fraction grows from zero."""
    comps, T = ["FE", "CR", "NI"], 1373.15
    xcr = np.linspace(0.2, 0.3, 401)
    res = load_phases(FECRNI, ["FCC_A1", "BCC_A2"], comps).equilibrium(
        np.column_stack([xcr, np.full_like(xcr, 0.12)]), T
    )
    f_bcc = np.array([sum(s.fraction for s in res.stable(i) if s.name == "BCC_A2") for i in range(len(xcr))])
    k = int(np.argmax(f_bcc > 0))  # first two-phase point
    assert 0 < k < len(xcr) - 1 and np.all(f_bcc[:k] == 0) and np.all(f_bcc[k:] > 0)
    step = xcr[1] - xcr[0]
    assert f_bcc[k] < 2 * (f_bcc[k + 1] - f_bcc[k]) + 1e-12  # starts from zero, no jump
    dmu = np.abs(np.diff(res.MU, axis=0)).max(axis=1)
    slope = np.abs(res.dmu_dx[:, 0, 0]).max() + np.abs(res.partial_dmu_dx).max()
    assert dmu.max() <= 2 * slope * step
    assert dmu[k - 1] <= 2 * np.median(dmu)  # no jump at the boundary


def test_warm_start_agrees_with_cold_and_follows_a_boundary():
    comps, T = ["FE", "CR", "NI"], 1373.15
    model = load_phases(FECRNI, ["FCC_A1", "BCC_A2"], comps)
    X = np.array([[0.33, 0.12], [0.254, 0.12], [0.1, 0.1]])  # row 1: just inside FCC_A1 + BCC_A2
    cold = model.equilibrium(X, T)
    X2 = X + [[2e-4, -1e-4], [-3e-3, 0.0], [1e-4, 1e-4]]  # row 1 leaves the two-phase field
    warm = model.equilibrium(X2, T, state=cold.state)
    again = model.equilibrium(X2, T)
    np.testing.assert_allclose(warm.MU, again.MU, rtol=1e-10)
    np.testing.assert_allclose(warm.dmu_dx, again.dmu_dx, rtol=1e-6, atol=1e-6)
    assert [[s.name for s in warm.stable(i)] for i in range(3)] == [[s.name for s in again.stable(i)] for i in range(3)]
    assert len(cold.stable(1)) == 2 and len(warm.stable(1)) == 1


def test_audit_finds_a_composition_set_a_warm_start_misses():
    """A warm start from single-phase gamma moved into the gamma/gamma' field stays one
    set (FCC_L12 is present, so no driving force is computed for it); the audit
    compares with the samples and finds gamma'."""
    model = load_phases(CASES_DB / "ni-cr-al.tdb", ["FCC_L12"], ["NI", "CR", "AL"])
    T = 1273.0
    start = model.equilibrium([[0.1, 0.0456]], T)
    assert len(start.stable(0)) == 1
    x = [[0.1, 0.1478]]
    plain = model.equilibrium(x, T, state=start.state)
    audited = model.equilibrium(x, T, state=start.state, audit=True)
    cold = model.equilibrium(x, T)
    assert len(plain.stable(0)) == 1 and len(audited.stable(0)) == 2
    assert float(audited.MU[0] @ audited.X[0]) < float(plain.MU[0] @ plain.X[0])
    np.testing.assert_allclose(audited.MU, cold.MU, rtol=1e-10)


def test_failed_rows_report_status_and_nan():
    model = load_phases(FECRNI, ["FCC_A1", "BCC_A2"], ["FE", "CR", "NI"])
    res = model.equilibrium([[0.3, 0.1], [0.7, 0.4], [0.3, 0.1]], [1373.15, 1373.15, 100.0], raise_on_failure=False)
    assert list(res.status) == [0, STATUS_BAD_COMPOSITION, STATUS_T_RANGE]
    for i in (1, 2):
        assert np.isnan(res.MU[i]).all() and np.isnan(res.dmu_dx[i]).all() and np.isnan(res.driving_forces[i]).all()
        assert res.stable(i) == [] and np.isnan(res.fractions[i]).all()
    with pytest.raises(InputError, match="T=100 K.*valid range 273-3000 K"):
        model.equilibrium([[0.3, 0.1]], 100.0)
    with pytest.raises(InputError, match="mole fractions"):
        model.equilibrium([[0.7, 0.4]], 1373.15)


@pytest.mark.parametrize(
    "phases,words",
    [
        (["FCC_A1", "NOSUCH"], ["NOSUCH", "not in"]),
        (["FCC_A1", "FCC_A1"], ["repeated", "FCC_A1"]),
        ([], ["at least one phase"]),
    ],
)
def test_bad_phase_lists(phases, words):
    with pytest.raises(InputError) as exc:
        load_phases(FECRNI, phases, ["FE", "CR", "NI"])
    for w in words:
        assert w in str(exc.value)


def test_phase_that_holds_none_of_the_components():
    with pytest.raises(InputError, match="GRAPHITE_A9: sublattice 0 holds none of the components FE, SI"):
        load_phases(CASES_DB / "fe-mn-si-c.tdb", ["FCC_A1", "GRAPHITE_A9"], ["FE", "SI"])
