"""The shipped carburizing case with carbides (cases/fe-cr-c-carbide-carburizing.toml):
Fe-5Cr-0.1C (wt%) austenite at 1223.15 K under a carbon activity of 0.5, every node a
local equilibrium of austenite, M7C3, M23C6 and cementite (the homogenization model with
the carbides excluded from the flux).  Checked against oracles nobody here wrote:
pycalphad's equilibrium at the nodes' compositions, the SGTE Gibbs energy of graphite
for the surface activity (Dinsdale, Calphad 15 (1991) 317), and the parabolic (Boltzmann)
scaling of a semi-infinite specimen under a constant surface activity; and the metals'
conservation at ends closed to them."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from conftest import REPO, graphite_gibbs, one_error_line
from mp_oracles import pycalphad_grid

CASE = REPO / "cases" / "fe-cr-c-carbide-carburizing.toml"
DB = REPO / "cases" / "databases" / "fe-cr-c.tdb"
T = 1223.15
R = 8.314462618  # pycalphad's gas constant
TIMES = (900.0, 3600.0)  # 15 min and 1 h: the carbon has not reached the far end (3 mm)


@pytest.fixture(scope="module")
def run():
    import kinsim

    return kinsim.run(
        CASE, overrides={"grid.nodes": 60, "conditions.duration": "1 h", "output.snapshots": ["15 min", "1 h"]}
    )


def _carbides(r):
    """(time, node) total mole fraction of the carbide phases (every set but austenite's)."""
    from kinsim.analysis import phase_sets

    sets = phase_sets(r)
    cols = [j for j, s in enumerate(sets) if not s.startswith("FCC_A1")]
    return r.extra["phase_fraction"][:, :, cols].sum(axis=2)


def _contents(r):
    """(time, component) amounts per unit area over the substitutional lattice: sum of
    u dz (u = x / (x_Fe + x_Cr))."""
    u = r.x / r.x[:, :, :2].sum(axis=2, keepdims=True)
    return (u * np.diff(np.asarray(r.faces))[None, :, None]).sum(axis=1)


def test_m7c3_precipitates_under_the_surface_as_pycalphad_says(run):
    r = run
    assert list(r.time) == [0.0, *TIMES]
    frac, comp = r.extra["phase_fraction"], r.extra["phase_composition"]
    assert np.all(frac >= 0.0) and np.all(frac <= 1.0)
    assert np.allclose(frac.sum(axis=2), 1.0, atol=1e-10)
    rebuilt = np.nansum(frac[..., None] * np.nan_to_num(comp), axis=2)  # mass balance per node
    assert np.max(np.abs(rebuilt - r.x)) < 1e-9
    carb = _carbides(r)
    assert np.all(carb[0] == 0.0)  # austenite alone at the start
    assert carb[-1, 0] > 0.05  # a carbide zone under the surface ...
    assert carb[-1, -1] == 0.0  # ... and none far from it
    # every node's phases, fractions and compositions are pycalphad's equilibrium at its
    # composition with the case's phases: at the surface, inside the zone and beyond it
    nodes = [0, int(np.flatnonzero(carb[-1] > 0.0)[-1]) // 2, int(np.flatnonzero(carb[-1] > 0.0)[-1]) + 2]
    from kinsim.analysis import phase_sets

    sets = phase_sets(r)
    for i in nodes:
        x = r.x[-1, i]
        ((names, nf, nx, mu, _),) = pycalphad_grid(DB, ["FE", "CR", "C"], r.case.thermo.phases, T, [[x[1]], [x[2]]])
        present = [j for j in range(len(sets)) if frac[-1, i, j] > 1e-12]
        assert sorted(sets[j].split("#")[0] for j in present) == sorted(names), (i, names)
        for j in present:
            k = names.index(sets[j].split("#")[0])
            assert frac[-1, i, j] == pytest.approx(nf[k], abs=1e-6), (i, sets[j])
            np.testing.assert_allclose(comp[-1, i, j], nx[k], atol=1e-6)
        np.testing.assert_allclose(r.mu[-1, i], mu, rtol=1e-7)
    # only M7C3 at this activity (cementite needs a_C > 0.53 at the surface)
    assert set(sets[j].split("#")[0] for j in np.flatnonzero(frac.max(axis=(0, 1)) > 0.0)) == {"FCC_A1", "M7C3_D101"}
    # the carbide is rich in chromium: (Fe,Cr)7C3 with Cr/(Fe+Cr) well above the steel's
    m7 = sets.index("M7C3_D101")
    assert comp[-1, 0, m7, 2] == pytest.approx(0.3, abs=1e-12)
    assert comp[-1, 0, m7, 1] / comp[-1, 0, m7, :2].sum() > 5 * r.x[0, -1, 1] / r.x[0, -1, :2].sum()


def test_the_surface_holds_the_atmospheres_carbon_activity(run):
    """The surface node sits half a cell (9 um here) from the face where a_C = 0.5: its
    activity is just below, by the drop that drives the carbon flux in, and that flux,
    like the drop, falls as 1 / sqrt(t)."""
    mu_c = run.mu[1:, 0, 2]
    a = np.exp((mu_c - graphite_gibbs(T)) / (R * T))
    assert np.all(a < 0.5) and np.all(a > 0.47), a
    drop = 0.5 - a
    assert drop[0] / drop[1] == pytest.approx(math.sqrt(TIMES[1] / TIMES[0]), rel=0.05), drop


def test_carbide_zone_and_carbon_uptake_grow_as_the_square_root_of_time(run):
    r = run
    carb = _carbides(r)
    depth = []
    for j in (1, 2):  # where the carbide fraction falls through 1 %, interpolated
        i = int(np.flatnonzero(carb[j] > 0.01)[-1])
        depth.append(np.interp(0.01, [carb[j, i + 1], carb[j, i]], [r.z[i + 1], r.z[i]]))
    k = np.array(depth) / np.sqrt(TIMES)
    assert abs(k[1] / k[0] - 1.0) < 0.01, k
    assert 0.1e-3 < depth[0] < depth[1] < 0.5e-3  # a few tenths of a millimetre
    uptake = _contents(r)[1:, 2] - _contents(r)[0, 2]
    q = uptake / np.sqrt(TIMES)
    assert abs(q[1] / q[0] - 1.0) < 0.01, q


def test_the_metals_are_conserved_and_the_substitution_is_recorded(run):
    """Both ends are closed to Fe and Cr (the surface fixes carbon's activity only)."""
    q = _contents(run)
    np.testing.assert_allclose(q[:, 1], q[0, 1], rtol=1e-10, atol=0)
    np.testing.assert_allclose(q[:, 0], q[0, 0], rtol=1e-10, atol=0)
    subs = str(run.attrs["mobility_substituted"])
    assert "MQ(FCC_A1&CR,CR:C;0) <- MQ(FCC_A1&CR,FE:C;0)" in subs


def _full_database(tmp_path):
    """The case's database with the one austenite mobility end-member it lacks (Cr in
    Cr:C, here Cr's value in Cr:VA: a test fixture, not data), so that [mobility]
    missing = "error" can be tried on the carbides alone."""
    text = DB.read_text()
    line = "PARAMETER MQ(FCC_A1&CR,CR:VA;0)    298.15 -286000-71.9*T; 6000.00 N 07TUR !"
    assert line in text
    path = tmp_path / "fe-cr-c-full.tdb"
    path.write_text(text.replace(line, line + "\n" + line.replace("CR:VA", "CR:C")))
    return path


def test_excluded_carbides_need_no_mobility_data(tmp_path, capsys):
    """The carbides carry no flux: under missing = "error" they need no MQ parameters,
    and the result file says their mobility is not used.  A carbide that is not excluded
    and has none is one clear error naming it and the two ways out."""
    import kinsim
    from kinsim.cli import main

    db = _full_database(tmp_path)
    sets = {"thermo.database": str(db), "mobility.missing": "error", "grid.nodes": 20}
    sets |= {"conditions.duration": "15 min", "output.snapshots": 1}
    r = kinsim.run(CASE, overrides=sets)
    assert r.finished
    notes = json.loads(r.attrs["mobility_substituted"])
    assert notes == [
        f"{p}: excluded from the flux (homogenization.excluded): no mobility used"
        for p in ("M7C3_D101", "M23C6_D84", "CEMENTITE_D011")
    ], notes
    args = ["run", str(CASE), "-o", str(tmp_path / "out.h5"), "--quiet"]
    args += [f"--set={k}={v}" for k, v in sets.items() if k != "conditions.duration"]
    args += ["--set=conditions.duration=15 min", '--set=homogenization.excluded=["M23C6_D84", "CEMENTITE_D011"]']
    code = main(args)
    err = capsys.readouterr().err
    one_error_line(code, err, "M7C3_D101 has no mobility (MQ) parameters", "homogenization.excluded", '"solvent"')
    assert not (tmp_path / "out.h5").exists()


def test_the_phase_plot_draws_the_carbide_again_on_its_own_scale(run, tmp_path):
    """A few per cent of carbide would be a line on the floor of a 0-1 axis: the phases
    figure draws the minor phases again in a panel of their own scale."""
    from kinsim.errors import InputError
    from kinsim.plotting import figure, minor_phases, plot_phases

    assert minor_phases(run) == ["M7C3_D101"]
    ax = plot_phases(run, sets=["M7C3_D101"])
    labels = {line.get_label().split(",")[0] for line in ax.get_lines()}
    assert labels == {"M7C3_D101"}
    peak = float(np.nanmax(run.extra["phase_fraction"][:, :, 3]))
    lo, hi = ax.get_ylim()
    assert lo < 0.0 < peak < hi < 0.1
    assert figure(run, tmp_path / "phases.png", kind="phases").stat().st_size > 0
    with pytest.raises(InputError, match=r"phase sets SIGMA are not in this result \(its sets: FCC_A1, "):
        plot_phases(run, sets=["SIGMA"])
    ax = plot_phases(run, sets=["M23C6_D84"])  # never present: no line, the 0-1 scale
    assert not [line for line in ax.get_lines() if line.get_label().startswith("M23C6")]
    assert ax.get_ylim() == pytest.approx((-0.02, 1.05))


def test_the_sweep_metric_of_the_carbide_zone(run):
    """``phase_zone_<PHASE>_m`` (kinsim/sweep/metrics.py): the depth where the carbide's
    fraction changed by more than 0.01 from the surface, the same front as the sqrt(t)
    test reads; the carbides that do not form have no zone."""
    from kinsim.sweep import run_metrics
    from kinsim.sweep.metrics import metric_columns

    m = run_metrics(run)
    carb = _carbides(run)[-1]
    i = int(np.flatnonzero(carb > 0.01)[-1])
    front = np.interp(0.01, [carb[i + 1], carb[i]], [run.z[i + 1], run.z[i]]) - run.faces[0]
    assert m["phase_zone_M7C3_D101_m"] == pytest.approx(front, rel=1e-12)
    assert m["phase_zone_FCC_A1_m"] == pytest.approx(front, rel=1e-12)  # the austenite it replaced
    assert m["phase_zone_M23C6_D84_m"] == 0.0 and m["phase_zone_CEMENTITE_D011_m"] == 0.0
    phases = list(run.case.thermo.phases)
    assert [c for c in metric_columns(run.components, phases) if c in m] == metric_columns(run.components, phases)


def test_a_sweep_of_the_carbide_case_indexes_and_plots_the_zone_depth(tmp_path):
    """Carbon activity against the depth of the M7C3 zone: the index has a column per
    candidate phase, the richer atmosphere gives the deeper zone, and ``kinsim plot`` of
    the sweep directory draws the metric."""
    from kinsim.sweep import plot_metric, run_sweep
    from kinsim.sweep.directory import read_index

    d = tmp_path / "sweep"
    sets = ["grid.nodes=30", "conditions.duration=15 min", "output.snapshots=1"]
    s = run_sweep(CASE, ["boundary.left.activity.C=0.3,0.5"], d, sets=sets, workers=1, progress=False)
    assert (s.total, s.completed) == (2, 2)
    idx = read_index(d)
    cols = [c for c in idx.order if c.startswith("phase_zone_")]
    assert cols == [f"phase_zone_{p}_m" for p in ("FCC_A1", "M7C3_D101", "M23C6_D84", "CEMENTITE_D011")]
    zone = np.asarray(idx.columns["phase_zone_M7C3_D101_m"], dtype=float)
    assert 0.0 < zone[0] < zone[1] < 0.3e-3
    ax = plot_metric(d, "phase_zone_M7C3_D101_m", "boundary.left.activity.C")
    assert "M7C3_D101 zone" in ax.get_ylabel()
