"""Case files: the Darken example, round trip, and every kind of bad input."""

from __future__ import annotations

import copy
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import tomli_w

from kinsim.case import Case, load_case
from kinsim.errors import CaseError

REPO = Path(__file__).resolve().parents[2]
DB = REPO / "cases" / "databases" / "fe-mn-si-c.tdb"

DARKEN = textwrap.dedent("""\
    title = "Darken (1949) Fe-Si-C uphill diffusion"
    [thermo]
    database = "databases/fe-mn-si-c.tdb"   # relative to the case file; must exist
    phase = "FCC_A1"
    components = ["FE", "SI", "C"]      # the first is the dependent one
    [conditions]
    temperature = 1323.15
    duration = "13 d"
    [grid]
    geometry = "planar"
    length = "50 mm"
    nodes = 200
    spacing = "double-geometric"
    ratio = 1.05
    position = "25 mm"
    [initial]
    type = "step"
    position = "25 mm"
    unit = "weight-percent"
    left = { SI = 3.80, C = 0.49 }
    right = { SI = 0.05, C = 0.45 }
    [boundary.left]
    type = "closed"
    [boundary.right]
    type = "closed"
    [mobility]
    missing = "error"
    scale = { C = 1.0 }
    molar_volume = 1.0e-5
    [solver]
    method = "implicit"
    rtol = 1e-4
    atol = 1e-6
    max_steps = 100000
    initial_step = "1 s"
    [output]
    file = "darken.h5"
    snapshots = 60
    """)

_DELETE = object()


@pytest.fixture
def casedir(tmp_path):
    (tmp_path / "databases").mkdir()
    shutil.copy(DB, tmp_path / "databases" / DB.name)
    return tmp_path


def write(casedir: Path, text: str, name: str = "case.toml") -> Path:
    p = casedir / name
    p.write_text(text, encoding="utf-8")
    return p


def variant(casedir: Path, changes: dict, name: str = "case.toml") -> Path:
    """The Darken case with dotted keys replaced (or deleted with _DELETE)."""
    import tomllib

    data = tomllib.loads(DARKEN)
    for key, value in changes.items():
        *parents, last = key.split(".")
        d = data
        for p in parents:
            d = d.setdefault(p, {})
        if value is _DELETE:
            del d[last]
        else:
            d[last] = copy.deepcopy(value)
    return write(casedir, tomli_w.dumps(data), name)


def error_of(path, overrides=()) -> str:
    with pytest.raises(CaseError) as e:
        load_case(path, overrides)
    return str(e.value)


# ---------------------------------------------------------------------------------------
# the valid case
# ---------------------------------------------------------------------------------------
def test_darken_case(casedir):
    case = load_case(write(casedir, DARKEN))
    assert case.title == "Darken (1949) Fe-Si-C uphill diffusion"
    assert case.path == casedir / "case.toml"
    assert case.base_dir == casedir.resolve()
    assert case.thermo.database == (casedir / "databases" / DB.name).resolve()
    assert case.thermo.database.is_absolute()
    assert case.thermo.phase == "FCC_A1"
    assert case.thermo.components == ("FE", "SI", "C")
    assert case.thermo.dependent == "FE" and case.thermo.independent == ("SI", "C")
    assert case.conditions.temperature == 1323.15
    assert case.conditions.duration == 1_123_200.0
    g = case.grid
    assert (g.geometry, g.length, g.nodes, g.spacing, g.ratio, g.position, g.inner_radius) == (
        "planar",
        0.05,
        200,
        "double-geometric",
        1.05,
        0.025,
        0.0,
    )
    ini = case.initial
    assert ini.type == "step" and ini.position == 0.025
    assert list(ini.left) == ["FE", "SI", "C"]
    assert ini.left["SI"] == pytest.approx(0.07159, abs=1e-4)
    assert ini.left["C"] == pytest.approx(0.02159, abs=1e-4)
    assert ini.right["SI"] == pytest.approx(0.00098, abs=1e-4)
    assert ini.right["C"] == pytest.approx(0.02057, abs=1e-4)
    assert sum(ini.left.values()) == pytest.approx(1.0, abs=1e-15)
    assert case.boundary.left.type == "closed" and case.boundary.left.composition is None
    assert case.boundary.right.type == "closed"
    assert case.mobility.missing == "error"
    assert case.mobility.scale == {"FE": 1.0, "SI": 1.0, "C": 1.0}
    assert case.mobility.molar_volume == 1e-5
    s = case.solver
    assert (s.method, s.rtol, s.atol, s.max_steps, s.initial_step) == ("implicit", 1e-4, 1e-6, 100000, 1.0)
    assert case.output.file == (casedir / "darken.h5").resolve()
    snaps = case.output.snapshots
    assert isinstance(snaps, tuple) and len(snaps) == 60
    assert snaps[-1] == 1_123_200.0 and snaps[0] == pytest.approx(1_123_200.0 / 60)
    assert all(b > a for a, b in zip(snaps, snaps[1:]))
    # the frozen dataclass cannot be changed
    with pytest.raises(AttributeError):
        case.title = "other"
    # the initial profile on the grid is a step at 25 mm
    grid = case.make_grid()
    x0 = case.initial.profile(grid.z)
    assert x0.shape == (200, 3)
    np.testing.assert_allclose(x0[grid.z < 0.025], [list(ini.left.values())] * 100)
    np.testing.assert_allclose(x0[grid.z > 0.025], [list(ini.right.values())] * 100)


