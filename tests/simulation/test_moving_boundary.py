"""The moving-boundary model ([[region]] tables): regions of one phase each, separated by
sharp interfaces at local equilibrium that move with the flux balance
v (c_left - c_right) = J_left - J_right.

Oracles: the exact two-phase Stefan solution (two ideal phases with constant D, a fixed
tie-line), Zener's parabolic growth of ferrite (its similarity solution, with the
composition-dependent carbon diffusivity of austenite), pycalphad's two-phase equilibrium
for the interface compositions of a ternary couple, and conservation of every
component."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import CASES_DB, REPO, TESTS_DB
from scipy.integrate import solve_ivp
from scipy.interpolate import CubicSpline
from scipy.optimize import brentq
from scipy.special import erf, erfc

import kinsim
from kinsim.case import load_case
from kinsim.cli import main
from kinsim.grid import GEOMETRIES
from kinsim.simulation.setup import to_u
from kinsim.storage import ResultWriter, read_result

TWO_PHASES = TESTS_DB / "two-phase-ab.tdb"  # shared with the homogenization model's Stefan test
FERRITE = REPO / "cases" / "ferrite-growth-fe-c.toml"
R = 8.3145  # J/(mol K), the database's
T_STEFAN = 1000.0
D_ALPHA, D_BETA = 1e-14, 1e-13  # m^2/s, the database's (MQ = RT ln D)
X_ALPHA, X_BETA = 0.05, 0.9  # far-field mole fractions of B


def _tie_line():
    """x_B of ALPHA and BETA at equal chemical potentials, from the database's lattice
    stabilities: x_A(ALPHA) / x_A(BETA) = 7/4 and x_B(ALPHA) / x_B(BETA) = 1/2 at every
    temperature, i.e. 1 - x = 7/4 (1 - 2 x)."""
    ka, kb = 1.75, 0.5
    xa = (ka - 1.0) / (ka / kb - 1.0)
    return xa, xa / kb


def _stefan_k():
    """The interface at s0 + 2 k sqrt(t): phase a (ALPHA, left, semi-infinite) and b
    (BETA), far fields c_a, c_b, interface compositions c_ab, c_ba, constant D_a, D_b.
    With c = c_a + B_a (1 + erf(eta / sqrt(D_a))) left and c_b - B_b erfc(eta / sqrt(D_b))
    right (eta = (z - s0) / (2 sqrt(t))), the flux balance at eta = k gives

        k (c_ba - c_ab) = B_a sqrt(D_a/pi) exp(-k^2/D_a) - B_b sqrt(D_b/pi) exp(-k^2/D_b),
        B_a = (c_ab - c_a) / (1 + erf(k/sqrt(D_a))),  B_b = (c_b - c_ba) / erfc(k/sqrt(D_b)).

    (ARCHITECTURE.md section 10 writes both right-hand terms with the opposite sign.)"""
    c_ab, c_ba = _tie_line()

    def B(k):
        return (c_ab - X_ALPHA) / (1.0 + erf(k / math.sqrt(D_ALPHA))), (X_BETA - c_ba) / erfc(k / math.sqrt(D_BETA))

    def balance(k):
        ba, bb = B(k)
        return (
            k * (c_ba - c_ab)
            - ba * math.sqrt(D_ALPHA / math.pi) * math.exp(-k * k / D_ALPHA)
            + bb * math.sqrt(D_BETA / math.pi) * math.exp(-k * k / D_BETA)
        )

    k = brentq(balance, -3e-7, 3e-7, xtol=1e-20)
    return k, B(k)


def _stefan_case(nodes, ratio, width="0.5 mm", duration="10 h"):
    def region(phase, x):
        return {
            "phase": phase,
            "width": width,
            "nodes": nodes,
            "spacing": "geometric",
            "ratio": ratio,
            "composition": {"B": x},
        }

    return {
        "title": "Stefan",
        "thermo": {"database": str(TWO_PHASES), "components": ["A", "B"]},
        "conditions": {"temperature": T_STEFAN, "duration": duration},
        "grid": {"geometry": "planar"},
        "region": [region("ALPHA", X_ALPHA), region("BETA", X_BETA)],
        "solver": {"rtol": 1e-5, "atol": 1e-8},
        "output": {"snapshots": 3},
    }


def _contents(r):
    """(time, component) amounts: the sum of u V over the cells (x V_s: mol per unit area,
    per radian and unit height, or per steradian), V from the volume coordinate
    z^(m+1) / (m+1) of the faces (m = 0, 1, 2: planar, cylindrical, spherical)."""
    inter = r.parameters["thermo_interstitial"].astype(bool)
    u = r.x / (r.x * ~inter).sum(axis=2, keepdims=True)
    m = GEOMETRIES[r.case.grid.geometry]
    volumes = np.diff(r.extra["face_position"] ** (m + 1) / (m + 1), axis=1)
    return (u * volumes[:, :, None]).sum(axis=1)


def _stefan_errors(r):
    k, (ba, bb) = _stefan_k()
    s0 = 0.5e-3
    t = r.time[-1]
    exact = 2.0 * k * math.sqrt(t)
    moved = r.interfaces[-1, 0] - s0
    z = r.node_positions(-1)
    eta = (z - s0) / (2.0 * math.sqrt(t))
    x = np.where(
        z < r.interfaces[-1, 0],
        X_ALPHA + ba * (1.0 + erf(eta / math.sqrt(D_ALPHA))),
        X_BETA - bb * erfc(eta / math.sqrt(D_BETA)),
    )
    return abs(moved / exact - 1.0), float(np.abs(r.x[-1, :, 1] - x).max())


def test_stefan_exact_solution_converging_with_the_grid():
    k, _ = _stefan_k()
    assert k < 0 and 2.0 * abs(k) * math.sqrt(36000.0) > 20e-6  # BETA grows 22.6 um into ALPHA in 10 h
    coarse = _stefan_errors(kinsim.run(_stefan_case(20, 1.14)))
    fine = _stefan_errors(kinsim.run(_stefan_case(40, 1.07)))
    for pos, prof in (coarse, fine):
        assert pos < 0.01  # interface displacement 2k sqrt(t) within 1 %
        assert prof < 3e-3  # profiles within a few 1e-3 (mole fraction)
    assert fine[0] < coarse[0] / 2.5 and fine[1] < coarse[1] / 2.5  # second order in the node spacing


def test_stefan_interface_states_conservation_and_parabolic_law():
    r = kinsim.run(_stefan_case(20, 1.14))
    c_ab, c_ba = _tie_line()
    np.testing.assert_allclose(r.extra["interface_x_left"][:, 0, 1], c_ab, rtol=1e-9)
    np.testing.assert_allclose(r.extra["interface_x_right"][:, 0, 1], c_ba, rtol=1e-9)
    q = _contents(r)
    np.testing.assert_allclose(q, np.broadcast_to(q[0], q.shape), rtol=1e-12, atol=0)
    # s - s0 grows as sqrt(t) at every snapshot
    k, _ = _stefan_k()
    moved = r.interfaces[1:, 0] - 0.5e-3
    np.testing.assert_allclose(moved / (2.0 * np.sqrt(r.time[1:])), k, rtol=0.01)
    # the faces follow the interface, the ends stay
    F = r.extra["face_position"]
    assert np.all(F[:, 0] == 0.0) and np.allclose(F[:, -1], 1e-3, rtol=1e-15)
    assert np.any(np.isclose(F[-1], r.interfaces[-1, 0], rtol=1e-14))


def _carbon_diffusivity(x, T):
    """D (m^2/s) of carbon in austenite at mole fractions x: J_C = -(D/V_s) du_C/dz in the
    volume-fixed frame, D = (M_C u y_VA + M_Fe u^2) dmu_C/du_C (Fe the only
    substitutional; the database's mobilities and thermodynamics)."""
    from kinsim.phase import load_phase

    m = load_phase(CASES_DB / "fe-c-alpha-gamma.tdb", "FCC_A1", ["FE", "C"], mobility="solvent")
    X = np.asarray(x, dtype=float)[:, None]
    res = m.equilibrium(X, T)
    M = m.mobilities(X, T)
    u = X[:, 0] / (1.0 - X[:, 0])
    dmu_du = res.partial_dmu_dx[:, 1, 1] * (1.0 - X[:, 0])
    return (M[:, 1] * u * (1.0 - u) + M[:, 0] * u * u) * dmu_du


def _zener_k(u_alpha, u_gamma, u0, D):
    """Zener's parabolic growth s = 2 k sqrt(t) of ferrite (no carbon diffusion in it) into
    austenite of carbon u-fraction u0 with the diffusivity D(u): the similarity solution of
    d/deta (D du/deta) = -2 eta du/deta for eta > k, u(k) = u_gamma, u(inf) = u0, with the
    flux balance D du/deta = 2 k (u_alpha - u_gamma) at eta = k (shooting on k).  For
    constant D it is Zener's (u_gamma - u0)/(u_gamma - u_alpha) = sqrt(pi) q exp(q^2)
    erfc(q), q = k/sqrt(D)."""

    def miss(k):
        def rhs(eta, y):
            d = D(y[0])
            return [y[1] / d, -2.0 * eta * y[1] / d]

        sol = solve_ivp(
            rhs, [k, k + 12.0 * math.sqrt(D(u_gamma))], [u_gamma, 2.0 * k * (u_alpha - u_gamma)], rtol=1e-11, atol=1e-16
        )
        return sol.y[0, -1] - u0

    return brentq(miss, 1e-9, 1e-5, xtol=1e-16)


def test_zener_similarity_solver_reproduces_zeners_formula_for_constant_D():
    ua, ug, u0, D = 0.0006, 0.016, 0.005, 2e-12
    k = _zener_k(ua, ug, u0, lambda u: D)
    q = k / math.sqrt(D)
    omega = (ug - u0) / (ug - ua)
    assert math.sqrt(math.pi) * q * math.exp(q * q) * erfc(q) == pytest.approx(omega, rel=1e-7)


def test_ferrite_nucleates_and_grows_as_zener_says():
    case = load_case(
        FERRITE, overrides=["conditions.duration=2 min", 'output.snapshots=["1 s", "10 s", "30 s", "1 min", "2 min"]']
    )
    r = kinsim.run(case)
    T = case.conditions.temperature
    # the ferrite nucleated at t = 0 at the tie-line end, the interface at the alpha/gamma tie-line
    x_alpha = r.extra["interface_x_left"][:, 0, 1]
    x_gamma = r.extra["interface_x_right"][:, 0, 1]
    assert r.x[0, 0, 1] == pytest.approx(x_alpha[0], rel=1e-9)
    assert r.extra["region_width"][0, 0] < 1e-6  # a nucleus
    np.testing.assert_allclose(x_alpha, 0.000556, rtol=2e-3)  # the database engineer's pycalphad tie-line
    np.testing.assert_allclose(x_gamma, 0.015675, rtol=2e-3)
    # parabolic
    s = r.interfaces[1:, 0]
    K = s / np.sqrt(r.time[1:])
    assert np.ptp(K) / K.mean() < 2e-3
    # Zener's law with the composition-dependent diffusivity of austenite
    u = to_u(r.x[0], np.array([1.0, 0.0]))
    u0 = float(u[-1, 1])
    ua, ug = x_alpha[-1] / (1 - x_alpha[-1]), x_gamma[-1] / (1 - x_gamma[-1])
    xs = np.linspace(0.9 * r.x[0, -1, 1], 1.05 * x_gamma[-1], 40)
    spline = CubicSpline(xs / (1 - xs), _carbon_diffusivity(xs, T))
    k = _zener_k(ua, ug, u0, lambda v: float(spline(v)))
    assert K.mean() == pytest.approx(2.0 * k, rel=3e-3)
    # and between Zener's constant-D laws with D at the two ends of the austenite's range
    d0, d1 = _carbon_diffusivity([r.x[0, -1, 1], x_gamma[-1]], T)
    assert 2.0 * _zener_k(ua, ug, u0, lambda v: d0) < K.mean() < 2.0 * _zener_k(ua, ug, u0, lambda v: d1)
    q = _contents(r)
    np.testing.assert_allclose(q[:, 1], np.full(q.shape[0], q[0, 1]), rtol=1e-12, atol=0)


def _stefan_penetration():
    """The 1 % penetration depth of the exact Stefan solution at 10 h (the sweep metric's
    definition, kinsim/sweep/metrics.py): the farther of the two points, one in each
    phase, where the profile has changed by 1 % of the initial jump X_BETA - X_ALPHA, from
    the interface at t = 0."""
    k, (ba, bb) = _stefan_k()
    root_t, thr = math.sqrt(36000.0), 0.01 * (X_BETA - X_ALPHA)
    left = brentq(lambda e: ba * (1.0 + erf(e / math.sqrt(D_ALPHA))) - thr, -1e-5, k)
    right = brentq(lambda e: bb * erfc(e / math.sqrt(D_BETA)) - thr, k, 1e-5)
    return 2.0 * root_t * max(-left, right)


def test_sweep_metrics_of_a_moving_boundary_run():
    """The penetration depth compares the profiles where the nodes were at t = 0 (they
    move with the interface): against the exact Stefan solution it converges with the
    grid (read at the moved node indices it stays about 8 % long).  The carbon that
    growing ferrite piles up ahead of its interface, at the tie-line composition, is not
    an uphill excursion."""
    from kinsim.sweep import penetration_depths, run_metrics

    exact = _stefan_penetration()
    assert exact == pytest.approx(1.796e-4, rel=1e-3)  # in the BETA phase, which diffuses faster
    errors = []
    for nodes, ratio in ((20, 1.14), (40, 1.07)):
        depth = penetration_depths(kinsim.run(_stefan_case(nodes, ratio)))
        assert depth["A"] == pytest.approx(depth["B"], rel=1e-12)  # a binary: one profile (to round-off)
        errors.append(abs(depth["B"] / exact - 1.0))
    assert errors[1] < 0.01 and errors[1] < errors[0] / 4
    r = kinsim.run(load_case(FERRITE, overrides=["conditions.duration=2 min", 'output.snapshots=["1 min", "2 min"]']))
    assert r.x[-1, :, 1].max() > r.x[0, :, 1].max() + 0.01  # C piles up above its start range
    metrics = run_metrics(r)
    assert metrics["uphill_excursion"] == 0.0 and metrics["uphill_component"] == ""


def _ternary_case(duration="10 h"):
    return {
        "title": "Fe-Cr-Ni ferrite | austenite",
        "thermo": {"database": str(CASES_DB / "fe-cr-ni.tdb"), "components": ["FE", "CR", "NI"]},
        "conditions": {"temperature": 1373.15, "duration": duration},
        "grid": {"geometry": "planar"},
        "region": [
            {
                "phase": "BCC_A2",
                "width": "100 um",
                "nodes": 30,
                "spacing": "geometric",
                "ratio": 1.07,
                "composition": {"CR": 0.40, "NI": 0.05},
            },
            {
                "phase": "FCC_A1",
                "width": "100 um",
                "nodes": 30,
                "spacing": "geometric",
                "ratio": 1.07,
                "composition": {"CR": 0.20, "NI": 0.20},
            },
        ],
        "output": {"snapshots": 4},
    }


def test_ternary_couple_interface_on_pycalphads_tie_line_with_the_flux_balance():
    from pycalphad import Database, equilibrium
    from pycalphad import variables as v

    r = kinsim.run(_ternary_case())
    assert abs(r.interfaces[-1, 0] - r.interfaces[0, 0]) > 1e-6  # the interface moved
    db = Database(str(CASES_DB / "fe-cr-ni.tdb"))
    comps = ["FE", "CR", "NI", "VA"]
    T = 1373.15
    Vs = r.case.mobility.molar_volume
    for it in range(1, r.n_snapshots):
        xa = r.extra["interface_x_left"][it, 0]
        xb = r.extra["interface_x_right"][it, 0]
        # the operating tie-line is not the one through the couple's mean composition
        mid = 0.5 * (xa + xb)
        eq = equilibrium(
            db, comps, ["BCC_A2", "FCC_A1"], {v.T: T, v.P: 101325, v.N: 1, v.X("CR"): mid[1], v.X("NI"): mid[2]}
        )
        phases = [str(p) for p in eq.Phase.values.ravel()]
        X = eq.X.values.reshape(-1, 3)
        order = [str(c) for c in eq.component.values]
        idx = [order.index(c) for c in ("FE", "CR", "NI")]
        np.testing.assert_allclose(X[phases.index("BCC_A2")][idx], xa, atol=2e-6)
        np.testing.assert_allclose(X[phases.index("FCC_A1")][idx], xb, atol=2e-6)
        # the flux balance v (c_a - c_b) = J_a - J_b of the independent components
        vel = r.extra["interface_velocity"][it, 0]
        ua, ub = to_u(xa, np.ones(3)), to_u(xb, np.ones(3))
        Ja, Jb = r.extra["interface_flux_left"][it, 0], r.extra["interface_flux_right"][it, 0]
        np.testing.assert_allclose(
            vel * (ua - ub)[1:] / Vs, (Ja - Jb)[1:], rtol=0, atol=1e-5 * np.abs(Ja - Jb)[1:].max()
        )
    q = _contents(r)
    np.testing.assert_allclose(q, np.broadcast_to(q[0], q.shape), rtol=1e-12, atol=0)


def _pycalphad_mu(db, phase, comps, T, x):
    """pycalphad's chemical potentials (J/mol, in the order of ``comps``) of one phase at x."""
    from pycalphad import equilibrium
    from pycalphad import variables as v

    conds = {v.T: T, v.P: 101325, v.N: 1, **{v.X(c): float(xc) for c, xc in zip(comps[1:], x[1:])}}
    eq = equilibrium(db, list(comps) + ["VA"], [phase], conds)
    order = [str(c) for c in eq.component.values]
    mu = eq.MU.values.ravel()
    return np.array([mu[order.index(c)] for c in comps])


def test_para_equilibrium_ferrite_in_fe_mn_c():
    """Para-equilibrium: Mn does not partition (u_Mn equal on both sides), carbon is at
    equal chemical potential and u_Fe dmu_Fe + u_Mn dmu_Mn = 0 across the interface, with
    pycalphad's chemical potentials; full local equilibrium would partition Mn."""
    from pycalphad import Database

    data = {
        "title": "para-equilibrium ferrite",
        "thermo": {"database": str(CASES_DB / "fe-mn-si-c.tdb"), "components": ["FE", "MN", "C"]},
        "conditions": {"temperature": 1050, "duration": "60 s"},
        "grid": {"geometry": "planar"},
        "region": [
            {"phase": "BCC_A2", "width": 0, "nodes": 20, "interface": "para-equilibrium"},
            {
                "phase": "FCC_A1",
                "width": "50 um",
                "nodes": 60,
                "spacing": "geometric",
                "ratio": 1.04,
                "composition": {"MN": 0.015, "C": 0.005},
            },
        ],
        "mobility": {"missing": "solvent", "molar_volume": 7.1e-6},
        "output": {"snapshots": 3},
    }
    r = kinsim.run(data)
    assert r.interfaces[-1, 0] > 5e-6  # the ferrite grew
    db = Database(str(CASES_DB / "fe-mn-si-c.tdb"))
    comps = ["FE", "MN", "C"]
    RT = R * 1050
    for it in range(1, r.n_snapshots):
        xa, xb = r.extra["interface_x_left"][it, 0], r.extra["interface_x_right"][it, 0]
        assert xa[1] / xa[0] == pytest.approx(xb[1] / xb[0], rel=1e-9)
        dmu = _pycalphad_mu(db, "BCC_A2", comps, 1050, xa) - _pycalphad_mu(db, "FCC_A1", comps, 1050, xb)
        assert abs(dmu[2]) < 1e-5 * RT
        assert abs(dmu[0] + xa[1] / xa[0] * dmu[1]) < 1e-5 * RT
        assert abs(dmu[1]) > 1e-3 * RT  # Mn is not at equal potential: not the full local equilibrium
    q = _contents(r)
    np.testing.assert_allclose(q, np.broadcast_to(q[0], q.shape), rtol=1e-12, atol=0)


def _vanishing_case(regions):
    return {
        "title": "vanishing",
        "thermo": {"database": str(TWO_PHASES), "components": ["A", "B"]},
        "conditions": {"temperature": T_STEFAN, "duration": "4 h"},
        "grid": {"geometry": "planar"},
        "region": regions,
        "output": {"snapshots": 8},
    }


def _region(phase, width, nodes, x, spacing="linear"):
    return {"phase": phase, "width": width, "nodes": nodes, "spacing": spacing, "composition": {"B": x}}


def test_an_end_region_vanishes_and_the_run_goes_on():
    r = kinsim.run(
        _vanishing_case([_region("ALPHA", "10 um", 20, 0.15), _region("BETA", "200 um", 40, 0.9, "geometric")])
    )
    assert r.status == "completed" and r.time[-1] == pytest.approx(4 * 3600.0)
    w = r.extra["region_width"]
    assert w[0, 0] == pytest.approx(10e-6) and w[-1, 0] == 0.0 and w[-1, 1] == pytest.approx(210e-6)
    assert np.isnan(r.interfaces[-1, 0])
    gone = np.flatnonzero(w[:, 0] == 0.0)[0]
    assert gone > 1 and np.all(np.diff(w[:gone, 0]) < 0)  # it shrank, then vanished
    assert np.all(np.isfinite(r.x)) and np.all(r.x[-1, :, 1] > 0.6)  # BETA everywhere
    assert r.stability_end.checked == ["BETA#2"] and r.stability_end.unstable == []  # the region left
    q = _contents(r)
    np.testing.assert_allclose(q, np.broadcast_to(q[0], q.shape), rtol=1e-12, atol=0)


def test_a_middle_region_vanishes_and_its_neighbours_join():
    r = kinsim.run(
        _vanishing_case(
            [
                _region("BETA", "100 um", 30, 0.9, "geometric"),
                _region("ALPHA", "5 um", 20, 0.15),
                _region("BETA", "100 um", 30, 0.8, "geometric"),
            ]
        )
    )
    assert r.status == "completed"
    w = r.extra["region_width"]
    assert w[-1, 1] == 0.0 and w[-1, 0] > 100e-6 and w[-1, 2] > 100e-6
    # one wall is left where the two BETA regions meet; it no longer moves
    left = r.interfaces[:, 0]
    assert np.isnan(r.interfaces[-1, 1]) and np.isfinite(left[-1])
    after = np.flatnonzero(w[:, 1] == 0.0)
    assert np.ptp(left[after]) == 0.0
    # B is continuous across the joined face and flows through it
    x = r.x[-1, :, 1]
    i = int(np.argmin(np.abs(r.node_positions(-1) - left[-1])))
    assert abs(x[i + 1] - x[i - 1]) < 0.02
    q = _contents(r)
    np.testing.assert_allclose(q, np.broadcast_to(q[0], q.shape), rtol=1e-12, atol=0)


@pytest.mark.parametrize("geometry", ["cylindrical", "spherical"])
def test_a_core_region_in_curved_geometries_conserves_and_moves_its_own_way(geometry):
    """An ALPHA core (radius 20 um) in a BETA shell: the contents weighted by the cells'
    volumes (z^(m+1)/(m+1)) stay constant, so the kernels' cell volumes, face areas and
    moving-face volumes are the curved geometry's; the interface moves, and not as in the
    planar slab of the same widths."""
    regions = [_region("ALPHA", "20 um", 20, 0.15), _region("BETA", "100 um", 30, 0.9, "geometric")]
    planar = _vanishing_case(regions)
    planar["conditions"]["duration"] = "20 min"
    curved = {**planar, "grid": {"geometry": geometry}}
    r = kinsim.run(curved)
    assert r.status == "completed"
    q = _contents(r)
    np.testing.assert_allclose(q, np.broadcast_to(q[0], q.shape), rtol=1e-12, atol=0)
    moved = r.interfaces[-1, 0] - 20e-6
    assert abs(moved) > 0.5e-6
    flat = kinsim.run(planar).interfaces[-1, 0] - 20e-6
    assert abs(moved - flat) > 0.05 * abs(flat)


def test_region_result_file_layout_and_xarray(tmp_path):
    out = tmp_path / "stefan.h5"
    kinsim.run(_stefan_case(10, 1.3, duration="1 h"), output=out)
    r = read_result(out)
    assert r.x.shape == (4, 20, 2) and r.faces.shape == (21,) and r.markers.shape == (4, 0)
    assert r.extra["node_position"].shape == (4, 20) and r.interfaces.shape == (4, 1)
    assert r.extra_units["interface_position"] == "m"
    assert r.case.regions[1].phase == "BETA" and r.case.initial is None
    ds = r.to_xarray()
    assert ds.interface_position.dims == ("time", "interface")
    assert ds.interface_x_left.dims == ("time", "interface", "component")
    assert ds.node_position.dims == ("time", "z") and ds.region_width.dims == ("time", "region")
    import xarray as xr

    with xr.open_dataset(out, engine="h5netcdf") as f:
        assert f.interface_position.dims == ("time", "interface")


def test_plots_of_a_region_run(tmp_path):
    out = tmp_path / "stefan.h5"
    kinsim.run(_stefan_case(20, 1.14), output=out)
    for kind in ("profiles", "interfaces", "mu", "flux"):
        assert main(["plot", str(out), "--kind", kind, "-o", str(tmp_path / f"{kind}.png")]) == 0
    from kinsim.plotting import plot_interfaces

    ax = plot_interfaces(out)
    (line,) = [ln for ln in ax.get_lines() if ln.get_linestyle() == "--"]
    k, _ = _stefan_k()
    slope = np.diff(line.get_ydata())[0] / np.diff(line.get_xdata())[0] * 1e-6  # m per sqrt(s)
    assert slope == pytest.approx(2.0 * k, rel=0.02)
    # the profiles jump at the interface, from one tie-line end to the other
    from kinsim.plotting import plot_profiles

    r = read_result(out)
    ax = plot_profiles(out, times=[r.time[-1]], mark_uphill=False)
    (line,) = [ln for ln in ax.get_lines() if ln.get_label() != "initial" and ln.get_linestyle() == "-"]
    z, x = np.asarray(line.get_xdata()) * 1e-3, np.asarray(line.get_ydata())
    assert z.size == r.x.shape[1] + 2 and np.all(np.diff(z) >= 0)
    (at,) = np.flatnonzero(np.diff(z) == 0)
    assert z[at] == r.interfaces[-1, 0]
    np.testing.assert_allclose(x[at : at + 2], _tie_line(), rtol=1e-9)
    assert main(["analyze", str(out)]) == 2  # Matano analysis: single-phase couples only


def test_a_region_run_resumes_to_the_uninterrupted_result(tmp_path):
    data = _vanishing_case([_region("ALPHA", "10 um", 20, 0.15), _region("BETA", "200 um", 40, 0.9, "geometric")])
    ref = kinsim.run(data)
    assert ref.extra["region_width"][3, 0] == 0.0  # gone by the interruption's last snapshot

    class Interrupted(ResultWriter):
        def append(self, t, *args, **kw):
            if self.n_snapshots == 4:  # after the region vanished
                raise KeyboardInterrupt
            super().append(t, *args, **kw)

    from kinsim.simulation import Simulation

    out = tmp_path / "run.h5"
    with pytest.raises(KeyboardInterrupt):
        Simulation(kinsim.load_case(data)).run(output=out, progress=False, storage=Interrupted)
    assert read_result(out).status == "interrupted"
    assert main(["run", "--resume", str(out), "--quiet"]) == 0
    r = read_result(out)
    np.testing.assert_allclose(r.time, ref.time, rtol=1e-14)
    np.testing.assert_allclose(r.x, ref.x, rtol=0, atol=1e-12)
    np.testing.assert_allclose(r.extra["region_width"], ref.extra["region_width"], rtol=0, atol=1e-18)


def test_a_region_run_held_in_memory_equals_its_file(tmp_path):
    data = _stefan_case(10, 1.3, duration="1 h")
    a = kinsim.run(data)
    b = kinsim.run(data, output=tmp_path / "s.h5")
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.extra["interface_position"], b.extra["interface_position"])


