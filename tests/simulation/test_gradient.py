"""Gradient energy (Cahn-Hilliard) against closed forms of the regular solution of
tests/databases/regular-gap.tdb (G = RT(x ln x + (1-x) ln(1-x)) + Omega x (1-x),
Omega = 20 kJ/mol, mobilities M_k = D0_k exp(-Q/RT)/RT), and the sharp model's refusal
inside the spinodal.

Conventions (kinsim's fluxes): u = x for substitutional components, du/dt = -V_s div J,
and the volume-fixed flux of a binary with gradient energy is J_B = -(Mt / V_s) dw/dz with
w = mu_B - mu_A - kappa d2x/dz2 and Mt = x_A x_B (x_A M_B + x_B M_A).  V_s cancels:
dx/dt = d/dz (Mt dw/dz), so a mode cos(kz) of a uniform x0 grows at
R(k) = -Mt k^2 (G'' + kappa k^2) whatever the molar volume.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import CASES_DB, REPO, TESTS_DB, one_error_line
from scipy.integrate import quad
from scipy.optimize import brentq

import kinsim
from kinsim.cli import main

R_GAS = 8.3145
OMEGA = 20000.0
T = 1000.0
KAPPA = 1e-14  # J m^2/mol
VS = 1e-5  # m^3/mol, kinsim's default molar volume
DB = str(TESTS_DB / "regular-gap.tdb")


def g_regular(x):
    return R_GAS * T * (x * np.log(x) + (1 - x) * np.log(1 - x)) + OMEGA * x * (1 - x)


def g2_regular(x):
    return R_GAS * T / (x * (1 - x)) - 2 * OMEGA


def mobility(D0):
    return D0 * np.exp(-150000.0 / (R_GAS * T)) / (R_GAS * T)


def interdiffusion_mobility(x):
    return x * (1 - x) * ((1 - x) * mobility(2e-5) + x * mobility(1e-5))


def binodal():
    return brentq(lambda x: np.log((1 - x) / x) - OMEGA * (1 - 2 * x) / (R_GAS * T), 0.01, 0.4)


def _case(**tables) -> dict:
    data = {
        "title": "regular solution with gradient energy",
        "thermo": {"database": DB, "phase": "ALPHA", "components": ["A", "B"]},
        "conditions": {"temperature": T, "duration": 1.0},
        "grid": {"length": 50e-9, "nodes": 200},
        "initial": {"type": "uniform", "composition": {"B": 0.5}},
        "gradient": {"kappa": KAPPA},
    }
    for k, v in tables.items():
        if v is None:
            data.pop(k, None)
        else:
            data[k] = v
    return data


def _amounts(r):
    """The amount of B per unit cross-section (mole fraction times length) at every snapshot."""
    return (r.x[:, :, 1] * np.diff(r.faces)).sum(axis=1)


def _assert_conserved_and_dissipative(r):
    m = _amounts(r)
    assert np.abs(m - m[0]).max() / (r.faces[-1] - r.faces[0]) < 1e-10
    F = r.extra["free_energy"]
    assert np.all(np.diff(F) <= 1e-12 * np.abs(F).max()), np.diff(F)
    assert F[-1] < F[0]


# ------------------------------------------------------------------------ linear stability
K_C = np.sqrt(-g2_regular(0.5) / KAPPA)
L_MODES = 2 * np.pi * 5.5 / K_C  # modes 1..5 grow, 6..8 decay
MODES = np.arange(1, 9)


def _linear_run(nodes=256, gradient=True, rtol=1e-7):
    R_max = interdiffusion_mobility(0.5) * g2_regular(0.5) ** 2 / (4 * KAPPA)
    case = _case(
        conditions={"temperature": T, "duration": 2.0 / R_max},
        grid={"length": L_MODES, "nodes": nodes},
        initial={
            "type": "uniform",
            "composition": {"B": 0.5},
            "perturbation": {
                "type": "cosine",
                "amplitude": {"B": 1e-4},
                "wavelengths": [float(L_MODES / n) for n in MODES],
            },
        },
        boundary={"left": {"type": "periodic"}, "right": {"type": "periodic"}},
        solver={"rtol": rtol, "atol": 1e-12},
        output={"snapshots": 40},
        gradient={"kappa": KAPPA} if gradient else None,
    )
    return case


def _mode_rates(r):
    """The growth rate of every mode: a straight line through ln(amplitude) at the
    snapshots until the mode falls below 1e-2 of its start (1/s)."""
    dx = r.x[:, :, 1] - 0.5
    rates = []
    for n in MODES:
        k = 2 * np.pi * n / L_MODES
        A = np.hypot(dx @ np.cos(k * r.z), dx @ np.sin(k * r.z)) * 2 / r.z.size
        keep = np.cumprod(A > 1e-2 * A[0]).astype(bool)
        rates.append(np.polyfit(r.time[keep], np.log(A[keep]), 1)[0])
    return np.array(rates)


def test_cosine_modes_grow_or_decay_at_the_rate_of_linear_theory():
    """Eight modes at once (each resolved by at least 32 nodes per wavelength): every
    rate within 3 % of R(k) = -Mt k^2 (G'' + kappa k^2), growth below the critical
    wavenumber and decay above it; amounts conserved, F never increasing."""
    r = kinsim.run(_linear_run())
    assert r.status == "completed"
    k = 2 * np.pi * MODES / L_MODES
    theory = -interdiffusion_mobility(0.5) * k**2 * (g2_regular(0.5) + KAPPA * k**2)
    measured = _mode_rates(r)
    assert np.all(r.z.size / MODES >= 30)
    np.testing.assert_allclose(measured, theory, rtol=0.03)
    np.testing.assert_array_equal(measured > 0, k < K_C)
    _assert_conserved_and_dissipative(r)
    # the result file's linear theory of the mean composition: the same k_c and fastest mode
    assert r.attrs["spinodal_k_critical_per_m"] == pytest.approx(K_C, rel=1e-6)
    assert r.attrs["spinodal_k_max_per_m"] == pytest.approx(K_C / np.sqrt(2), rel=1e-5)
    assert r.attrs["spinodal_growth_rate_max_per_s"] == pytest.approx(
        interdiffusion_mobility(0.5) * g2_regular(0.5) ** 2 / (4 * KAPPA), rel=1e-6
    )


def test_the_same_case_without_gradient_energy_is_refused_at_the_start(tmp_path, capsys):
    import tomli_w

    path = tmp_path / "spinodal.toml"
    path.write_text(tomli_w.dumps(_linear_run(gradient=False)))
    code = main(["run", str(path), "-o", str(tmp_path / "out.h5"), "--quiet"])
    line = one_error_line(
        code,
        capsys.readouterr().err,
        "the initial profile: node",
        "inside the spinodal of ALPHA",
        "T = 1000 K",
        "eigenvalue -6742 J/mol",
        "dx = (B +1)",
        "[gradient]",
        "homogenization",
    )
    assert "B=0.5" in line


def test_a_quench_into_the_spinodal_fails_and_keeps_the_last_good_state(tmp_path, capsys):
    """Cooled through T_c = Omega / 2R = 1202.7 K, a uniform x = 0.5 enters the spinodal
    at about t = 0.49 s: the run fails there (exit 1) and the file ends with the snapshot
    of t = 0.4 s."""
    import tomli_w

    case = _case(
        conditions={"temperature": [[0, 1300], [1.0, 1100]], "duration": 1.0},
        grid={"length": 40e-9, "nodes": 64},
        output={"snapshots": 10},
        initial={
            "type": "uniform",
            "composition": {"B": 0.5},
            "perturbation": {"type": "random", "amplitude": {"B": 1e-3}},
        },
        gradient=None,
    )
    path = tmp_path / "quench.toml"
    path.write_text(tomli_w.dumps(case))
    out = tmp_path / "quench.h5"
    code = main(["run", str(path), "-o", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert code == 1, err
    assert err.startswith("kinsim: failed: node") and "inside the spinodal of ALPHA" in err
    assert "[gradient]" in err and "keeps the last snapshot" in err
    r = kinsim.read_result(out)
    assert r.status == "failed" and "inside the spinodal" in r.stop_reason
    np.testing.assert_allclose(r.time, [0.0, 0.1, 0.2, 0.3, 0.4])
    T_fail = float(err.split("T = ")[1].split(" K")[0])
    assert 1195.0 < T_fail < OMEGA / (2 * R_GAS)


# ------------------------------------------------------------------------ late times
def _late_run(nodes, **tables):
    L = 50e-9
    case = _case(
        grid={"length": L, "nodes": nodes},
        initial={"type": "step", "position": L / 2, "left": {"B": 0.2}, "right": {"B": 0.8}},
        solver={"rtol": 1e-6, "atol": 1e-10},
        output={"snapshots": [1e-5, 1e-3, 1e-2, 0.1, 0.5, 1.0]},
        **tables,
    )
    return kinsim.run(case)


def _euler_lagrange_position(x, xb):
    """z(x) - z(1/2) of the equilibrium interface: dz = sqrt(kappa / (2 dg)) dx with
    dg = G(x) - G(x_b) (the common tangent of the symmetric gap is horizontal)."""
    return quad(lambda s: np.sqrt(KAPPA / (2 * (g_regular(s) - g_regular(xb)))), 0.5, x)[0]


def _interfacial_energy(xb):
    return quad(lambda s: np.sqrt(2 * KAPPA * (g_regular(s) - g_regular(xb))), xb, 1 - xb)[0] / VS


def _measured_interface(r):
    x = r.x[-1, :, 1]
    i = int(np.flatnonzero(np.diff(np.sign(x - 0.5)))[0])
    zc = r.z[i] + (0.5 - x[i]) * (r.z[i + 1] - r.z[i]) / (x[i + 1] - x[i])
    sigma = r.extra["free_energy"][-1] - (r.faces[-1] - r.faces[0]) * g_regular(binodal()) / VS
    return x, zc, sigma


def test_the_stored_free_energy_is_the_discrete_functional_of_the_profile():
    """/free_energy against the closed-form G of the profile the file holds plus the
    gradient energy of its face differences (J/m^2)."""
    r = _late_run(100)
    h = np.diff(r.faces)
    for it in (0, 2, r.n_snapshots - 1):
        x = r.x[it, :, 1]
        F = np.sum(h * g_regular(x)) / VS + 0.5 * KAPPA * np.sum(np.diff(x) ** 2 / np.diff(r.z)) / VS
        assert r.extra["free_energy"][it] == pytest.approx(F, rel=1e-10)


@pytest.mark.parametrize(
    "onsager", [None, {"form": "relative", "matrix": [[0.0, 0.4], [0.4, 0.0]]}], ids=["diagonal", "cross-terms"]
)
def test_late_times_reach_the_binodal_the_euler_lagrange_interface_and_its_energy(onsager):
    r = _late_run(400, onsager=onsager)
    xb = binodal()
    assert xb == pytest.approx(0.169144, abs=1e-6)
    x, zc, sigma = _measured_interface(r)
    assert x[0] == pytest.approx(xb, abs=1e-8) and x[-1] == pytest.approx(1 - xb, abs=1e-8)
    inside = (x > xb + 0.01) & (x < 1 - xb - 0.01)
    assert inside.sum() >= 20  # the interface is resolved
    dz = [r.z[j] - zc - _euler_lagrange_position(x[j], xb) for j in np.flatnonzero(inside)]
    assert np.abs(dz).max() < 0.05 * (r.z[1] - r.z[0])
    assert sigma == pytest.approx(_interfacial_energy(xb), rel=1e-3)
    _assert_conserved_and_dissipative(r)


def test_the_interfacial_energy_converges_under_grid_refinement():
    """Halving the node spacing divides the error of the interfacial energy by about 4
    (second order)."""
    exact = _interfacial_energy(binodal())
    errors = [abs(_measured_interface(_late_run(n))[2] - exact) for n in (100, 200, 400)]
    assert errors[0] > errors[1] > errors[2]
    ratios = np.array(errors[:-1]) / np.array(errors[1:])
    assert np.all((ratios > 3.0) & (ratios < 5.5)), (errors, ratios)


def test_a_cylinder_conserves_and_dissipates():
    r = kinsim.run(
        _case(
            grid={"geometry": "cylindrical", "length": 30e-9, "nodes": 120, "inner_radius": 10e-9},
            conditions={"temperature": T, "duration": 1e-2},
            initial={
                "type": "uniform",
                "composition": {"B": 0.45},
                "perturbation": {"type": "random", "amplitude": {"B": 0.01}, "seed": 4},
            },
            output={"snapshots": 8},
        )
    )
    vol = r.faces[1:] ** 2 - r.faces[:-1] ** 2
    m = r.x[:, :, 1] @ vol
    assert np.abs(m - m[0]).max() / m[0] < 1e-10
    F = r.extra["free_energy"]
    assert np.all(np.diff(F) <= 1e-12 * np.abs(F).max()) and F[-1] < F[0]
    assert r.extra_units["free_energy"] == "J m-1 rad-1"
    assert np.ptp(r.x[-1, :, 1]) > 0.3  # decomposed


# ------------------------------------------------------------------------ periodic sharp model
def test_periodic_sharp_model_decays_a_cosine_at_D_k2():
    """Ideal A-B with equal mobilities (cases/databases/ideal-ab.tdb, D = 1e-14 m^2/s): a
    cosine on a periodic grid decays at D k_h^2, k_h^2 = (2 - 2 cos(k h)) / h^2 the
    discrete Laplacian's."""
    L, N, D = 1e-4, 100, 1e-14
    k = 2 * np.pi * 3 / L
    case = {
        "thermo": {"database": str(CASES_DB / "ideal-ab.tdb"), "phase": "FCC_A1", "components": ["A", "B"]},
        "conditions": {"temperature": 1000, "duration": 1.0 / (D * k * k)},
        "grid": {"length": L, "nodes": N},
        "initial": {
            "type": "uniform",
            "composition": {"B": 0.4},
            "perturbation": {"type": "cosine", "amplitude": {"B": 0.01}, "wavelengths": [L / 3]},
        },
        "boundary": {"left": {"type": "periodic"}, "right": {"type": "periodic"}},
        "solver": {"rtol": 1e-7, "atol": 1e-10},
        "output": {"snapshots": 5},
    }
    r = kinsim.run(case)
    h = L / N
    kh2 = (2 - 2 * np.cos(k * h)) / h**2
    dx = r.x[:, :, 1] - 0.4
    A = np.hypot(dx @ np.cos(k * r.z), dx @ np.sin(k * r.z))
    np.testing.assert_allclose(A[1:] / A[0], np.exp(-D * kh2 * r.time[1:]), rtol=2e-3)
    m = _amounts(r)
    assert np.abs(m - m[0]).max() / L < 1e-12


