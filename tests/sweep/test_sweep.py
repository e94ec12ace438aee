"""`kinsim sweep`: the summary metrics against analytical and hand-built profiles, a sweep
on local processes and on a Dask LocalCluster (index, failures recorded, reruns skip
finished runs), plot_metric, and bad input that ends in one line and exit status 2
before anything runs."""

from __future__ import annotations

import csv
import json
import math
import shutil
import tomllib
from pathlib import Path

import h5py
import numpy as np
import pytest
from conftest import REPO, one_error_line
from scipy.special import erfc, erfcinv

from kinsim import sweep
from kinsim.case import parse_case
from kinsim.cli import main
from kinsim.errors import CaseError, InputError, KinsimError
from kinsim.storage import Result, read_result
from kinsim.sweep import (
    kirkendall_shift,
    penetration_depths,
    plan_sweep,
    plot_metric,
    prepare_directory,
    run_metrics,
    run_sweep,
    split_values,
    uphill_excursion,
)

IDEAL = REPO / "cases" / "ideal-binary-erf.toml"
NICRAL = REPO / "cases" / "nicral-couple.toml"
D0 = 1e-14  # m^2/s, the diffusivity built into cases/databases/ideal-ab.tdb


# --------------------------------------------------------------------------------------
# hand-built results
# --------------------------------------------------------------------------------------
# the database of each set of components of the hand-built results (cases/databases)
_DATABASES = {("A", "B"): "ideal-ab.tdb", ("FE", "SI", "C"): "fe-mn-si-c.tdb", ("FE", "C"): "fe-c.tdb"}


def _stored_case(initial_and_boundary, components, x0, faces):
    """The resolved case TOML a result file stores, for hand-built profiles.

    ``initial_and_boundary`` gives the case's [initial] and [boundary] tables (mole
    fractions); a step start without left/right, or no [initial] (then a uniform start),
    takes its compositions from the initial profile ``x0``.  Database, temperature and
    grid are those of any valid case on the hand-built domain (no metric reads them)."""
    data = tomllib.loads(initial_and_boundary)
    ini = data.setdefault("initial", {"type": "uniform"})

    def x_at(node):
        return {c: float(x0[node, k]) for k, c in enumerate(components) if k}

    if ini["type"] == "step":
        ini.setdefault("left", x_at(0))
        ini.setdefault("right", x_at(-1))
    elif ini["type"] == "uniform":
        ini.setdefault("composition", x_at(0))
    data.update(
        thermo={
            "database": str(REPO / "cases" / "databases" / _DATABASES[tuple(components)]),
            "phase": "FCC_A1",
            "components": list(components),
        },
        conditions={"temperature": 1000.0, "duration": "10 d"},
        grid={"length": float(faces[-1] - faces[0]), "nodes": len(faces) - 1},
    )
    return parse_case(data, REPO / "cases" / "hand-built.toml").to_toml()


def _result(z, x, components, case_toml, time=None, markers=None, faces=None):
    """A Result from arrays: x is (nt, nz, nc); ``case_toml``: its [initial] and [boundary]
    (see _stored_case)."""
    z = np.asarray(z, dtype=float)
    x = np.asarray(x, dtype=float)
    nt = x.shape[0]
    if faces is None:
        mid = 0.5 * (z[1:] + z[:-1])
        faces = np.concatenate([[z[0] - (mid[0] - z[0])], mid, [z[-1] + (z[-1] - mid[-1])]])
    if markers is None:
        markers = np.zeros((nt, 0))
    return Result(
        path=Path("hand-built.h5"),
        time=np.arange(nt, dtype=float) if time is None else time,
        z=z,
        faces=np.asarray(faces, dtype=float),
        components=list(components),
        x=x,
        mu=np.zeros_like(x),
        flux=np.zeros((nt, len(faces), x.shape[2])),
        markers=np.asarray(markers, dtype=float),
        attrs={},
        status="completed",
        case_toml=_stored_case(case_toml, components, x[0], faces),
    )


STEP_CASE = """
[initial]
type = "step"
position = {pos!r}
[boundary.left]
type = "closed"
[boundary.right]
type = "closed"
"""


def _binary(xb):
    xb = np.asarray(xb, dtype=float)
    return np.stack([1.0 - xb, xb], axis=-1)


def _grid(n=4001, length=1e-3):
    faces = np.linspace(0.0, length, n + 1)
    return 0.5 * (faces[1:] + faces[:-1]), faces


