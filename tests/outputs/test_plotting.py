"""`kinsim plot` and kinsim.plotting: every kind, the data drawn checked against the result
file, the uphill highlight against the solver's fluxes, file formats, no window, bad input
(one line, exit 2), and the dispatch of a sweep directory to kinsim.sweep.plot_metric."""

from __future__ import annotations

import math
import shutil

import h5py
import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from conftest import REPO, one_error_line  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402

from kinsim import plotting as P  # noqa: E402
from kinsim import sweep  # noqa: E402
from kinsim.case import load_case  # noqa: E402
from kinsim.cli import main  # noqa: E402
from kinsim.errors import InputError, KinsimError  # noqa: E402
from kinsim.simulation import Simulation  # noqa: E402
from kinsim.storage import read_result  # noqa: E402

IDEAL = REPO / "cases" / "ideal-binary-erf.toml"
DARKEN = REPO / "cases" / "darken-fe-si-c.toml"
WELD = 25e-3
# g/mol, IUPAC 2021 (typed here, not taken from kinsim.units)
MOLAR_MASS = {"FE": 55.845, "SI": 28.085, "C": 12.011}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    d = tmp_path_factory.mktemp("plots")
    out = {}
    for name, case, ov in (
        ("ideal", IDEAL, ["output.snapshots=4", "grid.nodes=80"]),
        ("darken", DARKEN, ["conditions.duration=4 d", "output.snapshots=4"]),
    ):
        Simulation(load_case(case, overrides=ov)).run(output=d / f"{name}.h5", progress=False)
        out[name] = d / f"{name}.h5"
    return out


def _lines(ax):
    return {ln.get_label(): ln for ln in ax.get_lines()}


def test_profiles_draw_the_file_data(runs):
    r = read_result(runs["darken"])
    ax = P.plot_profiles(runs["darken"], component="C", times=[2 * 86400, 4 * 86400])
    assert isinstance(ax, Axes)
    lines = _lines(ax)
    assert {"initial", "2 d", "4 d", "weld"} <= set(lines)
    z, y = lines["4 d"].get_data()
    assert np.allclose(z, r.z * 1e3) and np.allclose(y, r.x[-1, :, 2])
    assert np.allclose(lines["initial"].get_ydata(), r.x[0, :, 2])
    assert lines["initial"].get_linestyle() == "--"
    assert np.allclose(lines["weld"].get_xdata(), WELD * 1e3)
    assert "mm" in ax.get_xlabel() and "mole fraction" in ax.get_ylabel() and "C" in ax.get_ylabel()
    assert ax.get_legend() is not None


def test_weight_percent_by_hand(runs):
    r = read_result(runs["darken"])
    ax = P.plot_profiles(r, component="SI", times=[4 * 86400], unit="weight-percent")
    x = r.x[-1]
    mass = x * np.array([MOLAR_MASS[c] for c in r.components])
    wt_si = 100 * mass[:, 1] / mass.sum(axis=1)
    assert np.allclose(_lines(ax)["4 d"].get_ydata(), wt_si, rtol=1e-4)
    assert wt_si[0] == pytest.approx(3.80, rel=0.01)  # Darken's 3.80 wt% Si far left
    assert "wt%" in ax.get_ylabel()


def test_uphill_highlight_where_the_solver_flux_climbs(runs):
    r = read_result(runs["darken"])
    ax = P.plot_profiles(r, component="C", times=[4 * 86400])
    up = _lines(ax).get("uphill")
    assert up is not None
    z = np.asarray(up.get_xdata(), dtype=float) / 1e3
    y = np.asarray(up.get_ydata(), dtype=float)
    on = np.isfinite(y)
    assert z[on].min() <= WELD <= z[on].max()  # carbon climbs across the weld
    # oracle: the solver's carbon flux at the weld face is positive (left to right) while the
    # carbon content right of the weld is higher than left of it
    f = int(np.argmin(np.abs(r.faces - WELD)))
    assert r.flux[-1, f, 2] > 0 and r.x[-1, f, 2] > r.x[-1, f - 1, 2]
    # silicon and the ideal binary never go uphill
    assert "uphill" not in _lines(P.plot_profiles(r, component="SI"))
    assert "uphill" not in _lines(P.plot_profiles(runs["ideal"]))