def test_defaults(casedir):
    text = textwrap.dedent("""\
        [thermo]
        database = "databases/fe-mn-si-c.tdb"
        phase = "fcc_a1"
        components = ["fe", "c"]
        [conditions]
        temperature = "1000 degC"
        duration = 3600
        [grid]
        length = "1 mm"
        nodes = 11
        [initial]
        type = "uniform"
        composition = { c = 0.01 }
        """)
    case = load_case(write(casedir, text, "mini.toml"))
    assert case.title == "mini"
    assert case.thermo.phase == "FCC_A1" and case.thermo.components == ("FE", "C")
    assert case.conditions.temperature == pytest.approx(1273.15)
    assert case.grid.geometry == "planar" and case.grid.spacing == "linear"
    assert case.grid.ratio == 1.05 and case.grid.position == 0.0005
    assert case.initial.composition == {"FE": 0.99, "C": 0.01}
    assert case.boundary.left.type == case.boundary.right.type == "closed"
    assert case.mobility.missing == "error" and case.mobility.molar_volume == 1e-5
    assert case.solver.method == "implicit" and case.solver.max_steps is None
    assert case.solver.initial_step is None
    assert case.output.file == (casedir / "mini.h5").resolve()
    assert case.output.snapshots[-1] == 3600.0


def test_table_and_fixed_composition(casedir):
    path = variant(
        casedir,
        {
            "initial": {"type": "table", "z": [0, "10 mm", 0.05], "SI": [0.05, 0.04, 0.01], "c": [0.01, 0.02, 0.03]},
            "boundary.left": {
                "type": "fixed-composition",
                "unit": "weight-percent",
                "composition": {"SI": 3.8, "C": 0.49},
            },
            "output.snapshots": ["1 h", "1 d", 2_000_000 / 2],
        },
    )
    case = load_case(path)
    assert case.initial.z == (0.0, 0.01, 0.05)
    assert case.initial.x[1] == pytest.approx((0.94, 0.04, 0.02))
    assert case.boundary.left.composition["SI"] == pytest.approx(0.07159, abs=1e-4)
    assert case.output.snapshots == (3600.0, 86400.0, 1_000_000.0, 1_123_200.0)
    x = case.initial.profile([0.005])
    assert x[0] == pytest.approx([0.94, 0.045, 0.015])
    # round trip of these as well
    again = load_case(write(casedir, case.to_toml(), "again.toml"))
    assert again == case


def test_cylindrical_with_hole(casedir):
    path = variant(
        casedir,
        {
            "grid.geometry": "cylindrical",
            "grid.inner_radius": "5 mm",
            "initial.position": "30 mm",
            "grid.position": _DELETE,
        },
    )
    case = load_case(path)
    assert case.grid.inner_radius == 0.005 and case.grid.position == 0.03
    g = case.make_grid()
    assert g.faces[0] == 0.005 and g.faces[-1] == pytest.approx(0.055)
    assert 0.03 in g.faces