@pytest.mark.parametrize("xl,xr", [(0.2, 0.6), (0.1, 0.15), (0.7, 0.3)])
def test_penetration_depth_of_an_erfc_couple(xl, xr):
    z, faces = _grid()
    z0, Dt = 0.5e-3, D0 * 36000.0
    x0 = np.where(z < z0, xl, xr)
    xf = xl + 0.5 * (xr - xl) * erfc(-(z - z0) / (2 * math.sqrt(Dt)))
    r = _result(z, np.stack([_binary(x0), _binary(xf)]), ["A", "B"], STEP_CASE.format(pos=z0), faces=faces)
    expected = 2 * math.sqrt(Dt) * erfcinv(0.02)
    depth = penetration_depths(r)
    assert depth["B"] == pytest.approx(expected, rel=1e-3)
    assert depth["A"] == pytest.approx(expected, rel=1e-3)


def test_penetration_depth_takes_the_side_that_reaches_farther():
    z, faces = _grid()
    z0, t = 0.4e-3, 36000.0
    D_left, D_right = D0, 4 * D0
    x0 = np.where(z < z0, 0.2, 0.6)
    w = np.where(z < z0, 2 * math.sqrt(D_left * t), 2 * math.sqrt(D_right * t))
    xf = 0.4 + 0.2 * np.where(z < z0, -1.0, 1.0) * (1 - erfc(np.abs(z - z0) / w))  # continuous at z0
    r = _result(z, np.stack([_binary(x0), _binary(xf)]), ["A", "B"], STEP_CASE.format(pos=z0), faces=faces)
    assert penetration_depths(r)["B"] == pytest.approx(2 * math.sqrt(D_right * t) * erfcinv(0.02), rel=1e-3)


@pytest.mark.parametrize("side", ["left", "right"])
def test_penetration_depth_from_a_fixed_surface_composition(side):
    z, faces = _grid()
    Dt, x_init, x_surf = D0 * 20000.0, 0.2, 0.5
    dist = z - faces[0] if side == "left" else faces[-1] - z
    xf = x_init + (x_surf - x_init) * erfc(dist / (2 * math.sqrt(Dt)))
    x0 = np.full_like(z, x_init)
    other = "right" if side == "left" else "left"
    case = f"""
[initial]
type = "uniform"
composition = {{ B = {x_init} }}
[boundary.{side}]
type = "fixed-composition"
unit = "mole-fraction"
composition = {{ B = {x_surf} }}
[boundary.{other}]
type = "closed"
"""
    r = _result(z, np.stack([_binary(x0), _binary(xf)]), ["A", "B"], case, faces=faces)
    # jump = surface - initial; 1 % of it where erfc = 0.01
    assert penetration_depths(r)["B"] == pytest.approx(2 * math.sqrt(Dt) * erfcinv(0.01), rel=1e-3)


def test_penetration_of_a_component_that_starts_uniform_and_of_an_unchanged_profile():
    z, faces = _grid()
    z0, w = 0.5e-3, 20e-6
    xc0 = np.full_like(z, 0.05)
    xsi0 = np.where(z < z0, 0.04, 0.01)
    bump = 0.01 * np.exp(-(((z - z0) / w) ** 2))  # C moves uphill around the weld
    xcf = xc0 + np.where(z < z0, -bump, bump)
    x = np.zeros((2, z.size, 3))
    x[0, :, 1], x[0, :, 2] = xsi0, xc0
    x[1, :, 1], x[1, :, 2] = xsi0, xcf  # silicon does not move
    x[:, :, 0] = 1 - x[:, :, 1] - x[:, :, 2]
    r = _result(z, x, ["FE", "SI", "C"], STEP_CASE.format(pos=z0), faces=faces)
    depth = penetration_depths(r)
    # no initial jump of C: 1 % of its largest change, exp(-(r/w)^2) = 0.01
    assert depth["C"] == pytest.approx(w * math.sqrt(math.log(100.0)), rel=1e-3)
    assert depth["SI"] == 0.0


