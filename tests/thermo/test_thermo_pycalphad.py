"""kinsim's per-node equilibrium against pycalphad (an oracle nobody here wrote).

For each system and composition: GM and MU within 1e-6 relative of pycalphad's
single-phase equilibrium; dmu_dx within 1e-4 (relative to the matrix) of central
differences of pycalphad's chemical potentials; partial_dmu_dx symmetric, homogeneous
(P @ x = 0), and its projection equal to dmu_dx.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import CASES_DB, TESTS_DB, pycalphad_point

from kinsim.phase import load_phase

pytest.importorskip("pycalphad")

R = 8.3145

SYSTEMS = [
    # id, database, phase, components (reference first), T, compositions of comps[1:]
    (
        "NiCrAl-FCC_A1",
        CASES_DB / "ni-cr-al.tdb",
        "FCC_A1",
        ["NI", "CR", "AL"],
        1473.15,
        [(0.21, 0.058), (0.077, 0.054), (0.359, 0.062)],
    ),
    (
        "FeCrNi-BCC_A2-ferromagnetic",
        TESTS_DB / "fe-cr-ni.tdb",
        "BCC_A2",
        ["FE", "CR", "NI"],
        900.0,
        [(0.10, 0.05), (0.30, 0.02)],
    ),
    (
        "FeCrNi-BCC_A2-paramagnetic",
        TESTS_DB / "fe-cr-ni.tdb",
        "BCC_A2",
        ["FE", "CR", "NI"],
        1200.0,
        [(0.10, 0.05), (0.60, 0.03)],
    ),
    (
        "FeSiC-FCC_A1-interstitial",
        CASES_DB / "fe-mn-si-c.tdb",
        "FCC_A1",
        ["FE", "SI", "C"],
        1323.15,
        [(0.07159, 0.02159), (0.00098, 0.02057)],
    ),
    ("CuNi-binary", TESTS_DB / "cu-ni.tdb", "FCC_A1", ["CU", "NI"], 1273.0, [(0.3,), (0.8,)]),
    (
        "FeMnSiC-quaternary",
        CASES_DB / "fe-mn-si-c.tdb",
        "FCC_A1",
        ["FE", "MN", "SI", "C"],
        1323.15,
        [(0.06, 0.07159, 0.02159), (0.002, 0.0014, 0.025)],
    ),
    (
        "FeCrNi-SIGMA-internal-dof",
        TESTS_DB / "fe-cr-ni.tdb",
        "SIGMA",
        ["FE", "CR", "NI"],
        1000.0,
        [(0.48, 0.05), (0.40, 0.10)],
    ),
    (
        "NiAl-FCC_L12-ordered-partitioned",
        CASES_DB / "ni-cr-al.tdb",
        "FCC_L12",
        ["NI", "AL"],
        1000.0,
        [(0.24,), (0.25,)],
    ),
    (
        "NiCrAl-FCC_L12-ordered-partitioned",
        CASES_DB / "ni-cr-al.tdb",
        "FCC_L12",
        ["NI", "CR", "AL"],
        1273.0,
        [(0.05, 0.22)],
    ),
]

CASES = [(sid, db, ph, comps, T, x) for sid, db, ph, comps, T, xs in SYSTEMS for x in xs]


@pytest.mark.parametrize("sid,db,phase,comps,T,x", CASES, ids=[f"{c[0]}-{c[5]}" for c in CASES])
def test_against_pycalphad(sid, db, phase, comps, T, x):
    model = load_phase(db, phase, comps)
    res = model.equilibrium([x], T)
    gm_pc, mu_pc, fd = pycalphad_point(db, comps, phase, T, x)
    assert res.status[0] == 0
    assert abs(res.GM[0] - gm_pc) <= 1e-6 * abs(gm_pc)
    scale = np.maximum(np.abs(mu_pc), R * T)
    assert np.all(np.abs(res.MU[0] - mu_pc) <= 1e-6 * scale), (res.MU[0], mu_pc)
    D = res.dmu_dx[0]
    assert np.max(np.abs(D - fd)) <= 1e-4 * np.max(np.abs(fd)), (D, fd)
    P = res.partial_dmu_dx[0]
    pscale = np.max(np.abs(P))
    assert np.max(np.abs(P - P.T)) <= 1e-9 * pscale
    assert np.max(np.abs(P @ res.X[0])) <= 1e-9 * pscale
    proj = P[1:, 1:] - P[1:, :1] - P[:1, 1:] + P[0, 0]
    np.testing.assert_allclose(proj, D, rtol=0, atol=1e-12 * pscale)


def test_ordered_phase_finds_the_ordered_state():
    """At Ni3Al the L12 phase is ordered: Al fills the 0.25 sublattice, Ni the 0.75 one.
    The disordered configuration is a stationary point too; the solver must leave it."""
    model = load_phase(CASES_DB / "ni-cr-al.tdb", "FCC_L12", ["NI", "AL"])
    res = model.equilibrium([(0.24,)], 1000.0)
    y = dict(zip(model.desc.site_names, res.site_fractions[0]))
    assert y["y(FCC_L12,1,AL)"] > 0.9
    assert y["y(FCC_L12,0,AL)"] < 0.01
    # and the same from a warm start at the disordered point
    res2 = model.equilibrium([(0.24,)], 1000.0, y0=[[0.24, 0.76, 0.24, 0.76]])
    np.testing.assert_allclose(res2.site_fractions, res.site_fractions, atol=1e-9)
