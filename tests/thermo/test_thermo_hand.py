"""Second oracle: a subregular binary solution worked by hand.

G = x_A G_A + x_B G_B + RT (x_A ln x_A + x_B ln x_B) + x_A x_B (L0 + L1 (x_A - x_B))
mu_A = G - x_B dG/dx_B,  mu_B = G + x_A dG/dx_B  (x_A = 1 - x_B)
dmu_dx = d2G/dx_B2 = RT / (x_A x_B) - 2 L0 - 6 L1 (x_A - x_B)
partial_dmu_dx = d2G/dx_B2 * [[x_B^2, -x_A x_B], [-x_A x_B, x_A^2]]
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import TESTS_DB

from kinsim.phase import load_phase

R = 8.3145


def hand(xb, T):
    xa = 1 - xb
    GA, GB = -1000 - 10 * T, 2000 - 12 * T
    L0, L1 = 15000 - 4 * T, 3000.0
    E = xa * xb * (L0 + L1 * (xa - xb))
    G = xa * GA + xb * GB + R * T * (xa * math.log(xa) + xb * math.log(xb)) + E
    dE = (1 - 2 * xb) * (L0 + L1 * (1 - 2 * xb)) + xa * xb * (-2 * L1)
    dG = GB - GA + R * T * math.log(xb / xa) + dE
    d2G = R * T / (xa * xb) - 2 * L0 - 6 * L1 * (1 - 2 * xb)
    mu = np.array([G - xb * dG, G + xa * dG])
    P = d2G * np.array([[xb * xb, -xa * xb], [-xa * xb, xa * xa]])
    return G, mu, d2G, P


@pytest.mark.parametrize("xb", [0.01, 0.2, 0.5, 0.77, 0.999])
@pytest.mark.parametrize("T", [500.0, 1400.0])
def test_subregular_binary_by_hand(xb, T):
    model = load_phase(TESTS_DB / "regular-ab.tdb", "LIQUID", ["A", "B"])
    res = model.equilibrium([[xb]], T)
    G, mu, d2G, P = hand(xb, T)
    assert res.GM[0] == pytest.approx(G, rel=1e-12, abs=1e-9)
    np.testing.assert_allclose(res.MU[0], mu, rtol=1e-11, atol=1e-8)
    assert res.dmu_dx[0, 0, 0] == pytest.approx(d2G, rel=1e-9)
    np.testing.assert_allclose(res.partial_dmu_dx[0], P, rtol=1e-9, atol=1e-9 * abs(P).max())


def test_inside_the_spinodal_dmu_dx_is_negative():
    """At 500 K, L0 = 13 kJ/mol makes the middle of the system unstable: d2G/dx2 < 0.
    The kernel must still return it (no internal degrees of freedom to fail on)."""
    model = load_phase(TESTS_DB / "regular-ab.tdb", "LIQUID", ["A", "B"])
    res = model.equilibrium([[0.5]], 500.0)
    assert res.dmu_dx[0, 0, 0] < 0
    assert res.dmu_dx[0, 0, 0] == pytest.approx(hand(0.5, 500.0)[2], rel=1e-9)