def test_mu_flux_path_markers(runs):
    r = read_result(runs["darken"])
    ax = P.plot_mu(r, component="C", times=[4 * 86400])
    assert np.allclose(_lines(ax)["4 d"].get_ydata(), r.mu[-1, :, 2] / 1e3)
    assert "kJ" in ax.get_ylabel()
    ax = P.plot_flux(r, component="C", times=[4 * 86400])
    y = _lines(ax)["4 d"].get_ydata()
    label = ax.get_ylabel()
    assert "mol m" in label
    exp = int(label.split("10^{")[1].split("}")[0]) if "10^{" in label else 0
    assert np.allclose(np.asarray(y) * 10.0**exp, r.flux[-1, :, 2])
    ax = P.plot_path(r)  # x_SI against x_C at the last time
    x, y = _lines(ax)["4 d"].get_data()
    assert np.allclose(x, r.x[-1, :, 1]) and np.allclose(y, r.x[-1, :, 2])
    ax = P.plot_path(r, components=["FE", "SI", "C"])  # Gibbs triangle
    x, y = _lines(ax)["4 d"].get_data()
    f_c = np.asarray(y) * 2 / math.sqrt(3)  # invert the triangle coordinates
    f_si = np.asarray(x) - f_c / 2
    assert np.allclose(f_c, r.x[-1, :, 2]) and np.allclose(f_si, r.x[-1, :, 1])
    ax = P.plot_markers(r)
    s, d = _lines(ax)["marker"].get_data()
    assert np.allclose(s, np.sqrt(r.time)) and np.allclose(d, (r.markers[:, 0] - r.markers[0, 0]) * 1e6)
    assert "um" in ax.get_ylabel().replace("$\\mu$", "u") and "s$^{1/2}$" in ax.get_xlabel()


def test_given_axes_are_used_and_returned(runs):
    from matplotlib.figure import Figure

    fig = Figure()
    ax = fig.add_subplot()
    assert P.plot_profiles(runs["ideal"], ax=ax) is ax
    assert P.plot_markers(runs["ideal"], ax=ax) is ax


