"""The homogenization model against the exact two-phase Stefan solution of a binary.

Database tests/databases/two-phase-ab.tdb (fictitious, see its header): two ideal
phases ALPHA and BETA of A-B whose lattice stabilities fix the tie-line at x_B = 0.3
(alpha) and 0.6 (beta) at every temperature, with D = 1e-14 m^2/s in alpha and
1e-13 m^2/s in beta at every composition.  With one molar volume the concentrations are
x / V_s and V_s cancels: the problem is in mole fractions.

A couple alpha (x_B = c_a) | beta (x_B = c_b) in an unbounded medium: the profiles are
erf functions on either side of an interface at s = 2 k sqrt(t) (origin at the weld),
c = c_a + B_a (1 + erf(z / (2 sqrt(D_a t)))) for z < s and
c = c_b - B_b (1 - erf(z / (2 sqrt(D_b t)))) for z > s, with the tie-line ends at the
interface, B_a = (c_ab - c_a) / (1 + erf(k / sqrt(D_a))),
B_b = (c_b - c_ba) / (1 - erf(k / sqrt(D_b))), and the flux balance
v (c_ab - c_ba) = J_alpha - J_beta at the interface (v = ds/dt = k / sqrt(t),
J = -D dc/dz), i.e.

    (c_ab - c_ba) k = -B_a sqrt(D_a / pi) exp(-k^2 / D_a) + B_b sqrt(D_b / pi) exp(-k^2 / D_b).

(ARCHITECTURE section 10 writes the left side as (c_ba - c_ab) k: with its own profiles
that sign does not conserve the solute; the test checks the conservation of the exact
solution below.)

The interface of the homogenization result is where the sharp interface would be with
the same amount of beta: s = (z_right_end - integral of f_beta dz) - z_weld.  In the
exact solution f_beta is a step at s, so the integral measures s without picking a
node; the homogenization model smears the interface over the one or two nodes whose
composition lies in the two-phase field, and their lever-rule fractions place it inside
the cell.
"""

from __future__ import annotations

import numpy as np
import pytest
from stefan_couple import CA, CAB, CB, CBA, DB, DURATION, LENGTH, exact_profile, stefan_case, stefan_k


def test_exact_solution_conserves_the_solute():
    from scipy.integrate import quad

    k = stefan_k()
    t = DURATION
    s = 2.0 * k * np.sqrt(t)
    w = 20.0 * np.sqrt(DB * t)
    # the solute gained right of the weld's initial step minus that lost left of it, split
    # at the interface so that every piece is smooth
    gain = (
        quad(lambda z: exact_profile(z, t, k) - CA, -w, s, epsabs=1e-14)[0]
        + quad(lambda z: exact_profile(z, t, k) - CA, s, 0.0, epsabs=1e-14)[0]
        + quad(lambda z: exact_profile(z, t, k) - CB, 0.0, w, epsabs=1e-14)[0]
    )
    assert abs(gain) < 1e-9 * (CB - CA) * w
    assert k < 0.0  # beta (the fast phase, supplied by the richer side) grows into alpha


def _beta_fraction(res):
    names = list(res.attrs["phase_sets"]) if "phase_sets" in res.attrs else None
    frac = res.extra["phase_fraction"][-1]  # (z, set)
    cols = [j for j, s in enumerate(names) if s.split("#")[0] == "BETA"]
    return frac[:, cols].sum(axis=1)


@pytest.fixture(scope="module")
def runs():
    import kinsim

    return {nodes: kinsim.run(stefan_case(nodes)) for nodes in (100, 200, 400)}


def _interface(res):
    faces = np.asarray(res.faces)
    f_beta = _beta_fraction(res)
    return faces[-1] - np.sum(f_beta * np.diff(faces)) - LENGTH / 2