# ---------------------------------------------------------------------- bad input
def _write(tmp_path, data, name="case.toml"):
    import tomli_w

    p = tmp_path / name
    p.write_text(tomli_w.dumps(data))
    return p


def _error(tmp_path, capsys, data):
    code = main(["run", str(_write(tmp_path, data)), "-o", str(tmp_path / "x.h5"), "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and err.startswith("kinsim: error: "), err
    return err


def test_bad_region_input_is_one_line_naming_the_key(tmp_path, capsys):
    base = _stefan_case(10, 1.3, duration="1 h")

    def changed(i, **kw):
        d = _stefan_case(10, 1.3, duration="1 h")
        d["region"][i].update(kw)
        return d

    assert "region[1].phase = 'GAMMA'" in _error(tmp_path, capsys, changed(1, phase="GAMMA"))
    assert "region[0].nodes = 0" in _error(tmp_path, capsys, changed(0, nodes=0))
    # a composition on the other phase's side of the tie-line: says which side
    err = _error(tmp_path, capsys, changed(1, composition={"B": 0.1}))
    assert "region[1].composition" in err and "on the ALPHA side of the BETA/ALPHA tie-line" in err
    err = _error(tmp_path, capsys, changed(0, composition={"B": 0.7}))
    assert "region[0].composition" in err and "on the BETA side" in err
    # overlapping definitions
    assert "initial:" in _error(tmp_path, capsys, {**base, "initial": {"type": "uniform", "composition": {"B": 0.1}}})
    assert "grid.length" in _error(tmp_path, capsys, {**base, "grid": {"geometry": "planar", "length": "1 mm"}})
    assert "thermo.phase" in _error(tmp_path, capsys, {**base, "thermo": {**base["thermo"], "phase": "ALPHA"}})
    # a nucleus needs a neighbour inside the two-phase field
    err = _error(tmp_path, capsys, {**base, "region": [{"phase": "ALPHA", "width": 0, "nodes": 10}, base["region"][1]]})
    assert "region[0].width = 0" in err and "BETA is stable alone" in err
    assert "region[1].width" in _error(tmp_path, capsys, changed(1, width="-1 mm"))
    err = _error(tmp_path, capsys, {**base, "region": [base["region"][0], {**base["region"][1], "phase": "ALPHA"}]})
    assert "region[1].phase" in err
    assert "region[0].colour" in _error(tmp_path, capsys, changed(0, colour="red"))