# ---------------------------------------------------------------------------------------
# round trip
# ---------------------------------------------------------------------------------------
def test_round_trip(casedir):
    case = load_case(write(casedir, DARKEN))
    text = case.to_toml()
    assert "weight-percent" not in text and "13 d" not in text
    other = casedir / "elsewhere"
    other.mkdir()
    again = load_case(write(other, text, "resolved.toml"))
    assert again == case
    assert again.to_dict() == case.to_dict()
    d = case.to_dict()
    assert d["thermo"]["database"] == str(case.thermo.database)
    assert d["initial"]["left"] == {"SI": case.initial.left["SI"], "C": case.initial.left["C"]}
    assert d["conditions"] == {"temperature": 1323.15, "duration": 1_123_200.0}


def test_case_module_does_not_import_numba_or_pycalphad():
    code = "import sys, kinsim.case; bad = [m for m in ('numba', 'pycalphad') if m in sys.modules]; assert not bad, bad"
    subprocess.run([sys.executable, "-c", code], check=True)


# ---------------------------------------------------------------------------------------
# overrides (kinsim run --set)
# ---------------------------------------------------------------------------------------
def test_override_valid_keys(casedir):
    path = write(casedir, DARKEN)
    case = load_case(
        path,
        [
            "conditions.temperature=1050 degC",
            "grid.nodes=101",
            'conditions.duration="10 d"',
            "initial.left.si=4.0",
            "output.snapshots=[3600, 7200]",
            "solver.method=explicit",
            "title=other",
        ],
    )
    assert case.conditions.temperature == pytest.approx(1323.15)
    assert case.conditions.duration == 864_000.0
    assert case.grid.nodes == 101
    assert case.initial.left["SI"] == pytest.approx(0.0752, abs=1e-4)  # 4 wt%
    assert case.output.snapshots == (3600.0, 7200.0, 864_000.0)
    assert case.solver.method == "explicit"
    assert case.title == "other"
    # a section that the file does not have
    case = load_case(path, ["boundary.right.type=fixed-composition", "boundary.right.composition={SI=0.01, C=0.02}"])
    assert case.boundary.right.composition["C"] == 0.02


def test_override_errors(casedir):
    path = write(casedir, DARKEN)
    msg = error_of(path, ["grid.nodez=5"])
    assert "unknown key 'grid.nodez'" in msg and "grid.nodes" in msg
    assert "unknown key 'solver.tolerance'" in error_of(path, ["solver.tolerance=1"])
    assert "unknown key 'gird'" in error_of(path, ["gird=1"])
    assert "section.key=value" in error_of(path, ["grid.nodes"])
    # the value is validated like the file's
    msg = error_of(path, ["grid.nodes=2"])
    assert "grid.nodes" in msg and "--set grid.nodes=2" in msg
    assert "grid.nodes must be an integer" in error_of(path, ["grid.nodes=many"])


# ---------------------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------------------
def test_unknown_keys(casedir):
    msg = error_of(variant(casedir, {"grid.nodez": 5}))
    assert "unknown key 'grid.nodez' in case.toml" in msg
    assert "did you mean 'grid.nodes'" in msg
    assert "unknown key 'colour' in case.toml" in error_of(variant(casedir, {"colour": "red"}))
    assert "unknown key 'boundary.left.flow'" in error_of(variant(casedir, {"boundary.left.flow": 0}))
    assert "boundary.left.flux is not used with type = 'closed'" in error_of(
        variant(casedir, {"boundary.left.flux": 0})
    )
    assert "unknown key 'boundary.middle'" in error_of(variant(casedir, {"boundary.middle": {"type": "closed"}}))
    assert "unknown key 'initial.MN'" in error_of(variant(casedir, {"initial.MN": [1, 2]}))


@pytest.mark.parametrize(
    "changes, key",
    [
        ({"grid.length": "50 mx"}, "grid.length"),
        ({"conditions.duration": "13 dd"}, "conditions.duration"),
        ({"conditions.temperature": "1050 F"}, "conditions.temperature"),
        ({"solver.initial_step": "1 parsec"}, "solver.initial_step"),
    ],
)
def test_wrong_unit(casedir, changes, key):
    msg = error_of(variant(casedir, changes))
    assert "unknown unit" in msg and key in msg


