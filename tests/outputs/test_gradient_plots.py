"""`kinsim plot --kind energy` and `--kind spinodal` on a small gradient-energy run of the
regular solution (tests/databases/regular-gap.tdb), and their errors."""

from __future__ import annotations

import shutil

import h5py
import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from conftest import REPO, TESTS_DB, one_error_line  # noqa: E402

import kinsim  # noqa: E402
from kinsim import plotting as P  # noqa: E402
from kinsim.cli import main  # noqa: E402


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    d = tmp_path_factory.mktemp("gradient-plots")
    spinodal = {
        "title": "regular solution at 1000 K",
        "thermo": {"database": str(TESTS_DB / "regular-gap.tdb"), "phase": "ALPHA", "components": ["A", "B"]},
        "conditions": {"temperature": 1000, "duration": 2e-3},
        "grid": {"length": "60 nm", "nodes": 120},
        "initial": {
            "type": "uniform",
            "composition": {"B": 0.5},
            "perturbation": {"type": "random", "amplitude": {"B": 1e-3}, "seed": 2},
        },
        "boundary": {"left": {"type": "periodic"}, "right": {"type": "periodic"}},
        "gradient": {"kappa": 1e-14},
        "output": {"snapshots": [1e-4, 3e-4, 1e-3, 2e-3]},
    }
    kinsim.run(spinodal, output=d / "spinodal.h5")
    ideal = REPO / "cases" / "ideal-binary-erf.toml"
    kinsim.run(ideal, output=d / "ideal.h5", overrides={"output.snapshots": 3, "grid.nodes": 40})
    return {"spinodal": d / "spinodal.h5", "ideal": d / "ideal.h5"}


def _lines(ax):
    return {ln.get_label(): ln for ln in ax.get_lines()}


def test_energy_draws_the_stored_free_energy(runs):
    r = kinsim.read_result(runs["spinodal"])
    F = r.extra["free_energy"]
    assert r.extra_units["free_energy"] == "J m-2" and np.all(np.diff(F) < 0)
    ax = P.plot_energy(runs["spinodal"])
    t, y = _lines(ax)["$F(t) - F(0)$"].get_data()
    np.testing.assert_array_equal(t, r.time[1:])
    scale = (F[1:] - F[0]) / y  # drawn in a power-of-ten unit
    np.testing.assert_allclose(scale, scale[0], rtol=1e-12)
    assert np.log10(scale[0]) == pytest.approx(round(np.log10(scale[0])), abs=1e-12)


def test_spinodal_marks_the_fastest_growing_wavelength(runs):
    r = kinsim.read_result(runs["spinodal"])
    lam = r.attrs["spinodal_wavelength_max_m"]
    ax = P.plot_spinodal(runs["spinodal"], times=[3e-4])
    lines = _lines(ax)
    assert {"initial", P.time_label(3e-4)} <= set(lines)
    z, x = lines[P.time_label(3e-4)].get_data()
    np.testing.assert_allclose(z, r.z * 1e9)  # nm for a specimen of tens of nm
    np.testing.assert_allclose(x, r.x[2, :, 1])
    arrow = [c for c in ax.get_children() if isinstance(c, matplotlib.text.Annotation)][0]
    (x0, _), (x1, _) = arrow.xyann, arrow.xy
    assert x1 - x0 == pytest.approx(lam * 1e9)
    text = " ".join(t.get_text() for t in ax.texts)
    assert f"{lam * 1e9:.3g} nm" in text and "dominant" in text
    assert ax.get_xlabel() == "distance $z$ (nm)"


def test_dominant_wavelength_of_a_cosine_profile(runs):
    r = kinsim.read_result(runs["spinodal"])
    L = r.faces[-1] - r.faces[0]
    r.x[1, :, 1] = 0.5 + 0.01 * np.cos(2 * np.pi * 5 * r.z / L) + 0.002 * np.cos(2 * np.pi * 2 * r.z / L)
    assert P.dominant_wavelength(r, 1, 1) == pytest.approx(L / 5)


def test_cli_energy_and_spinodal_figures(runs, tmp_path, capsys):
    for kind in ("energy", "spinodal"):
        out = tmp_path / f"{kind}.png"
        assert main(["plot", str(runs["spinodal"]), "--kind", kind, "-o", str(out)]) == 0
        assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 10_000
    # the default time of the spinodal plot: 2 / R_max (the early stage)
    assert main(["plot", str(runs["spinodal"]), "--kind", "spinodal"]) == 0
    assert runs["spinodal"].with_name("spinodal-spinodal.png").is_file()
    capsys.readouterr()


def test_cli_errors(runs, tmp_path, capsys):
    code = main(["plot", str(runs["ideal"]), "--kind", "spinodal", "-o", str(tmp_path / "a.png")])
    one_error_line(code, capsys.readouterr().err, "no fastest-growing wavelength", "[gradient]")
    code = main(["plot", str(runs["spinodal"]), "--kind", "energy", "--components", "B", "-o", str(tmp_path / "a.png")])
    one_error_line(code, capsys.readouterr().err, "--components", "energy")
    old = tmp_path / "old.h5"
    shutil.copy(runs["ideal"], old)
    with h5py.File(old, "a") as f:
        del f["free_energy"]
        f.attrs["extra_variables"] = '["temperature"]'
    code = main(["plot", str(old), "--kind", "energy", "-o", str(tmp_path / "a.png")])
    one_error_line(code, capsys.readouterr().err, "no free energy", "/free_energy")
