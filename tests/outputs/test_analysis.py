"""`kinsim analyze` and kinsim.analysis: the Matano analysis of couples from their profiles.

Oracles, none of them the analysis' own output:
- the ideal binary couple: D = 1e-14 m^2/s (the database's D0) at every composition;
- unequal mobilities (M_B scaled by 10): D~ = x_A x_B (x_A M_B + x_B M_A) d(mu_B - mu_A)/dx_B,
  once analytically (ideal: 1e-14 (10 x_A + x_B)) and once from PhaseModel's equilibrium
  and mobilities;
- the solver's own fluxes stored in the file (the analysis sees only the profiles);
- mass conservation: in a closed couple of constant molar volume the Matano plane is the weld;
- the carbon content left of the weld in Darken's couple, integrated between snapshots.
"""

from __future__ import annotations

import json
import shutil

import h5py
import numpy as np
import pytest
from conftest import REPO, one_error_line, run_case

from kinsim.analysis import analyze, concentrations
from kinsim.cli import main
from kinsim.errors import InputError, KinsimError, ResultFileError
from kinsim.storage import ResultWriter, read_result

IDEAL = REPO / "cases" / "ideal-binary-erf.toml"
DARKEN = REPO / "cases" / "darken-fe-si-c.toml"
NICRAL = REPO / "cases" / "nicral-couple.toml"
D0 = 1e-14
WELD_IDEAL = 0.5e-3


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Small runs made once: 10 h of the ideal couple (2 sqrt(D t) = 38 um << 0.5 mm: still
    semi-infinite), the same with M_B x 10, a Ni-Cr-Al couple whose aluminium flux
    reverses twice, and Darken's couple for 4 days."""
    d = tmp_path_factory.mktemp("analysis")
    return {
        "ideal": run_case(IDEAL, d, "output.snapshots=2", name="ideal.h5").path,
        "unequal": run_case(IDEAL, d, "output.snapshots=2", "mobility.scale.B=10", name="unequal.h5").path,
        "ternary": run_case(
            NICRAL, d, "initial.left.AL=0.15", "conditions.duration=25 h", "output.snapshots=2", name="nicral.h5"
        ).path,
        "darken": run_case(DARKEN, d, "conditions.duration=4 d", "output.snapshots=4", name="darken.h5").path,
    }


def _middle(d):
    """The middle 80 % of the profile: compositions 10 % to 90 % of the way across."""
    m = (d.Y >= 0.1) & (d.Y <= 0.9)
    assert d.Y[m].min() < 0.15 and d.Y[m].max() > 0.85, "the reported D must cover the middle 80 %"
    assert m.sum() >= 8
    return m


# ----------------------------------------------------------------------------- binaries
def test_ideal_couple_recovers_D_within_2_percent(runs):
    a = analyze(runs["ideal"])
    d = a.interdiffusivity
    m = _middle(d)
    for D in (d.D, d.D_sauer_freise):
        err = np.abs(D[m] / D0 - 1.0)
        assert err.max() < 0.02, err.max()
    assert a.semi_infinite and not a.warnings
    # x is the mole fraction of B at the faces: between the end compositions 0.2 and 0.6
    assert 0.2 < d.x.min() < d.x.max() < 0.6


def test_unequal_mobilities_D_of_x_against_thermodynamics(runs):
    from kinsim.phase import load_phase

    a = analyze(runs["unequal"])
    d = a.interdiffusivity
    m = _middle(d)
    x_b = d.x[m]
    x_a = 1.0 - x_b
    # analytical (ideal solution): Darken's x_A D*_B + x_B D*_A with D*_B = 10 D*_A = 10 D0
    D_analytic = D0 * (10.0 * x_a + x_b)
    assert D_analytic.max() / D_analytic.min() > 1.5  # a composition dependence worth testing
    # from the thermodynamics and mobilities of the database, independently of the solver
    model = load_phase(REPO / "cases" / "databases" / "ideal-ab.tdb", "FCC_A1", ["A", "B"], mobility="error")
    T = 1000.0
    M = model.mobilities(x_b[:, None], T)
    dmu = model.equilibrium(x_b[:, None], T).dmu_dx[:, 0, 0]  # d(mu_B - mu_A)/dx_B
    D_thermo = x_a * x_b * (x_a * 10.0 * M[:, 1] + x_b * M[:, 0]) * dmu
    assert np.allclose(D_thermo, D_analytic, rtol=1e-4)  # the two oracles agree
    for D in (d.D[m], d.D_sauer_freise[m]):
        assert np.abs(D / D_thermo - 1.0).max() < 0.02
    # a constant D would not pass: the analysis resolves the composition dependence
    assert np.abs(d.D[m] / d.D[m].mean() - 1.0).max() > 0.2