@pytest.mark.parametrize(
    "changes, needles",
    [
        ({"grid.nodes": "200"}, ["grid.nodes must be an integer", "'200'"]),
        ({"grid.nodes": 200.5}, ["grid.nodes must be an integer"]),
        ({"grid.ratio": "big"}, ["grid.ratio must be a number"]),
        ({"mobility.molar_volume": "7e-6 m3"}, ["mobility.molar_volume must be a number"]),
        ({"thermo.phase": 1}, ["thermo.phase must be a string"]),
        ({"thermo.components": "FE,SI,C"}, ["thermo.components must be an array"]),
        ({"initial.left": 3.8}, ["initial.left must be a table"]),
        ({"initial.left": {"SI": "3.8", "C": 0.49}}, ["initial.left.SI must be a number"]),
        ({"grid": 5}, ["'grid' must be a table"]),
        ({"solver.max_steps": True}, ["solver.max_steps must be an integer"]),
        ({"output.snapshots": "many"}, ["output.snapshots must be a count"]),
        ({"grid.spacing": "chebyshev"}, ["grid.spacing = 'chebyshev'", "double-geometric"]),
        ({"initial.type": "gaussian"}, ["initial.type = 'gaussian'"]),
        ({"initial.unit": "ppm"}, ["initial.unit = 'ppm'", "weight-percent"]),
        ({"mobility.missing": "zero"}, ["mobility.missing = 'zero'"]),
    ],
)
def test_wrong_types_and_choices(casedir, changes, needles):
    msg = error_of(variant(casedir, changes))
    for n in needles:
        assert n in msg, msg


@pytest.mark.parametrize(
    "key",
    [
        "thermo.database",
        "thermo.phase",
        "thermo.components",
        "conditions.temperature",
        "conditions.duration",
        "grid.length",
        "grid.nodes",
        "initial.type",
        "initial.position",
        "initial.left",
    ],
)
def test_missing_required_key(casedir, key):
    assert f"missing key '{key}'" in error_of(variant(casedir, {key: _DELETE}))


def test_missing_section(casedir):
    assert "missing section [thermo]" in error_of(variant(casedir, {"thermo": _DELETE}))


def test_missing_database(casedir):
    msg = error_of(variant(casedir, {"thermo.database": "databases/nope.tdb"}))
    assert "thermo.database" in msg and "nope.tdb" in msg and "not found" in msg


@pytest.mark.parametrize(
    "changes, needles",
    [
        (
            {"initial.unit": "mole-fraction", "initial.left": {"SI": 1.2, "C": 0.01}},
            ["initial.left", "SI = 1.2", "outside (0, 1)"],
        ),
        (
            {"initial.unit": "mole-fraction", "initial.left": {"SI": 0.0, "C": 0.01}},
            ["initial.left", "SI = 0", "outside (0, 1)"],
        ),
        (
            {
                "initial.unit": "mole-fraction",
                "initial.left": {"SI": 0.07, "C": 0.02},
                "initial.right": {"SI": 0.6, "C": 0.5},
            },
            ["initial.right", "SI = 0.6, C = 0.5", "sum to 1.1"],
        ),
        ({"initial.left": {"SI": 60.0, "C": 45.0}}, ["initial.left", "sum to 105", "FE"]),
        ({"initial.left": {"SI": -1.0, "C": 0.5}}, ["initial.left", "SI = -1 wt%"]),
        ({"initial.left": {"SI": 3.8}}, ["initial.left", "missing C"]),
        ({"mobility.scale": {"C": 0.0}}, ["mobility.scale.C", "positive"]),
    ],
)
def test_composition_out_of_range(casedir, changes, needles):
    msg = error_of(variant(casedir, changes))
    for n in needles:
        assert n in msg, msg


def test_unknown_component(casedir):
    msg = error_of(variant(casedir, {"initial.left": {"SI": 3.8, "C": 0.49, "MN": 1.0}}))
    assert "initial.left" in msg and "unknown component 'MN'" in msg
    msg = error_of(variant(casedir, {"initial.left": {"FE": 95.0, "SI": 3.8, "C": 0.49}}))
    assert "initial.left" in msg and "FE is the dependent component" in msg
    msg = error_of(
        variant(casedir, {"boundary.right": {"type": "fixed-composition", "composition": {"SI": 0.01, "CR": 0.01}}})
    )
    assert "boundary.right.composition" in msg and "unknown component 'CR'" in msg
    msg = error_of(variant(casedir, {"mobility.scale": {"NI": 2.0}}))
    assert "mobility.scale" in msg and "'NI'" in msg


def test_entries_not_used_by_type(casedir):
    msg = error_of(variant(casedir, {"initial.composition": {"SI": 1.0, "C": 0.1}}))
    assert "initial.composition is not used with initial.type = 'step'" in msg
    msg = error_of(variant(casedir, {"boundary.left.composition": {"SI": 0.1, "C": 0.01}}))
    assert "boundary.left.composition is not used with type = 'closed'" in msg
    msg = error_of(variant(casedir, {"boundary.left.type": "fixed-composition"}))
    assert "missing key 'boundary.left.composition'" in msg


