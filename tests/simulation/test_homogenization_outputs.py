"""Result file, figures and analysis of a homogenization run (the fictitious two-phase
A-B couple of tests/databases/two-phase-ab.tdb, see test_homogenization_stefan.py, with
its left end inside the two-phase field, x_B = 0.4, so that some nodes hold two phases
at every output time):
/phase_fraction and /phase_composition survive the HDF5 file, ``kinsim plot --kind
phases`` draws them, ``kinsim analyze`` says where its assumptions break, and a
single-phase result refuses --kind phases with one error line."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import REPO
from stefan_couple import stefan_case

X_LEFT = 0.4  # inside the two-phase field 0.3 < x_B < 0.6


def _two_phase_case():
    case = stefan_case(30)
    case["initial"]["left"] = {"B": X_LEFT}
    return case


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    import kinsim

    out = tmp_path_factory.mktemp("homog") / "ab.h5"
    mem = kinsim.run(_two_phase_case())
    kinsim.run(_two_phase_case(), output=out)
    return out, mem


def test_phase_datasets_survive_the_file(stored):
    from kinsim.analysis import phase_sets
    from kinsim.storage import read_result

    out, mem = stored
    r = read_result(out)
    assert phase_sets(r) == ["ALPHA", "ALPHA#2", "BETA", "BETA#2"] == phase_sets(mem)
    # the start check of a run of several phases: the database has no phase outside them
    assert r.stability == mem.stability and r.stability.multiphase
    assert r.stability.checked == [] and r.stability.unstable == [] and r.stability.not_checked == {}
    np.testing.assert_array_equal(r.extra["phase_fraction"], mem.extra["phase_fraction"])
    np.testing.assert_array_equal(r.extra["phase_composition"], mem.extra["phase_composition"])
    assert r.extra["phase_fraction"].shape == (r.time.size, r.z.size, 4)
    # the left end keeps the lever rule of the tie-line 0.3 | 0.6; beta alone on the right
    frac = r.extra["phase_fraction"]
    assert frac[:, 0, 0] == pytest.approx((0.6 - X_LEFT) / 0.3, abs=1e-9)
    assert frac[:, 0, 2] == pytest.approx((X_LEFT - 0.3) / 0.3, abs=1e-9)
    assert np.all(frac[:, -1, 2] == 1.0)
    comp = r.extra["phase_composition"]
    assert comp[:, 0, 0, 1] == pytest.approx(0.3, abs=1e-9) and comp[:, 0, 2, 1] == pytest.approx(0.6, abs=1e-9)
    assert np.all(np.isnan(comp[:, -1, 0]))  # no alpha at the right end


def test_the_phase_set_axis_is_a_named_coordinate_in_the_file_and_in_xarray(stored):
    """``phase_fraction.sel(phase_set=...)`` works on the result held in memory, on the
    file read back, and on the file opened by xarray itself (netCDF dimension scales)."""
    import xarray as xr

    from kinsim.storage import read_result

    out, mem = stored
    names = ["ALPHA", "ALPHA#2", "BETA", "BETA#2"]
    from_file = read_result(out).to_xarray()
    xr.testing.assert_identical(mem.to_xarray(), from_file)
    assert from_file.phase_fraction.dims == ("time", "z", "phase_set")
    assert from_file.phase_composition.dims == ("time", "z", "phase_set", "component")
    assert list(from_file.phase_set.values) == names
    beta = from_file.phase_fraction.sel(phase_set="BETA").isel(time=-1).values
    np.testing.assert_array_equal(beta, read_result(out).extra["phase_fraction"][-1, :, 2])
    with xr.open_dataset(out, engine="h5netcdf", phony_dims="access") as raw:
        assert raw.phase_fraction.dims == ("time", "z", "phase_set") and list(raw.phase_set.values) == names


def test_plot_phases_and_shaded_profiles(stored, tmp_path):
    from kinsim.plotting import figure, minor_phases, plot_phases, plot_profiles

    out, _ = stored
    assert minor_phases(out) == []  # both phases large somewhere: one panel
    ax = plot_phases(out)
    ydata = [line.get_ydata() for line in ax.get_lines() if line.get_label() != "weld"]
    assert all(np.all((y >= 0.0) & (y <= 1.0)) for y in ydata) and len(ydata) >= 2
    ax = plot_profiles(out)
    assert "several phases" in [p.get_label() for p in ax.patches]
    assert figure(out, tmp_path / "p.png", kind="phases").stat().st_size > 0


def test_cli_plot_phases_of_a_single_phase_result_is_one_error_line(tmp_path):
    import subprocess
    import sys

    exe = str(REPO / ".venv" / "bin" / "kinsim") if (REPO / ".venv" / "bin" / "kinsim").exists() else "kinsim"
    res = tmp_path / "one.h5"
    subprocess.run([exe, "run", str(REPO / "cases" / "ideal-binary-erf.toml"), "-o", str(res), "--quiet"], check=True)
    p = subprocess.run(
        [exe, "plot", str(res), "--kind", "phases", "-o", str(tmp_path / "f.png")], capture_output=True, text=True
    )
    assert p.returncode == 2, (p.stdout, p.stderr, sys.executable)
    assert p.stderr.strip().count("\n") == 0 and p.stderr.startswith("kinsim: error: ")
    assert "several phases" in p.stderr


def test_analyze_warns_where_several_phases_coexist(stored):
    from kinsim.analysis import analyze

    out, _ = stored
    a = analyze(out)
    text = " ".join(a.warnings)
    assert "hold several phases" in text and "binary couple" in text


def test_free_energy_of_the_multiphase_nodes_never_increases(stored):
    """/free_energy of a homogenization run: the nodes' molar Gibbs energies are those of
    their multiphase equilibria, sum_k x_k mu_k (A and B substitutional: one mole of
    atoms per mole of substitutional atoms), integrated over the cells; in the closed
    couple it never increases and it falls while the phases redistribute."""
    out, mem = stored
    from kinsim.storage import read_result

    r = read_result(out)
    F = r.extra["free_energy"]
    assert r.extra_units["free_energy"] == "J m-2" and F.shape == r.time.shape
    np.testing.assert_array_equal(F, mem.extra["free_energy"])
    Vs = float(r.attrs["molar_volume"])
    expected = [np.sum(np.diff(r.faces) * np.sum(r.x[i] * r.mu[i], axis=1)) / Vs for i in range(r.time.size)]
    np.testing.assert_allclose(F, expected, rtol=1e-12)
    assert np.all(np.diff(F) <= 1e-12 * np.abs(F[0])) and F[-1] < F[0]


def test_phase_outputs_name_each_set_of_a_node_by_its_phase_and_its_order():
    """Nodes with two sets of one phase (the second is PHASE#2), sets out of the phases'
    order, and an absent set: the fractions and compositions land in the columns of the
    set names, NaN where a set is absent."""
    from kinsim import load_case
    from kinsim.homogenization import HomogenizationModel
    from kinsim.kernels.homogenization import state_layout
    from kinsim.kernels.node_models import state_width

    model = HomogenizationModel(load_case(stefan_case(30)), 1000.0)
    ps = model.params.ps
    n, NP, K = ps.n_comp, ps.n_y.shape[0], ps.y_comp.shape[1]
    assert model.set_names == ["ALPHA", "ALPHA#2", "BETA", "BETA#2"] and (n, NP, K) == (2, 2, 2)
    o_sa, o_sy = state_layout(n, NP, K)[:2]
    Y = np.zeros((3, state_width(model.params)))
    ALPHA, BETA, ABSENT = 0, 1, -1
    sets = [(ALPHA, ALPHA), (BETA, ALPHA), (BETA, ABSENT)]  # the phase of each set slot per node
    amounts = [(0.25, 0.75), (0.4, 0.6), (1.0, 0.0)]
    sites = [((0.9, 0.1), (0.2, 0.8)), ((0.3, 0.7), (0.6, 0.4)), ((0.45, 0.55), (0.0, 0.0))]
    for i in range(3):
        Y[i, :n] = sets[i]
        Y[i, o_sa : o_sa + n] = amounts[i]
        Y[i, o_sy : o_sy + n * K] = np.ravel(sites[i])  # one A,B sublattice of ratio 1 (and VA)
    frac, comp = model.phase_outputs(Y)
    np.testing.assert_allclose(frac, [[0.25, 0.75, 0, 0], [0.6, 0, 0.4, 0], [0, 0, 1.0, 0]], rtol=0, atol=1e-15)
    np.testing.assert_allclose(comp[0, :2], [[0.9, 0.1], [0.2, 0.8]], rtol=1e-15)
    np.testing.assert_allclose(comp[1, [0, 2]], [[0.6, 0.4], [0.3, 0.7]], rtol=1e-15)
    np.testing.assert_allclose(comp[2, 2], [0.45, 0.55], rtol=1e-15)
    assert np.isnan(comp[0, 2:]).all() and np.isnan(comp[1, [1, 3]]).all() and np.isnan(comp[2, [0, 1, 3]]).all()