def test_uphill_excursion_over_all_snapshots_and_boundary_compositions():
    z, faces = _grid(201)
    z0 = 0.5e-3
    nt = 3
    x = np.zeros((nt, z.size, 3))
    x[:, :, 1] = np.where(z < z0, 0.04, 0.01)
    x[0, :, 2] = np.where(z < z0, 0.010, 0.012)  # C initially in [0.010, 0.012]
    x[1, :, 2] = x[0, :, 2]
    x[1, 150, 2] = 0.020  # peak 0.008 above the range ...
    x[2, :, 2] = x[0, :, 2]
    x[2, 150, 2] = 0.015  # ... that decays ...
    x[2, 40, 2] = 0.007  # ... and a dip 0.003 below
    x[:, :, 0] = 1 - x[:, :, 1] - x[:, :, 2]
    r = _result(z, x, ["FE", "SI", "C"], STEP_CASE.format(pos=z0), faces=faces)
    exc, comp = uphill_excursion(r)
    assert comp == "C" and exc == pytest.approx(0.008, abs=1e-12)
    # a boundary that fixes C = 0.03 widens C's reference range to [0.010, 0.030]: only the dip counts
    fixed = STEP_CASE.format(pos=z0).replace(
        '[boundary.left]\ntype = "closed"',
        '[boundary.left]\ntype = "fixed-composition"\nunit = "mole-fraction"\ncomposition = { SI = 0.04, C = 0.03 }',
    )
    assert "0.03" in fixed
    r2 = _result(z, x, ["FE", "SI", "C"], fixed, faces=faces)
    exc2, comp2 = uphill_excursion(r2)
    assert comp2 == "C" and exc2 == pytest.approx(0.003, abs=1e-12)


def test_matter_let_in_through_an_activity_boundary_is_not_uphill():
    # carburizing: C enters at a fixed activity (no composition in the case), then the surface closes
    z, faces = _grid(401)
    case = """
[initial]
type = "uniform"
composition = { C = 0.01 }
[[boundary.left.stages]]
type = "fixed-activity"
activity = { C = 0.8 }
reference = { C = "GRAPHITE_A9" }
until = 7200.0
[[boundary.left.stages]]
type = "closed"
[boundary.right]
type = "closed"
"""
    xc = [np.full(z.size, 0.01)]
    for Dt, surf in ((1e-10, 0.05), (2e-10, 0.05), (4e-10, 0.035)):
        xc.append(0.01 + (surf - 0.01) * erfc(z / (2 * math.sqrt(Dt))))
    xc = np.array(xc)
    x = np.stack([1 - xc, xc], axis=-1)
    r = _result(z, x, ["FE", "C"], case, faces=faces)
    assert uphill_excursion(r) == (0.0, "")
    # the same profiles behind a closed surface would be matter from nowhere: FE and C leave their range
    closed = _result(
        z,
        x,
        ["FE", "C"],
        case.replace(
            'type = "fixed-activity"\nactivity = { C = 0.8 }\nreference = { C = "GRAPHITE_A9" }\n', 'type = "closed"\n'
        ),
        faces=faces,
    )
    assert uphill_excursion(closed)[0] == pytest.approx(xc[1:].max() - 0.01, rel=1e-12)


def test_no_uphill_excursion_in_an_erfc_couple():
    z, faces = _grid(401)
    x0 = np.where(z < 0.5e-3, 0.2, 0.6)
    xf = 0.2 + 0.2 * erfc(-(z - 0.5e-3) / 4e-5)
    r = _result(z, np.stack([_binary(x0), _binary(xf)]), ["A", "B"], STEP_CASE.format(pos=0.5e-3), faces=faces)
    assert uphill_excursion(r) == (0.0, "")


def test_kirkendall_shift():
    z, faces = _grid(11)
    x = np.stack([_binary(np.full(z.size, 0.3))] * 3)
    one = _result(z, x, ["A", "B"], "", markers=[[5e-4], [5.1e-4], [5.3e-4]], faces=faces)
    assert kirkendall_shift(one) == pytest.approx(3e-5)
    two = _result(z, x, ["A", "B"], "", markers=[[1e-4, 5e-4], [1.1e-4, 4.8e-4], [1.2e-4, 4.6e-4]], faces=faces)
    assert kirkendall_shift(two) == pytest.approx(-4e-5)  # the marker that moved farthest, signed
    assert math.isnan(kirkendall_shift(_result(z, x, ["A", "B"], "", faces=faces)))
    m = run_metrics(one)
    assert set(m) == {
        "penetration_A_m",
        "penetration_B_m",
        "uphill_excursion",
        "uphill_component",
        "kirkendall_shift_m",
        "more_stable_phases",
        "driving_force_J_mol",
    }
    assert m["more_stable_phases"] == "" and math.isnan(m["driving_force_J_mol"])  # a result without checks