@pytest.mark.parametrize("name", ["ideal", "unequal"])
def test_binary_fluxes_from_profiles_match_the_solver(runs, name):
    a = analyze(runs[name])
    r = read_result(runs[name])
    J_solver = r.flux[-1, 1:-1]
    for k in range(2):
        scale = np.abs(J_solver[:, k]).max()
        assert np.abs(a.flux[:, k] - J_solver[:, k]).max() < 0.01 * scale
    # sign convention: B flows from the B-rich right side to the left (negative flux)
    assert a.flux[:, 1].min() < 0 and a.flux[:, 1].max() <= 1e-6 * np.abs(a.flux[:, 1]).max()


def test_matano_plane_is_the_weld_of_a_closed_couple(runs):
    for name, weld, length in (("ideal", WELD_IDEAL, 1e-3), ("unequal", WELD_IDEAL, 1e-3), ("ternary", 1e-3, 2e-3)):
        a = analyze(runs[name])
        assert a.weld == pytest.approx(weld)
        assert abs(a.matano_plane - weld) < 1e-6 * length


def test_earlier_time_and_nearest_snapshot(runs):
    r = read_result(runs["ideal"])
    a = analyze(runs["ideal"], time=5.2 * 3600)
    assert a.time == pytest.approx(5 * 3600) and a.index == 1
    # D still recovered at the earlier time (looser: the grid's memory of the initial step
    # weighs twice as much at half the time)
    m = _middle(a.interdiffusivity)
    assert np.abs(a.interdiffusivity.D[m] / D0 - 1.0).max() < 0.03
    assert r.time[-1] == pytest.approx(10 * 3600)


# ----------------------------------------------------------------------------- ternaries
def _solver_sign_changes(J, z):
    """z of the faces where the solver's flux changes sign (ignoring |J| < 1 % of max)."""
    big = np.abs(J) > 0.01 * np.abs(J).max()
    s = np.sign(J[big])
    zb = z[big]
    return [0.5 * (zb[i] + zb[i + 1]) for i in np.flatnonzero(s[1:] != s[:-1])]


def test_ternary_zero_flux_planes_where_the_solver_flux_reverses(runs):
    a = analyze(runs["ternary"])
    r = read_result(runs["ternary"])
    assert a.interdiffusivity is None
    AL = r.components.index("AL")
    expected = _solver_sign_changes(r.flux[-1, 1:-1, AL], r.faces[1:-1])
    assert len(expected) == 2  # the case is chosen so: aluminium's flux reverses twice
    found = [p["z"] for p in a.zero_flux_planes if p["component"] == "AL"]
    assert len(found) == 2
    h = np.diff(r.z).max()
    for zz in expected:
        assert min(abs(zz - f) for f in found) < 2 * h
    # every reported plane: the solver's flux of that component is small there
    for p in a.zero_flux_planes:
        k = r.components.index(p["component"])
        J = r.flux[-1, :, k]
        assert abs(np.interp(p["z"], r.faces, J)) < 0.05 * np.abs(J).max()
        assert sum(p["x"].values()) == pytest.approx(1.0)
    # the profile-derived fluxes agree with the solver's
    for c in r.components:
        assert a.flux_deviation[c] < 0.03, (c, a.flux_deviation[c])


