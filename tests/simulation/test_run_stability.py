"""The stability check of the states a run stores as it goes (``Result.stability_run``).

A couple of the fictitious regular solution of tests/databases/regular-gap.tdb (Omega =
20000 J/mol, T_c = 1202.7 K) starts and ends above the critical temperature, where the
phase is stable at every composition; in between it is held at 1000 K, where its B-rich
side lies between binodal (0.169144) and spinodal (0.294726): metastable, the sharp model
still runs.  The start and end checks are clean; the run report names ALPHA#2 with the
driving force of the closed form of the model, the times of the hold and the nodes
inside the binodal.  The watch's sparing of searches (kinsim.simulation.start_stability.
StabilityWatch) gives the report of full searches of every state (Darken's couple, whose
Si side becomes ferrite-stable while graphite stays far below)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from conftest import REPO, TESTS_DB

from kinsim import run
from kinsim.errors import StabilityWarning
from kinsim.storage import read_result

OMEGA = 20000.0  # J/mol, the L0 of regular-gap.tdb
R = 8.3145
BINODAL_1000K = 0.169144
SNAPSHOTS = [60, 1000, 2000, 3000, 3060, 10000, 20000]  # s; cooled by 60 s, held to 3000 s, heated by 3060 s


def _transient_case():
    return {
        "title": "through the miscibility gap and back",
        "thermo": {"database": str(TESTS_DB / "regular-gap.tdb"), "phase": "ALPHA", "components": ["A", "B"]},
        "conditions": {
            "temperature": [[0, 1300], [60, 1000], [3000, 1000], [3060, 1300], [20000, 1300]],
            "duration": 20000,
        },
        "grid": {"length": "200 um", "nodes": 40},
        "initial": {"type": "step", "position": "150 um", "left": {"B": 0.05}, "right": {"B": 0.25}},
        "output": {"snapshots": SNAPSHOTS},
    }


def _gm(x, T):
    return R * T * (x * np.log(x) + (1 - x) * np.log1p(-x)) + OMEGA * x * (1 - x)


def _second_set_driving_force(x0, T):
    """max over x of G(x0) + G'(x0) (x - x0) - G(x): the closed form of the model, its
    maximum on a grid refined twice around the best point."""
    d = R * T * np.log(x0 / (1 - x0)) + OMEGA * (1 - 2 * x0)
    lo, hi = 1e-9, 1 - 1e-9
    for _ in range(3):
        x = np.linspace(lo, hi, 200001)
        f = _gm(x0, T) + d * (x - x0) - _gm(x, T)
        k = int(np.argmax(f))
        step = x[1] - x[0]
        lo, hi = max(1e-12, x[k] - 2 * step), min(1 - 1e-12, x[k] + 2 * step)
    return float(f[k])


def test_a_hold_inside_the_gap_is_reported_during_the_run_though_start_and_end_are_stable(tmp_path):
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        r = run(_transient_case(), output=tmp_path / "gap.h5")
    msgs = [str(w.message) for w in rec if issubclass(w.category, StabilityWarning)]
    assert r.status == "completed"
    assert r.stability.unstable == [] and r.stability_end.unstable == []  # 1300 K: no gap
    rs = r.stability_run
    assert rs.states == len(SNAPSHOTS) and rs.checked == ["ALPHA#2"] and rs.t_last == 20000.0
    (u,) = rs.unstable
    assert u.phase == "ALPHA#2" and u.T == 1000.0
    assert rs.above == {"ALPHA#2": [60.0, 3000.0, 4]}  # the states of the hold, not those at 1300 K
    # the largest: the B-rich side right after cooling, before diffusion has moved it
    k = SNAPSHOTS.index(60) + 1
    i = int(np.argmax(r.x[k, :, 1]))
    assert u.where == "the state at t = 60 s" and u.composition["B"] == r.x[k, i, 1]
    assert u.driving_force == pytest.approx(_second_set_driving_force(r.x[k, i, 1], 1000.0), rel=1e-6)
    assert 500.0 < u.driving_force < 600.0
    inside = r.z[r.x[k, :, 1] > BINODAL_1000K]  # the nodes inside the binodal then
    assert u.z == (inside.min(), inside.max())
    # one warning, of the hold (the start and the end are clean), said with its times
    assert len(msgs) == 1, msgs
    assert msgs[0].startswith("ALPHA is not the stable phase during the run: ALPHA#2 has a driving force of +")
    assert "more stable in 4 of the 7 states checked, from t = 60 to 3000 s" in msgs[0]
    assert read_result(tmp_path / "gap.h5").stability_run == rs
    # a sweep's index names the phase (kinsim.sweep.metrics)
    from kinsim.sweep.metrics import run_metrics

    m = run_metrics(read_result(tmp_path / "gap.h5"))
    assert m["more_stable_phases"] == "ALPHA#2" and m["driving_force_J_mol"] == u.driving_force


def test_the_spared_searches_give_the_report_of_full_searches(tmp_path):
    """Darken's couple with 10 snapshots: the report the watch gathers, sparing the
    searches that cannot cross the tolerance, equals that of a full search of every
    stored state, with fewer searches."""
    from kinsim.simulation import Simulation
    from kinsim.simulation.start_stability import RunStability, StabilityWatch

    case = REPO / "cases" / "darken-fe-si-c.toml"
    with pytest.warns(StabilityWarning):
        r = run(case, overrides=["grid.nodes=40", "output.snapshots=10"], output=tmp_path / "d.h5")
    sim = Simulation(r.case)
    full = RunStability("FCC_A1", [], {})
    for k in range(1, r.n_snapshots):
        full.add(sim.check_end_stability(float(r.time[k]), r.x[k], r.mu[k], None), float(r.time[k]))
    got = r.stability_run
    assert got.states == full.states == 10 and got.above == full.above and got.checked == full.checked
    assert [u.phase for u in got.unstable] == [u.phase for u in full.unstable] == ["BCC_A2"]
    for a, b in zip(got.unstable, full.unstable):
        assert (a.z, a.where, a.T) == (b.z, b.where, b.T)
        assert a.driving_force == pytest.approx(b.driving_force, rel=1e-9)
        assert a.composition == pytest.approx(b.composition, rel=1e-12)
    # the sparing: at how many nodes a watch searches each group of candidates per state
    watch = StabilityWatch()
    searched = []
    need = watch.need

    def counting(key, mu):
        n = need(key, mu)
        searched.append(n.sum(axis=0))
        return n

    watch.need = counting
    for k in range(1, r.n_snapshots - 1):
        watch.add(sim.check_end_stability(float(r.time[k]), r.x[k], r.mu[k], None, watch), float(r.time[k]))
    # the second composition set's driving force is 0 at the node's own composition, so
    # it stays at the tolerance and is searched everywhere; the other candidates (ferrite,
    # graphite) only where ferrite may have crossed it
    assert list(searched[0]) == [40, 40] and all(s[1] < 40 for s in searched[1:])


def test_a_state_counted_once_and_the_beyond_part(tmp_path):
    """A state seen again (a resumed run redoing a snapshot) is not counted twice; the
    part beyond the end check leaves out what the end check says."""
    from kinsim.simulation.start_stability import EndStability, RunStability, UnstablePhase

    u = UnstablePhase("BCC_A2", 50.0, {"FE": 0.9, "SI": 0.1}, (0.0, 1.0), "the state at t = 5 s", 1300.0)
    v = UnstablePhase("GRAPHITE_A9", 5.0, {"FE": 0.9, "SI": 0.1}, (0.0, 0.5), "the state at t = 5 s", 1300.0)
    rs = RunStability("FCC_A1", [], {})
    rs.add(EndStability("FCC_A1", ["BCC_A2", "GRAPHITE_A9"], {}, [u, v]), 5.0)
    rs.add(EndStability("FCC_A1", ["BCC_A2", "GRAPHITE_A9"], {}, [u, v]), 5.0)
    assert rs.states == 1 and rs.above == {"BCC_A2": [5.0, 5.0, 1], "GRAPHITE_A9": [5.0, 5.0, 1]}
    end = EndStability("FCC_A1", ["BCC_A2", "GRAPHITE_A9"], {}, [u])
    assert [w.phase for w in rs.beyond(end).unstable] == ["GRAPHITE_A9"]
    assert "more stable in 1 of the 1 states checked, at t = 5 s" in rs.beyond(end).messages()[0]
    assert RunStability.from_json(rs.to_json()) == rs


def test_check_end_searches_no_snapshot_and_a_bad_value_is_named(tmp_path):
    """thermo.check = "end": the stored states are not searched (the hold inside the gap
    goes unreported, as the key says), the final state is; another value is a case error."""
    from kinsim.errors import CaseError

    case = _transient_case()
    case["thermo"]["check"] = "end"
    with warnings.catch_warnings():
        warnings.simplefilter("error", StabilityWarning)
        r = run(case)
    assert r.stability_run.states == 1 and r.stability_run.unstable == [] and r.stability_end.unstable == []
    assert r.case.thermo.check == "end" and r.case.to_dict()["thermo"]["check"] == "end"
    case["thermo"]["check"] = "snapshots"
    with pytest.raises(CaseError, match=r"thermo.check = 'snapshots': use one of states, end"):
        run(case)


def _full_searches(r):
    """The report of full searches (no watch) of every state of result r after the start."""
    from kinsim.simulation import Simulation
    from kinsim.simulation.start_stability import RunStability, check_region_end_stability

    sim = Simulation(r.case)
    out = RunStability(sim.phase_label, [], {})
    for k in range(1, r.n_snapshots):
        t = float(r.time[k])
        if r.case.regions:
            parts, o = [], 0
            for i, spec in enumerate(r.case.regions):
                parts.append((i, spec.phase, sim.models[spec.phase], slice(o, o + spec.nodes)))
                o += spec.nodes
            rep = check_region_end_stability(r.case, t, parts, r.node_positions(k), r.x[k], r.mu[k])
        else:
            rep = sim.check_end_stability(t, r.x[k], r.mu[k], None)
        out.add(rep, t)
    return out


@pytest.mark.parametrize("kind", ["regions", "homogenization"])
def test_runs_with_regions_or_several_phases_watch_each_part(kind):
    """The watch keeps its record per part of the nodes: per region in a run with regions
    (ferrite | austenite with the austenite above graphite's and cementite's solubility),
    all the nodes in a run of several phases (FCC_A1 + SIGMA where BCC_A2 is more stable):
    its report is that of full searches of every stored state."""
    from test_start_stability import BCC_SIDE, _multiphase_case, _regions_case

    if kind == "regions":
        case, unstable = _regions_case(0.0575), ["GRAPHITE_A9", "CEMENTITE_D011"]
    else:
        case, unstable = _multiphase_case(BCC_SIDE, ["FCC_A1", "SIGMA"], excluded=["SIGMA"]), ["BCC_A2"]
    case["output"]["snapshots"] = 4
    with pytest.warns(StabilityWarning):
        r = run(case)
    got, full = r.stability_run, _full_searches(r)
    assert [u.phase for u in got.unstable] == [u.phase for u in full.unstable] == unstable
    assert got.states == full.states == 4 and got.above == full.above and got.checked == full.checked
    assert got.above == {p: [float(r.time[1]), float(r.time[-1]), 4] for p in unstable}
    for a, b in zip(got.unstable, full.unstable):
        assert (a.z, a.where, a.T, a.composition) == (b.z, b.where, b.T, b.composition)
        assert a.driving_force == pytest.approx(b.driving_force, rel=1e-9)


def test_the_command_prints_the_transient_and_the_time_of_the_checks(tmp_path, capsys):
    import tomli_w

    from kinsim.cli import main

    case = tmp_path / "gap.toml"
    case.write_text(tomli_w.dumps(_transient_case()))
    assert main(["run", str(case), "-o", str(tmp_path / "gap.h5"), "--quiet"]) == 0
    out, err = capsys.readouterr()
    (line,) = [ln for ln in err.splitlines() if ln.startswith("kinsim: warning:")]
    assert line.startswith("kinsim: warning: ALPHA is not the stable phase during the run: ALPHA#2 has")
    assert "from t = 60 to 3000 s" in line
    checks = read_result(tmp_path / "gap.h5").timings
    total = checks["stability"] + checks["stability_run"] + checks["stability_end"]
    assert f"stability checks {total:.2f} s" in out
