"""The diffusion solver against analytical solutions and conservation laws.

Oracles: the erfc solution of a couple with constant D (planar), Crank's series
solutions for a cylinder and a sphere with a fixed surface composition (J. Crank, The
Mathematics of Diffusion, 2nd ed., 1975, eqs. 5.22 and 6.18), exact conservation with
closed ends, Boltzmann scaling (profiles depend on z / sqrt(t) only), and parabolic
Kirkendall marker motion.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import REPO, run_case
from scipy.special import erfc, j0, j1, jn_zeros

IDEAL = REPO / "cases" / "ideal-binary-erf.toml"
D0 = 1e-14  # m^2/s, the diffusivity built into cases/databases/ideal-ab.tdb


def erf_error(tmp_path, nodes):
    r = run_case(IDEAL, tmp_path, f"grid.nodes={nodes}", "output.snapshots=1", name=f"erf{nodes}.h5")
    t = r.time[-1]
    exact = 0.2 + 0.4 * 0.5 * erfc(-(r.z - 0.5e-3) / (2 * math.sqrt(D0 * t)))
    return np.abs(r.x[-1, :, 1] - exact).max(), r


def test_erfc_couple_and_second_order_convergence(tmp_path):
    errs = []
    for nodes in (50, 100, 200):
        e, r = erf_error(tmp_path, nodes)
        errs.append(e)
        assert r.status == "completed"
    assert errs[-1] < 1e-3
    orders = [math.log2(errs[i] / errs[i + 1]) for i in range(2)]
    assert min(orders) > 1.7, (errs, orders)


def test_closed_ends_conserve_every_component(tmp_path):
    r = run_case(REPO / "cases" / "nicral-couple.toml", tmp_path, "conditions.duration=20 h", "output.snapshots=4")
    vol = np.diff(r.faces)
    # u-fractions (all components substitutional here): amounts per volume
    totals = (r.x * vol[None, :, None]).sum(axis=1)
    np.testing.assert_allclose(totals, np.broadcast_to(totals[0], totals.shape), rtol=1e-10, atol=0)


def test_boltzmann_scaling_and_parabolic_markers(tmp_path):
    """Unequal mobilities (D_B = 10 D_A): D depends on composition, profiles still
    collapse on z / sqrt(t) in a semi-infinite couple, and the Kirkendall marker moves
    as sqrt(t)."""
    r = run_case(
        IDEAL,
        tmp_path,
        "mobility.scale={B = 10.0}",
        "grid.nodes=400",
        "grid.length=4 mm",
        "initial.position=2 mm",
        "conditions.duration=40 h",
        'output.snapshots=["10 h", "40 h"]',
        "solver.rtol=1e-6",
        "solver.atol=1e-8",
    )
    t1, t2 = r.time[1], r.time[2]
    lam = np.linspace(-2.5, 2.5, 41) * math.sqrt(D0 * 10)  # z - z0 = lam sqrt(t)
    x1 = np.interp(2e-3 + lam * math.sqrt(t1), r.z, r.x[1, :, 1])
    x2 = np.interp(2e-3 + lam * math.sqrt(t2), r.z, r.x[2, :, 1])
    assert np.abs(x1 - x2).max() < 2e-3
    d1 = r.markers[1, 0] - 2e-3
    d2 = r.markers[2, 0] - 2e-3
    assert abs(d1) > 1e-6  # the marker does move
    assert d2 / d1 == pytest.approx(math.sqrt(t2 / t1), rel=0.03)


def test_equal_mobilities_leave_the_marker_in_place(tmp_path):
    r = run_case(IDEAL, tmp_path, "output.snapshots=2")
    # zero in the continuum; the discrete lattice flux leaves an O(dz^2) residue
    assert abs(r.markers[-1, 0] - 0.5e-3) < 2e-3 * math.sqrt(D0 * r.time[-1])


@pytest.mark.parametrize("geometry", ["cylindrical", "spherical"])
def test_cylinder_and_sphere_with_fixed_surface(tmp_path, geometry):
    a = 1e-3
    t_end = 0.1 * a * a / D0
    case = tmp_path / f"{geometry}.toml"
    case.write_text(
        IDEAL.read_text()
        .replace('geometry = "planar"', f'geometry = "{geometry}"')
        .replace(
            'type = "step"\nposition = "0.5 mm"\nunit = "mole-fraction"\nleft = { B = 0.2 }\nright = { B = 0.6 }',
            'type = "uniform"\nunit = "mole-fraction"\ncomposition = { B = 0.2 }',
        )
        .replace(
            '[boundary.right]\ntype = "closed"',
            '[boundary.right]\ntype = "fixed-composition"\ncomposition = { B = 0.6 }',
        )
        .replace('duration = "10 h"', f"duration = {t_end}")
        .replace("nodes = 200", "nodes = 100")
        .replace('database = "databases/ideal-ab.tdb"', f'database = "{REPO / "cases" / "databases" / "ideal-ab.tdb"}"')
    )
    r = run_case(case, tmp_path, "output.snapshots=1")
    rr = r.z
    tau = D0 * t_end / a**2
    if geometry == "spherical":
        nn = np.arange(1, 200)
        series = ((-1.0) ** nn / nn * np.sin(nn * np.pi * rr[:, None] / a) * np.exp(-(nn**2) * np.pi**2 * tau)).sum(
            axis=1
        )
        frac = 1 + 2 * a / (np.pi * rr) * series
    else:
        al = jn_zeros(0, 200) / a
        frac = 1 - (2 / a) * (np.exp(-D0 * al**2 * t_end) * j0(rr[:, None] * al) / (al * j1(a * al))).sum(axis=1)
    exact = 0.2 + 0.4 * frac
    assert np.abs(r.x[-1, :, 1] - exact).max() < 2e-3


def test_explicit_scheme_agrees_with_implicit(tmp_path):
    sets = [
        "grid.nodes=80",
        "grid.length=0.2 mm",
        "initial.position=0.1 mm",
        "output.snapshots=1",
        "conditions.duration=2 h",
    ]
    imp = run_case(IDEAL, tmp_path, *sets, name="i.h5")
    exp = run_case(IDEAL, tmp_path, *sets, "solver.method=explicit", name="e.h5")
    assert exp.status == "completed"
    exact = 0.2 + 0.4 * 0.5 * erfc(-(exp.z - 0.1e-3) / (2 * math.sqrt(D0 * exp.time[-1])))
    assert np.abs(exp.x[-1, :, 1] - exact).max() < 2e-3
    assert np.abs(exp.x[-1] - imp.x[-1]).max() < 2e-3


def test_stiff_darken_couple_takes_few_steps(tmp_path):
    """Carbon diffuses ~10^4 times faster than silicon: the implicit solver still needs
    only a few hundred steps for 13 days."""
    r = run_case(REPO / "cases" / "darken-fe-si-c.toml", tmp_path, "output.snapshots=1", name="d.h5")
    assert r.status == "completed"
    assert r.attrs["steps"] < 500
