"""Driving forces beyond composition (seed 000): external potentials Phi_k(z, t) and
Onsager cross terms.

Oracles: pycalphad chemical potentials (the stressed rod's steady state has
mu_C + Phi_C uniform), the analytical steady state of an ideal binary in a linear
electric potential, and the hand-computed initial drag flux L'_MnC dPhi_C/dz.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import CASES_DB, REPO, run_case

from kinsim.case import FARADAY, load_case
from kinsim.simulation import Simulation

R = 8.3145
ROD = REPO / "cases" / "stressed-rod.toml"
IDEAL = REPO / "cases" / "ideal-binary-erf.toml"


def pycalphad_mu(db, comps, x, T, comp):
    from pycalphad import Database, equilibrium
    from pycalphad import variables as v

    conds = {v.X(c): xv for c, xv in x.items()}
    conds.update({v.T: T, v.P: 101325, v.N: 1})
    eq = equilibrium(Database(str(db)), [*comps, "VA"], ["FCC_A1"], conds)
    return float(np.squeeze(eq.MU.sel(component=comp).values))


@pytest.fixture(scope="module")
def rod(tmp_path_factory):
    return run_case(ROD, tmp_path_factory.mktemp("rod"))


def test_stressed_rod_atoms_move_without_a_concentration_gradient(rod):
    r = rod
    x = r.x[:, :, 1]
    assert np.ptp(x[0]) == 0.0  # uniform at the start ...
    assert np.all(np.abs(r.flux[0, 1:-1, 1]) > 0)  # ... yet carbon flows at once
    # towards the tensile end (z = L), where -sigma V_C lowers its potential
    assert np.all(r.flux[0, 1:-1, 1] > 0)
    assert x[-1, -1] > x[0, -1] > x[-1, 0]
    # carbon is conserved (closed ends)
    u = x / r.x[:, :, 0]
    c = (u * np.diff(r.faces)).sum(axis=1)
    np.testing.assert_allclose(c, c[0], rtol=1e-12)
    # the stored potential is -sigma V_C with sigma from -300 to +300 MPa along the rod
    phi = r.extra["potential"][-1, :, 1]
    sigma = 3e8 * (2 * r.z / 0.5e-3 - 1)
    np.testing.assert_allclose(phi, -sigma * 4.1e-6, rtol=1e-12)


def test_stressed_rod_steady_state_has_uniform_total_potential_by_pycalphad(rod):
    r = rod
    T = 1173.0
    phi = r.extra["potential"][-1, :, 1]
    # pycalphad's mu_C at a few nodes of the final profile, plus Phi_C: uniform
    nodes = [0, 15, 30, 45, 59]
    tot = [
        pycalphad_mu(CASES_DB / "fe-c.tdb", ["FE", "C"], {"C": float(r.x[-1, i, 1])}, T, "C") + phi[i] for i in nodes
    ]
    spread = max(tot) - min(tot)
    assert spread < 0.05, spread  # J/mol, against a Phi_C range of 2460 J/mol
    assert np.ptp(phi) == pytest.approx(2460.0 * (r.z[-1] - r.z[0]) / 0.5e-3, rel=1e-9)
    # and the solver's own mu + Phi is uniform at steady state, not at the start
    own = r.mu[:, :, 1] + r.extra["potential"][:, :, 1]
    assert np.ptp(own[-1]) < 0.01
    assert np.ptp(own[0]) > 2000


def test_electric_potential_steady_state_of_an_ideal_binary(tmp_path):
    # ideal A-B with equal mobilities; B carries charge +1 in a linear potential of 50 mV
    # over the specimen (a table).  With closed ends the steady state has
    # mu_B + Phi_B - mu_A uniform: x_B / x_A = C exp(-F phi(z) / RT), C from conservation.
    L = 1e-4
    T = 1000.0
    r = run_case(
        IDEAL,
        tmp_path,
        "grid.nodes=50",
        f"grid.length={L}",
        f"initial.position={L / 2}",
        "initial.left={B=0.4}",
        "initial.right={B=0.4}",
        "conditions.duration=10 d",
        "output.snapshots=2",
        f'potential=[{{species="B", kind="electric", charge=1.0, z=[0, {L}], value=[0.0, 0.05]}}]',
    )
    z = r.z
    w = np.diff(r.faces)
    shape = np.exp(-FARADAY * 0.05 * z / L / (R * T))
    # x_B = C s / (1 + C s); find C so that sum(x_B w) = 0.4 L
    from scipy.optimize import brentq

    C = brentq(lambda C: (C * shape / (1 + C * shape) * w).sum() - 0.4 * L, 1e-6, 1e6, xtol=1e-14)
    expect = C * shape / (1 + C * shape)
    err = np.abs(r.x[-1, :, 1] - expect).max()
    assert err < 2e-4, err
    assert np.ptp(r.x[-1, :, 1]) > 0.1  # a strong effect: the test can fail


def test_potential_kinds_and_time_factor(tmp_path):
    case = load_case(
        IDEAL,
        overrides=[
            'potential=[{species="B", kind="stress", volume=2e-6, expression="1e8 + 0*z"},'
            '{species="B", kind="pressure", volume=2e-6, z=[0, 1e-3], value=[1e8, 1e8]},'
            '{species="A", kind="energy", expression="500", time=[[0, 0.0], ["1 h", 1.0]]}]'
        ],
    )
    sig, pres, en = case.potentials
    assert sig.phi(np.array([0.0]))[0] == pytest.approx(-200.0)  # -sigma V
    assert pres.phi(np.array([0.0]))[0] == pytest.approx(200.0)  # +p V
    assert en.phi(np.array([0.0]))[0] == pytest.approx(500.0)
    sim = Simulation(case)
    assert list(sim.problem.schedules.phi_species) == [1, 1, 0]
    # round trip through the stored TOML keeps them
    assert load_case(IDEAL, overrides=[]).potentials == ()
    import tomllib

    from kinsim.case import parse_case

    again = parse_case(tomllib.loads(case.to_toml()), case.path)
    assert again.potentials == case.potentials


# ------------------------------------------------------------------ cross terms
FEMN = CASES_DB / "fe-mn-si-c.tdb"


def _drag_case(tmp_path, *extra, name="drag.h5"):
    return run_case(
        ROD,
        tmp_path,
        f"thermo.database={FEMN}",
        'thermo.components=["FE", "MN", "C"]',
        "initial.composition={MN=0.02, C=0.02}",
        "conditions.duration=1 h",
        "output.snapshots=2",
        "grid.nodes=30",
        *extra,
        name=name,
    )


def test_cross_term_drags_a_component_with_no_potential_gradient(tmp_path):
    from kinsim.phase import load_phase

    r0 = _drag_case(tmp_path, name="none.h5")
    r = _drag_case(tmp_path, 'onsager={form="relative", matrix=[[0,0,0],[0,0,0.5],[0,0.5,0]]}')
    case = r.case
    # without cross terms Mn does not move at t = 0 (its potential is flat) ...
    assert np.abs(r0.flux[0, :, 1]).max() == 0.0
    # ... with L'_MnC it is dragged along by carbon: J'_Mn = -L'_MnC dPhi_C/dz, and in the
    # volume-fixed frame J_Mn = (1 - u_Mn) J'_Mn (Fe has no driving force and no cross term)
    T = 1173.0
    model = load_phase(FEMN, "FCC_A1", ["FE", "MN", "C"], mobility="error")
    M = model.mobilities([[0.02, 0.02]], T)[0]
    Vs = case.mobility.molar_volume
    x_subst = 1 - 0.02  # Fe + Mn: u-fractions are per mole of substitutional atoms
    u_mn, u_c = 0.02 / x_subst, 0.02 / x_subst
    y_va = 1 - u_c
    L_mn = u_mn * M[1] / Vs
    L_c = u_c * y_va * M[2] / Vs
    L_x = 0.5 * math.sqrt(L_mn * L_c)
    dphi = -3e8 * 2 / 0.5e-3 * 4.1e-6  # d(-sigma V_C)/dz
    expect = (1 - u_mn) * (-L_x * dphi)
    np.testing.assert_allclose(r.flux[0, 1:-1, 1], expect, rtol=1e-6)
    # carbon's lattice flux is unchanged (Mn's potential is flat); its volume-fixed flux
    # only shifts by the frame term -u_C J'_Mn
    np.testing.assert_allclose(r.flux[0, 1:-1, 2], r0.flux[0, 1:-1, 2] - u_c * (-L_x * dphi), rtol=1e-9)

    # after an hour Mn has piled up where carbon went (u-fractions: per substitutional atom,
    # so that carbon's own pile-up does not dilute the comparison)
    def u_mn_of(res):
        return res.x[-1, :, 1] / (res.x[-1, :, 0] + res.x[-1, :, 1])

    u1, u0 = u_mn_of(r), u_mn_of(r0)
    assert u1[-1] > u_mn > u1[0]
    assert np.ptp(u1) > 10 * np.ptp(u0)


def test_absolute_cross_terms_that_are_not_psd_are_rejected(tmp_path, capsys):
    from kinsim.cli import main

    out = tmp_path / "x.h5"
    code = main(
        [
            "run",
            str(ROD),
            "-o",
            str(out),
            "--quiet",
            "--set",
            f"thermo.database={FEMN}",
            "--set",
            'thermo.components=["FE", "MN", "C"]',
            "--set",
            "initial.composition={MN=0.02, C=0.02}",
            "--set",
            "onsager={matrix=[[0,0,0],[0,0,1e-9],[0,1e-9,0]]}",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "onsager.matrix" in err and "positive semi-definite" in err and "node 0" in err
    assert len(err.strip().splitlines()) == 1


def test_mu_plot_shows_the_total_potential_when_potentials_act(rod):
    from kinsim.plotting import plot_mu

    r = rod
    ax = plot_mu(r, times=[r.time[-1]])
    y = ax.lines[-1].get_ydata()
    np.testing.assert_allclose(y, (r.mu[-1, :, 1] + r.extra["potential"][-1, :, 1]) / 1e3, rtol=1e-12)
    assert "Phi" in ax.get_ylabel()