def test_the_sharp_limit_with_an_external_potential():
    """A stable ideal solution in a potential gradient: with gradient energy the
    equilibrium profile is the sharp model's (kappa k^2 is 1e-7 of G'' here), and the
    driving force of the potential acts in both alike."""
    base = {
        "thermo": {"database": str(CASES_DB / "ideal-ab.tdb"), "phase": "FCC_A1", "components": ["A", "B"]},
        "conditions": {"temperature": 1000, "duration": "30 d"},
        "grid": {"length": "20 um", "nodes": 60},
        "initial": {"type": "uniform", "composition": {"B": 0.3}},
        "potential": [{"species": "B", "kind": "energy", "z": [0, "20 um"], "value": [0, 4000]}],
        "solver": {"rtol": 1e-6, "atol": 1e-9},
        "output": {"snapshots": 2},
    }
    sharp = kinsim.run(base)
    grad = kinsim.run({**base, "gradient": {"kappa": KAPPA}})
    xs, xg = sharp.x[-1, :, 1], grad.x[-1, :, 1]
    assert np.ptp(xs) > 0.05  # the potential separates A and B
    np.testing.assert_allclose(xg, xs, atol=2e-5)
    m = _amounts(grad)
    assert np.abs(m - m[0]).max() / 20e-6 < 1e-10