# spinodal: tests/outputs/test_gradient_plots.py; interfaces: tests/simulation/test_moving_boundary.py; phases:
# tests/simulation/test_homogenization_outputs.py
@pytest.mark.parametrize("kind", [k for k in P.KINDS if k not in ("spinodal", "interfaces", "phases")])
def test_cli_every_kind_no_window(runs, tmp_path, capsys, kind):
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    out = tmp_path / f"{kind}.png"
    assert main(["plot", str(runs["darken"]), "--kind", kind, "-o", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 10_000
    assert plt.get_fignums() == before  # no pyplot figure left open (and none shown)
    assert f"wrote {out}" in capsys.readouterr().out


def test_cli_formats_and_options(runs, tmp_path, capsys):
    pdf, svg = tmp_path / "p.pdf", tmp_path / "p.svg"
    assert (
        main(
            [
                "plot",
                str(runs["darken"]),
                "-o",
                str(pdf),
                "--times",
                "1 d,4 d",
                "--components",
                "c",
                "--unit",
                "weight-percent",
            ]
        )
        == 0
    )
    assert pdf.read_bytes()[:5] == b"%PDF-"
    assert main(["plot", str(runs["ideal"]), "--kind", "mu", "-o", str(svg), "--components", "A,B"]) == 0
    assert b"<svg" in svg.read_bytes()[:2000]
    # default output next to the result
    assert main(["plot", str(runs["ideal"]), "--kind", "markers"]) == 0
    assert runs["ideal"].with_name("ideal-markers.png").is_file()


def _one_error_line(capsys, argv, *words):
    code = main(argv)
    return one_error_line(code, capsys.readouterr().err, *words)


def test_cli_bad_input(runs, tmp_path, capsys):
    d = str(runs["darken"])
    _one_error_line(capsys, ["plot", d, "--times", "5 d", "-o", str(tmp_path / "a.png")], "--times", "outside")
    _one_error_line(capsys, ["plot", d, "--times", "1 d,x", "-o", str(tmp_path / "a.png")], "--times")
    _one_error_line(capsys, ["plot", d, "--components", "MN", "-o", str(tmp_path / "a.png")], "MN")
    _one_error_line(capsys, ["plot", str(runs["ideal"]), "--kind", "path", "-o", str(tmp_path / "a.png")], "ternary")
    _one_error_line(capsys, ["plot", d, "-o", str(tmp_path / "a.xyz")], "format")
    _one_error_line(capsys, ["plot", d, "-o", str(tmp_path / "no" / "a.png")], "does not exist")
    _one_error_line(capsys, ["plot", d, "--metric", "wall_s", "-o", str(tmp_path / "a.png")], "directory")
    _one_error_line(capsys, ["plot", str(tmp_path)], "--metric")
    p = tmp_path / "failed.h5"
    shutil.copy(runs["darken"], p)
    with h5py.File(p, "a") as f:
        f.attrs["status"] = "interrupted"
    _one_error_line(capsys, ["plot", str(p), "-o", str(tmp_path / "a.png")], "incomplete")
    with pytest.raises(InputError):
        P.figure(runs["darken"], tmp_path / "a.png", kind="contour")
    with pytest.raises(KinsimError):
        P.plot_profiles(runs["darken"], component="XX")


def test_sweep_directory_dispatch(tmp_path, capsys, monkeypatch):
    calls = []

    def fake_plot_metric(directory, metric, against, ax=None):
        from matplotlib.figure import Figure

        calls.append((str(directory), metric, against))
        ax = Figure(figsize=(3.5, 2.5)).add_subplot()
        ax.plot([1, 2, 3], [3, 1, 2], "o-")
        return ax

    monkeypatch.setattr(sweep, "plot_metric", fake_plot_metric)
    out = tmp_path / "m.png"
    assert (
        main(
            [
                "plot",
                str(tmp_path),
                "--metric",
                "uphill_excursion",
                "--against",
                "conditions.temperature",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    assert calls == [(str(tmp_path), "uphill_excursion", "conditions.temperature")]
    assert out.read_bytes()[:4] == b"\x89PNG"
    capsys.readouterr()
    _one_error_line(capsys, ["plot", str(tmp_path), "--metric", "uphill_excursion"], "--against")
    _one_error_line(capsys, ["plot", str(tmp_path), "--metric", "m", "--against", "k", "--kind", "mu"], "--kind")


def test_sweep_directory_end_to_end(tmp_path, capsys):
    """A real two-run sweep (M_B x 1 and x 10): its Kirkendall shift plotted by `kinsim plot DIR`."""
    d = tmp_path / "sw"
    s = sweep.run_sweep(
        IDEAL, ["mobility.scale.B=1,10"], d, sets=["grid.nodes=40", "output.snapshots=2"], workers=1, progress=False
    )
    assert s.completed == 2
    out = tmp_path / "k.svg"
    assert (
        main(["plot", str(d), "--metric", "kirkendall_shift_m", "--against", "mobility.scale.B", "-o", str(out)]) == 0
    )
    assert b"<svg" in out.read_bytes()[:2000]
    assert f"wrote {out}" in capsys.readouterr().out


def test_sweep_directory_errors_from_the_sweep_module(tmp_path, capsys):
    """An empty directory is no sweep: kinsim.sweep says so in one line (exit 2)."""
    code = main(
        [
            "plot",
            str(tmp_path),
            "--metric",
            "wall_s",
            "--against",
            "conditions.temperature",
            "-o",
            str(tmp_path / "m.png"),
        ]
    )
    e = capsys.readouterr().err
    assert code == 2 and e.startswith("kinsim: error:") and len(e.strip().splitlines()) == 1, e
