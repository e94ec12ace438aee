"""Boundary conditions (fixed flux, potential, activity, stages, time tables) and
temperature schedules, against oracles written elsewhere: conservation arithmetic, the
erfc solution for constant D, pycalphad chemical potentials, and the time
transformation of constant-D diffusion under T(t) (c depends on integral D dt only).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import CASES_DB, REPO, TESTS_DB, one_error_line, run_case
from scipy.integrate import quad
from scipy.optimize import brentq
from scipy.special import erfc

R = 8.3145
IDEAL = REPO / "cases" / "ideal-binary-erf.toml"
CARB = REPO / "cases" / "fe-c-carburizing.toml"
FEC = CASES_DB / "fe-c.tdb"


def content(r, k):
    """Moles of component k per unit area (planar) at every snapshot: sum u_k dz / V_s."""
    u = r.x[:, :, k]  # ideal-ab: all components substitutional, so u = x
    return (u * np.diff(r.faces)).sum(axis=1) / r.attrs["molar_volume"]


def graphite_mu_c(T):
    """mu of C in graphite (J/mol), pycalphad."""
    from pycalphad import Database, calculate

    res = calculate(Database(str(FEC)), ["C", "VA"], "GRAPHITE_A9", T=T, P=101325, N=1)
    return float(np.squeeze(res.GM.values))


def pycalphad_mu_c(x_c, T):
    from pycalphad import Database, equilibrium
    from pycalphad import variables as v

    eq = equilibrium(Database(str(FEC)), ["FE", "C", "VA"], ["FCC_A1"], {v.X("C"): x_c, v.T: T, v.P: 101325, v.N: 1})
    return float(np.squeeze(eq.MU.sel(component="C").values))


# ------------------------------------------------------------------ fixed flux
def test_fixed_flux_time_table_adds_exactly_the_integrated_flux(tmp_path):
    # B enters at the left face with a flux that ramps 0 -> 2e-6 -> 0 mol m^-2 s^-1 over
    # 10 h; the right face is closed.  The finite-volume content must change by exactly
    # the time integral of the flux (trapezoid of the table, by hand: 2e-6 * 36000 / 2).
    r = run_case(
        IDEAL,
        tmp_path,
        "grid.nodes=60",
        "output.snapshots=4",
        'boundary.left={type="fixed-flux", flux={B=[[0, 0.0], ["5 h", 2e-6], ["10 h", 0.0]]}}',
    )
    added = content(r, 1) - content(r, 1)[0]

    def flux(t):
        return float(np.interp(t, [0, 18000, 36000], [0, 2e-6, 0]))

    expect = [quad(flux, 0, t, points=[18000])[0] for t in r.time]
    np.testing.assert_allclose(added, expect, rtol=2e-3, atol=1e-6 * max(expect))
    assert added[-1] == pytest.approx(0.036, rel=2e-3)
    # the dependent component leaves as B enters (volume-fixed frame): total content fixed
    tot = content(r, 0) + content(r, 1)
    np.testing.assert_allclose(tot, tot[0], rtol=1e-12)
    # the stored face flux at the left face is the table's value
    np.testing.assert_allclose(r.flux[:, 0, 1], [flux(t) for t in r.time], rtol=1e-12, atol=1e-20)


# ------------------------------------------------------------------ activity / potential
def _dilute_carburizing(tmp_path, *extra, name="carb.h5"):
    # a dilute version of the shipped case: 0.1 wt% C in, surface at a_C = 0.1, so D
    # hardly varies and the erfc solution applies
    return run_case(
        CARB,
        tmp_path,
        "conditions.duration=2 h",
        "output.snapshots=2",
        "grid.nodes=160",
        'boundary.left={type="fixed-activity", activity={C=0.1}, reference={C="GRAPHITE_A9"}}',
        "initial.composition={C=0.1}",
        "solver.rtol=1e-5",
        *extra,
        name=name,
    )


def test_fixed_activity_matches_erfc_with_the_surface_composition_from_pycalphad(tmp_path):
    from kinsim.phase import load_phase

    r = _dilute_carburizing(tmp_path)
    T = 1200.0
    a = 0.1
    mu_target = graphite_mu_c(T) + R * T * math.log(a)
    # surface composition: pycalphad's mu_C(x_s) = mu_graphite + RT ln a
    xs = brentq(lambda x: pycalphad_mu_c(x, T) - mu_target, 1e-3, 0.03, xtol=1e-10)
    x0 = r.x[0, 0, 1]
    us, u0 = xs / (1 - xs), x0 / (1 - x0)
    # D = u y_VA M_C dmu_C/du at the mean composition (interstitial C, one substitutional):
    # dmu_C/du by central differences of pycalphad's mu, M_C from the database
    um = 0.5 * (us + u0)
    h = 1e-5
    dmu = (pycalphad_mu_c((um + h) / (1 + um + h), T) - pycalphad_mu_c((um - h) / (1 + um - h), T)) / (2 * h)
    model = load_phase(FEC, "FCC_A1", ["FE", "C"], mobility="error")
    M_c = model.mobilities([[um / (1 + um)]], T)[0, 1]
    D = um * (1 - um) * M_c * dmu
    t = r.time[-1]
    u = r.x[-1, :, 1] / r.x[-1, :, 0]
    u_erfc = u0 + (us - u0) * erfc(r.z / (2 * math.sqrt(D * t)))
    assert us - u0 > 0.003  # carbon goes in: a real profile
    err = np.abs(u - u_erfc).max() / (us - u0)
    assert err < 0.03, err
    # the first node sits next to the surface: its composition is close to x_s
    assert abs(u[0] - us) / (us - u0) < 0.03


def test_fixed_potential_equals_fixed_activity_with_the_same_mu(tmp_path):
    T = 1200.0
    mu_b = graphite_mu_c(T) + R * T * math.log(0.1)
    ra = _dilute_carburizing(tmp_path, name="a.h5")
    rp = _dilute_carburizing(tmp_path, f'boundary.left={{type="fixed-potential", mu={{C={mu_b!r}}}}}', name="p.h5")
    # graphite's G is tabulated in T for the kernels: identical to 1e-4 J/mol
    np.testing.assert_allclose(rp.x, ra.x, rtol=0, atol=1e-9)


def test_fixed_activity_long_anneal_reaches_equilibrium_with_the_reservoir(tmp_path):
    r = run_case(
        CARB,
        tmp_path,
        "grid.length=0.2 mm",
        "grid.nodes=30",
        "conditions.duration=10 h",
        "output.snapshots=2",
        'boundary.left={type="fixed-activity", activity={C=0.3}, reference={C="GRAPHITE_A9"}}',
    )
    T = 1200.0
    mu_target = graphite_mu_c(T) + R * T * math.log(0.3)
    x = r.x[-1, :, 1]
    assert x.max() - x.min() < 1e-8
    assert pycalphad_mu_c(float(x.mean()), T) == pytest.approx(mu_target, abs=0.05)


@pytest.mark.slow
def test_shipped_carburizing_case_boost_then_diffuse(tmp_path):
    r = run_case(CARB, tmp_path)
    T = 1200.0
    t = r.time
    u = r.x[:, :, 1] / r.x[:, :, 0]
    c = (u * np.diff(r.faces)).sum(axis=1)
    boost = t <= 7200 + 1e-9
    # boost: the surface node sits at the composition in equilibrium with a_C = 0.8
    # (pycalphad), to within the half-cell next to the surface
    mu_target = graphite_mu_c(T) + R * T * math.log(0.8)
    xs = brentq(lambda x: pycalphad_mu_c(x, T) - mu_target, 0.01, 0.08, xtol=1e-10)
    assert r.x[2, 0, 1] == pytest.approx(xs, rel=2e-3)
    # carbon only enters during the boost ...
    assert np.all(np.diff(c[boost]) > 0)
    # ... and is conserved once the surface is closed, while the surface carbon drops
    diffuse = t >= 7200 - 1e-9
    np.testing.assert_allclose(c[diffuse], c[diffuse][0], rtol=1e-10)
    assert np.all(np.diff(r.x[diffuse, 0, 1]) < 0)
    assert np.all(r.flux[diffuse][1:, 0, 1] == 0.0)
    # the uptake of the boost stage follows sqrt(t) (semi-infinite, fixed surface):
    # (c(1 h) - c0) / (c(30 min) - c0) = sqrt(2) for a profile of Boltzmann form
    assert (c[2] - c[0]) / (c[1] - c[0]) == pytest.approx(math.sqrt(2), rel=0.01)
    # the stored resolved case holds the stages
    assert "stages" in r.case_toml and "GRAPHITE_A9" in r.case_toml


# ------------------------------------------------------------------ temperature schedule
ARRH = TESTS_DB / "arrhenius-ab.tdb"


def test_temperature_schedule_follows_the_integral_of_D(tmp_path):
    # Arrhenius ideal binary (D = D0 exp(-Q/RT), composition independent): under T(t)
    # the couple keeps its erfc form with D t replaced by the integral of D(T(t)) dt
    sched = '[[0, 1000], ["4 h", 1100], ["8 h", 1100], ["10 h", 1050]]'
    r = run_case(
        IDEAL,
        tmp_path,
        f"thermo.database={ARRH}",
        f"conditions.temperature={sched}",
        "conditions.duration=10 h",
        "grid.nodes=200",
        'output.snapshots=["4 h", "10 h"]',
        "solver.rtol=1e-6",
        "grid.length=2 mm",
        "initial.position=1 mm",
    )
    D0, Q = 1e-6, 150000.0
    tt = [0, 14400, 28800, 36000]
    TT = [1000, 1100, 1100, 1050]

    def D(t):
        return D0 * math.exp(-Q / (R * np.interp(t, tt, TT)))

    np.testing.assert_allclose(r.extra["temperature"], [1000, 1100, 1050])
    for it in (1, 2):
        Dt = quad(D, 0, r.time[it], points=[14400, 28800], limit=200)[0]
        x = r.x[it, :, 1]
        expect = 0.2 + 0.4 * 0.5 * erfc(-(r.z - 1e-3) / (2 * math.sqrt(Dt)))
        assert np.abs(x - expect).max() < 2e-3, (it, np.abs(x - expect).max())
    # holding the starting temperature would give a clearly different profile
    Dt_start = D0 * math.exp(-Q / (R * 1000.0)) * 36000
    wrong = 0.2 + 0.4 * 0.5 * erfc(-(r.z - 1e-3) / (2 * math.sqrt(Dt_start)))
    assert np.abs(r.x[2, :, 1] - wrong).max() > 0.05


# ------------------------------------------------------------------ bad input
FEMN = CASES_DB / "fe-mn-si-c.tdb"


@pytest.mark.parametrize(
    "sets, words",
    [
        (
            [
                'boundary.left={type="fixed-activity", activity={C=[[0, 0.5], ["2 h", 0.6], ["1 h", 0.7]]}, '
                'reference={C="GRAPHITE_A9"}}'
            ],
            ["boundary.left.activity.C", "increase strictly"],
        ),
        (
            ['boundary.left={type="fixed-flux", flux={C=[[0, 1e-6], [0, 2e-6]]}}'],
            ["boundary.left.flux.C", "increase strictly"],
        ),
        (
            ['boundary.left={type="fixed-activity", activity={C=0.0}, reference={C="GRAPHITE_A9"}}'],
            ["boundary.left.activity.C", "outside (0, inf)"],
        ),
        (
            ['boundary.left={type="fixed-activity", activity={C=-2}, reference={C="GRAPHITE_A9"}}'],
            ["boundary.left.activity.C", "outside (0, inf)"],
        ),
        (
            ['boundary.left={type="fixed-activity", activity={C=inf}, reference={C="GRAPHITE_A9"}}'],
            ["boundary.left.activity.C"],
        ),
        (['boundary.left={type="fixed-activity", activity={C=0.5}}'], ["boundary.left.reference"]),
        (
            ['boundary.left={type="fixed-activity", activity={C=0.5}, reference={C="DIAMOND"}}'],
            ["reference phase DIAMOND", "fe-c.tdb"],
        ),
        (
            ['boundary.left={type="fixed-activity", activity={C=0.5}, reference={C="FCC_A1"}}'],
            ["FCC_A1", "cannot hold pure C"],
        ),
        (['boundary.left={type="fixed-flux", flux={CR=1e-6}}'], ["boundary.left.flux", "unknown component 'CR'"]),
        (['boundary.left={type="fixed-flux", flux={FE=1e-6}}'], ["boundary.left.flux", "dependent"]),
        (
            ['boundary.left={stages=[{type="closed", until="5 h"}, {type="closed"}]}'],
            ["boundary.left.stages[0].until", "before the end"],
        ),
        (['boundary.left={stages=[{type="closed"}, {type="closed"}]}'], ["boundary.left.stages[0].until", "missing"]),
        (
            ['potential=[{species="H", kind="stress", volume=1e-6, expression="z"}]'],
            ["potential[0].species", "'H'", "not a component"],
        ),
        (
            ['potential=[{species="C", kind="stress", volume=1e-6, expression="z + q"}]'],
            ["potential[0].expression", "unknown name 'q'"],
        ),
        (
            ['potential=[{species="C", kind="stress", volume=1e-6, expression="__import__(1)"}]'],
            ["potential[0].expression", "not allowed"],
        ),
        (['potential=[{species="C", kind="electric", volume=1e-6, expression="z"}]'], ["potential[0].volume"]),
        (
            ['potential=[{species="C", kind="stress", volume=1e-6, z=[0, 1e-3, 5e-4], value=[0, 1, 2]}]'],
            ["potential[0].z", "increase strictly"],
        ),
        (["onsager={matrix=[[0, 1e-20], [1e-20, 0], [0, 0]]}"], ["onsager.matrix", "2 x 2"]),
        (["onsager={matrix=[[0, 1e-20, 0], [1e-20, 0, 0]]}"], ["onsager.matrix", "2 x 2"]),
        (["onsager={matrix=[[0, 1e-20], [2e-20, 0]]}"], ["onsager.matrix", "not symmetric"]),
        (["onsager={matrix=[[1e-20, 0], [0, 0]]}"], ["onsager.matrix[0][0]", "diagonal"]),
        (['onsager={form="relative", matrix=[[0, 1.5], [1.5, 0]]}'], ["onsager.matrix", "positive semi-definite"]),
        (['conditions.temperature=[[0, 1200], ["1 h", 7000]]'], ["conditions.temperature[1]", "7000", "outside"]),
        (
            ['conditions.temperature=[[0, 1200], ["3 h", 1250], ["2 h", 1200]]'],
            ["conditions.temperature", "increase strictly"],
        ),
    ],
)
def test_bad_boundary_schedule_potential_and_cross_input(tmp_path, capsys, sets, words):
    from kinsim.cli import main

    args = ["run", str(CARB), "-o", str(tmp_path / "x.h5"), "--quiet"]
    for s in sets:
        args += ["--set", s]
    one_error_line(main(args), capsys.readouterr().err, *words)
    assert not (tmp_path / "x.h5").exists()