# --------------------------------------------------------------------------------------
# planning (no runs)
# --------------------------------------------------------------------------------------
def test_split_values_keeps_units_tables_and_quoted_commas():
    assert split_values("1 h, 2 h") == ["1 h", "2 h"]
    assert split_values("{B=0.2, C=0.1},{B=0.3, C=0.1}") == ["{B=0.2, C=0.1}", "{B=0.3, C=0.1}"]
    assert split_values('"a,b",[1, 2]') == ['"a,b"', "[1, 2]"]
    for bad in ("1,,2", "[1,2", "1,", "{a=1}}"):
        with pytest.raises(CaseError):
            split_values(bad)


def test_plan_product_zip_units_and_tables():
    plan = plan_sweep(IDEAL, ["conditions.duration=1 h,2 h", "initial.left={B=0.2},{B=0.3}"])
    assert [r.values for r in plan.runs] == [
        ("1 h", "{B=0.2}"),
        ("1 h", "{B=0.3}"),
        ("2 h", "{B=0.2}"),
        ("2 h", "{B=0.3}"),
    ]
    assert [r.resolved[0] for r in plan.runs] == [3600.0, 3600.0, 7200.0, 7200.0]
    assert plan.runs[1].overrides == ("conditions.duration=1 h", "initial.left={B=0.3}")
    assert len({r.sha256 for r in plan.runs}) == 4
    zipped = plan_sweep(
        IDEAL, ["conditions.temperature=1000,1000", "grid.nodes=40,60"], zip=True, sets=["output.snapshots=2"]
    )
    assert [r.values for r in zipped.runs] == [("1000", "40"), ("1000", "60")]
    assert zipped.runs[0].overrides == ("output.snapshots=2", "conditions.temperature=1000", "grid.nodes=40")
    # the same resolved case twice (1 h == 60 min) is an error, not two runs
    with pytest.raises(CaseError, match="same case"):
        plan_sweep(IDEAL, ["conditions.duration=1 h,60 min"])


# --------------------------------------------------------------------------------------
# a sweep on local processes (shared by the tests below)
# --------------------------------------------------------------------------------------
SMALL = ["grid.nodes=400", "output.snapshots=2"]
VARY = ["conditions.duration=4 h,16 h", "solver.max_steps=3,100000"]  # max_steps = 3 fails at run time


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    d = tmp_path_factory.mktemp("sweep") / "out"
    summary = run_sweep(IDEAL, VARY, d, sets=SMALL, workers=2, progress=False)
    return d, summary


