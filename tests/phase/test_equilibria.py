"""kinsim.equilibrium: one point and many, against `kinsim thermo --json`, the serial
kernel (the parallel loop must give every row the same bits) and pycalphad."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import CASES_DB, TESTS_DB, pycalphad_point

import kinsim
from kinsim.cli import main
from kinsim.errors import ConvergenceError, DatabaseError, InputError
from kinsim.phase import load_phase

NICRAL = CASES_DB / "ni-cr-al.tdb"
COMPS = ["NI", "CR", "AL"]
T = 1473.15
FIELDS = ("X", "GM", "MU", "partial_dmu_dx", "dmu_dx", "site_fractions", "status")


def rows(n, seed=0):
    rng = np.random.default_rng(seed)
    return np.column_stack([rng.uniform(0.05, 0.35, n), rng.uniform(0.03, 0.07, n)])


def test_one_point_is_kinsim_thermo_json(capsys):
    eq = kinsim.equilibrium(NICRAL, "FCC_A1", COMPS, T, {"cr": 0.21, "Al": 0.058})
    code = main(
        [
            "thermo",
            str(NICRAL),
            "--phase",
            "FCC_A1",
            "--components",
            "NI,CR,AL",
            "--T",
            str(T),
            "--x",
            "CR=0.21,AL=0.058",
            "--json",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    assert json.loads(out) == eq.to_json()
    d = json.loads(out)
    for key in ("components", "T", "X", "MU", "dmu_dx", "partial_dmu_dx", "GM", "site_fractions", "status"):
        value = getattr(eq, key)
        assert (value.tolist() if isinstance(value, np.ndarray) else value) == d[key], key
    assert eq.T == T and isinstance(eq.GM, float) and eq.status == 0 and eq.MU.shape == (3,)
    assert eq.site_fractions[0] == pytest.approx({"NI": 0.732, "CR": 0.21, "AL": 0.058})
    assert eq.site_fractions[1] == {"VA": 1.0}
    assert eq.phase == "FCC_A1" and "1 point" in repr(eq)


def test_many_points_are_the_serial_kernels_numbers():
    X = rows(1500)  # several chunks of rows on every thread
    Ts = np.linspace(1300.0, 1500.0, X.shape[0])
    eq = kinsim.equilibrium(NICRAL, "FCC_A1", COMPS, Ts, X)
    ref = load_phase(NICRAL, "FCC_A1", COMPS).equilibrium(X, Ts)
    for name in ("T", "X", "GM", "MU", "partial_dmu_dx", "dmu_dx", "site_fractions", "status"):
        np.testing.assert_array_equal(getattr(eq, name), getattr(ref, name), err_msg=name)
    assert eq.site_names == list(ref.site_names) and eq.MU.shape == (1500, 3)
    # rows of all components (N, n) are the same compositions
    full = kinsim.equilibrium(NICRAL, "FCC_A1", COMPS, Ts, np.column_stack([1.0 - X.sum(axis=1), X]))
    np.testing.assert_allclose(full.MU, eq.MU, rtol=1e-12)
    # a point is the first row of a table of one
    one = kinsim.equilibrium(NICRAL, "FCC_A1", COMPS, Ts[7], dict(zip(COMPS[1:], X[7])))
    for name in ("MU", "partial_dmu_dx", "dmu_dx", "X"):
        np.testing.assert_array_equal(getattr(one, name), getattr(eq, name)[7], err_msg=name)


def test_many_points_are_kinsim_thermo_batch(tmp_path, capsys):
    X = rows(300, seed=2)
    np.save(tmp_path / "x.npy", X)
    code = main(
        [
            "thermo",
            str(NICRAL),
            "--phase",
            "FCC_A1",
            "--components",
            "NI,CR,AL",
            "--T",
            str(T),
            "--batch",
            str(tmp_path / "x.npy"),
            "-o",
            str(tmp_path / "out.npz"),
        ]
    )
    assert code == 0, capsys.readouterr().err
    eq = kinsim.equilibrium(NICRAL, "FCC_A1", COMPS, T, X)
    with np.load(tmp_path / "out.npz") as d:
        for key in ("T", *FIELDS):
            np.testing.assert_array_equal(d[key], getattr(eq, key), err_msg=key)
        assert list(d["site_names"]) == eq.site_names and list(d["components"]) == eq.components


@pytest.mark.parametrize(
    "db,phase,comps,temp,x",
    [
        (NICRAL, "FCC_A1", COMPS, T, (0.077, 0.054)),
        (TESTS_DB / "fe-cr-ni.tdb", "BCC_A2", ["FE", "CR", "NI"], 900.0, (0.10, 0.05)),
    ],
    ids=["NiCrAl-FCC_A1", "FeCrNi-BCC_A2"],
)
def test_against_pycalphad(db, phase, comps, temp, x):
    pytest.importorskip("pycalphad")
    X = np.array([x, (0.2, 0.05)])
    eq = kinsim.equilibrium(db, [phase], comps, temp, X)
    gm, mu, fd = pycalphad_point(db, comps, phase, temp, x)
    assert abs(eq.GM[0] - gm) <= 1e-6 * abs(gm)
    np.testing.assert_allclose(eq.MU[0], mu, rtol=1e-6)
    assert np.max(np.abs(eq.dmu_dx[0] - fd)) <= 1e-4 * np.max(np.abs(fd))


def test_to_xarray_point_and_table():
    xr = pytest.importorskip("xarray")
    table = kinsim.equilibrium(NICRAL, "FCC_A1", COMPS, T, rows(5))
    ds = table.to_xarray()
    assert ds.sizes == {
        "point": 5,
        "component": 3,
        "wrt_component": 3,
        "independent": 2,
        "wrt_independent": 2,
        "site": 3,
    }
    assert ds["partial_dmu_dx"].dims == ("point", "component", "wrt_component")
    assert ds["dmu_dx"].dims == ("point", "independent", "wrt_independent")
    assert list(ds["independent"].values) == ["CR", "AL"] and list(ds["site"].values) == table.site_names
    np.testing.assert_array_equal(
        ds["dmu_dx"].sel(independent="AL", wrt_independent="CR").values, table.dmu_dx[:, 1, 0]
    )
    assert ds["MU"].attrs["units"] == "J mol-1" and ds["T"].attrs["units"] == "K"
    assert ds.attrs["phase"] == "FCC_A1" and ds.attrs["reference_component"] == "NI"
    point = kinsim.equilibrium(NICRAL, "FCC_A1", COMPS, T, {"CR": 0.21, "AL": 0.058}).to_xarray()
    assert "point" not in point.dims and point["MU"].dims == ("component",) and float(point["T"]) == T
    one_row = kinsim.equilibrium(NICRAL, "FCC_A1", COMPS, T, [[0.21, 0.058]]).to_xarray()
    xr.testing.assert_identical(point, one_row.isel(point=0))


BAD = [
    # (x, T, phase, words)
    ({"CR": 0.21}, T, "FCC_A1", ["x", "AL"]),
    ({"CR": 0.21, "AL": 0.058, "FE": 0.1}, T, "FCC_A1", ["FE", "not among"]),
    ({"CR": 0.61, "AL": 0.5}, T, "FCC_A1", ["x:", "sum to 1.11"]),
    ({"CR": "abc", "AL": 0.05}, T, "FCC_A1", ["abc", "not a number"]),
    ([[0.2, 0.05], [0.3, -0.01]], T, "FCC_A1", ["x row 1", "AL = -0.01", "outside (0, 1)"]),
    ([[0.2, 0.05], [np.nan, 0.05]], T, "FCC_A1", ["x row 1", "CR = nan"]),
    ([0.2, 0.05], T, "FCC_A1", ["shape (2,)"]),
    ([[0.2, 0.05, 0.75, 0.1]], T, "FCC_A1", ["shape (1, 4)"]),
    ([[0.7, 0.2, 0.05]], T, "FCC_A1", ["x row 0", "sum to 0.95"]),
    ([[0.2, 0.05]] * 3, [1400.0, 1500.0], "FCC_A1", ["T has shape (2,)"]),
    ([[0.2, 0.05]], 150.0, "FCC_A1", ["T 150 K", "outside the range"]),
    ({"CR": 0.2, "AL": 0.05}, [T, T], "FCC_A1", ["one temperature"]),
    ({"CR": 0.2, "AL": 0.05}, T, ["FCC_A1", "BCC_A2"], ["BCC_A2", "not in"]),
    ({"CR": 0.2, "AL": 0.05}, T, ["FCC_A1", 3], ["phase name or a list"]),
    ({"CR": 0.2, "AL": 0.05}, T, [], ["phase name or a list"]),
]


@pytest.mark.parametrize("x,temp,phase,words", BAD, ids=[str(i) for i in range(len(BAD))])
def test_bad_input(x, temp, phase, words):
    with pytest.raises(InputError) as info:
        kinsim.equilibrium(NICRAL, phase, COMPS, temp, x)
    for w in words:
        assert w in str(info.value), (w, str(info.value))


def test_database_errors_and_failures(tmp_path):
    with pytest.raises(DatabaseError, match="nope.tdb"):
        kinsim.equilibrium(tmp_path / "nope.tdb", "FCC_A1", COMPS, T, {"CR": 0.2, "AL": 0.05})
    db = tmp_path / "inf.tdb"
    db.write_text(
        (TESTS_DB / "regular-ab.tdb")
        .read_text()
        .replace(
            "PARAMETER G(LIQUID,A,B;1) 298.15 +3000; 3000 N !",
            "PARAMETER G(LIQUID,A,B;1) 298.15 +1E300*EXP(T); 3000 N !",
        )
    )
    with pytest.raises(ConvergenceError, match="LIQUID.*B=0.3"):
        kinsim.equilibrium(db, "LIQUID", ["A", "B"], 1000.0, {"B": 0.3})
    eq = kinsim.equilibrium(db, "LIQUID", ["A", "B"], 1000.0, [[0.3], [0.4]], raise_on_failure=False)
    assert np.all(eq.status != 0) and np.all(np.isnan(eq.MU))