def test_interface_matches_the_stefan_solution_and_converges(runs):
    k = stefan_k()
    s_exact = 2.0 * k * np.sqrt(DURATION)
    errs = []
    for _nodes, res in sorted(runs.items()):
        assert res.time[-1] == pytest.approx(DURATION)
        errs.append(abs(_interface(res) - s_exact) / abs(s_exact))
    print("Stefan interface: k =", k, "s =", s_exact, "relative errors (100, 200, 400 nodes):", errs)
    assert errs[-1] < 0.04
    assert errs[2] < errs[1] < errs[0]  # converging with the grid


def test_profiles_match_the_stefan_solution(runs):
    k = stefan_k()
    res = runs[400]
    z = np.asarray(res.z) - LENGTH / 2
    x = res.x[-1][:, 1]
    exact = exact_profile(z, DURATION, k)
    s = 2.0 * k * np.sqrt(DURATION)
    away = np.abs(z - s) > 3.0 * (LENGTH / 400)  # the interface cells are smeared by construction
    assert np.max(np.abs(x - exact)[away]) < 0.01


def test_conservation_fractions_and_mass_balance(runs):
    res = runs[200]
    dz = np.diff(np.asarray(res.faces))
    xb = res.x[:, :, 1]
    totals = xb @ dz
    assert np.max(np.abs(totals - totals[0])) < 1e-10 * LENGTH
    frac = res.extra["phase_fraction"]
    comp = res.extra["phase_composition"]
    assert np.all(frac >= 0.0) and np.all(frac <= 1.0)
    assert np.allclose(frac.sum(axis=2), 1.0, atol=1e-10)
    # each node's mole fractions are the fraction-weighted compositions of its sets
    rebuilt = np.nansum(frac[..., None] * np.nan_to_num(comp), axis=2)
    assert np.max(np.abs(rebuilt - res.x)) < 1e-9
    # sets in a two-phase node sit at the tie-line ends
    two = (frac > 1e-9).sum(axis=2) == 2
    for t, i in zip(*np.nonzero(two)):
        present = frac[t, i] > 1e-9
        assert np.sort(comp[t, i, present, 1]) == pytest.approx([CAB, CBA], abs=1e-8)


def test_sweep_metrics_of_the_two_phase_couple_against_the_stefan_solution(runs):
    """The sweep's penetration depth (kinsim/sweep/metrics.py: where the profile has
    changed by 1 % of the initial jump, farthest from the weld) on the homogenization
    result converges to that of the exact solution; the overall composition stays within
    the couple's range (no uphill excursion in a binary)."""
    from scipy.optimize import brentq

    from kinsim.sweep import run_metrics

    k = stefan_k()
    thr = 0.01 * (CB - CA)
    s = 2.0 * k * np.sqrt(DURATION)

    def change(z):
        return abs(exact_profile(z, DURATION, k) - (CA if z < 0.0 else CB)) - thr

    reach = 20.0 * np.sqrt(DB * DURATION)
    exact = max(-brentq(change, -reach, s - 1e-12), brentq(change, 1e-12, reach))
    errs = []
    for _nodes, res in sorted(runs.items()):
        m = run_metrics(res)
        assert m["penetration_A_m"] == m["penetration_B_m"]
        assert m["uphill_excursion"] == 0.0 and m["uphill_component"] == ""
        errs.append(abs(m["penetration_B_m"] / exact - 1.0))
    print("penetration depth: exact", exact, "relative errors (100, 200, 400 nodes):", errs)
    assert errs[-1] < 0.02 and errs[-1] < errs[0]
    # the phase zones: in the exact solution beta has replaced alpha between the weld and
    # the interface, so both phases' fractions changed (by 1) over |s| from the weld and
    # nowhere else; the homogenization model smears the interface over a cell or two
    zone = []
    for _nodes, res in sorted(runs.items()):
        m = run_metrics(res)
        assert m["phase_zone_ALPHA_m"] == m["phase_zone_BETA_m"]
        zone.append(abs(m["phase_zone_BETA_m"] / abs(s) - 1.0))
    print("phase zone: exact", abs(s), "relative errors (100, 200, 400 nodes):", zone)
    assert zone[2] < zone[1] < zone[0] and zone[2] < 0.03