def _csv(d):
    with open(d / "index.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def test_sweep_runs_records_failures_and_writes_the_index(swept):
    d, s = swept
    assert (s.total, s.completed, s.failed, s.skipped, s.ran) == (4, 2, 2, 0, 4)
    rows = _csv(d)
    assert list(rows[0]) == [
        "run",
        "conditions.duration",
        "solver.max_steps",
        "conditions.duration (SI)",
        "status",
        "file",
        "wall_s",
        "error",
        "case_sha256",
        "penetration_A_m",
        "penetration_B_m",
        "uphill_excursion",
        "uphill_component",
        "kirkendall_shift_m",
        "more_stable_phases",
        "driving_force_J_mol",
    ]
    assert [(r["run"], r["conditions.duration"], r["solver.max_steps"], r["status"]) for r in rows] == [
        ("run-000", "4 h", "3", "failed"),
        ("run-001", "4 h", "100000", "completed"),
        ("run-002", "16 h", "3", "failed"),
        ("run-003", "16 h", "100000", "completed"),
    ]
    for r in rows:
        assert r["file"] == f"{r['run']}.h5" and (d / r["file"]).is_file()
        assert float(r["wall_s"]) > 0
        assert read_result(d / r["file"]).status == r["status"]
        if r["status"] == "failed":
            assert "max_steps" in r["error"] and r["penetration_B_m"] == ""
        else:
            assert r["error"] == "" and r["uphill_component"] == "" and r["more_stable_phases"] == ""
    # the metric against the erfc solution, and its sqrt(t) scaling
    done = [r for r in rows if r["status"] == "completed"]
    for r in done:
        t = float(r["conditions.duration (SI)"])
        assert float(r["penetration_B_m"]) == pytest.approx(2 * math.sqrt(D0 * t) * erfcinv(0.02), rel=0.02)
        assert float(r["uphill_excursion"]) < 1e-6
    assert float(done[1]["penetration_B_m"]) / float(done[0]["penetration_B_m"]) == pytest.approx(2.0, rel=0.02)
    # index.h5: the same table, plain h5py
    with h5py.File(d / "index.h5", "r") as f:
        assert json.loads(f.attrs["columns"]) == list(rows[0])
        assert json.loads(f.attrs["keys"]) == ["conditions.duration", "solver.max_steps"]
        assert list(f["status"].asstr()[()]) == [r["status"] for r in rows]
        assert f["solver.max_steps"].dtype == np.float64 and list(f["solver.max_steps"][()]) == [3, 1e5, 3, 1e5]
        assert np.isnan(f["penetration_B_m"][0]) and f["penetration_B_m"][1] == float(rows[1]["penetration_B_m"])
    rec = json.loads((d / "sweep.json").read_text())
    assert rec["format"] == "kinsim-sweep" and rec["set"] == SMALL
    assert [r["sha256"] for r in rec["runs"]] == [r["case_sha256"] for r in rows]


def test_rerun_skips_finished_runs_and_reruns_failed_interrupted_and_new_ones(swept, tmp_path, capsys):
    src, _ = swept
    d = tmp_path / "again"
    shutil.copytree(src, d)
    with h5py.File(d / "run-003.h5", "r+") as f:  # as if the sweep had been killed during run-003
        f.attrs["status"] = "interrupted"
    before = (d / "run-001.h5").stat().st_mtime_ns
    argv = [
        "sweep",
        str(IDEAL),
        "--vary",
        "conditions.duration=4 h,16 h,1 h",
        "--vary",
        "solver.max_steps=3,100000",
        "-o",
        str(d),
        "--workers",
        "1",
        "--quiet",
    ]
    for s in SMALL:
        argv += ["--set", s]
    code = main(argv)
    o, e = capsys.readouterr()
    assert code == 1, e  # some runs failed (and are recorded)
    assert "6 runs: 3 completed (1 already finished" in o and "3 failed" in o
    assert e.count("failed: solver.max_steps = 3 reached") == 3 and "Traceback" not in e
    assert (d / "run-001.h5").stat().st_mtime_ns == before  # finished: not run again
    rows = _csv(d)
    assert [(r["run"], r["conditions.duration"], r["solver.max_steps"], r["status"]) for r in rows] == [
        ("run-000", "4 h", "3", "failed"),
        ("run-001", "4 h", "100000", "completed"),
        ("run-002", "16 h", "3", "failed"),
        ("run-003", "16 h", "100000", "completed"),
        ("run-004", "1 h", "3", "failed"),
        ("run-005", "1 h", "100000", "completed"),
    ]
    assert read_result(d / "run-003.h5").status == "completed"
    old = {r["run"]: r for r in _csv(src)}
    assert rows[1]["wall_s"] == old["run-001"]["wall_s"]  # a skipped run keeps its wall time
    assert rows[1]["penetration_B_m"] == old["run-001"]["penetration_B_m"]


def test_plot_metric(swept):
    d, _ = swept
    rows = _csv(d)
    ax = plot_metric(d, "penetration_B_m", "conditions.duration")
    lines = ax.get_lines()
    assert len(lines) == 1  # only the max_steps = 100000 runs completed
    assert list(lines[0].get_xdata()) == [14400.0, 57600.0]
    assert list(lines[0].get_ydata()) == [float(rows[1]["penetration_B_m"]), float(rows[3]["penetration_B_m"])]
    assert "(s)" in ax.get_xlabel() and "B" in ax.get_ylabel()
    ax2 = plot_metric(d, "wall_s", "solver.max_steps")
    assert len(ax2.get_lines()) == 2  # one line per duration
    with pytest.raises(InputError, match="penetration_Q_m"):
        plot_metric(d, "penetration_Q_m", "conditions.duration")
    with pytest.raises(InputError, match="grid.nodes"):
        plot_metric(d, "penetration_B_m", "grid.nodes")
    with pytest.raises(InputError, match="no sweep index"):
        plot_metric(d.parent, "penetration_B_m", "conditions.duration")


# --------------------------------------------------------------------------------------
# a Dask cluster, through the same code path as --scheduler
# --------------------------------------------------------------------------------------
def test_sweep_on_a_dask_local_cluster(tmp_path):
    distributed = pytest.importorskip("distributed")
    d = tmp_path / "dask"
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as cl:
        s = run_sweep(
            IDEAL,
            ["conditions.duration=2 h,8 h", "solver.max_steps=100000,3"],
            d,
            zip=True,
            sets=SMALL,
            scheduler=cl.scheduler_address,
            progress=False,
        )
        assert (s.total, s.completed, s.failed) == (2, 1, 1)
        rows = _csv(d)
        assert [(r["conditions.duration"], r["solver.max_steps"], r["status"]) for r in rows] == [
            ("2 h", "100000", "completed"),
            ("8 h", "3", "failed"),
        ]
        assert float(rows[0]["penetration_B_m"]) == pytest.approx(2 * math.sqrt(D0 * 7200.0) * erfcinv(0.02), rel=0.03)
        again = run_sweep(
            IDEAL,
            ["conditions.duration=2 h,8 h", "solver.max_steps=100000,3"],
            d,
            zip=True,
            sets=SMALL,
            scheduler=cl.scheduler_address,
            progress=False,
        )
        assert (again.skipped, again.ran, again.failed) == (1, 1, 1)


# --------------------------------------------------------------------------------------
# bad input: one line, exit status 2, nothing run
# --------------------------------------------------------------------------------------
def _other_sweep_dir(tmp_path):
    d = tmp_path / "other"
    prepare_directory(plan_sweep(NICRAL, ["grid.nodes=40,60"]), d)
    return d


def _non_sweep_dir(tmp_path):
    d = tmp_path / "notes"
    d.mkdir()
    (d / "readme.txt").write_text("mine")
    return d


def _a_file(tmp_path):
    p = tmp_path / "a-file"
    p.write_text("x")
    return p


BAD = [
    (["--vary", "conditions.temprature=1273,1323"], None, "conditions.temprature"),
    (["--vary", "grid.nodes=40,abc"], None, "'abc'"),
    (["--vary", "conditions.temperature=1000,hot"], None, "hot"),
    (["--vary", "conditions.duration=1 h,2 fortnights"], None, "2 fortnights"),
    (["--vary", "grid.nodes=40,60", "--vary", "conditions.duration=1 h", "--zip"], None, "--zip"),
    (["--vary", "grid.nodes=40", "--workers", "0"], None, "--workers"),
    (["--vary", "grid.nodes=40", "--workers", "two"], None, "--workers"),
    (["--vary", "grid.nodes=40,40"], None, "twice"),
    (["--vary", "grid.nodes=40", "--vary", "grid.nodes=60"], None, "more than once"),
    (["--vary", "grid.nodes=40,,60"], None, "empty value"),
    (["--vary", "grid.nodes"], None, "--vary"),
    (["--vary", "output.file=a.h5,b.h5"], None, "output.file"),
    (["--vary", "grid.nodes=40,60"], _a_file, "is a file"),
    (["--vary", "grid.nodes=40,60"], _other_sweep_dir, "different case"),
    (["--vary", "grid.nodes=40,60"], _non_sweep_dir, "not a kinsim sweep directory"),
    (["--vary", "grid.nodes=40", "--scheduler", "tcp://127.0.0.1:9"], None, "tcp://127.0.0.1:9"),
]


@pytest.mark.parametrize("args,make_dir,word", BAD, ids=[b[2] for b in BAD])
def test_bad_sweep_input_one_line_exit_2_nothing_run(tmp_path, capsys, monkeypatch, args, make_dir, word):
    monkeypatch.setattr(sweep.executors, "CONNECT_TIMEOUT", 1.0)
    out = make_dir(tmp_path) if make_dir else tmp_path / "out"
    before = sorted(p.name for p in out.iterdir()) if out.is_dir() else None
    try:
        code = main(["sweep", str(IDEAL), *args, "-o", str(out), "--quiet"])
    except SystemExit as exc:  # argparse's own errors (not an integer, missing value)
        code = exc.code
    one_error_line(code, capsys.readouterr().err, word)
    if before is None:
        assert not out.is_dir()  # nothing created
    else:
        assert sorted(p.name for p in out.iterdir()) == before


def test_rerun_into_a_directory_of_a_different_sweep_is_refused(tmp_path):
    d = tmp_path / "d"
    prepare_directory(plan_sweep(IDEAL, ["grid.nodes=40,60"]), d)
    # a superset of the same runs is fine; ids stay, new runs get the next numbers
    plan = prepare_directory(plan_sweep(IDEAL, ["grid.nodes=30,40,60"]), d)
    assert [(r.id, r.values) for r in plan.runs] == [("run-000", ("40",)), ("run-001", ("60",)), ("run-002", ("30",))]
    with pytest.raises(KinsimError, match="run-001"):  # 60 dropped
        prepare_directory(plan_sweep(IDEAL, ["grid.nodes=30,40"]), d)
    with pytest.raises(KinsimError, match="different case"):
        prepare_directory(plan_sweep(IDEAL, ["grid.nodes=40,60"], sets=["conditions.temperature=1100"]), d)
