"""``kinsim.equilibrium(...)`` with several phases: one point and many rows against the
CLI (``kinsim thermo --phases --json`` and ``--batch``) and against pycalphad's
equilibrium; ``to_xarray``'s named dimensions; one phase keeps the single-phase result."""

from __future__ import annotations

import itertools
import json

import numpy as np
from conftest import CASES_DB, TESTS_DB
from mp_oracles import assert_phase_rule_and_mass_balance, assert_same_equilibrium, pycalphad_grid

import kinsim
from kinsim.cli import main
from kinsim.equilibria import Equilibrium
from kinsim.mpequilibrium import MultiphaseEquilibrium

FECRNI = TESTS_DB / "fe-cr-ni.tdb"
PHASES = ["FCC_A1", "BCC_A2"]
COMPS = ["FE", "CR", "NI"]
T = 1373.15


def cli_json(capsys, argv):
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_one_point_as_the_cli_and_pycalphad(capsys):
    """A two-phase point: the same object as ``thermo --phases --json`` and the same
    equilibrium as pycalphad's."""
    eq = kinsim.equilibrium(FECRNI, PHASES, COMPS, T, {"CR": 0.33, "NI": 0.12})
    assert isinstance(eq, MultiphaseEquilibrium) and eq.point
    d = cli_json(
        capsys,
        [
            "thermo",
            str(FECRNI),
            "--phases",
            ",".join(PHASES),
            "--components",
            ",".join(COMPS),
            "--T",
            str(T),
            "--x",
            "CR=0.33,NI=0.12",
            "--json",
        ],
    )
    assert json.loads(json.dumps(eq.to_json())) == d
    assert eq.components == d["components"] and eq.T == d["T"] and eq.status == d["status"] == 0
    assert eq.MU.tolist() == d["MU"] and eq.dmu_dx.tolist() == d["dmu_dx"]
    assert eq.phases == d["phases"] and eq.driving_forces == d["driving_forces"] == {}
    assert [p["name"] for p in eq.phases] == PHASES
    ref = pycalphad_grid(FECRNI, COMPS, PHASES, T, [[0.33], [0.12]])
    assert_same_equilibrium(eq.rows, 0, ref[0])


def test_many_rows_as_the_cli_batch_and_pycalphad(tmp_path, capsys):
    """One- and two-phase rows: per-row sets, fractions and compositions as the
    ``--batch`` file holds them, each row as pycalphad's equilibrium."""
    grids = [[0.1, 0.33, 0.55], [0.05, 0.12]]
    X = np.array(list(itertools.product(*grids)))
    eq = kinsim.equilibrium(FECRNI, PHASES, COMPS, T, X)
    assert not eq.point and eq.MU.shape == (6, 3) and eq.dmu_dx.shape == (6, 2, 2)
    csv = tmp_path / "x.csv"
    csv.write_text("CR,NI\n" + "\n".join(f"{a},{b}" for a, b in X))
    out = tmp_path / "out.npz"
    assert (
        main(
            [
                "thermo",
                str(FECRNI),
                "--phases",
                ",".join(PHASES),
                "--components",
                ",".join(COMPS),
                "--T",
                str(T),
                "--batch",
                str(csv),
                "-o",
                str(out),
            ]
        )
        == 0
    )
    capsys.readouterr()
    f = np.load(out)
    np.testing.assert_array_equal(f["MU"], eq.MU)
    np.testing.assert_array_equal(f["dmu_dx"], eq.dmu_dx)
    np.testing.assert_array_equal(f["status"], eq.status)
    np.testing.assert_array_equal(f["phase_names"], eq.phase_names)
    np.testing.assert_array_equal(f["fractions"], eq.fractions)
    np.testing.assert_array_equal(f["compositions"], eq.compositions)
    np.testing.assert_array_equal(f["driving_forces"], eq.driving_forces)
    assert {len(p) for p in eq.phases} == {1, 2}
    for i, sets in enumerate(eq.phases):  # the per-row dicts agree with the slot arrays
        names = [n for n in eq.phase_names[i] if n]
        assert [s["name"] for s in sets] == names
        assert [s["fraction"] for s in sets] == [v for v in eq.fractions[i] if not np.isnan(v)]
    for i, ref in enumerate(pycalphad_grid(FECRNI, COMPS, PHASES, T, grids)):
        assert_same_equilibrium(eq.rows, i, ref)
    assert_phase_rule_and_mass_balance(eq.rows)


def test_to_xarray_dimensions():
    X = [[0.1, 0.1], [0.33, 0.12]]
    ds = kinsim.equilibrium(FECRNI, PHASES, COMPS, T, X).to_xarray()
    assert ds.MU.dims == ("row", "component") and ds.sizes["row"] == 2
    assert ds.compositions.dims == ("row", "set", "component")
    assert ds.driving_forces.dims == ("row", "phase") and ds.phase.values.tolist() == PHASES
    assert ds.phase_names.values[1, :2].tolist() == PHASES and ds.phase_names.values[0, 0] == "FCC_A1"
    assert ds.driving_forces.sel(phase="BCC_A2").values[0] < 0
    assert ds.MU.attrs["units"] == "J mol-1"
    point = kinsim.equilibrium(FECRNI, PHASES, COMPS, T, {"CR": 0.33, "NI": 0.12}).to_xarray()
    assert "row" not in point.dims
    np.testing.assert_array_equal(point.MU.values, ds.MU.values[1])


def test_a_phase_of_fixed_composition_in_the_list():
    """Fe-C austenite + graphite at 1200 K: the graphite set is pure carbon."""
    eq = kinsim.equilibrium(CASES_DB / "fe-c.tdb", ["FCC_A1", "GRAPHITE_A9"], ["FE", "C"], 1200.0, {"C": 0.1})
    names = [p["name"] for p in eq.phases]
    assert names == ["FCC_A1", "GRAPHITE_A9"]
    assert eq.phases[1]["x"] == {"FE": 0.0, "C": 1.0}
    ref = pycalphad_grid(CASES_DB / "fe-c.tdb", ["FE", "C"], ["FCC_A1", "GRAPHITE_A9"], 1200.0, [[0.1]])
    assert_same_equilibrium(eq.rows, 0, ref[0])


def test_one_phase_keeps_the_single_phase_result():
    for phase in ("FCC_A1", ["FCC_A1"]):
        eq = kinsim.equilibrium(FECRNI, phase, COMPS, T, {"CR": 0.1, "NI": 0.1})
        assert isinstance(eq, Equilibrium) and eq.site_fractions is not None