def test_the_fe_cr_case_decomposes_at_the_fastest_growing_wavelength():
    """cases/fe-cr-spinodal.toml (Fe-40Cr, 748.15 K): linear theory gives lambda_max =
    13.9 nm; the profile's dominant wavelength after the early stage is the periodic
    mode nearest to it, F never increases, the amounts stay, and the alpha / alpha'
    layers head for the binodal (0.155 / 0.885 with this database)."""
    from kinsim.plotting import dominant_wavelength

    r = kinsim.run(REPO / "cases" / "fe-cr-spinodal.toml")
    lam = r.attrs["spinodal_wavelength_max_m"]
    assert lam == pytest.approx(13.9e-9, abs=0.05e-9)
    L = r.faces[-1] - r.faces[0]
    nearest = L / round(L / lam)
    it = int(np.argmin(np.abs(r.time - 2 * 3600)))
    assert dominant_wavelength(r, it, 1) == pytest.approx(nearest, rel=1e-9)
    _assert_conserved_and_dissipative(r)
    x = r.x[-1, :, 1]
    assert x.min() < 0.2 and x.max() > 0.7


@pytest.mark.slow
def test_an_interrupted_gradient_run_resumes_to_the_uninterrupted_result(tmp_path):
    """psi is not part of the stepper state (it follows from u): the checkpoint of a
    gradient-energy run resumes to the same result."""
    from test_resume import _interrupt_in_process

    case = REPO / "cases" / "fe-cr-spinodal.toml"
    sets = ["output.snapshots=48"]
    ref = tmp_path / "ref.h5"
    kinsim.run(case, output=ref, overrides=sets)
    out = _interrupt_in_process(tmp_path, case, sets, "fecr.h5")
    r = kinsim.read_result(out)
    assert r.status == "interrupted" and r.n_snapshots < 49
    assert main(["run", "--resume", str(out), "--quiet"]) == 0
    a, b = kinsim.read_result(out), kinsim.read_result(ref)
    np.testing.assert_allclose(a.time, b.time, rtol=1e-14)
    np.testing.assert_allclose(a.x, b.x, rtol=0, atol=1e-11)
    np.testing.assert_allclose(a.extra["free_energy"], b.extra["free_energy"], rtol=1e-13)