@pytest.mark.parametrize(
    "changes, key",
    [
        ({"grid.nodes": 2}, "grid.nodes"),
        ({"grid.length": "-5 mm"}, "grid.length"),
        ({"grid.length": 0}, "grid.length"),
        ({"grid.ratio": -1.05}, "grid.ratio"),
        ({"grid.position": "60 mm"}, "grid.position"),
        ({"initial.position": "50 mm"}, "initial.position"),
        ({"initial.position": "-1 mm", "grid.position": "10 mm"}, "initial.position"),
        ({"grid.inner_radius": "-1 mm", "grid.geometry": "spherical"}, "grid.inner_radius"),
        ({"grid.inner_radius": "1 mm"}, "grid.inner_radius"),
        ({"grid.ratio": 3.0, "grid.spacing": "geometric", "grid.nodes": 1000}, "grid.ratio"),
        ({"grid.geometry": "toroidal"}, "grid.geometry"),
    ],
)
def test_impossible_grid(casedir, changes, key):
    assert key in error_of(variant(casedir, changes))


@pytest.mark.parametrize("value", [-5, 0, "-13 d", "0 s"])
def test_non_positive_duration(casedir, value):
    msg = error_of(variant(casedir, {"conditions.duration": value}))
    assert "conditions.duration" in msg and "positive" in msg


@pytest.mark.parametrize(
    "snaps, needle",
    [
        (["2 d", "1 d"], "must increase strictly"),
        ([3600, 3600], "must increase strictly"),
        (["14 d"], "outside (0, conditions.duration"),
        ([0], "outside (0, conditions.duration"),
        ([], "empty"),
        (0, "at least 1"),
    ],
)
def test_bad_snapshots(casedir, snaps, needle):
    msg = error_of(variant(casedir, {"output.snapshots": snaps}))
    assert "output.snapshots" in msg and needle in msg


@pytest.mark.parametrize(
    "changes, needle",
    [
        ({"initial": {"type": "table", "z": [0, 0.03], "SI": [0.1, 0.1], "C": [0.01, 0.01]}}, "must cover the domain"),
        (
            {"initial": {"type": "table", "z": [0, 0.03, 0.03, 0.05], "SI": [0.1] * 4, "C": [0.01] * 4}},
            "must increase strictly",
        ),
        ({"initial": {"type": "table", "z": [0, 0.05], "SI": [0.1, 0.1]}}, "missing the column(s) C"),
        (
            {"initial": {"type": "table", "z": [0, 0.05], "SI": [0.1], "C": [0.01, 0.01]}},
            "initial.SI must be an array of 2",
        ),
        ({"initial": {"type": "table", "z": [0, 0.05], "SI": [0.1, 0.95], "C": [0.01, 0.1]}}, "table row 1"),
    ],
)
def test_bad_table(casedir, changes, needle):
    assert needle in error_of(variant(casedir, changes))


def test_solver_ranges(casedir):
    assert "solver.rtol" in error_of(variant(casedir, {"solver.rtol": 1.5}))
    assert "solver.atol" in error_of(variant(casedir, {"solver.atol": 0}))
    assert "solver.max_steps" in error_of(variant(casedir, {"solver.max_steps": 0}))
    assert "solver.initial_step" in error_of(variant(casedir, {"solver.initial_step": "20 d"}))


def test_components_validation(casedir):
    assert "at least two" in error_of(variant(casedir, {"thermo.components": ["FE"]}))
    assert "SI given more than once" in error_of(variant(casedir, {"thermo.components": ["FE", "SI", "si"]}))


def test_toml_syntax_error(casedir):
    path = write(casedir, DARKEN.replace('phase = "FCC_A1"', "phase = FCC_A1"), "broken.toml")
    msg = error_of(path)
    assert "broken.toml" in msg and "TOML syntax error" in msg
    assert "line 4" in msg and "column" in msg


def test_missing_case_file(tmp_path):
    assert "case file not found" in error_of(tmp_path / "none.toml")


def test_case_error_is_value_error(casedir):
    with pytest.raises(ValueError):
        load_case(variant(casedir, {"grid.nodes": 1}))
    assert issubclass(CaseError, ValueError) and Case is not None