def test_ternary_uphill_stretches_against_the_solver(runs):
    a = analyze(runs["ternary"])
    r = read_result(runs["ternary"])
    ups = [u for u in a.uphill if u["component"] == "AL"]
    assert ups, a.uphill
    c = concentrations(r, -1)
    for u in a.uphill:
        k = r.components.index(u["component"])
        zc = 0.5 * (u["z_from"] + u["z_to"])
        f = int(np.argmin(np.abs(r.faces - zc)))
        # the solver's flux and the concentration difference across that face have the same sign
        assert r.flux[-1, f, k] * (c[f, k] - c[f - 1, k]) > 0
    # each aluminium zero-flux plane borders an uphill stretch (flux reversal goes with uphill)
    for p in (p for p in a.zero_flux_planes if p["component"] == "AL"):
        assert min(min(abs(p["z"] - u["z_from"]), abs(p["z"] - u["z_to"])) for u in ups) < 0.1e-3
        assert p["uphill_beside"]
        # the reversal as the solver sees it: its flux left and right of the plane
        f = int(np.searchsorted(r.faces, p["z"]))
        left, right = np.sign(r.flux[-1, f - 2, 2]), np.sign(r.flux[-1, f + 1, 2])
        assert p["reversal"] == ("+ to -" if left > 0 > right else "- to +" if left < 0 < right else "?")


def test_darken_carbon_uphill_at_the_weld(runs):
    a = analyze(runs["darken"])
    r = read_result(runs["darken"])
    weld = 25e-3
    assert abs(a.matano_plane - weld) < 1e-6
    up_c = [u for u in a.uphill if u["component"] == "C"]
    assert any(u["z_from"] <= weld <= u["z_to"] for u in up_c), a.uphill
    assert not [u for u in a.uphill if u["component"] == "SI"]
    # independent: carbon leaves the part left of the weld (conservation between snapshots) ...
    c = concentrations(r)[:, :, 2]
    w = np.diff(r.faces)
    left = r.z < weld
    n_left = (c[:, left] * w[left]).sum(axis=1)
    assert np.all(np.diff(n_left) < 0)
    # ... although there is more carbon just right of the weld than just left of it
    i = np.flatnonzero(left)[-1]
    assert c[-1, i + 1] > c[-1, i]
    # carbon's flux has one sign everywhere: no zero-flux plane of carbon
    assert not [p for p in a.zero_flux_planes if p["component"] == "C"]
    # silicon's step spans a few cells only: the analysis says its numbers are rough
    assert any("SI" in w_ and "node" in w_ for w_ in a.warnings)