def test_the_spinodal_check_of_a_ternary_looks_at_the_whole_matrix():
    """A node is unstable when dmu_dx (symmetric part) has a negative eigenvalue, also
    when its diagonal is positive (a ternary with strong cross terms)."""
    from kinsim.kernels.codes import STATUS_OK, STATUS_SPINODAL
    from kinsim.kernels.nodes import unstable_node

    def scratch(H):  # the node scratch's slots that the check reads: DMU (2) and W (8)
        return (None, None, np.array(H, dtype=float), None, None, None, None, None, np.zeros((3, 3)))

    stable = [[2e4, 1e4], [1e4, 2e4]]
    indefinite = [[1e4, 2e4], [2e4, 1e4]]  # eigenvalues 3e4 and -1e4
    assert unstable_node(scratch([stable, stable])) == (STATUS_OK, -1)
    assert unstable_node(scratch([stable, indefinite, stable])) == (STATUS_SPINODAL, 1)
    assert unstable_node(scratch([[[2e4, 0.0], [0.0, -1.0]]])) == (STATUS_SPINODAL, 0)
    assert unstable_node(scratch([[[2e4, 1e4], [0.0, 2e4]]])) == (STATUS_OK, -1)  # symmetric part decides


def test_a_ternary_with_a_coupled_kappa_matrix_conserves_dissipates_and_relaxes():
    """Austenite Fe-18Cr-10Ni at 1373 K (tests/databases/fe-cr-ni.tdb, stable: no
    spinodal) with a kappa matrix that couples Cr and Ni gradients and random
    fluctuations on a periodic grid: both amounts stay to 1e-10, F never increases, and
    the fluctuations die out (the uniform alloy is the minimum of F)."""
    L = 20e-9
    case = {
        "thermo": {"database": str(TESTS_DB / "fe-cr-ni.tdb"), "phase": "FCC_A1", "components": ["FE", "CR", "NI"]},
        "conditions": {"temperature": 1373.0, "duration": 100.0},
        "grid": {"length": L, "nodes": 80},
        "initial": {
            "type": "uniform",
            "composition": {"CR": 0.18, "NI": 0.10},
            "perturbation": {"type": "random", "amplitude": {"CR": 0.01, "NI": 0.01}, "seed": 7},
        },
        "boundary": {"left": {"type": "periodic"}, "right": {"type": "periodic"}},
        "gradient": {"kappa": [[2e-14, 0.8e-14], [0.8e-14, 1e-14]]},
        "solver": {"rtol": 1e-6, "atol": 1e-10},
        "output": {"snapshots": 12},
    }
    r = kinsim.run(case)
    assert r.status == "completed"
    w = np.diff(r.faces)
    for j in (1, 2):
        m = r.x[:, :, j] @ w
        assert np.abs(m - m[0]).max() / L < 1e-10
    F = r.extra["free_energy"]
    assert np.all(np.diff(F) <= 1e-12 * np.abs(F).max()) and F[-1] < F[0]
    spread = np.ptp(r.x[:, :, 1:], axis=1).max(axis=1)
    assert spread[0] > 0.015 and spread[-1] < 1e-3 * spread[0]
