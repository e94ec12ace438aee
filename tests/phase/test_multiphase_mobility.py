"""Mobilities of the composition sets of a phase set (kinsim.kernels.mpmobility, for the
homogenization model) against the single-phase model's (PhaseModel.mobilities): the
same numbers at the same site fractions; the vacancy factor of interstitials; the
policy for phases without mobility data."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import CASES_DB, TESTS_DB

from kinsim.errors import DatabaseError, InputError
from kinsim.kernels.mpmobility import mp_set_mobilities
from kinsim.kernels.mpphase import mp_workspace
from kinsim.phase import load_phase
from kinsim.phaseset import load_phases

FECRNI = TESTS_DB / "fe-cr-ni.tdb"
FEC_AG = CASES_DB / "fe-c-alpha-gamma.tdb"


def kernel_mobilities(model, a, y, T):
    """set_mobilities of phase a at site fractions y, through the batch kernel."""
    Kmax = model.params.y_comp.shape[1]
    SY = np.zeros((1, 1, Kmax))
    SY[0, 0, : len(y)] = y
    n = len(model.components)
    M, yva, st = np.empty((1, 1, n)), np.empty((1, 1, n)), np.empty(1, dtype=np.int64)
    mp_set_mobilities(model.params, T, np.array([[a]]), SY, M, yva, st, mp_workspace(model.params))
    assert st[0] == 0
    return M[0, 0], yva[0, 0]


def test_the_single_phase_numbers_in_every_set():
    """Fe-Cr-Ni FCC_A1 + BCC_A2 at 1373.15 K (one- and two-phase rows): each set's
    mobilities are those of its phase alone at the set's composition; at the same site
    fractions they are the same numbers, bit for bit."""
    comps, T = ["FE", "CR", "NI"], 1373.15
    model = load_phases(FECRNI, ["FCC_A1", "BCC_A2"], comps, mobility="error")
    res = model.equilibrium([[0.1, 0.1], [0.33, 0.12], [0.55, 0.05]], T)
    assert [len(res.stable(i)) for i in range(3)] == [1, 2, 1]
    M, yva = model.mobilities(res)
    assert np.all(yva[res.state.set_phase >= 0] == 1.0)  # all substitutional
    assert np.isnan(M[res.state.set_phase < 0]).all()
    checked = 0
    for a, phase in enumerate(model.phases):
        one = load_phase(FECRNI, phase, comps, mobility="error")
        for i, j in zip(*np.nonzero(res.state.set_phase == a)):
            x = res.compositions[i, j, 1:]
            np.testing.assert_allclose(M[i, j], one.mobilities([x], T)[0], rtol=1e-12)
            y = one.equilibrium([x], T).site_fractions[0]
            assert np.array_equal(kernel_mobilities(model, a, y, T)[0], one.mobilities([x], T)[0])
            checked += 1
    assert checked == 4


def test_interstitial_carbon_and_phases_without_mobility_data():
    """Fe-C at 1000 K, ferrite + graphite (graphite is the stable carbon-rich phase):
    carbon is interstitial in ferrite (factor y_VA of its sublattice); graphite, with no
    MQ parameters, gets zero mobilities under the "solvent" policy, listed; iron in
    graphite has zero mobility and zero factor (graphite holds no iron)."""
    phases = ["FCC_A1", "BCC_A2", "CEMENTITE_D011", "GRAPHITE_A9"]
    model = load_phases(FEC_AG, phases, ["FE", "C"], mobility="solvent")
    subs = model.mobility_substituted
    assert set(subs) == {"BCC_A2", "CEMENTITE_D011", "GRAPHITE_A9"}
    assert "zero" in subs["GRAPHITE_A9"][0] and "FE:C" in subs["BCC_A2"][0]
    res = model.equilibrium([[0.02]], 1000.0)
    assert [s.name for s in res.stable(0)] == ["BCC_A2", "GRAPHITE_A9"]
    M, yva = model.mobilities(res)
    bcc = load_phase(FEC_AG, "BCC_A2", ["FE", "C"], mobility="solvent")
    y = res.state.set_y[0, 0, :2]  # y(C), y(VA) on the interstitial sublattice
    assert yva[0, 0].tolist() == [1.0, y[1]]
    x = [[res.compositions[0, 0, 1]]]
    y_one = bcc.equilibrium(x, 1000.0).site_fractions[0]
    assert np.array_equal(kernel_mobilities(model, 1, y_one, 1000.0)[0], bcc.mobilities(x, 1000.0)[0])
    np.testing.assert_allclose(M[0, 0], bcc.mobilities(x, 1000.0)[0], rtol=1e-12)
    assert M[0, 1].tolist() == [0.0, 0.0] and yva[0, 1].tolist() == [0.0, 1.0]


def test_policy_error_and_no_policy():
    with pytest.raises(DatabaseError, match="CEMENTITE_D011 has no mobility"):
        load_phases(FEC_AG, ["FCC_A1", "CEMENTITE_D011"], ["FE", "C"], mobility="error")
    model = load_phases(FEC_AG, ["FCC_A1", "CEMENTITE_D011"], ["FE", "C"])
    res = model.equilibrium([[0.05]], 1100.0)
    with pytest.raises(InputError, match="without mobility parameters"):
        model.mobilities(res)