# ----------------------------------------------------------------------------- CLI
def test_cli_json(runs, capsys):
    assert main(["analyze", str(runs["unequal"]), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["matano_plane"] == pytest.approx(WELD_IDEAL, abs=1e-9)
    d = out["interdiffusivity"]
    x, D = np.array(d["x"]), np.array(d["D"])
    assert x.size == D.size > 10
    i = np.argmin(np.abs(x - 0.4))
    assert D[i] == pytest.approx(D0 * (10 * (1 - x[i]) + x[i]), rel=0.02)
    assert out["time"] == pytest.approx(36000.0)


def test_cli_text_and_time(runs, capsys):
    assert main(["analyze", str(runs["ternary"]), "--time", "25 h"]) == 0
    out = capsys.readouterr().out
    assert "Matano plane" in out and "zero-flux plane of AL" in out and "AL diffuses uphill" in out
    assert main(["analyze", str(runs["ideal"]), "--time", "300 min"]) == 0
    out = capsys.readouterr().out
    assert "t = 5 h" in out and "Boltzmann-Matano" in out


def _one_error_line(capsys, argv, *words):
    code = main(argv)
    return one_error_line(code, capsys.readouterr().err, *words)


@pytest.mark.parametrize(
    "time,word",
    [
        ("12 h", "outside the run"),
        ("-1 h", "outside the run"),
        ("soon", "--time"),
        ("3 weeks", "unknown unit"),
        ("0", "t > 0"),
    ],
)
def test_cli_bad_time(runs, capsys, time, word):
    _one_error_line(capsys, ["analyze", str(runs["ideal"]), "--time", time], word)


def test_cli_bad_files(runs, tmp_path, capsys):
    # not HDF5
    p = tmp_path / "text.h5"
    p.write_text("hello")
    _one_error_line(capsys, ["analyze", str(p)], "text.h5", "not an HDF5 file")
    # HDF5 but not kinsim's
    p = tmp_path / "other.h5"
    with h5py.File(p, "w") as f:
        f["data"] = np.arange(3)
    _one_error_line(capsys, ["analyze", str(p)], "not a kinsim result")
    # missing
    _one_error_line(capsys, ["analyze", str(tmp_path / "none.h5")], "does not exist")
    # a run that did not complete
    p = tmp_path / "failed.h5"
    shutil.copy(runs["ideal"], p)
    with h5py.File(p, "a") as f:
        f.attrs["status"] = "failed"
        f.attrs["stop_reason"] = "time step underflow"
    _one_error_line(capsys, ["analyze", str(p)], "incomplete", "failed")
    # too few snapshots: only t = 0
    r = read_result(runs["ideal"])
    p = tmp_path / "one.h5"
    with ResultWriter(
        p,
        components=r.components,
        z=r.z,
        faces=r.faces,
        phase="FCC_A1",
        case_toml=r.case_toml,
        title="t",
        n_markers=1,
        mobility_policy="error",
        extra_attrs={"molar_volume": 1e-5},
    ) as w:
        w.append(0.0, r.x[0], r.mu[0], r.flux[0], r.markers[0])
        w.set_status("completed", "test")
    _one_error_line(capsys, ["analyze", str(p)], "snapshot")
    # a truncated file
    p = tmp_path / "cut.h5"
    data = runs["ideal"].read_bytes()
    p.write_bytes(data[: len(data) // 3])
    _one_error_line(capsys, ["analyze", str(p)], "cut.h5")


def test_non_planar_couple_is_refused(runs, tmp_path):
    p = tmp_path / "cyl.h5"
    shutil.copy(runs["ideal"], p)
    with h5py.File(p, "a") as f:
        case = f.attrs["case"]
        case = case.decode() if isinstance(case, bytes) else case
        assert 'geometry = "planar"' in case
        f.attrs["case"] = case.replace('geometry = "planar"', 'geometry = "cylindrical"')
    with pytest.raises(InputError, match="planar"):
        analyze(p)


def _edited_case(runs, tmp_path, name, old, new):
    p = tmp_path / name
    shutil.copy(runs["ideal"], p)
    with h5py.File(p, "a") as f:
        case = f.attrs["case"]
        case = case.decode() if isinstance(case, bytes) else case
        assert old in case, old
        f.attrs["case"] = case.replace(old, new, 1)
    return p


def test_not_a_couple_refused_and_broken_assumptions_reported(runs, tmp_path, capsys):
    p = _edited_case(
        runs,
        tmp_path,
        "uniform.h5",
        'type = "step"\nunit = "mole-fraction"\nposition = 0.0005\n\n[initial.left]\nB = 0.2\n\n'
        "[initial.right]\nB = 0.6\n",
        'type = "uniform"\nunit = "mole-fraction"\n\n[initial.composition]\nB = 0.2\n',
    )
    _one_error_line(capsys, ["analyze", str(p)], "diffusion couple", "uniform")
    p = _edited_case(
        runs, tmp_path, "sched.h5", "temperature = 1000.0", "temperature = [[0.0, 1000.0], [3600.0, 1100.0]]"
    )
    assert any("temperature changes" in w for w in analyze(p).warnings)
    p = _edited_case(
        runs,
        tmp_path,
        "open.h5",
        '[boundary.right]\ntype = "closed"',
        '[boundary.right]\ntype = "fixed-flux"\nflux = { B = 1e-9 }',
    )
    assert any("right boundary is not closed" in w for w in analyze(p).warnings)
    assert not analyze(runs["ideal"]).warnings


def test_library_errors_are_kinsim_errors(runs, tmp_path):
    with pytest.raises(InputError, match="outside the run"):
        analyze(runs["ideal"], time=1e9)
    p = tmp_path / "x.h5"
    p.write_text("x")
    with pytest.raises(ResultFileError):
        analyze(p)
    assert issubclass(ResultFileError, KinsimError)
